import { runBench, type BenchOptions } from "../bench/bench.js";
import { formatReport } from "../bench/report.js";
import { formatFeedReport, runFeedBench } from "../bench/feed-bench.js";
import { flag, intFlag, type Args } from "../args.js";
import { measureApply, type ApplyResult } from "../bench/apply-rate.js";
import { benchRecovery } from "./bench-recovery.js";
import { APPLY_WORKLOADS } from "../bench/apply-workloads.js";
import { verifyOn } from "../bench/ceilings.js";
import { formatGatewayReport, runGatewayBench } from "../bench/gateway-bench.js";
import { runFuzzBench } from "../bench/fuzz-bench.js";
import { runSandboxBench, type SandboxBenchResult } from "../bench/sandbox-bench.js";
import { FUZZ_SEED_DEFAULT } from "@tally/testkit";

const WORKLOADS = ["transfer", "notarize", "query", "mixed", "bill-lifecycle", "feed"] as const;

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

/** `tally bench --workload feed`: the regulator feed alone (see feed-bench.ts). */
async function benchFeed(a: Args): Promise<number> {
  const r = await runFeedBench(
    {
      rate: intFlag(a, "rate", 1000, 1, 100_000),
      durationSec: intFlag(a, "duration", 60, 1, 3600),
      subscribers: intFlag(a, "feed", 20, 1, 64),
      blockMs: intFlag(a, "block-ms", 10, 1, 1000),
      batchMax: intFlag(a, "feed-batch", 0, 0, 500),
      pgAdminUrl: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    },
    (s) => console.error(s),
  );
  console.log(formatFeedReport(r));
  if (a.flags.has("json")) console.log(JSON.stringify(r));
  return r.errors.length === 0 && r.delivered_events === r.committed_events * r.subscribers ? 0 : 1;
}

/** `tally bench --gateway`: the gateway alone over mTLS (see gateway-bench.ts). */
async function benchGateway(a: Args): Promise<number> {
  const submitMode = flag(a, "submit", "stream")!;
  if (submitMode !== "stream" && submitMode !== "unary") throw new Error("--submit must be stream or unary");
  const r = await runGatewayBench(
    {
      durationSec: intFlag(a, "duration", 15, 1, 3600),
      clients: intFlag(a, "clients", 2, 1, 16),
      accounts: intFlag(a, "accounts", 16, 1, 1000),
      verifyWorkers: intFlag(a, "verify-workers", 0, 0, 64),
      submitMode,
      pgAdminUrl: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    },
    (s) => console.error(s),
  );
  console.log(formatGatewayReport(r));
  if (a.flags.has("json")) console.log(JSON.stringify(r));
  return r.accepted > 0 ? 0 : 1;
}

/** `tally bench --fuzz [--cases N] [--seed S]`: the seeded SignedTx fuzz loop (see fuzz-bench.ts). */
function benchFuzz(a: Args): number {
  const r = runFuzzBench(intFlag(a, "cases", 100_000, 1, 100_000_000), intFlag(a, "seed", FUZZ_SEED_DEFAULT, 0, 2 ** 32 - 1));
  console.log(`SignedTx fuzz: ${r.cases} cases (seed ${r.seed}) in ${r.seconds} s: ${r.cases_per_s} cases/s, ${r.crashes} crashes`);
  console.log(`  outcomes: ${JSON.stringify(r.outcomes)}`);
  if (r.first_crash !== undefined) console.log(`  first crash: ${r.first_crash}`);
  if (a.flags.has("json")) console.log(JSON.stringify(r));
  return r.crashes === 0 ? 0 : 1;
}

/** `tally bench`: one benchmark run; the last line is JSON with --json. */
/** `tally bench --sandbox [--duration s] [--block-size n] [--json]`: user contract calls/s against the built-in (see sandbox-bench.ts). */
async function benchSandbox(a: Args): Promise<number> {
  const r = await runSandboxBench({ seconds: intFlag(a, "duration", 10, 1, 600), blockSize: intFlag(a, "block-size", 500, 1, 10_000) });
  const line = (label: string, s: SandboxBenchResult["builtin"]): string =>
    `  ${label.padEnd(34)} ${s.calls_per_s.toFixed(0).padStart(8)} calls/s   (${s.committed}/${s.calls} committed in ${s.seconds.toFixed(2)} s)`;
  console.log(`transfer through prepareCommand + runCommand, ${r.parties} parties, a fresh sandbox every ${r.block_size} calls:`);
  console.log(line("built-in cash.transfer", r.builtin));
  console.log(line("user contract in the sandbox", r.sandbox));
  console.log(`  ratio ${(r.ratio * 100).toFixed(1)}% of the built-in (target ${(r.target_ratio * 100).toFixed(0)}%)`);
  if (a.flags.has("json")) console.log(JSON.stringify({ kind: "sandbox", ...r }));
  return r.sandbox.committed === r.sandbox.calls && r.builtin.committed === r.builtin.calls ? 0 : 1;
}

export async function bench(a: Args): Promise<number> {
  if (a.flags.has("apply")) return benchApply(a);
  if (a.flags.has("sandbox")) return benchSandbox(a);
  if (a.flags.has("recovery")) return benchRecovery(a);
  if (a.flags.has("gateway")) return benchGateway(a);
  if (a.flags.has("fuzz")) return benchFuzz(a);
  if (flag(a, "workload") === "feed") return benchFeed(a);
  const workload = flag(a, "workload", "transfer")!;
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
    feedSubscribers: intFlag(a, "feed", 0, 0, 64),
    feedBatchMax: intFlag(a, "feed-batch", 0, 0, 500),
  };
  const r = await runBench(o, (s) => console.error(s));
  console.log(formatReport(r));
  if (o.json) console.log(JSON.stringify(r));
  return r.lost === 0 ? 0 : 1;
}
