// The public surface of @tally/bus, named one by one.
export { busNames, blockSeqOf, FOLLOW_EXPIRES_MS, FOLLOW_HEARTBEAT_MS, FOLLOW_STALL_MS, type BusNames } from "./names.js";
export { BusError, WRONG_LAST_SEQUENCE, isWrongLastSequence } from "./errors.js";
export { connectBus, natsServers, natsTlsConf, natsTlsOptions, type Bus } from "./connect.js";
export {
  ensureStreams,
  ensureLeaseBucket,
  openLeaseBucket,
  setupBus,
  deleteNamespace,
  streamConfigs,
  streamLastSeq,
  type StreamOptions,
} from "./setup.js";
export { headersWithTraceContext, headersWithSpan, contextFromHeaders } from "./trace-headers.js";
export { BlockFollower, traceContextOfBlock } from "./block-follower.js";
export { BackfillFollower, BlocksRetainedError, type BlockBackfill } from "./backfill-follower.js";
export { OrderedFollower, type OrderedMessage, type OrderedFollowOptions } from "./ordered-follower.js";
export { JetStreamPublisher, PublishError, type PubAck } from "./js-publisher.js";
export {
  natsUsers,
  natsAuthorizationConf,
  natsPasswordVar,
  natsPasswordVars,
  inboxPrefixOf,
  NATS_USER_RE,
  type NatsUser,
  type NatsUsersOptions,
} from "./permissions.js";
