import { context, propagation, trace, type Attributes, type Context, type Link, type Span } from "@opentelemetry/api";

// Set once by startTracing (register.ts or startTelemetry) when an exporter is configured. Kept on
// globalThis so that a copy of this module loaded by another URL sees the same switch.
const ENABLED = Symbol.for("tally.telemetry.tracing");
type Flagged = { [ENABLED]?: boolean };

/**
 * True when spans are recorded and exported. Instrumented code checks it first and does nothing
 * more when it is false: no header parsing, no span objects, no attribute arrays per transaction.
 */
export function tracingEnabled(): boolean {
  return (globalThis as Flagged)[ENABLED] === true;
}

/** @internal Switched on by startTracing once a tracer provider is registered. */
export function setTracingEnabled(on: boolean): void {
  (globalThis as Flagged)[ENABLED] = on;
}

/** Span attribute names used by every service. */
export const ATTR_TX_ID = "tally.tx_id";
export const ATTR_TX_IDS = "tally.tx_ids";
export const ATTR_HEIGHT = "tally.height";
export const ATTR_TX_COUNT = "tally.tx_count";
/** The NATS header carrying a transaction's id (set by the gateway on TXS). */
export const TX_ID_HEADER = "tally-tx-id";
/** Most tx ids put on one block-level span (a block may hold thousands). */
export const TX_IDS_ON_SPAN_MAX = 1000;

/** The tracer all Tally spans come from. */
export function tracer(): ReturnType<typeof trace.getTracer> {
  return trace.getTracer("tally");
}

/** The context carried in a W3C trace-context carrier (e.g. message headers copied to an object). */
export function contextFromCarrier(carrier: Record<string, string>): Context {
  return propagation.extract(context.active(), carrier);
}

/** The W3C trace-context headers (traceparent, tracestate) for a context. */
export function carrierOf(ctx: Context): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/**
 * Starts a span over a block: a child of the first of the given contexts that carries a span
 * (so the first transaction's trace goes on through the block), linked to every one of them (so
 * each transaction's trace reaches the block). Only call it when tracingEnabled().
 */
export function startBlockSpan(
  name: string,
  parents: readonly (Context | undefined)[],
  attributes: Attributes,
  txIds?: readonly string[],
  startTime?: number,
): Span {
  const links: Link[] = [];
  let parent: Context | undefined;
  for (const c of parents) {
    const sc = c === undefined ? undefined : trace.getSpanContext(c);
    if (sc === undefined || c === undefined) continue;
    parent ??= c;
    links.push({ context: sc });
  }
  const attrs: Attributes = { ...attributes };
  if (txIds !== undefined && txIds.length > 0) {
    attrs[ATTR_TX_IDS] = txIds.length > TX_IDS_ON_SPAN_MAX ? txIds.slice(0, TX_IDS_ON_SPAN_MAX) : [...txIds];
    if (txIds.length === 1) attrs[ATTR_TX_ID] = txIds[0];
  }
  return tracer().startSpan(
    name,
    { links, attributes: attrs, ...(startTime === undefined ? {} : { startTime }) },
    parent ?? context.active(),
  );
}

/** Sets the tx id on the active span (the gRPC server span, in a handler), when tracing. */
export function tagActiveSpanTx(txIdHex: string): void {
  if (!tracingEnabled()) return;
  trace.getActiveSpan()?.setAttribute(ATTR_TX_ID, txIdHex);
}

/** The active span's trace id, or undefined (no span, or tracing off). */
export function activeTraceId(): string | undefined {
  if (!tracingEnabled()) return undefined;
  const sc = trace.getActiveSpan()?.spanContext();
  return sc === undefined ? undefined : sc.traceId;
}
