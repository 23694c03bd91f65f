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
  follower: Pick<BlockFollower, "followBatches">;
  genesis: Genesis;
  log: Logger;
  onStored?: (tip: ChainTip) => void;
}): Promise<void> {
  const { store, follower, genesis, log } = deps;
  const keys = sequencerKeysOf(genesis);
  let tip = await store.tip();
  const from = tip === undefined ? 0n : tip.height + 1n;
  log.info({ fromHeight: from.toString() }, "following BLOCKS");
  // Blocks that have already arrived are stored together in one database transaction.
  for await (const batch of follower.followBatches(from, 64)) {
    const good = [];
    const tips: ChainTip[] = [];
    let failure: Error | undefined;
    for (const b of batch) {
      try {
        verifyBlock(b, tip, genesis, keys);
      } catch (e) {
        // Never stored, never skipped: the verified blocks before it are stored, then we stop.
        failure = e instanceof Error ? e : new Error(String(e));
        break;
      }
      good.push(b);
      tip = tipOf(b);
      tips.push(tip);
    }
    await store.appendMany(good);
    for (const t of tips) deps.onStored?.(t);
    if (failure !== undefined) throw failure;
  }
}
