// `tally bench --workload feed`: the regulator feed alone. A real regfeed process serves a real
// node database while this process commits blocks into it exactly as an executor does (events,
// checkpoint and the height notice in one transaction) at a fixed rate; N gRPC subscribers (the
// feed subscriber process) time COMMITTED → event and sample their lag. Nothing else runs, so the
// figures are the feed's own cost, apart from the rest of the network on the same 2 cores.
import { fork } from "node:child_process";
import { cpus, freemem, totalmem } from "node:os";
import { sql } from "kysely";
import { createDatabaseIfMissing, databaseUrl, dropDatabase, HEIGHT_CHANNEL, migrateToLatest, openDb } from "@tally/db";
import { sha256 } from "@tally/ledger";
import { freePort, ServiceProcess, serviceEntry } from "@tally/testkit";
import type { FeedConfig, FeedReport } from "./feed-subscriber.js";
import { sampleProcess } from "./process-stats.js";

/** What a feed benchmark is asked to do. */
export interface FeedBenchOptions {
  /** Events (one per transaction, like a transfer) committed per second. */
  readonly rate: number;
  readonly durationSec: number;
  readonly subscribers: number;
  /** One block every blockMs (the sequencer's cut-wait makes blocks of a few ms under load). */
  readonly blockMs: number;
  /** Events per StreamEvents response (0: one per response). */
  readonly batchMax: number;
  readonly pgAdminUrl: string;
}

/** The run's figures. */
export interface FeedBenchResult {
  workload: "feed";
  offered_tps: number;
  duration_s: number;
  subscribers: number;
  batch_max: number;
  blocks: number;
  committed_events: number;
  delivered_events: number;
  p50_feed_ms: number;
  p95_feed_ms: number;
  p99_feed_ms: number;
  max_feed_ms: number;
  max_lag_slope_heights_per_s: number;
  max_lag_heights: number;
  lag_first_third_heights: number;
  lag_last_third_heights: number;
  regfeed_cpu_pct: number;
  regfeed_rss_mb: number;
  errors: string[];
  machine: string;
}

/** Seconds of load before measuring: connections, JIT and the shared tail settle. */
const WARMUP_S = 3;

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

/** Runs one feed benchmark. */
export async function runFeedBench(o: FeedBenchOptions, log: (s: string) => void): Promise<FeedBenchResult> {
  const name = `tally_feedbench_${Date.now() % 1_000_000}`;
  await createDatabaseIfMissing(o.pgAdminUrl, name);
  const url = databaseUrl(o.pgAdminUrl, name);
  const db = openDb(url);
  let regfeed: ServiceProcess | undefined;
  try {
    await migrateToLatest(db);
    const port = await freePort();
    regfeed = new ServiceProcess("regfeed", serviceEntry("regfeed"), {
      NODE_ID: "node-regulator",
      DATABASE_URL: url,
      GRPC_ADDR: `127.0.0.1:${port}`,
      ALERTS_ENABLED: process.env.BENCH_FEED_ALERTS ?? "true",
    });
    await regfeed.waitForLine(/regfeed listening/, 20_000);
    const cfg: FeedConfig = {
      regfeed: `127.0.0.1:${port}`,
      databaseUrl: url,
      subscribers: o.subscribers,
      afterHeight: "0",
      sampleMs: 1000,
      batchMax: o.batchMax,
    };
    const sub = fork(new URL("./feed-subscriber.js", import.meta.url), [], {
      env: { ...process.env, BENCH_FEED_CONFIG: JSON.stringify(cfg) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    await new Promise<void>((resolve, reject) => {
      sub.once("message", () => resolve());
      sub.once("exit", (code) => reject(new Error(`feed subscriber process exited with ${code}`)));
    });
    log(
      `feed: ${o.rate} events/s in blocks every ${o.blockMs} ms, ${WARMUP_S} s of warm-up then ${o.durationSec} s measured, ${o.subscribers} gRPC subscriber(s)...`,
    );
    const w0 = performance.now();
    let height = 0n;
    let events = 0;
    let warm = false;
    let before: ReturnType<typeof sampleProcess> | undefined;
    let t0 = Infinity;
    let measuredFromEvent = 0;
    // Open loop: each block carries what the rate owes since the start, so a slow commit is caught up, not dropped.
    while (performance.now() - w0 < (WARMUP_S + o.durationSec) * 1000) {
      if (!warm && performance.now() - w0 >= WARMUP_S * 1000) {
        warm = true;
        sub.send({ type: "measure", afterHeight: height.toString() });
        before = sampleProcess(regfeed.pid);
        t0 = performance.now();
        measuredFromEvent = events;
      }
      const t0Load = w0;
      const due = Math.floor(((performance.now() - t0Load) / 1000) * o.rate) - events;
      if (due > 0) {
        height++;
        const h = height;
        const rows = Array.from({ length: due }, (_, i) => ({
          height: h,
          tx_index: i,
          event_index: 0,
          tx_id: sha256(new TextEncoder().encode(`${h}/${i}`)),
          contract: "cash",
          type: "CashTransferred",
          asset_id: `acct/bank-${i % 16}`,
          parties: [`bank-${i % 16}`, `bank-${(i + 1) % 16}`],
          data: JSON.stringify({ from: `bank-${i % 16}`, to: `bank-${(i + 1) % 16}`, amount: `${1000 + i}`, memo: null }),
          block_time_ms: BigInt(Date.now()),
          signer: `bank-${i % 16}`,
        }));
        await db.transaction().execute(async (tx) => {
          for (let i = 0; i < rows.length; i += 500)
            await tx
              .insertInto("events")
              .values(rows.slice(i, i + 500))
              .execute();
          const cp = {
            height: h,
            block_hash: sha256(new TextEncoder().encode(`b${h}`)),
            state_root: new Uint8Array(32),
            timestamp_ms: 0n,
            last_txs_seq: 0n,
          };
          await tx
            .insertInto("checkpoint")
            .values({ id: 1, ...cp })
            .onConflict((c) => c.column("id").doUpdateSet(cp))
            .execute();
          await sql`select pg_notify(${HEIGHT_CHANNEL}, ${`executor:${h}`})`.execute(tx);
        });
        events += due;
      }
      await new Promise((r) => setTimeout(r, o.blockMs));
    }
    const t1 = performance.now();
    const after = sampleProcess(regfeed.pid);
    // Let the subscribers catch up (bounded) before asking for the report.
    await new Promise((r) => setTimeout(r, 2000));
    const report = await new Promise<FeedReport>((resolve, reject) => {
      sub.on("message", (m: { type: string; report?: FeedReport }) => m.type === "report" && m.report !== undefined && resolve(m.report));
      sub.once("exit", (code) => code !== 0 && reject(new Error(`feed subscriber process exited with ${code}`)));
      sub.send({ type: "stop" });
    });
    const worst = [...report.subscribers].sort((a, b) => b.slopeHeightsPerS - a.slopeHeightsPerS)[0];
    return {
      workload: "feed",
      offered_tps: o.rate,
      duration_s: o.durationSec,
      subscribers: o.subscribers,
      batch_max: o.batchMax,
      blocks: Number(height),
      committed_events: events - measuredFromEvent,
      delivered_events: report.subscribers.reduce((a, s) => a + s.events, 0),
      p50_feed_ms: round(report.latency.p50),
      p95_feed_ms: round(report.latency.p95),
      p99_feed_ms: round(report.latency.p99),
      max_feed_ms: round(report.latency.max),
      max_lag_slope_heights_per_s: round(worst?.slopeHeightsPerS ?? 0, 3),
      max_lag_heights: Math.max(0, ...report.subscribers.map((s) => s.maxLag)),
      lag_first_third_heights: round(Math.max(0, ...report.subscribers.map((s) => s.meanFirstThird))),
      lag_last_third_heights: round(Math.max(0, ...report.subscribers.map((s) => s.meanLastThird))),
      regfeed_cpu_pct: round((((after?.cpuSeconds ?? 0) - (before?.cpuSeconds ?? 0)) * 100) / ((t1 - t0) / 1000), 1),
      regfeed_rss_mb: round((after?.rssBytes ?? 0) / 2 ** 20, 1),
      errors: report.errors,
      machine: `${cpus().length} cpu ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB (${Math.round(freemem() / 2 ** 30)} free), node ${process.version}`,
    };
  } finally {
    await regfeed?.stop("SIGTERM", 3000).catch(() => undefined);
    await db.destroy();
    await dropDatabase(o.pgAdminUrl, name).catch(() => undefined);
  }
}

/** A human-readable summary of one feed run. */
export function formatFeedReport(r: FeedBenchResult): string {
  return [
    "",
    `workload feed: ${r.offered_tps} events/s for ${r.duration_s} s, ${r.subscribers} gRPC subscriber(s)${r.batch_max > 0 ? ` (batches of up to ${r.batch_max})` : ""}, ${r.blocks} blocks`,
    `  committed ${r.committed_events} events; delivered ${r.delivered_events} (${r.committed_events * r.subscribers} expected)`,
    `  COMMITTED→subscriber ms   p50 ${r.p50_feed_ms}   p95 ${r.p95_feed_ms}   p99 ${r.p99_feed_ms}   max ${r.max_feed_ms}`,
    `  lag (heights behind, worst subscriber): first third ${r.lag_first_third_heights}, last third ${r.lag_last_third_heights}, max ${r.max_lag_heights}, slope ${r.max_lag_slope_heights_per_s}/s`,
    `  regfeed CPU ${r.regfeed_cpu_pct} % of a core, RSS ${r.regfeed_rss_mb} MB`,
    ...(r.errors.length > 0 ? [`  errors: ${r.errors.join("; ")}`] : []),
    `  machine: ${r.machine}`,
  ].join("\n");
}
