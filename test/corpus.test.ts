// CSV files nobody here wrote: the data files that ship inside installed Debian and npm packages
// (NumPy's and scikit-learn's test and sample data, GDAL's tables, matplotlib's samples,
// distro-info, papaparse's own), found at test time. pandas and scikit-learn judge each one
// (test/corpus_check.py): a file read_csv reads is extracted, with no flag but --csv, to a raw
// JSON that reads back as read_csv's frame; a file it refuses is refused in one line; and where
// a file has a numeric target and ten rows or more, the whole pipeline's X and y equal a plain
// scikit-learn build within one float32 step.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { pathsUnder } from "../etl.ts";
import { PYTHON_MISSING, REPO, etlInProcess, referencePython, tempDir } from "./helpers.ts";

const python = referencePython();
if (!python && process.env.CI) test("corpus: reference libraries", () => assert.fail(`CI is set, and the corpus test ${PYTHON_MISSING}`));
const skip = python ? false : `corpus test skipped: ${PYTHON_MISSING}`;

/** Where installed packages keep their data files. */
const ROOTS = ["/usr/share", "/usr/lib/python3/dist-packages", path.join(REPO, "node_modules")];
const MAX_BYTES = 2_000_000;

function csvFilesUnder(dir: string, found: string[] = []): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return found; // unreadable or gone
  }
  for (const entry of entries) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) csvFilesUnder(file, found);
    else if (entry.isFile() && entry.name.endsWith(".csv") && fs.statSync(file).size <= MAX_BYTES) found.push(file);
  }
  return found;
}


/**
 * Where etl.ts knowingly parts from read_csv, and refuses in one line instead: a MultiIndex of
 * several extra first fields, which split JSON cannot carry back to pandas.
 */
const KNOWN_REFUSALS = /MultiIndex, which etl\.ts does not keep/;

/**
 * The pipeline on `file`, with the remedy each refusal names applied, as a user would: a text
 * column with too many values gets --max-categories raised, a column mixing text and numbers
 * --drop. Returns the last run and the flags it took.
 */
async function pipeline(file: string, target: string, out: string) {
  const flags = ["--csv", file, "--target", target, "--features", "all"];
  const drop: string[] = [];
  for (;;) {
    const run = await etlInProcess([...flags, ...(drop.length ? ["--drop", drop.join(",")] : [])], out);
    const remedy = /distinct values.*--max-categories/.test(run.stderr) && !flags.includes("--max-categories")
      ? ["--max-categories", "1000000"] : null;
    const dropped = /a feature is all text or all numbers: .*--drop (.*)\n/.exec(run.stderr)?.[1]?.replace(/^'(.*)'$/, "$1");
    if (remedy) flags.push(...remedy);
    else if (dropped && !drop.includes(dropped)) drop.push(dropped);
    else return { ...run, out, drop };
  }
}

const python3 = (args: string[]) => {
  const run = spawnSync(python!, [path.join(REPO, "test", "corpus_check.py"), ...args], { encoding: "utf8", maxBuffer: 1 << 26 });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
};

describe("CSV files shipped inside installed packages, judged by pandas and scikit-learn", { skip }, () => {
  test("each is read as read_csv reads it, refused as it refuses it, and fitted as scikit-learn fits it", async (t) => {
    const files = [...new Set(ROOTS.flatMap((root) => csvFilesUnder(root)))].sort();
    assert.ok(files.length >= 20, `only ${files.length} CSV files found under ${ROOTS.join(", ")}`);
    const plan: { file: string; reads: boolean; target: string | null }[] = python3(["plan", ...files]);
    const dir = tempDir("etl-corpus-");
    const runs = [];
    for (const [i, item] of plan.entries()) {
      const out = path.join(dir, String(i));
      const extract = { ...(await etlInProcess(["extract", "--csv", item.file], out)), raw: pathsUnder(out).raw };
      const known = item.reads && extract.status !== 0 && KNOWN_REFUSALS.test(extract.stderr);
      const fitted = item.reads && item.target && extract.status === 0
        ? await pipeline(item.file, item.target, path.join(dir, `${i}-pipeline`)) : null;
      runs.push({ ...item, extract, known, pipeline: fitted });
    }
    fs.writeFileSync(path.join(dir, "runs.json"), JSON.stringify(runs));
    const verdicts: Record<string, string | null> = python3(["judge", path.join(dir, "runs.json")]);
    const wrong = Object.entries(verdicts).filter(([, why]) => why !== null);
    const pipelines = runs.filter((r) => r.pipeline?.status === 0).length;
    assert.ok(pipelines >= 10, `only ${pipelines} pipelines ran`);
    const known = runs.filter((r) => r.known).map((r) => r.file);
    assert.ok(known.length <= 3, `${known.length} known refusals: ${known.join(", ")}`);
    const reads = runs.filter((r) => r.reads).length;
    t.diagnostic(`${files.length} files, ${reads} read by pandas, ${pipelines} pipelines, known refusals: ${known.join(", ")}`);
    assert.deepEqual(wrong.map(([file, why]) => `${file}: ${why}`), [], `${wrong.length} of ${files.length} files`);
  });
});
