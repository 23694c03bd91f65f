import { createServer, type Server } from "node:http";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * The Prometheus metrics of every Tally service, in one registry per process. Names are a
 * contract with deploy/prometheus (alert rules) and docs/observability.md: do not rename.
 * Counters are created here once; services feed them through small hooks wired in main.ts, and
 * gauges read what the services already keep (status snapshots) when Prometheus scrapes.
 */
export const registry = new Registry();

export const txAccepted = new Counter({
  name: "tally_tx_accepted_total",
  help: "Transactions the gateway accepted (JetStream acknowledged the publish), by signing institution.",
  labelNames: ["institution"] as const,
  registers: [registry],
});
export const txRejected = new Counter({
  name: "tally_tx_rejected_total",
  help: "Transactions refused at gateway admission or rejected by the executor, by reason code.",
  labelNames: ["reason"] as const,
  registers: [registry],
});
export const txCommitted = new Counter({
  name: "tally_tx_committed_total",
  help: "Transactions the executor committed, by contract.",
  labelNames: ["contract"] as const,
  registers: [registry],
});
export const blockCutSeconds = new Histogram({
  name: "tally_block_cut_seconds",
  help: "Sequencer: from taking the buffered transactions to BLOCKS acknowledging the sealed block.",
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});
export const blockSizeTxs = new Histogram({
  name: "tally_block_size_txs",
  help: "Transactions per block cut.",
  buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
  registers: [registry],
});
export const consumerLag = new Gauge({
  name: "tally_consumer_lag_messages",
  help: "Messages on the stream past the last one this service's JetStream consumer handled.",
  labelNames: ["service", "stream"] as const,
  registers: [registry],
});
export const sequencerIsLeader = new Gauge({
  name: "tally_sequencer_is_leader",
  help: "1 while this sequencer holds the master lease, else 0.",
  registers: [registry],
});
export const sequencerRetired = new Gauge({
  name: "tally_sequencer_retired",
  help: "1 while this sequencer is not in the sequencer set in force (it neither leads nor campaigns), else 0.",
  registers: [registry],
});
export const sequencerFailovers = new Counter({
  name: "tally_sequencer_failovers_total",
  help: "Terms in which this sequencer took over from an earlier master.",
  registers: [registry],
});
export const sequencerEpoch = new Gauge({
  name: "tally_sequencer_epoch",
  help: "The epoch of this sequencer's current or last term.",
  registers: [registry],
});
export const finalityLagBlocks = new Gauge({
  name: "tally_finality_lag_blocks",
  help: "Blocks this node applied that are not final yet (own applied height minus final height).",
  registers: [registry],
});
export const stateRootDivergence = new Gauge({
  name: "tally_state_root_divergence",
  help: "1 while this node has an open state-root divergence (its receipts disagree with a quorum), else 0.",
  registers: [registry],
});
export const grpcServerDuration = new Histogram({
  name: "tally_grpc_server_duration_seconds",
  help: "gRPC server calls, from the handler's start to its answer (streams: to their end), by method and status code.",
  labelNames: ["service", "method", "code"] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});
export const nodeHeight = new Gauge({
  name: "tally_node_height",
  help: "The chain height this service has reached (sequenced, stored, applied or served).",
  labelNames: ["service"] as const,
  registers: [registry],
});

let processMetrics = false;
let serviceName = "tally";

/** The service this process runs (set by startTelemetry); the service label of its metrics. */
export function metricsService(): string {
  return serviceName;
}

/** @internal Names the service whose metrics this process exports. */
export function setMetricsService(service: string): void {
  serviceName = service;
}

/** A value read at scrape time; undefined leaves the gauge as it was. */
export type Reading = () => number | bigint | undefined | Promise<number | bigint | undefined>;

// Run at each scrape; a bounded, fixed set registered once from main.ts.
const readings: (() => Promise<void>)[] = [];

/** Sets a gauge from a value read at each scrape (one that failed, e.g. NATS away, keeps the last value). */
export function gaugeFrom(gauge: Gauge<string>, labels: Record<string, string>, read: Reading): void {
  readings.push(async () => {
    const v = await read();
    if (v !== undefined) gauge.set(labels, Number(v));
  });
}

/** Keeps a counter equal to a running total the service keeps itself (e.g. the sequencer's failovers). */
export function counterFrom(counter: Counter<string>, read: () => number): void {
  let seen = 0;
  readings.push(() => {
    const n = read();
    if (n > seen) counter.inc(n - seen);
    seen = n;
    return Promise.resolve();
  });
}

/** The text exposition of every metric, after refreshing the read-at-scrape gauges. */
export async function scrape(): Promise<string> {
  await Promise.all(readings.map((r) => r().catch(() => undefined)));
  return registry.metrics();
}

/** A running /metrics endpoint. */
export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves GET /metrics (Prometheus text format) on host:port (port 0: any free one), with the
 * process's CPU, memory and event-loop metrics as well. Other paths answer 404.
 */
export async function startMetricsServer(service: string, host: string, port: number): Promise<MetricsServer> {
  serviceName = service;
  if (!processMetrics) {
    collectDefaultMetrics({ register: registry, labels: { service } });
    processMetrics = true;
  }
  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: GET /metrics\n");
      return;
    }
    scrape().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (e: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`${(e as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  return {
    port: typeof addr === "object" && addr !== null ? addr.port : port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
