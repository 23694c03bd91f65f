// The executor's logic, for its tests.
export {
  executeBlock,
  genesisEffects,
  type BlockEffects,
  type TxOutcomeRow,
  type EventRow,
  type ExecutorState,
  type SeenTxIds,
  type ExecuteHints,
} from "./block-executor.js";
export { decodeBlockTxs, precomputeSignatures, type DecodedBlock } from "./block-precheck.js";
export { inlineVerifier, PrecomputedSignatures, type SignatureCheck, type SignatureVerifier } from "./signature-verifier.js";
export { VerifyPool, VerifyPoolError, type VerifyPoolOptions } from "./verify-pool.js";
export { EffectsStore, type Checkpoint } from "./effects-store.js";
export { runExecutor, type ExecutorDeps } from "./executor.js";
export { queryService, parseArgs, dbSnapshot, type Snapshot, type NodeProgress, type QueryServiceOptions } from "./query-service.js";
export { FinalityTally, meetsQuorum, type Quorum, type VerifiedReceipt, type Agreement, type TallyOutcome } from "./finality-tally.js";
export { FinalityStore, resolveDivergences, type DivergenceRecord, type FinalityStatus } from "./finality-store.js";
export { FinalityTracker, verifyReceipt, type FinalityTrackerDeps, type ReceiptCheck } from "./finality-tracker.js";
export { NodeHealth, NODE_DIVERGED, nodeDivergedError } from "./node-health.js";
export { ReceiptPublisher, signReceipt, type ReceiptResult } from "./receipts.js";
export { DbStateReader, type StateReader } from "./state-reader.js";
export { eventAnnouncer } from "./event-announcer.js";
export { writeSnapshot, readSnapshotHeader, restoreSnapshot, SnapshotError, type SnapshotHeader } from "./snapshot.js";
export { localBackfill } from "./local-backfill.js";
export { auditNode, type AuditFinding, type AuditReport } from "./audit.js";
