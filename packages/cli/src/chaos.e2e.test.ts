// The chaos run's short version, as CI runs it: on a 3-node nats-server cluster (R3 streams and
// KV), 3 SIGKILLs of the master sequencer under load and 1 SIGKILL of the nats-server leading
// TXS. It asserts only that nothing acknowledged was lost or committed twice, that the chain did
// not fork, and that blocks resumed after every kill — never a timing, which belongs to the
// benchmark (npm run chaos).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "@tally/testkit";

interface NatsKill {
  killed_server: string;
  recovery_ms: number | null;
  finding: string | null;
}

test(
  "npm run chaos (short, 3-node NATS): 3 master kills and 1 TXS-leader kill; nothing lost, nothing twice, no fork, blocks resume",
  { timeout: 300_000 },
  async () => {
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [
        join(repoRoot, "packages/cli/dist/main.js"),
        "chaos",
        "--nats-cluster",
        "--kills",
        "3",
        "--nats-kills",
        "1",
        "--json",
      ]);
      let stdout = "";
      let stderr = "";
      p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      p.on("exit", (code) => resolve({ code, stdout, stderr }));
    });
    const rows = out.stderr + out.stdout;
    const r = JSON.parse(out.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
    assert.equal(r.kills, 3, rows);
    assert.ok((r.acked as number) > 0, "some load was accepted");
    assert.equal(r.lost, 0, rows);
    assert.equal(r.duplicated, 0, rows);
    assert.equal(r.forks, 0, rows);
    assert.equal(r.committed, r.acked, `every acknowledged tx committed exactly once:\n${rows}`);
    assert.equal(r.failovers_timed_out, 0, `blocks did not resume after every master kill:\n${rows}`);
    assert.notEqual(r.failover_ms_max, null, "blocks resumed after the master kills");
    const nats = r.nats_kills as NatsKill[];
    assert.equal(nats.length, 1, `one TXS-leader kill:\n${rows}`);
    assert.notEqual(nats[0]!.killed_server, "", `a TXS leader was found and killed:\n${rows}`);
    assert.notEqual(nats[0]!.recovery_ms, null, `blocks with post-kill transactions resumed after the NATS kill:\n${rows}`);
  },
);
