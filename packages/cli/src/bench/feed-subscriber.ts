// The regulator-feed side of a benchmark, in its own process: N gRPC StreamEvents subscribers on
// the regulator node's regfeed, and a LISTEN on that node's height channel. The executor's notice
// arrives when its commit does, so "COMMITTED → event at the subscriber" is timed on this one
// clock: an event's arrival minus the arrival of the first notice covering its height. Every
// second it samples each subscriber's lag behind the committed height, to show whether it grows.
import { credentials, Metadata } from "@grpc/grpc-js";
import { listenHeights } from "@tally/db";
import { RegFeedServiceClient, type StreamEventsResponse } from "@tally/proto/regfeed";
import { percentilesOf, type Percentiles } from "./histogram.js";

/** What the parent tells the subscriber process. */
export interface FeedConfig {
  readonly regfeed: string;
  readonly databaseUrl: string;
  readonly subscribers: number;
  /** Start after this height (the committed height before the load). */
  readonly afterHeight: string;
  readonly sampleMs: number;
  /** Events per response (StreamEvents batch_max); 0 for one per response. */
  readonly batchMax: number;
}

/** One subscriber's lag over the run. */
export interface SubscriberLag {
  /** Heights behind the committed height, one sample per sampleMs. */
  readonly samples: number[];
  /** Least-squares slope of the samples, heights per second: above 0 means falling behind. */
  readonly slopeHeightsPerS: number;
  readonly meanFirstThird: number;
  readonly meanLastThird: number;
  readonly maxLag: number;
  /** Events received while measuring. */
  readonly events: number;
}

/** What the subscriber process reports. */
export interface FeedReport {
  /** CPU seconds this measuring process used: it shares the machine with what it measures. */
  readonly subscriberCpuS: number;
  readonly latency: Percentiles;
  readonly subscribers: SubscriberLag[];
  readonly errors: string[];
}

const now = (): number => performance.timeOrigin + performance.now();

function slope(ys: readonly number[], dtS: number): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = ((n - 1) * dtS) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, i) => {
    num += (i * dtS - mx) * (y - my);
    den += (i * dtS - mx) ** 2;
  });
  return den === 0 ? 0 : num / den;
}

const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.BENCH_FEED_CONFIG ?? "{}") as FeedConfig;
  const start = BigInt(cfg.afterHeight);
  // Nothing is recorded until the parent says "measure": connection set-up and JIT warm-up of the
  // streams are not the steady state the figures describe.
  let recording = false;
  /** Events above this height are counted as delivered (the committed height when measuring began). */
  let countAbove = start;
  // Notices: height → first arrival. Heights a notice covers: all since the previous notice.
  let committed = start;
  const commitAt = new Map<bigint, number>();
  const waiting = new Map<bigint, number[]>();
  const latencies: number[] = [];
  const listener = await listenHeights(cfg.databaseUrl, (n) => {
    if (n.source !== "executor" || n.height <= committed) return;
    const t = now();
    for (let h = committed + 1n; h <= n.height; h++) {
      commitAt.set(h, t);
      // Events that beat our own notice (the regfeed heard first): their latency is at most this.
      if (recording) for (const arrived of waiting.get(h) ?? []) latencies.push(Math.max(0, arrived - t));
      waiting.delete(h);
    }
    committed = n.height;
  });
  // One connection per subscriber, as separate regulators' clients would have: subscribers sharing
  // one HTTP/2 connection would also share its flow-control window.
  const clients = Array.from(
    { length: cfg.subscribers },
    () =>
      new RegFeedServiceClient(cfg.regfeed, credentials.createInsecure(), {
        "grpc.max_receive_message_length": 4 << 20,
        "grpc.use_local_subchannel_pool": 1,
      }),
  );
  const md = new Metadata();
  md.set("tally-caller", "bench");
  const lastHeight: bigint[] = [];
  const counts: number[] = [];
  const errors: string[] = [];
  const calls = Array.from({ length: cfg.subscribers }, (_, i) => {
    lastHeight.push(start);
    counts.push(0);
    const call = clients[i]!.streamEvents(
      {
        filter: undefined,
        after: { height: start, txIndex: 4294967295, eventIndex: 4294967295 },
        finalOnly: false,
        batchMax: cfg.batchMax,
      },
      md,
    );
    call.on("data", (m: StreamEventsResponse) => {
      const t = now();
      for (const e of m.event === undefined ? m.events : [m.event]) {
        const h = e.cursor?.height;
        if (h === undefined) continue;
        const c = commitAt.get(h);
        if (c !== undefined) {
          if (recording) latencies.push(t - c);
        } else waiting.set(h, [...(waiting.get(h) ?? []), t]);
        lastHeight[i] = h;
        if (recording && h > countAbove) counts[i]!++;
      }
    });
    call.on("error", (e: { code?: number; details?: string }) => {
      if (e.code !== 1) errors.push(`subscriber ${i}: ${e.details ?? "failed"}`);
    });
    return call;
  });
  const samples: number[][] = calls.map(() => []);
  let sampler: NodeJS.Timeout | undefined;
  const stopped = new Promise<void>((resolve) =>
    process.on("message", (m: { type: string; afterHeight?: string }) => {
      if (m.type === "measure") {
        recording = true;
        countAbove = m.afterHeight === undefined ? committed : BigInt(m.afterHeight);
        sampler = setInterval(() => lastHeight.forEach((h, i) => samples[i]!.push(Number(committed - h))), cfg.sampleMs);
      } else if (m.type === "stop") resolve();
    }),
  );
  process.send?.({ type: "ready" });
  await stopped;
  clearInterval(sampler);
  for (const c of calls) c.cancel();
  for (const c of clients) c.close();
  await listener.close();
  const cpu = process.cpuUsage();
  const report: FeedReport = {
    subscriberCpuS: (cpu.user + cpu.system) / 1e6,
    latency: percentilesOf(latencies),
    subscribers: samples.map((s, i) => {
      const third = Math.max(1, Math.floor(s.length / 3));
      return {
        samples: s,
        slopeHeightsPerS: slope(s, cfg.sampleMs / 1000),
        meanFirstThird: mean(s.slice(0, third)),
        meanLastThird: mean(s.slice(-third)),
        maxLag: Math.max(0, ...s),
        events: counts[i]!,
      };
    }),
    errors,
  };
  await new Promise<void>((resolve, reject) =>
    process.send?.({ type: "report", report }, undefined, {}, (e) => (e ? reject(e) : resolve())),
  );
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
