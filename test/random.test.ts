// MT19937, permutation and train_test_split against what NumPy 1.24 and scikit-learn wrote
// (test/fixtures/random.json, made by generate_fixtures.py).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import {
  EtlError, MT19937, epochOrder, permutation, trainTestSplit,
} from "../etl.ts";
import { readFixture } from "./helpers.ts";

interface RandomFixture {
  words: Record<string, number[]>;
  permutations: { n: number; seed: number; permutation: number[] }[];
  big_permutations: { n: number; seed: number; sha256_u32le: string }[];
  array_seeded: { seed: number; epoch: number; n: number; permutation: number[] }[];
  splits: { n: number; test_size: number; seed: number; train: number[]; test: number[] }[];
}
const fixture = readFixture<RandomFixture>("random.json");

describe("MT19937 matches np.random.RandomState", () => {
  for (const [seed, words] of Object.entries(fixture.words)) {
    test(`the first ${words.length} 32-bit words for seed ${seed} (past one twist of 624)`, () => {
      const rng = new MT19937(Number(seed));
      assert.deepEqual(words.map(() => rng.nextUint32()), words);
    });
  }
});

describe("permutation matches RandomState(seed).permutation(n)", () => {
  for (const { n, seed, permutation: expected } of fixture.permutations) {
    test(`n=${n} seed=${seed}`, () => {
      assert.deepEqual([...permutation(n, new MT19937(seed))], expected);
    });
  }
  for (const { n, seed, sha256_u32le } of fixture.big_permutations) {
    test(`n=${n} seed=${seed}, compared by sha256 of the uint32 indices`, () => {
      const order = permutation(n, new MT19937(seed));
      assert.equal(createHash("sha256").update(order).digest("hex"), sha256_u32le);
    });
  }
});

describe("epoch orders match RandomState([seed, epoch]).permutation(n)", () => {
  for (const { seed, epoch, n, permutation: expected } of fixture.array_seeded) {
    test(`seed=${seed} epoch=${epoch}`, () => {
      const order = epochOrder(n, { shuffle: true, seed, epoch, batchSize: 32 });
      assert.deepEqual([...order!], expected);
    });
  }
});

describe("trainTestSplit matches sklearn's train_test_split indices", () => {
  for (const { n, test_size, seed, train, test: testRows } of fixture.splits) {
    test(`n=${n} test_size=${test_size} seed=${seed}`, () => {
      const split = trainTestSplit(n, test_size, seed);
      assert.deepEqual([...split.train], train);
      assert.deepEqual([...split.test], testRows);
    });
  }
  test("an empty train set is an error that says how many rows there are", () => {
    assert.throws(() => trainTestSplit(4, 0.8, 42), (err: unknown) => {
      assert.ok(err instanceof EtlError);
      assert.match(err.message, /4 rows .*--test-size 0\.8.*= 4 .*train would be empty/);
      return true;
    });
    assert.throws(() => trainTestSplit(1, 0.2, 42), EtlError);
  });
});
