import { setTracingEnabled, tracingEnabled } from "./tracing.js";

/** Where spans go: OTLP (OTEL_EXPORTER_OTLP_ENDPOINT), a JSON-lines file (TALLY_TRACE_FILE), or nowhere. */
export function tracingConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "") !== "" || (env.TALLY_TRACE_FILE ?? "") !== "";
}

/** The service a process runs: OTEL_SERVICE_NAME, else services/<name>/ in its entry path. */
export function serviceNameOf(argv1: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if ((env.OTEL_SERVICE_NAME ?? "") !== "") return env.OTEL_SERVICE_NAME!;
  const m = /services[\\/]([a-z]+)[\\/]/.exec(argv1 ?? "");
  return m?.[1] ?? "tally";
}

let shutdownHook: (() => Promise<void>) | undefined;

/**
 * Starts the OpenTelemetry SDK when an exporter is configured; does nothing otherwise (nothing
 * is even loaded). Idempotent. gRPC server and client spans come from the grpc instrumentation,
 * which only sees @grpc/grpc-js if this ran before it was loaded: from register.js under
 * `node --import`. Started later (from main.ts), Tally's own spans are still recorded.
 */
export async function startTracing(service: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (tracingEnabled()) return true;
  if (!tracingConfigured(env)) return false;
  const [{ NodeTracerProvider }, { BatchSpanProcessor, SimpleSpanProcessor }, { resourceFromAttributes }, inst, { GrpcInstrumentation }] =
    await Promise.all([
      import("@opentelemetry/sdk-trace-node"),
      import("@opentelemetry/sdk-trace-base"),
      import("@opentelemetry/resources"),
      import("@opentelemetry/instrumentation"),
      import("@opentelemetry/instrumentation-grpc"),
    ]);
  const processors = [];
  if ((env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "") !== "") {
    // Reads OTEL_EXPORTER_OTLP_ENDPOINT (and _HEADERS etc.) itself; posts to <endpoint>/v1/traces.
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-proto");
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter(), { maxQueueSize: 8192, maxExportBatchSize: 512 }));
  }
  if ((env.TALLY_TRACE_FILE ?? "") !== "") {
    const { JsonLinesSpanExporter } = await import("./file-exporter.js");
    // Written at once, so a process that is killed has already written its finished spans.
    processors.push(new SimpleSpanProcessor(new JsonLinesSpanExporter(env.TALLY_TRACE_FILE!, service)));
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": service, "service.namespace": "tally" }),
    spanProcessors: processors,
  });
  // The AsyncLocalStorage context manager and the W3C trace-context propagator.
  provider.register();
  inst.registerInstrumentations({ instrumentations: [new GrpcInstrumentation()] });
  setTracingEnabled(true);
  shutdownHook = () => provider.shutdown();
  return true;
}

/** Flushes and stops the tracer provider (spans still buffered for OTLP are sent). */
export async function stopTracing(): Promise<void> {
  await shutdownHook?.().catch(() => undefined);
  shutdownHook = undefined;
}
