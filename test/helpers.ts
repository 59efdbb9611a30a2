/** Shared by the test files: temporary project copies, running the CLI, finding Python. */
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const FIXTURES = path.join(REPO, "test", "fixtures");

/** The temporary folders these tests made: removed when the test file's process exits. */
const made: string[] = [];
process.on("exit", () => {
  for (const dir of made) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // a folder a test made unreadable: the system's temporary folder keeps it
    }
  }
});

/** A new empty folder in the system's temporary one, removed when the tests end. */
export function tempDir(prefix = "etl-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function readFixture<T>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8")) as T;
}

/**
 * A throwaway copy of the project (etl.ts, the shipped CSV, node_modules linked), so that a
 * test can run the CLI as a user would and look at the artifacts it leaves, without touching
 * the repository's own.
 */
export function tempProject(): string {
  const dir = tempDir();
  fs.copyFileSync(path.join(REPO, "etl.ts"), path.join(dir, "etl.ts"));
  fs.copyFileSync(path.join(REPO, "package.json"), path.join(dir, "package.json"));
  fs.mkdirSync(path.join(dir, "data"));
  fs.copyFileSync(path.join(REPO, "data", "ccr_mock.csv"), path.join(dir, "data", "ccr_mock.csv"));
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

const isRoot = process.getuid?.() === 0;

/**
 * Runs `node --import tsx ...args` in `dir` as a user without root's rights: as nobody (through
 * setpriv) when the tests run as root, who reads and writes every file whatever its permissions.
 */
export function runAsUser(dir: string, args: string[]): SpawnSyncReturns<string> {
  const user = isRoot ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
  const [command, ...rest] = [...user, process.execPath, "--import", "tsx", ...args];
  return spawnSync(command, rest, {
    cwd: dir, encoding: "utf8", env: { ...process.env, HOME: os.tmpdir() },
  });
}

let permissionSkip: string | false | undefined;

/**
 * Why a test of file permissions cannot run here, or false when it can: as root, nobody must be
 * able to run node with tsx from a temporary project, which fails without setpriv, or when the
 * project (its node_modules) lies in a folder that only its owner may enter.
 */
export function permissionTestSkip(): string | false {
  if (!isRoot) return false;
  if (permissionSkip === undefined) {
    const probe = tempProject();
    fs.chmodSync(probe, 0o755);
    permissionSkip = runAsUser(probe, ["-e", "0"]).status === 0 ? false
      : "root, and nobody cannot run node with tsx here (no setpriv, or the project is in a " +
        "folder only its owner may enter)";
  }
  return permissionSkip;
}

/** Runs `tsx etl.ts ...args` inside `dir`, as a user in that folder would. */
export function runEtl(dir: string, args: string[] = []): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ["--import", "tsx", "etl.ts", ...args], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, FORCE_COLOR: "0" },
  });
}

/** Every file below `dir`, as path (relative) -> bytes; node_modules left out. */
export function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.join(sub, entry.name);
      if (entry.name === "node_modules") continue;
      if (entry.isSymbolicLink()) files.set(rel, `-> ${fs.readlinkSync(path.join(dir, rel))}`);
      else if (entry.isDirectory()) (files.set(rel, "(folder)"), walk(rel)); // a new empty one too
      else files.set(rel, fs.readFileSync(path.join(dir, rel)).toString("base64"));
    }
  };
  walk("");
  return files;
}

export const ARTIFACTS = [
  "data/ccr_raw.json",
  "artifacts/transform_artifacts/X_train.npy",
  "artifacts/transform_artifacts/X_val.npy",
  "artifacts/transform_artifacts/y_train.npy",
  "artifacts/transform_artifacts/y_val.npy",
  "artifacts/transform_artifacts/scaler.json",
  "artifacts/transform_artifacts/feature_columns.json",
  "artifacts/transform_artifacts/imputer.json",
  "artifacts/transform_artifacts/encoder.json",
  "artifacts/loader_artifacts/train_loader_info.json",
  "artifacts/loader_artifacts/val_loader_info.json",
  "artifacts/manifest.json",
];

let python: string | null | undefined;

/**
 * A python3 that imports numpy, pandas and sklearn (Debian's /usr/bin/python3 with
 * python3-numpy python3-pandas python3-sklearn), or null when there is none. ETL_PYTHON, when
 * set, is the only one tried.
 */
export function referencePython(): string | null {
  if (python !== undefined) return python;
  python = null;
  for (const candidate of process.env.ETL_PYTHON ? [process.env.ETL_PYTHON] : ["/usr/bin/python3", "python3"]) {
    const probe = spawnSync(candidate, ["-c", "import numpy, pandas, sklearn"], { encoding: "utf8" });
    if (probe.status === 0) {
      python = candidate;
      break;
    }
  }
  return python;
}

export const PYTHON_MISSING =
  "needs python3 with numpy, pandas and scikit-learn: apt-get install -y python3-numpy python3-pandas python3-sklearn";

/**
 * Runs etl.ts in `dir` and checks that it refused as a user should see it: exit `code`, one
 * `error:` line that matches `stderr`, no stack trace, and every file of `dir` as it was.
 */
export function expectRefused(dir: string, args: string[], stderr: RegExp, code = 1, input?: string | Buffer): string {
  const before = snapshot(dir);
  const run = spawnSync(process.execPath, ["--import", "tsx", "etl.ts", ...args], {
    cwd: dir, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0" }, input,
  });
  assert.equal(run.status, code, run.stderr);
  assert.match(run.stderr, /^error: [^\n]+\n$/, "exactly one line starting with error:");
  assert.match(run.stderr, stderr);
  assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
  assert.deepEqual(snapshot(dir), before, "every file as it was, no temporary file left");
  return run.stderr;
}

/** The manifest's entries describe the files beside it: every sha256 and size is the file's. */
export function assertManifestDescribesFiles(dir: string): void {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "artifacts", "manifest.json"), "utf8"));
  const entries = [...manifest.artifacts, ...(manifest.apply?.artifacts ?? [])];
  for (const entry of entries) {
    const bytes = fs.readFileSync(path.join(dir, entry.path));
    assert.equal(createHash("sha256").update(bytes).digest("hex"), entry.sha256, `${entry.path}: the manifest's sha256`);
    assert.equal(bytes.length, entry.bytes, entry.path);
  }
}

/**
 * Runs etl.ts's main() in this process (no process start, and a test may step in while it
 * runs): its exit code, what it printed on stderr, and the artifacts under `out`.
 */
export async function etlInProcess(argv: string[], out: string): Promise<{ status: number; stderr: string }> {
  const { main, pathsUnder } = await import("../etl.ts");
  const [log, error] = [console.log, console.error];
  let stderr = "";
  console.log = () => {};
  console.error = (...parts: unknown[]) => (stderr += parts.join(" ") + "\n");
  try {
    return { status: await main([...argv, "--out", out], pathsUnder(out)), stderr };
  } finally {
    [console.log, console.error] = [log, error];
  }
}
