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
export { insecure, deadlineIn, unary, streamOf, type UnaryInvoker } from "./client.js";
export { drainedOrAborted } from "./flow-control.js";
