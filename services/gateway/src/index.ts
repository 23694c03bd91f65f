// The gateway's logic, for its tests.
export { Gateway, gatewayService, type GatewayConfig, type GatewayPorts } from "./gateway-service.js";
export { admit, VALID_UNTIL_AHEAD_MS_MAX } from "./admission.js";
export { MembershipCache } from "./membership-cache.js";
export { TxStatusReader, type KnownStatus } from "./tx-status-reader.js";
export { TxWatcher } from "./tx-watcher.js";
