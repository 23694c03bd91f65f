// The sequencer's logic, for its tests and the benchmark harness.
export { Sequencer, FencedError, TermEndedError, type SequencerConfig, type SequencerPorts, type SequencerStatus } from "./sequencer.js";
export { BlockBuffer, type CutLimits, type PendingTx } from "./block-buffer.js";
export {
  Lease,
  LeaseConflictError,
  LeaseHeldError,
  LEASE_DEFAULTS,
  natsLeaseKv,
  staticLeadership,
  type Leadership,
  type LeaseEntry,
  type LeaseKv,
  type LeaseOptions,
  type Role,
  type Term,
  type TermEnd,
} from "./lease.js";
