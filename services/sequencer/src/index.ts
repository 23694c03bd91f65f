// The sequencer's logic, for its tests and the benchmark harness.
export { Sequencer, FencedError, type SequencerConfig, type SequencerPorts, type SequencerStatus } from "./sequencer.js";
export { BlockBuffer, type CutLimits, type PendingTx } from "./block-buffer.js";
