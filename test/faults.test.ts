// Faults while a run is under way, made at a known point of it: the CSV is changed the moment
// etl.ts first reads past its first 1 MB block (fs.readSync, stepped into in this process), not
// after a guessed delay. The input is one snapshot: what was parsed is what was hashed, or the
// run stops with one line and every artifact as it was.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { MT19937, readNpy } from "../etl.ts";
import { mockRow } from "../data/generate_mock.ts";
import { etlInProcess, expectRefused, snapshot, tempProject } from "./helpers.ts";

const HEADER = fs.readFileSync(path.join(import.meta.dirname, "..", "data", "ccr_mock.csv"), "utf8").split("\n")[0];

/** A mock CSV of `rows` rows (about 45 bytes each): 60,000 rows make three 1 MB blocks. */
function mockCsv(rows: number, seed: number): string {
  const rng = new MT19937(seed);
  return [HEADER, ...Array.from({ length: rows }, () => mockRow(rng))].join("\n") + "\n";
}

/** Runs the pipeline on `csv`, calling `change` once, as the first read past byte 1,100,000 starts. */
async function runChanging(dir: string, csv: string, change: () => void) {
  const read = fs.readSync;
  let changed = false;
  (fs as { readSync: unknown }).readSync = function (...args: Parameters<typeof fs.readSync>) {
    const position = (args as unknown[])[4];
    if (!changed && typeof position === "number" && position >= 1_100_000) {
      changed = true;
      change();
    }
    return read.apply(fs, args);
  };
  try {
    const run = await etlInProcess(["--csv", csv], dir);
    assert.ok(changed, "the run read past 1.1 MB, where the file was changed");
    return run;
  } finally {
    (fs as { readSync: unknown }).readSync = read;
  }
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const manifest = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, "artifacts", "manifest.json"), "utf8"));

describe("the input is one snapshot", () => {
  const content = mockCsv(60_000, 1);

  for (const [what, change] of [
    ["appended to", (csv: string) => fs.appendFileSync(csv, mockCsv(5_000, 2).slice(HEADER.length + 1))],
    ["cut short", (csv: string) => fs.truncateSync(csv, 1_500_000)],
    ["rewritten in place, its size the same", (csv: string) => {
      const fd = fs.openSync(csv, "r+");
      fs.writeSync(fd, "9", 200_000);
      fs.closeSync(fd);
    }],
  ] as const) {
    test(`${what} during the run: one line, "the input changed", every artifact as it was`, async () => {
      const dir = tempProject();
      const csv = path.join(dir, "in.csv");
      fs.writeFileSync(csv, content);
      assert.equal((await etlInProcess(["--csv", csv], dir)).status, 0);
      const before = snapshot(path.join(dir, "artifacts"));
      const run = await runChanging(dir, csv, () => change(csv));
      assert.equal(run.status, 1, run.stderr);
      assert.match(run.stderr, /^error: \S*in\.csv: the input changed while it was read; nothing was written\n$/);
      assert.deepEqual(snapshot(path.join(dir, "artifacts")), before);
    });
  }

  test("replaced by another file during the run: the one opened is read whole, and the manifest says so", async () => {
    const dir = tempProject();
    const csv = path.join(dir, "in.csv");
    fs.writeFileSync(csv, content);
    const other = mockCsv(70_000, 3);
    const run = await runChanging(dir, csv, () => {
      fs.writeFileSync(path.join(dir, "other.csv"), other);
      fs.renameSync(path.join(dir, "other.csv"), csv);
    });
    assert.equal(run.status, 0, run.stderr);
    const { input } = manifest(dir);
    assert.deepEqual([input.sha256, input.bytes, input.rows], [sha256(content), Buffer.byteLength(content), 60_000]);
  });
});

describe("every refusal is one short line", () => {
  test("X with no columns (the only feature is text of one category): one line, as scikit-learn refuses", () => {
    const dir = tempProject();
    fs.writeFileSync(path.join(dir, "in.csv"), ["c,y", ...Array.from({ length: 20 }, (_, i) => `red,${i}`)].join("\n") + "\n");
    expectRefused(dir, ["--csv", "in.csv", "--target", "y", "--features", "c"], /X would have no columns: "c" has one category/);
  });
  test("a header cell whose quote closes only at the end of a 2 MB file: a line of a few hundred characters", () => {
    const dir = tempProject();
    fs.writeFileSync(path.join(dir, "in.csv"), `"gpa,${"x,".repeat(1_000_000)}\n1,2"\n3\n`);
    const stderr = expectRefused(dir, ["--csv", "in.csv"], /in\.csv line 1 \(header\): missing column/);
    assert.ok(stderr.length <= 600, `${stderr.length} characters`);
  });
  test("a bad cell past the first megabyte, in a file of mixed line endings: its line named", () => {
    const dir = tempProject();
    const rows = Array.from({ length: 300_000 }, (_, i) => `${i % 97},${i}${i % 2 ? "\r" : "\r\n"}`);
    fs.writeFileSync(path.join(dir, "in.csv"), `x,y\r${rows.join("")}abc,5\n`); // 2.9 MB
    expectRefused(dir, ["--csv", "in.csv", "--target", "y", "--features", "x"], /^error: in\.csv line 300002: column "x" is "abc"/);
  });
  test("a path with a line break in it is quoted, so the error stays one line", () => {
    const dir = tempProject();
    expectRefused(dir, ["--csv", "new\nline.csv"], /^error: "new\\nline\.csv": no such file/);
  });
  test("--out under /proc is refused at once, naming the path (no recursive mkdir into procfs)", () => {
    const dir = tempProject();
    expectRefused(dir, ["--out", "/proc/1/etl-out"], /^error: \/proc\/1\/etl-out: /);
  });
});

describe("a commit is all or nothing, even when a rename fails", () => {
  test("y_train.npy cannot be replaced: the run fails, and the last good set is back, whole", async () => {
    const dir = tempProject();
    assert.equal((await etlInProcess([], dir)).status, 0);
    const before = snapshot(dir);
    const rename = fs.renameSync;
    (fs as { renameSync: unknown }).renameSync = (from: fs.PathLike, to: fs.PathLike) => {
      if (String(to).endsWith("y_train.npy")) throw Object.assign(new Error("operation not permitted"), { code: "EPERM", syscall: "rename", path: String(to) });
      return rename(from, to);
    };
    let run;
    try {
      run = await etlInProcess(["--seed", "5"], dir);
    } finally {
      (fs as { renameSync: unknown }).renameSync = rename;
    }
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /^error: .*y_train\.npy.*EPERM/);
    assert.deepEqual(snapshot(dir), before, "every artifact from the run before, no temporary file, no journal");
  });
  test("an artifact changed behind the manifest's back: a step run alone refuses to vouch for the set", async () => {
    const dir = tempProject();
    assert.equal((await etlInProcess([], dir)).status, 0);
    const xTrain = path.join(dir, "artifacts/transform_artifacts/X_train.npy");
    const bytes = fs.readFileSync(xTrain);
    bytes[bytes.length - 1] ^= 1;
    fs.writeFileSync(xTrain, bytes);
    const run = await etlInProcess(["load"], dir);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /X_train\.npy" differ from what .*manifest\.json lists \(changed since transform made them\).*run the whole pipeline/);
  });
});

describe("apply reads a text feature as text, as the fit did", () => {
  test("007 in a text feature of new rows is an unseen category (all zeros), not a number refused", async () => {
    const dir = tempProject();
    const fit = ["color,x,y", ...Array.from({ length: 30 }, (_, i) => `${["red", "blue", "green"][i % 3]},${i % 7},${i}`)];
    fs.writeFileSync(path.join(dir, "fit.csv"), fit.join("\n") + "\n");
    assert.equal((await etlInProcess(["--csv", path.join(dir, "fit.csv"), "--target", "y", "--features", "all"], dir)).status, 0);
    fs.writeFileSync(path.join(dir, "new.csv"), "color,x\n007,3\nred,4\n");
    const run = await etlInProcess(["apply", "--csv", path.join(dir, "new.csv")], dir);
    assert.equal(run.status, 0, run.stderr);
    const { data, shape } = readNpy(path.join(dir, "artifacts/inference_artifacts/X_new.npy"));
    assert.deepEqual(shape, [2, 3]); // x, color_green, color_red
    const scaler = JSON.parse(fs.readFileSync(path.join(dir, "artifacts/transform_artifacts/scaler.json"), "utf8"));
    for (const c of [1, 2]) {
      assert.equal(data[c], Math.fround((0 - Math.fround(scaler.mean_[c])) / Math.fround(scaler.scale_[c])), `column ${c}: a zero, scaled`);
    }
  });
});
