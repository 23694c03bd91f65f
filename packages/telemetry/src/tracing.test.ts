// Tracing in one process: off until an exporter is configured; then spans go to the JSON-lines
// file, block spans are children of the first tx and linked to all, and logs carry the ids.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { context, trace } from "@opentelemetry/api";
import {
  ATTR_TX_ID,
  carrierOf,
  contextFromCarrier,
  createLogger,
  serviceNameOf,
  startBlockSpan,
  startTracing,
  stopTracing,
  tagActiveSpanTx,
  tracer,
  tracingConfigured,
  tracingEnabled,
  TX_IDS_ON_SPAN_MAX,
  type SpanLine,
} from "./index.js";

const dir = mkdtempSync(join(tmpdir(), "tally-trace-"));
const file = join(dir, "spans.jsonl");
const spans = (): SpanLine[] =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as SpanLine);

function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split("\n")) if (l !== "") lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, stream };
}

test("configuration: off without an exporter; the service name from OTEL_SERVICE_NAME or the entry path", async () => {
  assert.equal(tracingConfigured({}), false);
  assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: "" }), false);
  assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }), true);
  assert.equal(tracingConfigured({ TALLY_TRACE_FILE: "/tmp/x" }), true);
  assert.equal(serviceNameOf("/app/services/gateway/dist/main.js", {}), "gateway");
  assert.equal(serviceNameOf("/app/services/gateway/dist/main.js", { OTEL_SERVICE_NAME: "gw-1" }), "gw-1");
  assert.equal(serviceNameOf(undefined, {}), "tally");
  assert.equal(await startTracing("test", {}), false);
  assert.equal(tracingEnabled(), false);
});

test("with tracing off, logs carry no trace fields and tagging is a no-op", () => {
  const { lines, stream } = capture();
  const log = createLogger("test", {}, stream);
  tagActiveSpanTx("ab".repeat(32));
  log.info({ txId: "x" }, "hello");
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.trace_id, undefined);
  assert.equal(lines[0]!.txId, "x");
});

test("with a trace file: spans are written, block spans parent on the first tx and link to all, logs carry ids", async () => {
  assert.equal(await startTracing("unit", { TALLY_TRACE_FILE: file }), true);
  assert.equal(tracingEnabled(), true);
  const { lines, stream } = capture();
  const log = createLogger("unit", {}, stream);

  // Two transactions, each in its own trace (as two gateway calls), carried as W3C headers.
  const carriers = ["aa", "bb"].map((id) =>
    tracer().startActiveSpan(`submit-${id}`, (span) => {
      tagActiveSpanTx(id.repeat(32));
      log.info("admitted");
      const c = carrierOf(context.active());
      span.end();
      return c;
    }),
  );
  assert.match(carriers[0]!.traceparent ?? "", /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  const ctxs = carriers.map(contextFromCarrier);
  const block = startBlockSpan("tally.block.cut", [undefined, ...ctxs], { "tally.height": 3 }, ["aa".repeat(32), "bb".repeat(32)]);
  block.end();
  // A block of one tx names it as tally.tx_id too; a huge block's id list is capped.
  startBlockSpan("single", ctxs.slice(0, 1), {}, ["aa".repeat(32)]).end();
  const many = Array.from({ length: TX_IDS_ON_SPAN_MAX + 5 }, (_, i) => i.toString(16).padStart(64, "0"));
  startBlockSpan("huge", [], {}, many).end();
  await stopTracing();

  const all = spans();
  const submit = all.filter((s) => s.name.startsWith("submit-"));
  assert.equal(submit.length, 2);
  assert.notEqual(submit[0]!.traceId, submit[1]!.traceId);
  assert.equal(submit[0]!.attributes[ATTR_TX_ID], "aa".repeat(32));
  assert.equal(submit[0]!.service, "unit");
  const cut = all.find((s) => s.name === "tally.block.cut")!;
  assert.equal(cut.traceId, submit[0]!.traceId);
  assert.equal(cut.parentSpanId, submit[0]!.spanId);
  assert.deepEqual(
    cut.links.map((l) => l.spanId),
    submit.map((s) => s.spanId),
  );
  assert.deepEqual(cut.attributes["tally.tx_ids"], ["aa".repeat(32), "bb".repeat(32)]);
  assert.equal(cut.attributes["tally.height"], 3);
  assert.equal(all.find((s) => s.name === "single")!.attributes[ATTR_TX_ID], "aa".repeat(32));
  const huge = all.find((s) => s.name === "huge")!;
  assert.equal((huge.attributes["tally.tx_ids"] as string[]).length, TX_IDS_ON_SPAN_MAX);
  assert.equal(huge.parentSpanId, undefined);

  // The log lines written inside the submit spans carry their trace id, span id and tx id.
  assert.equal(lines.length, 2);
  assert.equal(lines[0]!.trace_id, submit[0]!.traceId);
  assert.equal(lines[0]!.span_id, submit[0]!.spanId);
  assert.equal(lines[0]!.txId, "aa".repeat(32));
  assert.equal(lines[1]!.trace_id, submit[1]!.traceId);
  // Outside any span: no trace fields.
  log.info("idle");
  assert.equal(lines[2]!.trace_id, undefined);
  assert.equal(trace.getActiveSpan(), undefined);
  rmSync(dir, { recursive: true, force: true });
});
