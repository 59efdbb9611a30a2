// # etl.ts
//
// **Extract, Transform and Load for tabular machine-learning data, in one file.** This is a
// TypeScript port of a small Python pipeline (pandas, then scikit-learn, then PyTorch). It turns
// a CSV into standardized float32 train and validation arrays and describes the mini-batches a
// training loop cuts from them, leaving after every step an artifact NumPy or pandas can open:
//
// 1. **Extract** reads `data/ccr_mock.csv`, writes the table as pandas JSON, `data/ccr_raw.json`.
// 2. **Transform** writes `X_train.npy`, `X_val.npy`, `y_train.npy`, `y_val.npy`, the fitted
//    `scaler.json`, `imputer.json`, `encoder.json`, `feature_columns.json`, in
//    `artifacts/transform_artifacts/`.
// 3. **Load** writes `{train,val}_loader_info.json` in `artifacts/loader_artifacts/`.
//
// Last comes `artifacts/manifest.json`, which pins the input and every artifact by sha256.
//
// "The same artifacts" is meant literally: on the original's own data the `.npy` files are
// byte-identical to the ones NumPy wrote, because the split replays NumPy's random generator
// and the scaler repeats scikit-learn's arithmetic operation for operation. The references:
// pandas 1.5's `read_csv`, NumPy's `RandomState`, scikit-learn 1.8's `StandardScaler` (1.2 is
// at most one float32 step away). A fourth step, `apply`, sends new rows through the fitted
// transform, for inference.
//
// Left out on purpose: the model and its training loop, DataLoader worker processes, and silent
// repairs. A blank number is imputed from the train rows and a blank text is a category of its
// own, as scikit-learn would have them, but a cell that cannot be used (text among numbers, a
// blank target) stops the run, naming its line.
//
//     npx tsx etl.ts                   # the three steps
//     npx tsx etl.ts transform         # one step, on what the step before it left
//     npx tsx etl.ts apply --csv F     # new rows through the fitted transform
//     npx tsx etl.ts --help            # the flags
//
// **Contents.** Part I, the pipeline: `PATHS`, `CONFIG`; `runPipeline()`; Steps 1 to 4. Part II,
// how it is made exact, fast and safe: exact NumPy; reading a big CSV fast, as pandas reads it;
// the errors and their lines; files that are never torn; when the system says no; signals; the
// second core; the manifest; printing; the command line and `main()`. Part II can be skipped on
// a first reading.

import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { WrapperMatrix1D } from "ml-matrix";
import Papa from "papaparse";

// # Part I: the pipeline
//
// ## PATHS and CONFIG
//
// Every file the pipeline touches, and every setting, each in one place. The artifacts go under
// one output folder, the project's unless `--out DIR` names another; every setting in `CONFIG`
// but `shuffleTrain` has a command-line flag.

/** The project: where etl.ts is, its mock data beside it. */
const PROJECT = path.dirname(fileURLToPath(import.meta.url));

/** Every input and artifact path: the artifacts under the output folder `out`. */
export function pathsUnder(out: string) {
  const transformDir = path.join(out, "artifacts", "transform_artifacts");
  const loaderDir = path.join(out, "artifacts", "loader_artifacts");
  const inferenceDir = path.join(out, "artifacts", "inference_artifacts");
  return {
    out,
    csv: path.join(PROJECT, "data", "ccr_mock.csv"), //    the input, unless --csv names another
    raw: path.join(out, "data", "ccr_raw.json"), //         Extract's artifact
    transformDir,
    xTrain: path.join(transformDir, "X_train.npy"), //     Transform's artifacts
    xVal: path.join(transformDir, "X_val.npy"),
    yTrain: path.join(transformDir, "y_train.npy"),
    yVal: path.join(transformDir, "y_val.npy"),
    scaler: path.join(transformDir, "scaler.json"),
    imputer: path.join(transformDir, "imputer.json"),
    encoder: path.join(transformDir, "encoder.json"),
    featureColumns: path.join(transformDir, "feature_columns.json"),
    loaderDir,
    trainLoaderInfo: path.join(loaderDir, "train_loader_info.json"), // Load's artifacts
    valLoaderInfo: path.join(loaderDir, "val_loader_info.json"),
    inferenceDir,
    xNew: path.join(inferenceDir, "X_new.npy"), //        Apply's artifacts
    yNew: path.join(inferenceDir, "y_new.npy"),
    manifest: path.join(out, "artifacts", "manifest.json"), // what the others are
  };
}
export type Paths = ReturnType<typeof pathsUnder>;
export const PATHS: Paths = pathsUnder(PROJECT);

export const CONFIG = {
  csv: PATHS.csv, //                      input table (--csv)
  features: [ //                          inputs, or "all" (--features); X: numbers, then text
    "gpa", "attendance_rate", "sat_math", "sat_ebrw",
    "cte_hours", "internship", "career_interest_clarity", "self_efficacy",
  ] as string[] | "all",
  target: "readiness_score", //           what the model predicts: y (--target)
  sep: ",", //                            the CSV's field separator, as pandas' sep (--sep)
  drop: [] as string[], //                columns never used as features, such as an id (--drop)
  impute: "median" as "median" | "mean", // what a blank numeric feature becomes (--impute)
  maxCategories: 0, //                    0: 1,000, under half the cells (--max-categories)
  testSize: 0.2, //                       fraction of rows held out for validation (--test-size)
  seed: 42, //                            seeds the split and the train shuffle (--seed)
  batchSize: 32, //                       rows per mini-batch (--batch-size)
  shuffleTrain: true, //                  the train loader is a shuffled one (Step 3); val never
};
export type Config = typeof CONFIG;

// ## The whole run
//
// Each step is one call, and hands the next what it made: the table, then the arrays. A step run
// alone (`npx tsx etl.ts transform`) reads what the step before it left on disk. Nothing is
// written in place: `out`, a `Staging` (Part II), gives every file a temporary name, and
// `out.commit()` renames them all, the manifest with them, only once every step has succeeded.

/** Runs `step` (or all three steps) with `config`, writing under `paths`. */
export async function runPipeline(
  config: Config, paths: Paths = PATHS, step: Step | "all" = "all", out = new Staging(paths),
): Promise<void> {
  const runs = (s: Step) => step === "all" || step === s;
  let table: Table | undefined;
  let arrays: Arrays | undefined;
  const alone = step === "extract"; //  extract alone reads any CSV pandas reads: it keeps no column
  if (runs("extract")) table = await extract(config, out, paths, alone); // CSV -> ccr_raw.json
  if (runs("transform")) {
    table ??= await readRawTable(paths.raw, config); //            ccr_raw.json -> table
    arrays = transform(table, config, out, paths); //              table -> X, y, fitted state
  }
  if (runs("load")) load(arrays ?? readArrays(paths.transformDir), config, out, paths);
  if (step === "apply") await apply(config, out, paths); //         new rows -> X_new.npy
  // The manifest names the features used: "all" resolved to the columns it meant.
  const used = table && !alone ? { ...config, features: table.kept.slice(0, -1) } : config;
  await out.commit(used, step); //          every file renamed into place, the manifest with them
}

// ## Step 1: Extract
//
// *CSV -> the table, and data/ccr_raw.json.* The CSV goes through papaparse a chunk of rows at a
// time, each cell read as pandas' `read_csv` reads it. Memory keeps the columns the later steps
// use, the features and the target, as float32; the raw artifact (pandas' "split" JSON, a line
// per row) is written as the rows go by, and must read back as the frame `read_csv` makes, an
// integer column as int64 and text as text. What a cell is, to pandas 1.5's `read_csv`:
//
// - **missing**: empty, or exactly one of pandas' NA strings (`NA`, `n/a`, `NaN`, ...);
// - an **integer**: digits with an optional sign, spaces around allowed (` 3`, `+7`, `007`);
// - a **float**: a decimal number (`-2.5`, `.5`, `1e5`, ` 3.1 `) as pandas' own parser reads it
//   (past 15 digits it can differ from JavaScript's), or `inf`/`infinity` in any case, signed;
//   a number beyond float64's range is no float, and pandas keeps it as text;
// - a **boolean**: `true` or `false`, in any case; anything else is **text**.
//
// A column's dtype comes from all its cells (`dtypeOf`, Part II), read_csv trying one dtype
// after another: `int64` when every cell is an integer that fits, `uint64` when one does not fit
// int64 but all fit a uint64, `float64` when every cell is a number (or missing: NaN), `bool`
// when every cell is a boolean, `object` (text) otherwise. Each try stops at the first cell it
// cannot read, so where integers beyond int64 meet fractions the order of the cells decides, in
// pandas as here. The rows and names are read_csv's too: LF, CR LF and a lone CR each end a
// line; a short row's missing fields are missing cells; a blank name is `Unnamed: j`, a repeat
// `name.1`; a first row with one field more than the header makes each row's first field the index.
//
// The kept columns have stricter rules, since a typo must not become a feature: the target is a
// number in every row; a feature is all numbers (booleans are 1 and 0, blanks are imputed in
// Step 2) or all text (one-hot encoded, with at most `--max-categories` distinct values over the
// whole column: unless the flag says otherwise, 1,000, and past 20 no more than half its cells,
// since a column of nearly all distinct values is an id or free text); no number is infinite
// or beyond float32's range. A cell that breaks a rule stops the run, naming its line. Text is
// kept as it is, spaces and case included.

/**
 * The table as the later steps need it: every column's name, and the kept columns' cells.
 *   blocks: the rows in file order, in blocks of consecutive rows (as they were read), each
 *           (rows, kept.length) float32, row-major: a number as it is, a text cell as the
 *           index of its value in `text`, a missing cell as NaN
 */
export interface Table {
  columns: string[]; //         every header name, in file order
  nRows: number;
  kept: string[]; //            the columns kept in memory: the features, then the target
  text: (string[] | null)[]; // per kept column: null when numeric, else its distinct values
  missing: number; //           how many kept cells are missing
  blocks: Float32Array[];
}

/**
 * Reads `config.csv` into a Table, and writes data/ccr_raw.json through `out`. `alone`: no later
 * step will use the table, so no column is kept or checked (those steps check their own).
 */
export async function extract(
  config: Config, out: Staging, paths: Paths = PATHS, alone = false,
): Promise<Table> {
  const file = config.csv;
  const keep = (header: string[]) => (alone ? [] : keptColumns(file, header, config));
  const { target, maxCategories } = config;
  //     pandas: df = pd.read_csv(RAW_CSV); df.to_json("ccr_raw.json", orient="split")
  const reading = { target, maxCategories, json: paths.raw, sep: config.sep };
  const { table, dtypes, head, input } = await readCsv(file, out, keep, reading);
  out.input = input; // the manifest pins the CSV by its size and sha256
  //     pandas: print(df.shape); print(df.dtypes); print(df.head(3))
  printExtract(file, paths.raw, table, dtypes, head);
  return table;
}

/**
 * The columns to keep: the features (for "all", every column but the target and --drop), then
 * the target. A column the flags name must be in the header.
 */
export function keptColumns(file: string, header: string[], config: Config): string[] {
  const listed = config.features === "all" ? [] : config.features;
  const named = [config.target, ...listed, ...config.drop];
  const inHeader = new Set(header);
  const unknown = [...new Set(named.filter((name) => !inHeader.has(name)))];
  if (unknown.length > 0) {
    throw missingColumns(file, unknown, header, defaultsHint(config, unknown, header));
  }
  const candidates = config.features === "all" ? header : config.features;
  const isFeature = (name: string) => name !== config.target && !config.drop.includes(name);
  const features = candidates.filter(isFeature);
  if (features.length === 0) throw noFeaturesLeft(file);
  return [...features, config.target];
}

// ## Step 2: Transform
//
// *The table -> X and y, split, imputed, encoded and scaled, saved as .npy.* The Python
// original's transform, which this step follows, with two fitters added for a CSV of your own:
//
//     X = df[FEATURES].to_numpy(dtype=np.float32)
//     y = df[TARGET].to_numpy(dtype=np.float32)
//     X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2, random_state=42)
//     scaler = StandardScaler()
//     X_train = scaler.fit_transform(X_train).astype(np.float32)
//     X_val = scaler.transform(X_val).astype(np.float32)
//
// The table is float32 already, what the model trains in. On a CSV of your own, blank numbers
// are imputed and text columns one-hot encoded before scaling (scikit-learn's `SimpleImputer`
// and `OneHotEncoder`). All three are fitted on the train rows only: statistics that had seen
// the validation rows would leak them into training, and the validation score would promise
// more than the model can keep on new data.

/** The transformed arrays. X_*: (n, d) float32 row-major; y_*: (n,) float32; d: nFeatures. */
export type Arrays = Record<"xTrain" | "xVal" | "yTrain" | "yVal", Float32Array> & {
  nFeatures: number;
};

/** Splits, imputes, encodes and scales the table; writes the arrays and the fitted state. */
export function transform(table: Table, config: Config, out: Staging, paths = PATHS): Arrays {
  //     sklearn: train_test_split(X, y, test_size=0.2, random_state=42)
  const { order, train, test } = trainTestSplit(table.nRows, config.testSize, config.seed);
  const [nTrain, nVal] = [train.length, test.length];
  //     numpy: X = df[FEATURES].to_numpy(np.float32)[order]; y = df[TARGET]...[order]
  const { X: raw, y } = rowsInOrder(table, order); //       raw: (n, width), y: (n,) float32
  // The validation rows come first in `order`: each split is a view of one array, not a copy.
  const width = table.kept.length - 1; //                  the raw feature columns
  const rawTrain = raw.subarray(nVal * width); //          (nTrain, width) float32
  //     sklearn: SimpleImputer(strategy="median").fit(X_train_numeric)
  const imputer = fitImputer(table, rawTrain, config.impute);
  //     sklearn: OneHotEncoder(drop="first", handle_unknown="ignore").fit(X_train_text)
  const encoder = fitEncoder(table, rawTrain);
  const columns = encodedColumns(imputer, encoder); //     X's d column names
  const d = columns.length;
  if (d === 0) throw noColumnsInX(encoder.feature_names_in_); // scikit-learn refuses it too
  const X = encodeFeatures(table, raw, imputer, encoder); // X: (n, d) float32, row-major
  const xVal = X.subarray(0, nVal * d); //                  X_val: (nVal, d) float32
  const xTrain = X.subarray(nVal * d); //                   X_train: (nTrain, d) float32
  const yVal = y.subarray(0, nVal); //                      y_val: (nVal,) float32
  const yTrain = y.subarray(nVal); //                       y_train: (nTrain,) float32

  //     sklearn: scaler = StandardScaler().fit(X_train)
  const scaler = fitStandardScaler(xTrain, d); //           mean_, var_, scale_: (d,) float64
  //     sklearn: X_train = scaler.transform(X_train); X_val = scaler.transform(X_val)
  standardize(xTrain, scaler); //                          in place
  standardize(xVal, scaler);
  const after = columnMeansAndStds(xTrain, d); //          the printed check: 0 and 1
  const arrays = { xTrain, xVal, yTrain, yVal, nFeatures: d };

  //     numpy: np.save("X_train.npy", X_train), and so on (`columns`: for an error's message)
  out.writeArray(paths.xTrain, xTrain, [nTrain, d], columns);
  out.writeArray(paths.xVal, xVal, [nVal, d], columns);
  out.writeArray(paths.yTrain, yTrain, [nTrain]);
  out.writeArray(paths.yVal, yVal, [nVal]);
  // The fitted state as JSON, in scikit-learn's own names (the original pickled its scaler).
  const scalerState = { ...scaler, n_features_in_: d, feature_names_in_: columns };
  out.write(paths.scaler, json({ ...scalerState, with_mean: true, with_std: true }));
  out.write(paths.imputer, json(imputer));
  out.write(paths.encoder, json({ ...encoder, drop: "first", handle_unknown: "ignore" }));
  //     python: json.dump(FEATURES, f, indent=2), here X's d column names, one-hot ones included
  out.write(paths.featureColumns, JSON.stringify(columns, null, 2));
  printTransform(columns, scaler, arrays, after);
  return arrays;
}

/**
 * The rows train_test_split(test_size, random_state=seed) picks: the validation ("test") rows are
 * the first ceil(testSize * n) of `np.random.RandomState(seed).permutation(n)`, the train rows
 * the rest, in permutation order; the permutation is NumPy's own, replayed bit for bit (Part II).
 */
export function trainTestSplit(n: number, testSize: number, seed: number) {
  const nTest = Math.ceil(testSize * n);
  if (n - nTest < 1) throw tooFewRows(n, testSize, nTest);
  const order = permutation(n, new MT19937(seed)); // NumPy's Mersenne Twister; (n,) uint32
  return { order, test: order.subarray(0, nTest), train: order.subarray(nTest) };
}

// ### SimpleImputer and OneHotEncoder
//
// A blank number becomes its column's median (or mean) over the train rows, taken in float32 as
// NumPy takes it of a float32 array. A text column becomes one 0/1 column per distinct train
// value but the first, in sorted order, named `<column>_<value>` as scikit-learn names them. A
// blank is a category of its own, as scikit-learn makes NaN one: sorted after every text, named
// `<column>_nan`, written `null` in encoder.json. A value the train rows never had is all zeros.
// (The Python original's second variant, for any CSV, imputed before the split, which lets the
// validation rows shape the training data.)

/** SimpleImputer(strategy)'s learned state: what a missing cell of each numeric feature becomes. */
export interface Imputer {
  strategy: "median" | "mean";
  feature_names_in_: string[]; // the numeric feature columns, in X's order
  statistics_: number[]; //     one per column: float32 values for the median, float64 the mean
}

/** OneHotEncoder(drop="first", handle_unknown="ignore")'s learned state. */
export interface Encoder {
  feature_names_in_: string[]; // the text feature columns, in X's order
  categories_: (string | null)[][]; // per column, its distinct train values, sorted; null: NaN
}

/**
 * SimpleImputer(strategy).fit on the numeric features' train rows: each column's median (or
 * mean) over its non-missing train values, as NumPy takes them of a float32 array.
 *   rawTrain: (nTrain, width) float32, as rowsInOrder lays the features out; NaN is missing
 */
export function fitImputer(
  table: Table, rawTrain: Float32Array, strategy: Config["impute"],
): Imputer {
  const width = table.kept.length - 1;
  const numeric = table.kept.slice(0, -1).filter((_, k) => table.text[k] === null);
  const columns = numeric.map(positionsIn(table.kept)); // their places among the kept columns
  const statistics = strategy === "median"
    ? columnMedians(rawTrain, width, columns) // np.nanmedian(X_train, axis=0)
    : columnMeans(rawTrain, width, columns); //  np.nanmean(X_train, axis=0)
  const empty = statistics.findIndex((value) => Number.isNaN(value));
  if (empty >= 0) throw blankInEveryTrainRow(numeric[empty], "nothing to impute it from");
  return { strategy, feature_names_in_: numeric, statistics_: statistics };
}

/**
 * OneHotEncoder(drop="first", handle_unknown="ignore").fit on the text features' train rows:
 * each column's distinct train values, sorted as Python sorts strings (byCodePoint, Part II).
 *   rawTrain: (nTrain, width) float32, a text cell as the index of its value in table.text
 */
export function fitEncoder(table: Table, rawTrain: Float32Array): Encoder {
  const width = table.kept.length - 1;
  const encoder: Encoder = { feature_names_in_: [], categories_: [] };
  for (let k = 0; k < width; k++) {
    const text = table.text[k];
    if (text === null) continue;
    const seen = new Uint8Array(text.length); // seen[code]: the value occurs in a train row
    let blank = false; //                          a train row is blank here: NaN is a category
    for (let i = k; i < rawTrain.length; i += width) {
      if (Number.isNaN(rawTrain[i])) blank = true;
      else seen[rawTrain[i]] = 1;
    }
    const categories: (string | null)[] = text.filter((_, code) => seen[code]).sort(byCodePoint);
    if (categories.length === 0) throw blankInEveryTrainRow(table.kept[k], "no category to learn");
    if (blank) categories.push(null); // sklearn: NaN sorts after every string
    encoder.feature_names_in_.push(table.kept[k]);
    encoder.categories_.push(categories);
  }
  return encoder;
}

/** X's column names: the numeric features, then `<column>_<value>` per category but the first. */
export function encodedColumns(imputer: Imputer, encoder: Encoder): string[] {
  const oneHot = encoder.feature_names_in_.flatMap((name, t) =>
    encoder.categories_[t].slice(1).map((value) => `${name}_${value ?? "nan"}`),
  );
  return [...imputer.feature_names_in_, ...oneHot];
}

/**
 * The model's input: numeric features with blanks imputed, then each text feature one-hot, a
 * never-seen value (and the dropped first category) all zeros, a blank its `_nan` column.
 *   raw: (n, width) float32, as rowsInOrder lays the features out; blanks are filled in place
 *   returns X: (n, d) float32, row-major, d = encodedColumns().length; `raw` itself when every
 *   feature is numeric
 */
export function encodeFeatures(
  table: Table, raw: Float32Array, imputer: Imputer, encoder: Encoder,
): Float32Array {
  const width = table.kept.length - 1;
  const n = raw.length / width;
  const keptAt = positionsIn(table.kept); // a column's place among the kept columns
  const numeric = imputer.feature_names_in_.map(keptAt);
  //     sklearn: imputer.transform(X_numeric)
  if (table.missing > 0) fillMissing(raw, width, numeric, imputer.statistics_);
  if (encoder.feature_names_in_.length === 0) return raw; // all numeric, in the fitted order
  const d = encodedColumns(imputer, encoder).length;
  const X = float32Array(n * d, `X (${n} rows x ${d} columns)`); // X: (n, d) float32, zeros
  for (let c = 0; c < numeric.length; c++) {
    for (let i = 0; i < n; i++) X[i * d + c] = raw[i * width + numeric[c]];
  }
  //     sklearn: encoder.transform(X_text)
  let offset = numeric.length;
  encoder.feature_names_in_.forEach((name, t) => {
    const k = keptAt(name);
    const categories = encoder.categories_[t];
    // This table's text codes -> their one-hot column, or -1 for zeros.
    const columnOf = (value: string | null) => {
      const c = categories.indexOf(value);
      return c > 0 ? offset + c - 1 : -1;
    };
    const column = Int32Array.from(table.text[k] ?? [], columnOf);
    const blank = columnOf(null); // NaN's column, when it is a category and not the first
    for (let i = 0; i < n; i++) {
      const code = raw[i * width + k];
      const c = Number.isNaN(code) ? blank : column[code];
      if (c >= 0) X[i * d + c] = 1;
    }
    offset += categories.slice(1).length; // its columns, as encodedColumns() names them
  });
  return X;
}

// ### StandardScaler
//
// The scaler is ml-matrix's column statistics over a `WrapperMatrix1D`, which wraps the
// Float32Array as a (n, d) matrix without copying it. Its sums run row after row in float64, as
// scikit-learn's `np.sum(X, axis=0, dtype=np.float64)` does on a C-ordered array, and its
// variance is the biased one with scikit-learn's correction term, `(sum(c^2) - sum(c)^2 / n) /
// n` for c = x - mean: the same operations in the same order, so mean_, var_ and scale_ agree
// with scikit-learn to the bit. And as in scikit-learn, a column that is constant up to rounding
// gets scale 1, so that dividing by it changes nothing.

/** Learned state, named as scikit-learn names it. mean_, var_, scale_: (d,) float64. */
export interface StandardScaler {
  mean_: number[];
  var_: number[];
  scale_: number[];
  n_samples_seen_: number;
}

/** StandardScaler().fit(X) for X: (n, d) float32, row-major. */
export function fitStandardScaler(X: Float32Array, d: number): StandardScaler {
  const n = X.length / d;
  const matrix = new WrapperMatrix1D(X, { rows: n }); // a (n, d) view of X, no copy
  const mean = matrix.mean("column"); //                 np.sum(X, axis=0, dtype=float64) / n
  const variance = matrix.variance("column", { unbiased: false, mean });
  const scale = variance.map((v, j) => (isConstant(v, mean[j], n) ? 1 : Math.sqrt(v)));
  return { mean_: mean, var_: variance, scale_: scale, n_samples_seen_: n };
}

/**
 * scaler.transform(X), in place: (X - mean_) / scale_ for X: (n, d) float32, row-major, as
 * scikit-learn 1.8 computes it for float32 input: mean_ and scale_ are rounded to float32
 * first, and each result is rounded to float32 as the Float32Array stores it (an operation on
 * two float32 values, done in float64 and rounded once, is the float32 operation's result).
 */
export function standardize(X: Float32Array, scaler: StandardScaler): void {
  const matrix = new WrapperMatrix1D(X, { rows: X.length / scaler.mean_.length });
  matrix.subRowVector(Array.from(Float32Array.from(scaler.mean_)));
  matrix.divRowVector(Array.from(Float32Array.from(scaler.scale_)));
}

// ## Step 3: Load
//
// *The arrays -> mini-batches, as a PyTorch `DataLoader(batch_size=32, drop_last=False)` cuts
// them, and each loader's metadata as JSON.* A run writes only the metadata: `batches()` cuts
// the batches when a training loop asks (the README has one). The sizes are PyTorch's; the train
// order is not torch's generator but NumPy's (`epochOrder()`), so that Python can replay it: a new
// order every epoch when asked with `shuffle: true`, as the train loader's metadata says, and the
// validation rows always in the split's order, so that an evaluation can be repeated.

/**
 * How batches() cuts: `batchSize` rows at a time; with `shuffle`, in epochOrder(n, seed, epoch),
 * else (validation, inference) in the arrays' order, the batches views of them.
 */
export type BatchOptions = { batchSize: number; shuffle: boolean; seed: number; epoch: number };

/** What batches() does when an option is left out: CONFIG's batch size, seed, no shuffle. */
const BATCH_DEFAULTS = { batchSize: CONFIG.batchSize, shuffle: false, seed: CONFIG.seed, epoch: 0 };

/**
 * The row order for one epoch, from NumPy's generator rather than torch's, the same on every run:
 * np.random.RandomState([seed, epoch]).permutation(n); null for no shuffle.
 */
export function epochOrder(n: number, options: Partial<BatchOptions> = {}): Uint32Array | null {
  const { shuffle, seed, epoch } = { ...BATCH_DEFAULTS, ...options };
  return shuffle ? permutation(n, new MT19937([seed, epoch])) : null;
}

/**
 * Yields every row once, batchSize rows at a time, the last batch short.
 *   X: (n, d) float32 row-major, y: (n,) float32
 *   yields x: (b, d) float32, row-major; y: (b,) float32, which holds the same b values in the
 *   same order as PyTorch's (b, 1) target batch: a (b, 1) array is (b,) with one more axis.
 */
export function* batches(
  X: Float32Array, y: Float32Array, options: Partial<BatchOptions> = {},
): Generator<{ x: Float32Array; y: Float32Array }> {
  const { batchSize } = { ...BATCH_DEFAULTS, ...options };
  const n = y.length;
  const d = X.length / n;
  const order = epochOrder(n, options);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(start + batchSize, n);
    if (!order) {
      yield { x: X.subarray(start * d, end * d), y: y.subarray(start, end) }; // views, no copy
      continue;
    }
    const x = new Float32Array((end - start) * d); // x: (b, d) float32
    const yBatch = new Float32Array(end - start); //  y: (b,) float32
    for (let i = 0; i < end - start; i++) {
      const row = order[start + i];
      for (let j = 0; j < d; j++) x[i * d + j] = X[row * d + j];
      yBatch[i] = y[row];
    }
    yield { x, y: yBatch };
  }
}

/** The original's loader metadata, plus num_samples and drop_last. */
export function loaderInfo(X: Float32Array, y: Float32Array, options: BatchOptions) {
  const n = y.length;
  const first = Math.min(options.batchSize, n); // rows in the first batch
  return {
    batch_size: options.batchSize, num_workers: 0, shuffle_train: options.shuffle,
    num_batches: Math.ceil(n / options.batchSize),
    example_batch_X_shape: [first, X.length / n], example_batch_y_shape: [first, 1],
    num_samples: n, drop_last: false,
  };
}

/** Writes both loaders' metadata. */
export function load(arrays: Arrays, config: Config, out: Staging, paths: Paths = PATHS): void {
  const options = { batchSize: config.batchSize, seed: config.seed, epoch: 0 };
  const shuffle = config.shuffleTrain;
  //     torch: DataLoader(train, batch_size=32, shuffle=True); DataLoader(val, batch_size=32)
  const train = loaderInfo(arrays.xTrain, arrays.yTrain, { ...options, shuffle });
  const val = loaderInfo(arrays.xVal, arrays.yVal, { ...options, shuffle: false });
  //     python: json.dump(info, f, indent=2)
  out.write(paths.trainLoaderInfo, JSON.stringify(train, null, 2));
  out.write(paths.valLoaderInfo, JSON.stringify(val, null, 2));
  printLoad(config.batchSize, train, val);
}

// ## Step 4: Apply
//
// *New rows -> X_new.npy, through the fitted transform, exactly as the validation rows went.*
// Only the fitted state is read (scaler.json, imputer.json, encoder.json): a blank number becomes
// the train rows' statistic, a blank text its `_nan` column (all zeros if the train rows had no
// blank), an unseen category all zeros, and the columns may come in any order.

/** Reads `config.csv` (new rows) and writes X_new.npy, and y_new.npy when the target is there. */
export async function apply(config: Config, out: Staging, paths: Paths = PATHS): Promise<void> {
  //     python: scaler = pickle.load(open("scaler.pkl", "rb"))
  const { scaler, imputer, encoder } = readFittedState(paths);
  const file = config.csv;
  const features = [...imputer.feature_names_in_, ...encoder.feature_names_in_];
  // Every fitted feature must be there; a target the file lacks is a column of zeros, unused.
  const keep = (header: string[]) => [...featuresIn(file, header, features), config.target];
  //     pandas: df = pd.read_csv(NEW_CSV); the text features are read as text, whatever they hold
  const categorical = encoder.feature_names_in_; // unseen categories: all zeros, no limit on them
  const reading = { target: config.target, maxCategories: Infinity, categorical, sep: config.sep };
  const { table, input } = await readCsv(file, out, keep, reading);
  const keptAt = positionsIn(table.kept); // a column's place among the kept ones
  const textual = imputer.feature_names_in_.find((name) => table.text[keptAt(name)]);
  if (textual) throw textWhereNumbersWere(file, textual);
  const identity = Uint32Array.from({ length: table.nRows }, (_, i) => i); // file order
  const { X: raw, y } = rowsInOrder(table, identity); //     raw: (n, width), y: (n,)
  const X = encodeFeatures(table, raw, imputer, encoder); //  X: (n, d) float32
  standardize(X, scaler); // sklearn: X_new = scaler.transform(X_new)
  const d = scaler.mean_.length;
  out.writeArray(paths.xNew, X, [table.nRows, d], encodedColumns(imputer, encoder));
  const hasTarget = table.columns.includes(config.target);
  if (hasTarget) out.writeArray(paths.yNew, y, [table.nRows]);
  else out.obsolete.push(paths.yNew); // an older run's targets would not belong to these rows
  out.input = input;
  printApply(file, paths, table.nRows, d, hasTarget);
}

// # Part II: how it is made exact, fast and safe

// ## Exact NumPy: the Mersenne Twister, the median, the .npy format
//
// scikit-learn's train_test_split(random_state=42) draws np.random.RandomState(42).permutation(n).
// RandomState is the 32-bit Mersenne Twister (MT19937); replaying it word for word is the only
// way to pick the same rows, and the same rows are what makes the artifacts byte-identical.

const MT_N = 624; // words of state
const MT_M = 397; // the twist's middle word

export class MT19937 {
  private readonly state = new Uint32Array(MT_N);
  private index = MT_N;

  /** An integer seeds as RandomState(seed) does; an array as RandomState([a, b, ...]). */
  constructor(seed: number | number[]) {
    if (typeof seed === "number") this.seedInteger(seed);
    else this.seedArray(seed);
  }

  private seedInteger(seed: number): void {
    const mt = this.state;
    mt[0] = seed >>> 0;
    for (let i = 1; i < MT_N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = Math.imul(1812433253, prev) + i;
    }
  }

  private seedArray(key: number[]): void {
    const mt = this.state;
    this.seedInteger(19650218);
    let [i, j] = [1, 0];
    for (let k = Math.max(MT_N, key.length); k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (mt[i] ^ Math.imul(prev, 1664525)) + key[j] + j;
      i++;
      j++;
      if (i >= MT_N) { mt[0] = mt[MT_N - 1]; i = 1; }
      if (j >= key.length) j = 0;
    }
    for (let k = MT_N - 1; k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (mt[i] ^ Math.imul(prev, 1566083941)) - i;
      i++;
      if (i >= MT_N) { mt[0] = mt[MT_N - 1]; i = 1; }
    }
    mt[0] = 0x80000000;
  }

  private twist(): void {
    const mt = this.state;
    for (let i = 0; i < MT_N; i++) {
      const y = (mt[i] & 0x80000000) | (mt[(i + 1) % MT_N] & 0x7fffffff);
      mt[i] = mt[(i + MT_M) % MT_N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.index = 0;
  }

  nextUint32(): number {
    if (this.index >= MT_N) this.twist();
    let y = this.state[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
}

/** np.random.RandomState(seed).permutation(n): Fisher-Yates from the last element down. */
export function permutation(n: number, rng: MT19937): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    // NumPy's legacy random_interval: j masked to the smallest 2^k - 1 >= i, redrawn while past i.
    const mask = 0xffffffff >>> Math.clz32(i);
    let j = (rng.nextUint32() & mask) >>> 0;
    while (j > i) j = (rng.nextUint32() & mask) >>> 0;
    const swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
  return order;
}

/**
 * np.nanmedian(rows, axis=0) for the `columns` of rows: (n, width) float32, NaN left out (NaN
 * for a column with none); for an even count, the float32 mean of the two middle values, as
 * NumPy takes it of a float32 array (SimpleImputer's statistics_ are float32 then). The simple
 * version sorts each column; past a few rows, a radix select counts instead, no sort or copy, in
 * two passes for up to eight columns at a time. A float32's bits, flipped (all for a negative
 * number, the sign bit for any other), order as unsigned integers as the numbers do: counts of
 * the top 16 bits find the two middle values' buckets, counts of the low 16 bits the values.
 */
export function columnMedians(rows: Float32Array, width: number, columns: number[]): number[] {
  if (rows.length / width < 1 << 16) return columns.map((k) => sortedMedian(rows, width, k));
  const bits = new Uint32Array(rows.buffer, rows.byteOffset, rows.length);
  const medians: number[] = [];
  for (let at = 0; at < columns.length; at += 8) {
    medians.push(...radixMedians(bits, width, columns.slice(at, at + 8)));
  }
  return medians;
}

/** The simple version: column k's values in order, and the middle one or two. */
function sortedMedian(rows: Float32Array, width: number, k: number): number {
  const values = Float32Array.from({ length: rows.length / width }, (_, i) => rows[i * width + k]);
  const sorted = values.filter((value) => value === value).sort();
  const m = sorted.length;
  return m === 0 ? NaN : middle(sorted[(m - 1) >> 1], sorted[m >> 1]);
}

/** The mean of two float32 values in float32: their sum rounded to float32, then halved. */
const middle = (lower: number, upper: number) => Math.fround(Math.fround(lower + upper) / 2);

/** The medians of the `columns` of rows, a float32's bits each: (n, width) uint32. */
function radixMedians(bits: Uint32Array, width: number, columns: number[]): number[] {
  const m = columns.length;
  const high = new Uint32Array(m << 16); // per column, how many values in each top-16-bits bucket
  const n = new Float64Array(m); //          per column, how many values are not missing
  for (let i = 0; i < bits.length; i += width) {
    for (let c = 0; c < m; c++) {
      const b = bits[i + columns[c]];
      if ((b & 0x7fffffff) > 0x7f800000) continue; // NaN: a missing cell
      high[(c << 16) | (orderedBits(b) >>> 16)]++;
      n[c]++;
    }
  }
  // Per column, the two middle ranks (one twice for an odd count), their buckets, ranks in those.
  const ranks = [...n].flatMap((count) => [(count - 1) >> 1, count >> 1]);
  const buckets = ranks.map((_, r) => {
    let b = 0;
    while (ranks[r] >= high[((r >> 1) << 16) | b]) ranks[r] -= high[((r >> 1) << 16) | b++];
    return b;
  });
  const low = new Uint32Array(m << 17); // per middle value, its bucket's counts by the low 16 bits
  for (let i = 0; i < bits.length; i += width) {
    for (let c = 0; c < m; c++) {
      const b = bits[i + columns[c]];
      if ((b & 0x7fffffff) > 0x7f800000) continue;
      const key = orderedBits(b);
      if (key >>> 16 === buckets[2 * c]) low[(c << 17) | (key & 0xffff)]++;
      else if (key >>> 16 === buckets[2 * c + 1]) low[(c << 17) | 65536 | (key & 0xffff)]++;
    }
  }
  return columns.map((_, c) => {
    if (n[c] === 0) return NaN;
    const [lower, upper] = [0, 1].map((t) => {
      const r = 2 * c + t;
      const counts = (c << 17) | (buckets[r] === buckets[2 * c] ? 0 : 65536);
      let [rank, l] = [ranks[r], 0];
      while (rank >= low[counts | l]) rank -= low[counts | l++];
      return valueOfOrderedBits(((buckets[r] << 16) | l) >>> 0);
    });
    return middle(lower, upper);
  });
}

/**
 * np.ma.mean(rows, axis=0) of the `columns` of rows: (n, width) float32, NaN left out, as
 * SimpleImputer(strategy="mean") takes it of pandas' to_numpy() (each column contiguous): missing
 * cells as 0, summed by NumPy's float32 sum, then divided by the count of the others in float64.
 */
export function columnMeans(rows: Float32Array, width: number, columns: number[]): number[] {
  const n = rows.length / width;
  return columns.map((k) => {
    const column = Float32Array.from({ length: n }, (_, i) => rows[i * width + k]);
    const count = column.reduce((sum, value) => (value === value ? sum + 1 : sum), 0);
    const filled = column.map((value) => (value === value ? value : 0)); // np.ma's filled(0)
    return count === 0 ? NaN : numpySum(filled) / count;
  });
}

/** np.sum of a contiguous float32 array, in float32: pairwise sums of 8,192-value buffers. */
export function numpySum(values: Float32Array): number {
  let sum = 0;
  for (let at = 0; at < values.length; at += 8192) {
    sum = Math.fround(sum + pairwiseSum(values.subarray(at, at + 8192)));
  }
  return sum;
}

/**
 * NumPy's pairwise_sum: under 8 values one after another; up to 128, eight running sums, then
 * the rest; past that, the two halves (the first a multiple of 8 long) summed apart. Float32.
 */
function pairwiseSum(a: Float32Array): number {
  const n = a.length;
  const add = (x: number, y: number) => Math.fround(x + y);
  if (n < 8) return a.reduce(add, 0);
  if (n > 128) {
    const half = (n >> 1) - ((n >> 1) % 8);
    return add(pairwiseSum(a.subarray(0, half)), pairwiseSum(a.subarray(half)));
  }
  const r = Float32Array.from(a.subarray(0, 8));
  let i = 8;
  for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[i + j];
  let sum = add(add(add(r[0], r[1]), add(r[2], r[3])), add(add(r[4], r[5]), add(r[6], r[7])));
  for (; i < n; i++) sum = add(sum, a[i]);
  return sum;
}

/** The median of float32 values: one column. */
export const median = (values: Float32Array) => columnMedians(values, 1, [0])[0];

const orderedBits = (b: number) => (b & 0x80000000 ? ~b : b | 0x80000000) >>> 0;
const valueOfOrderedBits = (key: number) =>
  new Float32Array(Uint32Array.of(key & 0x80000000 ? key ^ 0x80000000 : ~key).buffer)[0];

/** scikit-learn's `_is_constant_feature`: a variance no bigger than its own rounding error. */
function isConstant(variance: number, mean: number, n: number): boolean {
  const eps = 2 ** -52;
  return variance <= n * eps * variance + (n * mean * eps) ** 2;
}

// ### Python's order of strings
//
// OneHotEncoder's categories_ come from np.unique, which sorts strings as Python does: code point
// by code point. JavaScript's sort() compares UTF-16 units, which disagrees above U+FFFF (an
// emoji sorts before "～" there, after it in Python); UTF-8 bytes sort as code points do.

/** Compares two strings as Python's sorted() does. */
export const byCodePoint = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

// ### .npy files
//
// NumPy's format 1.0: magic, version, header length, a Python-literal header padded so that the
// data starts on a 64-byte boundary, then the raw little-endian float32 values in C order.

/** The header bytes np.save writes for a float32 array of this shape. */
export function npyHeader(shape: number[]): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  header += " ".repeat(21 - String(shape[0]).length); // NumPy's room for the first axis to grow
  // A full 64 bytes of padding when the header is already aligned, as NumPy does.
  header += " ".repeat(64 - ((10 + header.length + 1) % 64)) + "\n";
  const prefix = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]); // \x93NUMPY 1.0
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, "latin1")]);
}

/** A whole .npy file: np.save(path, array.reshape(shape)); its data is the array's own bytes. */
export function npyBytes(array: Float32Array, shape: number[]): Uint8Array[] {
  if (os.endianness() !== "LE") throw new Error("etl.ts writes .npy files on little-endian only");
  return [npyHeader(shape), new Uint8Array(array.buffer, array.byteOffset, array.byteLength)];
}

/** Reads a float32 .npy file that npyBytes wrote (or NumPy did). */
export function readNpy(file: string): { data: Float32Array; shape: number[] } {
  requireArtifact(file, "transform");
  const bytes = fs.readFileSync(file);
  const damaged = () => new EtlError(
    `${shown(file)}: not a float32 .npy file written by etl.ts; run npx tsx etl.ts transform`,
  );
  const magic = bytes.length >= 10 && bytes.toString("latin1", 0, 6) === "\x93NUMPY";
  if (!magic || bytes[6] !== 1) throw damaged();
  const dataStart = 10 + bytes.readUInt16LE(8);
  const npyShape = /'descr': '<f4', 'fortran_order': False, 'shape': \((\d+),(?: (\d+))?\)/;
  const match = npyShape.exec(bytes.toString("latin1", 10, dataStart)); // the header's text
  if (!match) throw damaged();
  const shape = match[2] === undefined ? [Number(match[1])] : [Number(match[1]), Number(match[2])];
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== dataStart + 4 * count) throw damaged();
  const data = new Float32Array(count);
  new Uint8Array(data.buffer).set(bytes.subarray(dataStart));
  return { data, shape };
}

/** The arrays Transform wrote in `folder`: for `etl.ts load` alone, or a training loop of yours. */
export function readArrays(folder = PATHS.transformDir): Arrays {
  const [X, XVal, y, yVal] = ["X_train", "X_val", "y_train", "y_val"].map((name) =>
    readNpy(path.join(folder, `${name}.npy`)));
  const [[n, d], [nVal, dVal]] = [X.shape, XVal.shape];
  const agree = d !== undefined && dVal === d && n === y.shape[0] && nVal === yVal.shape[0];
  const damaged = (what: string) =>
    new EtlError(`${shown(folder)}: ${what}; run npx tsx etl.ts transform`);
  if (!agree) throw damaged("the arrays' shapes do not agree");
  if (!n || !nVal || !d) throw damaged("the arrays hold no rows or no columns");
  return { xTrain: X.data, xVal: XVal.data, yTrain: y.data, yVal: yVal.data, nFeatures: d };
}

// ## Reading a big CSV fast
//
// Step 1's simple version is papaparse's own file streaming, on one thread:
//
//     Papa.parse(fs.createReadStream(file, "utf8"), { chunk: (result) => addRows(result.data) })
//
// It falls short four ways: one of two cores sits idle while parsing takes most of a run; a row
// a chunk cut in two is parsed again from its start with every chunk (one 100 MB quoted field
// costs as much as 1,600 such files); bytes that are not UTF-8 become U+FFFD without a word; and
// a pipe can be read only once, where an error's line is found by reading the file again.
//
// So the file is cut into blocks of about 1 MB, each ending after a line break, which the main
// thread and the helper thread take in turn from a counter they share; the main thread assembles
// them in file order, as one thread would. A block that starts inside a quoted field is parsed
// again from where its row starts. Within a block the bytes are read 64 KB at a time (papaparse's
// rows then die young, in V8's cheap nursery), checked to be UTF-8, and handed to papaparse's own
// parser (`Papa.Parser`, which `Papa.parse` drives). A row longer than a chunk is parsed again
// only once its text has doubled: linear, whatever the rows. A pipe (or standard input, `-`) is
// first copied to a temporary file.

const CHUNK_BYTES = 1 << 16; // bytes read at a time

/** A CSV ready to be read. */
export interface CsvSource {
  file: string; //         as the user named it, for messages
  path: string; //         what is read: the file, or a temporary copy of a pipe's bytes
  bytes: number;
  start: number; //        3 after a UTF-8 byte order mark, else 0
  newline: "\n" | "\r"; // how the first line ends, where the blocks are cut: "\n" (LF, CR LF)
  sep: string; //          the field separator, pandas' `sep`: "," unless --sep gives another
  copy: boolean; //        `path` is a temporary copy, removed when reading is done
  fd: number; //           the input, opened once: every block is read through it
  mtimeMs: number; //      when it was last changed, as it was opened
}

/**
 * Checks that `file` is a readable file (or says why not), copies a pipe or standard input (`-`)
 * to a temporary file beside the data, and finds the line ending where the first line ends.
 */
export async function openCsv(file: string, out: Staging, sep = ","): Promise<CsvSource> {
  const stdin = file === "-";
  const stat = stdin ? null : fs.statSync(file, { throwIfNoEntry: false });
  const refuse = (why: string) => new EtlError(`${shown(file)}: ${why}`);
  if (!stdin && !stat) throw refuse("no such file; pass an existing CSV with --csv PATH");
  if (stat?.isDirectory()) throw refuse("is a folder, not a CSV file; pass a file with --csv PATH");
  try {
    if (!stdin) fs.accessSync(file, fs.constants.R_OK);
  } catch {
    throw refuse("cannot be read (permission denied)");
  }
  const copy = stdin || !stat!.isFile(); // a pipe, a FIFO, a device: read once, so copied first
  const readFrom = copy ? out.scratchFile(path.dirname(out.paths.raw), "input") : file;
  if (copy) {
    const input = stdin ? process.stdin : fs.createReadStream(file);
    await pipeline(input, fs.createWriteStream(readFrom));
  }
  const fd = fs.openSync(readFrom, "r"); // one snapshot: a file renamed over it is not read
  const { size: bytes, mtimeMs } = fs.fstatSync(fd);
  return { file, path: readFrom, bytes, copy, sep, fd, mtimeMs, ...firstLine(fd) };
}

/** Stops the run if the input's size or time of change differ from when it was opened. */
function checkUnchanged(source: CsvSource): void {
  const { size, mtimeMs } = fs.fstatSync(source.fd);
  if (size !== source.bytes || mtimeMs !== source.mtimeMs) throw inputChanged(source);
}

/** Where the text starts (after a byte order mark), and how the first line ends, however long. */
function firstLine(fd: number): { start: number; newline: "\n" | "\r" } {
  const bytes = Buffer.alloc(CHUNK_BYTES + 1);
  const start = fs.readSync(fd, bytes, 0, 3, 0) === 3 && bytes.readUIntBE(0, 3) === 0xefbbbf
    ? 3 : 0;
  let quoted = false;
  for (let position = start; ; position += CHUNK_BYTES) {
    // One byte more than a chunk: a CR at a chunk's end sees whether an LF follows.
    const length = fs.readSync(fd, bytes, 0, bytes.length, position);
    if (length === 0) return { start, newline: "\n" }; // one line, or none
    for (let i = 0; i < Math.min(length, CHUNK_BYTES); i++) {
      if (bytes[i] === 0x22) quoted = !quoted; // "" inside quotes flips twice: still quoted
      if (quoted || (bytes[i] !== 0x0a && bytes[i] !== 0x0d)) continue;
      // An LF, or a CR LF, ends the line "\n"; a CR alone, "\r".
      const crLf = bytes[i] === 0x0d && i + 1 < length && bytes[i + 1] === 0x0a;
      return { start, newline: bytes[i] === 0x0a || crLf ? "\n" : "\r" };
    }
  }
}

/** Rows as papaparse's parser gives them, with where they are in the file. */
interface RowChunk {
  rows: string[][]; //    each row's cells; blank lines left out
  parsed: number; //      characters handed to the parser for them (to see that it stays linear)
  endBytes?: number[]; // with `rowEnds`: each row's end, as a byte of the file
  // What stops the reading: a malformed quote or bytes that are no text (message null), where
  // they are, and how many of `rows` come before their row.
  error?: { message: string | null; byte: number; rowsBefore: number };
  rest?: number; //       in the last chunk: where the text that is no complete row starts
}

/**
 * The rows of bytes [start, end) of the file, a chunk at a time, where `ends` holds the candidate
 * ends, ascending: the reading stops at the first one at which a row ends (a block boundary inside
 * a quoted field is no place to stop), or at the last. Line endings are made one: no cell and no
 * column name holds half a line break (the CR of a CR LF line, or a CR-only file's CR). Bytes that
 * are not UTF-8 (or a NUL) stop the reading.
 */
export function* rowChunks(
  source: CsvSource, start: number, ends: number[], rowEnds = false,
): Generator<RowChunk> {
  const stepped: string[][] = []; // with `rowEnds`, the rows papaparse hands over one at a time
  const stepEnds: number[] = [];
  const parser = new Papa.Parser({
    delimiter: source.sep,
    newline: "\n", // a lone CR is made an LF first (loneCrsAsLf)
    step: rowEnds
      ? (row: RowStep) => (stepped.push(row.data[0]), stepEnds.push(row.meta.cursor))
      : undefined,
  }) as unknown as PapaCoreParser;
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES + 4);
  let position = start; //   the next byte to read
  let carried = 0; //        bytes of a character cut by the last chunk's end
  let pending = ""; //       text not parsed yet: the start of a row a chunk cut
  let pendingChar = 0; //    where `pending` starts, in characters of the range's text
  let waitFor = 0; //        parse again once `pending` is this long: a row longer than a chunk
  let end = ends.shift()!;
  for (;;) {
    const wanted = Math.min(CHUNK_BYTES, end - position);
    const read = fs.readSync(source.fd, buffer, carried, wanted, position);
    if (read === 0 && wanted > 0) throw inputChanged(source);
    const last = position + read === end; // at a candidate end: parse what is there
    const eof = last && end === source.bytes;
    const length = carried + read;
    const complete = eof ? length : length - cutCharacter(buffer, length);
    const bad = notTextAt(buffer.subarray(0, complete));
    if (bad >= 0) {
      const error = { message: null, byte: position - carried + bad, rowsBefore: 0 };
      return yield { rows: [], parsed: 0, error };
    }
    pending += buffer.toString("utf8", 0, complete);
    position += read;
    carried = length - complete;
    buffer.copy(buffer, 0, complete, length);
    const decoded = position - carried; // bytes of the file decoded so far
    // Where a character of the text is in the file. Rows are asked for in order, so each is
    // counted on from the last one: counting back from the end would cost a chunk per row.
    let known: { char: number; byte: number } | null = null;
    const byteOf = (char: number) => {
      if (!known || char < known.char) {
        known = { char: pendingChar, byte: decoded - Buffer.byteLength(pending) };
      }
      const text = pending.slice(known.char - pendingChar, char - pendingChar);
      known.byte += Buffer.byteLength(text);
      known.char = char;
      return known.byte;
    };
    if (pending.length > MAX_ROW_CHARS) { // most likely a quote never closed: found where it opens
      const open = parser.parse(pending, pendingChar, false).errors
        .find((e) => e.code === "MissingQuotes");
      const message = open ? UNCLOSED_QUOTE : `a row is longer than ${MAX_ROW_CHARS} chars`;
      const error = { message, byte: byteOf(pendingChar + (open?.index ?? 0)), rowsBefore: 0 };
      return yield { rows: [], parsed: pending.length, error };
    }
    // A row longer than a chunk is parsed again only once its text has doubled, candidate ends
    // or not: a 100 MB quoted field of many lines spans a hundred blocks' ends.
    if (pending.length < waitFor && !(last && ends.length === 0)) {
      if (last) end = ends.shift()!; // no reason to think a row ends here: read on
      continue;
    }

    pending = loneCrsAsLf(pending, source.sep);
    const result = parser.parse(pending, pendingChar, !eof);
    // A quote closed before its field ends ("a"b): pandas reads on, papaparse stops. Such text
    // is read again as pandas' tokenizer reads it (it is rare: no faster way is needed).
    const invalid = result.errors.some((e) => e.code === "InvalidQuotes");
    const { rows, ends: rowsEnds, cursor, error } = !invalid ? {
      rows: rowEnds ? stepped.splice(0) : result.data,
      ends: stepEnds.splice(0).map((end) => end - pendingChar),
      cursor: result.meta.cursor - pendingChar, // the text after it is an unfinished row
      // An error in the unfinished row is no error yet: that row is parsed again with more text.
      error: result.errors.find((e) => e.type === "Quotes" && (eof || e.row! < result.data.length)),
    } : pandasRows(pending, source.sep, eof);
    [stepped.length, stepEnds.length] = [0, 0];
    const kept = keepRows(rows);
    const clean = eof || cursor === pending.length;
    const done = error !== undefined || (last && (clean || ends.length === 0));
    yield {
      rows: kept.length === rows.length ? rows : kept.map((r) => rows[r]),
      parsed: pending.length,
      endBytes: rowEnds ? kept.map((r) => byteOf(pendingChar + rowsEnds[r])) : undefined,
      error: error && {
        message: UNCLOSED_QUOTE, byte: byteOf(pendingChar + error.index!),
        rowsBefore: kept.filter((r) => r < error.row!).length,
      },
      rest: done ? decoded - Buffer.byteLength(pending.slice(cursor)) : undefined,
    };
    if (done) return;
    pending = pending.slice(cursor);
    pendingChar += cursor;
    waitFor = pending.length > CHUNK_BYTES ? 2 * pending.length : 0;
    if (last) end = ends.shift()!; // the row goes on past this end: read on to the next
  }
}

/**
 * The rows of `text` (which starts where a row starts) as pandas' C tokenizer cuts them, for the
 * text papaparse refuses: after a quoted field's closing quote, the field goes on unquoted
 * (`"a"b` is `ab`, `"a,"b` is `a,b`). Each row's end is the index after its line break;
 * `cursor` is where the unfinished row starts, unless the text is `final`.
 */
function pandasRows(text: string, sep: string, final: boolean) {
  const rows: string[][] = [];
  const ends: number[] = [];
  let row: string[] = [];
  let field = "";
  let state: "start" | "field" | "quoted" | "quote" = "start"; // "quote": just after a closing "
  let [rowStart, quoteAt] = [0, 0];
  const endRow = (end: number) => {
    row.push(field);
    rows.push(row);
    ends.push(end);
    [row, field, state, rowStart] = [[], "", "start", end];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (state === "quoted") {
      if (c === '"') state = "quote";
      else field += c;
    } else if (state === "quote" && c === '"') {
      field += c; // "" inside quotes
      state = "quoted";
    } else if (c === sep) {
      row.push(field);
      [field, state] = ["", "start"];
    } else if (c === "\n") {
      endRow(i + 1);
    } else if (c === '"' && state === "start") {
      [state, quoteAt] = ["quoted", i];
    } else {
      field += c;
      state = "field";
    }
  }
  if (!final) return { rows, ends, cursor: rowStart, error: undefined };
  // At the end, a quote never closed is an error; else the last row ends where the text does.
  const error = state === "quoted" ? { index: quoteAt, row: rows.length } : undefined;
  if (!error && rowStart < text.length) endRow(text.length);
  return { rows, ends, cursor: text.length, error };
}

/** papaparse's core parser, as etl.ts drives it (its typings describe only Papa.parse). */
interface PapaCoreParser {
  parse(input: string, baseIndex: number, ignoreLastRow: boolean): Papa.ParseResult<string[]>;
}
type RowStep = { data: string[][]; meta: { cursor: number } };

const MAX_ROW_CHARS = 1 << 28; // a row's text at most: V8's longest string is 2^29 characters

/** How many bytes at the end of buffer[0, end) are the start of a UTF-8 character cut off. */
function cutCharacter(buffer: Buffer, end: number): number {
  for (let back = 1; back <= 3 && back <= end; back++) {
    const byte = buffer[end - back];
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? back : 0;
  }
  return 0;
}

/**
 * Where the first byte is that makes `bytes` not UTF-8 text (-1: nowhere): a NUL, or a byte that
 * does not decode (by buffer.isUtf8, not by looking for U+FFFD, which a valid file may hold).
 */
function notTextAt(bytes: Buffer): number {
  const nul = bytes.indexOf(0);
  if (isUtf8(bytes)) return nul;
  let bad = 0; // the first byte that starts no valid character
  for (let length = 1, b = 0; bad < bytes.length; bad += length) {
    b = bytes[bad]; // a lead byte: the character's length, 0 for none
    length = b < 0x80 ? 1 : b < 0xc2 || b > 0xf4 ? 0 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
    if (length === 0 || !isUtf8(bytes.subarray(bad, bad + length))) break;
  }
  return nul >= 0 ? Math.min(nul, bad) : bad;
}

/** A read came up short: the file was cut while it was being read. */
const inputChanged = (source: CsvSource) =>
  new EtlError(`${shown(source.file)}: the input changed while it was read; nothing was written`);

/** The one quote error left: text after a closing quote is read on, as pandas reads it. */
const UNCLOSED_QUOTE = `a quoted field is never closed (an opening " has no closing ")`;

/**
 * Which rows to keep: all but blank lines. Each kept row loses the CR that a CR LF line leaves
 * at the end of its last cell (papaparse splits at the LF).
 */
function keepRows(rows: string[][]): number[] {
  const kept: number[] = [];
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    const last = row[row.length - 1];
    if (last.charCodeAt(last.length - 1) === 13) row[row.length - 1] = last.slice(0, -1);
    if (row.length > 1 || row[0] !== "") kept.push(r);
  }
  return kept;
}

/**
 * `text` (which starts where a row starts) with each CR that no LF follows, outside quotes, made
 * an LF: pandas ends a line at an LF, a CR LF or a lone CR, anywhere in a file, and papaparse at
 * one kind of break. A CR at the text's very end whose LF comes with the next chunk makes a blank
 * line, which is skipped. A quoted field keeps its CRs, as pandas keeps them.
 */
function loneCrsAsLf(text: string, sep: string): string {
  if (!/\r(?!\n)/.test(text)) return text; // no lone CR: nothing to do (LF and CR LF files)
  const chars = text.split("");
  const [quote, separator] = [34, sep.charCodeAt(0)];
  let [quoted, fieldStart, lineStart] = [false, true, true];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quoted) {
      if (c === quote && text.charCodeAt(i + 1) === quote) i++; // "" inside quotes
      else if (c === quote) quoted = false;
    } else if (c === quote && fieldStart) {
      [quoted, fieldStart, lineStart] = [true, false, false];
    } else {
      const lone = c === 13 && text.charCodeAt(i + 1) !== 10;
      if (lone) chars[i] = "\n";
      // pandas' tokenizer eats a separator right after a lone CR that starts a line (a blank
      // line): made a line break too, it makes one more blank line, and the row loses it.
      if (lone && lineStart && text.charCodeAt(i + 1) === separator) chars[++i] = "\n";
      fieldStart = c === separator || c === 10 || c === 13;
      lineStart = c === 10 || c === 13;
    }
  }
  return chars.join("");
}

/** What readCsv() needs to know besides the file. */
interface Reading {
  target: string; //        the target column, which has rules of its own
  maxCategories: number; // the most distinct values of a text feature
  categorical?: string[]; // kept columns read as categories, whatever they hold (apply's)
  json?: string; //         where to write the whole CSV as split JSON, if anywhere
  sep: string; //           the field separator
}

/** Reads a CSV into a Table of the columns `keep(header)` names, and writes `reading.json`. */
async function readCsv(
  file: string, out: Staging, keep: (header: string[]) => string[], reading: Reading,
): Promise<{ table: Table; dtypes: Dtype[]; head: string[][]; input: Input }> {
  const source = await openCsv(file, out, reading.sep);
  let sha256: Promise<string> | undefined;
  try {
    startHelperFor(source.bytes);
    // Meanwhile, on the helper thread: the bytes that are parsed, checked unchanged at the end.
    sha256 = sha256Snapshot(source).then((hash) => {
      checkUnchanged(source);
      return hash;
    });
    sha256.catch(() => {});
    const { header, end } = readHeader(source);
    const categorical = reading.categorical ?? [];
    const index = firstRow(source, end).row?.length === header.length + 1; // pandas' implicit index
    const spec: BlockSpec = {
      columns: index ? [INDEX_COLUMN, ...header] : header, kept: keep(header), categorical,
      encodings: null, index,
      // New rows for `apply` may hold any number of unseen categories: all zeros, all counted.
      textBound: categorical.length > 0 ? Infinity : textBound(reading.maxCategories),
    };
    for (;;) {
      const json = reading.json ? out.open(reading.json) : null;
      const assembled = await readBlocks(source, spec, end, json);
      checkUnchanged(source);
      const where = (rows: number[]) => rowWhere(source, assembled.starts, rows);
      const { facts, nRows } = assembled;
      checkKeptColumns(spec.kept, facts, nRows, reading, (k) => assembled.keptDtype(k), where);
      // A cell's JSON depends on its column's dtype, known only at the end: the rare column
      // whose cells were written before its dtype settled otherwise gets one more pass.
      if (!assembled.needsRewrite()) {
        const table = assembled.finish();
        // The hash is awaited only by the manifest: the helper takes it while Transform runs.
        const input = { file, sha256, bytes: source.bytes, rows: table.nRows };
        // Printed as pandas prints the frame: each row's label first, the index's or its number.
        const head = assembled.head.map((cells, i) => (index ? cells : [String(i), ...cells]));
        const dtypes = assembled.dtypes().slice(index ? 1 : 0);
        return { table, dtypes, head, input };
      }
      spec.encodings = assembled.columnEncodings();
    }
  } finally {
    if (source.copy) fs.rmSync(source.path, { force: true }); // read on through its descriptor
    const close = () => fs.closeSync(source.fd);
    if (sha256) sha256.then(close, close);
    else close();
  }
}

/** The first row from byte `start` that is no blank line (with `rowEnds`, the byte after it). */
function firstRow(source: CsvSource, start: number, rowEnds = false) {
  for (const chunk of rowChunks(source, start, [source.bytes], rowEnds)) {
    if (chunk.rows.length > 0) return { row: chunk.rows[0], end: chunk.endBytes?.[0] };
    if (chunk.error) return { error: chunk.error };
  }
  return {};
}

/** The header, the file's first row that is no blank line, and the byte after it. */
function readHeader(source: CsvSource): { header: string[]; end: number } {
  const { row, end, error } = firstRow(source, source.start, true);
  if (error) throw readError(source, error.message, error.byte);
  const why = "the file is empty; a CSV needs a header line and data rows";
  if (!row) throw new EtlError(`${shown(source.file)}: ${why}`);
  return { header: pandasNames(row), end: end! };
}

/** Bytes per block: enough that handing one over costs little, few enough not to wait long. */
const BLOCK_BYTES = 1 << 20;

/** The rows after the header, parsed in blocks by both threads, assembled in file order. */
async function readBlocks(
  source: CsvSource, spec: BlockSpec, start: number, json: StagedFile | null,
): Promise<TableAssembler> {
  const table = new TableAssembler(spec, json, source.start);
  const bounds = blockBounds(source, start); //  block i is [bounds[i], bounds[i + 1])
  const blocks = bounds.length - 1;
  const results: (BlockResult | undefined)[] = [];
  const counter = new Int32Array(new SharedArrayBuffer(4)); // the next block to take
  const scratch = { values: new Float32Array(0) }; // this thread's memory for a block's values
  const took = (i: number, block: BlockResult) => (results[i] = block);
  const helped = blocks > 2 && parseOnHelper(source, spec, bounds, counter, took);
  const progress = new Progress("extract");
  let [next, expected] = [0, start]; // the next block to assemble, and where it must start
  const assemble = () => {
    while (next < blocks) {
      let block = results[next];
      if (expected !== bounds[next] || block?.rest === expected) {
        // A row went on past this block's start, or past its end (no row ended in it): parse from
        // its start on to where a row ends at a block's end (the blocks it covers started wrong).
        block = parseBlock(source, spec, expected, bounds.slice(next + 1), scratch);
      } else if (!block) {
        return; // not parsed yet
      }
      if (block.error) throw blockError(source, block, table, expected);
      table.add(block, expected);
      expected = block.rest;
      for (; next < blocks && bounds[next + 1] <= expected; next++) results[next] = undefined;
      progress.update(table.nRows, (expected - start) / Math.max(source.bytes - start, 1));
    }
  };
  const parse = (i: number) => parseBlock(source, spec, bounds[i], [bounds[i + 1]], scratch);
  for (let i = Atomics.add(counter, 0, 1); i < blocks; i = Atomics.add(counter, 0, 1)) {
    results[i] = parse(i);
    assemble();
    await new Promise(setImmediate); // the helper's blocks come in as messages; so do signals
  }
  await helped; // every block it took has come in (or it has stopped, and they are parsed here)
  for (let i = next; i < blocks; i++) results[i] ??= parse(i);
  assemble();
  progress.done();
  if (table.nRows === 0) throw new EtlError(`${shown(source.file)}: has a header but no data rows`);
  return table;
}

/** Where the blocks start and end: after the first line break at or past each BLOCK_BYTES. */
function blockBounds(source: CsvSource, start: number): number[] {
  const bounds = [start];
  const window = Buffer.allocUnsafe(CHUNK_BYTES);
  for (let at = start + BLOCK_BYTES; at < source.bytes; at += BLOCK_BYTES) {
    let bound = -1;
    for (let from = at; bound < 0 && from < source.bytes; from += window.length) {
      const read = fs.readSync(source.fd, window, 0, window.length, from);
      const i = window.subarray(0, read).indexOf(source.newline);
      if (i >= 0) bound = from + i + 1;
    }
    if (bound < 0 || bound === source.bytes) break; // no line break but the last: one more block
    bounds.push(bound);
    at = Math.max(at, bound - BLOCK_BYTES); // a line longer than a block: the next one after it
  }
  return [...bounds, source.bytes];
}

/** The error that stopped a block, as one line that names where it is in the file. */
function blockError(source: CsvSource, block: BlockResult, table: TableAssembler, start: number) {
  const { message, byte, row } = block.error!;
  if (row === undefined) return readError(source, message, byte!);
  const starts = [...table.starts, { row: table.nRows + 1, byte: start }]; // this block's too
  // A first row two or more fields longer than the header: pandas makes a MultiIndex of them.
  const index = table.nRows + row === 1 ? "; pandas would make the extra first fields a " +
    "MultiIndex, which etl.ts does not keep: give each field a name in the header" : "";
  return new EtlError(`${rowWhere(source, starts, [table.nRows + row])}: ${message}${index}`);
}

/** The error at `byte`, named by its line; message null: bytes that are no UTF-8 text. */
function readError(source: CsvSource, message: string | null, byte: number) {
  const [line] = linesAt(source, [byte]);
  const why = message ??
    "this is not UTF-8 text (binary data or another encoding); save the file as UTF-8 CSV";
  return new EtlError(`${shown(source.file)} line ${line}: ${why}`);
}

// ### Rows into the split's order
//
// The simple version takes the table's rows in the permutation's order:
//
//     for (let i = 0; i < n; i++) {
//       const row = tableRow(order[i]);
//       X.set(row.subarray(0, k), i * k);
//       y[i] = row[k];
//     }
//
// Reading rows at random waits for memory at every row. Instead each table row is written to its
// place (`place` is the inverse permutation): the reads go front to back; writes need not wait.

/** The table's rows in `order`, parted: X: (n, width) float32, row-major; y: (n,) float32. */
export function rowsInOrder(table: Table, order: Uint32Array) {
  const [n, k] = [table.nRows, table.kept.length - 1]; // kept: the k features, then the target
  const place = new Uint32Array(n); // place[row]: where row goes
  for (let i = 0; i < n; i++) place[order[i]] = i;
  const [X, y] = [float32Array(k * n, "X"), float32Array(n, "y")]; // X: (n, k), y: (n,) float32
  let row = 0;
  for (const values of table.blocks) {
    for (let from = 0; from < values.length; row++) {
      // Indices that step on, not products recomputed per cell: V8 compiles this loop 1.5x faster.
      const to = place[row];
      for (let at = to * k, end = from + k; from < end; ) X[at++] = values[from++];
      y[to] = values[from++];
    }
  }
  return { X, y };
}

type MeansAndStds = { mean: number[]; std: number[] };

/** Each column's mean and std, for X: (n, d) float32, in one pass: the check that prints 0, 1. */
export function columnMeansAndStds(X: Float32Array, d: number): MeansAndStds {
  const [n, sum, squares] = [X.length / d, new Float64Array(d), new Float64Array(d)];
  for (let i = 0; i < X.length; i += d) {
    for (let j = 0; j < d; j++) {
      sum[j] += X[i + j];
      squares[j] += X[i + j] * X[i + j];
    }
  }
  const mean = [...sum].map((s) => s / n);
  // Variance as E[x²] - E[x]², which rounding can take below 0.
  return { mean, std: mean.map((m, j) => Math.sqrt(Math.max(squares[j] / n - m ** 2, 0))) };
}

/** Fills each missing (NaN) cell of raw: (n, width)'s `numeric` columns with its statistic. */
function fillMissing(raw: Float32Array, width: number, numeric: number[], statistics: number[]) {
  const fill = new Float32Array(width).fill(NaN); // per raw column: what replaces a missing cell
  numeric.forEach((k, c) => (fill[k] = statistics[c])); // text columns keep NaN: all zeros
  for (let i = 0; i < raw.length; i += width) {
    for (let k = 0; k < width; k++) if (Number.isNaN(raw[i + k])) raw[i + k] = fill[k];
  }
}

// ### pandas' own reading, replayed: dtypes and numbers
//
// Step 1 says what a cell is to pandas and which dtype a column gets; here is how. A column's
// cells go one by one, in file order, into its `ColumnCells`: read_csv tries int64 on all of
// them, then uint64, float64, bool, each try stopping at the first cell it cannot read, so the
// record keeps how each try first failed. Blocks read by two threads are merged in file order
// (`mergeCells`): what one pass would have seen.
//
// read_csv does not parse decimals as Number() does. Its C engine's `precise_xstrtod` multiplies
// the first 17 digits into a double one at a time, then multiplies or divides by a power of ten:
// up to 15 digits that is exactly Number()'s value, past them it may be one unit in the last
// place away (57262.637980335974 reads as 57262.63798033597). etl.ts reads numbers as pandas
// does, so that the raw JSON reads back as the same frame and X gets pandas' float32s. An
// integer whose digits overflow int64 stops the int64 try (`str_to_int64`), whatever follows.

// read_csv's default missing-value strings (pandas 1.5); an empty cell is missing too.
const NA_STRINGS = new Set([
  "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
  "<NA>", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null",
]);
const INFINITY = /^[+-]?inf(inity)?$/i;
const BOOLEAN = /^(true|false)$/i;

/** One cell as read_csv's converters see it. */
export interface Cell {
  missing: boolean;
  int: "fits" | "overflows" | "no"; // as an int64: fits; an integer too big for it; no integer
  uint: "fits" | "big" | "negative" | "overflows" | "no"; // the uint64 try, which notes a minus
  float: number; //                    as a float64; NaN when it is none
  bool: boolean;
}

const MISSING_CELL: Cell = { missing: true, int: "no", uint: "no", float: NaN, bool: false };

/** One cell, as read_csv reads it (Step 1 says what each kind is). */
export function readCell(text: string): Cell {
  if (NA_STRINGS.has(text)) return MISSING_CELL;
  return {
    missing: false,
    int: asInt64(text), //   str_to_int64
    uint: asUint64(text), // str_to_uint64
    float: INFINITY.test(text) ? (text[0] === "-" ? -Infinity : Infinity) : pandasFloat(text),
    bool: BOOLEAN.test(text),
  };
}

/** pandas' dtype for a column. */
export type Dtype = "int64" | "uint64" | "float64" | "bool" | "object";

/** What read_csv's tries have found of a column so far, cell by cell in file order. */
export interface ColumnCells {
  int: "all" | "overflowed" | "failed"; // the int64 try: no cell failed yet, or how the first did
  uint: "all" | "overflowed" | "failed"; // the uint64 try
  negative: boolean; //                    it met a negative integer, and
  big: boolean; //                         one beyond int64: together they make text
  float: boolean; //                       every cell a float so far
  bool: boolean; //                        every cell a boolean so far
  missing: boolean; //                     a cell was missing
}

/** The column's dtype: int64, uint64 (tried only after an int64 overflowed), float64, bool. */
export function dtypeOf(column: ColumnCells): Dtype {
  if (column.int === "all") return column.missing ? "float64" : "int64"; // NaN needs a float
  if (column.int === "overflowed" && column.uint !== "failed") {
    // Beside a negative integer or a missing cell, pandas keeps the cells as text.
    return column.uint === "all" && !column.negative && !column.missing ? "uint64" : "object";
  }
  if (column.float) return "float64";
  if (column.bool && !column.missing) return "bool";
  return "object"; // booleans with a missing cell make an object column of True, False, NaN
}

export const noCells = (): ColumnCells => ({
  int: "all", uint: "all", negative: false, big: false, float: true, bool: true, missing: false,
});

/** Takes one more cell into a column: each try stops at the first cell it cannot read. */
export function seeCell(column: ColumnCells, cell: Cell): void {
  if (cell.missing) return void (column.missing = true);
  if (column.int === "all" && cell.int !== "fits") {
    column.int = cell.int === "no" ? "failed" : "overflowed";
  }
  if (column.uint === "all") {
    if (cell.uint === "no") column.uint = "failed";
    else if (cell.uint === "overflows") column.uint = "overflowed";
    column.negative ||= cell.uint === "negative";
    column.big ||= cell.uint === "big";
  }
  column.float &&= cell.float === cell.float;
  column.bool &&= cell.bool;
}

const SPACE = (c: number) => c === 32 || (c >= 9 && c <= 13); // C's isspace
const DIGIT = (c: number) => c >= 48 && c <= 57;
const POWERS_OF_TEN = Array.from({ length: 309 }, (_, k) => Number(`1e${k}`)); // as C's literals

/** pandas 1.5's precise_xstrtod: the float64 read_csv reads from `text`; NaN when it is none. */
export function pandasFloat(text: string): number {
  let i = 0;
  while (SPACE(text.charCodeAt(i))) i++;
  const negative = text[i] === "-";
  if (negative || text[i] === "+") i++;
  let number = 0;
  let exponent = 0;
  let digits = 0;
  for (; DIGIT(text.charCodeAt(i)); i++) {
    if (digits < 17) (number = number * 10 + (text.charCodeAt(i) - 48)), digits++;
    else exponent++;
  }
  if (text[i] === ".") {
    for (i++; digits < 17 && DIGIT(text.charCodeAt(i)); i++, exponent--) {
      number = number * 10 + (text.charCodeAt(i) - 48);
      digits++;
    }
    while (DIGIT(text.charCodeAt(i))) i++; // digits past the 17th are read and dropped
  }
  if (digits === 0) return NaN;
  if (negative) number = -number;
  if (text[i] === "e" || text[i] === "E") {
    const start = ++i;
    const minus = text[i] === "-";
    if (minus || text[i] === "+") i++;
    let n = 0;
    let k = 0;
    for (; k < 17 && DIGIT(text.charCodeAt(i)); i++, k++) {
      n = (Math.imul(n, 10) + text.charCodeAt(i) - 48) | 0;
    }
    if (k === 0) i = start - 1; // "1e": the e is not part of the number
    exponent = (minus ? exponent - n : exponent + n) | 0;
  }
  if (exponent > 308) return NaN; // ERANGE: no float, and the column is text
  if (exponent > 0) number *= POWERS_OF_TEN[exponent];
  else if (exponent < -616) number = 0;
  else if (exponent < -308) number = number / POWERS_OF_TEN[-308 - exponent] / POWERS_OF_TEN[308];
  else number /= POWERS_OF_TEN[-exponent];
  if (number === Infinity || number === -Infinity) return NaN;
  while (SPACE(text.charCodeAt(i))) i++;
  return i === text.length ? number : NaN;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Spaces, a sign, digits, and what follows them. */
const integerParts = (text: string) => /^[ \t\n\v\f\r]*([+-]?)(\d*)(.*)$/s.exec(text)!.slice(1);
const onlySpaces = (text: string) => /^[ \t\n\v\f\r]*$/.test(text);

/**
 * How `text` reads as an int64 (str_to_int64): spaces around, a sign, digits. It "overflows"
 * as soon as the digits pass int64's range, even when something that is no integer follows.
 */
export function asInt64(text: string): Cell["int"] {
  const [sign, digits, rest] = integerParts(text);
  if (digits === "") return "no";
  const value = digits.length > 18 ? BigInt(sign + digits) : 0n;
  if (value > INT64_MAX || value < INT64_MIN) return "overflows";
  return onlySpaces(rest) ? "fits" : "no";
}

/**
 * How `text` reads in read_csv's uint64 try (str_to_uint64): up to 2^64 - 1 ("big" past int64),
 * "negative" at a minus sign (noted, read no further), "overflows" once the digits pass 2^64 - 1.
 */
export function asUint64(text: string): Cell["uint"] {
  const [sign, digits, rest] = integerParts(text);
  if (sign === "-") return "negative";
  if (digits === "") return "no";
  const value = digits.length > 18 ? BigInt(digits) : 0n;
  if (value > UINT64_MAX) return "overflows";
  if (!onlySpaces(rest)) return "no";
  return value > INT64_MAX ? "big" : "fits";
}

/** An integer's text as JSON writes it: no spaces, no "+", no leading zeros. */
function canonicalInteger(text: string): string {
  const trimmed = text.trim().replace(/^\+/, "");
  return trimmed.length > 15 ? BigInt(trimmed).toString() : String(Number(trimmed));
}

/** An integer as float32, rounded once as NumPy does (fround(Number()) rounds twice past 2^53). */
function integerToFloat32(text: string): number {
  const exact = BigInt(text.trim().replace(/^\+/, ""));
  const magnitude = exact < 0n ? -exact : exact;
  if (magnitude <= 2n ** 53n) return Math.fround(Number(exact));
  const shift = BigInt(magnitude.toString(2).length - 24);
  let top = magnitude >> shift; // the 24 bits float32 keeps
  const rest = magnitude - (top << shift);
  const half = 1n << (shift - 1n);
  if (rest > half || (rest === half && (top & 1n) === 1n)) top++; // round half to even
  const value = Number(top) * 2 ** Number(shift);
  return exact < 0n ? -value : value;
}

// ### Writing the raw JSON
//
// At a million rows, building a string per row (a regex, a Number() and a join per cell) costs
// more than parsing the CSV. Instead one pass over each cell's characters checks that it is a
// plain number, computes its value and copies its bytes into a buffer bound for the file. The
// simple version: `JSON.stringify(row.map((cell) => readCell(cell)...))` for every row.
//
// How a cell is written depends on its column's dtype, which pandas decides from all of the
// column's cells. Each cell is first written as what it is itself (an integer, a float, a
// boolean, text); a column whose dtype then wants its cells otherwise (numbers as text in an
// object column, say) is rare, and gets the whole file written again, now that it is known.

/** How a column's cells are written as JSON, for pandas to read back the same values. */
type Encoding = "int" | "float" | "bool" | "text" | "raw";

/** The JSON that reads back as the column's dtype. "raw": the text column that integers past int64
 * beside a negative or a missing cell make: pandas keeps every cell's text there, "" for none. */
function encodingOf(column: ColumnCells): Encoding {
  const dtype = dtypeOf(column);
  if (dtype === "int64" || dtype === "uint64") return "int";
  if (dtype === "float64") return "float";
  if (column.bool && column.int === "failed" && !column.float) return "bool"; // True, False, NaN
  const conflict = column.int === "overflowed" && column.uint === "all" && column.big &&
    (column.negative || column.missing);
  return conflict ? "raw" : "text";
}

// The encodings a cell was first written in (bit flags; int: an integer, or any plain decimal,
// as it was), and which each column encoding accepts: a short integer is a float too, and a
// missing cell is null, but in "raw".
const WROTE = { int: 1, bigInt: 2, float: 4, bool: 8, text: 16, null: 32 };
const ACCEPTS: Record<Encoding, number> = {
  int: WROTE.int | WROTE.bigInt | WROTE.null,
  float: WROTE.int | WROTE.float | WROTE.null,
  bool: WROTE.bool | WROTE.null,
  text: WROTE.text | WROTE.null,
  raw: WROTE.text,
};

/**
 * A block's JSON, written byte by byte into memory of its own (never a slice of Node's shared
 * pool: the helper hands it over without a copy). After reserve(), read `bytes` again.
 */
class ByteWriter {
  pos = 0;
  bytes: Buffer;
  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.bytes.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(2 * this.bytes.length, this.pos + n));
    bigger.set(this.bytes.subarray(0, this.pos));
    this.bytes = bigger;
  }

  text(s: string): void {
    this.reserve(3 * s.length); // UTF-8 takes at most 3 bytes per UTF-16 unit
    this.pos += this.bytes.write(s, this.pos);
  }

  written = () => this.bytes.subarray(0, this.pos);
}

const HEAD_ROWS = 3; // rows printed, as df.head(3)
const MAX_PLAIN_BYTES = 17; // "-", 15 digits, "."

/**
 * Reads a cell that is a plain decimal (-?digits[.digits], at most 15 digits, valid JSON) and
 * copies its characters to `bytes` at `pos`; NaN for anything else. Such a number is m / 10^k,
 * both exact doubles (m < 2^53, k <= 15), and IEEE division rounds correctly: exactly Number(cell),
 * what pandas reads too (pandasFloat divides once). The simple version: `readCell(cell).float`.
 */
function scanPlainNumber(cell: string, bytes: Uint8Array, pos: number): number {
  let i = 0;
  let c = cell.charCodeAt(0);
  const negative = c === 45; // -
  if (negative) {
    bytes[pos++] = c;
    c = cell.charCodeAt(++i);
  }
  if (!(c >= 48 && c <= 57)) return NaN; // a number starts with a digit
  const leadingZero = c === 48 && i + 1 < cell.length && cell.charCodeAt(i + 1) !== 46;
  if (leadingZero) return NaN; // "07" is not JSON
  let mantissa = 0;
  let digits = 0;
  let decimals = -1; // digits after the ".", -1 before one is seen
  for (; i < cell.length; i++) {
    c = cell.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      if (++digits > 15) return NaN;
      if (decimals >= 0) decimals++;
    } else if (c === 46 && decimals < 0) {
      decimals = 0;
    } else {
      return NaN;
    }
    bytes[pos++] = c;
  }
  if (decimals === 0) return NaN; // "5." is not JSON
  const value = decimals > 0 ? mantissa / POWERS_OF_TEN[decimals] : mantissa;
  return negative ? -value : value;
}

/** readCell() of a plain decimal: PLAIN_CELLS[2 * point + minus], made once, not per cell. */
const PLAIN_CELLS: Cell[] = [false, true].flatMap((point) => [false, true].map((minus) => ({
  missing: false, float: 0, bool: false, //              a number, and no boolean
  int: point ? "no" : "fits", //                          15 digits at most: it fits
  uint: minus ? "negative" : point ? "no" : "fits", //    the uint64 try notes a minus first
})));

/**
 * A float as JSON that pandas reads back as float64: 5 would come back int64, so 5.0; from 1e15
 * on with an exponent, since pandas' JSON reader takes 18446744073709552000.0 for an integer.
 */
function floatText(value: number): string {
  const text = Math.abs(value) >= 1e15 ? value.toExponential() : String(value);
  return /[.e]/.test(text) ? text : text + ".0";
}

/**
 * What the kept columns' rules (checkKeptColumns) need to know of one kept column's cells, read
 * in file order: a block's record, or the whole table's, which adds the blocks' up (mergeFacts).
 * Rows are counted as papaparse counts them: the header is row 0, the first data row is 1.
 */
interface KeptFacts {
  firstNumber: number; //        the first row with a number (-1: none)
  firstBool: number; //          ... with a boolean
  firstText: number; //          ... with a text
  firstUnusable: number; //      ... with a number float32 cannot hold, and that cell's text:
  unusable: string;
  missingRows: number[]; //      the first five rows with a missing cell
  missing: number; //            how many cells are missing
  textCells: number; //          how many cells are text
  texts: Map<string, number>; // each distinct text and its index, counted up to a bound
  // Integers whose float32 differs when read as float64 first, as pandas reads every cell of a
  // float64 column: row, value, row, value, ... (rare: past 2^53, the two roundings can differ)
  viaFloat64: number[];
}

const noFacts = (): KeptFacts => ({
  firstNumber: -1, firstBool: -1, firstText: -1, firstUnusable: -1, unusable: "",
  missingRows: [], missing: 0, textCells: 0, texts: new Map(), viaFloat64: [],
});

/** The first row of a kind: the one already seen, else `row`. */
const first = (seen: number, row: number) => (seen >= 0 ? seen : row);

/** A missing cell, noted: its value in the table is NaN, which this returns. */
function noteMissing(facts: KeptFacts, row: number): number {
  facts.missing++;
  if (facts.missingRows.length < 5) facts.missingRows.push(row);
  return NaN;
}

/** A number float32 cannot hold (an infinity, or beyond 3.4e38): refused, at the end. */
function noteUnusable(facts: KeptFacts, row: number, text: string): void {
  if (facts.firstUnusable < 0) [facts.firstUnusable, facts.unusable] = [row, text];
}

/** A text cell: its index among the column's texts, or NaN past `bound` (it is refused then). */
function textCode(facts: KeptFacts, text: string, row: number, bound: number): number {
  facts.firstText = first(facts.firstText, row);
  facts.textCells++;
  return indexOfText(facts.texts, text, bound);
}

/** The index of `text` among `texts`: a new one for a new text, NaN once there are `bound`. */
function indexOfText(texts: Map<string, number>, text: string, bound: number): number {
  let code = texts.get(text);
  if (code === undefined && texts.size < bound) texts.set(text, (code = texts.size));
  return code ?? NaN;
}

/**
 * Adds the facts of the next `block` of a column, whose rows come after `rowsBefore` rows, to the
 * table's. Returns the block's text indices as the table's: tableCode[blockCode].
 */
function mergeFacts(facts: KeptFacts, block: KeptFacts, rowsBefore: number, bound: number) {
  const later = (row: number) => (row < 0 ? -1 : rowsBefore + row);
  facts.firstNumber = first(facts.firstNumber, later(block.firstNumber));
  facts.firstBool = first(facts.firstBool, later(block.firstBool));
  facts.firstText = first(facts.firstText, later(block.firstText));
  if (block.firstUnusable >= 0) noteUnusable(facts, later(block.firstUnusable), block.unusable);
  for (const row of block.missingRows) noteMissing(facts, later(row));
  facts.missing += block.missing - block.missingRows.length; // the rest of the block's
  facts.textCells += block.textCells;
  for (let i = 0; i < block.viaFloat64.length; i += 2) {
    facts.viaFloat64.push(later(block.viaFloat64[i]), block.viaFloat64[i + 1]);
  }
  return Float32Array.from(block.texts.keys(), (text) => indexOfText(facts.texts, text, bound));
}

/** The distinct texts of a kept column are counted up to this many times --max-categories. */
const DISTINCT_COUNTED = 100;

/** What parsing a CSV block needs to know, the same on both threads. */
interface BlockSpec {
  columns: string[]; //            the header
  kept: string[]; //               the features, then the target
  categorical: string[]; //        kept columns read as categories (apply's text features)
  encodings: Encoding[] | null; // each column's JSON, once a first pass found its dtype
  textBound: number; //            distinct texts counted per kept column
  index: boolean; //               columns[0] is pandas' implicit index (INDEX_COLUMN)
}

/**
 * The implicit index's name as a column: pandas makes each row's first field the frame's index
 * when the first data row has one field more than the header (no header name holds a NUL).
 */
const INDEX_COLUMN = "\u0000index";

/** A block of rows, parsed: what the table needs of it, in a form that can cross threads. */
interface BlockResult {
  rest: number; //         the byte from which the range parsed holds no complete row
  rows: number;
  values: Float32Array; // (rows, kept.length) float32; a text as its index in facts.texts
  json: Uint8Array; //     the rows as JSON, each ",\n[...]"
  cells: ColumnCells[]; // per column, what read_csv saw of it here
  wrote: Int32Array; //    per column, the encodings its cells were written in
  head: string[][]; //     the first rows, as printed
  facts: KeptFacts[]; //   per kept column, what its rules need (rows from 1 in the block)
  // What stopped the block: a bad quote or bytes that are no text (at `byte`), or a row with
  // the wrong number of fields (its row).
  error?: { message: string | null; byte?: number; row?: number };
}

/** Memory a thread parses its blocks' values in, one block after another. */
type Scratch = { values: Float32Array };

/** Parses bytes [start, the first of `ends` where a row ends), the values first into `scratch`. */
export function parseBlock(
  source: CsvSource, spec: BlockSpec, start: number, ends: number[],
  scratch: Scratch = { values: new Float32Array(0) },
): BlockResult {
  const json = new ByteWriter(Buffer.allocUnsafeSlow(Math.ceil(1.1 * (ends[0] - start)) + 64));
  const parser = new BlockParser(spec, json, scratch);
  let rest = start;
  let error: BlockResult["error"];
  for (const chunk of rowChunks(source, start, ends)) {
    const complete = chunk.error ? chunk.error.rowsBefore : chunk.rows.length;
    const width = spec.columns.length;
    for (let r = 0; r < complete && !error; r++) {
      const row = chunk.rows[r];
      while (row.length < width) row.push(""); // read_csv: missing fields are NaN
      if (row.length === width) parser.add(row);
      else error = { message: tooManyFields(width, row.length), row: parser.nRows + 1 };
    }
    error ??= chunk.error && { message: chunk.error.message, byte: chunk.error.byte };
    if (chunk.rest !== undefined) rest = chunk.rest;
    if (error) break;
  }
  const { nRows, cells, wrote, head, facts } = parser;
  // The values in a copy of the right size: the table keeps only what the block holds.
  const values = parser.values.slice(0, nRows * spec.kept.length);
  return { rest, rows: nRows, values, json: json.written(), cells, wrote, head, facts, error };
}

/**
 * Takes a block's rows one at a time: follows each column's dtype as pandas infers it, keeps the
 * feature and target columns as float32, and writes each row as one line of "split" JSON.
 */
class BlockParser {
  nRows = 0;
  readonly head: string[][] = [];
  readonly cells: ColumnCells[];
  readonly wrote: Int32Array; //        per column, the encodings its cells were written in
  readonly facts: KeptFacts[];
  values: Float32Array; //              (capacity, kept.length) float32, row-major
  private readonly categorical: boolean[]; // kept columns read as categories, numbers or not
  private readonly slot: number[]; //        column -> its place among the kept columns, or -1
  private readonly plain: Uint8Array; //     per column: its cells may be written as plain numbers
  private readonly settled: Uint8Array; //   per column: a plain number tells it nothing new
  private readonly shapes: Uint8Array; //    per column: the shapes of plain number it has seen
  private readonly spec: BlockSpec;
  private readonly out: ByteWriter;
  private readonly scratch: Scratch;

  constructor(spec: BlockSpec, out: ByteWriter, scratch: Scratch) {
    [this.spec, this.out, this.scratch] = [spec, out, scratch];
    const { columns, kept, categorical } = spec;
    this.slot = columns.map(positionsIn(kept));
    const categories = new Set(categorical); // a Set: linear in columns, however many
    this.categorical = kept.map((name) => categories.has(name));
    const asNumber = (j: number) => ["int", "float", undefined].includes(spec.encodings?.[j]);
    this.plain = Uint8Array.from(columns, (_, j) =>
      asNumber(j) && !this.categorical[this.slot[j]] ? 1 : 0);
    this.settled = new Uint8Array(columns.length);
    this.shapes = new Uint8Array(columns.length);
    this.cells = columns.map(noCells);
    this.wrote = new Int32Array(columns.length);
    this.facts = kept.map(noFacts);
    this.values = scratch.values;
  }

  add(cells: string[]): void {
    const { out, values: before, slot, categorical, plain, settled } = this;
    const width = this.spec.kept.length;
    const base = this.nRows * width;
    const values = base + width > before.length ? this.grow() : before;
    if (this.head.length < HEAD_ROWS) this.head.push(cells.slice());
    // Room for the row, if all of its cells are plain numbers. (No closure here: tsx names each
    // function it makes, which would cost every row.)
    out.reserve(cells.length * (MAX_PLAIN_BYTES + 1) + 4);
    let bytes = out.bytes;
    bytes[out.pos++] = 44; // ,  (the table's first row goes without it)
    bytes[out.pos++] = 10; // \n
    bytes[out.pos++] = 91; // [
    for (let j = 0; j < cells.length; j++) {
      if (j > 0) bytes[out.pos++] = 44;
      const cell = cells[j];
      const k = slot[j];
      let value = plain[j] ? scanPlainNumber(cell, bytes, out.pos) : NaN;
      if (value === value) {
        out.pos += cell.length;
        if (!settled[j]) this.seePlainNumber(j, cell);
      } else {
        value = this.writeOtherCell(j, cell); // all but plain numbers: the slow path, readCell
        out.reserve((cells.length - j) * (MAX_PLAIN_BYTES + 1) + 4); // for the rest of the row
        bytes = out.bytes;
      }
      if (k < 0) continue;
      // A plain number of 15 digits always fits float32 (writeOtherCell checks the others); any
      // other cell is missing (NaN) or text (its index in the texts), as is a category for apply.
      values[base + k] = value === value && !categorical[k] ? value
        : NA_STRINGS.has(cell) ? noteMissing(this.facts[k], this.nRows + 1)
        : textCode(this.facts[k], cell, this.nRows + 1, this.spec.textBound);
    }
    bytes[out.pos++] = 93; // ]
    this.nRows++;
  }

  /**
   * A plain decimal, seen by its column's tries: each of the four shapes once (seeCell() learns
   * nothing from one seen before), and none once the int64 and uint64 tries are over (settled).
   */
  private seePlainNumber(j: number, cell: string): void {
    const shape = (cell.includes(".") ? 2 : 0) + (cell.charCodeAt(0) === 45 ? 1 : 0);
    if (this.shapes[j] & (1 << shape)) return;
    this.shapes[j] |= 1 << shape;
    const k = this.slot[j];
    const column = this.cells[j];
    if (k >= 0 && !this.categorical[k]) {
      this.facts[k].firstNumber = first(this.facts[k].firstNumber, this.nRows + 1);
    }
    this.wrote[j] |= WROTE.int; // what an int64 and a float64 column both write
    seeCell(column, PLAIN_CELLS[shape]);
    if (column.int !== "all" && column.uint !== "all") this.settled[j] = 1;
  }

  /**
   * Writes any cell but a plain number, as its own kind (first pass) or as its column's dtype
   * wants it (second pass). Returns its value as a number for a kept column, NaN when it has none.
   */
  private writeOtherCell(j: number, text: string): number {
    const cell = readCell(text);
    seeCell(this.cells[j], cell);
    const k = this.slot[j];
    const encoding = this.spec.encodings?.[j] ?? ownEncoding(cell);
    const json = cellJson(text, cell, encoding);
    this.wrote[j] |= json === "null" ? WROTE.null : encoding === "int" && text.trim().length > 15
      ? WROTE.bigInt : WROTE[encoding === "raw" ? "text" : encoding];
    this.out.text(json);
    if (cell.missing) return NaN;
    const number = cell.int === "fits" || cell.uint === "big" ? integerToFloat32(text)
      : cell.float === cell.float ? cell.float : cell.bool ? (/^t/i.test(text) ? 1 : 0) : NaN;
    if (k >= 0 && !this.categorical[k] && number === number) {
      const facts = this.facts[k];
      const row = this.nRows + 1;
      if (!fitsFloat32(number)) noteUnusable(facts, row, text);
      if (cell.bool) facts.firstBool = first(facts.firstBool, row);
      else facts.firstNumber = first(facts.firstNumber, row);
      const viaFloat64 = Math.fround(cell.float); // pandas' float64, then NumPy's float32
      if (cell.int !== "no" && viaFloat64 !== number) facts.viaFloat64.push(row, viaFloat64);
    }
    return number;
  }

  /** Room for twice as many rows (the scratch memory grows for the next blocks too). */
  private grow(): Float32Array {
    const bigger = roomForMoreRows(this.values, this.nRows, this.spec.kept.length);
    return (this.values = this.scratch.values = bigger);
  }
}

/** Where a block's rows start: its first row's number (papaparse's) and that row's first byte. */
type BlockStart = { row: number; byte: number };

/**
 * The table, assembled from its blocks in file order: each column's dtype follows all the blocks'
 * cells, a text keeps one index across them, the JSON goes to the file in order. `facts` is what
 * checkKeptColumns() asks; `starts`, where each block's rows begin, for an error's line.
 */
class TableAssembler {
  nRows = 0;
  head: string[][] = [];
  readonly facts: KeptFacts[];
  readonly starts: BlockStart[];
  private readonly cells: ColumnCells[];
  private readonly wrote: Int32Array;
  private readonly blocks: Float32Array[] = [];
  private readonly index: string[] = []; //       the implicit index's cells, as JSON
  private readonly columnAt: (name: string) => number; // one Map: linear in columns, not square
  private readonly spec: BlockSpec;
  private readonly json: StagedFile | null;

  constructor(spec: BlockSpec, json: StagedFile | null, start: number) {
    [this.spec, this.json] = [spec, json];
    this.columnAt = positionsIn(spec.columns);
    this.cells = spec.columns.map(noCells);
    this.wrote = new Int32Array(spec.columns.length);
    this.facts = spec.kept.map(noFacts);
    this.starts = [{ row: 0, byte: start }];
    const names = spec.index ? spec.columns.slice(1) : spec.columns;
    json?.write(`{"columns":${JSON.stringify(names)},"data":[`);
  }

  /** The next block, in file order, whose rows start at byte `start`. */
  add(block: BlockResult, start: number): void {
    const [before, width] = [this.nRows, this.spec.kept.length];
    this.starts.push({ row: before + 1, byte: start });
    this.head.push(...block.head.slice(0, Math.max(0, HEAD_ROWS - this.head.length)));
    block.cells.forEach((cells, j) => mergeCells(this.cells[j], cells));
    this.wrote.forEach((_, j) => (this.wrote[j] |= block.wrote[j]));
    this.facts.forEach((facts, k) => {
      const tableCode = mergeFacts(facts, block.facts[k], before, this.spec.textBound);
      for (let i = k; tableCode.length > 0 && i < block.values.length; i += width) {
        if (block.values[i] === block.values[i]) block.values[i] = tableCode[block.values[i]];
      }
    });
    this.blocks.push(block.values);
    // pandas' index is no column: its cells go to the split JSON's "index", after the rows.
    const rows = this.spec.index ? withoutIndex(block.json, this.index) : block.json;
    // The table's first row goes without the "," that every row of a block starts with.
    this.json?.write(before === 0 ? rows.subarray(1) : rows);
    this.nRows += block.rows;
  }

  needsRewrite = () => this.spec.encodings === null &&
    this.cells.some((column, j) => (this.wrote[j] & ~ACCEPTS[encodingOf(column)]) !== 0);
  columnEncodings = () => this.cells.map(encodingOf);
  dtypes = () => this.cells.map(dtypeOf);

  keptDtype(k: number): Dtype {
    const j = this.columnAt(this.spec.kept[k]);
    return j < 0 ? "float64" : dtypeOf(this.cells[j]); // apply's target may be absent: zeros
  }

  finish(): Table {
    if (this.spec.index) this.json?.write(`\n],"index":[\n${this.index.join(",\n")}`);
    this.json?.write("\n]}\n");
    this.json?.close(); // complete: its hash is taken now, while Transform runs
    // A float64 column's integers take the value pandas reads via float64 (row, value, ...).
    const width = this.spec.kept.length;
    this.facts.forEach(({ viaFloat64: rows }, k) => {
      if (this.keptDtype(k) !== "float64") return;
      for (let i = 0, b = 0; i < rows.length; i += 2) {
        while (this.starts[b + 2]?.row <= rows[i]) b++; // starts[b + 1]: block b's first row
        this.blocks[b][(rows[i] - this.starts[b + 1].row) * width + k] = rows[i + 1];
      }
    });
    const columns = this.spec.index ? this.spec.columns.slice(1) : this.spec.columns;
    return tableOf(columns, this.spec.kept, this.facts, this.blocks, this.nRows);
  }
}

/**
 * A block's rows as JSON (each `,\n[cell,...]`) without their first cell, pandas' implicit index,
 * whose JSON goes to `index`. A row's bytes end at a line break: JSON strings hold none.
 */
function withoutIndex(json: Uint8Array, index: string[]): Uint8Array {
  const rows = new Uint8Array(json.length);
  let w = 0;
  for (let line = json.indexOf(10); line >= 0;) {
    const next = json.indexOf(10, line + 1);
    const row = json.subarray(line + 1, next < 0 ? json.length : next - 1); // [cell,...]
    let cut = 1; // the end of the first cell: a string's closing quote, else the first comma
    if (row[cut] === 34) {
      for (cut++; row[cut] !== 34; cut++) if (row[cut] === 92) cut++;
      cut++;
    } else {
      while (row[cut] !== 44) cut++;
    }
    index.push(Buffer.from(row.subarray(1, cut)).toString());
    rows.set([44, 10, 91], w); // ,\n[
    rows.set(row.subarray(cut + 1), w + 3);
    w += 3 + row.length - cut - 1;
    line = next;
  }
  return rows.subarray(0, w);
}

/** The Table of kept columns whose cells `facts` describe and `blocks` hold. */
function tableOf(
  columns: string[], kept: string[], facts: KeptFacts[], blocks: Float32Array[], nRows: number,
): Table {
  const text = facts.map((f) => (f.firstText >= 0 ? [...f.texts.keys()] : null));
  const missing = facts.reduce((sum, f) => sum + f.missing, 0);
  return { columns, nRows, kept, text, missing, blocks };
}

/** What read_csv's tries saw of a column, after one more block of its cells (in file order). */
function mergeCells(column: ColumnCells, next: ColumnCells): void {
  if (column.int === "all") column.int = next.int;
  if (column.uint === "all") {
    [column.uint, column.negative, column.big] = [next.uint, column.negative || next.negative,
      column.big || next.big];
  }
  column.float &&= next.float;
  column.bool &&= next.bool;
  column.missing ||= next.missing;
}

/** How a cell is written in a first pass, when its column's dtype is not known yet: as itself. */
function ownEncoding(cell: Cell): Encoding {
  if (cell.int === "fits" || cell.uint === "big") return "int"; // "big" overflows int64
  return cell.float === cell.float ? "float" : cell.bool ? "bool" : "text";
}

/** A cell's JSON in a column written as `encoding`. */
function cellJson(text: string, cell: Cell, encoding: Encoding): string {
  if (encoding === "raw") return JSON.stringify(text); // pandas keeps every cell's text there
  if (cell.missing) return "null";
  if (encoding === "int") return canonicalInteger(text);
  // JSON has no infinity: pandas writes it as null too.
  if (encoding === "float") return Number.isFinite(cell.float) ? floatText(cell.float) : "null";
  if (encoding === "bool") return /^t/i.test(text) ? "true" : "false";
  return JSON.stringify(text);
}

/** The first `rows` rows of values: (capacity, width) float32, with room for twice as many. */
function roomForMoreRows(values: Float32Array, rows: number, width: number): Float32Array {
  const bigger = float32Array(Math.max(2 * rows, 1024) * width, "the table");
  bigger.set(values.subarray(0, rows * width));
  return bigger;
}

/** Whether a number keeps a finite value as float32 (its largest is 3.4028235e38). */
const fitsFloat32 = (value: number) => Math.abs(Math.fround(value)) !== Infinity;

/**
 * A Float32Array of `length` zeros; when this machine could not hold it, an error naming it as
 * `what`, before anything is allocated (`new Float32Array(length)` would crash, or swap).
 */
function float32Array(length: number, what: string): Float32Array {
  const gb = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GB`;
  if (length <= 2 ** 32 && 4 * length <= os.totalmem()) return new Float32Array(length);
  throw new EtlError(
    `${what} would take ${gb(4 * length)} of float32, more than this machine's ` +
      `${gb(os.totalmem())} of memory; use fewer rows or columns (--features, --drop)`,
  );
}

/**
 * Reads data/ccr_raw.json back (one row per line, as extract writes it) into a Table, under the
 * same rules as the CSV's cells (checkKeptColumns); an error names the JSON file's line.
 */
export async function readRawTable(file: string, config: Config): Promise<Table> {
  requireArtifact(file, "extract");
  const damaged = (detail: string) =>
    new EtlError(`${shown(file)}: ${detail}; run npx tsx etl.ts extract to write it again`);
  const bound = textBound(config.maxCategories);
  let columns: string[] | null = null;
  let [kept, slots, facts] = [[] as string[], [] as number[], [] as KeptFacts[]];
  let values: Float32Array = new Float32Array(0);
  let [nRows, closed, inIndex] = [0, false, false];
  const input = fs.createReadStream(file, { encoding: "utf8" });
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (!columns) {
      const match = /^\{"columns":(\[.*\]),"data":\[$/.exec(line);
      if (!match) throw damaged("not written by etl.ts extract");
      columns = JSON.parse(match[1]) as string[];
      kept = keptColumns(file, columns, config);
      slots = kept.map(positionsIn(columns)); // kept column -> its index in a row
      facts = kept.map(noFacts);
      continue;
    }
    if (line === "]}") {
      [closed, inIndex] = [true, false];
      continue;
    }
    if (line === '],"index":[') inIndex = true; // pandas' implicit index, a cell per line
    if (inIndex) continue; //                     (Transform has no use for it)
    let row: unknown[] | null = null;
    try {
      row = JSON.parse(line.endsWith(",") ? line.slice(0, -1) : line);
    } catch {
      throw damaged(`line ${nRows + 2} is not valid JSON`);
    }
    const isRow = Array.isArray(row) && row.length === columns.length && slots.every((j) =>
      row![j] === null || ["number", "boolean", "string"].includes(typeof row![j]));
    if (closed || !isRow) throw damaged(`line ${nRows + 2} is not a row of the table`);
    if ((nRows + 1) * kept.length > values.length) {
      values = roomForMoreRows(values, nRows, kept.length);
    }
    const at = nRows++ * kept.length;
    slots.forEach((j, k) => (values[at + k] = rawValue(row![j], facts[k], nRows, bound)));
  }
  if (!columns || !closed) throw damaged("the file is cut short");
  // Row r (papaparse's count, as the rules name it) is the JSON file's line r + 1.
  const where = (rows: number[]) =>
    `${shown(file)} line${rows.length > 1 ? "s" : ""} ${rows.map((r) => r + 1).join(", ")}`;
  checkKeptColumns(kept, facts, nRows, config, () => "float64", where); // no text of numbers
  return tableOf(columns, kept, facts, [values.subarray(0, nRows * kept.length)], nRows);
}

/** A raw JSON cell, noted in its column's facts: a number (a boolean 1 or 0), a text's index. */
function rawValue(cell: unknown, facts: KeptFacts, row: number, bound: number): number {
  if (cell === null) return noteMissing(facts, row);
  if (typeof cell === "string") return textCode(facts, cell, row, bound);
  if (typeof cell === "boolean") facts.firstBool = first(facts.firstBool, row);
  else facts.firstNumber = first(facts.firstNumber, row);
  if (!fitsFloat32(+cell!)) noteUnusable(facts, row, String(cell));
  return +cell!; // a boolean is 1 or 0, as to_numpy(np.float32) makes it
}

// ## What the errors say
//
// A run that stops must say where and what to do: each message names the file, the line (and
// the column), what is wrong, and how to fix it. They are gathered here so that Part I reads as
// the rule (`if (n - nTest < 1) throw tooFewRows(...)`) and this part as its explanation.

/**
 * The header's names as pandas 1.5's read_csv gives them: a blank one is `Unnamed: j` (j from 0),
 * a repeat gets `.1` (`.2`, ... if taken); named ones first, so that a blank's is the one renamed.
 */
export function pandasNames(header: string[]): string[] {
  const names = header.map((name, j) => (name === "" ? `Unnamed: ${j}` : name));
  const counts = new Map<string, number>(); // a name -> the suffix its next repeat tries first
  const unnamed = header.flatMap((name, j) => (name === "" ? [j] : []));
  const order = [...names.keys()].filter((j) => header[j] !== "").concat(unnamed);
  const taken = new Set(names); // a renamed column's old name stays taken by an earlier one
  order.forEach((j) => {
    const original = names[j];
    let [name, count] = [original, counts.get(original) ?? 0];
    while (count > 0) {
      counts.set(original, count + 1);
      name = `${original}.${count}`;
      count = taken.has(name) ? count + 1 : counts.get(name) ?? 0;
    }
    names[j] = name;
    taken.add(name);
    counts.set(name, count + 1);
  });
  return names;
}

/** A row longer than the header, which pandas refuses too (in its words, but for the line). */
const tooManyFields = (width: number, found: number) =>
  `expected ${width} fields as in the header, saw ${found}`;

/** A hint when a header name differs from a wanted one by spaces or case, or a letter or two. */
function nearMiss(name: string, header: string[]): string {
  const loose = (s: string) => s.trim().toLowerCase();
  const close = header.find((h) => loose(h) === loose(name));
  const differs = `differs from ${quote(name)} only by spaces or case`;
  if (close !== undefined) return `; ${quote(close)} ${differs}`;
  const meant = nearest(name, header);
  return meant.length === 0 ? "" : `; did you mean ${meant.map(quote).join(" or ")}?`;
}

/** The ones of `names` a typo of `name` most likely meant: the nearest, 2 edits away at most. */
export function nearest(name: string, names: string[]): string[] {
  const most = name.length <= 4 ? 1 : 2; // a short name: one edit
  let [best, bestDistance] = [[] as string[], most + 1];
  for (const candidate of names) {
    if (Math.abs(candidate.length - name.length) > most) continue;
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) [best, bestDistance] = [[], distance];
    if (distance === bestDistance && best.length < 3) best.push(candidate);
  }
  return best;
}

/** Levenshtein's distance: the fewest insertions, deletions and substitutions from a to b. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}

/** Columns the flags name that the header lacks. */
function missingColumns(file: string, unknown: string[], header: string[], hint = ""): EtlError {
  return new EtlError(
    `${shown(file)} line 1 (header): missing column${unknown.length > 1 ? "s" : ""} ` +
      `${nameList(unknown)}; the file has ${nameList(header)}` +
      unknown.map((name) => nearMiss(name, header)).join("") + otherSeparator(header) + hint,
  );
}

/** A word on naming one's own columns, when the file lacks most of the mock data's defaults. */
function defaultsHint(config: Config, unknown: string[], header: string[]): string {
  const defaults = CONFIG.features as string[];
  const features = JSON.stringify(config.features) === JSON.stringify(defaults) &&
    unknown.filter((name) => defaults.includes(name)).length > defaults.length / 2;
  const target = config.target === CONFIG.target && unknown.includes(config.target) &&
    nearMiss(config.target, header) === "";
  if (!features && !target) return "";
  const flags = [target && "--target NAME", features && "--features A,B,... (or all)"];
  return "; the default target and features are the shipped mock data's columns: name yours " +
    `with ${flags.filter(Boolean).join(" and ")}`;
}

/** A hint when the header is one column that holds another separator: --sep. */
function otherSeparator(header: string[]): string {
  const sep = header.length === 1 ? [";", "\t", "|"].find((s) => header[0].includes(s)) : undefined;
  if (sep === undefined) return "";
  return `; the header is one column holding ${JSON.stringify(sep)}: if that separates the ` +
    `fields, pass --sep '${sep === "\t" ? "\\t" : sep}'`;
}

/** Every column named is the target or dropped. */
const noFeaturesLeft = (file: string) => new EtlError(
  `${shown(file)} line 1 (header): no feature columns are left; name some with --features`,
);

/**
 * The kept columns' rules (Step 1), checked once the whole file is read: the first rule broken
 * throws, naming its first line by `where(rows)`; `dtypeOf(k)` is the dtype pandas gives column k.
 */
function checkKeptColumns(
  kept: string[], facts: KeptFacts[], nRows: number,
  rules: Pick<Config, "target" | "maxCategories">, dtypeOf: (k: number) => Dtype,
  where: (rows: number[]) => string,
): void {
  kept.forEach((name, k) => {
    const { firstNumber, firstBool, firstText, firstUnusable, missingRows, texts } = facts[k];
    const { textCells, missing, unusable } = facts[k];
    const isTarget = name === rules.target;
    const numbers = firstNumber >= 0 || firstBool >= 0 || firstUnusable >= 0;
    const mixed = firstText >= 0 && (isTarget || numbers);
    const booleans = firstBool >= 0 && firstNumber < 0; // True, False, NaN: 1, 0, NaN
    // An unusable number is reported unless text came before it in a column mixed anyway.
    const textFirst = mixed && firstText < firstUnusable;
    const at = (rows: number[]) => `${where(rows)}: column ${quote(name)}`;
    const blank = "the target, is blank or missing; every row needs a target value";
    if (isTarget && missingRows.length > 0) throw new EtlError(`${at(missingRows)}, ${blank}`);
    if (firstUnusable >= 0 && !textFirst) { // float32, which the arrays hold, ends at 3.4028235e38
      const why = Number.isFinite(Number(unusable.replace(/^\+/, "")))
        ? "beyond float32's range (its largest value is 3.4028235e38), and the arrays are " +
          "float32; divide the column by a power of ten first"
        : "not a finite number";
      throw new EtlError(`${at([firstUnusable])} is ${JSON.stringify(unusable)}, ${why}`);
    }
    const numberCells = nRows - textCells - missing;
    const how =
      `${thousands(numberCells)} of its cells are numbers and ${thousands(textCells)} text`;
    if (mixed && textCells > numberCells && !isTarget) { // the numbers are the odd ones out
      const firstNumeric = Math.min(...[firstNumber, firstBool].filter((row) => row >= 0));
      const remedy = `blank the numbers, or leave the column out with --drop ${shellWord(name)}`;
      throw new EtlError(`${at([firstNumeric])} is a number, and ${how}; a feature is all text ` +
        `or all numbers: ${remedy}`);
    }
    if (mixed) {
      const value = JSON.stringify(texts.keys().next().value); // quoted; a line break shows as \n
      const why = isTarget ? "the target must be a number" : "the column's other cells are numbers";
      throw new EtlError(`${at([firstText])} is ${value}, not a finite number (${how}); ${why}`);
    }
    if (numbers && !booleans && dtypeOf(k) === "object") {
      throw new EtlError(
        `${at([Math.max(firstNumber, firstBool)])} mixes kinds of numbers that pandas reads as ` +
          "text (booleans among numbers, or an integer beyond int64); make them one kind",
      );
    }
    if (isTarget) return;
    const limit = rules.maxCategories || MAX_CATEGORIES;
    if (texts.size > limit) { // one-hot, each distinct value would be a column of X
      const count = `${texts.size < textBound(limit) ? "" : "at least "}${thousands(texts.size)}`;
      throw new EtlError(
        `column ${quote(name)} has ${count} distinct values, and one-hot encoding makes a column ` +
          `of each (at most --max-categories ${limit}); an id or free text is no feature: ` +
          `leave it out with --drop ${shellWord(name)}`,
      );
    }
    // An id or free text: more distinct values than half the cells (when no limit was given).
    const cells = nRows - missing;
    if (!rules.maxCategories && texts.size > ID_LIKE * cells && texts.size > 20) {
      throw new EtlError(
        `column ${quote(name)} has ${thousands(texts.size)} distinct values in ` +
          `${thousands(cells)} cells, more than half: an id or free text, no feature (one-hot ` +
          `encoding would make a column of each); leave it out with --drop ${shellWord(name)}, ` +
          `or keep it with --max-categories ${texts.size}`,
      );
    }
  });
}

/** The most distinct values of a text feature, unless --max-categories gives another. */
const MAX_CATEGORIES = 1000;

/** A text feature with distinct values in more than this fraction of its cells is an id. */
const ID_LIKE = 0.5;

/** Distinct texts are counted up to this many, for a limit of `maxCategories` (0: the default). */
const textBound = (maxCategories: number) => DISTINCT_COUNTED * (maxCategories || MAX_CATEGORIES);

/** Too few rows for the split to leave a train row. */
const tooFewRows = (n: number, testSize: number, nTest: number) => new EtlError(
  `${n} row${n === 1 ? "" : "s"} cannot be split with --test-size ${testSize}: validation ` +
    `takes ceil(${testSize} x ${n}) = ${nTest} and train would be empty; ` +
    "add rows or lower --test-size",
);

/** Every feature a text column of one category, which drop="first" drops: X has no column. */
const noColumnsInX = (names: string[]) => new EtlError(
  `X would have no columns: ${nameList(names)} ${names.length > 1 ? "have" : "has"} one ` +
    "category in the train rows, and one-hot encoding drops the first; add features with " +
    "--features",
);

/** A feature with no value in any train row: nothing to impute it from, or to encode it by. */
const blankInEveryTrainRow = (name: string, why: string) => new EtlError(
  `column ${quote(name)} is blank in every train row, so there is ${why}; ` +
    `leave it out with --drop ${shellWord(name)}`,
);

/** `features`, the fitted transform's, when the header of new rows for `apply` has them all. */
function featuresIn(file: string, header: string[], features: string[]): string[] {
  const inHeader = new Set(header);
  const missing = features.filter((name) => !inHeader.has(name));
  if (missing.length === 0) return features;
  throw new EtlError(
    `${shown(file)} line 1 (header): missing feature column${missing.length > 1 ? "s" : ""} ` +
      `${nameList(missing)}, which the fitted transform needs; the file has ${nameList(header)}`,
  );
}

/** New rows for `apply` with text where the transform was fitted on numbers. */
const textWhereNumbersWere = (file: string, name: string) => new EtlError(
  `${shown(file)}: column ${quote(name)} holds text, but it was numeric when the transform ` +
    "was fitted",
);

// ## Finding the line of an error
//
// Only errors need line numbers, so rather than count lines for every row, which would cost
// every run time, the file is read again when an error has to name its line. Papaparse counts
// rows (a quoted line break makes a row span lines, blank lines are no rows) and characters of
// the text; these turn either into the line a text editor shows.

/** "FILE line N" (or "lines N, M") for papaparse rows (the header is row 0), ascending. */
function rowWhere(source: CsvSource, starts: BlockStart[], rows: number[]): string {
  const lines = linesAt(source, rows.map((row) => rowStart(source, starts, row)), true);
  return `${shown(source.file)} line${lines.length > 1 ? "s" : ""} ${lines.join(", ")}`;
}

/** The byte at which `row` starts (where the row before ended), parsed from its block's start. */
function rowStart(source: CsvSource, starts: BlockStart[], row: number): number {
  let b = starts.length - 1;
  while (starts[b].row > row) b--; // the last block that starts at or before the row
  let [r, rowEnd] = [starts[b].row, starts[b].byte];
  for (const chunk of rowChunks(source, rowEnd, [source.bytes], true)) {
    for (let i = 0; i < chunk.rows.length; i++, r++) {
      if (r === row) return rowEnd;
      rowEnd = chunk.endBytes![i];
    }
    if (chunk.error) break;
  }
  return rowEnd;
}

/**
 * The 1-based lines of bytes `at` (ascending), counted in one pass. With `rowStarts`, each is a
 * row's start, and the line breaks and blank lines right after it belong to the lines before it.
 */
function linesAt(source: CsvSource, at: number[], rowStarts = false): number[] {
  const buffer = Buffer.allocUnsafe(BLOCK_BYTES + 1); // one byte more: does an LF follow a CR?
  let [line, position] = [1, source.start];
  return at.map((target) => {
    while (position < target) {
      const wanted = Math.min(BLOCK_BYTES, target - position); // and one byte more, read below
      const read = fs.readSync(source.fd, buffer, 0, wanted + 1, position);
      if (read === 0) break;
      line += lineBreaks(buffer.subarray(0, read), Math.min(read, wanted));
      position += Math.min(read, wanted);
    }
    if (!rowStarts) return line;
    const after = buffer.subarray(0, fs.readSync(source.fd, buffer, 0, CHUNK_BYTES, target));
    let blank = 0; // the line breaks right after the row's start
    while (blank < after.length && (after[blank] === 10 || after[blank] === 13)) blank++;
    return line + lineBreaks(after, blank);
  });
}

/** The line breaks (LF, CR LF or a lone CR) that end in bytes[0, end); bytes[end] is the next. */
function lineBreaks(bytes: Buffer, end: number): number {
  let breaks = 0;
  for (let i = bytes.indexOf(10); i >= 0 && i < end; i = bytes.indexOf(10, i + 1)) breaks++;
  for (let i = bytes.indexOf(13); i >= 0 && i < end; i = bytes.indexOf(13, i + 1)) {
    if (bytes[i + 1] !== 10) breaks++; // a CR LF is counted at its LF
  }
  return breaks;
}

// ## Files that are never torn
//
// A run either changes nothing or puts all of its files in place, its manifest with them. The
// simple version writes each artifact where it belongs as soon as it is ready; then a bad row
// found late, a full disk or a Ctrl-C leaves some artifacts new and some old, and a kill leaves
// one cut in half. Here every file is first written under a temporary name in its own folder,
// and all of a run's files, the manifest last, are renamed over the old ones only once every step
// has succeeded and every hash is known. rename() within a folder is atomic, and the renames run
// in one synchronous stretch, which no signal handler can interrupt. A kill (SIGKILL) still can:
// a journal written just before them lists the renames, and the next run finishes them.

/** An object as a JSON file: indented by 2, a line break at the end. */
const json = (value: unknown) => JSON.stringify(value, null, 2) + "\n";

/** What a run read, for the manifest: the CSV ("-" for standard input), its sha256 and size. */
type Input = { file: string; sha256: Promise<string>; bytes: number; rows: number };

/** A file being written under a temporary name; its sha256 and size are kept for the manifest. */
export class StagedFile {
  private fd: number | null;
  bytes = 0;
  shape?: number[]; // a .npy array's shape
  sha256?: Promise<string>; // once the file is complete
  readonly temp: string;
  readonly final: string;

  constructor(temp: string, final: string) {
    [this.temp, this.final] = [temp, final];
    this.fd = fs.openSync(temp, "w");
  }

  write(data: string | Uint8Array): void {
    const buffer = typeof data === "string" ? Buffer.from(data) : data;
    try {
      for (let done = 0; done < buffer.length; ) done += fs.writeSync(this.fd!, buffer, done);
    } catch (err) {
      throw Object.assign(err as Error, { path: this.final }); // a full disk names no file itself
    }
    this.bytes += buffer.length;
  }

  /** Closes the file; when it is complete, starts to hash it (a big one on the helper thread). */
  close(complete = true): void {
    if (this.fd === null) return;
    fs.closeSync(this.fd);
    this.fd = null;
    if (complete) this.sha256 = sha256File(this.temp);
    this.sha256?.catch(() => {}); // awaited by commit()
  }
}

/** Every file a run writes, held under temporary names until commit() puts them in place. */
export class Staging {
  private pending: StagedFile[] = [];
  private scratch: string[] = []; //     temporary files that are no artifact: a pipe's copy
  private madeFolders: string[] = []; // folders this run made, parents first
  input?: Input; //                      the CSV the run read, for the manifest
  obsolete: string[] = []; //            files this run makes obsolete: commit() removes them
  committing = false; //                 the renames have begun: the run finishes, signal or not
  committed: string[] = []; //           the files commit() put in place
  private janitor?: ChildProcess; //     cleans up after a run that a signal ended (a big input)
  readonly paths: Paths;

  constructor(paths: Paths = PATHS) {
    this.paths = paths;
  }

  /**
   * SIGINT (Ctrl-C) or SIGTERM: the temporary files go, and the run exits with 128 + the signal's
   * number, as a shell reports it. Once the renames have begun, the run finishes first.
   */
  private readonly interrupted = (signal: NodeJS.Signals) => {
    if (this.committing) return;
    this.discard();
    process.exit(128 + os.constants.signals[signal]);
  };

  /** Handles SIGINT and SIGTERM, or (`false`) leaves them their default action: the end. */
  handleSignals(handle = true): void {
    for (const signal of SIGNALS) {
      if (!handle) process.off(signal, this.interrupted);
      else if (!process.listeners(signal).includes(this.interrupted)) {
        process.on(signal, this.interrupted);
      }
    }
  }

  /**
   * For a run that may keep the main thread busy for seconds: until the commit, a signal ends it
   * at once, and a janitor process, which outlives it, removes what it left (Signals, below).
   */
  leaveSignalsToJanitor(): void {
    this.janitor = startJanitor(this.paths);
    this.janitor.on("error", () => this.handleSignals()); // none started: the handler stays
    this.handleSignals(false);
  }

  /**
   * The run is over, its files in place or none: no janitor, and no handler of its own. In the
   * program, a signal from now on would only hide the exit code: it is ignored, with no moment
   * between the two handlers when its default action would end the process.
   */
  close(): void {
    if (isTheProgram()) for (const signal of SIGNALS) process.on(signal, () => {});
    this.handleSignals(false);
    this.janitor?.kill();
  }

  /** Starts a temporary file that commit() will rename to `final`; a first version is dropped. */
  open(final: string): StagedFile {
    this.makeFolder(path.dirname(final));
    const temp = path.join(path.dirname(final), `.${path.basename(final)}.${process.pid}.etl-tmp`);
    for (const old of this.pending.filter((p) => p.final === final)) old.close(false);
    const file = new StagedFile(temp, final);
    this.pending = [...this.pending.filter((p) => p.final !== final), file];
    return file;
  }

  write(final: string, ...parts: (string | Uint8Array)[]): StagedFile {
    const file = this.open(final);
    for (const part of parts) file.write(part); // on failure, discard() closes it
    file.close();
    return file;
  }

  /** np.save(final, array.reshape(shape)), once checkFinite() has let the array through. */
  writeArray(final: string, array: Float32Array, shape: number[], columns?: string[]): void {
    checkFinite(final, array, shape, columns);
    this.write(final, ...npyBytes(array, shape)).shape = shape;
  }

  /** A temporary file in `dir` that is no artifact, removed by discard() and by the next run. */
  scratchFile(dir: string, name: string): string {
    this.makeFolder(dir);
    const file = path.join(dir, `.${name}.${process.pid}.etl-tmp`);
    this.scratch.push(file);
    return file;
  }

  /** Puts every file in place, the manifest last, once all that can fail or wait is done. */
  async commit(config: Config, step: Step | "all"): Promise<void> {
    this.handleSignals(); // from here on a signal waits for the renames, if they have begun
    for (const file of this.pending) file.close();
    await Promise.all(this.pending.map((file) => file.sha256));
    const { paths, pending, input, obsolete } = this;
    const manifest = await buildManifest(paths, config, step, pending, input, obsolete);
    this.write(this.paths.manifest, json(manifest));
    const moves = this.pending.map((file) => [file.temp, file.final]);
    const olds = this.keepOldFiles(moves.map(([, final]) => final));
    const journal = writeJournal(this.paths, moves, this.obsolete);
    this.committing = true;
    // From here on nothing awaits, so no signal handler runs before every file is in place.
    let renamed = 0;
    try {
      for (; renamed < moves.length; renamed++) fs.renameSync(moves[renamed][0], moves[renamed][1]);
    } catch (err) {
      // The system refused a rename (a file made immutable, say): the last good set comes back,
      // all of it. (Anything else is a bug, and crashes: the journal finishes the commit.)
      if (!isSystemError(err)) throw err;
      for (const [, final] of moves.slice(0, renamed)) {
        const old = olds.get(final);
        if (old) fs.renameSync(old, final);
        else fs.rmSync(final, { force: true });
      }
      fs.rmSync(journal, { force: true });
      this.committing = false;
      throw err;
    } finally {
      for (const old of olds.values()) fs.rmSync(old, { force: true });
    }
    for (const file of [...this.obsolete, journal]) fs.rmSync(file, { force: true });
    [this.pending, this.madeFolders] = [[], []]; // the folders hold the artifacts now
    this.committed = moves.map(([, final]) => final);
    this.reportStale(manifest);
  }

  /**
   * A hard link (else a copy) of each of `files` that is there, for a commit whose renames fail
   * halfway to put back; made before any rename, so that a failure here changes nothing.
   */
  private keepOldFiles(files: string[]): Map<string, string> {
    const olds = new Map<string, string>();
    try {
      for (const file of files.filter((f) => fs.existsSync(f))) {
        const name = `.${path.basename(file)}.old.${process.pid}.etl-tmp`; // as TEMP_FILE reads it
        const old = path.join(path.dirname(file), name);
        try {
          fs.linkSync(file, old);
        } catch {
          fs.copyFileSync(file, old); // a file system without hard links
        }
        olds.set(file, old);
      }
    } catch (err) {
      for (const old of olds.values()) fs.rmSync(old, { force: true });
      throw err;
    }
    return olds;
  }

  /** Says which artifacts the manifest now lists as made from older inputs or settings. */
  private reportStale(manifest: Manifest): void {
    for (const step of STEPS) {
      const files = stepArtifacts(this.paths)[step].map((file) => relativePath(this.paths, file));
      if (!files.some((file) => manifest.stale?.includes(file))) continue;
      const older = `were made from older inputs or settings than this run's`;
      const todo = step === "apply"
        ? "to remake them, run npx tsx etl.ts apply --csv NEW.csv on the new rows they are for"
        : `run npx tsx etl.ts ${step} to remake them`;
      console.error(`note: ${step}'s artifacts (${path.dirname(files[0])}/) ${older}; ${todo}`);
    }
  }

  /** Removes every temporary file of the run: nothing it wrote stays. */
  discard(): void {
    for (const file of this.pending) {
      try {
        file.close(false);
      } catch {} // closing a file on a full disk may fail too; removing it is what matters
      fs.rmSync(file.temp, { force: true });
    }
    for (const file of this.scratch) fs.rmSync(file, { force: true });
    // The folders this run made, deepest first, if nothing else came into them meanwhile.
    for (const folder of this.madeFolders.reverse()) {
      try {
        fs.rmdirSync(folder);
      } catch {} // not empty (another run's files came in), or gone already: left as it is
    }
    [this.pending, this.scratch, this.madeFolders] = [[], [], []];
  }

  /** mkdir -p, one folder at a time (Node's recursive mkdir loops for ever under /proc). */
  private makeFolder(dir: string): void {
    const missing: string[] = [];
    for (let at = path.resolve(dir); !fs.existsSync(at); at = path.dirname(at)) {
      if (fs.lstatSync(at, { throwIfNoEntry: false })) fs.statSync(at); // a link that leads nowhere
      missing.push(at);
    }
    for (const folder of missing.reverse()) {
      fs.mkdirSync(folder);
      this.madeFolders.push(folder);
    }
  }
}

/** The run's last guard: an array with a NaN or an infinity is refused, naming where it is. */
function checkFinite(file: string, array: Float32Array, shape: number[], columns?: string[]) {
  let at = 0;
  while (at < array.length && array[at] - array[at] === 0) at++; // x - x is NaN for NaN, +-inf
  if (at === array.length) return;
  const [name, value] = [path.basename(file, ".npy"), array[at]];
  const plain = `${name} would hold ${value} at index ${at}; nothing was written`;
  if (!columns || shape.length < 2) throw new EtlError(plain);
  const [row, column] = [Math.floor(at / shape[1]), columns[at % shape[1]]];
  throw new EtlError(
    `column ${quote(column)} of ${name} is ${value} in row ${row} after scaling: ` +
      "(x - mean_) / scale_ overflows float32 when a column's values come near +-3.4e38; " +
      `divide the column by a power of ten first, or leave it out with --drop ${shellWord(column)}`,
  );
}

const TEMP_FILE = /^\.(.+)\.(\d+)\.etl-tmp$/; // .X_train.npy.<pid>.etl-tmp

/** The folders a run writes in: where its temporary files are. */
const artifactFolders = (paths: Paths) => [path.dirname(paths.raw), paths.transformDir,
  paths.loaderDir, paths.inferenceDir, path.dirname(paths.manifest)];

/** Removes the temporary files a killed run (its process gone) left where a run writes. */
export function removeStaleTemps(paths: Paths): void {
  for (const dir of artifactFolders(paths)) {
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      const pid = TEMP_FILE.exec(name)?.[2];
      if (pid && !processIsAlive(Number(pid))) fs.rmSync(path.join(dir, name), { force: true });
    }
  }
}

function processIsAlive(pid: number): boolean {
  try {
    return process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

const journalPath = (paths: Paths) =>
  path.join(path.dirname(paths.manifest), ".commit.etl-journal");

/** Writes (atomically) the list of renames and removals a commit is about to make. */
function writeJournal(paths: Paths, moves: string[][], removals: string[]): string {
  const journal = journalPath(paths);
  const temp = `${journal}.${process.pid}.etl-tmp`;
  const relative = (file: string) => path.relative(paths.out, file);
  const plan = { renames: moves.map((m) => m.map(relative)), removes: removals.map(relative) };
  fs.writeFileSync(temp, JSON.stringify(plan));
  fs.renameSync(temp, journal);
  return journal;
}

/** Finishes the renames of a run killed in the middle of them, as its journal lists them. */
export function finishInterruptedCommit(paths: Paths): void {
  const journal = journalPath(paths);
  if (!fs.existsSync(journal)) return;
  type Plan = { renames: string[][]; removes: string[] };
  const plan = JSON.parse(fs.readFileSync(journal, "utf8")) as Plan;
  const inRoot = (file: string) => path.resolve(paths.out, file);
  for (const [temp, final] of plan.renames) {
    if (fs.existsSync(inRoot(temp))) fs.renameSync(inRoot(temp), inRoot(final));
  }
  for (const file of plan.removes) fs.rmSync(inRoot(file), { force: true });
  fs.rmSync(journal, { force: true });
}

/** Fails with the command that makes `file` when an earlier step has not been run. */
function requireArtifact(file: string, step: Step): void {
  if (fs.existsSync(file)) return;
  throw new EtlError(`Missing ${shown(file)}: run npx tsx etl.ts ${step}`);
}

/** A JSON artifact an earlier step wrote; missing or damaged, an error says how to remake it. */
function readJson<T>(file: string, step: Step): T {
  requireArtifact(file, step);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch (err) {
    if (isSystemError(err)) throw err;
    const todo = `run npx tsx etl.ts ${step} to write it again`;
    throw new EtlError(`${shown(file)}: not valid JSON; ${todo}`);
  }
}

/**
 * The fitted state `apply` uses, read back and checked: every key it needs, of the right type
 * and length, so that a hand-edited or cut file is an error that names the key, not a crash.
 */
function readFittedState(paths: Paths) {
  const scaler = readJson<StandardScaler>(paths.scaler, "transform");
  const imputer = readJson<Imputer>(paths.imputer, "transform");
  const encoder = readJson<Encoder>(paths.encoder, "transform");
  const bad = (file: string, key: string, wanted: string) => new EtlError(`${shown(file)}: ` +
    `${key} is missing or not ${wanted}; run npx tsx etl.ts transform to write it again`);
  const numbers = (x: unknown) => Array.isArray(x) && x.every((v) => Number.isFinite(v));
  const strings = (x: unknown) => Array.isArray(x) && x.every((v) => typeof v === "string");
  const categoryList = (x: unknown) => Array.isArray(x) && x.every((v, i) =>
    typeof v === "string" || (v === null && i === x.length - 1)); // NaN, written null, is last
  if (!numbers(imputer?.statistics_)) throw bad(paths.imputer, "statistics_", "a list of numbers");
  const names = imputer.feature_names_in_;
  if (!strings(names) || names.length !== imputer.statistics_.length) {
    throw bad(paths.imputer, "feature_names_in_", "one name per statistic");
  }
  const textual = encoder?.feature_names_in_;
  if (!strings(textual)) throw bad(paths.encoder, "feature_names_in_", "a list of names");
  const categories = encoder.categories_;
  const perFeature = Array.isArray(categories) && categories.length === textual.length;
  if (!perFeature || !categories.every(categoryList)) {
    throw bad(paths.encoder, "categories_", "a list of names per text feature");
  }
  const d = encodedColumns(imputer, encoder).length;
  for (const key of ["mean_", "scale_"] as const) {
    const fits = numbers(scaler?.[key]) && scaler[key].length === d;
    if (!fits) throw bad(paths.scaler, key, `${d} numbers`);
  }
  if (scaler.scale_.some((s) => s === 0)) throw bad(paths.scaler, "scale_", "free of zeros");
  return { scaler, imputer, encoder };
}

// ## When the system says no
//
// A folder that cannot be written, a full disk, a path through a link loop: the operating
// system's errors carry a code and the path, and each becomes one `error:` line that names the
// path, says what went wrong in words and what to do, instead of a stack trace.

const SYSTEM_ERRORS: Record<string, [what: string, todo: string]> = {
  EACCES: ["permission denied", "check the permissions of the file and the folders above it"],
  EPERM: ["operation not permitted", "check the permissions of the file and the folders above it"],
  ENOENT: ["no such file or folder", "check the path"],
  ENOTDIR: ["a part of the path is a file, not a folder", "move that file out of the way"],
  EISDIR: ["is a folder, where a file is needed", "move the folder out of the way"],
  EEXIST: ["already exists as something else", "move it out of the way"],
  ENOSPC: ["no space left on the device", "free some space, then run again"],
  EDQUOT: ["disk quota exceeded", "free some space, then run again"],
  EROFS: ["read-only file system", "write on a writable disk"],
  ELOOP: ["too many symbolic links (a link that points back at itself?)", "fix or remove the link"],
  ENAMETOOLONG: ["the path is too long", "use a shorter path"],
  EMFILE: ["too many open files", "close other programs, or raise the limit with ulimit -n"],
  ENFILE: ["too many open files", "close other programs, or raise the limit with ulimit -n"],
  EIO: ["input/output error", "check the disk"],
  EBUSY: ["the file is busy", "close what holds it, then run again"],
};

/** An error the operating system raised about a file (it has a code and a system call). */
function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === "string" &&
    typeof (err as NodeJS.ErrnoException).syscall === "string";
}

/** One line for a system error: the path, what went wrong and what to do. */
export function systemErrorLine(err: NodeJS.ErrnoException): string {
  const [what, todo] = SYSTEM_ERRORS[err.code!] ?? [err.message, "check the path and run again"];
  // A temporary file is named as the artifact it was to become.
  const tempName = /(^|[\\/])\.([^\\/]+)\.\d+\.etl-tmp$/;
  const named = (file: string) => shown(file.replace(tempName, "$1$2"));
  const where = err.path ? named(err.path) : err.syscall;
  return `${where}: ${what} (${err.code}); ${todo}`;
}

// ## Signals: a run ends at once, and leaves nothing behind
//
// SIGINT (Ctrl-C) or SIGTERM must end a run within a second, every artifact as it was and no
// temporary file left. The simple version is a handler that removes the run's temporary files
// and exits (`Staging`'s). But Node runs a handler only when the main thread is free, and
// Transform's loops keep it busy for seconds at ten million rows. So a run over a big input gives
// the signals back their default action, which ends the process at once, and leaves the
// cleaning to a janitor: a small Node process that waits for the run's process to end, then
// removes its temporary files and the folders it made. The commit takes the handler back: once
// its renames have begun, they finish (a fraction of a second) before a signal is heard.

import { type ChildProcess, spawn } from "node:child_process";

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** An input from this size up may keep the main thread from a signal for a second or more. */
const JANITOR_BYTES = 1 << 23;

/** Whether `step` reads an input big enough for the janitor (or standard input, of any size). */
function mayComputeLong(step: Step | "all", config: Config, paths: Paths): boolean {
  const input = step === "transform" ? paths.raw : step === "load" ? null : config.csv;
  if (input === "-") return true;
  return !!input && (fs.statSync(input, { throwIfNoEntry: false })?.size ?? 0) >= JANITOR_BYTES;
}

/**
 * The janitor's code (CommonJS, no TypeScript: it starts in a few milliseconds). Its IPC channel
 * closes when the run's process ends, whatever ended it; a commit that had begun is left to the
 * next run, which finishes it from the journal.
 */
const JANITOR = `
const fs = require("node:fs");
const path = require("node:path");
const { pid, journal, folders, missing } = JSON.parse(process.argv[1]);
process.on("disconnect", () => {
  if (fs.existsSync(journal)) return;
  for (const folder of folders) {
    const names = fs.existsSync(folder) ? fs.readdirSync(folder) : [];
    for (const name of names.filter((n) => n.endsWith("." + pid + ".etl-tmp"))) {
      fs.rmSync(path.join(folder, name), { force: true });
    }
  }
  for (const folder of missing) try { fs.rmdirSync(folder); } catch {}
});`;

/**
 * Starts the janitor for this process's run under `paths`, in a process group of its own (a
 * terminal's Ctrl-C reaches the run alone). `missing`: the folders the run may make, deepest
 * first, removed if empty.
 */
function startJanitor(paths: Paths): ChildProcess {
  const missing: string[] = [];
  for (const folder of artifactFolders(paths)) {
    for (let dir = folder; !fs.existsSync(dir) && !missing.includes(dir); dir = path.dirname(dir)) {
      missing.push(dir);
    }
  }
  missing.sort((a, b) => b.length - a.length);
  const job = { pid: process.pid, journal: journalPath(paths), folders: artifactFolders(paths),
    missing };
  const janitor = spawn(process.execPath, ["-e", JANITOR, JSON.stringify(job)], {
    detached: true, stdio: ["ignore", "ignore", "ignore", "ipc"],
  });
  janitor.unref(); // the run's process may end without waiting for it
  janitor.channel?.unref();
  return janitor;
}

// ## The helper thread, on the other core
//
// At millions of rows, parsing the CSV is most of a run, and one of two cores would sit idle. The
// helper thread is a worker that runs this same file and does two jobs: it parses blocks of the
// CSV, taking each from the counter it shares with the main thread (`readBlocks()`), and it
// hashes big files for the manifest (`sha256File()`). Extract starts it for a CSV of HELPER_BYTES
// or more, else the first big file to hash does. It fails one way: it stops (it could not start,
// or it crashed). Every job it owes is then answered `null`, and the main thread does that job
// itself, with the same bytes.

// (Imports are hoisted: this one stands with the only code that uses it.)
import { Worker, isMainThread, parentPort, threadId, workerData } from "node:worker_threads";

/** A file smaller than this is parsed and hashed on the main thread alone. */
const HELPER_BYTES = 1 << 22;

/** The helper's answer to job `id`: a parsed block, a value, or `done` after its last block. */
type HelperAnswer = { id: number; index?: number; block?: BlockResult; value?: unknown; done?: 1 };
type Answered = (answer: HelperAnswer | null) => void;
/** The worker; the next job's id; the jobs it owes, by id. */
type Helper = { worker: Worker; next: number; waiting: Map<number, Answered> };

/** The helper once started; null once it has stopped, or could not start. */
let helper: Helper | null | undefined;

/**
 * Starts the helper for a CSV of `bytes` (a first job starts it too): a worker that runs this
 * file. Node reads TypeScript itself from 22.18 and 23.6 on (it strips the types: etl.ts uses no
 * syntax but types that can be erased), and with its compile cache (22.1 on) the helper starts in
 * about 0.04 s, not 0.12; an older Node loads tsx first, through its documented `register()`:
 * about 0.25 s. The nursery (V8's young generation, where papaparse's rows die) is small where
 * memory is the tighter bound, bigger from 100 MB on, where collecting it often costs time.
 */
function startHelperFor(bytes = HELPER_BYTES): void {
  if (bytes < HELPER_BYTES || helper !== undefined) return;
  const typeScript = (process.features as { typescript?: string | false }).typescript;
  const tsx = () => `(await import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}))` +
    ".register();";
  const boot = `(await import("node:module")).default.enableCompileCache?.();\n` +
    `${typeScript ? "" : tsx()}\nawait import(${JSON.stringify(import.meta.url)});`;
  let worker: Worker;
  try {
    worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), {
      workerData: { etlHelper: true },
      execArgv: [], // none of this process's flags: tsx, if it is needed, is loaded above
      resourceLimits: { maxYoungGenerationSizeMb: bytes >= 100e6 ? 32 : 12 },
    });
  } catch {
    helper = null; // no worker can be made here (or no tsx to load): the main thread does it all
    return;
  }
  const started: Helper = { worker, next: 0, waiting: new Map() };
  const stopped = () => {
    if (helper === started) helper = null; // from now on, the main thread does every job
    for (const answer of started.waiting.values()) answer(null);
    started.waiting.clear();
  };
  worker.on("message", (answer: HelperAnswer) => started.waiting.get(answer.id)?.(answer));
  worker.on("error", stopped);
  worker.on("exit", stopped);
  worker.unref(); // idle: the process may end
  helper = started;
}

/**
 * Sends `job` to the helper (started on first use). `onAnswer` gets each answer, or null if the
 * helper stops first, and returns true at the last one. False when there is no helper.
 */
function askHelper(job: object, onAnswer: (answer: HelperAnswer | null) => boolean): boolean {
  startHelperFor();
  if (!helper) return false;
  const { worker, waiting } = helper;
  const id = helper.next++;
  waiting.set(id, (answer) => {
    if (!onAnswer(answer)) return;
    waiting.delete(id);
    if (waiting.size === 0) worker.unref();
  });
  worker.ref(); // answers are owed: the process waits for them
  worker.postMessage({ id, ...job });
  return true;
}

/** Stops the helper, if it runs; what it owed, the main thread does. A next job starts another. */
export async function stopHelper(): Promise<void> {
  const running = helper;
  helper = undefined;
  await running?.worker.terminate(); // its exit answers every job it owed with null
}

/** The value the helper answers `job` with, or null where there is no helper or it stopped. */
function helperValue(job: object): Promise<unknown> {
  return new Promise((resolve) => {
    if (!askHelper(job, (answer) => (resolve(answer?.value ?? null), true))) resolve(null);
  });
}

/** The helper thread's id, or null where there is none: so that a test can see it start. */
export const helperThreadId = () => helperValue({ kind: "threadId" }) as Promise<number | null>;

/** The file's sha256, hex: here for a small file, else on the helper thread (or here if none). */
export async function sha256File(file: string): Promise<string> {
  const here = () => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
  if (fs.statSync(file).size < HELPER_BYTES) return here();
  // Here too when the helper could not read it: then the error says why, in this thread.
  return ((await helperValue({ kind: "sha256", file })) as string | null) ?? here();
}

/** The sha256 of the input's bytes as it was opened (its descriptor): the bytes that are parsed. */
async function sha256Snapshot(source: CsvSource): Promise<string> {
  const { fd, bytes } = source;
  const here = () => {
    const [hash, chunk] = [createHash("sha256"), Buffer.allocUnsafe(1 << 20)];
    for (let at = 0; at < bytes;) {
      const read = fs.readSync(fd, chunk, 0, Math.min(chunk.length, bytes - at), at);
      if (read === 0) throw inputChanged(source); // cut short since it was opened
      hash.update(chunk.subarray(0, read));
      at += read;
    }
    return hash.digest("hex");
  };
  if (bytes < HELPER_BYTES) return here();
  return ((await helperValue({ kind: "sha256", fd, bytes })) as string | null) ?? here();
}

/**
 * Has the helper parse blocks, taking each from `counter` as the main thread does, for `onBlock`.
 * Resolves after its last block, or once it has stopped (the main thread parses what it owed).
 */
function parseOnHelper(
  source: CsvSource, spec: BlockSpec, bounds: number[], counter: Int32Array,
  onBlock: (index: number, block: BlockResult) => void,
): Promise<void> {
  return new Promise((resolve) => {
    const job = { kind: "blocks", source, spec, bounds, counter: counter.buffer };
    const answered = (answer: HelperAnswer | null) => {
      if (answer?.block) onBlock(answer.index!, answer.block);
      if (!answer || answer.done) resolve();
      return !answer || answer.done === 1;
    };
    if (!askHelper(job, answered)) resolve();
  });
}

/** The helper thread's side: answers the main thread's jobs. */
function serveHelper(): void {
  const port = parentPort!;
  port.on("message", (job) => {
    if (job.kind === "blocks") {
      const { source, spec, bounds } = job;
      const counter = new Int32Array(job.counter);
      const scratch = { values: new Float32Array(0) };
      const take = () => Atomics.add(counter, 0, 1); // the next block no thread has taken
      for (let i = take(); i < bounds.length - 1; i = take()) {
        const block = parseBlock(source, spec, bounds[i], [bounds[i + 1]], scratch);
        const moved = [block.json.buffer, block.values.buffer] as ArrayBuffer[]; // not copied
        port.postMessage({ id: job.id, index: i, block }, moved);
      }
      port.postMessage({ id: job.id, done: 1 });
    } else if (job.kind === "sha256") {
      const hash = createHash("sha256");
      // A path, or the first `bytes` of an open descriptor (the main thread keeps it open).
      const part = job.fd === undefined ? {} : { fd: job.fd, end: job.bytes - 1, autoClose: false };
      fs.createReadStream(job.file ?? "", { highWaterMark: 1 << 20, start: 0, ...part })
        .on("data", (chunk) => hash.update(chunk))
        .on("end", () => port.postMessage({ id: job.id, value: hash.digest("hex") }))
        .on("error", () => port.postMessage({ id: job.id })); // the main thread tries, and says why
    } else {
      port.postMessage({ id: job.id, value: threadId });
    }
  });
}

// ## The manifest: which input and settings made which artifacts
//
// artifacts/manifest.json pins the input and every artifact by sha256, with the settings that
// made them, so that a folder of artifacts says what it is: a dataset version you can diff. It
// holds no timestamp and no absolute path, so the same input and flags give the same bytes. It
// is committed with the files it describes, and it always describes them: a step run alone
// takes its settings from it (a flag given overrides one), and when a step's new artifacts or
// settings leave a later step's artifacts behind, those are listed under `stale` until that step
// runs again. A manifest that cannot be read is rebuilt from the files on disk.

/** A file, its path relative to the output folder; for an array, its dtype and shape too. */
type FileEntry = { path: string; sha256: string; bytes: number; dtype?: string; shape?: number[] };
type ManifestInput = { path: string; sha256: string; bytes: number; rows: number };

interface Manifest {
  input?: ManifestInput;
  config: Record<string, unknown>;
  artifacts: FileEntry[];
  stale?: string[]; //            artifacts made from older inputs or settings than the others
  apply?: { input?: ManifestInput; artifacts: FileEntry[] };
}

/** The artifacts each step writes, in the manifest's order. */
function stepArtifacts(paths: Paths): Record<Step, string[]> {
  const { xTrain, xVal, yTrain, yVal, scaler, imputer, encoder, featureColumns } = paths;
  return {
    extract: [paths.raw],
    transform: [xTrain, xVal, yTrain, yVal, scaler, imputer, encoder, featureColumns],
    load: [paths.trainLoaderInfo, paths.valLoaderInfo],
    apply: [paths.xNew, paths.yNew],
  };
}

/** The settings each step's artifacts are made with. */
const STEP_SETTINGS: Record<Step, (keyof Config)[]> = {
  extract: ["csv", "sep"],
  transform: ["target", "features", "drop", "impute", "testSize", "seed", "maxCategories"],
  load: ["batchSize", "shuffleTrain", "seed"],
  apply: [],
};

/** The step whose artifacts a step reads. */
const UPSTREAM: Record<Step, Step | null> = {
  extract: null, transform: "extract", load: "transform", apply: "transform",
};

const relativePath = (paths: Paths, file: string) =>
  file === "-" ? "-" : path.relative(paths.out, file).split(path.sep).join("/");

/** The manifest on disk, or null with the reason it cannot be used (none, or damaged). */
export function readManifest(paths: Paths): { manifest: Manifest | null; problem?: string } {
  if (!fs.existsSync(paths.manifest)) return { manifest: null };
  const unusable = (problem: string) => ({ manifest: null, problem });
  let m: Manifest | null;
  try {
    m = JSON.parse(fs.readFileSync(paths.manifest, "utf8"));
  } catch (err) {
    if (isSystemError(err)) throw err;
    return unusable("it is not valid JSON");
  }
  if (typeof m !== "object" || m === null || Array.isArray(m)) {
    return unusable(`it holds ${JSON.stringify(m)}, not a manifest`);
  }
  const isEntry = (e: any) => typeof e?.path === "string" && typeof e?.sha256 === "string";
  if (!Array.isArray(m.artifacts) || !m.artifacts.every(isEntry)) {
    return unusable("it does not list the artifacts");
  }
  const damaged = settingsProblem(m.config);
  return damaged ? unusable(`its settings are damaged (${damaged})`) : { manifest: m };
}

/** Why stored settings cannot be used, or "" when they can. */
function settingsProblem(config: unknown): string {
  const c = config as Record<string, unknown> | null;
  if (typeof c !== "object" || c === null) return "no settings";
  const names = (x: unknown) => Array.isArray(x) && x.every((v) => typeof v === "string");
  const checks: [keyof Config, boolean][] = [
    ["csv", typeof c.csv === "string"],
    ["target", typeof c.target === "string" && c.target !== ""],
    ["features", c.features === "all" || (names(c.features) && (c.features as []).length > 0)],
    ["sep", c.sep === undefined || (typeof c.sep === "string" && c.sep.length === 1)],
    ["drop", names(c.drop)],
    ["impute", c.impute === "median" || c.impute === "mean"],
    ["testSize", typeof c.testSize === "number" && c.testSize > 0 && c.testSize < 1],
    ["seed", Number.isInteger(c.seed) && (c.seed as number) >= 0 && (c.seed as number) < 2 ** 32],
    ["batchSize", Number.isSafeInteger(c.batchSize) && (c.batchSize as number) >= 1],
    ["shuffleTrain", typeof c.shuffleTrain === "boolean"],
    ["maxCategories", Number.isSafeInteger(c.maxCategories) && (c.maxCategories as number) >= 0],
  ];
  return checks.filter(([, ok]) => !ok).map(([key]) => key).join(", ");
}

/** Settings as the manifest stores them: the CSV's path relative to the output folder. */
function storedSettings(paths: Paths, config: Config): Record<string, unknown> {
  const { csv, ...rest } = config;
  return { csv: relativePath(paths, csv), ...rest };
}

/** Settings read back from the manifest. */
function settingsFromManifest(paths: Paths, stored: Record<string, unknown>): Config {
  const csv = stored.csv as string;
  const input = csv === "-" ? "-" : path.resolve(paths.out, csv);
  const sep = (stored.sep as string | undefined) ?? ","; // a manifest from before --sep has none
  return { ...(stored as unknown as Config), csv: input, sep };
}

/** Artifacts that differ from what the manifest lists: they and the rest do not belong together. */
function changedSinceMade(paths: Paths, files: string[]): EtlError {
  const steps = STEPS.filter((s) => stepArtifacts(paths)[s].some((f) => files.includes(f)));
  const names = nameList(files.map((f) => relativePath(paths, f)));
  return new EtlError(`${names} differ from what ${shown(paths.manifest)} lists (changed since ` +
    `${steps.join(" and ")} made them), so the artifacts do not belong together; run the whole ` +
    "pipeline (npx tsx etl.ts) to make them again");
}

/** A file's entry: from this run's writing when it wrote it, else read back from disk. */
async function fileEntry(paths: Paths, file: string, written: StagedFile[]) {
  const staged = written.find((f) => f.final === file);
  if (!staged && !fs.existsSync(file)) return null;
  const shape = staged ? staged.shape : file.endsWith(".npy") ? readNpy(file).shape : undefined;
  const entry: FileEntry = {
    path: relativePath(paths, file),
    sha256: await (staged ? staged.sha256! : sha256File(file)),
    bytes: staged ? staged.bytes : fs.statSync(file).size,
  };
  return shape ? { ...entry, dtype: "float32" as const, shape } : entry;
}

/** The manifest after this run: the previous one, with what this run wrote and changed. */
async function buildManifest(
  paths: Paths, config: Config, step: Step | "all", written: StagedFile[], input: Input | undefined,
  removed: string[],
): Promise<Manifest> {
  const [previous, files] = [readManifest(paths).manifest, stepArtifacts(paths)];
  const relative = (list: string[]) => list.map((f) => relativePath(paths, f));
  const entries = async (list: string[]) => {
    const present = list.filter((f) => !removed.includes(f));
    const all = await Promise.all(present.map((f) => fileEntry(paths, f, written)));
    return all.filter((e) => e !== null);
  };
  const inputEntry = input && {
    path: relativePath(paths, input.file),
    sha256: await input.sha256, bytes: input.bytes, rows: input.rows,
  };
  const ran: Step[] = step === "all" ? ["extract", "transform", "load"] : [step];
  const pipelineFiles = [...files.extract, ...files.transform, ...files.load];
  const artifacts = await entries(pipelineFiles);
  const before = (file: string) =>
    previous?.artifacts.find((e) => e.path === relativePath(paths, file));
  const now = (file: string) => artifacts.find((e) => e.path === relativePath(paths, file));
  // A file this run did not write must be the one the manifest lists, or the set is torn.
  const unlisted = pipelineFiles.filter((f) => !written.some((w) => w.final === f) &&
    before(f) !== undefined && now(f) !== undefined && before(f)!.sha256 !== now(f)!.sha256);
  if (unlisted.length > 0) throw changedSinceMade(paths, unlisted);
  if (step === "apply") {
    // apply adds its own entry and changes nothing else (a lost manifest: nothing to vouch for)
    const applied = { input: inputEntry, artifacts: await entries(files.apply) };
    const mine = relative(files.apply);
    const stale = previous
      ? (previous.stale ?? []).filter((f) => !mine.includes(f))
      : relative(pipelineFiles.filter((f) => fs.existsSync(f)));
    const rest = previous ?? { input: undefined, config: storedSettings(paths, config), artifacts };
    const { stale: _, apply: __, ...kept } = rest;
    return { ...kept, ...(stale.length > 0 && { stale }), apply: applied };
  }
  // A step's artifacts are stale when the ones it read changed, or its settings did, and it did
  // not run again; without a previous manifest, no artifact but this run's can be vouched for.
  const changed = (s: Step) =>
    ran.includes(s) && files[s].some((f) => now(f)?.sha256 !== before(f)?.sha256);
  const settings = storedSettings(paths, config);
  const differs = (key: keyof Config) =>
    JSON.stringify(previous?.config[key]) !== JSON.stringify(settings[key]);
  const settingChanged = (s: Step) => STEP_SETTINGS[s].some(differs);
  const wasStale = (s: Step) => relative(files[s]).some((f) => previous?.stale?.includes(f));
  const stale = (s: Step): boolean => {
    if (ran.includes(s)) return false;
    if (!previous || wasStale(s) || (s !== "apply" && settingChanged(s))) return true;
    const upstream = UPSTREAM[s];
    return upstream !== null && (changed(upstream) || stale(upstream));
  };
  const staleFiles = STEPS.filter(stale).flatMap((s) => files[s]).filter((f) => fs.existsSync(f));
  return {
    input: ran.includes("extract") ? inputEntry : previous?.input, config: settings, artifacts,
    ...(staleFiles.length > 0 && { stale: relative(staleFiles) }),
    ...(previous?.apply && { apply: previous.apply }),
  };
}

// ## Printing
//
// What a run prints: pandas' view of the table, the scaling, the batches. Column names in
// messages are quoted, so that a name with spaces shows them, and long lists are cut.

/** Prints a right-aligned text table, as pandas prints a frame. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (cells: string[]) => cells.map((c, j) => c.padStart(widths[j])).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

/** `names.indexOf` as a function (-1 for none) by one Map, made once: many lookups stay linear. */
export function positionsIn(names: string[]): (name: string) => number {
  const at = new Map<string, number>();
  names.forEach((name, i) => at.has(name) || at.set(name, i)); // the first, as indexOf finds it
  return (name: string) => at.get(name) ?? -1;
}

/** A name as a remedy gives it, ready to paste into a shell: quoted when it needs to be. */
const shellWord = (name: string) =>
  /^[\w.,:@%+=\/-]+$/.test(name) ? name : `'${name.replace(/'/g, "'\\''")}'`;

/** A name or value as a message shows it: quoted, so that spaces and line breaks are seen; cut. */
export const quote = (name: string) =>
  JSON.stringify(name.length > 100 ? `${name.slice(0, 80)}...${name.slice(-15)}` : name);

/** Names for a message, quoted, the list cut after `most` of them. */
export function nameList(names: string[], most = 10): string {
  const shownNames = names.slice(0, most).map(quote).join(", ");
  const more = names.length - most;
  return more > 0 ? `${shownNames} ... and ${thousands(more)} more` : shownNames;
}

/** One updating status line on a terminal, 5 times a second; silent into a file or a pipe. */
class Progress {
  private last = 0;
  private readonly started = performance.now();
  private readonly label: string;

  constructor(label: string) {
    this.label = label;
  }

  update(rows: number, fraction: number): void {
    const now = performance.now();
    if (!process.stderr.isTTY || now - this.last < 200) return;
    this.last = now;
    const rate = `${thousands(Math.round(rows / ((now - this.started) / 1000)))} rows/s`;
    const done = `${thousands(rows)} rows, ${(100 * fraction).toFixed(0)}%`;
    process.stderr.write(`\r${this.label}: ${done}, ${rate}\x1b[K`);
  }

  done = () => process.stderr.isTTY && this.last > 0 && process.stderr.write("\r\x1b[K");
}

function printExtract(file: string, raw: string, table: Table, dtypes: Dtype[], head: string[][]) {
  const size = `${counted(table.nRows, "row")} x ${counted(table.columns.length, "column")}`;
  console.log(`Extract: ${size} from ${shown(file)} -> ${shown(raw)}`);
  console.log(`  dtypes: ${table.columns.map((name, j) => `${name} ${dtypes[j]}`).join(", ")}`);
  const header = ["", ...table.columns.map(escapeBreaks)];
  console.log(formatTable(header, head.map((cells) => cells.map(cellShown)))); // label first
}

/** Line breaks and tabs as pandas prints them in a frame: `\n`, `\r`, `\t`. */
const escapeBreaks = (text: string) =>
  text.replace(/[\n\r\t]/g, (c) => ({ "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c]!);

/** A cell as pandas prints it: breaks escaped, cut to 50 characters (display.max_colwidth). */
function cellShown(cell: string): string {
  const shownText = escapeBreaks(cell.slice(0, 200));
  const chars = Array.from(shownText); // Python counts code points
  return chars.length > 50 ? chars.slice(0, 47).join("") + "..." : shownText;
}

/** Prints the scaler's state, and X_train's column means and stds after scaling: 0 and 1. */
function printTransform(
  columns: string[], scaler: StandardScaler, arrays: Arrays, after: MeansAndStds,
): void {
  const [n, nVal, d] = [arrays.yTrain.length, arrays.yVal.length, arrays.nFeatures];
  const shapes = `X_train (${n}, ${d})  X_val (${nVal}, ${d})  y_train (${n},)  y_val (${nVal},)`;
  console.log(`\nTransform: ${shapes}  float32`);
  const fixed = (x: number) => (Math.abs(x) < 5e-4 ? 0 : x).toFixed(3); // no "-0.000"
  const rows = columns.map((name, j) => [
    name, scaler.mean_[j].toPrecision(6), scaler.scale_[j].toPrecision(6), fixed(after.mean[j]),
    fixed(after.std[j]),
  ]);
  const header = ["feature", "mean_", "scale_", "train mean after", "train std after"];
  const most = 20; // the first this many of X's columns are printed
  console.log(formatTable(header, rows.slice(0, most)));
  const more = rows.length - most;
  const all = "feature_columns.json names them all";
  if (more > 0) console.log(`  ... and ${counted(more, "more column")} (${all})`);
}

/** A number as people write it: 1,000,000. */
const thousands = (n: number) => n.toLocaleString("en-US");

/** "1 row", "2 rows", "1,000,000 rows". */
const counted = (n: number, one: string, many = `${one}s`) =>
  `${thousands(n)} ${n === 1 ? one : many}`;

type LoaderInfo = ReturnType<typeof loaderInfo>;
function printLoad(batchSize: number, train: LoaderInfo, val: LoaderInfo) {
  const shape = JSON.stringify;
  const batches = (info: LoaderInfo) =>
    `${counted(info.num_samples, "row")} in ${counted(info.num_batches, "batch", "batches")}`;
  const first = (info: LoaderInfo) =>
    `first batch x ${shape(info.example_batch_X_shape)} y ${shape(info.example_batch_y_shape)}`;
  console.log(`\nLoad: batch size ${batchSize}, drop_last false`);
  console.log(`  train: ${batches(train)}, shuffled each epoch; ${first(train)}`);
  console.log(`  val:   ${batches(val)}, the split's order;  ${first(val)}`);
}

/** The run's last line: the output folder, and what the run put in it. */
function printWritten(paths: Paths, files: string[]): void {
  const folders = new Map<string, string[]>(); // a folder of the output, and its files written
  for (const file of files.map((f) => relativePath(paths, f))) {
    folders.set(path.dirname(file), [...(folders.get(path.dirname(file)) ?? []), file]);
  }
  const what = [...folders].map(([folder, list]) =>
    list.length === 1 ? list[0] : `${folder}/ (${counted(list.length, "file")})`);
  const out = path.resolve(paths.out) === process.cwd() ? "." : shown(paths.out);
  console.log(`\nWrote ${counted(files.length, "file")} under ${out}/: ${what.join(", ")}`);
}

function printApply(file: string, paths: Paths, n: number, d: number, hasTarget: boolean) {
  const y = hasTarget ? ` and ${shown(paths.yNew)}` : "";
  const to = `${shown(paths.xNew)} (${n}, ${d})${y}`;
  console.log(`Apply: ${counted(n, "row")} from ${shown(file)} -> ${to}`);
}

// ## The command line and main()
//
// nanoGPT's habit: every setting has its default in CONFIG and a flag, an unknown flag is an
// error, and so is a flag given twice or two flags that contradict each other. A step run alone
// reads what the steps before it made, so it takes its settings from the manifest, which says
// how those artifacts were made; a flag overrides one, unless it would change what an earlier
// step already made. main() turns every error the user can fix into one line and an exit code
// (1 for the data, 2 for the flags), and a signal into an exit that leaves nothing behind.

/**
 * A problem the user can fix: bad flags, a missing or malformed file, a bad cell. main() prints
 * it as one `error: ...` line and exits with `exitCode`; anything else is a bug and crashes loudly.
 */
export class EtlError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** A path as the user should read it: relative to where they stand, when it is below it. */
export const shown = (file: string) => {
  if (file === "-") return "standard input";
  const rel = path.relative(process.cwd(), file);
  const name = rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
  // A path of 5,000 x's is shown by its two ends; one with a line break in it, quoted.
  const cut = name.length > 160 ? `${name.slice(0, 60)}...${name.slice(-60)}` : name;
  return /[\x00-\x1f\x7f]/.test(cut) ? JSON.stringify(cut) : cut;
};

export const STEPS = ["extract", "transform", "load", "apply"] as const;
export type Step = (typeof STEPS)[number];

const HELP = `Usage: npx tsx etl.ts [step] [flags]

Takes a CSV through Extract, Transform and Load, writing an artifact after each step.

Steps (default: the first three, in order; one step alone reads the previous one's artifacts,
and takes its settings from artifacts/manifest.json unless a flag gives one):
  extract              CSV -> data/ccr_raw.json
  transform            ccr_raw.json -> artifacts/transform_artifacts/*.npy, scaler.json, ...
  load                 *.npy -> artifacts/loader_artifacts/*_loader_info.json
  apply                --csv NEW.csv through the fitted transform -> artifacts/inference_artifacts/

Flags:
  --csv PATH           input CSV, or - for standard input  (default: data/ccr_mock.csv)
  --target NAME        the column to predict               (default: ${CONFIG.target})
  --sep C              the field separator, one character (\\t: tab)   (default: ,)
  --features A,B,...   the feature columns, or 'all' but the target and --drop
                                                           (default: the mock data's 8)
  --drop A,B,...       columns never used as features      (default: none)
  --impute STRATEGY    a blank numeric feature becomes the train rows' median or mean
                                                           (default: ${CONFIG.impute})
  --max-categories N   the most distinct values a text feature may have (one-hot columns)
                       (default: 1,000, and past 20 no more than half its cells: an id)
  --seed N             split and shuffle seed, 0..4294967295        (default: ${CONFIG.seed})
  --test-size F        validation fraction, 0 < F < 1               (default: ${CONFIG.testSize})
  --batch-size N       rows per batch, N >= 1                       (default: ${CONFIG.batchSize})
  --out DIR            write and read data/ccr_raw.json and artifacts/ under DIR
                                                           (default: beside etl.ts)
  -h, --help           show this help
`;

/** A flag's text as its setting's value; the text is refused (exit 2) when it cannot be one. */
type FlagReader = (text: string, flag: string) => Config[keyof Config];
const refuse = (message: string) => new EtlError(message, 2);

/** A whole number from `min` to `max`. */
const integer = (min: number, max: number): FlagReader => (text, flag) => {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (value >= min && value <= max) return value;
  throw refuse(`--${flag} must be a whole number from ${min} to ${max}, got '${text}'`);
};

/** Column names separated by commas; an empty name or one named twice is an error. */
const columnNames: FlagReader = (text, flag) => {
  const list = text.split(","); // names as typed: " x" is not "x"
  if (list.includes("")) {
    throw refuse(`--${flag} takes column names separated by commas, got '${text}'`);
  }
  const seen = new Set<string>();
  const twice = list.find((name) => seen.size === seen.add(name).size); // added before: no growth
  if (twice !== undefined) throw refuse(`--${flag} names ${quote(twice)} twice; name it once`);
  return list;
};

/** Each flag: the setting it gives, and how its text is read (--out gives PATHS instead). */
const FLAGS: Record<string, [keyof Config, FlagReader]> = {
  csv: ["csv", (text) => {
    if (text.trim() === "") throw refuse("--csv needs a path (or - for standard input)");
    // Standard input, however named: read from the process's own stdin, which may be a socket.
    const stdin = ["-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"].includes(text);
    return stdin ? "-" : path.resolve(text);
  }],
  target: ["target", (text) => {
    if (text === "") throw refuse("--target needs a column name");
    return text;
  }],
  sep: ["sep", (text) => {
    const sep = text === "\\t" ? "\t" : text;
    if (sep.length === 1 && !/["\r\n]/.test(sep)) return sep;
    const what = "one character (\\t for a tab), not a quote or a line break";
    throw refuse(`--sep takes ${what}, got '${text}'`);
  }],
  features: ["features", (text, flag) => (text === "all" ? "all" : columnNames(text, flag))],
  drop: ["drop", columnNames],
  impute: ["impute", (text) => {
    if (text === "median" || text === "mean") return text;
    throw refuse(`--impute must be median or mean, got '${text}'`);
  }],
  "max-categories": ["maxCategories", integer(1, 1_000_000)],
  seed: ["seed", integer(0, 2 ** 32 - 1)],
  "test-size": ["testSize", (text) => {
    const size = /^\s*$/.test(text) ? NaN : Number(text);
    if (size > 0 && size < 1) return size;
    throw refuse(`--test-size must be a fraction between 0 and 1 (exclusive), got '${text}'`);
  }],
  "batch-size": ["batchSize", integer(1, Number.MAX_SAFE_INTEGER)],
};

/** Reads argv: the step and the flags' settings; an unknown, bad or repeated flag is exit 2. */
export function parseCommandLine(argv: string[]) {
  const flags = [...Object.keys(FLAGS), "out"];
  const options = Object.fromEntries(flags.map((flag) => [flag, { type: "string" as const }]));
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, tokens: true,
      options: { ...options, help: { type: "boolean", short: "h" } },
    });
  } catch (err) {
    throw refuse(flagError((err as Error).message, flags)); // node:util's words, made ours
  }
  const { values, positionals, tokens } = parsed;
  for (const flag of flags) {
    const times = tokens.filter((t) => t.kind === "option" && t.name === flag).length;
    if (times > 1) throw refuse(`--${flag} is given ${times} times; give it once`);
  }
  const text = values as Record<string, string | undefined>;
  const given: Record<string, unknown> = {};
  for (const [flag, [key, read]] of Object.entries(FLAGS)) {
    if (text[flag] !== undefined) given[key] = read(text[flag]!, flag);
  }
  if (positionals.length > 1 || (positionals[0] && !STEPS.includes(positionals[0] as Step))) {
    const use = `use one of ${STEPS.join(", ")}, or none for the first three`;
    throw refuse(`unknown step '${positionals.join(" ")}': ${use}`);
  }
  if (text.out?.trim() === "") throw refuse("--out needs a folder");
  return {
    step: (positionals[0] ?? "all") as Step | "all", given: given as Partial<Config>,
    out: text.out === undefined ? undefined : path.resolve(text.out), help: values.help ?? false,
  };
}

/** What node:util's parseArgs refused, in this tool's words, with the flag meant if it is near. */
function flagError(message: string, flags: string[]): string {
  const flag = /'(-[^' ,]*)/.exec(message)?.[1] ?? "";
  if (/Unknown option/.test(message)) {
    const meant = nearest(flag.replace(/^-+/, ""), [...flags, "help"]).map((f) => `--${f}`);
    const hint = meant.length > 0 ? `; did you mean ${meant.join(" or ")}?` : "";
    return `unknown flag ${flag}${hint} (see --help)`;
  }
  if (/ambiguous/.test(message)) {
    return `${flag} needs a value; one that starts with a dash is written ${flag}=-1, say`;
  }
  if (/argument missing/.test(message)) return `${flag} needs a value (see --help)`;
  if (/does not take an argument/.test(message)) return `--help takes no value`;
  return `${message.split(/\.\s/)[0]} (see --help)`;
}

/** The settings each step reads (extract checks the columns that transform will use). */
const STEP_READS: Record<Step, (keyof Config)[]> = {
  extract: ["csv", "sep", "target", "features", "drop", "maxCategories"],
  transform: STEP_SETTINGS.transform,
  load: STEP_SETTINGS.load,
  apply: ["csv", "sep", "target"],
};

/** The flag that gives a setting. */
const flagOf = (key: keyof Config) =>
  Object.keys(FLAGS).find((flag) => FLAGS[flag][0] === key) ?? key;

/**
 * The run's settings: the flags given, over CONFIG's or, for a step alone, over the manifest's
 * (one line says which it reused); a flag that would change an earlier step's artifacts is refused.
 */
function settingsForRun(step: Step | "all", given: Partial<Config>, paths: Paths): Config {
  if (step === "all") return { ...CONFIG, ...given };
  const { manifest, problem } = readManifest(paths);
  const anew = "the default settings and your flags are used, and it is written anew";
  if (problem) console.error(`note: ${shown(paths.manifest)} cannot be used (${problem}); ${anew}`);
  const base = manifest ? settingsFromManifest(paths, manifest.config) : { ...CONFIG };
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  for (const [key, value] of Object.entries(given) as [keyof Config, unknown][]) {
    const flag = `--${flagOf(key)}`;
    if (step === "apply" && !STEP_READS.apply.includes(key)) {
      throw refuse(`${flag} does nothing for apply, which uses the fitted transform as it is`);
    }
    const owner = STEPS.find((s) => STEP_SETTINGS[s].includes(key))!;
    const earlier = step !== "apply" && STEPS.indexOf(owner) < STEPS.indexOf(step);
    if (earlier && !same(value, base[key])) {
      throw refuse(
        `${flag} is a setting of ${owner}, which made the artifacts ${step} reads with ` +
          `${flag} ${settingText(base[key])}; run npx tsx etl.ts ${owner} ${flag} ` +
          `${settingText(value)} first, or the whole pipeline`,
      );
    }
  }
  if (manifest) {
    const reused = (key: keyof Config) => !(key in given) && !same(base[key], CONFIG[key]);
    const value = (key: keyof Config) => settingText(key === "csv" ? shown(base.csv) : base[key]);
    const flags = STEP_READS[step].filter(reused).map((key) => `--${flagOf(key)} ${value(key)}`);
    const settings = flags.length > 0 ? flags.join(" ") : "the defaults";
    const from = `Settings from ${shown(paths.manifest)}`;
    console.log(`${from}: ${settings} (a flag overrides any of them)`);
  }
  return { ...base, ...given };
}

/** A setting as a flag would give it. */
function settingText(value: unknown): string {
  if (!Array.isArray(value) || value.length <= 10) return String(value);
  return `${value.slice(0, 10).join(",")},... (${value.length} columns)`;
}

/** The column settings must not contradict each other (exit 2 when they do). */
function checkColumnSettings({ features: listed, target, drop }: Config): void {
  const features = listed === "all" ? [] : listed;
  const both = features.find((name) => drop.includes(name));
  const problem = [ // the first that applies
    features.includes(target) && `the target ${quote(target)} is also among the features; ` +
      "the model cannot be given what it predicts: leave it out of --features",
    drop.includes(target) &&
      `--drop names the target ${quote(target)}; the target is never a feature anyway`,
    both !== undefined && `--features and --drop both name ${quote(both)}; name it in one of them`,
  ].find((message) => message);
  if (problem) throw refuse(problem);
}

/** Runs etl.ts with `argv`; returns the exit code. */
export async function main(argv: string[], project: Paths = PATHS): Promise<number> {
  let [paths, out] = [project, new Staging(project)];
  try {
    const { step, given, out: folder, help } = parseCommandLine(argv);
    if (help) return (process.stdout.write(HELP), 0);
    if (folder) [paths, out] = [pathsUnder(folder), new Staging(pathsUnder(folder))];
    out.handleSignals();
    finishInterruptedCommit(paths);
    removeStaleTemps(paths);
    const config = settingsForRun(step, given, paths);
    checkColumnSettings(config);
    if (mayComputeLong(step, config, paths)) out.leaveSignalsToJanitor();
    await runPipeline(config, paths, step, out);
    printWritten(paths, out.committed);
    return 0;
  } catch (err) {
    out.discard();
    if (!(err instanceof EtlError) && !isSystemError(err)) throw err;
    const line = err instanceof EtlError ? err.message : systemErrorLine(err);
    // One line of at most 600 characters: a long one keeps its start and its end (the remedy).
    const bounded = line.length > 600 ? `${line.slice(0, 400)} ... ${line.slice(-195)}` : line;
    console.error(`error: ${bounded}`);
    return err instanceof EtlError ? err.exitCode : 1;
  } finally {
    out.close();
  }
}

/** Whether this file is the program being run, through a symbolic link (an npm bin) or not. */
function isTheProgram(): boolean {
  try {
    const me = fs.realpathSync(fileURLToPath(import.meta.url));
    return !!process.argv[1] && fs.realpathSync(process.argv[1]) === me;
  } catch {
    return false;
  }
}

if (isMainThread && isTheProgram()) {
  // `etl.ts | head` closes the pipe early: what is left to print is dropped, and the run goes on.
  const closedPipe = (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
  };
  for (const stream of [process.stdout, process.stderr]) stream.on("error", closedPipe);
  process.exitCode = await main(process.argv.slice(2));
  await stopHelper(); // now, not in Node's exit, when the signal handlers are already gone
}

// The helper thread loads this file too: it serves the main thread's jobs, and runs nothing else.
if (!isMainThread && workerData?.etlHelper) serveHelper();
