/**
 * Writes data/housing.csv: a sample to try etl.ts on a CSV of your own with. It has what real
 * exports have: an id column (`house_id`), free text (`address`), text categories with blanks
 * (`neighborhood`), blank numbers (`sqft`, `year_built`) and a yes/no column.
 *
 *   npx tsx data/generate_housing.ts [--rows 300] [--seed 7] [--out data/housing.csv]
 *
 * Then: npx tsx etl.ts --csv data/housing.csv --target price --features all \
 *         --drop house_id,address --out runs/housing
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { MT19937 } from "../etl.ts";

const STREETS = ["Main St", "Oak Ave", "Pine Rd", "Elm St", "Lake Dr", "Hill Ct"];
const NEIGHBORHOODS = ["Downtown", "Hillside", "Lakeside", "Old Town"];

function main(): void {
  const { values } = parseArgs({
    options: {
      rows: { type: "string", default: "300" },
      seed: { type: "string", default: "7" },
      out: { type: "string", default: path.join(path.dirname(fileURLToPath(import.meta.url)), "housing.csv") },
    },
  });
  const rng = new MT19937(Number(values.seed));
  const uniform = () => rng.nextUint32() / 2 ** 32;
  const pick = <T>(list: T[]) => list[rng.nextUint32() % list.length];
  const lines = ["house_id,address,sqft,bedrooms,year_built,neighborhood,has_garage,price"];
  for (let i = 0; i < Number(values.rows); i++) {
    const sqft = Math.round(600 + 3000 * uniform());
    const bedrooms = 1 + Math.floor(sqft / 700);
    const year = 1920 + Math.floor(100 * uniform());
    const neighborhood = uniform() < 0.08 ? "" : pick(NEIGHBORHOODS);
    const garage = uniform() < 0.6 ? "yes" : "no";
    const bonus = { Downtown: 90_000, Hillside: 40_000, Lakeside: 60_000, "Old Town": 20_000, "": 0 }[neighborhood]!;
    const price = Math.round((50_000 + 180 * sqft + 400 * (year - 1920) + bonus + 40_000 * uniform()) / 100) * 100;
    const address = `${1 + (rng.nextUint32() % 9999)} ${pick(STREETS)}`;
    lines.push([
      `H${String(i + 1).padStart(4, "0")}`, address, uniform() < 0.05 ? "" : sqft, bedrooms,
      uniform() < 0.05 ? "" : year, neighborhood, garage, price,
    ].join(","));
  }
  fs.writeFileSync(values.out, lines.join("\n") + "\n");
  console.log(`Wrote ${lines.length - 1} rows (seed ${values.seed}) to ${values.out}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
