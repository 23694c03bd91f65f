import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { context, trace } from "@opentelemetry/api";
import { headers as natsHeaders } from "@nats-io/transport-node";
import type { Event } from "@tally/proto/types";
import { carrierOf, startTracing, stopTracing, tracer, type SpanLine } from "@tally/telemetry";
import { DeliveryTrace } from "./delivery-trace.js";

const event = (height: bigint, txByte: number): Event => ({
  cursor: { height, txIndex: 0, eventIndex: 0 },
  txId: new Uint8Array(32).fill(txByte),
  contract: "cash",
  type: "CashIssued",
  assetId: "",
  parties: [],
  data: new Uint8Array(),
  blockTimeMs: 0n,
  signer: "clearing",
});

test("deliveries become children of this node's apply span, even when the receipt comes after them", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tally-delivery-"));
  const file = join(dir, "spans.jsonl");
  try {
    assert.equal(await startTracing("regfeed", { TALLY_TRACE_FILE: file }), true);
    // The executor's apply span of a height, as its receipt's headers carry it.
    const applied = (h: number) => {
      const span = tracer().startSpan(`apply-${h}`);
      const carrier = carrierOf(trace.setSpan(context.active(), span));
      span.end();
      return { span, carrier };
    };
    const receipt = (msgId: string, carrier: Record<string, string>) => {
      const h = natsHeaders();
      h.set("Nats-Msg-Id", msgId);
      for (const [k, v] of Object.entries(carrier)) h.set(k, v);
      return h;
    };
    const t = new DeliveryTrace("node-reg");
    const a5 = applied(5);
    const a6 = applied(6);
    // Height 5's receipt first, then its event; height 6's event before its receipt.
    t.noteReceipt(receipt("node-reg:5", a5.carrier));
    t.delivered([event(5n, 0xaa)]);
    t.delivered([event(6n, 0xbb)]);
    // Garbage and other nodes' receipts are ignored.
    t.noteReceipt(undefined);
    t.noteReceipt(receipt("node-other:6", a6.carrier));
    t.noteReceipt(receipt("node-reg:x", a6.carrier));
    t.noteReceipt(receipt("node-reg:6", {}));
    t.noteReceipt(receipt("nonsense", a6.carrier));
    const before = readFileSync(file, "utf8");
    assert.equal(before.split("\n").filter((l) => l.includes("tally.regfeed.deliver")).length, 1);
    t.noteReceipt(receipt("node-reg:6", a6.carrier));
    await stopTracing();
    const spans = readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as SpanLine);
    const deliver = spans.filter((s) => s.name === "tally.regfeed.deliver");
    assert.equal(deliver.length, 2);
    const of = (tx: string) => deliver.find((s) => s.attributes["tally.tx_id"] === tx)!;
    assert.equal(of("aa".repeat(32)).parentSpanId, a5.span.spanContext().spanId);
    assert.equal(of("aa".repeat(32)).traceId, a5.span.spanContext().traceId);
    assert.equal(of("bb".repeat(32)).parentSpanId, a6.span.spanContext().spanId);
    assert.equal(of("bb".repeat(32)).attributes["tally.height"], 6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
