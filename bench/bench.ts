/**
 * How fast and how lean etl.ts is, next to the floor its parser sets and the Python original.
 *
 *   npm run bench                          200, 1,000,000 and (with 8 GB of memory) 10,000,000 rows
 *   npm run bench -- --small               200 and 1,000,000 rows only
 *   npm run bench -- --rows 3000000        adds another size
 *   npm run bench -- --runs 9              more runs per measurement (medians are reported; default
 *                                          5, and 3 at ten million rows)
 *   npm run bench -- --baseline DIR        also times DIR/etl.ts (another checkout, an older
 *                                          version say), run by turns with this one
 *
 * Every program is started as a user starts it, a fresh process per run: etl.ts as
 * `tsx etl.ts --csv FILE` in a temporary copy of the project (so the repository's artifacts are
 * left alone), the floor as `tsx bench/papaparse_floor.ts FILE`, and the Python original as its
 * three steps, three python3 processes. etl.ts and Python runs alternate, so that a slow moment
 * of the machine hurts both. Generated CSVs are cached in bench/cache/.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TSX = path.join(REPO, "node_modules", ".bin", "tsx");
const CACHE = path.join(REPO, "bench", "cache");
const RSS_REPORTER = path.join(REPO, "bench", "report_rss.cjs");
const PYTHON = "/usr/bin/python3";

const { values } = parseArgs({
  options: {
    rows: { type: "string" }, runs: { type: "string", default: "5" }, small: { type: "boolean" },
    baseline: { type: "string" },
  },
});
const runs = Number(values.runs);
const large = !values.small && os.totalmem() >= 8 * 2 ** 30; // ten million rows take about 1 GB
const sizes = [...new Set([200, 1_000_000, ...(large ? [10_000_000] : []), ...(values.rows ? [Number(values.rows)] : [])])]
  .sort((a, b) => a - b);

interface Timing {
  seconds: number;
  peakMb: number;
  range?: [number, number]; // fastest and slowest run, when this is a median
}

/**
 * Runs a command once; its wall time and the largest peak RSS any of its processes reported. The
 * files the previous command wrote are flushed first, so that no run pays for another's writes.
 */
function timed(command: string, args: string[], cwd = REPO): Timing {
  spawnSync("sync");
  const started = performance.now();
  const run = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    maxBuffer: 1 << 26,
    env: { ...process.env, NODE_OPTIONS: `--require ${RSS_REPORTER}` },
  });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${run.stderr}`);
  const peaks = [...run.stderr.matchAll(/peak_rss_kb=(\d+)/g)].map((m) => Number(m[1]));
  return { seconds, peakMb: Math.max(0, ...peaks) / 1024 };
}

/** Several timed runs of one step or of a sequence of steps, as the sum per run. */
function sequence(steps: (() => Timing)[]): Timing {
  const parts = steps.map((step) => step());
  return { seconds: parts.reduce((s, p) => s + p.seconds, 0), peakMb: Math.max(...parts.map((p) => p.peakMb)) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function csvFor(rows: number): string {
  if (rows === 200) return path.join(REPO, "data", "ccr_mock.csv");
  const file = path.join(CACHE, `ccr_${rows}.csv`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(CACHE, { recursive: true });
    process.stderr.write(`generating ${file}\n`);
    const made = spawnSync(TSX, ["data/generate_mock.ts", "--rows", String(rows), "--seed", "1", "--out", `${file}.partial`], { cwd: REPO, stdio: "inherit" });
    if (made.status !== 0) throw new Error("the data generator failed");
    fs.renameSync(`${file}.partial`, file);
  }
  return file;
}

function tempProject(from = REPO): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etl-bench-"));
  fs.copyFileSync(path.join(from, "etl.ts"), path.join(dir, "etl.ts"));
  fs.copyFileSync(path.join(REPO, "package.json"), path.join(dir, "package.json"));
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

const hasPython = spawnSync(PYTHON, ["-c", "import pandas, sklearn, torch"]).status === 0;
if (!hasPython) {
  process.stderr.write("Python original skipped: apt-get install -y python3-pandas python3-sklearn python3-torch\n");
}

interface Row {
  rows: number;
  megabytes: number;
  etl: Timing;
  baseline: Timing | null;
  floor: Timing;
  python: Timing | null;
}
const results: Row[] = [];

for (const rows of sizes) {
  const csv = csvFor(rows);
  const megabytes = fs.statSync(csv).size / 1e6;
  const repeat = rows >= 10_000_000 ? Math.min(runs, 3) : runs;
  const etl: Timing[] = [];
  const baseline: Timing[] = [];
  const floor: Timing[] = [];
  const python: Timing[] = [];
  const project = tempProject();
  const baselineProject = values.baseline ? tempProject(path.resolve(values.baseline)) : null;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "etl-bench-py-"));
  for (let r = 0; r < repeat; r++) {
    // On a terminal, one line that updates; into a file or a pipe, one line per run.
    const line = `${rows.toLocaleString("en-US")} rows, run ${r + 1}/${repeat}`;
    process.stderr.write(process.stderr.isTTY ? `${line}\r` : `${line}\n`);
    etl.push(timed(TSX, ["etl.ts", "--csv", csv], project));
    if (baselineProject) baseline.push(timed(TSX, ["etl.ts", "--csv", csv], baselineProject));
    floor.push(timed(TSX, ["bench/papaparse_floor.ts", csv]));
    if (hasPython) {
      python.push(sequence(["extract", "transform", "load"].map((step) => () => timed(PYTHON, ["bench/python_original.py", step, csv, work]))));
    }
  }
  fs.rmSync(project, { recursive: true, force: true });
  if (baselineProject) fs.rmSync(baselineProject, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
  const summary = (ts: Timing[]): Timing => {
    const seconds = ts.map((t) => t.seconds);
    return { seconds: median(seconds), peakMb: Math.max(...ts.map((t) => t.peakMb)), range: [Math.min(...seconds), Math.max(...seconds)] };
  };
  results.push({
    rows, megabytes, etl: summary(etl), baseline: baselineProject ? summary(baseline) : null,
    floor: summary(floor), python: hasPython ? summary(python) : null,
  });
}
if (process.stderr.isTTY) process.stderr.write("\x1b[K");

// ---- Report ---------------------------------------------------------------------------------------

const f = (x: number, digits = 2) => x.toFixed(digits);
const spread = (t: Timing) => (t.range && t.range[0] !== t.range[1] ? ` (${f(t.range[0])}-${f(t.range[1])})` : "");
const count = (x: number) => Math.round(x).toLocaleString("en-US");
const tenRuns = Math.min(runs, 3);
const tenNote = large ? ` (${tenRuns} at 10M rows)` : "";
console.log(`\netl.ts benchmark: ${os.cpus().length} cores, Node ${process.version}, medians of ${runs} runs${tenNote}\n`);
console.log("| rows | CSV MB | etl.ts s (fastest-slowest) | rows/s | etl.ts peak RSS MB | papaparse alone s | etl.ts / papaparse | Python original s | etl.ts / Python |");
console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of results) {
  const py = r.python ? [f(r.python.seconds) + spread(r.python), f(r.etl.seconds / r.python.seconds, 3)] : ["-", "-"];
  console.log(
    `| ${count(r.rows)} | ${f(r.megabytes, 1)} | ${f(r.etl.seconds)}${spread(r.etl)} | ${count(r.rows / r.etl.seconds)} | ` +
      `${f(r.etl.peakMb, 0)} | ${f(r.floor.seconds)}${spread(r.floor)} | ${f(r.etl.seconds / r.floor.seconds, 3)} | ${py.join(" | ")} |`,
  );
}
if (values.baseline) {
  console.log(`\nThe baseline, ${values.baseline}/etl.ts, run by turns with this one:\n`);
  console.log("| rows | baseline s (fastest-slowest) | baseline peak RSS MB | this / baseline | baseline / papaparse | baseline / Python |");
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of results) {
    const b = r.baseline!;
    const py = r.python ? f(b.seconds / r.python.seconds, 3) : "-";
    console.log(
      `| ${count(r.rows)} | ${f(b.seconds)}${spread(b)} | ${f(b.peakMb, 0)} | ${f(r.etl.seconds / b.seconds, 3)} | ` +
        `${f(b.seconds / r.floor.seconds, 3)} | ${py} |`,
    );
  }
}

// Per row: what each further million rows costs, from the 1M and 10M runs, so that start-up
// (tsx, Python's imports) no longer hides it.
const at = (rows: number) => results.find((r) => r.rows === rows);
const million = at(1_000_000)!;
const shipped = at(200)!;
const tenMillion = at(10_000_000);
const perMillion = (small: Timing, big: Timing) => (big.seconds - small.seconds) / 9;
if (tenMillion) {
  const etl = perMillion(million.etl, tenMillion.etl);
  const floor = perMillion(million.floor, tenMillion.floor);
  const python = million.python && tenMillion.python ? perMillion(million.python, tenMillion.python) : null;
  console.log("\nEach further million rows, from the 1M and 10M medians:\n");
  console.log("| etl.ts s | papaparse alone s | Python original s | etl.ts / papaparse | etl.ts / Python |");
  console.log("| ---: | ---: | ---: | ---: | ---: |");
  console.log(`| ${f(etl, 3)} | ${f(floor, 3)} | ${python === null ? "-" : f(python, 3)} | ${f(etl / floor, 3)} | ${python === null ? "-" : f(etl / python, 3)} |`);
}

// Wide as well as tall: 60,000 columns x 30 rows, against the same cells as 30 x 60,000.
function gridCsv(columns: number, rows: number): string {
  const file = path.join(CACHE, `grid_${columns}x${rows}.csv`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(CACHE, { recursive: true });
    let seed = 1;
    const cell = () => String((seed = (seed * 48271) % 2147483647) % 1000); // a small LCG
    const lines = [[...Array.from({ length: columns }, (_, j) => `c${j}`), "y"].join(",")];
    for (let i = 0; i < rows; i++) lines.push([...Array.from({ length: columns }, cell), String(i)].join(","));
    fs.writeFileSync(file, lines.join("\n") + "\n");
  }
  return file;
}
const gridRun = (file: string) => () =>
  timed(TSX, ["etl.ts", "--csv", file, "--target", "y", "--features", "all"], tempProject());
const [wideRuns, tallRuns] = [[] as Timing[], [] as Timing[]];
for (let i = 0; i < runs; i++) {
  wideRuns.push(gridRun(gridCsv(60_000, 30))());
  tallRuns.push(gridRun(gridCsv(30, 60_000))());
}
const [wide, tall] = [wideRuns, tallRuns].map((ts) => median(ts.map((t) => t.seconds)));
console.log(`\nWide and tall: 60,000 columns x 30 rows ${f(wide)} s, 30 columns x 60,000 rows ${f(tall)} s\n`);

const checks: [string, number | null, number][] = [];
checks.push(["60,000 columns x 30 rows / 30 x 60,000 (time)", wide / tall, 3]);
if (shipped.python) checks.push(["200 rows: etl.ts / Python original", shipped.etl.seconds / shipped.python.seconds, 0.2]);
checks.push(["1M rows: etl.ts / papaparse alone", million.etl.seconds / million.floor.seconds, 1.8]);
if (million.python) checks.push(["1M rows: etl.ts / Python original", million.etl.seconds / million.python.seconds, 0.45]);
checks.push(["1M rows: etl.ts peak RSS, MB", million.etl.peakMb, 300]);
if (tenMillion) {
  checks.push(["10M rows: etl.ts / papaparse alone", tenMillion.etl.seconds / tenMillion.floor.seconds, 2]);
  if (tenMillion.python) checks.push(["10M rows: etl.ts / Python original", tenMillion.etl.seconds / tenMillion.python.seconds, 0.5]);
  checks.push(["10M rows: etl.ts peak RSS, MB", tenMillion.etl.peakMb, 1200]);
  checks.push(["per further million rows: etl.ts / papaparse alone",
    perMillion(million.etl, tenMillion.etl) / perMillion(million.floor, tenMillion.floor), 2]);
}
console.log("\n| target | measured | at most | met |\n| --- | ---: | ---: | :---: |");
for (const [name, measured, limit] of checks) {
  console.log(`| ${name} | ${measured === null ? "-" : f(measured, 3)} | ${limit} | ${measured !== null && measured <= limit ? "yes" : "NO"} |`);
}
