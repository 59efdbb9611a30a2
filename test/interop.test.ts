// Interop: run etl.ts, then ask Debian's NumPy, pandas and scikit-learn about its artifacts
// (test/interop_check.py). Skipped, with one line saying what to install, where they are missing;
// a failure when the CI environment variable is set.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { MT19937 } from "../etl.ts";
import { mockRow } from "../data/generate_mock.ts";
import { PYTHON_MISSING, REPO, referencePython, runEtl, tempProject } from "./helpers.ts";

const python = referencePython();
if (!python && process.env.CI) {
  test("interop: reference libraries", () => assert.fail(`CI is set, and the interop tests ${PYTHON_MISSING}`));
}
const skip = python ? false : `interop tests skipped: ${PYTHON_MISSING}`;

const HEADER = "gpa,attendance_rate,sat_math,sat_ebrw,cte_hours,internship,career_interest_clarity,self_efficacy,readiness_score".split(",");

/** `rows` mock rows drawn with `seed`, as arrays of cells in HEADER order. */
function mockRows(rows: number, seed: number): string[][] {
  const rng = new MT19937(seed);
  return Array.from({ length: rows }, () => mockRow(rng).split(","));
}
const csvText = (header: string[], rows: string[][], newline = "\n") => [header, ...rows].map((r) => r.join(",")).join(newline) + newline;

interface Case {
  name: string;
  csv: () => string | Buffer;
  args?: { seed?: number; testSize?: number; batchSize?: number };
}

const CASES: Case[] = [
  { name: "the shipped CSV, default flags", csv: () => fs.readFileSync(path.join(REPO, "data", "ccr_mock.csv")) },
  { name: "1,000 rows, seed 0, test size 0.33, batch 7", csv: () => csvText(HEADER, mockRows(1000, 1)), args: { seed: 0, testSize: 0.33, batchSize: 7 } },
  { name: "20,000 rows, seed 4294967295, test size 0.1, batch 1000", csv: () => csvText(HEADER, mockRows(20000, 2)), args: { seed: 4294967295, testSize: 0.1, batchSize: 1000 } },
  { name: "7 rows, test size 0.5, batch 1", csv: () => csvText(HEADER, mockRows(7, 3)), args: { seed: 7, testSize: 0.5, batchSize: 1 } },
  { name: "a constant column (internship all 1)", csv: () => csvText(HEADER, mockRows(300, 4).map((r) => r.map((c, j) => (j === 5 ? "1" : c)))), args: { seed: 11 } },
  {
    name: "columns in another order, with an extra text column",
    csv: () => {
      const order = [8, 3, 0, 7, 1, 6, 2, 5, 4];
      const names = ["Ada", "O'Neil, Pat", 'Jo "JJ" Smith', "Zoë", "Li\nWei"];
      const rows = mockRows(250, 5).map((r, i) => [JSON.stringify(names[i % names.length]).replace(/\\"/g, '""').replace(/\\n/g, "\n"), ...order.map((j) => r[j])]);
      return csvText(["name", ...order.map((j) => HEADER[j])], rows);
    },
    args: { seed: 3, testSize: 0.25, batchSize: 16 },
  },
  {
    name: "a UTF-8 BOM, CRLF line ends, quoted numbers and blank trailing lines",
    csv: () => "\uFEFF" + csvText(HEADER, mockRows(120, 6).map((r, i) => (i % 3 ? r : r.map((c) => `"${c}"`))), "\r\n") + "\r\n\r\n",
    args: { seed: 5 },
  },
];

/**
 * One test that runs etl.ts (`run`, which returns the check script's arguments) and then the
 * Python check script, and one test per check the script must report as holding.
 */
function checkedBy(script: string, checks: string[], run: () => string[]): void {
  let results: Record<string, string | null> = {};
  test("etl.ts runs, then Python checks its artifacts", () => {
    const check = spawnSync(python!, [path.join(REPO, "test", script), ...run()], { encoding: "utf8" });
    assert.equal(check.status, 0, check.stderr);
    results = JSON.parse(check.stdout);
  });
  for (const name of checks) {
    test(name, () => {
      assert.ok(name in results, "the check did not run");
      assert.equal(results[name], null);
    });
  }
}

describe("interop with NumPy, pandas and scikit-learn", { skip }, () => {
  for (const c of CASES) {
    describe(c.name, () => {
      const { seed = 42, testSize = 0.2, batchSize = 32 } = c.args ?? {};
      checkedBy("interop_check.py", [
        "np.load reads every .npy as float32, C order, with the split's shapes",
        "pd.read_json(ccr_raw.json, orient='split') equals pd.read_csv of the input",
        "train_test_split with the same seed and test size gives exactly our y_train and y_val",
        "StandardScaler().fit on the train rows gives our mean_, var_ and scale_ to 1e-12 relative",
        "X equals NumPy's (X - mean_.astype(float32)) / scale_.astype(float32) bit for bit (scikit-learn 1.8)",
        "X agrees with the installed scikit-learn's transform to 1e-6 absolute",
        "the loader infos say ceil(n / batch_size) batches and the first batch's shapes",
      ], () => {
        const dir = tempProject();
        const csv = path.join(dir, "input.csv");
        fs.writeFileSync(csv, c.csv());
        const run = runEtl(dir, ["--csv", csv, "--seed", String(seed), "--test-size", String(testSize), "--batch-size", String(batchSize)]);
        assert.equal(run.status, 0, run.stderr);
        return [csv, dir, String(seed), String(testSize), String(batchSize)];
      });
    });
  }
});

describe("interop for any CSV: blanks, an id and text columns, with --features all and apply", { skip }, () => {
  /**
   * Mock rows with an id, a school column (text, some blank), blank numbers, and new rows for
   * apply. `pandasWays`: numbers with spaces around them, and a True/False column, which
   * read_csv reads as numbers and as bool, and X gets as 1.0 and 0.0.
   */
  function messyCsv(rows: number, seed: number, pandasWays = false): string {
    const rng = new MT19937(seed);
    // Two names that sort one way by UTF-16 unit and the other by code point, as Python sorts.
    const schools = ["North", "\u{1F600} East", "\uFF5E West", "South", "Central"];
    const lines = mockRows(rows, seed).map((cells, i) => {
      const blanked = cells.map((cell, j) => (j !== 8 && rng.nextUint32() % 100 < 6 ? "" : cell));
      const padded = pandasWays ? blanked.map((cell) => (cell && rng.nextUint32() % 4 === 0 ? ` ${cell} ` : cell)) : blanked;
      const school = rng.nextUint32() % 100 < 5 ? "" : schools[rng.nextUint32() % (i < rows - 20 ? 4 : 5)]; // "Central" only late
      return [`S${i}`, school, ...padded, ...(pandasWays ? [rng.nextUint32() % 3 ? "True" : "False"] : [])];
    });
    return csvText(["student_id", "school", ...HEADER, ...(pandasWays ? ["mentored"] : [])], lines);
  }
  // 200,000 rows: the medians of 160,000 train rows with blanks, against scikit-learn live.
  const cases = [
    { rows: 200_000, seed: 7, testSize: 0.2, impute: "median", pandasWays: false },
    { rows: 3000, seed: 123, testSize: 0.3, impute: "mean", pandasWays: false },
    { rows: 2000, seed: 31, testSize: 0.2, impute: "median", pandasWays: true },
  ];
  for (const { rows, seed, testSize, impute, pandasWays } of cases) {
    const extra = pandasWays ? ", padded numbers and a True/False feature" : "";
    describe(`${rows.toLocaleString("en-US")} rows, seed ${seed}, test size ${testSize}, --impute ${impute}${extra}`, () => {
      checkedBy("interop_any_csv_check.py", [
        "X_train and X_val equal the imputer + one-hot + scaler reference within 1e-5",
        "feature_columns.json, imputer.json and encoder.json hold the reference's columns, statistics and categories",
        "apply: X_new equals the reference's transform of the new rows within 1e-5",
      ], () => {
        const dir = tempProject();
        const train = path.join(dir, "train.csv");
        const fresh = path.join(dir, "new.csv");
        fs.writeFileSync(train, messyCsv(rows, seed, pandasWays));
        fs.writeFileSync(fresh, messyCsv(400, seed + 1, pandasWays)); // other rows, "Central" among them: unseen if absent from train
        const fit = runEtl(dir, ["--csv", train, "--target", "readiness_score", "--features", "all", "--drop", "student_id",
          "--seed", String(seed), "--test-size", String(testSize), "--impute", impute]);
        assert.equal(fit.status, 0, fit.stderr);
        const applied = runEtl(dir, ["apply", "--csv", fresh]);
        assert.equal(applied.status, 0, applied.stderr);
        return [train, fresh, dir, "readiness_score", "student_id", String(seed), String(testSize), impute];
      });
    });
  }
});
