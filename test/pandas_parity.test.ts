// Not quite pandas, the class: CSVs whose columns draw their cells from read_csv's corner cases
// (padded numbers, signs and leading zeros, 17-digit and long decimals, exponents, integers
// beyond int64, booleans in any case, NA strings, blanks, text), and pandas itself as the judge
// of the raw JSON: read_json must give back exactly the frame read_csv gives.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { MT19937 } from "../etl.ts";
import { PYTHON_MISSING, REPO, referencePython, runEtl, tempProject } from "./helpers.ts";

const python = referencePython();
if (!python && process.env.CI) test("pandas parity: reference libraries", () => assert.fail(`CI is set, and the pandas parity tests ${PYTHON_MISSING}`));
const skip = python ? false : `pandas parity tests skipped: ${PYTHON_MISSING}`;

const digits = (rng: MT19937, n: number) => Array.from({ length: n }, () => String(rng.nextUint32() % 10)).join("");
const pick = <T>(rng: MT19937, list: T[]) => list[rng.nextUint32() % list.length];

/** Kinds of cells; a column draws from one to three of them. */
const KINDS: Record<string, (rng: MT19937) => string> = {
  int: (rng) => pick(rng, ["", "-", "+"]) + digits(rng, 1 + (rng.nextUint32() % 9)),
  paddedInt: (rng) => pick(rng, [" ", "  ", "\t", ""]) + pick(rng, ["", "-", "+"]) + "0" + digits(rng, 1 + (rng.nextUint32() % 5)) + pick(rng, [" ", ""]),
  bigInt: (rng) => pick(rng, ["9223372036854775807", "9223372036854775808", "18446744073709551615", "-9223372036854775808", "123456789012345678", digits(rng, 17)]),
  float: (rng) => pick(rng, ["", "-"]) + digits(rng, 1 + (rng.nextUint32() % 6)) + "." + digits(rng, 1 + (rng.nextUint32() % 6)),
  longFloat: (rng) => digits(rng, 1 + (rng.nextUint32() % 10)) + "." + digits(rng, 6 + (rng.nextUint32() % 16)),
  paddedFloat: (rng) => pick(rng, [" ", "\t", ""]) + pick(rng, ["", "+", "-"]) + pick(rng, [".", "0."]) + digits(rng, 1 + (rng.nextUint32() % 4)) + pick(rng, [" ", ""]),
  exponent: (rng) => digits(rng, 1 + (rng.nextUint32() % 18)) + pick(rng, ["e", "E", ".e", ".5e"]) + pick(rng, ["", "+", "-"]) + String(rng.nextUint32() % 320),
  bool: (rng) => pick(rng, ["True", "False", "TRUE", "false", "tRuE", "FaLsE"]),
  missing: (rng) => pick(rng, ["", "NA", "n/a", "NaN", "null", "#N/A", "<NA>", "-nan"]),
  text: (rng) => pick(rng, ["abc", " NA", "nan ", "1_000", "0x10", "1e", ".", "-", "True ", "Ünïcode", "a,b", 'say "hi"', "   "]),
};

function fuzzCsv(seed: number, rows: number, columns: number): string {
  const rng = new MT19937(seed);
  const names = Object.keys(KINDS);
  const mixes = Array.from({ length: columns }, () => Array.from({ length: 1 + (rng.nextUint32() % 3) }, () => pick(rng, names)));
  const header = ["x", "t", ...mixes.map((m, c) => `c${c}_${m.join("_")}`)];
  const lines = [header.join(",")];
  for (let r = 0; r < rows; r++) {
    const cells = mixes.map((mix) => {
      const kind = rng.nextUint32() % 10 < 8 ? mix[0] : pick(rng, mix);
      const cell = KINDS[kind](rng);
      return /[",\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
    });
    lines.push([String(r % 7), String(r), ...cells].join(","));
  }
  return lines.join("\n") + "\n";
}

/** Runs extract on `csv` and asks pandas whether the raw JSON is read_csv's frame. */
function parity(csv: string, content: string): void {
  const dir = tempProject();
  fs.writeFileSync(path.join(dir, csv), content);
  const run = runEtl(dir, ["extract", "--csv", csv, "--features", "x", "--target", "t"]);
  assert.equal(run.status, 0, run.stderr);
  const check = spawnSync(python!, [path.join(REPO, "test", "pandas_parity_check.py"), path.join(dir, csv), path.join(dir, "data", "ccr_raw.json")], { encoding: "utf8" });
  assert.equal(check.status, 0, check.stderr);
  const [result] = Object.values(JSON.parse(check.stdout));
  assert.equal(result, null);
}

describe("pandas reads the raw JSON back as the frame read_csv makes of the CSV", { skip }, () => {
  test("numbers with spaces around them, and a True/False column", () => {
    const rows = Array.from({ length: 50 }, (_, i) => `${i % 5},${i}, ${(i / 7).toFixed(3)} ,${i % 3 ? "True" : "False"},\t${i * 11}`);
    parity("padded.csv", ["x,t,score,flag,count", ...rows].join("\n") + "\n");
  });
  test("booleans and plain numbers in one column, either first: text, as pandas keeps it", () => {
    const cell = (i: number, bool: boolean) => (bool ? (i % 4 ? "True" : "false") : String(-i));
    const rows = Array.from({ length: 12 }, (_, i) =>
      [i % 5, i, cell(i, i % 2 === 1), cell(i, i === 0), cell(i, i === 11)].join(","));
    parity("booleans.csv", ["x,t,first_number,first_boolean,last_boolean", ...rows].join("\n") + "\n");
  });
  // A column of plain integers, read fast until a cell of another shape comes: each column here
  // has hundreds of integers, then one cell that changes what pandas makes of it, then more.
  test("integers, then a minus, a point, a boolean or a big integer: the column's dtype as pandas'", () => {
    const changes = ["-3", "2.5", "-0.0", "True", "9223372036854775808", "-7", "x", "", "1e3", "-3"];
    const later: Record<number, string> = { 3: "4", 5: "2.5", 9: "9223372036854775808" };
    const column = (c: number, i: number) =>
      i === 300 ? changes[c] : i === 450 && later[c] ? later[c] : String((i * (c + 3)) % 1000);
    const rows = Array.from({ length: 600 }, (_, i) => [i % 5, i, ...changes.map((_, c) => column(c, i))].join(","));
    const content = [["x", "t", ...changes.map((_, c) => `c${c}`)].join(","), ...rows].join("\n") + "\n";
    parity("shapes.csv", content);
    const dir = tempProject();
    fs.writeFileSync(path.join(dir, "shapes.csv"), content);
    const run = runEtl(dir, ["extract", "--csv", "shapes.csv", "--features", "x", "--target", "t"]);
    const ours = /dtypes: (.*)/.exec(run.stdout)![1].replace(/object/g, "O");
    const script = "import pandas as pd, sys; d = pd.read_csv(sys.argv[1]).dtypes; print(', '.join(f'{k} {v.str[1:] if v.kind != \"O\" else \"O\"}' for k, v in d.items()))";
    const theirs = spawnSync(python!, ["-c", script, path.join(dir, "shapes.csv")], { encoding: "utf8" });
    assert.equal(theirs.status, 0, theirs.stderr);
    assert.equal(ours, theirs.stdout.trim().replace(/ i8/g, " int64").replace(/ u8/g, " uint64").replace(/ f8/g, " float64"));
  });
  test("a CSV of several 1 MB blocks, read on two threads: dtypes settled in a later block", () => {
    const n = 90_000; // about 4 MB: four blocks, the helper thread reading some of them
    const rows = Array.from({ length: n }, (_, i) => {
      const block = Math.floor((4 * i) / n); // which quarter of the file the row is in
      const lateFloat = i === n - 3 ? "1.5" : String(i % 97);
      const lateText = block === 1 && i % 1000 === 7 ? "abc" : String(i % 13);
      // Booleans, and in the third quarter a few plain numbers after them: text to pandas.
      const lateNumber = block === 2 && i % 500 === 1 ? "7" : i % 2 ? "True" : "False";
      const bigThenNegative = i === n >> 2 ? "9223372036854775808" : i === n - 1 ? "-1" : String(i);
      return [i % 5, i, lateFloat, lateText, lateNumber, bigThenNegative, `"a,${i % 7}"`];
    });
    // A quoted field of line breaks and commas, 180 KB long, across the first block's end.
    let at = 0;
    const crossing = rows.findIndex((cells) => (at += cells.join(",").length + 1) > 1_000_000);
    rows[crossing][6] = `"${"line,\n".repeat(30_000)}end"`;
    const header = "x,t,late_float,late_text,late_number,big_then_negative,quoted";
    parity("blocks.csv", [header, ...rows.map((cells) => cells.join(","))].join("\n") + "\n");
  });
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    test(`fuzzed CSV, seed ${seed}: 60 columns of read_csv's corner cases`, () => parity("fuzz.csv", fuzzCsv(seed, 300, 60)));
  }
});
