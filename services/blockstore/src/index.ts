// The blockstore's logic, for its tests.
export { BlockStore } from "./block-store.js";
export { runBlockstore, blockstoreSequencerKeys } from "./blockstore.js";
export { committedSequencersFrom, sequencersOfChainConfig, type CommittedSequencers } from "./committed-sequencers.js";
export { blockstoreService, type HeightWaiter } from "./blockstore-service.js";
