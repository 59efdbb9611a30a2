// Preloaded into every Node process the benchmark starts (NODE_OPTIONS=--require): reports the
// process's peak resident memory on stderr as it exits, for bench.ts to read.
process.on("exit", () => {
  process.stderr.write(`\npeak_rss_kb=${process.resourceUsage().maxRSS}\n`);
});
