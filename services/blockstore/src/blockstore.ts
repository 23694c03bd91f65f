import { leafTxId, sequencerKeysOf, tipOf, toHex, verifyBlock, type ChainTip, type Genesis, type SealedBlock } from "@tally/ledger";
import { ATTR_HEIGHT, ATTR_TX_COUNT, startBlockSpan, tracingEnabled, type Logger } from "@tally/telemetry";
import { traceContextOfBlock, type BlockFollower } from "@tally/bus";
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
    const startedAt = tracingEnabled() ? Date.now() : 0;
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
    if (startedAt !== 0) traceStored(good, startedAt);
    for (const t of tips) deps.onStored?.(t);
    if (failure !== undefined) throw failure;
  }
}

/** While tracing: a span per stored block, a child of the block's cut span (from its BLOCKS headers). */
function traceStored(blocks: readonly SealedBlock[], startedAt: number): void {
  for (const b of blocks) {
    const ids = b.block.txs.map((raw) => toHex(leafTxId(raw)));
    const attrs = { [ATTR_HEIGHT]: Number(b.header.height), [ATTR_TX_COUNT]: ids.length };
    startBlockSpan("tally.block.store", [traceContextOfBlock(b)], attrs, ids, startedAt).end();
  }
}
