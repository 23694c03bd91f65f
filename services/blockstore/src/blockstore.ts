import { sequencerKeysOf, tipOf, verifyBlock, type ChainTip, type Genesis } from "@tally/ledger";
import type { Logger } from "@tally/telemetry";
import type { BlockFollower } from "@tally/bus";
import type { BlockStore } from "./block-store.js";

/**
 * Consumes BLOCKS from the stored tip, verifies each block (link, root, signature) and
 * stores it. A block that fails verification throws InvariantError: the process stops
 * loudly rather than store or skip it.
 */
export async function runBlockstore(deps: {
  store: BlockStore;
  follower: BlockFollower;
  genesis: Genesis;
  log: Logger;
  onStored?: (tip: ChainTip) => void;
}): Promise<void> {
  const { store, follower, genesis, log } = deps;
  const keys = sequencerKeysOf(genesis);
  let tip = await store.tip();
  const from = tip === undefined ? 0n : tip.height + 1n;
  log.info({ fromHeight: from.toString() }, "following BLOCKS");
  for await (const b of follower.follow(from)) {
    verifyBlock(b, tip, genesis, keys);
    await store.append(b);
    tip = tipOf(b);
    deps.onStored?.(tip);
  }
}
