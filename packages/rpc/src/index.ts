// The public surface of @tally/rpc, named one by one.
export { RpcError, toServiceError } from "./rpc-error.js";
export {
  wrapService,
  startServer,
  malformedRequestReason,
  type UnaryHandler,
  type StreamHandler,
  type BidiHandler,
  type RunningServer,
  type ServerOptions,
} from "./server.js";
export { insecure, deadlineIn, unary, streamOf, INSTITUTION_HEADER, institutionHeaderInterceptor, type UnaryInvoker } from "./client.js";
export { drainedOrAborted } from "./flow-control.js";
export { encodeStatusDetails, decodeStatusDetails, ERROR_DOMAIN, STATUS_DETAILS_KEY, type StatusDetails } from "./status-details.js";
export { mtlsServerCredentials, mtlsChannelCredentials, peerCertificate, spkiSha256, subjectCommonName, type TlsFiles } from "./tls.js";
export { onTerminate, within, type ShutdownStep, type ShutdownLog, type GracefulShutdown } from "./graceful.js";
