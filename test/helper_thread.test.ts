// The helper thread: it starts (through tsx's register(), on every Node the project is tested on),
// and whatever it owes when it stops is done here with the same result.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { isMainThread, threadId } from "node:worker_threads";
import { helperThreadId, sha256File, stopHelper } from "../etl.ts";
import { tempDir } from "./helpers.ts";

/** A file big enough to be hashed on the helper thread (32 MB), and its sha256 made here. */
function bigFile(): { file: string; sha256: string } {
  const file = path.join(tempDir("etl-helper-"), "big.bin");
  const bytes = Buffer.alloc(32 << 20);
  for (let i = 0; i < bytes.length; i += 4096) bytes.writeUInt32LE(i * 2654435761 >>> 0, i);
  fs.writeFileSync(file, bytes);
  return { file, sha256: createHash("sha256").update(bytes).digest("hex") };
}

test("it starts, on a thread of its own", async () => {
  const id = await helperThreadId();
  assert.ok(isMainThread);
  assert.equal(typeof id, "number", "the helper thread answers");
  assert.notEqual(id, threadId);
});

test("a file's sha256 on the helper thread is the file's sha256", async () => {
  const { file, sha256 } = bigFile();
  await helperThreadId(); // running
  assert.equal(await sha256File(file), sha256);
});

test("stopped while it hashes a file: the hash is made here, the same", async () => {
  const { file, sha256 } = bigFile();
  await helperThreadId(); // running
  const hash = sha256File(file);
  await stopHelper();
  assert.equal(await hash, sha256);
});

test("stopped right after a job is sent: the job is done here", async () => {
  const { file, sha256 } = bigFile();
  await stopHelper();
  const hash = sha256File(file); // starts a new helper
  await stopHelper();
  assert.equal(await hash, sha256);
  assert.equal(typeof (await helperThreadId()), "number", "the next job starts another");
});
