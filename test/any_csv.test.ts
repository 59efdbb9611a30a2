// Any CSV: --target, --features all, --drop, --impute, one-hot text columns, `apply` and the
// manifest, against what pandas + scikit-learn made of the same files (test/fixtures/any_csv).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { before, describe, test } from "node:test";
import { MT19937, columnMeans, columnMedians, encodeFeatures, encodedColumns, median, readNpy, trainTestSplit } from "../etl.ts";
import type { Table } from "../etl.ts";
import { FIXTURES, readFixture, runEtl, snapshot, tempProject } from "./helpers.ts";

const FIT = ["--target", "score", "--features", "all", "--drop", "student_id", "--seed", "7"];
const fixture = (name: string) => path.join(FIXTURES, "any_csv", name);
const artifact = (dir: string, name: string) => path.join(dir, "artifacts", "transform_artifacts", name);
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));

function assertArrayClose(file: string, expectedFile: string, tolerance = 1e-5) {
  const actual = readNpy(file);
  const expected = readNpy(expectedFile);
  assert.deepEqual(actual.shape, expected.shape, path.basename(file));
  for (let i = 0; i < expected.data.length; i++) {
    assert.ok(Math.abs(actual.data[i] - expected.data[i]) <= tolerance, `${path.basename(file)}[${i}]: ${actual.data[i]} vs ${expected.data[i]}`);
  }
}

for (const impute of ["median", "mean"] as const) {
  describe(`--features all --drop student_id --impute ${impute}: blanks imputed and text one-hot, as scikit-learn does`, () => {
    const reference = readFixture<{ columns: string[]; statistics: number[]; categories: Record<string, string[]> }>(`any_csv/${impute}.json`);
    let dir: string;
    before(() => {
      dir = tempProject();
      const run = runEtl(dir, ["--csv", fixture("train.csv"), ...FIT, "--impute", impute]);
      assert.equal(run.status, 0, run.stderr);
    });
    test("X_train and X_val equal the ColumnTransformer + StandardScaler reference within 1e-5; y exactly", () => {
      for (const name of ["X_train", "X_val"]) assertArrayClose(artifact(dir, `${name}.npy`), fixture(`${impute}_${name}.npy`));
      for (const name of ["y_train", "y_val"]) assertArrayClose(artifact(dir, `${name}.npy`), fixture(`${impute}_${name}.npy`), 0);
    });
    test("feature_columns.json: numeric features in CSV order, then <column>_<value> per text column", () => {
      assert.deepEqual(readJson(artifact(dir, "feature_columns.json")), reference.columns);
      assert.deepEqual(readJson(artifact(dir, "scaler.json")).feature_names_in_, reference.columns);
    });
    test("imputer.json and encoder.json hold SimpleImputer's statistics_ and OneHotEncoder's categories_", () => {
      const imputer = readJson(artifact(dir, "imputer.json"));
      assert.equal(imputer.strategy, impute);
      assert.deepEqual(imputer.feature_names_in_, ["gpa", "hours", "absences"]);
      // As SimpleImputer takes them of the float32 array: the median in float32, the mean summed in float32.
      assert.deepEqual(imputer.statistics_, reference.statistics);
      const encoder = readJson(artifact(dir, "encoder.json"));
      assert.deepEqual(encoder.feature_names_in_, Object.keys(reference.categories));
      assert.deepEqual(encoder.categories_, Object.values(reference.categories));
      assert.equal(encoder.drop, "first");
    });
    test("apply: new rows (another column order, an extra column, blanks, an unseen category) as the reference transforms them", () => {
      const run = runEtl(dir, ["apply", "--csv", fixture("new.csv"), "--target", "score"]);
      assert.equal(run.status, 0, run.stderr);
      assertArrayClose(path.join(dir, "artifacts/inference_artifacts/X_new.npy"), fixture(`${impute}_X_new.npy`));
      assert.ok(!fs.existsSync(path.join(dir, "artifacts/inference_artifacts/y_new.npy")), "new.csv has no target: no y_new.npy");
    });
  });
}

describe("apply", () => {
  test("writes y_new.npy when the target column is present, and rejects a missing feature column by name", () => {
    const dir = tempProject();
    assert.equal(runEtl(dir, ["--csv", fixture("train.csv"), ...FIT]).status, 0);
    const withTarget = path.join(dir, "with_target.csv");
    fs.copyFileSync(fixture("train.csv"), withTarget);
    assert.equal(runEtl(dir, ["apply", "--csv", withTarget, "--target", "score"]).status, 0);
    assert.deepEqual(readNpy(path.join(dir, "artifacts/inference_artifacts/y_new.npy")).shape, [300]);
    const d = readFixture<{ columns: string[] }>("any_csv/median.json").columns.length; // school_nan among them
    assert.deepEqual(readNpy(path.join(dir, "artifacts/inference_artifacts/X_new.npy")).shape, [300, d]);
    // New rows without the target: the y_new.npy of the run before goes, it is not theirs.
    assert.equal(runEtl(dir, ["apply", "--csv", fixture("new.csv"), "--target", "score"]).status, 0);
    assert.ok(!fs.existsSync(path.join(dir, "artifacts/inference_artifacts/y_new.npy")));
    const manifest = readJson(path.join(dir, "artifacts/manifest.json"));
    assert.deepEqual(manifest.apply.artifacts.map((e: { path: string }) => e.path), ["artifacts/inference_artifacts/X_new.npy"]);

    const lines = fs.readFileSync(fixture("new.csv"), "utf8").trimEnd().split("\n").map((l) => l.split(","));
    const school = lines[0].indexOf("school");
    const missing = path.join(dir, "missing.csv");
    fs.writeFileSync(missing, lines.map((cells) => cells.filter((_, j) => j !== school).join(",")).join("\n") + "\n");
    const before = snapshot(dir);
    const run = runEtl(dir, ["apply", "--csv", missing]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /^error: missing\.csv line 1 \(header\): missing feature column "school", which the fitted transform needs; the file has "track", "gpa", "student_id", "absences", "hours", "note"\n$/);
    assert.deepEqual(snapshot(dir), before);
  });
  test("without a fitted transform it says which command makes one", () => {
    const dir = tempProject();
    const run = runEtl(dir, ["apply", "--csv", fixture("new.csv")]);
    assert.equal(run.status, 1);
    assert.equal(run.stderr, "error: Missing artifacts/transform_artifacts/scaler.json: run npx tsx etl.ts transform\n");
  });
});

describe("artifacts/manifest.json", () => {
  const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
  test("pins the input and every artifact by sha256, with no absolute path, the same on every run", () => {
    const dir = tempProject();
    assert.equal(runEtl(dir, ["--csv", "data/ccr_mock.csv"]).status, 0);
    const text = fs.readFileSync(path.join(dir, "artifacts/manifest.json"), "utf8");
    const manifest = JSON.parse(text);
    assert.doesNotMatch(text, new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
    assert.doesNotMatch(text, /"\//, "no absolute path");
    assert.deepEqual(manifest.input, { path: "data/ccr_mock.csv", sha256: sha256(path.join(dir, "data/ccr_mock.csv")), bytes: fs.statSync(path.join(dir, "data/ccr_mock.csv")).size, rows: 200 });
    assert.equal(manifest.config.seed, 42);
    assert.deepEqual(manifest.config.features.length, 8);
    assert.equal(manifest.artifacts.length, 11);
    for (const entry of manifest.artifacts) {
      assert.equal(entry.sha256, sha256(path.join(dir, entry.path)), entry.path);
      assert.equal(entry.bytes, fs.statSync(path.join(dir, entry.path)).size);
      if (entry.path.endsWith(".npy")) assert.deepEqual([entry.dtype, entry.shape], ["float32", readNpy(path.join(dir, entry.path)).shape]);
    }
    assert.equal(runEtl(dir, ["--csv", "data/ccr_mock.csv"]).status, 0);
    assert.equal(fs.readFileSync(path.join(dir, "artifacts/manifest.json"), "utf8"), text);
    // One step alone still describes every artifact, the ones it did not write read back from disk.
    assert.equal(runEtl(dir, ["load", "--batch-size", "10"]).status, 0);
    const after = readJson(path.join(dir, "artifacts/manifest.json"));
    assert.deepEqual(after.input, manifest.input);
    assert.equal(after.config.batchSize, 10);
    for (const entry of after.artifacts) assert.equal(entry.sha256, sha256(path.join(dir, entry.path)), entry.path);
  });
  test("apply adds its input and outputs under `apply` and leaves the fit's entries as they are", () => {
    const dir = tempProject();
    assert.equal(runEtl(dir, ["--csv", fixture("train.csv"), ...FIT]).status, 0);
    const fit = readJson(path.join(dir, "artifacts/manifest.json"));
    assert.deepEqual(fit.config.features, ["gpa", "school", "hours", "track", "absences"], "'all' resolved to the columns it meant");
    assert.equal(runEtl(dir, ["apply", "--csv", fixture("new.csv")]).status, 0);
    const applied = readJson(path.join(dir, "artifacts/manifest.json"));
    assert.deepEqual({ ...applied, apply: undefined }, { ...fit, apply: undefined });
    assert.equal(applied.apply.input.sha256, sha256(fixture("new.csv")));
    assert.equal(applied.apply.input.rows, 25);
    assert.deepEqual(applied.apply.artifacts.map((e: { path: string }) => e.path), ["artifacts/inference_artifacts/X_new.npy"]);
    assert.equal(applied.apply.artifacts[0].sha256, sha256(path.join(dir, "artifacts/inference_artifacts/X_new.npy")));
  });
});

describe("the target and the column kinds", () => {
  const header = "id,gpa,school,score";
  const rows = Array.from({ length: 30 }, (_, i) => `${i},${(2 + (i % 20) / 10).toFixed(2)},${["A", "B", "C"][i % 3]},${50 + i}`);
  const run = (lines: string[], args: string[] = []) => {
    const dir = tempProject();
    const csv = path.join(dir, "in.csv");
    fs.writeFileSync(csv, [header, ...lines].join("\n") + "\n");
    const features = args.includes("--features") ? [] : ["--features", "all", "--drop", "id"];
    return runEtl(dir, ["--csv", csv, "--target", "score", ...features, ...args]);
  };
  test("a blank target is an error naming every such line", () => {
    const lines = rows.map((r, i) => (i === 4 || i === 9 ? r.replace(/,\d+$/, ",") : r));
    const result = run(lines);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^error: in\.csv lines 6, 11: column "score", the target, is blank or missing; every row needs a target value\n$/);
  });
  test("a text target is an error naming the line", () => {
    const result = run(rows.map((r, i) => (i === 7 ? r.replace(/,\d+$/, ",high") : r)));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^error: in\.csv line 9: column "score" is "high", not a finite number \(29 of its cells are numbers and 1 text\); the target must be a number\n$/);
  });
  test("a feature column that mixes numbers and text is an error naming the first text cell", () => {
    const result = run(rows.map((r, i) => (i === 12 ? r.replace(/^(\d+),[^,]*/, "$1,3.x") : r)));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^error: in\.csv line 14: column "gpa" is "3\.x", not a finite number \(29 of its cells are numbers and 1 text\); the column's other cells are numbers\n$/);
  });
  test("a text feature blank in every train row is an error naming it (nothing for OneHotEncoder to learn)", async () => {
    // Text in the validation rows only: the first 6 of RandomState(42).permutation(30), which
    // trainTestSplit replays (test/random.test.ts checks it against NumPy's).
    const { test: validation } = trainTestSplit(30, 0.2, 42);
    const lines = rows.map((r, i) => `${r},${validation.includes(i) ? "late" : ""}`);
    const dir = tempProject();
    fs.writeFileSync(path.join(dir, "in.csv"), [`${header},note`, ...lines].join("\n") + "\n");
    const before = snapshot(dir);
    const result = runEtl(dir, ["--csv", "in.csv", "--target", "score", "--features", "gpa,note,school"]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^error: column "note" is blank in every train row, so there is no category to learn; leave it out with --drop note\n$/);
    assert.deepEqual(snapshot(dir), before);
  });
  test("X's columns are where encodedColumns() names them, even after a text feature with no category", () => {
    // As a hand-edited encoder.json could have it for apply: "a" has no category, "b" three.
    const table: Table = { columns: ["a", "b", "y"], nRows: 3, kept: ["a", "b", "y"], text: [["x"], ["p", "q", "r"]], missing: 0, blocks: [] };
    const raw = Float32Array.from([0, 0, 0, 1, 0, 2]); // (3, 2): b is p, q, r
    const imputer = { strategy: "median" as const, feature_names_in_: [], statistics_: [] };
    const encoder = { feature_names_in_: ["a", "b"], categories_: [[], ["p", "q", "r"]] };
    assert.deepEqual(encodedColumns(imputer, encoder), ["b_q", "b_r"]);
    assert.deepEqual([...encodeFeatures(table, raw, imputer, encoder)], [0, 0, 1, 0, 0, 1]);
  });
  test("--impute takes median or mean, --features needs names", () => {
    assert.equal(run(rows, ["--impute", "mode"]).status, 2);
    assert.equal(run(rows, ["--features", "gpa,,school"]).status, 2);
    const unknown = run(rows, ["--features", "gpa,schol"]);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /missing column "schol"; the file has "id", "gpa", "school", "score"/);
  });
});

describe("columnMedians and columnMeans", () => {
  for (const { values, median: expected, mean } of readFixture<{ values: number[]; median: number; mean: number }[]>("any_csv/medians.json")) {
    test(`median and mean of ${values.length} float32 values equal np.median and np.mean`, () => {
      const ours = median(Float32Array.from(values));
      assert.ok(ours === expected, `${ours} vs ${expected}`); // ===, since NumPy's median of [-0] is 0
      const [ourMean] = columnMeans(Float32Array.from(values), 1, [0]);
      assert.ok(Math.abs(ourMean - mean) <= 1e-12 * Math.max(1, Math.abs(mean)));
    });
  }
  test("several strided columns with missing values: each column's median of its present values", () => {
    const rng = new MT19937(5);
    const n = 300_001;
    const width = 5;
    const rows = new Float32Array(n * width);
    for (let i = 0; i < rows.length; i++) {
      rows[i] = rng.nextUint32() % 10 === 0 ? NaN : ((rng.nextUint32() % 100_000) / 100 - 300) * (i % width === 3 ? 1e-30 : 1);
    }
    const columns = [4, 0, 3, 1];
    const medians = columnMedians(rows, width, columns);
    columns.forEach((k, c) => {
      const present = Float32Array.from({ length: n }, (_, i) => rows[i * width + k]).filter((v) => v === v).sort();
      const m = present.length;
      const middle = Math.fround(Math.fround(present[(m - 1) >> 1] + present[m >> 1]) / 2); // NumPy's, in float32
      assert.equal(medians[c], middle, `column ${k}`);
    });
    assert.deepEqual(columnMedians(Float32Array.of(NaN, 1, NaN, 2), 2, [0, 1]), [NaN, 1.5]);
  });
});
