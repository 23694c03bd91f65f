// `tally bench --recovery`: issue 8's numbers — replay rate of simple transfers (signatures
// included), restore from a snapshot of N state entries, and the audit of a chain of N txs.
// Medians of --runs runs; the last line is JSON with --json.
import { measureApply } from "../bench/apply-rate.js";
import { transferWorkload } from "../bench/apply-workloads.js";
import { measureAudit, measureRestore } from "../bench/recovery-bench.js";
import { intFlag, type Args } from "../args.js";

const median = (xs: readonly number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

/** Runs the recovery benchmarks; returns the exit code. */
export async function benchRecovery(a: Args): Promise<number> {
  const runs = intFlag(a, "runs", 3, 1, 20);
  const replayTxs = intFlag(a, "replay-txs", 50_000, 0, 2_000_000);
  const blockSize = intFlag(a, "block-size", 1000, 1, 10_000);
  const entries = intFlag(a, "entries", 1_000_000, 0, 10_000_000);
  const auditTxs = intFlag(a, "audit-txs", 1_000_000, 0, 10_000_000);
  const prepareAheadMax = intFlag(a, "prepare-ahead", 2, 1, 8);
  const batchBlocksMax = intFlag(a, "batch-blocks", 64, 1, 1024);
  const out: Record<string, unknown> = {
    kind: "recovery",
    runs,
    block_size: blockSize,
    prepare_ahead: prepareAheadMax,
    batch_blocks: batchBlocksMax,
  };
  if (replayTxs > 0) {
    const rates: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await measureApply(transferWorkload, { txs: replayTxs, blockSize, parties: 64, prepareAheadMax, batchBlocksMax });
      if (r.committed !== r.txs) throw new Error(`replay: ${r.committed} of ${r.txs} committed`);
      rates.push(r.tx_per_s);
      console.error(`replay run ${i + 1}: ${r.tx_per_s.toFixed(0)} tx/s (${r.txs} transfers in ${r.seconds.toFixed(2)} s)`);
    }
    out.replay = { txs: replayTxs, tx_per_s_median: Math.round(median(rates)), tx_per_s_runs: rates.map(Math.round) };
  }
  if (entries > 0) {
    const snap: number[] = [];
    const rest: number[] = [];
    let bytes = 0;
    for (let i = 0; i < runs; i++) {
      const r = await measureRestore(entries);
      snap.push(r.snapshotSeconds);
      rest.push(r.restoreSeconds);
      bytes = r.snapshotBytes;
      console.error(
        `restore run ${i + 1}: snapshot ${r.snapshotSeconds.toFixed(1)} s (${(r.snapshotBytes / 1e6).toFixed(0)} MB), restore ${r.restoreSeconds.toFixed(1)} s`,
      );
    }
    out.restore = {
      state_entries: entries,
      snapshot_s_median: median(snap),
      restore_s_median: median(rest),
      restore_s_runs: rest,
      snapshot_bytes: bytes,
    };
  }
  if (auditTxs > 0) {
    const secs: number[] = [];
    let findings = 0;
    for (let i = 0; i < runs; i++) {
      const r = await measureAudit(auditTxs, blockSize);
      secs.push(r.auditSeconds);
      findings += r.findings;
      console.error(
        `audit run ${i + 1}: ${r.txs} txs in ${r.blocks} blocks generated in ${r.generateSeconds.toFixed(0)} s; audit ${r.auditSeconds.toFixed(1)} s (${r.txPerS.toFixed(0)} tx/s), ${r.findings} findings`,
      );
    }
    out.audit = { txs: auditTxs, audit_s_median: median(secs), audit_s_runs: secs, findings };
    if (findings > 0) throw new Error("the audit of a clean generated chain found mismatches");
  }
  console.log(a.flags.has("json") ? JSON.stringify(out) : JSON.stringify(out, null, 2));
  return 0;
}
