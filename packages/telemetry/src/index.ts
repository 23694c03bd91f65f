// The public surface of @tally/telemetry, named one by one.
export { createLogger, type Logger } from "./logger.js";
