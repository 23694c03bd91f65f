import type { Logger } from "pino";
import { setMetricsService, startMetricsServer, type MetricsServer } from "./metrics.js";
import { startTracing, stopTracing } from "./sdk.js";

/** The settings startTelemetry reads (satisfied by @tally/config's Env, which validates them). */
export interface TelemetryEnv {
  optional(name: string): string | undefined;
  str(name: string, fallback?: string): string;
  int(name: string, fallback: number, min?: number, max?: number): number;
}

/** A service's telemetry: its /metrics endpoint (when METRICS_PORT is set) and tracing. */
export interface Telemetry {
  /** The /metrics port, or undefined when METRICS_PORT is not set. */
  readonly metricsPort: number | undefined;
  readonly tracing: boolean;
  close(): Promise<void>;
}

/**
 * Starts a service's telemetry from main.ts: /metrics on METRICS_HOST (default 127.0.0.1; use
 * 0.0.0.0 in a container) and METRICS_PORT (0 for any free port; unset, no endpoint), and
 * tracing when OTEL_EXPORTER_OTLP_ENDPOINT or TALLY_TRACE_FILE is set (already started by
 * register.js when the process was run with it).
 */
export async function startTelemetry(service: string, env: TelemetryEnv, log?: Logger): Promise<Telemetry> {
  setMetricsService(service);
  const tracing = await startTracing(service);
  let server: MetricsServer | undefined;
  if (env.optional("METRICS_PORT") !== undefined) {
    const port = env.int("METRICS_PORT", 0, 0, 65535);
    const host = env.str("METRICS_HOST", "127.0.0.1");
    try {
      server = await startMetricsServer(service, host, port);
    } catch (e) {
      throw new Error(`METRICS_PORT ${port} on METRICS_HOST ${host}: ${(e as Error).message}`, { cause: e });
    }
  }
  log?.info({ metricsPort: server?.port, tracing }, server === undefined ? "telemetry: no METRICS_PORT, no /metrics" : "metrics listening");
  return {
    metricsPort: server?.port,
    tracing,
    close: async () => {
      await server?.close();
      await stopTracing();
    },
  };
}
