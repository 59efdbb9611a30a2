// read_csv and scikit-learn to the letter, where they surprise: one test per rule, pandas and
// scikit-learn themselves the judges (pandas_parity_check.py, reference_pipeline.py).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { MT19937, pandasNames, readNpy } from "../etl.ts";
import { PYTHON_MISSING, REPO, expectRefused, referencePython, runEtl, tempProject } from "./helpers.ts";

const python = referencePython();
if (!python && process.env.CI) test("pandas fidelity: reference libraries", () => assert.fail(`CI is set, and these tests ${PYTHON_MISSING}`));
const skip = python ? false : `pandas fidelity tests skipped: ${PYTHON_MISSING}`;

const py = (script: string, ...args: string[]) => {
  const run = spawnSync(python!, ["-c", script, ...args], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout;
};

/** `extract --csv in.csv` alone (no other flag), and pandas' verdict on the raw JSON. */
function extractsAsPandas(content: string | Buffer, flags: string[] = []): string {
  const dir = tempProject();
  fs.writeFileSync(path.join(dir, "in.csv"), content);
  const run = runEtl(dir, ["extract", "--csv", "in.csv", ...flags]);
  assert.equal(run.status, 0, run.stderr);
  const sep = flags.includes("--sep") ? flags[flags.indexOf("--sep") + 1].replace("\\t", "\t") : ",";
  const script = `
import sys, pandas as pd
expected = pd.read_csv(sys.argv[1], sep=sys.argv[3])
actual = ${README_READ_BACK.replace('"data/ccr_raw.json"', "sys.argv[2]")}
pd.testing.assert_frame_equal(actual, expected, check_exact=True)
print(list(expected.columns))`;
  return py(script, path.join(dir, "in.csv"), path.join(dir, "data", "ccr_raw.json"), sep);
}

/** The README's read-back line, as a user copies it. */
const README_READ_BACK = /pd\.read_json\("data\/ccr_raw\.json"[^)\n]*\)/.exec(fs.readFileSync(path.join(REPO, "README.md"), "utf8"))![0];

const rows = (n: number, row: (i: number) => string) => Array.from({ length: n }, (_, i) => row(i)).join("\n");

describe("Extract reads what read_csv reads", { skip }, () => {
  test("rows shorter than the header: the missing fields are NaN", () => {
    extractsAsPandas(`a,b,c\n${rows(12, (i) => (i % 3 ? `${i},${i},x` : `${i}`))}\n`);
  });
  test("a first data row with one field more than the header: pandas' implicit index, written as the split JSON's index", () => {
    extractsAsPandas("a,b\n1,2,3\n4,5\n7,8,9\n");
    extractsAsPandas('a,b\n"q,1",2,3\n"r""s",5,6\nt,7,8\n');
    extractsAsPandas("a,b\n2020-01-01,2,3\n2020-01-02,5,6\n");
    extractsAsPandas("a,b\n1.5,2,3\n,5,6\n");
  });
  test("the pipeline on a CSV with pandas' implicit index: y as scikit-learn splits it, and transform alone reads it back", () => {
    const dir = tempProject();
    fs.writeFileSync(path.join(dir, "in.csv"), `x,y\n${rows(30, (i) => `id${i},${i % 7},${i}`)}\n`);
    assert.equal(runEtl(dir, ["--csv", "in.csv", "--target", "y", "--features", "x"]).status, 0);
    const yTrain = () => fs.readFileSync(path.join(dir, "artifacts/transform_artifacts/y_train.npy"));
    const first = yTrain();
    assert.equal(runEtl(dir, ["transform"]).status, 0);
    assert.deepEqual(yTrain(), first);
    const script = `
import sys, numpy as np, pandas as pd
from sklearn.model_selection import train_test_split
train, _ = train_test_split(pd.read_csv(sys.argv[1])["y"].to_numpy(np.float32), test_size=0.2, random_state=42)
print((np.load(sys.argv[2]) == train).all())`;
    assert.equal(py(script, path.join(dir, "in.csv"), path.join(dir, "artifacts/transform_artifacts/y_train.npy")).trim(), "True");
  });
  test("a row longer than the header is refused, as pandas refuses it, in one line", () => {
    const dir = tempProject();
    fs.writeFileSync(path.join(dir, "in.csv"), "a,b\n1,2\n3,4,5\n");
    expectRefused(dir, ["extract", "--csv", "in.csv"], /in\.csv line 3: expected 2 fields as in the header, saw 3$/m);
  });
  test("a blank header name is Unnamed: j, a repeated one .1, .2, as pandas names them", () => {
    const columns = extractsAsPandas(`a,,b,a,a,0,0,0.1,Unnamed: 1\n${rows(3, (i) => Array(9).fill(i).join(","))}\n`);
    assert.equal(columns.trim(), "['a', 'Unnamed: 1.1', 'b', 'a.1', 'a.2', '0', '0.2', '0.1', 'Unnamed: 1']");
    assert.deepEqual(pandasNames(["a", "", "b", "a", "a", "0", "0", "0.1", "Unnamed: 1"]),
      ["a", "Unnamed: 1.1", "b", "a.1", "a.2", "0", "0.2", "0.1", "Unnamed: 1"]);
  });
  test("a lone CR ends a line anywhere, as LF and CR LF do; inside quotes it is kept", () => {
    extractsAsPandas("t,f,c\n1,2,x\r5\n3,4,y\r\n6,7,\"a\rb\"\r8,9,y\n10,11,x\n");
    extractsAsPandas(`t,f\n${rows(5, (i) => `${i},${i}`)}\n${rows(5, (i) => `${i},${i}`).replace(/\n/g, "\r")}\r`);
    // A lone CR that starts a line (a blank line) eats the separator after it, in pandas.
    extractsAsPandas("a,b,c\n1,2,3\n\r,007,1\r\r,8,9\n");
  });
  test("a quote closed before its field ends: the field goes on unquoted, as pandas' tokenizer reads it", () => {
    extractsAsPandas('a,b\n"x"y,2\n"x""y"z,3\n"x"y"z",4\n"x,"y,5\nq"r,6\n"SELVAGEM 1938, Is,"I,7\n');
  });
  test("extract alone needs no target or features: an all-text file, a one-column file", () => {
    extractsAsPandas("name,city\nann,Paris\nbob,Rome\n");
    extractsAsPandas("only\n1\n2\n");
  });
  test("columns named like numbers read back, by the README's line, as the strings read_csv made them", () => {
    extractsAsPandas("1,2,3\n4,5,6\n7,8,9\n");
  });
  test("columns named like dates read back, by the README's line, as read_csv made them", () => {
    extractsAsPandas("date,modified,created_at,x\n19-Sep-03,2020-01-01,1,2\n20-Sep-03,2020-01-02,3,4\n");
  });
  test("--sep: a semicolon or a tab file, as read_csv(sep=...) reads it", () => {
    extractsAsPandas(`a;b;c\n${rows(4, (i) => `${i};x${i};${i / 2}`)}\n`, ["--sep", ";"]);
    extractsAsPandas(`a\tb\n${rows(4, (i) => `${i}\t"q,${i}"`)}\n`, ["--sep", "\\t"]);
  });
  test("a one-column header holding ';' names --sep in the error", () => {
    const dir = tempProject();
    fs.writeFileSync(path.join(dir, "in.csv"), `a;b\n${rows(12, (i) => `${i};${i}`)}\n`);
    expectRefused(dir, ["--csv", "in.csv", "--target", "b", "--features", "all"], /missing column "b"; the file has "a;b"; .*pass --sep ';'/);
  });
});

describe("names are matched exactly as given", { skip }, () => {
  test("a target and features with spaces in their names can be chosen", () => {
    const dir = tempProject();
    fs.writeFileSync(path.join(dir, "in.csv"), `t ,x, x\n${rows(12, (i) => `${i},${i * 2},${i % 3}`)}\n`);
    const run = runEtl(dir, ["--csv", "in.csv", "--target", "t ", "--features", " x"]);
    assert.equal(run.status, 0, run.stderr);
    const columns = JSON.parse(fs.readFileSync(path.join(dir, "artifacts/transform_artifacts/feature_columns.json"), "utf8"));
    assert.deepEqual(columns, [" x"]);
    expectRefused(dir, ["--csv", "in.csv", "--target", "t", "--features", " x"], /missing column "t"; .*"t " differs from "t" only by spaces or case/);
  });
});

describe("fitting follows scikit-learn", { skip }, () => {
  test("a blank text cell is NaN, a category of its own (<column>_nan), sorted after every text", () => {
    const dir = tempProject();
    const content = `c,x,y\n${rows(40, (i) => `${["b", "a", "", "c"][i % 4]},${i % 7},${i}`)}\n`;
    fs.writeFileSync(path.join(dir, "in.csv"), content);
    const run = runEtl(dir, ["--csv", "in.csv", "--target", "y", "--features", "all"]);
    assert.equal(run.status, 0, run.stderr);
    const folder = path.join(dir, "artifacts/transform_artifacts");
    const script = `
import sys, json, numpy as np
sys.path.insert(0, sys.argv[3])
import reference_pipeline
fitted = reference_pipeline.fit(sys.argv[1], "y", [], 42, 0.2, "median")
ours = json.load(open(sys.argv[2] + "/encoder.json"))
assert ours["categories_"] == [fitted["categories"]["c"]], (ours["categories_"], fitted["categories"])
assert json.load(open(sys.argv[2] + "/feature_columns.json")) == fitted["columns"], fitted["columns"]
for name in ["X_train", "X_val"]:
    assert np.allclose(np.load(sys.argv[2] + f"/{name}.npy"), fitted[name], atol=1e-6), name
print(fitted["columns"])`;
    assert.match(py(script, path.join(dir, "in.csv"), folder, path.join(REPO, "test")), /'c_nan'/);
  });
  test("statistics_ is SimpleImputer's on the float32 array: the middle two's mean in float32", () => {
    const dir = tempProject();
    // 26.5 and 26.6 in the middle of an even count: float32 26.549999..., not 26.550000190...
    const values = [26.5, 26.6, 20, 30, 10, 40, 26.5, 26.6, 5, 50, 26.6, 26.5];
    fs.writeFileSync(path.join(dir, "in.csv"), `x,y\n${values.map((v, i) => `${v},${i}`).join("\n")}\n,99\n`);
    const run = runEtl(dir, ["--csv", "in.csv", "--target", "y", "--features", "x", "--test-size", "0.1"]);
    assert.equal(run.status, 0, run.stderr);
    const ours = JSON.parse(fs.readFileSync(path.join(dir, "artifacts/transform_artifacts/imputer.json"), "utf8")).statistics_[0];
    const script = `
import sys, numpy as np, pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
df = pd.read_csv(sys.argv[1]); X = df[["x"]].to_numpy(np.float32)
train, _ = train_test_split(X, test_size=0.1, random_state=42)
print(repr(float(SimpleImputer(strategy="median").fit(train).statistics_[0])))`;
    assert.equal(ours, Number(py(script, path.join(dir, "in.csv"))));
  });
  test("integers past 2^53 in a float64 column go through float64 first, as pandas and NumPy take them", () => {
    const dir = tempProject();
    const big = "1152921573326323713"; // 2^60 + 2^36 + 1: float32 directly and via float64 differ
    fs.writeFileSync(path.join(dir, "in.csv"), `x,t,u\n${rows(20, (i) => `${i},${big},${big}`)}\n21,1.5,7\n`);
    const run = runEtl(dir, ["--csv", "in.csv", "--target", "t", "--features", "x,u"]);
    assert.equal(run.status, 0, run.stderr);
    const script = `
import sys, numpy as np, pandas as pd
df = pd.read_csv(sys.argv[1])
print(repr(float(np.float32(df["t"][0]))), repr(float(df[["u"]].to_numpy(np.float32)[0, 0])))`;
    const [t, u] = py(script, path.join(dir, "in.csv")).trim().split(" ").map(Number);
    const yTrain = readNpy(path.join(dir, "artifacts/transform_artifacts/y_train.npy")).data;
    assert.ok([...yTrain].every((v) => v === t || v === 1.5), `${[...yTrain]} vs ${t}`);
    assert.notEqual(t, u, "the int64 column u is cast straight to float32, the float64 column t through float64");
  });
  test("a column of text with a few numbers names the numbers, the minority, with counts", () => {
    const dir = tempProject();
    fs.writeFileSync(path.join(dir, "in.csv"), `u,t\n${rows(30, (i) => `mm${i % 3},${i}`)}\n-99,3\n-99,4\n`);
    expectRefused(dir, ["--csv", "in.csv", "--target", "t", "--features", "u"],
      /in\.csv line 32: column "u" is a number, and 2 of its cells are numbers and 30 text; .*--drop u$/m);
  });
});

/** A CSV of rows cut short at random, line endings mixed at random (LF, CR LF, a lone CR), and
 * quoted fields holding separators, line breaks, doubled quotes, or text after their closing
 * quote: the shapes of file read_csv reads that papaparse alone would read otherwise. */
function shapesCsv(seed: number): string {
  const rng = new MT19937(seed);
  const pick = <T>(list: T[]) => list[rng.nextUint32() % list.length];
  const cells = ["1", "-2.5", "", "x", "NA", '"q,1"', '"a\nb"', '"c\rd"', '"e""f"', '"g"h', '"i,"j', "True", "007"];
  const width = 2 + (rng.nextUint32() % 5);
  const header = Array.from({ length: width }, (_, j) => (rng.nextUint32() % 6 === 0 ? "" : `c${j % 4}`));
  let text = header.join(",");
  for (let r = 0; r < 40; r++) {
    text += pick(["\n", "\r\n", "\r"]);
    if (rng.nextUint32() % 15 === 0) continue; // a blank line
    const length = rng.nextUint32() % 4 === 0 ? 1 + (rng.nextUint32() % width) : width;
    text += Array.from({ length }, () => pick(cells)).join(",");
  }
  return text + "\n";
}

describe("the shapes of file read_csv reads, fuzzed: short rows, mixed endings, quotes", { skip }, () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    test(`seed ${seed}`, () => {
      extractsAsPandas(shapesCsv(seed));
    });
  }
});
