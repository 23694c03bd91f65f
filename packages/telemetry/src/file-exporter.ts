import { appendFileSync } from "node:fs";
import type { ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";

/** One finished span as a line of the trace file. */
export interface SpanLine {
  readonly service: string;
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly kind: number;
  readonly startMs: number;
  readonly durationMs: number;
  readonly attributes: Record<string, unknown>;
  readonly links: readonly { traceId: string; spanId: string }[];
  readonly status: number;
}

/**
 * Appends finished spans to a file as JSON lines (TALLY_TRACE_FILE): for tests and for looking at
 * a trace with no collector. Several processes may append to one file; each line is written whole.
 */
export class JsonLinesSpanExporter implements SpanExporter {
  constructor(
    private readonly path: string,
    private readonly service: string,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    try {
      const lines = spans.map((s) => {
        const line: SpanLine = {
          service: this.service,
          name: s.name,
          traceId: s.spanContext().traceId,
          spanId: s.spanContext().spanId,
          parentSpanId: s.parentSpanContext?.spanId,
          kind: s.kind,
          startMs: s.startTime[0] * 1000 + s.startTime[1] / 1e6,
          durationMs: s.duration[0] * 1000 + s.duration[1] / 1e6,
          attributes: { ...s.attributes },
          links: s.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
          status: s.status.code,
        };
        return JSON.stringify(line) + "\n";
      });
      appendFileSync(this.path, lines.join(""));
      done({ code: 0 });
    } catch (e) {
      done({ code: 1, error: e as Error });
    }
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
