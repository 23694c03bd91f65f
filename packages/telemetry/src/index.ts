// The public surface of @tally/telemetry, named one by one.
export { createLogger, traceFields, type Logger } from "./logger.js";
export { startTelemetry, type Telemetry, type TelemetryEnv } from "./telemetry.js";
export { startTracing, stopTracing, tracingConfigured, serviceNameOf } from "./sdk.js";
export {
  tracingEnabled,
  tracer,
  contextFromCarrier,
  carrierOf,
  startBlockSpan,
  tagActiveSpanTx,
  activeTraceId,
  ATTR_TX_ID,
  ATTR_TX_IDS,
  ATTR_HEIGHT,
  ATTR_TX_COUNT,
  TX_ID_HEADER,
  TX_IDS_ON_SPAN_MAX,
} from "./tracing.js";
export {
  registry,
  scrape,
  startMetricsServer,
  gaugeFrom,
  counterFrom,
  metricsService,
  txAccepted,
  txRejected,
  txCommitted,
  blockCutSeconds,
  blockSizeTxs,
  consumerLag,
  sequencerIsLeader,
  sequencerFailovers,
  sequencerEpoch,
  finalityLagBlocks,
  stateRootDivergence,
  grpcServerDuration,
  nodeHeight,
  type MetricsServer,
  type Reading,
} from "./metrics.js";
export { halted, haltOnInvariant, invariantCode, type HaltTarget } from "./halt.js";
export type { SpanLine } from "./file-exporter.js";
export {
  observeConsumer,
  observeHeight,
  observeSequencer,
  observeFinality,
  countOutcomes,
  gatewayAdmissions,
  type SequencerView,
  type StreamLastSeq,
  type OutcomeView,
} from "./wiring.js";
