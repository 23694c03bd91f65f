// Loaded with `node --import @tally/telemetry/register <service main.js>` (testkit and `tally up`
// do so): before any of the service's modules load, it registers the ESM loader hook of
// @opentelemetry/instrumentation and starts the SDK, so that @grpc/grpc-js is instrumented.
// With no exporter configured it does nothing.
import { register } from "node:module";
import { serviceNameOf, startTracing, tracingConfigured } from "./sdk.js";

if (tracingConfigured()) {
  register("@opentelemetry/instrumentation/hook.mjs", import.meta.url);
  await startTracing(serviceNameOf(process.argv[1]));
}
