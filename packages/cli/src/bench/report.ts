import type { BenchResult } from "./bench.js";

/** A human-readable table of one run. */
export function formatReport(r: BenchResult): string {
  const lines = [
    "",
    `workload ${r.workload} (${r.submit_mode}), ${r.nodes} validator node(s), offered ${r.offered_tps === "max" ? "open-loop maximum" : `${r.offered_tps} tx/s`}, ${r.duration_s} s`,
    "",
    `  submitted ${r.submitted}   accepted ${r.accepted}   refused ${r.refused}   client-overloaded ${r.client_overloaded}`,
    ...(r.refused > 0 ? [`  refused by reason: ${JSON.stringify(r.refused_by_reason)}`] : []),
    `  committed ${r.committed}   rejected by contract ${r.rejected}   LOST ${r.lost}`,
    `  accepted ${r.accepted_tps} tx/s   committed ${r.committed_tps} tx/s`,
    "",
    "  latency (ms)        p50      p95      p99      max",
    `  submit→ACCEPTED ${fmt(r.p50_accept_ms)} ${fmt(r.p95_accept_ms)} ${fmt(r.p99_accept_ms)} ${fmt(r.max_accept_ms)}`,
    `  submit→COMMITTED${fmt(r.p50_commit_ms)} ${fmt(r.p95_commit_ms)} ${fmt(r.p99_commit_ms)} ${fmt(r.max_commit_ms)}`,
    `  submit→FINAL    ${fmt(r.p50_final_ms)} ${fmt(r.p95_final_ms)} ${fmt(r.p99_final_ms)} ${fmt(r.max_final_ms)}   (receipts of more than 2/3 of ${r.nodes} validator node(s) agree)`,
    ...(r.feed === undefined
      ? []
      : [
          `  COMMITTED→feed  ${fmt(r.feed.p50_feed_ms)} ${fmt(r.feed.p95_feed_ms)} ${fmt(r.feed.p99_feed_ms)} ${fmt(r.feed.max_feed_ms)}   (${r.feed.subscribers} gRPC subscribers, ${r.feed.events} events)`,
          `  feed lag (heights behind, worst subscriber): first third ${r.feed.lag_first_third_heights}, last third ${r.feed.lag_last_third_heights}, max ${r.feed.max_lag_heights}, slope ${r.feed.max_lag_slope_heights_per_s}/s`,
          ...(r.feed.errors.length > 0 ? [`  feed errors: ${r.feed.errors.join("; ")}`] : []),
        ]),
    "",
    "  ceilings measured in this run:",
    `    Ed25519 verify      ${r.verify_1core_per_s}/s on 1 core, ${r.verify_2core_per_s}/s on 2`,
    `    JetStream publish   ${r.jetstream_publish_per_s}/s (R1, 300 B, 256 in flight)`,
    `    PostgreSQL insert   ${r.pg_insert_rows_per_s} rows/s (500 per statement)`,
    `  verify ceiling for this topology (${r.verifies_per_tx} verifies per tx): ${r.verify_ceiling_tps} tx/s`,
    `  efficiency = committed / verify ceiling = ${r.efficiency}`,
    "",
    "  per service          CPU %    RSS MB   RSS after warm-up → end",
    ...Object.entries(r.services).map(([name, s]) => {
      const m = r.memory?.[name];
      const growth = m === undefined ? "" : `   ${m.after_warmup_mb} → ${m.end_mb} MB (${m.growth_pct >= 0 ? "+" : ""}${m.growth_pct} %)`;
      return `    ${name.padEnd(20)} ${String(s.cpu_pct).padStart(6)} ${String(s.rss_mb).padStart(9)}${growth}`;
    }),
    "",
    `  machine: ${r.machine}`,
  ];
  return lines.join("\n");
}

function fmt(ms: number): string {
  return ms.toFixed(1).padStart(8);
}
