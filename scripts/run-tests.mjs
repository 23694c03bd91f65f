#!/usr/bin/env node
// Runs the compiled tests with node's own test runner, tier by tier:
//   unit (*.test.js), integration (*.int.test.js), end to end (*.e2e.test.js).
// Usage: node scripts/run-tests.mjs [unit|int|e2e ...] [--dir <workspace>]
// Unit tests run in parallel; integration and e2e tests start real processes, so they run
// with less concurrency to fit a 2-core machine.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync, existsSync, readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const args = process.argv.slice(2);
let dirs = ["packages", "services"].flatMap((top) => readdirSync(join(root, top)).map((d) => join(root, top, d)));
const dirFlag = args.indexOf("--dir");
if (dirFlag >= 0) dirs = [resolve(args[dirFlag + 1] ?? ".")];
const tiers = args.filter((a, i) => !a.startsWith("--") && args[i - 1] !== "--dir");
const wanted = tiers.length > 0 ? tiers : ["unit", "int", "e2e"];

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith(".test.js")) out.push(p);
  }
  return out;
}

const files = dirs.flatMap((d) => (existsSync(join(d, "dist")) ? walk(join(d, "dist"), []) : []));
const tierOf = (f) => (f.endsWith(".e2e.test.js") ? "e2e" : f.endsWith(".int.test.js") ? "int" : "unit");
const concurrency = { unit: 2, int: 2, e2e: 1 };
let failed = false;
let passed = 0;
let failedCount = 0;
const tapDir = mkdtempSync(join(tmpdir(), "tally-tests-"));
for (const tier of ["unit", "int", "e2e"]) {
  if (!wanted.includes(tier)) continue;
  const list = files.filter((f) => tierOf(f) === tier).sort();
  if (list.length === 0) continue;
  console.log(`\n=== ${tier}: ${list.length} files ===`);
  const r = spawnSync(
    process.execPath,
    [
      "--test",
      `--test-concurrency=${concurrency[tier]}`,
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      "--test-reporter=tap",
      `--test-reporter-destination=${join(tapDir, tier + ".tap")}`,
      ...list,
    ],
    { stdio: "inherit", env: { ...process.env, TALLY_TEST_TIER: tier } },
  );
  if (r.status !== 0) failed = true;
  const tap = existsSync(join(tapDir, tier + ".tap")) ? readFileSync(join(tapDir, tier + ".tap"), "utf8") : "";
  passed += Number(/^# pass (\d+)$/m.exec(tap)?.[1] ?? 0);
  failedCount += Number(/^# fail (\d+)$/m.exec(tap)?.[1] ?? 0);
}
rmSync(tapDir, { recursive: true, force: true });
if (failed && failedCount === 0) failedCount = 1;
console.log(`\n${passed} passed, ${failedCount} failed`);
process.exit(failed ? 1 : 0);
