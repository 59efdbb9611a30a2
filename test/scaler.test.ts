// StandardScaler fit and transform against scikit-learn (test/fixtures/scaler.json).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MT19937, columnMeansAndStds, fitStandardScaler, standardize } from "../etl.ts";
import { readFixture } from "./helpers.ts";

interface ScalerCase {
  name: string;
  n: number;
  d: number;
  X: number[];
  mean_: number[];
  var_: number[];
  scale_: number[];
  n_samples_seen_: number;
  scaled_sklearn18: number[];
  scaled_sklearn_installed: number[];
}
const { cases } = readFixture<{ cases: ScalerCase[] }>("scaler.json");

function assertClose(actual: ArrayLike<number>, expected: number[], relative: number, what: string) {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) {
    const tolerance = relative * Math.abs(expected[i]);
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

describe("fitStandardScaler matches StandardScaler().fit", () => {
  for (const c of cases) {
    test(`${c.name}: mean_, var_, scale_ to 1e-12 relative, constant columns scale 1`, () => {
      const scaler = fitStandardScaler(Float32Array.from(c.X), c.d);
      assertClose(scaler.mean_, c.mean_, 1e-12, "mean_");
      assertClose(scaler.var_, c.var_, 1e-12, "var_");
      assertClose(scaler.scale_, c.scale_, 1e-12, "scale_");
      assert.equal(scaler.n_samples_seen_, c.n_samples_seen_);
    });
  }
  test("the fixtures include constant columns, whose scale_ is exactly 1", () => {
    const constant = cases.filter((c) => c.d >= 3);
    assert.ok(constant.length > 0);
    for (const c of constant) assert.equal(c.scale_[1], 1);
  });
});

describe("standardize matches scikit-learn 1.8's float32 transform bit for bit", () => {
  for (const c of cases) {
    test(`${c.name}`, () => {
      const X = Float32Array.from(c.X);
      standardize(X, fitStandardScaler(X, c.d));
      assert.deepEqual([...X], c.scaled_sklearn18);
    });
  }
  // Older scikit-learn (Debian's 1.2) subtracts the float64 mean: the two differ by at most the
  // float32 rounding of x and of the mean, divided by scale_ (1e-6 on ordinary data, more on
  // these fixtures' columns whose spread is tiny next to their mean).
  test("and the installed scikit-learn's float64-rounded transform, to float32 resolution", () => {
    const ulp32 = (x: number) => 2 ** (Math.floor(Math.log2(Math.max(Math.abs(x), 2 ** -126))) - 23);
    for (const c of cases) {
      const X = Float32Array.from(c.X);
      standardize(X, fitStandardScaler(X, c.d));
      for (let i = 0; i < X.length; i++) {
        const j = i % c.d;
        const bound = (ulp32(c.X[i]) + ulp32(c.mean_[j])) / c.scale_[j] + 1e-6 * Math.max(1, Math.abs(X[i]));
        assert.ok(Math.abs(X[i] - c.scaled_sklearn_installed[i]) <= bound, `${c.name}[${i}]: ${X[i]} vs ${c.scaled_sklearn_installed[i]}`);
      }
    }
  });
});

// The printed check after scaling: each column's mean and std, in one pass over X_train.
describe("the printed check (columnMeansAndStds)", () => {
  const [n, d] = [200_001, 3];
  const rng = new MT19937(9);
  const X = new Float32Array(n * d);
  for (let i = 0; i < X.length; i++) X[i] = (rng.nextUint32() % 1_000_000) / 997 - (i % d) * 50;
  standardize(X, fitStandardScaler(X, d));

  test("agrees with a two-pass mean and std to 1e-12, and says 0 and 1 after scaling", () => {
    const after = columnMeansAndStds(X, d);
    for (let j = 0; j < d; j++) {
      let sum = 0;
      for (let i = j; i < X.length; i += d) sum += X[i];
      const mean = sum / n;
      let squares = 0;
      for (let i = j; i < X.length; i += d) squares += (X[i] - mean) ** 2;
      const std = Math.sqrt(squares / n);
      assert.ok(Math.abs(after.mean[j] - mean) < 1e-12, `mean ${j}: ${after.mean[j]} vs ${mean}`);
      assert.ok(Math.abs(after.std[j] - std) < 1e-12, `std ${j}: ${after.std[j]} vs ${std}`);
      assert.ok(Math.abs(after.mean[j]) < 1e-6 && Math.abs(after.std[j] - 1) < 1e-6, "0 and 1");
    }
  });
  test("a column left unscaled shows: its mean is not 0", () => {
    const raw = Float32Array.from({ length: 3 * d }, (_, i) => i);
    assert.ok(Math.abs(columnMeansAndStds(raw, d).mean[2] - 5) < 1e-12);
  });
});
