// The regulator feed's logic, for its tests and benchmarks.
export { EventFeed, FILTER_VALUES_MAX, FILTER_VALUE_LENGTH_MAX } from "./event-feed.js";
export { EventTail, TAIL_EVENTS_DEFAULT } from "./event-tail.js";
export { regfeedService, SUBSCRIBER_STALL_MS_DEFAULT, type CommitWaiter, type RegfeedDeps } from "./regfeed-service.js";
export { AMOUNT_FIELDS, eventAmount, parseAmount } from "./amount.js";
export { AccessLog } from "./access-log.js";
export { CALLER_HEADER, callerOf } from "./caller-identity.js";
export { AlertEngine, type AlertDraft, type ValidatorQuorum } from "./alerts/alert-engine.js";
export { AlertStore } from "./alerts/alert-store.js";
export { ReceiptStore, type ReceiptOutcome } from "./alerts/receipt-store.js";
export { parseSupervision, DEFAULT_REJECTION_CODES, type SupervisionRules } from "./alerts/supervision-rules.js";
export { verifyChain, VERIFY_HEIGHTS_MAX } from "./verify-chain.js";
