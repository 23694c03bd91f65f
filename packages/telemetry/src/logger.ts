import { pino, type Logger } from "pino";

export type { Logger };

/** A JSON logger for a service, level from LOG_LEVEL (default info). Used from main.ts only. */
export function createLogger(service: string, bindings: Record<string, string> = {}): Logger {
  return pino({ name: service, level: process.env.LOG_LEVEL ?? "info", base: { service, ...bindings } });
}
