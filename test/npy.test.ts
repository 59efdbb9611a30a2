// .npy bytes against files np.save wrote (test/fixtures/npy, made by generate_fixtures.py).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { npyBytes, readNpy } from "../etl.ts";
import { FIXTURES, readFixture } from "./helpers.ts";

const { files } = readFixture<{ files: { file: string; shape: number[] }[] }>("npy/index.json");

describe("npyBytes writes what np.save writes", () => {
  for (const { file, shape } of files) {
    test(`${file}: shape (${shape.join(", ")}), byte for byte`, () => {
      const expected = fs.readFileSync(path.join(FIXTURES, "npy", file));
      // Read NumPy's data with readNpy, write it back with npyBytes: header and padding must agree.
      const { data, shape: readShape } = readNpy(path.join(FIXTURES, "npy", file));
      assert.deepEqual(readShape, shape);
      assert.deepEqual(Buffer.concat(npyBytes(data, shape)), expected);
    });
  }
  test("data starts on a 64-byte boundary", () => {
    for (const shape of [[1], [9], [123456789], [3, 2], [100000, 17]]) {
      const [header] = npyBytes(new Float32Array(0), shape);
      assert.equal(header.length % 64, 0, `shape ${shape}`);
      assert.equal(header[header.length - 1], 0x0a);
    }
  });
});
