// The CLI run as a user runs it, in a temporary copy of the project.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { before, describe, test } from "node:test";
import {
  ARTIFACTS, FIXTURES, REPO, assertManifestDescribesFiles, readFixture, runEtl, snapshot, tempDir, tempProject,
} from "./helpers.ts";

const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file));

describe("npx tsx etl.ts on the shipped CSV", () => {
  let dir: string;
  before(() => {
    dir = tempProject();
    const run = runEtl(dir);
    assert.equal(run.status, 0, run.stderr);
  });

  test("writes exactly the artifacts committed in the repository", () => {
    for (const file of ARTIFACTS) assert.deepEqual(read(dir, file), read(REPO, file), file);
  });

  test("the .npy files are byte-identical to what pandas + scikit-learn + np.save wrote", () => {
    for (const name of ["X_train", "X_val", "y_train", "y_val"]) {
      assert.deepEqual(read(dir, `artifacts/transform_artifacts/${name}.npy`), read(FIXTURES, `shipped/${name}.npy`), name);
    }
  });

  test("scaler.json agrees with scikit-learn's fitted StandardScaler to 1e-12 relative", () => {
    const ours = JSON.parse(read(dir, "artifacts/transform_artifacts/scaler.json").toString());
    const reference = readFixture<Record<string, number[]>>("shipped/scaler.json");
    for (const key of ["mean_", "var_", "scale_"]) {
      ours[key].forEach((v: number, j: number) => {
        assert.ok(Math.abs(v - reference[key][j]) <= 1e-12 * Math.abs(reference[key][j]), `${key}[${j}]`);
      });
    }
    assert.equal(ours.n_samples_seen_, reference.n_samples_seen_);
    assert.equal(ours.n_features_in_, 8);
    assert.deepEqual(Object.keys(ours), ["mean_", "var_", "scale_", "n_samples_seen_", "n_features_in_", "feature_names_in_", "with_mean", "with_std"]);
  });

  test("a second run writes the same bytes, and leaves no temporary file", () => {
    const first = snapshot(dir);
    assert.equal(runEtl(dir).status, 0);
    assert.deepEqual(snapshot(dir), first);
    assert.ok(![...first.keys()].some((f) => f.endsWith(".etl-tmp")));
  });

  test("prints the rows, the columns, the first rows, the scaling table and the batch shapes", () => {
    const out = runEtl(dir).stdout;
    assert.match(out, /Extract: 200 rows x 9 columns/);
    assert.match(out, /^0 +\d/m);
    assert.match(out, /^2 +\d/m);
    assert.doesNotMatch(out, /^3 +\d/m);
    assert.match(out, /X_train \(160, 8\) +X_val \(40, 8\)/);
    const scalingRows = out.split("\n").map((l) => l.trim().split(/ +/)).filter((cells) => cells.length === 5 && cells[0] !== "feature");
    assert.deepEqual(scalingRows.map((cells) => cells[0]), ["gpa", "attendance_rate", "sat_math", "sat_ebrw", "cte_hours", "internship", "career_interest_clarity", "self_efficacy"]);
    for (const cells of scalingRows) {
      const line = cells.join(" ");
      assert.deepEqual(cells.slice(-2), ["0.000", "1.000"], line); // train mean and std after scaling
    }
    assert.match(out, /train: 160 rows in 5 batches.*\[32,8\] y \[32,1\]/);
    assert.match(out, /val: +40 rows in 2 batches/);
  });
});

describe("one step at a time", () => {
  test("extract, transform, load run alone give the bytes of one full run", () => {
    const dir = tempProject();
    for (const step of ["extract", "transform", "load"]) assert.equal(runEtl(dir, [step]).status, 0, step);
    for (const file of ARTIFACTS) assert.deepEqual(read(dir, file), read(REPO, file), file);
  });

  test("a step whose input is missing names the file and the command that makes it", () => {
    const dir = tempProject();
    let run = runEtl(dir, ["transform"]);
    assert.equal(run.status, 1);
    assert.equal(run.stderr, "error: Missing data/ccr_raw.json: run npx tsx etl.ts extract\n");
    run = runEtl(dir, ["load"]);
    assert.equal(run.status, 1);
    assert.equal(run.stderr, "error: Missing artifacts/transform_artifacts/X_train.npy: run npx tsx etl.ts transform\n");
  });

  test("flags change the artifacts: --seed, --test-size, --batch-size", () => {
    const dir = tempProject();
    assert.equal(runEtl(dir, ["--seed", "7", "--test-size", "0.25", "--batch-size", "64"]).status, 0);
    const info = JSON.parse(read(dir, "artifacts/loader_artifacts/train_loader_info.json").toString());
    assert.deepEqual([info.num_samples, info.batch_size, info.num_batches], [150, 64, 3]);
    assert.notDeepEqual(read(dir, "artifacts/transform_artifacts/y_val.npy"), read(REPO, "artifacts/transform_artifacts/y_val.npy"));
  });
});

describe("the raw JSON", () => {
  test("keeps long multi-byte text cells whole across the writer's buffer boundaries", () => {
    const dir = tempProject();
    const header = fs.readFileSync(path.join(REPO, "data/ccr_mock.csv"), "utf8").split("\n")[0];
    const rows = fs.readFileSync(path.join(REPO, "data/ccr_mock.csv"), "utf8").trim().split("\n").slice(1);
    // Notes of 0 to 5,999 characters of 3-byte UTF-8, one of 600,000 (bigger than the buffer).
    const notes = Array.from({ length: 1200 }, (_, i) => "漢字".repeat(i === 600 ? 300_000 : (i * 7919) % 3000) + `#${i}`);
    const csv = [header + ",note", ...notes.map((note, i) => `${rows[i % rows.length]},"${note}"`)].join("\n") + "\n";
    fs.writeFileSync(path.join(dir, "notes.csv"), csv);
    const run = runEtl(dir, ["extract", "--csv", "notes.csv"]);
    assert.equal(run.status, 0, run.stderr);
    const raw = JSON.parse(read(dir, "data/ccr_raw.json").toString("utf8"));
    assert.equal(raw.data.length, notes.length);
    raw.data.forEach((row: unknown[], i: number) => assert.equal(row[9], notes[i], `row ${i}`));
  });
});

describe("running etl.ts as users do", () => {
  test("through a symbolic link (as an npm bin would): it runs, and writes beside the real file", () => {
    const dir = tempProject();
    const links = tempDir("etl-link-");
    fs.symlinkSync(path.join(dir, "etl.ts"), path.join(links, "link-to-etl.ts"));
    const tsx = path.join(REPO, "node_modules", ".bin", "tsx");
    const help = spawnSync(tsx, ["link-to-etl.ts", "--help"], { cwd: links, encoding: "utf8" });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: npx tsx etl\.ts/);
    const run = spawnSync(tsx, ["link-to-etl.ts"], { cwd: links, encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    for (const file of ARTIFACTS) assert.deepEqual(read(dir, file), read(REPO, file), file);
  });

  test("--out DIR: every step writes and reads there, the project's own artifacts untouched", () => {
    const dir = tempProject();
    const before = snapshot(dir);
    const out = path.join(tempDir("etl-out-"), "dataset one");
    assert.equal(runEtl(dir, ["--out", out]).status, 0);
    assert.deepEqual(snapshot(dir), before, "nothing written beside etl.ts");
    for (const file of ARTIFACTS.filter((f) => !f.endsWith("manifest.json"))) assert.deepEqual(read(out, file), read(REPO, file), file);
    const manifest = fs.readFileSync(path.join(out, "artifacts/manifest.json"), "utf8");
    assert.doesNotMatch(manifest, /"\//, "no absolute path");
    assert.doesNotMatch(manifest, new RegExp(out.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
    assertManifestDescribesFiles(out);
    const load = runEtl(dir, ["load", "--out", out, "--batch-size", "64"]);
    assert.equal(load.status, 0, load.stderr);
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, "artifacts/loader_artifacts/train_loader_info.json"), "utf8")).batch_size, 64);
    assert.deepEqual(snapshot(dir), before);
  });

  test("its output piped into head, which closes early: the run still finishes, exit 0", () => {
    const dir = tempProject();
    const run = spawnSync("sh", ["-c", `"${process.execPath}" --import tsx etl.ts | head -1`], { cwd: dir, encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    assert.doesNotMatch(run.stderr, /EPIPE|\n\s+at /);
    assertManifestDescribesFiles(dir);
    for (const file of ARTIFACTS) assert.deepEqual(read(dir, file), read(REPO, file), file);
  });
});
