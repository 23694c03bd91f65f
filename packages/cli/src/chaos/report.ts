import type { ChaosResult, KillRow } from "./run.js";

/** A human-readable table of one chaos run. */
export function formatChaosReport(r: ChaosResult, rows: readonly KillRow[]): string {
  const ms = (x: number | null): string => (x === null ? "—" : String(x)).padStart(8);
  return [
    "",
    `chaos: ${r.kills} master SIGKILLs under ${r.offered_tps} tx/s offered (${r.nats}), ${r.run_s} s of load`,
    "",
    "  kill  killed  epoch → new     by      failover ms  restart ms  finding",
    ...rows.map(
      (k) =>
        `  ${String(k.kill).padStart(4)}  ${k.killed.padEnd(6)}  ${k.old_epoch.padStart(5)} → ${(k.new_epoch ?? "—").padEnd(5)}  ${(k.new_master ?? "—").padEnd(6)}  ${ms(k.failover_ms)}     ${ms(k.restart_ms)}  ${k.finding ?? ""}`,
    ),
    "",
    `  failover (kill → first new block), ms: p50 ${r.failover_ms_p50 ?? "—"}   p99 ${r.failover_ms_p99 ?? "—"}   max ${r.failover_ms_max ?? "—"}   timed out ${r.failovers_timed_out}`,
    ...(r.nats_kills.length === 0
      ? [`  NATS kills: none. ${r.note}`]
      : [
          "",
          "  NATS kill  after  killed server   TXS writes ms  first block ms  rejoin ms  seq epoch changed  finding",
          ...r.nats_kills.map(
            (n) =>
              `  ${String(n.nats_kill).padStart(9)}  ${String(n.after_master_kill).padStart(5)}  ${n.killed_server.padEnd(14)}  ${ms(n.txs_write_ms)}       ${ms(n.recovery_ms)}  ${ms(n.rejoin_ms)}  ${String(n.sequencer_epoch_changed).padEnd(17)}  ${n.finding ?? ""}`,
          ),
          `  nats_kill_recovery_ms_max ${r.nats_kill_recovery_ms_max ?? "—"}. ${r.note}`,
        ]),
    "",
    `  submitted ${r.submitted}   ACCEPTED ${r.acked}   refused ${r.submitted - r.acked}${Object.keys(r.refused_by_reason).length > 0 ? ` ${JSON.stringify(r.refused_by_reason)}` : ""}`,
    `  committed exactly once ${r.committed}   LOST ${r.lost}   acked-but-rejected ${r.rejected}   DUPLICATED ${r.duplicated}`,
    `  chain: ${r.blocks} BLOCKS messages, ${r.epochs} epochs   FORKS ${r.forks}   TXS included twice ${r.txs_included_twice}   TXS gaps ${r.txs_gaps}`,
    `  committed during the run: ${r.tps_during_run} tx/s`,
    ...(r.findings.length > 0 ? ["", "  findings:", ...r.findings.map((f) => `    - ${f}`)] : []),
    "",
    `  per-kill rows: ${r.rows_file}`,
  ].join("\n");
}
