// The benchmark's smoke run, as CI runs it: a short mixed load (transfers, notarizations, bills,
// receivables) through a real network.
// It asserts only that the bench completes and that every accepted tx committed — never a timing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "@tally/testkit";

test("npm run bench (smoke): completes, and every accepted transaction commits exactly once", async () => {
  const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [
      join(repoRoot, "packages/cli/dist/main.js"),
      "bench",
      "--workload",
      "mixed",
      "--rate",
      "200",
      "--duration",
      "8",
      "--json",
    ]);
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
  assert.equal(out.code, 0, out.stderr + out.stdout);
  const r = JSON.parse(out.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
  for (const k of [
    "workload",
    "offered_tps",
    "committed_tps",
    "p50_commit_ms",
    "p99_commit_ms",
    "verify_ceiling_tps",
    "efficiency",
    "lost",
  ])
    assert.ok(k in r, `JSON has ${k}`);
  assert.equal(r.workload, "mixed");
  assert.ok((r.accepted as number) > 0, "some load was accepted");
  assert.equal(r.lost, 0, "nothing accepted was lost");
  assert.equal(r.committed, r.accepted, "every accepted tx committed (the contracts accept every act of this load)");
  assert.match(out.stdout, /ceilings measured in this run/);
});
