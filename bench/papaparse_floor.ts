/**
 * The floor etl.ts's extract cannot go below: papaparse streaming the same CSV with the same
 * options and chunk size, and doing nothing with the rows.
 *
 *   tsx bench/papaparse_floor.ts FILE
 */
import fs from "node:fs";
import Papa from "papaparse";

let rows = 0;
Papa.parse<string[]>(fs.createReadStream(process.argv[2], { encoding: "utf8", highWaterMark: 1 << 16 }), {
  delimiter: ",",
  skipEmptyLines: true,
  chunk: (result) => {
    rows += result.data.length;
  },
  complete: () => console.log(`${rows} rows`),
});
