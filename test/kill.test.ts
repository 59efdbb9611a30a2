// SIGKILL at any moment: every artifact is whole (the old run's or the new run's bytes), and
// the temporary files a killed run leaves are cleared by the next run.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { MT19937, finishInterruptedCommit, pathsUnder, readNpy } from "../etl.ts";
import { mockRow } from "../data/generate_mock.ts";
import { ARTIFACTS, assertManifestDescribesFiles, runEtl, snapshot, tempProject } from "./helpers.ts";

const ROWS = 300_000;

function writeBigCsv(file: string): void {
  const rng = new MT19937(99);
  const lines = ["gpa,attendance_rate,sat_math,sat_ebrw,cte_hours,internship,career_interest_clarity,self_efficacy,readiness_score"];
  for (let i = 0; i < ROWS; i++) lines.push(mockRow(rng));
  fs.writeFileSync(file, lines.join("\n") + "\n");
}

/** Starts etl.ts in `dir` and SIGKILLs it after `ms` milliseconds (or lets it finish first). */
function killAfter(dir: string, args: string[], ms: number): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "etl.ts", ...args], { cwd: dir, stdio: "ignore" });
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(signal ?? `exit ${code}`);
    });
  });
}

test(`SIGKILL during a ${ROWS.toLocaleString("en-US")}-row run never leaves a torn artifact`, async () => {
  const dir = tempProject();
  const big = path.join(dir, "big.csv");
  writeBigCsv(big);

  // The two versions every artifact may be: the shipped data's, and the big file's.
  const reference = tempProject();
  fs.copyFileSync(big, path.join(reference, "big.csv"));
  const started = Date.now();
  assert.equal(runEtl(reference, ["--csv", "big.csv"]).status, 0);
  const fullRun = Date.now() - started;
  const newer = snapshot(reference);
  assert.equal(runEtl(dir).status, 0);
  const older = snapshot(dir);

  const outcomes: string[] = [];
  let leftTemps = 0;
  for (const fraction of [0.15, 0.3, 0.45, 0.6, 0.7, 0.8, 0.9, 0.97, 1.05]) {
    outcomes.push(await killAfter(dir, ["--csv", "big.csv"], Math.round(fraction * fullRun)));
    const now = snapshot(dir);
    leftTemps += [...now.keys()].filter((f) => f.endsWith(".etl-tmp")).length;
    for (const file of ARTIFACTS) {
      const bytes = now.get(file);
      assert.ok(bytes === older.get(file) || bytes === newer.get(file), `${file} is neither the old nor the new version after a kill at ${fraction}`);
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
  assert.ok(outcomes.filter((o) => o === "SIGKILL").length >= 5, `too few runs were killed: ${outcomes.join(", ")}`);
  assert.ok(leftTemps > 0, "no kill left a temporary file behind, so the clean-up below proves nothing");

  // The next run clears what the killed ones left and finishes with the new artifacts.
  assert.equal(runEtl(dir, ["--csv", "big.csv"]).status, 0);
  const final = snapshot(dir);
  assert.deepEqual([...final.keys()].filter((f) => f.includes(".etl-tmp")), []);
  for (const file of ARTIFACTS) assert.equal(final.get(file), newer.get(file), file);
});
