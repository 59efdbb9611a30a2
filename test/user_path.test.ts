// The path of a user off the shipped data: the housing sample in data/ (an id, an address, text
// with blanks), output that says where things went, and flag errors that point at what was meant.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { REPO, expectRefused, runEtl, tempProject } from "./helpers.ts";

const HOUSING = path.join(REPO, "data", "housing.csv");
const FLAGS = ["--csv", HOUSING, "--target", "price", "--features", "all"];

describe("your own CSV: data/housing.csv", () => {
  test("an id column is refused, with its count and the remedy", () => {
    const dir = tempProject();
    expectRefused(dir, [...FLAGS, "--out", "runs/h"], /column "house_id" has 300 distinct values in 300 cells, more than half: an id or free text, .*--drop house_id, or keep it with --max-categories 300$/m);
    assert.ok(!fs.existsSync(path.join(dir, "runs")), "a refused run leaves no folder behind");
  });
  test("with --drop, a run of under 60 lines that ends naming its output folder and files", () => {
    const dir = tempProject();
    const run = runEtl(dir, [...FLAGS, "--drop", "house_id,address", "--out", "runs/h"]);
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trimEnd().split("\n");
    assert.ok(lines.length < 60, `${lines.length} lines`);
    assert.match(lines.at(-1)!, /^Wrote 12 files under runs\/h\/: data\/ccr_raw\.json, artifacts\/transform_artifacts\/ \(8 files\), artifacts\/loader_artifacts\/ \(2 files\), artifacts\/manifest\.json$/);
    assert.match(run.stdout, /neighborhood_nan/);
    assert.ok(!fs.existsSync(path.join(dir, "artifacts")), "the project's own artifacts untouched");
  });
  test("the mock data's default features on another CSV: the error says whose they are", () => {
    const dir = tempProject();
    expectRefused(dir, ["--csv", HOUSING, "--target", "price"], /the default target and features are the shipped mock data's columns: name yours with --features A,B,\.\.\. \(or all\)$/m);
  });
});

describe("output a person reads", () => {
  test("Transform prints at most 20 column lines, and a count of the rest", () => {
    const dir = tempProject();
    const header = [...Array.from({ length: 45 }, (_, j) => `x${j}`), "y"].join(",");
    const rows = Array.from({ length: 30 }, (_, i) => [...Array.from({ length: 45 }, (_, j) => (i * j) % 7), i].join(","));
    fs.writeFileSync(path.join(dir, "wide.csv"), [header, ...rows].join("\n") + "\n");
    const run = runEtl(dir, ["--csv", "wide.csv", "--target", "y", "--features", "all"]);
    assert.equal(run.status, 0, run.stderr);
    const table = run.stdout.split("Transform:")[1].split("\n\n")[0].trim().split("\n");
    assert.equal(table.length, 1 + 1 + 20 + 1, table.join("\n")); // shapes, header, 20 columns, the rest
    assert.match(table.at(-1)!, /^ {2}\.\.\. and 25 more columns \(feature_columns\.json names them all\)$/);
  });
  test("one row, one batch: counted in English", () => {
    const dir = tempProject();
    fs.writeFileSync(path.join(dir, "two.csv"), "x,y\n1,2\n3,4\n");
    const run = runEtl(dir, ["--csv", "two.csv", "--target", "y", "--features", "x", "--test-size", "0.5"]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /train: 1 row in 1 batch,/);
    assert.match(run.stdout, /Extract: 2 rows x 2 columns/);
  });
});

describe("flag errors point at what was meant", () => {
  for (const [args, stderr] of [
    [["--sed", "7"], /^error: unknown flag --sed; did you mean --sep or --seed\? \(see --help\)$/m],
    [["--batchsize", "7"], /did you mean --batch-size\?/],
    [["--seed", "-1"], /^error: --seed needs a value; one that starts with a dash is written --seed=-1, say$/m],
    [["--seed=-1"], /^error: --seed must be a whole number from 0 to 4294967295, got '-1'$/m],
  ] as [string[], RegExp][]) {
    test(args.join(" "), () => {
      expectRefused(tempProject(), args, stderr, 2);
    });
  }
  test("a column name one letter off: did you mean", () => {
    const dir = tempProject();
    expectRefused(dir, [...FLAGS, "--drop", "house_id,adress"], /missing column "adress"; .*did you mean "address"\?$/m);
  });
});
