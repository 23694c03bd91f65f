// The benchmark's smoke runs, as CI runs them (20 s of load in all): a mixed load (transfers,
// notarizations, bills, receivables) and the bill life cycle (issue, accept, endorse, split,
// discount with a bank's co-signature, endorse a child), each through a real network.
// They assert only that the bench completes, that every accepted tx committed, and that
// finality was measured — never a timing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "@tally/testkit";

async function benchJson(workload: string, rate: number, seconds: number): Promise<{ r: Record<string, unknown>; stdout: string }> {
  const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [
      join(repoRoot, "packages/cli/dist/main.js"),
      "bench",
      "--workload",
      workload,
      "--rate",
      String(rate),
      "--duration",
      String(seconds),
      "--json",
    ]);
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
  assert.equal(out.code, 0, out.stderr + out.stdout);
  return { r: JSON.parse(out.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>, stdout: out.stdout };
}

function assertEveryAcceptedCommitted(r: Record<string, unknown>, workload: string): void {
  for (const k of [
    "workload",
    "offered_tps",
    "committed_tps",
    "p50_commit_ms",
    "p99_commit_ms",
    "p50_final_ms",
    "p99_final_ms",
    "verify_ceiling_tps",
    "efficiency",
    "lost",
  ])
    assert.ok(k in r, `JSON has ${k}`);
  assert.equal(r.workload, workload);
  assert.ok((r.accepted as number) > 0, "some load was accepted");
  assert.equal(r.lost, 0, "nothing accepted was lost");
  assert.equal(r.committed, r.accepted, "every accepted tx committed (the contracts accept every act of this load)");
  assert.equal(r.rejected, 0);
  assert.ok((r.p50_final_ms as number) > 0, "submit→FINAL was measured");
}

test("npm run bench (smoke, mixed): completes, and every accepted transaction commits exactly once", async () => {
  const { r, stdout } = await benchJson("mixed", 200, 12);
  assertEveryAcceptedCommitted(r, "mixed");
  assert.match(stdout, /ceilings measured in this run/);
});

test("npm run bench (smoke, bill-lifecycle): every act of every bill's life commits", async () => {
  const { r } = await benchJson("bill-lifecycle", 200, 8);
  assertEveryAcceptedCommitted(r, "bill-lifecycle");
  // Whole lives were run: at least one bill went through all six acts.
  assert.ok((r.committed as number) >= 6);
});
