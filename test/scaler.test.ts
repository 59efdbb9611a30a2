// StandardScaler fit and transform against scikit-learn (test/fixtures/scaler.json).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  MT19937, columnMeansAndStds, fitStandardScaler, scalerTransform, standardize,
} from "../etl.ts";
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

// A big X is shared out with the helper thread: pieces of its rows are scaled there, and their
// part of the printed check measured there. Both must give what one thread gives, to the bit.
describe("a big X on both threads", () => {
  const [n, d] = [200_001, 3]; // an odd count: the halves differ by a row
  const rng = new MT19937(9);
  const big = new Float32Array(new SharedArrayBuffer(4 * n * d)); // shared, as transform makes X
  for (let i = 0; i < big.length; i++) big[i] = (rng.nextUint32() % 1_000_000) / 997 - (i % d) * 50;
  const scaler = fitStandardScaler(big, d);

  test("scalerTransform: the same bytes as standardize() on one thread", async () => {
    const alone = Float32Array.from(big); // not shared: one thread
    standardize(alone, scaler);
    const shared = new Float32Array(new SharedArrayBuffer(big.byteLength));
    shared.set(big);
    await scalerTransform(shared, scaler);
    assert.deepEqual(Buffer.from(shared.buffer), Buffer.from(alone.buffer));
  });
  test("the printed check: the same figures from both threads as from one, and as one pass gives", async () => {
    const alone = Float32Array.from(big); // not shared: one thread
    const afterAlone = await scalerTransform(alone, scaler);
    const shared = new Float32Array(new SharedArrayBuffer(big.byteLength));
    shared.set(big);
    const after = await scalerTransform(shared, scaler);
    assert.deepEqual(after, afterAlone); // the pieces' sums added in piece order, whoever made them
    const onePass = columnMeansAndStds(alone, d); // the simple version
    for (let j = 0; j < d; j++) {
      assert.ok(Math.abs(after.mean[j] - onePass.mean[j]) < 1e-12, `mean ${j}`);
      assert.ok(Math.abs(after.std[j] - onePass.std[j]) < 1e-12, `std ${j}`);
      assert.ok(Math.abs(after.mean[j]) < 1e-6 && Math.abs(after.std[j] - 1) < 1e-6, "0 and 1");
    }
  });
});
