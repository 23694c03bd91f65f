import { runBench, type BenchOptions } from "../bench/bench.js";
import { formatReport } from "../bench/report.js";
import { flag, intFlag, type Args } from "../args.js";
import { measureApply, type ApplyResult } from "../bench/apply-rate.js";
import { APPLY_WORKLOADS } from "../bench/apply-workloads.js";
import { verifyOn } from "../bench/ceilings.js";

const WORKLOADS = ["transfer", "notarize", "query", "mixed"] as const;
const LATER = ["bill-lifecycle"];

/**
 * `tally bench --apply`: the executor's apply rate for every contract workload (or those named
 * with --contracts), medians of --runs runs; the last line is JSON with --json.
 */
async function benchApply(a: Args): Promise<number> {
  const names = flag(a, "contracts", APPLY_WORKLOADS.map((w) => w.name).join(","))!.split(",");
  const unknown = names.filter((n) => !APPLY_WORKLOADS.some((w) => w.name === n));
  if (unknown.length > 0)
    throw new Error(`unknown apply workload ${unknown.join(", ")}; known: ${APPLY_WORKLOADS.map((w) => w.name).join(", ")}`);
  const txs = intFlag(a, "txs", 20_000, 100, 1_000_000);
  const blockSize = intFlag(a, "block-size", 500, 1, 10_000);
  const runs = intFlag(a, "runs", 3, 1, 20);
  const rows: (ApplyResult & { runs: number; tx_per_s_runs: number[]; verify_1core_per_s: number; ratio_to_verify: number })[] = [];
  const median = (xs: readonly number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  for (const w of APPLY_WORKLOADS.filter((x) => names.includes(x.name))) {
    const all: ApplyResult[] = [];
    const verify: number[] = [];
    for (let i = 0; i < runs; i++) {
      // The ceiling in the same run: one core verifying Ed25519 signatures over 200-byte bodies.
      verify.push(await verifyOn(1, 1000, 200));
      const r = await measureApply(w, { txs, blockSize, parties: 64 });
      console.error(
        `${w.name} run ${i + 1}: ${r.tx_per_s.toFixed(0)} tx/s (${r.committed}/${r.txs} committed in ${r.seconds.toFixed(2)} s)`,
      );
      all.push(r);
    }
    const m = all.find((r) => r.tx_per_s === median(all.map((x) => x.tx_per_s)))!;
    const v = median(verify);
    rows.push({
      ...m,
      runs,
      tx_per_s_runs: all.map((r) => Math.round(r.tx_per_s)),
      verify_1core_per_s: Math.round(v),
      ratio_to_verify: m.tx_per_s / v,
    });
  }
  console.log(`executor apply rate, one node, blocks of ${blockSize}, ${txs} timed txs per run, median of ${runs}:`);
  for (const r of rows)
    console.log(
      `  ${r.workload.padEnd(24)} ${r.tx_per_s.toFixed(0).padStart(7)} tx/s   committed ${r.committed}/${r.txs}   ` +
        `1-core Ed25519 verify ${r.verify_1core_per_s}/s   ratio ${r.ratio_to_verify.toFixed(2)}`,
    );
  if (a.flags.has("json")) console.log(JSON.stringify({ kind: "apply", block_size: blockSize, rows }));
  return rows.every((r) => r.committed === r.txs) ? 0 : 1;
}

/** `tally bench`: one benchmark run; the last line is JSON with --json. */
export async function bench(a: Args): Promise<number> {
  if (a.flags.has("apply")) return benchApply(a);
  const workload = flag(a, "workload", "transfer")!;
  if (LATER.includes(workload)) throw new Error(`workload ${workload} is not built yet; available: ${WORKLOADS.join(", ")}`);
  if (!(WORKLOADS as readonly string[]).includes(workload)) throw new Error(`--workload must be one of ${WORKLOADS.join(", ")}`);
  const rateFlag = flag(a, "rate", "max")!;
  const submitMode = flag(a, "submit", "stream")!;
  if (submitMode !== "stream" && submitMode !== "unary") throw new Error("--submit must be stream or unary");
  const o: BenchOptions = {
    workload: workload as BenchOptions["workload"],
    submitMode,
    durationSec: intFlag(a, "duration", 20, 1, 3600),
    rate: rateFlag === "max" ? 0 : intFlag(a, "rate", 0, 1, 1_000_000),
    nodes: intFlag(a, "nodes", 1, 1, 8),
    clients: intFlag(a, "clients", 2, 1, 16),
    accounts: intFlag(a, "accounts", 16, 2, 1000),
    json: a.flags.has("json"),
    pgAdminUrl: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
  };
  const r = await runBench(o, (s) => console.error(s));
  console.log(formatReport(r));
  if (o.json) console.log(JSON.stringify(r));
  return r.lost === 0 ? 0 : 1;
}
