import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "@tally/testkit";
import { intFlag, type Args } from "../args.js";
import { formatChaosReport } from "../chaos/report.js";
import { runChaos, type ChaosOptions, type KillRow } from "../chaos/run.js";

/**
 * `tally chaos`: SIGKILL the master sequencer again and again under load, then audit. The last
 * line is JSON with --json. Exits 1 when anything acknowledged was lost, committed twice, or the
 * chain forked (or a failover never completed). --nats-cluster runs on a 3-node nats-server cluster
 * and also SIGKILLs the TXS stream leader --nats-kills times (a NATS recovery that runs out is a finding).
 */
export async function chaos(a: Args): Promise<number> {
  const rowsFlag = a.flags.get("rows");
  const o: ChaosOptions = {
    kills: intFlag(a, "kills", 20, 1, 1000),
    intervalMs: intFlag(a, "interval-ms", 3000, 0, 600_000),
    ratePerSec: intFlag(a, "rate", 200, 1, 100_000),
    accounts: intFlag(a, "accounts", 8, 2, 1000),
    failoverTimeoutMs: intFlag(a, "failover-timeout-ms", 30_000, 1000, 600_000),
    rowsFile:
      rowsFlag === undefined
        ? join(tmpdir(), `tally-chaos-rows-${process.pid}.jsonl`)
        : rowsFlag === true
          ? join(repoRoot, "docs/benchmarks/chaos-rows.jsonl")
          : rowsFlag,
    pgAdminUrl: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    natsCluster: a.flags.has("nats-cluster"),
    natsKills: intFlag(a, "nats-kills", 2, 0, 100),
    natsTimeoutMs: intFlag(a, "nats-timeout-ms", 60_000, 1000, 600_000),
  };
  const r = await runChaos(o, (s) => console.error(s));
  const rows = readFileSync(o.rowsFile, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as KillRow)
    .filter((r) => typeof r.kill === "number");
  console.log(formatChaosReport(r, rows));
  if (a.flags.has("json")) console.log(JSON.stringify(r));
  const bad =
    r.lost +
    r.rejected +
    r.duplicated +
    r.forks +
    r.txs_included_twice +
    r.txs_gaps +
    r.failovers_timed_out +
    r.nats_kills.filter((n) => n.finding !== null).length;
  return bad === 0 && r.kills === o.kills ? 0 : 1;
}
