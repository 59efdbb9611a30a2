// The README's code, run exactly as printed: the Python that rebuilds the fitted state from the
// JSON artifacts, and the TypeScript training loop over batches(); their results are compared
// with the artifacts etl.ts wrote.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { readArrays, readNpy } from "../etl.ts";
import { FIXTURES, PYTHON_MISSING, REPO, referencePython, runEtl, tempProject } from "./helpers.ts";

/** The fenced code block of README.md whose info string is `info` (```python scaler, say). */
function readmeBlock(info: string): string {
  const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)].filter((m) => m[1].trim() === info);
  assert.equal(blocks.length, 1, `one block of ${info} in README.md`);
  return blocks[0][2];
}

const python = referencePython();
if (!python && process.env.CI) test("README's Python: reference libraries", () => assert.fail(`CI is set, and the README tests ${PYTHON_MISSING}`));

/** Runs `code` with python in `dir`; fails the test with Python's own error. */
function runPython(dir: string, code: string): string {
  const run = spawnSync(python!, ["-c", code], { cwd: dir, encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout;
}

describe("the README's Python, as printed", { skip: python ? false : PYTHON_MISSING }, () => {
  test("on the shipped data: scaler.json's StandardScaler and etl_transform() give X_val.npy", () => {
    const dir = tempProject();
    assert.equal(runEtl(dir).status, 0);
    // The transform block asserts X_val bit for bit itself; the scaler is checked on its features.
    runPython(dir, readmeBlock("python transform"));
    const out = runPython(dir, readmeBlock("python scaler") + `
features = json.load(open("artifacts/transform_artifacts/feature_columns.json"))
import pandas as pd
from sklearn.model_selection import train_test_split
train, val = train_test_split(pd.read_csv("data/ccr_mock.csv"), test_size=0.2, random_state=42)
X_val = np.load("artifacts/transform_artifacts/X_val.npy")
print(abs(scaler.transform(val[features].to_numpy(np.float32)) - X_val).max())
print(abs(scaler.transform(val[features].to_numpy(np.float64)) - X_val).max())
`);
    const [float32Error, float64Error] = out.trim().split("\n").map(Number);
    assert.ok(float32Error <= 1e-6, `float32 input: ${float32Error}`);
    assert.ok(float64Error > float32Error, "float64 input misses by more, as the README says");
  });

  test("on a CSV with an id, blanks and text: X_val.npy, and X_new.npy for new rows through apply", () => {
    const dir = tempProject();
    const fit = runEtl(dir, ["--csv", path.join(FIXTURES, "any_csv", "train.csv"), "--target", "score", "--features", "all", "--drop", "student_id", "--seed", "7"]);
    assert.equal(fit.status, 0, fit.stderr);
    const fresh = path.join(FIXTURES, "any_csv", "new.csv");
    assert.equal(runEtl(dir, ["apply", "--csv", fresh]).status, 0);
    runPython(dir, readmeBlock("python transform") + `
X_new = np.load("artifacts/inference_artifacts/X_new.npy")
assert (etl_transform(read_csv(${JSON.stringify(fresh)})) == X_new).all(), "X_new differs"
assert X_new.shape[1] > len(json.load(open("artifacts/transform_artifacts/imputer.json"))["feature_names_in_"]), "no one-hot columns"
`);
  });
});

describe("the README's training loop, as printed", () => {
  test("learns: its validation error ends within 5% of least squares' on the same arrays", () => {
    const dir = tempProject();
    assert.equal(runEtl(dir).status, 0);
    fs.writeFileSync(path.join(dir, "train.ts"), readmeBlock("ts train"));
    assert.ok(readmeBlock("ts train").trim().split("\n").length <= 30, "30 lines at most");
    const run = spawnSync(process.execPath, ["--import", "tsx", "train.ts"], { cwd: dir, encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const errors = [...run.stdout.matchAll(/^epoch (\d+): validation MSE ([\d.]+)$/gm)].map((m) => Number(m[2]));
    assert.equal(errors.length, 30, run.stdout);
    const { xTrain, yTrain, xVal, yVal, nFeatures: d } = readArrays(path.join(dir, "artifacts", "transform_artifacts"));
    const best = leastSquaresValidationError(xTrain, yTrain, xVal, yVal, d);
    const variance = yVal.reduce((s, v) => s + v * v, 0) / yVal.length - (yVal.reduce((s, v) => s + v, 0) / yVal.length) ** 2;
    assert.ok(errors[0] > errors[29], `${errors[0]} -> ${errors[29]}`);
    assert.ok(Math.abs(errors[29] - best) <= 0.05 * best, `SGD ${errors[29]} vs least squares ${best}`);
    assert.ok(best < variance / 2, "the model explains the target: least squares is better than the mean");
  });
});

/** The validation MSE of y ~ X w + b fitted by least squares on the train rows (normal equations). */
function leastSquaresValidationError(X: Float32Array, y: Float32Array, Xv: Float32Array, yv: Float32Array, d: number): number {
  const k = d + 1;
  const A = Array.from({ length: k }, () => new Float64Array(k + 1)); // [X 1]^T [X 1] | [X 1]^T y
  for (let i = 0; i < y.length; i++) {
    const row = [...X.subarray(i * d, i * d + d), 1];
    for (let r = 0; r < k; r++) {
      for (let c = 0; c < k; c++) A[r][c] += row[r] * row[c];
      A[r][k] += row[r] * y[i];
    }
  }
  for (let p = 0; p < k; p++) { // Gauss-Jordan elimination with partial pivoting
    const pivot = A.slice(p).reduce((best, row, i) => (Math.abs(row[p]) > Math.abs(A[best][p]) ? p + i : best), p);
    [A[p], A[pivot]] = [A[pivot], A[p]];
    for (let r = 0; r < k; r++) {
      if (r === p) continue;
      const f = A[r][p] / A[p][p];
      for (let c = p; c <= k; c++) A[r][c] -= f * A[p][c];
    }
  }
  const coef = A.map((row, r) => row[k] / row[r]);
  let squares = 0;
  for (let i = 0; i < yv.length; i++) {
    let p = coef[d];
    for (let j = 0; j < d; j++) p += coef[j] * Xv[i * d + j];
    squares += (p - yv[i]) ** 2;
  }
  return squares / yv.length;
}

describe("the README's own-CSV commands, as printed", () => {
  test("the id column refused with its remedy; with --drop, a run into runs/housing; apply on the new rows", () => {
    const dir = tempProject();
    for (const file of ["housing.csv", "housing_new.csv"]) fs.copyFileSync(path.join(REPO, "data", file), path.join(dir, "data", file));
    const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
    const own = readme.split("## Your own CSV")[1].split("\n## ")[0];
    const commands = [...own.matchAll(/^npx tsx etl\.ts (.*?)(?:\s+#.*)?$/gm)].map((m) => m[1].split(/\s+/));
    assert.equal(commands.length, 3, "three commands");
    const [refused, fit, apply] = commands.map((args) => runEtl(dir, args));
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /column "house_id" has 300 distinct values in 300 cells, .*--drop house_id/);
    assert.equal(fit.status, 0, fit.stderr);
    assert.match(fit.stdout, /Wrote 12 files under runs\/housing\/: /);
    assert.equal(apply.status, 0, apply.stderr);
    assert.deepEqual(readNpy(path.join(dir, "runs/housing/artifacts/inference_artifacts/X_new.npy")).shape, [20, 8]);
  });
});

const torch = python && spawnSync(python, ["-c", "import torch"]).status === 0;
describe("the README's PyTorch block, as printed", { skip: torch ? false : "needs python3-torch" }, () => {
  test("the train loader's first batch: (32, 8) and (32, 1)", () => {
    const dir = tempProject();
    assert.equal(runEtl(dir).status, 0);
    assert.equal(runPython(dir, readmeBlock("python torch")).trim(), "torch.Size([32, 8]) torch.Size([32, 1])");
  });
});
