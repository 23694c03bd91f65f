// The chaos run's short version, as CI runs it: 3 SIGKILLs of the master sequencer under load
// (one nats-server; NATS kills come with the 3-node cluster). It asserts only that nothing
// acknowledged was lost or committed twice, that the chain did not fork, and that blocks resumed
// after every kill — never a timing, which belongs to the benchmark (npm run chaos).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "@tally/testkit";

test("npm run chaos (short): 3 master kills, nothing lost, nothing twice, no fork, blocks resume", { timeout: 300_000 }, async () => {
  const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [join(repoRoot, "packages/cli/dist/main.js"), "chaos", "--kills", "3", "--json"]);
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
  const r = JSON.parse(out.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
  const rows = out.stderr + out.stdout;
  assert.equal(r.kills, 3, rows);
  assert.ok((r.acked as number) > 0, "some load was accepted");
  assert.equal(r.lost, 0, rows);
  assert.equal(r.duplicated, 0, rows);
  assert.equal(r.forks, 0, rows);
  assert.equal(r.failovers_timed_out, 0, `blocks did not resume after every kill:\n${rows}`);
  assert.notEqual(r.failover_ms_max, null, "blocks resumed after the kills");
  assert.equal(r.committed, r.acked, "every acknowledged tx committed exactly once");
  assert.equal(out.code, 0, rows);
});
