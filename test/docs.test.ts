// The annotated page (npm run docs): docco sets etl.ts's // comments beside its code. Every
// section heading of the file must come out as a heading of the page, in the file's order.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { REPO, tempDir } from "./helpers.ts";

const decode = (html: string) =>
  html.replace(/<[^>]+>/g, "").replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/[\u2018\u2019]/g, "'").trim(); // marked's curly quotes

/** The page, built as `npm run docs` builds it, into a folder of its own. */
function buildDocs(): string {
  const out = tempDir("etl-docs-");
  const script = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).scripts.docs as string;
  const [, ...args] = script.replace("--output docs", `--output ${out}`).split(" ");
  const docco = path.join(REPO, "node_modules", ".bin", "docco");
  const run = spawnSync(docco, args, { cwd: REPO, encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  return out;
}

test("npm run docs writes docs/etl.html with every section of etl.ts, in order", () => {
  const out = buildDocs();
  const html = fs.readFileSync(path.join(out, "etl.html"), "utf8");
  const source = fs.readFileSync(path.join(REPO, "etl.ts"), "utf8");
  const sections = [...source.matchAll(/^\/\/ (#{1,3}) (.+)$/gm)].map((m) => `h${m[1].length} ${m[2]}`);
  const headings = [...html.matchAll(/<h([1-3])[^>]*>([\s\S]*?)<\/h\1>/g)].map((m) => `h${m[1]} ${decode(m[2])}`);
  const markdown = (s: string) => s.replace(/[`*]/g, "");
  assert.ok(sections.length >= 10, `only ${sections.length} sections found in etl.ts`);
  assert.deepEqual(headings, sections.map(markdown));
  assert.ok(sections.some((s) => s.startsWith("h1 Part II")), "Part II opens with a top-level heading");
  // The prose is text, not code: a sentence of the header is in a paragraph.
  assert.match(html, /<p>(?:(?!<\/p>|<pre>)[\s\S])*Part\s+II\s+can\s+be\s+skipped\s+on\s+a\s+first\s+reading/);
});

test("the docs page shows flags as typed and the Python original's lines as code", () => {
  const html = fs.readFileSync(path.join(buildDocs(), "etl.html"), "utf8");
  assert.doesNotMatch(html, /[\u2013\u2014]max-categories/, "no smart dash eats a flag's --");
  const code = html.replace(/<span[^>]*>|<\/span>/g, ""); // the highlighting's spans left out
  assert.match(code, /<pre><code>sklearn: train_test_split\(X, y, test_size=/);
  assert.ok(fs.existsSync(path.join(REPO, "test", "docs.css")));
  assert.match(fs.readFileSync(path.join(buildDocs(), "docs.css"), "utf8"), /\.page pre \{ width: auto; overflow-x: auto/);
});
