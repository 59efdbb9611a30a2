// Bad input: one `error:` line naming the file, line and column; exit 1 (2 for flags); the last
// good run's artifacts untouched and no temporary file left.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { before, describe, test } from "node:test";
import { REPO, permissionTestSkip, runAsUser, runEtl, snapshot, tempDir, tempProject } from "./helpers.ts";

const shipped = fs.readFileSync(path.join(REPO, "data", "ccr_mock.csv"), "utf8");
const [header, ...rows] = shipped.trimEnd().split("\n");
const csvWith = (lines: string[]) => [header, ...lines].join("\n") + "\n";
const good = rows.slice(0, 20);
/** Replaces one cell of data row 11 (line 12 of the file). */
const withCell = (column: number, value: string) =>
  csvWith(good.map((row, i) => (i === 10 ? row.split(",").map((c, j) => (j === column ? value : c)).join(",") : row)));

// [what is wrong, CSV contents, what stderr must say]
const CASES: [string, string | Buffer, RegExp][] = [
  ["an empty file", "", /an_empty_file\.csv: the file is empty/],
  ["a header with no data rows", header + "\n", /no_data_rows\.csv: has a header but no data rows/],
  ["a missing target column", header.replace(",readiness_score", "") + "\n" + good.map((r) => r.replace(/,[^,]*$/, "")).join("\n"),
    /line 1 \(header\): missing column "readiness_score"; the file has "gpa", "attendance_rate"/],
  ["a missing feature column", header.replace("sat_math", "sat_m") + "\n" + good.join("\n"), /missing column "sat_math"; the file has .*"sat_m",/],
  ["text in a feature", withCell(2, "abc"), /line 12: column "sat_math" is "abc", not a finite number/],
  ["1e999 in a feature", withCell(0, "1e999"), /line 12: column "gpa" is "1e999", not a finite number/],
  ["inf in a feature", withCell(4, "inf"), /line 12: column "cte_hours" is "inf", not a finite number/],
  ["NaN in the target", withCell(8, "NaN"), /line 12: column "readiness_score", the target, is blank or missing/],
  ["a blank target cell", withCell(8, ""), /line 12: column "readiness_score", the target, is blank or missing/],
  // A short row's missing fields are NaN, as read_csv makes them: here the target is one of them.
  ["a row with too few fields", csvWith([...good, "3.1,0.9,500"]), /line 22: column "readiness_score", the target, is blank or missing/],
  ["a row with too many fields", csvWith([...good.slice(0, 5), good[5] + ",7", ...good.slice(6)]), /line 7: expected 9 fields as in the header, saw 10/],
  ["an unclosed quote", csvWith([...good.slice(0, 8), '"3.1,0.9,500,500,1,1,1,1,1', ...good.slice(8)]), /line 10: a quoted field is never closed/],
  // pandas reads on after the closing quote: the cell is 3.1x, text in a numeric column.
  ["a malformed quote", csvWith([...good.slice(0, 3), '"3.1"x,0.9,500,500,1,1,1,1,1', ...good.slice(3)]), /line 5: column "gpa" is "3\.1x", not a finite number/],
  ["a row number past a quoted line break",
    [header + ",note", ...good.slice(0, 2).map((r) => r + ',"one line"'), good[2] + ',"two\nlines, quoted"', good[3] + ",x", "x" + good[4].slice(4) + ",y"].join("\n"),
    /line 7: column "gpa" is "x"/],
  ["a cell whose text has a line break", withCell(0, '"3.\n1"'), /line 12: column "gpa" is "3\.\\n1", not a finite number/],
  ["too few rows for the split", csvWith(good.slice(0, 1)), /1 row cannot be split with --test-size 0\.2: .*= 1 and train would be empty/],
  ["binary data", Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x08, 0x00, 0xff, 0xfe, 0x0a, 0x01]), /binary_data\.csv line 1: this is not UTF-8 text/],
  ["a NUL character deep in the file", csvWith([...good.slice(0, 14), "3.1,0.9,5\u000000,500,1,1,1,1,1"]), /in_the_file\.csv line 16: this is not UTF-8 text/],
  ["a NUL past the first 64 KB of a file with a BOM and bare CR line ends",
    "\uFEFF" + [header, ...Array.from({ length: 3000 }, (_, i) => (i === 2500 ? "3.1,0.9,5\u000000,500,1,1,1,1,1" : good[i % good.length]))].join("\r") + "\r",
    /line 2502: this is not UTF-8 text/],
  ["Latin-1 text", Buffer.concat([Buffer.from(header + ",name\n"), Buffer.from("3.1,0.9,500,500,1,1,1,1,1,Jos\xe9\n", "latin1")]), /Latin_1_text\.csv line 2: this is not UTF-8 text/],
];

describe("bad input: one clear line, a non-zero exit, the last good artifacts kept", () => {
  let dir: string;
  let inputs: string;
  let good: Map<string, string>;
  before(() => {
    dir = tempProject();
    inputs = tempDir("etl-bad-");
    assert.equal(runEtl(dir).status, 0);
    good = snapshot(dir);
  });

  const expectError = (args: string[], stderr: RegExp, code = 1) => {
    const run = runEtl(dir, args);
    assert.equal(run.status, code, run.stderr);
    assert.match(run.stderr, /^error: [^\n]+\n$/, "exactly one line starting with error:");
    assert.match(run.stderr, stderr);
    assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
    assert.deepEqual(snapshot(dir), good, "artifacts unchanged, no temporary file left");
  };

  for (const [name, content, stderr] of CASES) {
    test(name, () => {
      const file = path.join(inputs, name.replace(/\W+/g, "_") + ".csv"); // e.g. an_empty_file.csv
      fs.writeFileSync(file, content);
      expectError(["--csv", file], stderr);
    });
  }

  test("a CSV path that does not exist", () => expectError(["--csv", path.join(inputs, "nope.csv")], /nope\.csv: no such file/));
  test("a CSV path that is a folder", () => expectError(["--csv", inputs], /is a folder, not a CSV file/));
  // Root reads every file, so as root this case runs as nobody.
  test("a CSV that cannot be read", { skip: permissionTestSkip() }, () => {
    const file = path.join(inputs, "locked.csv");
    fs.writeFileSync(file, shipped);
    fs.chmodSync(file, 0o000);
    if (process.getuid?.() !== 0) return expectError(["--csv", file], /locked\.csv: cannot be read/);
    const scratch = tempProject();
    fs.chmodSync(scratch, 0o755);
    fs.chmodSync(inputs, 0o755);
    const run = runAsUser(scratch, ["etl.ts", "--csv", file]);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /^error: \S*locked\.csv: cannot be read \(permission denied\)\n$/);
  });

  const FLAGS: [string[], RegExp][] = [
    [["--test-size", "0"], /--test-size must be a fraction between 0 and 1/],
    [["--test-size", "1"], /--test-size must be a fraction between 0 and 1/],
    [["--test-size", "abc"], /--test-size .* got 'abc'/],
    [["--batch-size", "0"], /--batch-size must be a whole number from 1/],
    [["--batch-size", "2.5"], /--batch-size .* got '2\.5'/],
    [["--seed", "-1"], /--seed/],
    [["--seed", "4294967296"], /--seed must be a whole number from 0 to 4294967295/],
    [["--seed", "1.5"], /--seed .* got '1\.5'/],
    [["--sed", "3"], /unknown flag --sed; did you mean --sep or --seed\?/],
    [["--seed"], /--seed/],
    [["transfrom"], /unknown step 'transfrom': use one of extract, transform, load/],
  ];
  for (const [args, stderr] of FLAGS) {
    test(`flags: ${args.join(" ")} (exit 2)`, () => expectError(args, stderr, 2));
  }

  test("--help prints the usage and the flags, exit 0", () => {
    const run = runEtl(dir, ["--help"]);
    assert.equal(run.status, 0);
    for (const flag of ["--csv", "--seed", "--test-size", "--batch-size", "extract", "transform", "load"]) assert.match(run.stdout, new RegExp(flag));
  });

  test("a damaged artifact read by a later step is an error that says how to remake it", () => {
    const scratch = tempProject();
    assert.equal(runEtl(scratch).status, 0);
    const npy = path.join(scratch, "artifacts/transform_artifacts/X_val.npy");
    fs.writeFileSync(npy, fs.readFileSync(npy).subarray(0, 200));
    const run = runEtl(scratch, ["load"]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /^error: artifacts\/transform_artifacts\/X_val\.npy: not a float32 \.npy file .*run npx tsx etl\.ts transform\n$/);
    const raw = path.join(scratch, "data/ccr_raw.json");
    fs.writeFileSync(raw, fs.readFileSync(raw, "utf8").slice(0, 500));
    const cut = runEtl(scratch, ["transform"]);
    assert.equal(cut.status, 1);
    assert.match(cut.stderr, /^error: data\/ccr_raw\.json: .*run npx tsx etl\.ts extract to write it again\n$/);
  });
});
