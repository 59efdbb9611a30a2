// Hostile inputs, by class: each class's cases must end in a clear error (exit code, one error
// line, no stack trace, nothing changed) or in artifacts that are right, never in a NaN, a stack
// trace or a manifest that describes other files than the ones beside it.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, test } from "node:test";
import {
  CONFIG, MT19937, Staging, byCodePoint, finishInterruptedCommit, main, openCsv, rowChunks,
  pathsUnder, readNpy, runPipeline,
} from "../etl.ts";
import { mockRow } from "../data/generate_mock.ts";
import {
  ARTIFACTS, FIXTURES, REPO, assertManifestDescribesFiles, expectRefused, permissionTestSkip, readFixture, runAsUser, runEtl,
  snapshot, tempDir, tempProject,
} from "./helpers.ts";

const shipped = fs.readFileSync(path.join(REPO, "data", "ccr_mock.csv"), "utf8");
const [HEADER, ...ROWS] = shipped.trimEnd().split("\n");
const readJson = (dir: string, file: string) => JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file));

/** The shipped CSV with cell `column` of data row `row` (line row + 2) replaced. */
function withCell(row: number, column: number, value: string): string {
  const rows = ROWS.map((r, i) => (i === row ? r.split(",").map((c, j) => (j === column ? value : c)).join(",") : r));
  return [HEADER, ...rows].join("\n") + "\n";
}

/** A project copy that has run the pipeline once, and a file `name` in it with `content`. */
function projectWith(name: string, content: string | Buffer): string {
  const dir = tempProject();
  assert.equal(runEtl(dir).status, 0);
  fs.writeFileSync(path.join(dir, name), content);
  return dir;
}

describe("1. a number float32 cannot hold is an error; no array ever holds NaN or Infinity", () => {
  const CASES: [string, number, string, RegExp][] = [
    ["1e39 in a feature", 0, "1e39", /line 12: column "gpa" is "1e39", beyond float32's range/],
    ["-3.5e38 in a feature", 4, "-3.5e38", /line 12: column "cte_hours" is "-3.5e38", beyond float32's range/],
    ["1e39 in the target", 8, "1e39", /line 12: column "readiness_score" is "1e39", beyond float32's range/],
    ["+Infinity in the target", 8, "+Infinity", /line 12: column "readiness_score" is "\+Infinity", not a finite number/],
  ];
  for (const [name, column, value, stderr] of CASES) {
    test(`${name}: error naming the file, line, column and value`, () => {
      const dir = projectWith("in.csv", withCell(10, column, value));
      expectRefused(dir, ["--csv", "in.csv"], stderr);
    });
  }
  test("the largest float32 passes, and so does 1e39 in a column no feature reads", () => {
    const dir = tempProject();
    fs.writeFileSync(path.join(dir, "in.csv"), withCell(10, 0, "3.4028234e38").replace(/\n/g, (m, i) => (i === HEADER.length ? ",note\n" : ",1e39\n")));
    const run = runEtl(dir, ["--csv", "in.csv", "extract"]);
    assert.equal(run.status, 0, run.stderr);
  });
  test("a hand-edited data/ccr_raw.json read by transform alone: 1e39 and 1e400 name the JSON line", () => {
    for (const [value, stderr] of [["1e39", /beyond float32's range/], ["1e400", /not a finite number/]] as const) {
      const dir = tempProject();
      assert.equal(runEtl(dir).status, 0);
      const raw = fs.readFileSync(path.join(dir, "data/ccr_raw.json"), "utf8").split("\n");
      raw[4] = raw[4].replace(/^\[[^,]*/, `[${value}`);
      fs.writeFileSync(path.join(dir, "data/ccr_raw.json"), raw.join("\n"));
      expectRefused(dir, ["transform"], new RegExp(`^error: data/ccr_raw\\.json line 5: column "gpa" is "[^"]+", ${stderr.source}`));
    }
  });
  test("apply: a new row with 1e39 names its line", () => {
    const dir = projectWith("new.csv", withCell(3, 2, "1e39"));
    expectRefused(dir, ["apply", "--csv", "new.csv"], /^error: new\.csv line 5: column "sat_math" is "1e39", beyond float32's range/);
  });
  test("a column whose scaling overflows float32 is an error naming the column", () => {
    const rows = ROWS.map((r, i) => `${i % 2 ? 3.3e38 : -3.3e38},${r.split(",").slice(1).join(",")}`);
    const dir = projectWith("in.csv", [HEADER, ...rows].join("\n") + "\n");
    expectRefused(dir, ["--csv", "in.csv"], /column "gpa" of X_train is -?Infinity in row \d+ after scaling: \(x - mean_\) \/ scale_ overflows float32/);
  });
  test("the last guard: writeArray refuses an array with a NaN, and writes nothing", () => {
    const root = tempDir("etl-guard-");
    const out = new Staging(pathsUnder(root));
    const file = path.join(root, "artifacts", "x.npy");
    assert.throws(() => out.writeArray(file, Float32Array.of(1, NaN, 3, 4), [2, 2], ["a", "b"]), /column "b" of x is NaN in row 0/);
    assert.throws(() => out.writeArray(file, Float32Array.of(1, 2, Infinity), [3]), /x would hold Infinity at index 2/);
    out.discard();
    assert.ok(!fs.existsSync(file) && !fs.existsSync(path.join(root, "artifacts")), "nothing written");
  });
  test("the last guard for a big array: refused before any rename", () => {
    const root = tempDir("etl-guard-");
    const paths = pathsUnder(root);
    const out = new Staging(paths);
    const X = new Float32Array(600_000);
    X[123_457] = -Infinity; // row 41,152, column 1
    const write = () => out.writeArray(paths.xTrain, X, [200_000, 3], ["a", "b", "c"]);
    assert.throws(write, /column "b" of X_train is -Infinity in row 41152/);
    out.discard();
    assert.ok(!fs.existsSync(paths.transformDir), "no file, temporary or not, nor the folder it made");
    assert.ok(!fs.existsSync(paths.manifest));
  });
  // Four big arrays in a row, hashed for the manifest on the helper thread: each hash right, and
  // a NaN in any of them refused with nothing left behind.
  for (const bad of [-1, 0, 3]) {
    test(`big arrays: ${bad < 0 ? "all hashed right" : `a NaN in array ${bad + 1} refused`}`, async () => {
      const root = tempDir("etl-big-arrays-");
      const paths = pathsUnder(root);
      const out = new Staging(paths);
      const files = [paths.xTrain, paths.xVal, paths.yTrain, paths.yVal];
      const rng = new MT19937(8);
      const writeAll = () => files.forEach((file, a) => {
        const array = new Float32Array(400_000);
        for (let i = 0; i < array.length; i++) array[i] = rng.nextUint32() / 2 ** 16;
        if (a === bad) array[399_999] = NaN; // the last row, column 1
        out.writeArray(file, array, [200_000, 2], ["a", "b"]);
      });
      if (bad >= 0) {
        assert.throws(writeAll, /column "b" of \w+ is NaN in row 199999/);
        out.discard();
        assert.ok(!fs.existsSync(paths.transformDir));
        return;
      }
      writeAll();
      await out.commit(CONFIG, "transform");
      const manifest = JSON.parse(fs.readFileSync(paths.manifest, "utf8"));
      assert.equal(manifest.artifacts.length, 4);
      assertManifestDescribesFiles(root);
      fs.rmSync(root, { recursive: true, force: true });
    });
  }
});

describe("2. the line ending is where the first line really ends; no name or cell keeps half of one", () => {
  test("CR LF, and a header longer than 64 KB (3,000 columns): no column name ends with CR", () => {
    const names = Array.from({ length: 3000 }, (_, i) => `a_rather_long_feature_name_${String(i).padStart(5, "0")}`);
    const rng = new MT19937(4);
    const rows = Array.from({ length: 40 }, () => names.map(() => String(rng.nextUint32() % 10)).join(",") + `,${rng.nextUint32() % 100}`);
    const dir = tempProject();
    fs.writeFileSync(path.join(dir, "wide.csv"), [[...names, "y"].join(","), ...rows].join("\r\n") + "\r\n");
    const run = runEtl(dir, ["--csv", "wide.csv", "--features", "all", "--target", "y"]);
    assert.equal(run.status, 0, run.stderr);
    const columns: string[] = readJson(dir, "artifacts/transform_artifacts/feature_columns.json");
    assert.deepEqual(columns, names);
    assert.deepEqual(readJson(dir, "data/ccr_raw.json").columns, [...names, "y"]);
    assert.deepEqual(readNpy(path.join(dir, "artifacts/transform_artifacts/X_train.npy")).shape, [32, 3000]);
  });
  test("mixed line endings (an LF header over CR LF rows, and the other way round) read as the plain file", () => {
    const lines = shipped.trimEnd().split("\n");
    for (const csv of [lines[0] + "\n" + lines.slice(1).join("\r\n") + "\r\n", lines[0] + "\r\n" + lines.slice(1).join("\n") + "\n"]) {
      const dir = tempProject();
      fs.writeFileSync(path.join(dir, "mixed.csv"), csv);
      assert.equal(runEtl(dir, ["--csv", "mixed.csv"]).status, 0);
      for (const file of ARTIFACTS.filter((f) => f.endsWith(".npy") || f.endsWith("raw.json"))) {
        assert.deepEqual(read(dir, file), read(REPO, file), file);
      }
    }
  });
  test("a header name that holds a line break is kept, as read_csv keeps it", () => {
    const dir = projectWith("in.csv", `"gp\na",${HEADER.slice(4)}\n${ROWS.join("\n")}\n`);
    const run = runEtl(dir, ["--csv", "in.csv", "--features", "all"]);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(readJson(dir, "artifacts/transform_artifacts/feature_columns.json")[0], "gp\na");
  });
});

describe("3. flags that contradict each other are refused (exit 2), never settled quietly", () => {
  const dir = tempProject();
  const CASES: [string[], RegExp][] = [
    [["--features", "gpa,gpa,sat_math"], /--features names "gpa" twice/],
    [["--features", "gpa,readiness_score"], /the target "readiness_score" is also among the features/],
    [["--drop", "readiness_score"], /--drop names the target "readiness_score"/],
    [["--features", "gpa,sat_math", "--drop", "gpa"], /--features and --drop both name "gpa"/],
    [["--drop", "gpa,gpa"], /--drop names "gpa" twice/],
    [["--seed", "1", "--seed", "2"], /--seed is given 2 times; give it once/],
    [["--target", ""], /--target needs a column name/],
    [["--csv", ""], /--csv needs a path/],
    [["transform", "--target", "sat_math"], /the target "sat_math" is also among the features/],
  ];
  for (const [args, stderr] of CASES) test(args.join(" "), () => void expectRefused(dir, args, stderr, 2));
});

describe("4. a run commits all of its files and its manifest, or nothing", () => {
  test("a commit cut short by a kill is finished by the next run, from its journal", async (t) => {
    const root = tempDir("etl-journal-");
    fs.mkdirSync(path.join(root, "data"));
    fs.copyFileSync(path.join(REPO, "data/ccr_mock.csv"), path.join(root, "data/ccr_mock.csv"));
    const paths = pathsUnder(root);
    t.mock.method(console, "log", () => {});
    const csv = path.join(root, "data/ccr_mock.csv");
    await runPipeline({ ...CONFIG, csv, seed: 1 }, paths);
    const renameSync = fs.renameSync;
    let renames = 0;
    t.mock.method(fs, "renameSync", (from: fs.PathLike, to: fs.PathLike) => {
      if (++renames === 5) throw new Error("killed"); // the journal, then 3 artifacts, then the kill
      renameSync(from, to);
    });
    await assert.rejects(runPipeline({ ...CONFIG, csv }, paths), /killed/);
    t.mock.restoreAll();
    assert.notDeepEqual(read(root, "artifacts/transform_artifacts/y_val.npy"), read(REPO, "artifacts/transform_artifacts/y_val.npy"), "half done");
    finishInterruptedCommit(paths);
    for (const file of ARTIFACTS) assert.deepEqual(read(root, file), read(REPO, file), file);
    assertManifestDescribesFiles(root);
    assert.ok(!fs.existsSync(path.join(root, "artifacts/.commit.etl-journal")));
  });

  test("a refused run into a new --out folder leaves no folder behind, and keeps one it found", () => {
    const dir = tempProject();
    fs.writeFileSync(path.join(dir, "short.csv"), `${shipped}1,2\n`);
    expectRefused(dir, ["--csv", "short.csv", "--out", "runs/a"], /line 202: column "readiness_score", the target, is blank/);
    fs.mkdirSync(path.join(dir, "mine"));
    expectRefused(dir, ["--csv", "short.csv", "--out", "mine"], /line 202: column "readiness_score", the target, is blank/);
  });

  test("SIGINT and SIGTERM at points all through transform: exit 0 with the manifest describing the files, or nothing changed", async () => {
    const dir = tempProject();
    const rng = new MT19937(8);
    fs.writeFileSync(path.join(dir, "big.csv"), [HEADER, ...Array.from({ length: 20_000 }, () => mockRow(rng))].join("\n") + "\n");
    assert.equal(runEtl(dir, ["--csv", "big.csv", "--seed", "3"]).status, 0);
    // Each signal is sent by the run itself at a point of it (test/kill_at.ts), not after a delay.
    const points = [
      "open|ccr_raw\\.json$|after", //                       Transform reads the raw JSON
      "openSync|X_train\\.npy\\.\\d+\\.etl-tmp$|after", //   it writes its arrays
      "openSync|scaler\\.json\\.\\d+\\.etl-tmp$|after", //   its fitted state
      "openSync|manifest\\.json\\.\\d+\\.etl-tmp$|after", // the commit, before any rename
      "renameSync|X_train\\.npy$|after", //                  the renames under way
    ];
    const killAt = pathToFileURL(path.join(import.meta.dirname, "kill_at.ts")).href;
    const outcomes: string[] = [];
    for (const [i, point] of points.flatMap((p) => [`${p}|SIGTERM`, `${p}|SIGINT`]).entries()) {
      const before = snapshot(dir);
      const signal = point.split("|")[3];
      const code = await new Promise<number | null>((resolve) => {
        const args = ["--import", "tsx", "--import", killAt, "etl.ts", "transform", "--seed", String(5 + i)];
        const child = spawn(process.execPath, args, { cwd: dir, stdio: "ignore", env: { ...process.env, ETL_KILL_AT: point } });
        child.on("exit", (status) => resolve(status));
      });
      outcomes.push(`${point}: ${code}`);
      if (code === 0) assertManifestDescribesFiles(dir); // once the renames have begun, the run finishes
      else {
        assert.equal(code, signal === "SIGINT" ? 130 : 143, outcomes.join(", "));
        assert.deepEqual(snapshot(dir), before, `${point} changed files but exited ${code}`);
      }
    }
    // While it reads, the run yields to the signal at once; later, it may finish first (exit 0).
    assert.deepEqual(outcomes.slice(0, 2).map((o) => o.split(": ")[1]), ["143", "130"], outcomes.join(", "));
    assert.ok(outcomes.some((o) => /: 0$/.test(o)), `no run finished once its renames had begun: ${outcomes.join(", ")}`);
  });

  test("over a big input a signal ends the run at once in every phase, and its janitor leaves nothing behind", async () => {
    const dir = tempProject();
    const rng = new MT19937(9);
    // Over 8 MB (JANITOR_BYTES): Transform may keep the main thread from a handler for seconds.
    const rows = Array.from({ length: 240_000 }, () => mockRow(rng));
    fs.writeFileSync(path.join(dir, "big.csv"), [HEADER, ...rows].join("\n") + "\n");
    assert.ok(fs.statSync(path.join(dir, "big.csv")).size > 2 ** 23);
    assert.equal(runEtl(dir, ["--csv", "big.csv"]).status, 0);
    const killAt = pathToFileURL(path.join(import.meta.dirname, "kill_at.ts")).href;
    const run = (point: string, args: string[]) => new Promise<string>((resolve) => {
      const env = { ...process.env, ETL_KILL_AT: point };
      const child = spawn(process.execPath, ["--import", "tsx", "--import", killAt, "etl.ts", ...args], { cwd: dir, stdio: "ignore", env });
      child.on("exit", (status, signal) => resolve(signal ?? String(status)));
    });
    const temporaries = () => fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => f.includes("etl-tmp"));
    const settled = async () => { // the janitor runs once the run's process has ended
      for (let waited = 0; waited < 5000 && temporaries().length > 0; waited += 50) await new Promise((r) => setTimeout(r, 50));
    };
    const points = [
      "openSync|ccr_raw\\.json\\.\\d+\\.etl-tmp$|after", // Extract under way
      "stdout|^Extract:|after", //                                 Transform computing
      "openSync|X_train\\.npy\\.\\d+\\.etl-tmp$|after", //   Transform writing
    ];
    for (const [i, point] of points.flatMap((p) => [`${p}|SIGTERM`, `${p}|SIGINT`, `${p}|SIGKILL`]).entries()) {
      const before = snapshot(dir);
      const signal = point.split("|")[3];
      // Ended by the signal itself, not by a handler that ran once Transform was done.
      assert.equal(await run(point, ["--csv", "big.csv", "--seed", String(5 + i)]), signal, point);
      await settled();
      assert.deepEqual(temporaries(), [], point);
      assert.deepEqual(snapshot(dir), before, `${point} changed files`);
    }
    // Into a new --out folder: the folders it made go too.
    assert.equal(await run("stdout|^Extract:|after|SIGTERM", ["--csv", "big.csv", "--out", "runs/a"]), "SIGTERM");
    for (let waited = 0; waited < 5000 && fs.existsSync(path.join(dir, "runs")); waited += 50) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!fs.existsSync(path.join(dir, "runs")), "runs/ left behind");
    // The commit takes the handler back: from its manifest on nothing waits, so a signal is
    // heard once the renames are done, and the run ends with every file in place.
    const commitPoints = ["openSync|manifest\\.json\\.\\d+\\.etl-tmp$", "renameSync|X_train\\.npy$", "stdout|^Wrote "];
    for (const point of commitPoints) {
      assert.equal(await run(`${point}|after|SIGTERM`, ["--csv", "big.csv", "--seed", "11"]), "0", point);
      assertManifestDescribesFiles(dir);
      assert.deepEqual(temporaries(), [], point);
    }
  });
});

describe("5. the manifest: rebuilt when damaged, and always the settings that made the files", () => {
  for (const [what, content] of [["null", "null\n"], ["not JSON", "{ nope"], ["settings missing", '{"artifacts": []}']]) {
    test(`a manifest holding ${what}: a step alone says so, runs with the defaults and rebuilds it`, () => {
      const dir = projectWith("artifacts/manifest.json", content);
      const run = runEtl(dir, ["transform"]);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stderr, /^note: artifacts\/manifest\.json cannot be used \(.+\); the default settings and your flags are used/);
      assertManifestDescribesFiles(dir);
      assert.equal(readJson(dir, "artifacts/manifest.json").config.seed, 42);
    });
  }
  test("load alone after a fit with --seed 7 --test-size 0.3 keeps them, and says which settings it reused", () => {
    const dir = tempProject();
    assert.equal(runEtl(dir, ["--seed", "7", "--test-size", "0.3"]).status, 0);
    const run = runEtl(dir, ["load"]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^Settings from artifacts\/manifest\.json: --seed 7 \(a flag overrides any of them\)\n/);
    const { config } = readJson(dir, "artifacts/manifest.json");
    assert.deepEqual([config.seed, config.testSize], [7, 0.3]);
    assertManifestDescribesFiles(dir);
  });
  test("transform alone after extract --features all --drop student_id --target score", () => {
    const dir = tempProject();
    const csv = path.join(FIXTURES, "any_csv", "train.csv");
    assert.equal(runEtl(dir, ["extract", "--csv", csv, "--features", "all", "--drop", "student_id", "--target", "score"]).status, 0);
    const run = runEtl(dir, ["transform"]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^Settings from artifacts\/manifest\.json: --target score --features all --drop student_id/);
    assert.deepEqual(readJson(dir, "artifacts/transform_artifacts/imputer.json").feature_names_in_, ["gpa", "hours", "absences"]);
  });
  test("a flag that would change what an earlier step made is refused; one for a later step marks it stale", () => {
    const dir = tempProject();
    assert.equal(runEtl(dir).status, 0);
    expectRefused(dir, ["load", "--seed", "8"], /--seed is a setting of transform, which made the artifacts load reads with --seed 42/, 2);
    expectRefused(dir, ["transform", "--csv", "other.csv"], /--csv is a setting of extract/, 2);
    expectRefused(dir, ["apply", "--seed", "8"], /--seed does nothing for apply/, 2);
    const run = runEtl(dir, ["transform", "--test-size", "0.3"]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /^note: load's artifacts \(artifacts\/loader_artifacts\/\) were made from older inputs or settings/);
    assert.deepEqual(readJson(dir, "artifacts/manifest.json").stale, [
      "artifacts/loader_artifacts/train_loader_info.json", "artifacts/loader_artifacts/val_loader_info.json",
    ]);
    assertManifestDescribesFiles(dir);
    assert.equal(runEtl(dir, ["load"]).status, 0);
    assert.equal(readJson(dir, "artifacts/manifest.json").stale, undefined);
    assert.equal(readJson(dir, "artifacts/loader_artifacts/train_loader_info.json").num_samples, 140);
  });
});

describe("6. the system's errors are one line naming the path, never a stack trace", () => {
  test("artifacts is a file (ENOTDIR)", () => {
    const dir = tempProject();
    fs.writeFileSync(path.join(dir, "artifacts"), "");
    expectRefused(dir, [], /^error: artifacts: a part of the path is a file, not a folder \(ENOTDIR\); move that file out of the way\n$/);
  });
  test("artifacts is a link to itself (ELOOP)", () => {
    const dir = tempProject();
    fs.symlinkSync("artifacts", path.join(dir, "artifacts"));
    expectRefused(dir, [], /^error: artifacts\S*: too many symbolic links .*\(ELOOP\)/);
  });
  test("a CSV path too long for the system (ENAMETOOLONG), cut in the message", () => {
    const dir = tempProject();
    const stderr = expectRefused(dir, ["--csv", "x".repeat(5000) + ".csv"], /the path is too long \(ENAMETOOLONG\); use a shorter path/);
    assert.ok(stderr.length < 400, stderr);
  });
  test("a full disk (ENOSPC) while an artifact is written names the artifact", async (t) => {
    const root = tempDir("etl-full-");
    fs.mkdirSync(path.join(root, "data"));
    fs.copyFileSync(path.join(REPO, "data/ccr_mock.csv"), path.join(root, "data/ccr_mock.csv"));
    const errors: string[] = [];
    t.mock.method(console, "log", () => {});
    t.mock.method(console, "error", (line: string) => errors.push(line));
    t.mock.method(fs, "writeSync", () => {
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", syscall: "write", errno: -28 });
    });
    assert.equal(await main(["--csv", path.join(root, "data/ccr_mock.csv")], pathsUnder(root)), 1);
    t.mock.restoreAll();
    assert.equal(errors.length, 1);
    assert.match(errors[0], /^error: \S*data\/ccr_raw\.json: no space left on the device \(ENOSPC\); free some space, then run again$/);
    assert.deepEqual([...snapshot(root).keys()], ["data", "data/ccr_mock.csv"]);
  });
  test("an artifacts folder that cannot be written (EACCES)", { skip: permissionTestSkip() }, () => {
    const dir = tempProject();
    assert.equal(runEtl(dir).status, 0);
    fs.chmodSync(dir, 0o755);
    for (const sub of ["artifacts/transform_artifacts", "artifacts/loader_artifacts", "artifacts", "data"]) fs.chmodSync(path.join(dir, sub), 0o555);
    const before = snapshot(dir);
    const run = runAsUser(dir, ["etl.ts", "transform"]);
    for (const sub of ["artifacts/transform_artifacts", "artifacts/loader_artifacts", "artifacts", "data"]) fs.chmodSync(path.join(dir, sub), 0o755);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /^error: artifacts\/transform_artifacts\/\S+: permission denied \(EACCES\); check the permissions/);
    assert.deepEqual(snapshot(dir), before);
  });
  test("arrays of 0 rows before load", () => {
    const dir = tempProject();
    assert.equal(runEtl(dir).status, 0);
    const empty = Buffer.concat([read(dir, "artifacts/transform_artifacts/X_val.npy").subarray(0, 128)]);
    const header = empty.toString("latin1").replace("(40, 8)", "(0, 8) ");
    fs.writeFileSync(path.join(dir, "artifacts/transform_artifacts/X_val.npy"), Buffer.from(header, "latin1"));
    const y = read(dir, "artifacts/transform_artifacts/y_val.npy").subarray(0, 128).toString("latin1").replace("(40,)", "(0,) ");
    fs.writeFileSync(path.join(dir, "artifacts/transform_artifacts/y_val.npy"), Buffer.from(y, "latin1"));
    expectRefused(dir, ["load"], /transform_artifacts: the arrays hold no rows or no columns; run npx tsx etl\.ts transform/);
  });
  for (const [file, edit, stderr] of [
    ["scaler.json", (s: Record<string, unknown>) => delete s.mean_, /scaler\.json: mean_ is missing or not 8 numbers/],
    ["scaler.json", (s: Record<string, unknown>) => (s.scale_ = [1, 2]), /scaler\.json: scale_ is missing or not 8 numbers/],
    ["imputer.json", (s: Record<string, unknown>) => (s.statistics_ = "median"), /imputer\.json: statistics_ is missing or not a list of numbers/],
    ["encoder.json", (s: Record<string, unknown>) => delete s.categories_, /encoder\.json: categories_ is missing/],
  ] as const) {
    test(`${file} damaged (${stderr.source.split(":")[1].trim().split(" ")[0]}) before apply`, () => {
      const dir = tempProject();
      assert.equal(runEtl(dir).status, 0);
      const full = path.join(dir, "artifacts/transform_artifacts", file);
      const state = JSON.parse(fs.readFileSync(full, "utf8"));
      edit(state);
      fs.writeFileSync(full, JSON.stringify(state));
      expectRefused(dir, ["apply", "--csv", "data/ccr_mock.csv"], stderr);
    });
  }
});

describe("7. a text feature with too many distinct values is refused before X is made", () => {
  const names = (n: number) => [HEADER + ",name", ...Array.from({ length: 3000 }, (_, i) => `${ROWS[i % ROWS.length]},n${i % n}`)].join("\n") + "\n";
  test("3,000 distinct values, 1,000 allowed: the column, the count and the way out", () => {
    const dir = projectWith("in.csv", names(3000));
    expectRefused(dir, ["--csv", "in.csv", "--features", "all"], /column "name" has 3,000 distinct values, .*--max-categories 1000.*leave it out with --drop name/);
  });
  test("--max-categories raises the limit", () => {
    const dir = projectWith("in.csv", names(3000));
    const run = runEtl(dir, ["--csv", "in.csv", "--features", "all", "--max-categories", "5000"]);
    assert.equal(run.status, 0, run.stderr);
    assert.ok(readJson(dir, "artifacts/transform_artifacts/feature_columns.json").length > 2000);
  });
  test("an X larger than this machine's memory is refused before it is allocated", () => {
    const rows = 300_000;
    const lines = [HEADER + ",name"];
    for (let i = 0; i < rows; i++) lines.push(`${ROWS[i % ROWS.length]},n${i % 150_000}`);
    const dir = projectWith("in.csv", lines.join("\n") + "\n");
    expectRefused(dir, ["--csv", "in.csv", "--features", "all", "--max-categories", "200000"], /X \(300000 rows x \d+ columns\) would take [\d.]+ GB of float32, more than this machine's/);
  });
});

describe("8. pipes are read, and text is valid by decoding it", () => {
  const artifactsOf = (dir: string) => ARTIFACTS.filter((f) => !f.endsWith("manifest.json")).map((f) => read(dir, f));
  for (const csv of ["-", "/dev/stdin"]) {
    test(`--csv ${csv} with the CSV piped in: the same artifacts, and "-" as the manifest's input`, () => {
      const dir = tempProject();
      const run = spawnSync(process.execPath, ["--import", "tsx", "etl.ts", "--csv", csv], { cwd: dir, input: shipped, encoding: "utf8" });
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(artifactsOf(dir), artifactsOf(REPO));
      assert.equal(readJson(dir, "artifacts/manifest.json").input.path, "-");
      assert.deepEqual([...snapshot(dir).keys()].filter((f) => f.includes("etl-tmp")), []);
    });
  }
  test("a named pipe (FIFO)", { skip: spawnSync("mkfifo", ["--version"]).status !== 0 && "no mkfifo" }, async () => {
    const dir = tempProject();
    const fifo = path.join(dir, "in.fifo");
    assert.equal(spawnSync("mkfifo", [fifo]).status, 0);
    const writer = spawn("sh", ["-c", `cat data/ccr_mock.csv > in.fifo`], { cwd: dir });
    const run = await new Promise<number | null>((resolve) => {
      spawn(process.execPath, ["--import", "tsx", "etl.ts", "--csv", "in.fifo"], { cwd: dir, stdio: "ignore" }).on("exit", resolve);
    });
    writer.kill();
    assert.equal(run, 0);
    assert.deepEqual(artifactsOf(dir), artifactsOf(REPO));
  });
  test("valid UTF-8 that holds U+FFFD is text like any other", () => {
    const dir = tempProject();
    fs.writeFileSync(path.join(dir, "in.csv"), [HEADER + ",note", ...ROWS.map((r, i) => `${r},caf\uFFFD ${i % 3}`)].join("\n") + "\n");
    const run = runEtl(dir, ["--csv", "in.csv", "--features", "all", "--target", "readiness_score"]);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(readJson(dir, "artifacts/transform_artifacts/encoder.json").categories_, [["caf\uFFFD 0", "caf\uFFFD 1", "caf\uFFFD 2"]]);
  });
});

describe("9. categories in Python's order: by code point", () => {
  const { values, sorted, categories_ } = readFixture<{ values: string[]; sorted: string[]; categories_: string[] }>("any_csv/code_point_order.json");
  test("byCodePoint sorts as Python's sorted() and OneHotEncoder's categories_ do", () => {
    assert.deepEqual([...values].sort(byCodePoint), sorted);
    assert.deepEqual(sorted, categories_);
    assert.notDeepEqual([...values].sort(), sorted, "JavaScript's own sort() differs on these values");
  });
  test("encoder.json and the one-hot columns follow that order", () => {
    const dir = tempProject();
    const texts = ["\u{1F600}", "\uFF5E", "a"];
    fs.writeFileSync(path.join(dir, "in.csv"), [HEADER + ",mood", ...ROWS.map((r, i) => `${r},${texts[i % 3]}`)].join("\n") + "\n");
    assert.equal(runEtl(dir, ["--csv", "in.csv", "--features", "all"]).status, 0);
    assert.deepEqual(readJson(dir, "artifacts/transform_artifacts/encoder.json").categories_, [["a", "\uFF5E", "\u{1F600}"]]);
    assert.deepEqual(readJson(dir, "artifacts/transform_artifacts/feature_columns.json").slice(-2), ["mood_\uFF5E", "mood_\u{1F600}"]);
  });
});

describe("10. a long quoted field costs what its length costs", () => {
  test("one 30 MB quoted field: read whole, and parsed about once, not once per chunk", async () => {
    const dir = tempProject();
    const field = "x,\n\"".repeat(10) + "y".repeat(30_000_000);
    const csv = `a,b\n1,"${field.replace(/"/g, '""')}"\n2,3\n`;
    fs.writeFileSync(path.join(dir, "long.csv"), csv);
    const source = await openCsv(path.join(dir, "long.csv"), new Staging(pathsUnder(dir)));
    let parsed = 0;
    const rows: string[][] = [];
    for (const chunk of rowChunks(source, source.start, [source.bytes])) {
      parsed += chunk.parsed;
      rows.push(...chunk.rows);
    }
    assert.deepEqual(rows.map((r) => r.length), [2, 2, 2]);
    assert.equal(rows[1][1], field);
    assert.ok(parsed < 3 * csv.length, `${parsed} characters parsed for a file of ${csv.length}`);
  });
  test("one 8 MB field of many lines, across eight candidate ends: still parsed about once", async () => {
    const dir = tempProject();
    const csv = `a,b\n1,"${"ab,\n".repeat(2_000_000)}z"\n2,3\n`;
    fs.writeFileSync(path.join(dir, "long.csv"), csv);
    const source = await openCsv(path.join(dir, "long.csv"), new Staging(pathsUnder(dir)));
    const ends = [1, 2, 3, 4, 5, 6, 7].map((mb) => csv.indexOf("\n", mb << 20) + 1);
    let parsed = 0;
    const rows: string[][] = [];
    for (const chunk of rowChunks(source, source.start, [...ends, source.bytes])) {
      parsed += chunk.parsed;
      rows.push(...chunk.rows);
    }
    assert.deepEqual(rows.map((r) => r[0]), ["a", "1", "2"]);
    assert.ok(parsed < 3 * csv.length, `${parsed} characters parsed for a file of ${csv.length}`);
  });
  test("a field that opens the first row and spans blocks whose lines look like rows: read", () => {
    // Each 1 MB block starts inside the field, at a line of three fields that parses as a row:
    // the rows of every block are a wrong guess, and no row ends in the first block at all.
    const dir = tempProject();
    const field = "a,b,c\n".repeat(700_000) + "end";
    fs.writeFileSync(path.join(dir, "long.csv"), `x,t,note\n1,2,"${field}"\n3,4,z\n`);
    const run = runEtl(dir, ["--csv", "long.csv", "--features", "x", "--target", "t", "extract"]);
    assert.equal(run.status, 0, run.stderr);
    const raw = readJson(dir, "data/ccr_raw.json");
    assert.deepEqual(raw.data.map((r: unknown[]) => r.slice(0, 2)), [[1, 2], [3, 4]]);
    assert.equal(raw.data[0][2], field);
    // As pandas 1.5 prints the cell in df.head(): breaks escaped, cut to 47 characters and "...".
    assert.match(run.stdout, /^0  1  2  a,b,c\\na,b,c\\na,b,c\\na,b,c\\na,b,c\\na,b,c\\na,b,c\.\.\.$/m);
    assert.ok(run.stdout.length < 2000, `${run.stdout.length} characters printed`);
  });
});

describe("11. messages show what is wrong", () => {
  test("a header name with a space: quoted, with a hint", () => {
    const dir = projectWith("in.csv", " " + shipped);
    expectRefused(dir, ["--csv", "in.csv"], /missing column "gpa"; the file has " gpa", .*; " gpa" differs from "gpa" only by spaces or case$/m);
  });
  test("a feature blank in every train row: named, quoted", () => {
    const rows = ROWS.map((r) => `${r},`);
    const dir = projectWith("in.csv", [`${HEADER},gap year`, ...rows].join("\n") + "\n");
    expectRefused(dir, ["--csv", "in.csv", "--features", "gpa,gap year"], /^error: column "gap year" is blank in every train row, so there is nothing to impute it from; leave it out with --drop 'gap year'$/m);
  });
  test("10,000 columns: the list is cut", () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `c${i}`);
    const dir = projectWith("wide.csv", `${names.join(",")}\n${names.map(() => "1").join(",")}\n`);
    const stderr = expectRefused(dir, ["--csv", "wide.csv", "--target", "c1", "--features", "c2,nope"], /missing column "nope"; the file has "c0", "c1", .* \.\.\. and 9,990 more/);
    assert.ok(stderr.length < 400, `${stderr.length} characters`);
  });
});

