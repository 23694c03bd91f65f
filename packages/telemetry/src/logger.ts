import { trace } from "@opentelemetry/api";
import { pino, type DestinationStream, type Logger } from "pino";
import { tracingEnabled } from "./tracing.js";

export type { Logger };

/**
 * A JSON logger for a service, level from LOG_LEVEL (default info). Used from main.ts only.
 * While tracing, every line written inside a span carries its trace_id and span_id, and the
 * span's tally.tx_id as txId when it has one; call sites log txId themselves otherwise.
 */
export function createLogger(service: string, bindings: Record<string, string> = {}, destination?: DestinationStream): Logger {
  const options = {
    name: service,
    level: process.env.LOG_LEVEL ?? "info",
    base: { service, ...bindings },
    mixin: traceFields,
    // The default strategy writes into the mixin's object; NONE is shared and frozen.
    mixinMergeStrategy: (merge: object, mixin: object) => (mixin === NONE ? merge : Object.assign(mixin, merge)),
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

const NONE = Object.freeze({});

/** The active span's ids for a log line (nothing, and no allocation, when tracing is off). */
export function traceFields(): Record<string, string> {
  if (!tracingEnabled()) return NONE;
  const span = trace.getActiveSpan();
  if (span === undefined) return NONE;
  const sc = span.spanContext();
  const txId = (span as { attributes?: Record<string, unknown> }).attributes?.["tally.tx_id"];
  return typeof txId === "string" ? { trace_id: sc.traceId, span_id: sc.spanId, txId } : { trace_id: sc.traceId, span_id: sc.spanId };
}
