// Seeded mutations of the shipped CSV: every run either succeeds with finite arrays whose shapes
// agree, or fails with one `error:` line and leaves the previous artifacts byte-identical.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { MT19937, main, pathsUnder, readNpy } from "../etl.ts";
import { REPO, assertManifestDescribesFiles, snapshot, tempDir } from "./helpers.ts";

const MUTATIONS = 400;
// Cells pandas reads as numbers that float32 cannot hold, and some it can, just.
const EDGE_VALUES = ["nan", "inf", "1e999", "", "NA", "-", "3.5e38", "-1e39", "3.4028235e38", "3.4028234e38", "1e-50", "-0", "+Infinity"];
const original = fs.readFileSync(path.join(REPO, "data", "ccr_mock.csv"));

function mutate(rng: MT19937, input: Buffer): Buffer {
  let bytes = Buffer.from(input);
  const at = () => rng.nextUint32() % (bytes.length + 1);
  const lines = () => bytes.toString("latin1").split("\n");
  const edits = 1 + (rng.nextUint32() % 3);
  for (let e = 0; e < edits; e++) {
    const i = at();
    switch (rng.nextUint32() % 8) {
      case 0: // flip a byte
        if (bytes.length > 0) bytes[i % bytes.length] = rng.nextUint32() & 0xff;
        break;
      case 1: // delete a run of bytes
        bytes = Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1 + (rng.nextUint32() % 40))]);
        break;
      case 2: // insert random bytes
        bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from(Array.from({ length: 1 + (rng.nextUint32() % 6) }, () => rng.nextUint32() & 0xff)), bytes.subarray(i)]);
        break;
      case 3: // a quote
        bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from('"'), bytes.subarray(i)]);
        break;
      case 4: // a delimiter
        bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from(","), bytes.subarray(i)]);
        break;
      case 5: { // duplicate a line
        const all = lines();
        const k = rng.nextUint32() % all.length;
        all.splice(k, 0, all[k]);
        bytes = Buffer.from(all.join("\n"), "latin1");
        break;
      }
      case 6: // cut the file short
        bytes = bytes.subarray(0, i);
        break;
      case 7: // a value pandas reads but the pipeline cannot use, or one at the edge of float32
        bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from(EDGE_VALUES[rng.nextUint32() % EDGE_VALUES.length]), bytes.subarray(i)]);
        break;
    }
  }
  return bytes;
}

test(`${MUTATIONS} mutated CSVs: correct artifacts or one clear error, never a torn or NaN artifact`, async (t) => {
  const root = tempDir("etl-fuzz-");
  const paths = pathsUnder(root);
  const input = path.join(root, "input.csv");
  const stderr: string[] = [];
  t.mock.method(console, "log", () => {});
  t.mock.method(console, "error", (line: string) => stderr.push(line));

  fs.mkdirSync(path.join(root, "data"));
  fs.writeFileSync(input, original);
  assert.equal(await main(["--csv", input], paths), 0);
  let before = snapshot(root);
  const rng = new MT19937(20261127);
  let succeeded = 0;

  for (let m = 0; m < MUTATIONS; m++) {
    const bytes = mutate(rng, original);
    fs.writeFileSync(input, bytes);
    stderr.length = 0;
    let code: number;
    try {
      code = await main(["--csv", input], paths);
    } catch (err) {
      // main() turns every EtlError into a line; anything that escapes is a bug with a stack trace.
      assert.fail(`mutation ${m} crashed: ${(err as Error).stack}\n--- input ---\n${bytes.toString("latin1").slice(0, 400)}`);
    }
    const after = snapshot(root);
    after.delete("input.csv");
    before.delete("input.csv");
    if (code === 0) {
      succeeded++;
      const xTrain = readNpy(paths.xTrain);
      const xVal = readNpy(paths.xVal);
      const yTrain = readNpy(paths.yTrain);
      const yVal = readNpy(paths.yVal);
      assert.equal(xTrain.shape[1], 8);
      assert.equal(xVal.shape[1], 8);
      assert.equal(xTrain.shape[0], yTrain.shape[0]);
      assert.equal(xVal.shape[0], yVal.shape[0]);
      for (const array of [xTrain, xVal, yTrain, yVal]) assert.ok(array.data.every(Number.isFinite), `mutation ${m}: a non-finite value was written`);
      assertManifestDescribesFiles(root);
      JSON.parse(fs.readFileSync(paths.raw, "utf8"));
    } else {
      assert.equal(code, 1, `mutation ${m}`);
      assert.equal(stderr.length, 1, `mutation ${m}: ${stderr.join(" | ")}`);
      assert.match(stderr[0], /^error: \S*input\.csv[: ][^\n]+$/);
      assert.deepEqual(after, before, `mutation ${m} changed the artifacts although it failed: ${stderr[0]}`);
    }
    assert.ok(![...after.keys()].some((f) => f.endsWith(".etl-tmp")), `mutation ${m} left a temporary file`);
    before = after;
  }
  // Both outcomes must be exercised, or the test proves little.
  assert.ok(succeeded > 20 && succeeded < MUTATIONS - 20, `${succeeded} of ${MUTATIONS} succeeded`);
});
