/**
 * Writes a mock College & Career Readiness CSV: the 9 columns of the Python original's data,
 * plausible values, and a readiness score that is a noisy function of the others, so that a
 * model has something to learn. Seeded, so the same flags always give the same bytes.
 *
 *   npx tsx data/generate_mock.ts                          200 rows -> data/ccr_mock.csv
 *   npx tsx data/generate_mock.ts --rows 1000000 --out /tmp/big.csv --seed 1
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { MT19937 } from "../etl.ts";

const HEADER = "gpa,attendance_rate,sat_math,sat_ebrw,cte_hours,internship,career_interest_clarity,self_efficacy,readiness_score";

/** Uniform in [0, 1) from two 32-bit words, as NumPy's random_sample draws it. */
function uniform(rng: MT19937): number {
  const a = rng.nextUint32() >>> 5;
  const b = rng.nextUint32() >>> 6;
  return (a * 67108864 + b) / 9007199254740992;
}

/** Normal(mean, sd) by Box-Muller; the second draw of the pair is discarded for simplicity. */
function normal(rng: MT19937, mean: number, sd: number): number {
  const u = 1 - uniform(rng);
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform(rng));
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const rating = (rng: MT19937, center: number) => clamp(Math.round(normal(rng, center, 1.1)), 1, 5);

/** One CSV line (no line break) of a student drawn from `rng`. */
export function mockRow(rng: MT19937): string {
  const gpa = clamp(normal(rng, 3.0, 0.55), 0, 4);
  const attendance = clamp(normal(rng, 0.93, 0.045), 0.5, 1);
  const satMath = clamp(Math.round(normal(rng, 600 + 70 * (gpa - 3), 85)), 200, 800);
  const satEbrw = clamp(Math.round(normal(rng, 600 + 60 * (gpa - 3), 85)), 200, 800);
  const cteHours = clamp(normal(rng, 90, 55), 0, 240);
  const internship = uniform(rng) < 0.45 ? 1 : 0;
  const clarity = rating(rng, 3.1);
  const efficacy = rating(rng, 3.1);
  const score = clamp(
    8 * gpa + 25 * attendance + 0.02 * (satMath + satEbrw) + 0.04 * cteHours +
      4 * internship + 1.5 * clarity + 1.5 * efficacy + normal(rng, -10, 4),
    0, 100,
  );
  return [
    gpa.toFixed(2), attendance.toFixed(3), satMath, satEbrw, cteHours.toFixed(1),
    internship, clarity, efficacy, score.toFixed(2),
  ].join(",");
}

function main(): void {
  const { values } = parseArgs({
    options: {
      rows: { type: "string", default: "200" },
      seed: { type: "string", default: "2024" },
      out: { type: "string", default: path.join(path.dirname(fileURLToPath(import.meta.url)), "ccr_mock.csv") },
    },
  });
  const rows = Number(values.rows);
  if (!Number.isSafeInteger(rows) || rows < 0) throw new Error(`--rows must be a whole number, got ${values.rows}`);
  const rng = new MT19937(Number(values.seed));
  const fd = fs.openSync(values.out, "w");
  fs.writeSync(fd, HEADER + "\n");
  for (let done = 0; done < rows; ) {
    const lines: string[] = [];
    for (const end = Math.min(rows, done + 10000); done < end; done++) lines.push(mockRow(rng));
    fs.writeSync(fd, lines.join("\n") + "\n");
  }
  fs.closeSync(fd);
  console.log(`Wrote ${rows.toLocaleString("en-US")} rows (seed ${values.seed}) to ${values.out}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
