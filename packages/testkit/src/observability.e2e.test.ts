// End to end: telemetry of a whole consortium as real processes (issue 9).
// - Every service serves Prometheus /metrics; the counters move after a transaction.
// - With TALLY_TRACE_FILE set, one trace id follows a transaction gateway → sequencer →
//   blockstore → executor → regulator feed (the services run under node --import of the
//   telemetry register, as `tally up` runs them, so the gateway's gRPC server span comes from
//   the grpc instrumentation).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, Metadata } from "@grpc/grpc-js";
import { RegFeedServiceClient } from "@tally/proto/regfeed";
import { TxOutcome, type Event } from "@tally/proto/types";
import { toHex } from "@tally/ledger";
import type { TallyClient } from "@tally/sdk";
import type { SpanLine } from "@tally/telemetry";
import type { ConsortiumPlan } from "./consortium.js";
import { startTestNetwork, type TestNetwork } from "./test-network.js";
import { waitFor } from "./wait.js";

const PLAN: ConsortiumPlan = {
  chainId: "tally-obs",
  institutions: [
    { id: "clearing", name: "Clearing House", roles: ["clearing"], node: "node-clearing" },
    { id: "bank-a", name: "Bank A", roles: ["bank"], node: "node-regulator" },
    { id: "regulator", name: "Regulator", roles: ["regulator"], node: "node-regulator" },
  ],
  nodes: [
    { id: "node-clearing", institution: "clearing" },
    { id: "node-regulator", institution: "regulator", regfeed: true },
  ],
  sequencers: [{ id: "seq-1", institution: "clearing" }],
};

/** One sample of the exposition text: name, labels, value. */
interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of a metric's samples whose labels include the given ones (0 when there are none). */
function sumOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

function has(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): boolean {
  return samples.some((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

describe("telemetry of a local consortium", () => {
  const traceDir = mkdtempSync(join(tmpdir(), "tally-obs-trace-"));
  const traceFile = join(traceDir, "spans.jsonl");
  let tn: TestNetwork;
  let net: TestNetwork["net"];
  let clearing: TallyClient;
  let bankA: TallyClient;

  const scrape = async (service: string): Promise<Sample[]> => {
    const addr = net.endpoints.metrics?.[service];
    assert.ok(addr !== undefined, `no metrics endpoint for ${service} in network.json`);
    const res = await fetch(`http://${addr}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
    return parseMetrics(await res.text());
  };

  before(async () => {
    tn = await startTestNetwork(PLAN, { prefix: "obs", env: { TALLY_TRACE_FILE: traceFile } });
    net = tn.net;
    clearing = tn.client("clearing");
    bankA = tn.client("bank-a");
  });

  after(async () => {
    await tn?.close();
    rmSync(traceDir, { recursive: true, force: true });
  });

  test("every service serves /metrics, listed in network.json; other paths are 404", async () => {
    const names = Object.keys(net.endpoints.metrics ?? {}).sort();
    assert.deepEqual(names, [
      "node-clearing/blockstore",
      "node-clearing/executor",
      "node-clearing/gateway",
      "node-regulator/blockstore",
      "node-regulator/executor",
      "node-regulator/gateway",
      "node-regulator/regfeed",
      "seq-1",
    ]);
    for (const n of names) {
      const s = await scrape(n);
      assert.ok(has(s, "process_cpu_user_seconds_total"), `${n}: process metrics`);
    }
    const res = await fetch(`http://${net.endpoints.metrics!["seq-1"]}/nope`);
    assert.equal(res.status, 404);
    await res.arrayBuffer();
  });

  test("the counters move after transactions: accepted, committed, rejected (admission and executor), blocks, heights", async () => {
    const gw = "node-clearing/gateway";
    const before = await scrape(gw);
    const acceptedBefore = sumOf(before, "tally_tx_accepted_total", { institution: "clearing" });
    const rejectedBefore = sumOf(before, "tally_tx_rejected_total");

    const tx = clearing.build("cash", "issue", { to: "bank-a", amount: "500" });
    const done = await clearing.submitAndWait(tx);
    assert.equal(done.result?.outcome, TxOutcome.TX_OUTCOME_COMMITTED);
    // Garbage is refused at admission, with a reason code.
    await assert.rejects(clearing.submit({ raw: new Uint8Array([1, 2, 3]), id: new Uint8Array(32) }));
    // A transfer over the balance is sequenced and rejected by the executor (INSUFFICIENT_FUNDS).
    const over = await bankA.submitAndWait(bankA.build("cash", "transfer", { to: "clearing", amount: "1000000" }));
    assert.equal(over.result?.outcome, TxOutcome.TX_OUTCOME_REJECTED);

    const after = await scrape(gw);
    assert.equal(sumOf(after, "tally_tx_accepted_total", { institution: "clearing" }), acceptedBefore + 1);
    assert.equal(sumOf(after, "tally_tx_rejected_total"), rejectedBefore + 1);
    assert.ok(sumOf(after, "tally_grpc_server_duration_seconds_count", { service: "gateway", code: "OK" }) >= 1);
    assert.ok(
      after.some(
        (s) =>
          s.name === "tally_grpc_server_duration_seconds_count" &&
          s.labels.method === "tally.v1.GatewayService/Submit" &&
          s.labels.code !== "OK",
      ),
      "the refused Submit is timed with its status code",
    );
    assert.ok(sumOf(after, "tally_node_height", { service: "gateway" }) >= Number(over.height));

    // Both nodes' executors apply both blocks.
    for (const node of ["node-clearing", "node-regulator"]) {
      const ex = await waitFor(`${node}'s executor to count the rejection`, async () => {
        const s = await scrape(`${node}/executor`);
        return sumOf(s, "tally_tx_rejected_total", { reason: "INSUFFICIENT_FUNDS" }) >= 1 ? s : undefined;
      });
      assert.ok(sumOf(ex, "tally_tx_committed_total", { contract: "cash" }) >= 1);
      assert.ok(sumOf(ex, "tally_node_height", { service: "executor" }) >= Number(over.height));
      assert.equal(sumOf(ex, "tally_state_root_divergence"), 0);
      assert.ok(has(ex, "tally_finality_lag_blocks"));
      assert.ok(has(ex, "tally_consumer_lag_messages", { service: "executor" }));
      const bs = await scrape(`${node}/blockstore`);
      assert.ok(sumOf(bs, "tally_node_height", { service: "blockstore" }) >= Number(over.height));
      assert.ok(has(bs, "tally_consumer_lag_messages", { service: "blockstore" }));
    }

    const seq = await scrape("seq-1");
    assert.equal(sumOf(seq, "tally_sequencer_is_leader"), 1);
    assert.ok(sumOf(seq, "tally_sequencer_epoch") >= 1);
    assert.ok(has(seq, "tally_sequencer_failovers_total"));
    assert.ok(sumOf(seq, "tally_block_size_txs_count") >= 2);
    assert.ok(sumOf(seq, "tally_block_size_txs_sum") >= 2);
    assert.ok(sumOf(seq, "tally_block_cut_seconds_count") >= 2);
    assert.equal(sumOf(seq, "tally_consumer_lag_messages", { service: "sequencer" }), 0);
    assert.ok(sumOf(seq, "tally_node_height", { service: "sequencer" }) >= Number(over.height));
  });

  test("one trace id follows a transaction gateway → sequencer → blockstore → executor → regulator feed", async () => {
    const tx = clearing.build("cash", "issue", { to: "bank-a", amount: "7" });
    const txId = toHex(tx.id);
    await clearing.submitAndWait(tx);

    // The regulator's feed delivers its event.
    const feed = new RegFeedServiceClient(net.endpoints.regfeed, credentials.createInsecure());
    await new Promise<void>((resolve, reject) => {
      const call = feed.streamEvents(
        {
          filter: { contracts: ["cash"], types: [], parties: [], assetIds: [], minAmount: "" },
          after: undefined,
          finalOnly: false,
          batchMax: 0,
        },
        new Metadata(),
      );
      const t = setTimeout(() => (call.cancel(), reject(new Error("the event never reached the feed"))), 15_000);
      call.on("data", (m: { event?: Event }) => {
        if (m.event !== undefined && toHex(m.event.txId) === txId) {
          clearTimeout(t);
          call.cancel();
          resolve();
        }
      });
      call.on("error", (e: { code?: number }) => (e.code === 1 ? undefined : reject(e as Error)));
    });
    feed.close();

    const spans = (): SpanLine[] =>
      existsSync(traceFile)
        ? readFileSync(traceFile, "utf8")
            .split("\n")
            .filter((l) => l !== "")
            .map((l) => JSON.parse(l) as SpanLine)
        : [];
    const carries = (s: SpanLine): boolean =>
      s.attributes["tally.tx_id"] === txId ||
      (Array.isArray(s.attributes["tally.tx_ids"]) && (s.attributes["tally.tx_ids"] as string[]).includes(txId));

    // The gateway's gRPC server span (from the grpc instrumentation: kind SERVER) names the tx.
    const server = await waitFor("the gateway's server span", () =>
      spans().find((s) => s.service === "gateway" && s.kind === 1 && s.attributes["tally.tx_id"] === txId),
    );
    assert.match(server.name, /GatewayService\/Submit/);
    const traceId = server.traceId;
    const wanted = [
      "gateway:tally.txs.publish",
      "sequencer:tally.block.cut",
      "blockstore:tally.block.store",
      "executor:tally.block.apply",
      "regfeed:tally.regfeed.deliver",
    ];
    const found = await waitFor(
      "spans of every service in the transaction's trace",
      () => {
        const inTrace = spans().filter((s) => s.traceId === traceId && carries(s));
        const have = new Set(inTrace.map((s) => `${s.service}:${s.name}`));
        return wanted.every((w) => have.has(w)) ? inTrace : undefined;
      },
      20_000,
    );
    // The block cut is linked to the tx's context; each later span is a child of an earlier one.
    const cut = found.find((s) => s.name === "tally.block.cut")!;
    const publish = found.find((s) => s.name === "tally.txs.publish")!;
    assert.equal(publish.parentSpanId, server.spanId);
    assert.ok(cut.links.some((l) => l.traceId === traceId && l.spanId === publish.spanId));
    const ids = new Set(
      spans()
        .filter((s) => s.traceId === traceId)
        .map((s) => s.spanId),
    );
    for (const s of found)
      if (s.spanId !== server.spanId)
        assert.ok(s.parentSpanId !== undefined && ids.has(s.parentSpanId), `${s.service}:${s.name} has a parent in the trace`);
    // Both nodes stored and applied the block within the one trace.
    assert.equal(found.filter((s) => s.name === "tally.block.apply").length, 2);
  });
});
