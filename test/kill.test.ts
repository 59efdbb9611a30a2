// SIGKILL at any moment: every artifact is whole (the old run's or the new run's bytes), and
// the temporary files a killed run leaves are cleared by the next run. Each run is killed at a
// point of the run itself (test/kill_at.ts), never after a guessed delay: the test means the
// same on a loaded machine as on an idle one.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import { MT19937, finishInterruptedCommit, pathsUnder, readNpy } from "../etl.ts";
import { mockRow } from "../data/generate_mock.ts";
import { ARTIFACTS, assertManifestDescribesFiles, runEtl, snapshot, tempProject } from "./helpers.ts";

const ROWS = 20_000;

function writeBigCsv(file: string): void {
  const rng = new MT19937(99);
  const lines = ["gpa,attendance_rate,sat_math,sat_ebrw,cte_hours,internship,career_interest_clarity,self_efficacy,readiness_score"];
  for (let i = 0; i < ROWS; i++) lines.push(mockRow(rng));
  fs.writeFileSync(file, lines.join("\n") + "\n");
}

/**
 * Where each run is killed: the first call of an fs function on a path (test/kill_at.ts does
 * it), in every phase of a run, from Extract's first temporary file to the journal's removal.
 */
const KILL_POINTS = [
  "openSync|ccr_raw\\.json\\.\\d+\\.etl-tmp$|after", //          Extract has begun its raw JSON
  "openSync|X_train\\.npy\\.\\d+\\.etl-tmp$|after", //           Transform writes its arrays
  "openSync|val_loader_info\\.json\\.\\d+\\.etl-tmp$|after", //  Load writes its metadata
  "openSync|manifest\\.json\\.\\d+\\.etl-tmp$|after", //         the commit: the manifest staged
  "renameSync|\\.commit\\.etl-journal$|after", //                the journal, before any rename
  "renameSync|X_train\\.npy$|after", //                         the renames under way
  "renameSync|scaler\\.json$|after",
  "renameSync|manifest\\.json$|before", //                      all but the manifest renamed
  "rmSync|\\.commit\\.etl-journal$|before", //                   all renamed, the journal left
];

/** Runs etl.ts in `dir`, SIGKILLed at `point`; how it ended. */
function killAt(dir: string, args: string[], point: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--import", KILL_AT, "etl.ts", ...args], {
      cwd: dir, stdio: "ignore", env: { ...process.env, ETL_KILL_AT: point },
    });
    child.on("exit", (code, signal) => resolve(signal ?? `exit ${code}`));
  });
}

const KILL_AT = pathToFileURL(path.join(import.meta.dirname, "kill_at.ts")).href;

test(`SIGKILL in every phase of a ${ROWS.toLocaleString("en-US")}-row run never leaves a torn artifact`, async () => {
  const dir = tempProject();
  const big = path.join(dir, "big.csv");
  writeBigCsv(big);

  // The two versions every artifact may be: the shipped data's, and the big file's.
  const reference = tempProject();
  fs.copyFileSync(big, path.join(reference, "big.csv"));
  assert.equal(runEtl(reference, ["--csv", "big.csv"]).status, 0);
  const newer = snapshot(reference);
  assert.equal(runEtl(dir).status, 0);
  const older = snapshot(dir);

  let leftTemps = 0;
  for (const point of KILL_POINTS) {
    assert.equal(await killAt(dir, ["--csv", "big.csv"], point), "SIGKILL", `killed at ${point}`);
    const now = snapshot(dir);
    leftTemps += [...now.keys()].filter((f) => f.endsWith(".etl-tmp")).length;
    for (const file of ARTIFACTS) {
      const bytes = now.get(file);
      assert.ok(bytes === older.get(file) || bytes === newer.get(file), `${file} is neither the old nor the new version after a kill at ${point}`);
    }
    // And each one opens: .npy header and size agree, JSON parses.
    for (const file of ARTIFACTS) {
      if (file.endsWith(".npy")) readNpy(path.join(dir, file));
      else JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
    }
    // A kill in the middle of the renames left a journal: what the next run does first makes
    // the manifest describe the files beside it again.
    finishInterruptedCommit(pathsUnder(dir));
    assertManifestDescribesFiles(dir);
  }
  assert.ok(leftTemps > 0, "no kill left a temporary file behind, so the clean-up below proves nothing");

  // The next run clears what the killed ones left and finishes with the new artifacts.
  assert.equal(runEtl(dir, ["--csv", "big.csv"]).status, 0);
  const final = snapshot(dir);
  assert.deepEqual([...final.keys()].filter((f) => f.includes(".etl-tmp")), []);
  for (const file of ARTIFACTS) assert.equal(final.get(file), newer.get(file), file);
});
