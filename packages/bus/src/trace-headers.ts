import { context, propagation, trace, type Span } from "@opentelemetry/api";
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";

/** NATS headers carrying the active OpenTelemetry context (W3C traceparent), plus any extras. */
export function headersWithTraceContext(extra: Record<string, string> = {}): MsgHdrs {
  const h = natsHeaders();
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  for (const [k, v] of Object.entries({ ...carrier, ...extra })) h.set(k, v);
  return h;
}

/** The OpenTelemetry context carried in a message's headers. */
export function contextFromHeaders(h: MsgHdrs | undefined): ReturnType<typeof context.active> {
  if (h === undefined) return context.active();
  const carrier: Record<string, string> = {};
  for (const k of h.keys()) carrier[k.toLowerCase()] = h.get(k);
  return propagation.extract(context.active(), carrier);
}

/** NATS headers carrying the given span's context (it becomes the parent on the consuming side), plus any extras. */
export function headersWithSpan(span: Span, extra: Record<string, string> = {}): MsgHdrs {
  return context.with(trace.setSpan(context.active(), span), () => headersWithTraceContext(extra));
}
