// Loaded before etl.ts (node --import tsx --import ./test/kill_at.ts etl.ts) by the kill test:
// the process SIGKILLs itself at a point of the run it names, so that every kill lands where it
// is meant to, whatever the machine's speed. ETL_KILL_AT="FUNCTION|PATH REGEX|before or after":
// the first call of fs.FUNCTION on a path that matches (a rename's target), before or after it.
import fs from "node:fs";

const [name, pattern, when] = (process.env.ETL_KILL_AT ?? "").split("|");
if (name) {
  const fsFunctions = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
  const original = fsFunctions[name];
  const matches = new RegExp(pattern);
  fsFunctions[name] = function (this: unknown, ...args: unknown[]) {
    const target = String(name === "renameSync" ? args[1] : args[0]);
    if (!matches.test(target)) return original.apply(this, args);
    if (when === "before") process.kill(process.pid, "SIGKILL");
    const result = original.apply(this, args);
    process.kill(process.pid, "SIGKILL");
    return result;
  };
}
