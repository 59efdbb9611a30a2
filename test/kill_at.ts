// Loaded before etl.ts (node --import tsx --import ./test/kill_at.ts etl.ts) by the kill test:
// the process SIGKILLs itself at a point of the run it names, so that every kill lands where it
// is meant to, whatever the machine's speed. ETL_KILL_AT="FUNCTION|PATH REGEX|before or after":
// the first call of fs.FUNCTION on a path that matches (a rename's target), before or after it.
// "stdout|REGEX|after" sends it once the run has printed a line that matches.
// A fourth field names another signal than SIGKILL (SIGTERM, SIGINT): sent at that point, and
// handled by etl.ts as it would be.
import fs from "node:fs";

const [name, pattern, when, signal = "SIGKILL"] = (process.env.ETL_KILL_AT ?? "").split("|");
if (name === "stdout") {
  // "stdout|REGEX|after": once the run has printed a line that matches (Transform starts after
  // Extract's summary, with no file call of its own to hook).
  const write = process.stdout.write.bind(process.stdout) as (...args: unknown[]) => boolean;
  const matches = new RegExp(pattern, "m");
  let sent = false;
  process.stdout.write = ((...args: unknown[]) => {
    const result = write(...args);
    if (!sent && matches.test(String(args[0]))) {
      sent = true;
      process.kill(process.pid, signal);
    }
    return result;
  }) as typeof process.stdout.write;
} else if (name) {
  const fsFunctions = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
  const original = fsFunctions[name];
  const matches = new RegExp(pattern);
  let sent = false;
  fsFunctions[name] = function (this: unknown, ...args: unknown[]) {
    const target = String(name === "renameSync" ? args[1] : args[0]);
    if (sent || !matches.test(target)) return original.apply(this, args);
    sent = true;
    if (when === "before") process.kill(process.pid, signal);
    const result = original.apply(this, args);
    if (when !== "before") process.kill(process.pid, signal);
    return result;
  };
}
