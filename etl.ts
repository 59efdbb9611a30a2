/**
 * etl.ts: Extract, Transform and Load for tabular machine-learning data, in one file.
 *
 * A TypeScript port of a small Python pipeline (pandas, then scikit-learn, then PyTorch). It
 * turns a CSV into standardized float32 train/validation arrays and cuts those into
 * mini-batches, leaving an artifact you can open in NumPy or pandas after every step:
 *
 *   1. Extract    data/ccr_mock.csv -> data/ccr_raw.json   (pandas "split" JSON of the table)
 *   2. Transform  the table -> artifacts/transform_artifacts/
 *                   X_train.npy X_val.npy y_train.npy y_val.npy scaler.json feature_columns.json
 *   3. Load       the arrays -> artifacts/loader_artifacts/{train,val}_loader_info.json
 *
 * "The same artifacts" is literal: on the original's data the .npy files are byte-identical to
 * the ones NumPy wrote, because the split replays NumPy's Mersenne Twister and the scaler
 * repeats scikit-learn's float64 arithmetic operation for operation.
 *
 * Left out on purpose: the model and the training loop, DataLoader worker processes, and any
 * data cleaning beyond rejecting what cannot be used (a bad cell is an error, not a guess).
 *
 * Run:  npx tsx etl.ts                 all three steps
 *       npx tsx etl.ts transform       one step, reading the previous step's artifacts
 *       npx tsx etl.ts --help          the flags
 */
import fs from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import Papa from "papaparse";

// ================================================================================================
// PATHS and CONFIG: every file the pipeline touches, and every knob, in one place each
// ================================================================================================

/** Every input and artifact path, under one project root (tests point it at a temporary copy). */
export function pathsUnder(root: string) {
  const transformDir = path.join(root, "artifacts", "transform_artifacts");
  const loaderDir = path.join(root, "artifacts", "loader_artifacts");
  return {
    root,
    csv: path.join(root, "data", "ccr_mock.csv"), // input
    raw: path.join(root, "data", "ccr_raw.json"), // Extract's artifact
    transformDir,
    xTrain: path.join(transformDir, "X_train.npy"),
    xVal: path.join(transformDir, "X_val.npy"),
    yTrain: path.join(transformDir, "y_train.npy"),
    yVal: path.join(transformDir, "y_val.npy"),
    scaler: path.join(transformDir, "scaler.json"),
    featureColumns: path.join(transformDir, "feature_columns.json"),
    loaderDir,
    trainLoaderInfo: path.join(loaderDir, "train_loader_info.json"),
    valLoaderInfo: path.join(loaderDir, "val_loader_info.json"),
  };
}
export type Paths = ReturnType<typeof pathsUnder>;
export const PATHS: Paths = pathsUnder(path.dirname(fileURLToPath(import.meta.url)));

export const CONFIG = {
  csv: PATHS.csv, //                      input table (--csv)
  features: [ //                          model inputs: the columns of X, in this order
    "gpa", "attendance_rate", "sat_math", "sat_ebrw",
    "cte_hours", "internship", "career_interest_clarity", "self_efficacy",
  ],
  target: "readiness_score", //           what the model predicts: y
  testSize: 0.2, //                       fraction of rows held out for validation (--test-size)
  seed: 42, //                            seeds the split and the train shuffle (--seed)
  batchSize: 32, //                       rows per mini-batch (--batch-size)
  shuffleTrain: true, //                  a new train order each epoch; validation keeps file order
};
export type Config = typeof CONFIG;

// ================================================================================================
// Errors and the command line
// ================================================================================================

/**
 * A problem the user can fix: bad flags, a missing or malformed file, a bad cell. main() prints
 * it as one `error: ...` line and exits with `exitCode`; anything else is a bug and crashes loudly.
 */
export class EtlError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** A path as the user should read it: relative to where they stand, when it is below it. */
export const shown = (file: string) => {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
};

export const STEPS = ["extract", "transform", "load"] as const;
export type Step = (typeof STEPS)[number];

const HELP = `Usage: npx tsx etl.ts [step] [flags]

Takes a CSV through Extract, Transform and Load, writing an artifact after each step.

Steps (default: all three, in order; a single step reads the previous step's artifacts):
  extract              CSV -> data/ccr_raw.json
  transform            ccr_raw.json -> artifacts/transform_artifacts/*.npy, scaler.json
  load                 *.npy -> artifacts/loader_artifacts/*_loader_info.json

Flags:
  --csv PATH           input CSV                       (default: data/ccr_mock.csv)
  --seed N             split and shuffle seed, 0..4294967295        (default: ${CONFIG.seed})
  --test-size F        validation fraction, 0 < F < 1               (default: ${CONFIG.testSize})
  --batch-size N       rows per batch, N >= 1                       (default: ${CONFIG.batchSize})
  -h, --help           show this help
`;

function parseInteger(flag: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) {
    throw new EtlError(`--${flag} must be a whole number from ${min} to ${max}, got '${text}'`, 2);
  }
  return value;
}

/** Reads argv into a copy of CONFIG; an unknown flag or a bad value is an error (exit 2). */
export function parseCommandLine(argv: string[], paths: Paths = PATHS): { config: Config; step: Step | "all"; help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        csv: { type: "string" },
        seed: { type: "string" },
        "test-size": { type: "string" },
        "batch-size": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    // node:util names the flag in its own words ("Unknown option '--sed'"); keep them.
    throw new EtlError(`${(err as Error).message.split(/\.\s/)[0]} (see --help)`, 2);
  }
  const { values, positionals } = parsed;
  const config: Config = { ...CONFIG, csv: paths.csv, features: [...CONFIG.features] };
  if (values.csv !== undefined) config.csv = path.resolve(values.csv);
  if (values.seed !== undefined) config.seed = parseInteger("seed", values.seed, 0, 2 ** 32 - 1);
  if (values["batch-size"] !== undefined) {
    config.batchSize = parseInteger("batch-size", values["batch-size"], 1, Number.MAX_SAFE_INTEGER);
  }
  if (values["test-size"] !== undefined) {
    const text = values["test-size"];
    config.testSize = /^\s*$/.test(text) ? NaN : Number(text);
    if (!(config.testSize > 0 && config.testSize < 1)) {
      throw new EtlError(`--test-size must be a fraction between 0 and 1 (exclusive), got '${text}'`, 2);
    }
  }
  if (positionals.length > 1 || (positionals[0] && !STEPS.includes(positionals[0] as Step))) {
    throw new EtlError(`unknown step '${positionals.join(" ")}': use one of ${STEPS.join(", ")}, or none for all`, 2);
  }
  return { config, step: (positionals[0] as Step | undefined) ?? "all", help: values.help ?? false };
}

// ================================================================================================
// Files: nothing torn, nothing lost
// ================================================================================================
// Every artifact is first written to a temporary file in its own folder, and all of a run's
// files are renamed over the old ones only after every step has succeeded. rename() within one
// folder is atomic, so a failure or a kill at any moment leaves each artifact old or new, whole.

const TEMP_FILE = /^\.(.+)\.(\d+)\.etl-tmp$/; // .X_train.npy.<pid>.etl-tmp

export class Staging {
  private pending: { temp: string; final: string }[] = [];

  /** Opens a temporary file that commit() will rename to `final`. */
  open(final: string): number {
    fs.mkdirSync(path.dirname(final), { recursive: true });
    const temp = path.join(path.dirname(final), `.${path.basename(final)}.${process.pid}.etl-tmp`);
    this.pending = this.pending.filter((p) => p.final !== final);
    this.pending.push({ temp, final });
    return fs.openSync(temp, "w");
  }

  write(final: string, ...parts: (string | Uint8Array)[]): void {
    const fd = this.open(final);
    try {
      for (const part of parts) {
        if (typeof part === "string") fs.writeSync(fd, part);
        else fs.writeSync(fd, part);
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  commit(): void {
    for (const { temp, final } of this.pending) fs.renameSync(temp, final);
    this.pending = [];
  }

  discard(): void {
    for (const { temp } of this.pending) fs.rmSync(temp, { force: true });
    this.pending = [];
  }
}

/** Removes temporary files left by a run that was killed (its process is gone). */
export function removeStaleTemps(paths: Paths): void {
  for (const dir of [path.dirname(paths.raw), paths.transformDir, paths.loaderDir]) {
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      const pid = TEMP_FILE.exec(name)?.[2];
      if (pid && !processIsAlive(Number(pid))) fs.rmSync(path.join(dir, name), { force: true });
    }
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Fails with the command that makes `file` when an earlier step has not been run. */
function requireArtifact(file: string, step: Step): void {
  if (!fs.existsSync(file)) throw new EtlError(`Missing ${shown(file)}: run npx tsx etl.ts ${step}`);
}

/** Prints a right-aligned text table, as pandas prints a frame. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (cells: string[]) => cells.map((c, j) => c.padStart(widths[j])).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

/** One updating status line on a terminal; silent when stderr is a file or a pipe. */
class Progress {
  private last = 0;
  private readonly started = performance.now();
  constructor(private readonly label: string) {}

  update(rows: number, fraction: number): void {
    const now = performance.now();
    if (!process.stderr.isTTY || now - this.last < 200) return;
    this.last = now;
    const rate = Math.round(rows / ((now - this.started) / 1000));
    process.stderr.write(
      `\r${this.label}: ${rows.toLocaleString("en-US")} rows, ${(100 * fraction).toFixed(0)}%, ` +
        `${rate.toLocaleString("en-US")} rows/s\x1b[K`,
    );
  }

  done(): void {
    if (process.stderr.isTTY && this.last > 0) process.stderr.write("\r\x1b[K");
  }
}

// ================================================================================================
// 1. Extract: CSV -> table (kept in typed arrays) and data/ccr_raw.json
// ================================================================================================
// The CSV is streamed through papaparse a chunk at a time. Memory holds only the columns later
// steps need, as float32 in one typed array, never the file's text or an object per row; the
// raw artifact (pandas' "split" JSON, one row per line) is written as the rows arrive.

/** pandas' dtype for a column: int64, float64 or object (text). */
export type ColumnKind = "int" | "float" | "text";

/** The table as later steps need it. */
export interface Table {
  columns: string[]; //     every header name, in file order
  nRows: number;
  kept: string[]; //        the columns kept in memory: the features, then the target
  values: Float32Array; //  (nRows, kept.length) float32, row-major
}

// read_csv's default missing-value strings (pandas 1.5); an empty cell is missing too.
const NA_STRINGS = new Set([
  "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
  "<NA>", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null",
]);
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/; // written to JSON as it is
const CSV_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/; //      what read_csv takes as a number
const INFINITIES = new Set(["inf", "-inf", "+inf", "Inf", "-Inf", "+Inf", "Infinity", "-Infinity", "+Infinity"]);
const HEAD_ROWS = 3;

// ---- Reading the file ---------------------------------------------------------------------------

type Newline = "\n" | "\r\n" | "\r";

/** Looks at the file's start: rejects binary data and finds the line ending papaparse should use. */
function sniffCsv(file: string): { newline: Newline; empty: boolean } {
  const fd = fs.openSync(file, "r");
  const bytes = Buffer.alloc(1 << 16);
  const length = fs.readSync(fd, bytes, 0, bytes.length, 0);
  fs.closeSync(fd);
  const text = bytes.subarray(0, length).toString("utf8").replace(/^\uFEFF/, "");
  checkIsText(file, text, 0);
  const lf = text.indexOf("\n");
  const newline = lf > 0 && text[lf - 1] === "\r" ? "\r\n" : lf < 0 && text.includes("\r") ? "\r" : "\n";
  return { newline, empty: text.trim() === "" };
}

/** A NUL or an undecodable byte means the file is not UTF-8 text: say so instead of parsing it. */
function checkIsText(file: string, text: string, linesBefore: number): void {
  const bad = text.search(/[\0\uFFFD]/);
  if (bad < 0) return;
  const line = linesBefore + 1 + countNewlines(text, bad);
  throw new EtlError(`${shown(file)} line ${line}: this is not UTF-8 text (binary data or another encoding); save the file as UTF-8 CSV`);
}

function countNewlines(text: string, end = text.length): number {
  let count = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < end; i = text.indexOf("\n", i + 1)) count++;
  return count;
}

/**
 * The 1-based line on which papaparse's row `row` (the header is row 0) starts. Only errors
 * need it, so rather than count lines for every row we parse again up to that row.
 */
async function lineOfRow(file: string, newline: Newline, row: number): Promise<number> {
  let start = 0; // where the row before ends, in characters of the BOM-less text
  if (row > 0) {
    let seen = 0;
    await new Promise<void>((resolve) => {
      Papa.parse<string[]>(fs.createReadStream(file, { encoding: "utf8" }), {
        delimiter: ",", newline, skipEmptyLines: true,
        beforeFirstChunk: (chunk) => chunk.replace(/^\uFEFF/, ""),
        step: (result, parser) => {
          if (++seen === row) {
            start = result.meta.cursor;
            parser.abort();
          }
        },
        complete: () => resolve(),
      });
    });
  }
  // Count the line breaks before `start`, then skip blank lines to the row's first character.
  let line = 1;
  let offset = 0;
  for await (const chunk of fs.createReadStream(file, { encoding: "utf8" })) {
    const text = offset === 0 ? (chunk as string).replace(/^\uFEFF/, "") : (chunk as string);
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      const lineBreak = c === "\n" || (c === "\r" && newline === "\r");
      if (offset + i >= start && c !== "\n" && c !== "\r") return line;
      if (lineBreak) line++;
    }
    offset += text.length;
  }
  return line;
}

// ---- Writing the raw JSON -----------------------------------------------------------------------
// At a million rows, building a string per row (a regex, a Number() and a join per cell) costs
// more than parsing the CSV. Instead one pass over each cell's characters checks that it is a
// plain number, computes its value and copies its bytes into a buffer bound for the file.

/** Bytes on their way to a file, a buffer at a time. */
class ByteWriter {
  readonly bytes = Buffer.allocUnsafe(1 << 22);
  pos = 0;
  constructor(private readonly fd: number) {}

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n > this.bytes.length) this.flush();
  }

  text(s: string): void {
    if (3 * s.length > this.bytes.length / 2) {
      this.flush();
      fs.writeSync(this.fd, s);
      return;
    }
    this.reserve(3 * s.length); // UTF-8 takes at most 3 bytes per UTF-16 unit
    this.pos += this.bytes.write(s, this.pos);
  }

  flush(): void {
    for (let done = 0; done < this.pos; ) done += fs.writeSync(this.fd, this.bytes, done, this.pos - done);
    this.pos = 0;
  }
}

const POW10 = Array.from({ length: 16 }, (_, k) => 10 ** k);
const MAX_PLAIN_BYTES = 17; // "-", 15 digits, "."

/**
 * Reads a cell that is a plain decimal (-?digits[.digits], at most 15 digits, valid JSON) and
 * copies its characters to `out`; NaN, and nothing copied, for anything else. Such a number is
 * m / 10^k with m < 2^53 and k <= 15, both exact doubles, and IEEE division rounds the quotient
 * correctly: the result is exactly Number(cell), and what pandas reads.
 */
function scanPlainNumber(cell: string, out: ByteWriter): number {
  const bytes = out.bytes;
  let pos = out.pos;
  let i = 0;
  let c = cell.charCodeAt(0);
  const negative = c === 45; // -
  if (negative) {
    bytes[pos++] = c;
    c = cell.charCodeAt(++i);
  }
  if (!(c >= 48 && c <= 57)) return NaN; // a number starts with a digit
  if (c === 48 && i + 1 < cell.length && cell.charCodeAt(i + 1) !== 46) return NaN; // "07" is not JSON
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
  out.pos = pos;
  const value = decimals > 0 ? mantissa / POW10[decimals] : mantissa;
  return negative ? -value : value;
}

/** A float as JSON that pandas reads back as float64 (5 would come back int64: write 5.0). */
function floatText(value: number): string {
  const text = String(value);
  return /[.e]/.test(text) ? text : text + ".0";
}

// ---- Building the table -------------------------------------------------------------------------

/**
 * Takes the CSV a row at a time: infers each column's pandas dtype, keeps the feature and
 * target columns as float32, and writes the row as one line of "split" JSON.
 */
class TableBuilder {
  readonly kinds: ColumnKind[];
  nRows = 0;
  readonly head: string[][] = [];
  /** Columns whose numbers were written as JSON numbers before a text cell showed up in them. */
  readonly turnedText = new Set<number>();
  /** The kept cell that was not a number, when add() returned false. */
  problem = { column: 0, value: "" };
  private readonly hadNumber: boolean[];
  private readonly textOnly: boolean[];
  private readonly slot: number[]; // column -> its place among the kept columns, or -1
  private values: Float32Array; //   (capacity, kept.length) float32, row-major
  private capacity = 1024;

  constructor(readonly columns: string[], readonly kept: string[], asText: Set<number>, private readonly out: ByteWriter) {
    this.kinds = columns.map(() => "int");
    this.hadNumber = columns.map(() => false);
    this.textOnly = columns.map((_, j) => asText.has(j));
    this.slot = columns.map((name) => kept.indexOf(name));
    this.values = new Float32Array(this.capacity * kept.length);
    out.text(`{"columns":${JSON.stringify(columns)},"data":[`);
  }

  /** Adds one row; false when a kept column's cell is not a finite number (see `problem`). */
  add(cells: string[]): boolean {
    const out = this.out;
    if (this.nRows === this.capacity) this.grow();
    if (this.head.length < HEAD_ROWS) this.head.push(cells.slice());
    out.reserve(cells.length * (MAX_PLAIN_BYTES + 1) + 4);
    const bytes = out.bytes;
    const values = this.values;
    const base = this.nRows * this.kept.length;
    if (this.nRows > 0) bytes[out.pos++] = 44; // ,
    bytes[out.pos++] = 10; // \n
    bytes[out.pos++] = 91; // [
    for (let j = 0; j < cells.length; j++) {
      if (j > 0) bytes[out.pos++] = 44;
      const cell = cells[j];
      let value = this.textOnly[j] ? NaN : scanPlainNumber(cell, out);
      if (value === value) {
        if (this.kinds[j] === "int" && cell.includes(".")) this.kinds[j] = "float";
        this.hadNumber[j] = true;
      } else {
        value = this.writeOtherCell(j, cell);
      }
      const k = this.slot[j];
      if (k >= 0) {
        if (!Number.isFinite(value)) {
          this.problem = { column: j, value: cell };
          return false;
        }
        values[base + k] = value;
      }
    }
    bytes[out.pos++] = 93; // ]
    this.nRows++;
    return true;
  }

  /** Any cell but a plain number: missing, text, or a number pandas spells more freely (+1, 1e5, .5). */
  private writeOtherCell(j: number, cell: string): number {
    if (NA_STRINGS.has(cell)) {
      this.out.text("null");
      if (this.kinds[j] === "int") this.kinds[j] = "float"; // a missing value makes pandas use float64
      return NaN;
    }
    if (!this.textOnly[j] && (CSV_NUMBER.test(cell) || INFINITIES.has(cell))) {
      const value = Number(cell.replace(/^\+/, "").replace(/inf$/i, "Infinity"));
      const isInt = /^[+-]?\d+$/.test(cell);
      if (this.kinds[j] === "int" && !isInt) this.kinds[j] = "float";
      const json = JSON_NUMBER.test(cell) ? cell : isInt ? String(value) : floatText(value);
      this.out.text(Number.isFinite(value) ? json : "null"); // JSON has no infinity
      this.hadNumber[j] = true;
      return value;
    }
    this.out.text(JSON.stringify(cell));
    if (this.kinds[j] !== "text" && this.hadNumber[j]) this.turnedText.add(j);
    this.kinds[j] = "text";
    return NaN;
  }

  /** Makes room for `rows` rows at least (twice as many as now when that is more). */
  grow(rows = 2 * this.capacity): void {
    if (rows <= this.capacity) return;
    this.capacity = rows;
    const bigger = new Float32Array(this.capacity * this.kept.length);
    bigger.set(this.values);
    this.values = bigger;
  }

  finish(): Table {
    this.out.text("\n]}\n");
    this.out.flush();
    const values = this.values.subarray(0, this.nRows * this.kept.length);
    return { columns: this.columns, nRows: this.nRows, kept: this.kept, values };
  }
}

// ---- The step -----------------------------------------------------------------------------------

/**
 * Streams `config.csv` into a Table and writes data/ccr_raw.json through `staging`.
 *   table.values: (nRows, features + 1) float32, row-major, the target last
 */
export async function extract(config: Config, staging: Staging, paths: Paths = PATHS): Promise<Table> {
  const file = config.csv;
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) throw new EtlError(`${shown(file)}: no such file; pass an existing CSV with --csv PATH`);
  if (!stat.isFile()) throw new EtlError(`${shown(file)}: is a folder, not a CSV file; pass a file with --csv PATH`);
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch {
    throw new EtlError(`${shown(file)}: cannot be read (permission denied)`);
  }
  const { newline, empty } = sniffCsv(file);
  if (empty) throw new EtlError(`${shown(file)}: the file is empty; a CSV needs a header line and data rows`);

  let asText = new Set<number>();
  for (;;) {
    const { builder, table } = await streamCsv(file, newline, config, asText, staging, paths);
    // A column that pandas reads as text must be text in every JSON row; the rare column that
    // turned to text after numbers were written gets one more pass, now that its kind is known.
    if (builder.turnedText.size > 0) {
      asText = new Set([...asText, ...builder.turnedText]);
      continue;
    }
    const dtypes = { int: "int64", float: "float64", text: "object" };
    console.log(`Extract: ${table.nRows} rows x ${table.columns.length} columns from ${shown(file)} -> ${shown(paths.raw)}`);
    console.log(`  dtypes: ${table.columns.map((name, j) => `${name} ${dtypes[builder.kinds[j]]}`).join(", ")}`);
    console.log(formatTable(["", ...table.columns], builder.head.map((cells, i) => [String(i), ...cells])));
    return table;
  }
}

async function streamCsv(
  file: string, newline: Newline, config: Config, asText: Set<number>, staging: Staging, paths: Paths,
): Promise<{ builder: TableBuilder; table: Table }> {
  const fileSize = fs.statSync(file).size;
  const fd = staging.open(paths.raw);
  const out = new ByteWriter(fd);
  // 128 KB chunks: papaparse's row arrays then die young, in V8's cheap nursery collections;
  // 1 MB chunks survive into the old generation and cost a third more time and memory.
  const input = fs.createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 17 });
  const progress = new Progress("extract");
  let builder: TableBuilder | null = null;
  let rowsBefore = 0; // papaparse rows (header included) before the current chunk
  let linesBefore = 0; // line breaks before the current stream chunk, for binary-data errors
  let failure: EtlError | { row: number; message: string } | null = null;

  input.on("data", (chunk) => {
    try {
      checkIsText(file, chunk as string, linesBefore);
      linesBefore += countNewlines(chunk as string);
    } catch (err) {
      failure ??= err as EtlError;
    }
  });

  try {
    await new Promise<void>((resolve, reject) => {
      input.on("error", reject);
      Papa.parse<string[]>(input, {
        delimiter: ",", newline, skipEmptyLines: true,
        beforeFirstChunk: (chunk) => chunk.replace(/^\uFEFF/, ""),
        chunk: (result, parser) => {
          if (failure) return parser.abort();
          const rows = result.data;
          const quoteError = result.errors[0];
          if (quoteError) {
            failure = { row: rowsBefore + (quoteError.row ?? 0), message: quoteMessage(quoteError.code) };
            return parser.abort();
          }
          for (let r = 0; r < rows.length; r++) {
            const cells = rows[r];
            if (!builder) {
              builder = new TableBuilder(checkHeader(file, cells, config), [...config.features, config.target], asText, out);
            } else if (cells.length !== builder.columns.length) {
              failure = { row: rowsBefore + r, message: `expected ${builder.columns.length} fields as in the header, found ${cells.length}` };
              return parser.abort();
            } else if (!builder.add(cells)) {
              failure = { row: rowsBefore + r, message: cellProblem(builder) };
              return parser.abort();
            }
          }
          // Size the table once from the first chunk's bytes per row, not by doubling it again and again.
          if (rowsBefore === 0 && builder) builder.grow(Math.ceil((1.05 * fileSize * rows.length) / Math.max(result.meta.cursor, 1)));
          rowsBefore += rows.length;
          progress.update(builder?.nRows ?? 0, input.bytesRead / Math.max(fileSize, 1));
        },
        complete: () => resolve(),
        error: (err: Error) => reject(err),
      });
    });
    progress.done();

    const failed = failure as EtlError | { row: number; message: string } | null; // set in the callbacks
    if (failed instanceof EtlError) throw failed;
    if (failed) throw new EtlError(`${shown(file)} line ${await lineOfRow(file, newline, failed.row)}: ${failed.message}`);
    const done = builder as TableBuilder | null;
    if (!done) throw new EtlError(`${shown(file)}: the file is empty; a CSV needs a header line and data rows`);
    if (done.nRows === 0) throw new EtlError(`${shown(file)}: has a header but no data rows`);
    return { builder: done, table: done.finish() };
  } finally {
    fs.closeSync(fd);
  }
}

function cellProblem(builder: TableBuilder): string {
  const { column, value: cell } = builder.problem;
  const value = JSON.stringify(cell); // quoted, and a line break shows as \n
  const what = cell === "" ? "is blank"
    : NA_STRINGS.has(cell) ? `is ${value}, which pandas reads as missing`
    : `is ${value}, not a finite number`;
  return `column ${builder.columns[column]} ${what}; every feature and target cell needs a number`;
}

function quoteMessage(code: string): string {
  return code === "MissingQuotes"
    ? `a quoted field is never closed (an opening " has no closing ")`
    : `a quoted field has text after its closing " (write a quote inside quotes as "")`;
}

/** The header must name each column once and include every feature and the target. */
function checkHeader(file: string, header: string[], config: Config): string[] {
  const where = `${shown(file)} line 1 (header)`;
  const blank = header.findIndex((name) => name.trim() === "");
  if (blank >= 0) throw new EtlError(`${where}: column ${blank + 1} has no name`);
  const duplicate = header.find((name, j) => header.indexOf(name) !== j);
  if (duplicate !== undefined) throw new EtlError(`${where}: column '${duplicate}' appears twice; rename one`);
  const missing = [...config.features, config.target].filter((name) => !header.includes(name));
  if (missing.length > 0) {
    throw new EtlError(`${where}: missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}; the file has ${header.join(", ")}`);
  }
  return header;
}

/** Reads data/ccr_raw.json back (one row per line, as extract writes it) into a Table. */
export async function readRawTable(config: Config, paths: Paths = PATHS): Promise<Table> {
  const file = paths.raw;
  requireArtifact(file, "extract");
  const damaged = (detail: string) => new EtlError(`${shown(file)}: ${detail}; run npx tsx etl.ts extract to write it again`);
  const kept = [...config.features, config.target];
  let columns: string[] | null = null;
  let slots: number[] = []; // kept column -> its index in a row
  let values = new Float32Array(1024 * kept.length);
  let nRows = 0;
  let closed = false;
  for await (const line of createInterface({ input: fs.createReadStream(file, { encoding: "utf8" }), crlfDelay: Infinity })) {
    if (!columns) {
      const match = /^\{"columns":(\[.*\]),"data":\[$/.exec(line);
      if (!match) throw damaged("not written by etl.ts extract");
      columns = JSON.parse(match[1]) as string[];
      const missing = kept.filter((name) => !columns!.includes(name));
      if (missing.length > 0) throw new EtlError(`${shown(file)}: missing column ${missing.join(", ")}; the table has ${columns.join(", ")}`);
      slots = kept.map((name) => columns!.indexOf(name));
    } else if (line === "]}") {
      closed = true;
    } else {
      let row: unknown;
      try {
        row = JSON.parse(line.endsWith(",") ? line.slice(0, -1) : line);
      } catch {
        throw damaged(`row ${nRows + 1} is not valid JSON`);
      }
      if (closed || !Array.isArray(row) || row.length !== columns.length) throw damaged(`row ${nRows + 1} is not a row of the table`);
      if ((nRows + 1) * kept.length > values.length) {
        const bigger = new Float32Array(values.length * 2);
        bigger.set(values);
        values = bigger;
      }
      slots.forEach((index, k) => {
        const value: unknown = row[index];
        if (typeof value !== "number") throw new EtlError(`${shown(file)} row ${nRows + 1}: column ${kept[k]} is ${JSON.stringify(value)}, not a number`);
        values[nRows * kept.length + k] = value;
      });
      nRows++;
    }
  }
  if (!columns || !closed) throw damaged("the file is cut short");
  return { columns, nRows, kept, values: values.subarray(0, nRows * kept.length) };
}

// ================================================================================================
// 2. Transform: select -> split -> scale -> .npy
// ================================================================================================

// ---- NumPy's legacy random generator -----------------------------------------------------------
// scikit-learn's train_test_split(random_state=42) draws np.random.RandomState(42).permutation(n).
// RandomState is the 32-bit Mersenne Twister (MT19937); replaying it word for word is the only
// way to pick the same rows, and the same rows are what makes the artifacts byte-identical.

const MT_N = 624;
const MT_M = 397;

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
    this.index = MT_N;
  }

  private seedArray(key: number[]): void {
    const mt = this.state;
    this.seedInteger(19650218);
    let i = 1;
    let j = 0;
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

/** An integer in [0, max], drawn as NumPy's legacy random_interval: mask, then reject. */
function boundedInteger(rng: MT19937, max: number): number {
  let mask = max;
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  for (;;) {
    const value = (rng.nextUint32() & mask) >>> 0;
    if (value <= max) return value;
  }
}

/** np.random.RandomState(seed).permutation(n): Fisher-Yates from the last element down. */
export function permutation(n: number, rng: MT19937): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = boundedInteger(rng, i);
    const swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
  return order;
}

/**
 * Row indices as train_test_split(test_size, random_state=seed) picks them: the test rows are
 * the first ceil(testSize * n) of one permutation, the train rows the rest, both in that order.
 */
export function trainTestSplit(n: number, testSize: number, seed: number): { order: Uint32Array; train: Uint32Array; test: Uint32Array } {
  const nTest = Math.ceil(testSize * n);
  if (n - nTest < 1) {
    throw new EtlError(
      `${n} row${n === 1 ? "" : "s"} cannot be split with --test-size ${testSize}: validation takes ` +
        `ceil(${testSize} x ${n}) = ${nTest} and train would be empty; add rows or lower --test-size`,
    );
  }
  const order = permutation(n, new MT19937(seed));
  return { order, test: order.subarray(0, nTest), train: order.subarray(nTest) };
}

// ---- Reordering rows -----------------------------------------------------------------------------

/**
 * The table's rows in `order`, as features and target.
 *   table.values: (nRows, d + 1) float32, the d features then the target
 *   returns X: (nRows, d) float32 row-major, y: (nRows,) float32; row i is table row order[i]
 * It reads the table front to back and writes each row to its place: at a million rows that is
 * twice as fast as reading rows at random, because writes need not wait for memory.
 */
export function reorderRows(table: Table, order: Uint32Array): { X: Float32Array; y: Float32Array } {
  const width = table.kept.length;
  const d = width - 1;
  const place = new Uint32Array(order.length);
  for (let i = 0; i < order.length; i++) place[order[i]] = i;
  const values = table.values;
  const X = new Float32Array(table.nRows * d);
  const y = new Float32Array(table.nRows);
  for (let row = 0; row < table.nRows; row++) {
    const from = row * width;
    const to = place[row] * d;
    for (let j = 0; j < d; j++) X[to + j] = values[from + j];
    y[place[row]] = values[from + d];
  }
  return { X, y };
}

// ---- StandardScaler -----------------------------------------------------------------------------
// Fitted on the train rows only: statistics that had seen the validation rows would leak them
// into training and make the validation score look better than it will be on new data.

/** Learned state, named as scikit-learn names it. mean_, var_, scale_: (nFeatures,) float64. */
export interface StandardScaler {
  mean_: Float64Array;
  var_: Float64Array;
  scale_: Float64Array;
  n_samples_seen_: number;
}

/**
 * StandardScaler().fit(X) for X: (n, d) float32, row-major. As scikit-learn does it: float64
 * sums (NumPy reduces axis 0 of a C-ordered array row by row, so a plain loop gives its bits),
 * the biased variance with the two-pass correction term, and scale 1 for a column that is
 * constant up to rounding, so that dividing by it changes nothing.
 */
export function fitStandardScaler(X: Float32Array, d: number): StandardScaler {
  const n = X.length / d;
  const sum = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sum[j] += X[i * d + j];
  const mean = sum.map((s) => s / n);
  const correction = new Float64Array(d);
  const squares = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const centered = X[i * d + j] - mean[j];
      correction[j] += centered;
      squares[j] += centered * centered;
    }
  }
  const variance = squares.map((s, j) => (s - (correction[j] * correction[j]) / n) / n);
  const eps = 2 ** -52;
  const scale = variance.map((v, j) => {
    const constantBound = n * eps * v + (n * mean[j] * eps) ** 2; // sklearn's _is_constant_feature
    return v <= constantBound ? 1 : Math.sqrt(v);
  });
  return { mean_: mean, var_: variance, scale_: scale, n_samples_seen_: n };
}

/**
 * (X - mean_) / scale_, in place, as scikit-learn 1.8 computes it for float32 input: mean_ and
 * scale_ are rounded to float32 first and each operation is rounded to float32 (Math.fround).
 */
export function standardize(X: Float32Array, scaler: StandardScaler): Float32Array {
  const d = scaler.mean_.length;
  const mean = Float32Array.from(scaler.mean_);
  const scale = Float32Array.from(scaler.scale_);
  for (let i = 0; i < X.length; i += d) {
    for (let j = 0; j < d; j++) X[i + j] = Math.fround(X[i + j] - mean[j]) / scale[j];
  }
  return X;
}

// ---- .npy files ---------------------------------------------------------------------------------
// NumPy's format 1.0: magic, version, header length, a Python-literal header padded so that the
// data starts on a 64-byte boundary, then the raw little-endian float32 values in C order.

/** The header bytes np.save writes for a float32 array of this shape. */
export function npyHeader(shape: number[]): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  header += " ".repeat(21 - String(shape[0]).length); // NumPy's room for the first axis to grow
  const padding = 64 - ((10 + header.length + 1) % 64); // a full 64 when already aligned, as NumPy does
  header += " ".repeat(padding) + "\n";
  const prefix = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]); // \x93NUMPY 1.0
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, "latin1")]);
}

/** A whole .npy file: np.save(path, array.reshape(shape)). */
export function npyBytes(array: Float32Array, shape: number[]): Uint8Array[] {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error("etl.ts writes .npy files on little-endian machines only");
  return [npyHeader(shape), new Uint8Array(array.buffer, array.byteOffset, array.byteLength)];
}

/** Reads a float32 .npy file that npyBytes wrote (or NumPy did). */
export function readNpy(file: string): { data: Float32Array; shape: number[] } {
  requireArtifact(file, "transform");
  const bytes = fs.readFileSync(file);
  const damaged = () => new EtlError(`${shown(file)}: not a float32 .npy file written by etl.ts; run npx tsx etl.ts transform`);
  if (bytes.length < 10 || bytes.toString("latin1", 0, 6) !== "\x93NUMPY" || bytes[6] !== 1) throw damaged();
  const dataStart = 10 + bytes.readUInt16LE(8);
  const header = bytes.toString("latin1", 10, dataStart);
  const match = /'descr': '<f4', 'fortran_order': False, 'shape': \((\d+),(?: (\d+))?\)/.exec(header);
  if (!match) throw damaged();
  const shape = match[2] === undefined ? [Number(match[1])] : [Number(match[1]), Number(match[2])];
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== dataStart + 4 * count) throw damaged();
  const data = new Float32Array(count);
  new Uint8Array(data.buffer).set(bytes.subarray(dataStart));
  return { data, shape };
}

// ---- The step ------------------------------------------------------------------------------------

/** The transformed arrays. X_*: (n, d) float32 row-major; y_*: (n,) float32. */
export interface Arrays {
  xTrain: Float32Array;
  xVal: Float32Array;
  yTrain: Float32Array;
  yVal: Float32Array;
  nFeatures: number;
}

/** Splits and scales the table; writes the arrays, the scaler and the feature list. */
export function transform(table: Table, config: Config, staging: Staging, paths: Paths = PATHS): Arrays {
  // The table is float32 already: what the model trains in, and what the original's
  // to_numpy(dtype=float32) gives. Its columns are the features in CONFIG order, then the target.
  const d = config.features.length;
  const { order, train, test } = trainTestSplit(table.nRows, config.testSize, config.seed);
  // In permutation order the validation rows come first: both splits are views of one array.
  const { X, y } = reorderRows(table, order);
  const xVal = X.subarray(0, test.length * d);
  const xTrain = X.subarray(test.length * d);
  const yVal = y.subarray(0, test.length);
  const yTrain = y.subarray(test.length);

  const scaler = fitStandardScaler(xTrain, d);
  standardize(xTrain, scaler);
  standardize(xVal, scaler);

  staging.write(paths.xTrain, ...npyBytes(xTrain, [train.length, d]));
  staging.write(paths.xVal, ...npyBytes(xVal, [test.length, d]));
  staging.write(paths.yTrain, ...npyBytes(yTrain, [train.length]));
  staging.write(paths.yVal, ...npyBytes(yVal, [test.length]));
  const scalerJson = {
    mean_: [...scaler.mean_],
    var_: [...scaler.var_],
    scale_: [...scaler.scale_],
    n_samples_seen_: scaler.n_samples_seen_,
    n_features_in_: d,
    feature_names_in_: config.features,
    with_mean: true,
    with_std: true,
  };
  staging.write(paths.scaler, JSON.stringify(scalerJson, null, 2) + "\n");
  staging.write(paths.featureColumns, JSON.stringify(config.features, null, 2)); // as json.dump(indent=2)

  printTransform(config, scaler, { xTrain, xVal, yTrain, yVal, nFeatures: d });
  return { xTrain, xVal, yTrain, yVal, nFeatures: d };
}

function printTransform(config: Config, scaler: StandardScaler, arrays: Arrays): void {
  const d = arrays.nFeatures;
  const n = arrays.yTrain.length;
  console.log(`\nTransform: X_train (${n}, ${d})  X_val (${arrays.yVal.length}, ${d})  y_train (${n},)  y_val (${arrays.yVal.length},)  float32`);
  const rows = config.features.map((name, j) => {
    let sum = 0;
    let squares = 0;
    for (let i = j; i < arrays.xTrain.length; i += d) sum += arrays.xTrain[i];
    const mean = sum / n;
    for (let i = j; i < arrays.xTrain.length; i += d) squares += (arrays.xTrain[i] - mean) ** 2;
    const fixed = (x: number) => (Math.abs(x) < 5e-4 ? 0 : x).toFixed(3); // no "-0.000"
    return [name, scaler.mean_[j].toPrecision(6), scaler.scale_[j].toPrecision(6), fixed(mean), fixed(Math.sqrt(squares / n))];
  });
  console.log(formatTable(["feature", "mean_", "scale_", "train mean after", "train std after"], rows));
}

// ================================================================================================
// 3. Load: arrays -> mini-batches, as a PyTorch DataLoader (drop_last=False) cuts them
// ================================================================================================

export interface BatchOptions {
  batchSize: number;
  shuffle: boolean;
  seed: number;
  epoch: number;
}

/**
 * The row order for one epoch. Shuffled orders come from MT19937 seeded with [seed, epoch]:
 * a new order every epoch, the same one on every run, and reproducible in NumPy as
 * np.random.RandomState([seed, epoch]).permutation(n).
 */
export function epochOrder(n: number, { shuffle, seed, epoch }: BatchOptions): Uint32Array | null {
  return shuffle ? permutation(n, new MT19937([seed, epoch])) : null;
}

/**
 * Yields every row once, batchSize rows at a time, the last batch short.
 *   X: (n, d) float32 row-major, y: (n,) float32
 *   yields x: (b, d) float32, y: (b, 1) float32. In file order they are views, not copies.
 */
export function* batches(X: Float32Array, y: Float32Array, options: BatchOptions): Generator<{ x: Float32Array; y: Float32Array }> {
  const n = y.length;
  const d = X.length / n;
  const order = epochOrder(n, options);
  for (let start = 0; start < n; start += options.batchSize) {
    const end = Math.min(start + options.batchSize, n);
    if (!order) {
      yield { x: X.subarray(start * d, end * d), y: y.subarray(start, end) };
      continue;
    }
    const x = new Float32Array((end - start) * d);
    const yBatch = new Float32Array(end - start);
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
  const d = X.length / n;
  const first = batches(X, y, options).next().value!;
  return {
    batch_size: options.batchSize,
    num_workers: 0,
    shuffle_train: options.shuffle,
    num_batches: Math.ceil(n / options.batchSize),
    example_batch_X_shape: [first.y.length, d],
    example_batch_y_shape: [first.y.length, 1],
    num_samples: n,
    drop_last: false,
  };
}

/** Reads the transform step's arrays back from disk, for `etl.ts load` on its own. */
export function readArrays(paths: Paths = PATHS): Arrays {
  const xTrain = readNpy(paths.xTrain);
  const xVal = readNpy(paths.xVal);
  const yTrain = readNpy(paths.yTrain);
  const yVal = readNpy(paths.yVal);
  const d = xTrain.shape[1];
  if (d === undefined || xVal.shape[1] !== d || xTrain.shape[0] !== yTrain.shape[0] || xVal.shape[0] !== yVal.shape[0]) {
    throw new EtlError(`${shown(paths.transformDir)}: the arrays' shapes do not agree; run npx tsx etl.ts transform`);
  }
  return { xTrain: xTrain.data, xVal: xVal.data, yTrain: yTrain.data, yVal: yVal.data, nFeatures: d };
}

export function load(arrays: Arrays, config: Config, staging: Staging, paths: Paths = PATHS): void {
  const common = { batchSize: config.batchSize, seed: config.seed, epoch: 0 };
  const train = loaderInfo(arrays.xTrain, arrays.yTrain, { ...common, shuffle: config.shuffleTrain });
  const val = loaderInfo(arrays.xVal, arrays.yVal, { ...common, shuffle: false });
  staging.write(paths.trainLoaderInfo, JSON.stringify(train, null, 2));
  staging.write(paths.valLoaderInfo, JSON.stringify(val, null, 2));
  console.log(`\nLoad: batch size ${config.batchSize}, drop_last false`);
  console.log(`  train: ${train.num_samples} rows in ${train.num_batches} batches, shuffled each epoch; first batch x ${JSON.stringify(train.example_batch_X_shape)} y ${JSON.stringify(train.example_batch_y_shape)}`);
  console.log(`  val:   ${val.num_samples} rows in ${val.num_batches} batches, file order;       first batch x ${JSON.stringify(val.example_batch_X_shape)} y ${JSON.stringify(val.example_batch_y_shape)}`);
}

// ================================================================================================
// main: run the steps in order; write nothing unless every step succeeded
// ================================================================================================

export async function main(argv: string[], paths: Paths = PATHS): Promise<number> {
  const staging = new Staging();
  const interrupted = () => {
    staging.discard();
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    const { config, step, help } = parseCommandLine(argv, paths);
    if (help) {
      process.stdout.write(HELP);
      return 0;
    }
    removeStaleTemps(paths);
    const runs = (s: Step) => step === "all" || step === s;
    let table: Table | undefined;
    let arrays: Arrays | undefined;
    if (runs("extract")) {
      table = await extract(config, staging, paths);
    }
    if (runs("transform")) {
      arrays = transform(table ?? (await readRawTable(config, paths)), config, staging, paths);
    }
    if (runs("load")) load(arrays ?? readArrays(paths), config, staging, paths);
    staging.commit();
    return 0;
  } catch (err) {
    staging.discard();
    if (!(err instanceof EtlError)) throw err;
    console.error(`error: ${err.message}`);
    return err.exitCode;
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
