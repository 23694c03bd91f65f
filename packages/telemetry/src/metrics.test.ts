import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { Env } from "@tally/config";
import {
  countOutcomes,
  gatewayAdmissions,
  gaugeFrom,
  nodeHeight,
  observeFinality,
  observeSequencer,
  registry,
  scrape,
  startMetricsServer,
  startTelemetry,
  type SequencerView,
} from "./index.js";

const NAMES = [
  "tally_tx_accepted_total",
  "tally_tx_rejected_total",
  "tally_tx_committed_total",
  "tally_block_cut_seconds",
  "tally_block_size_txs",
  "tally_consumer_lag_messages",
  "tally_sequencer_is_leader",
  "tally_sequencer_retired",
  "tally_sequencer_failovers_total",
  "tally_sequencer_epoch",
  "tally_finality_lag_blocks",
  "tally_state_root_divergence",
  "tally_grpc_server_duration_seconds",
  "tally_halted",
  "tally_node_height",
];

const value = async (name: string, labels: Record<string, string> = {}): Promise<number | undefined> => {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
  return v?.value;
};

test("the registry holds exactly the documented tally_* metrics", async () => {
  const names = (await registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => n.startsWith("tally_"));
  assert.deepEqual(names.sort(), [...NAMES].sort());
});

test("/metrics serves the text format; other paths and methods are 404", async () => {
  const server = await startMetricsServer("test", "127.0.0.1", 0);
  try {
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const n of NAMES) assert.match(text, new RegExp(`^# TYPE ${n} `, "m"));
    assert.match(text, /^process_cpu_user_seconds_total\{service="test"\} /m);
    for (const [path, method] of [
      ["/", "GET"],
      ["/metricsx", "GET"],
      ["/metrics", "POST"],
    ] as const) {
      const r = await fetch(`http://127.0.0.1:${server.port}${path}`, { method });
      assert.equal(r.status, 404, `${method} ${path}`);
      await r.arrayBuffer();
    }
  } finally {
    await server.close();
  }
});

test("a reading that fails keeps the gauge's last value and the scrape still answers", async () => {
  let fail = false;
  gaugeFrom(nodeHeight, { service: "flaky" }, () => {
    if (fail) throw new Error("NATS away");
    return 42n;
  });
  await scrape();
  assert.equal(await value("tally_node_height", { service: "flaky" }), 42);
  fail = true;
  const text = await scrape();
  assert.match(text, /tally_node_height\{service="flaky"\} 42/);
});

test("the sequencer's gauges follow its status; failovers only go up; onCut feeds both histograms", async () => {
  let s: SequencerView = { master: false, epoch: 0n, height: 0n, lastTxsSeq: 0n, failovers: 0 };
  let last = 10;
  const onCut = observeSequencer(
    () => s,
    "T_TXS",
    () => Promise.resolve(last),
  );
  await scrape();
  assert.equal(await value("tally_sequencer_is_leader"), 0);
  assert.equal(await value("tally_consumer_lag_messages", { service: "sequencer", stream: "T_TXS" }), 0);
  s = { master: true, epoch: 7n, height: 12n, lastTxsSeq: 4n, failovers: 2 };
  await scrape();
  assert.equal(await value("tally_sequencer_is_leader"), 1);
  assert.equal(await value("tally_sequencer_epoch"), 7);
  assert.equal(await value("tally_sequencer_failovers_total"), 2);
  assert.equal(await value("tally_node_height", { service: "sequencer" }), 12);
  assert.equal(await value("tally_consumer_lag_messages", { service: "sequencer", stream: "T_TXS" }), 6);
  assert.equal(await value("tally_sequencer_retired"), 0);
  s = { ...s, master: false, retired: true };
  await scrape();
  assert.equal(await value("tally_sequencer_retired"), 1);
  s = { ...s, master: true, retired: false };
  // A restarted process counts from 0 again: the counter does not go down, and counts anew.
  s = { ...s, failovers: 1 };
  await scrape();
  assert.equal(await value("tally_sequencer_failovers_total"), 2);
  last = 4;
  await scrape();
  assert.equal(await value("tally_consumer_lag_messages", { service: "sequencer", stream: "T_TXS" }), 0);
  onCut(3, 0.004);
  onCut(1000, 0.2);
  const sizes = await registry.getSingleMetricAsString("tally_block_size_txs");
  assert.match(sizes, /tally_block_size_txs_bucket\{le="5"\} 1\n/);
  assert.match(sizes, /tally_block_size_txs_bucket\{le="1000"\} 2\n/);
  assert.match(sizes, /tally_block_size_txs_sum 1003\n/);
  const text = await registry.getSingleMetricAsString("tally_block_cut_seconds");
  assert.match(text, /tally_block_cut_seconds_count 2/);
  assert.match(text, /tally_block_cut_seconds_sum 0\.204/);
});

test("outcomes: admissions by institution and reason, executor results by contract and reason", async () => {
  gatewayAdmissions.accepted("bank-a");
  gatewayAdmissions.accepted("bank-a");
  gatewayAdmissions.rejected("BAD_SIGNATURE");
  countOutcomes([
    { committed: true, contract: "cash", reasonCode: "" },
    { committed: false, contract: "cash", reasonCode: "INSUFFICIENT_FUNDS" },
    { committed: true, contract: "bond", reasonCode: "" },
  ]);
  assert.equal(await value("tally_tx_accepted_total", { institution: "bank-a" }), 2);
  assert.equal(await value("tally_tx_rejected_total", { reason: "BAD_SIGNATURE" }), 1);
  assert.equal(await value("tally_tx_rejected_total", { reason: "INSUFFICIENT_FUNDS" }), 1);
  assert.equal(await value("tally_tx_committed_total", { contract: "cash" }), 1);
  assert.equal(await value("tally_tx_committed_total", { contract: "bond" }), 1);
});

test("finality: lag is applied minus final height (never negative); divergence is 0/1", async () => {
  let applied: bigint | undefined = 3n;
  let status = { finalHeight: 5n, diverged: false };
  observeFinality(
    () => applied,
    () => Promise.resolve(status),
  );
  applied = 9n;
  await scrape();
  assert.equal(await value("tally_finality_lag_blocks"), 4);
  assert.equal(await value("tally_state_root_divergence"), 0);
  await new Promise((r) => setTimeout(r, 150));
  status = { finalHeight: 12n, diverged: true };
  await scrape();
  assert.equal(await value("tally_finality_lag_blocks"), 0);
  assert.equal(await value("tally_state_root_divergence"), 1);
});

test("startTelemetry: no METRICS_PORT, no endpoint; a taken port fails naming METRICS_PORT", async () => {
  const env = (vars: Record<string, string>) => ({
    optional: (n: string) => vars[n],
    str: (n: string, fallback?: string) => vars[n] ?? fallback ?? "",
    int: (n: string, fallback: number) => (vars[n] === undefined ? fallback : Number(vars[n])),
  });
  const none = await startTelemetry("test", env({}));
  assert.equal(none.metricsPort, undefined);
  assert.equal(none.tracing, false);
  await none.close();
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
  const port = (blocker.address() as { port: number }).port;
  try {
    await assert.rejects(startTelemetry("test", env({ METRICS_PORT: String(port) })), /METRICS_PORT .*EADDRINUSE/);
  } finally {
    blocker.close();
  }
});

test("startTelemetry with the services' Env: a bad METRICS_PORT or METRICS_HOST fails naming the variable", async () => {
  await assert.rejects(startTelemetry("test", new Env({ METRICS_PORT: "nine" })), /METRICS_PORT must be an integer/);
  await assert.rejects(startTelemetry("test", new Env({ METRICS_PORT: "70000" })), /METRICS_PORT must be between 0 and 65535/);
  await assert.rejects(
    startTelemetry("test", new Env({ METRICS_PORT: "0", METRICS_HOST: "no such host." })),
    /METRICS_HOST no such host\./,
  );
  const ok = await startTelemetry("test", new Env({ METRICS_PORT: "0" }));
  assert.ok(ok.metricsPort !== undefined && ok.metricsPort > 0);
  const res = await fetch(`http://127.0.0.1:${ok.metricsPort}/metrics`);
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  await ok.close();
});
