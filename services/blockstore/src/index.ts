// The blockstore's logic, for its tests.
export { BlockStore } from "./block-store.js";
export { runBlockstore } from "./blockstore.js";
export { blockstoreService, type HeightWaiter } from "./blockstore-service.js";
