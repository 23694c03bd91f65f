import { trace, type Context } from "@opentelemetry/api";
import type { MsgHdrs } from "@nats-io/transport-node";
import { contextFromHeaders } from "@tally/bus";
import { toHex } from "@tally/ledger";
import type { Event } from "@tally/proto/types";
import { ATTR_HEIGHT, ATTR_TX_ID, tracer } from "@tally/telemetry";

/** Heights whose apply context is kept, and deliveries waiting for theirs. */
const HEIGHTS_MAX = 4096;
const WAITING_MAX = 4096;

/**
 * While tracing: a "tally.regfeed.deliver" span for every event a StreamEvents subscriber is sent,
 * a child of the span under which this node's executor applied the event's block. That context
 * comes with the executor's receipt on RECEIPTS (msg id "node:height"). A receipt may arrive just
 * after the events of its block were delivered: those deliveries wait for it (bounded), and are
 * recorded with the time they happened.
 */
export class DeliveryTrace {
  private readonly byHeight = new Map<bigint, Context>();
  private readonly waiting = new Map<bigint, { event: Event; atMs: number }[]>();
  private waitingCount = 0;

  constructor(private readonly nodeId: string) {}

  /** A RECEIPTS message's headers: keeps the trace context of this node's receipts. */
  noteReceipt(headers: MsgHdrs | undefined): void {
    const id = headers?.get("Nats-Msg-Id") ?? "";
    const colon = id.lastIndexOf(":");
    if (colon < 0 || id.slice(0, colon) !== this.nodeId || !/^\d+$/.test(id.slice(colon + 1))) return;
    const ctx = contextFromHeaders(headers);
    if (trace.getSpanContext(ctx) === undefined) return;
    const height = BigInt(id.slice(colon + 1));
    this.byHeight.set(height, ctx);
    if (this.byHeight.size > HEIGHTS_MAX) this.byHeight.delete(this.byHeight.keys().next().value!);
    const waiting = this.waiting.get(height);
    if (waiting === undefined) return;
    this.waiting.delete(height);
    this.waitingCount -= waiting.length;
    for (const w of waiting) this.span(w.event, ctx, w.atMs);
  }

  /** Events just written to a subscriber. */
  delivered(events: readonly Event[]): void {
    const atMs = Date.now();
    for (const e of events) {
      const height = e.cursor?.height ?? 0n;
      const ctx = this.byHeight.get(height);
      if (ctx !== undefined) {
        this.span(e, ctx, atMs);
        continue;
      }
      if (this.waitingCount >= WAITING_MAX) {
        // The receipt is late or lost: the oldest waiting deliveries are recorded without a parent.
        const [h, list] = this.waiting.entries().next().value!;
        this.waiting.delete(h);
        this.waitingCount -= list.length;
        for (const w of list) this.span(w.event, undefined, w.atMs);
      }
      const list = this.waiting.get(height) ?? [];
      if (list.length === 0) this.waiting.set(height, list);
      list.push({ event: e, atMs });
      this.waitingCount++;
    }
  }

  private span(e: Event, parent: Context | undefined, atMs: number): void {
    const attributes = {
      [ATTR_TX_ID]: toHex(e.txId),
      [ATTR_HEIGHT]: Number(e.cursor?.height ?? 0n),
      "tally.contract": e.contract,
      "tally.event_type": e.type,
    };
    const span =
      parent === undefined
        ? tracer().startSpan("tally.regfeed.deliver", { attributes, startTime: atMs })
        : tracer().startSpan("tally.regfeed.deliver", { attributes, startTime: atMs }, parent);
    span.end(atMs);
  }
}
