import { runBench, type BenchOptions } from "../bench/bench.js";
import { formatReport } from "../bench/report.js";
import { flag, intFlag, type Args } from "../args.js";

const WORKLOADS = ["transfer", "notarize", "query"] as const;
const LATER = ["bill-lifecycle", "mixed"];

/** `tally bench`: one benchmark run; the last line is JSON with --json. */
export async function bench(a: Args): Promise<number> {
  const workload = flag(a, "workload", "transfer")!;
  if (LATER.includes(workload))
    throw new Error(`workload ${workload} needs the finance contracts (issue 4); available: ${WORKLOADS.join(", ")}`);
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
