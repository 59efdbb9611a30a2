// The Load step's batches: a DataLoader with drop_last=False, train shuffled per epoch.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CONFIG, batches, loaderInfo } from "../etl.ts";

const n = 103;
const d = 3;
const X = Float32Array.from({ length: n * d }, (_, k) => Math.floor(k / d) * 10 + (k % d)); // row i: i*10, i*10+1, ...
const y = Float32Array.from({ length: n }, (_, i) => i);
const options = { batchSize: 16, shuffle: true, seed: 42, epoch: 0 };
const rowsOf = (opts: typeof options) => [...batches(X, y, opts)].flatMap((b) => [...b.y]);

describe("batches", () => {
  test("every row exactly once per epoch, sizes 16 x 6 then a short batch of 7", () => {
    const all = [...batches(X, y, options)];
    assert.deepEqual(all.map((b) => b.y.length), [16, 16, 16, 16, 16, 16, 7]);
    assert.deepEqual(all.map((b) => b.x.length), all.map((b) => b.y.length * d));
    assert.deepEqual([...rowsOf(options)].sort((a, b) => a - b), [...y]);
  });
  test("x rows travel with their y", () => {
    for (const batch of batches(X, y, options)) {
      for (let i = 0; i < batch.y.length; i++) {
        assert.deepEqual([...batch.x.subarray(i * d, i * d + d)], [0, 1, 2].map((k) => batch.y[i] * 10 + k));
      }
    }
  });
  test("the same seed and epoch give the same order; another epoch or seed another", () => {
    const first = rowsOf(options);
    assert.deepEqual(rowsOf({ ...options }), first);
    assert.notDeepEqual(rowsOf({ ...options, epoch: 1 }), first);
    assert.notDeepEqual(rowsOf({ ...options, seed: 43 }), first);
    assert.notDeepEqual(first, [...y]);
  });
  test("unshuffled (validation) keeps file order and yields views, not copies", () => {
    const plain = { ...options, shuffle: false };
    assert.deepEqual(rowsOf(plain), [...y]);
    assert.deepEqual(rowsOf({ ...plain, epoch: 5 }), [...y]);
    const first = batches(X, y, plain).next().value!;
    assert.equal(first.x.buffer, X.buffer);
  });
  test("loaderInfo counts batches as ceil(n / batch_size) and shapes the first batch", () => {
    const info = loaderInfo(X, y, options);
    assert.equal(info.num_batches, 7);
    assert.deepEqual(info.example_batch_X_shape, [16, 3]);
    assert.deepEqual(info.example_batch_y_shape, [16, 1]);
    assert.equal(info.shuffle_train, true);
    assert.equal(info.num_samples, n);
    const small = loaderInfo(X, y, { ...options, batchSize: 500, shuffle: false });
    assert.deepEqual([small.num_batches, ...small.example_batch_X_shape], [1, n, 3]);
  });
  test("options left out: CONFIG's batch size and seed, file order, epoch 0", () => {
    assert.deepEqual([...batches(X, y)].map((b) => b.y.length), [CONFIG.batchSize, CONFIG.batchSize, CONFIG.batchSize, n - 3 * CONFIG.batchSize]);
    assert.deepEqual(rowsOf({ batchSize: 16 } as typeof options), [...y]);
    assert.deepEqual([...batches(X, y, { batchSize: 16, shuffle: true })].flatMap((b) => [...b.y]), rowsOf({ ...options, seed: CONFIG.seed, epoch: 0 }));
  });
});
