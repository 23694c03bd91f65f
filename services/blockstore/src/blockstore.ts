import {
  leafTxId,
  sequencerKeysFrom,
  sequencerKeysOf,
  tipOf,
  toHex,
  verifyBlock,
  type ChainTip,
  type Genesis,
  type SealedBlock,
  type SequencerKeys,
} from "@tally/ledger";
import { ATTR_HEIGHT, ATTR_TX_COUNT, startBlockSpan, tracingEnabled, type Logger } from "@tally/telemetry";
import { traceContextOfBlock, type BlockFollower } from "@tally/bus";
import type { BlockStore } from "./block-store.js";
import type { CommittedSequencers } from "./committed-sequencers.js";

/**
 * The keys the blockstore checks block `height`'s signer against (docs/architecture.md, "The
 * sequencer set in force"). The set in force at h is the chain config after block h-1, which
 * only the executor computes; the blockstore reads what the node's executor committed:
 * - the executor at h-1: its chain config is the set in force at h, checked exactly;
 * - the executor behind (at c < h-1): its set at c. Changes voted in blocks c+1..h-1 are not in
 *   it yet: a sequencer added there is waited for (see sequencerKeysFor), one removed there is
 *   left to the executor, which judges every block against the exact set before applying it;
 * - the executor ahead (at c >= h, the blockstore catching up): the executor has judged block h
 *   already; genesis's set together with its current one;
 * - no executor state yet: genesis's set.
 * `exact` says whether this is the set in force at h.
 */
export function blockstoreSequencerKeys(
  height: bigint,
  genesis: Genesis,
  committed: CommittedSequencers | undefined,
): { readonly keys: SequencerKeys; readonly exact: boolean } {
  if (committed === undefined) return { keys: sequencerKeysOf(genesis), exact: false };
  if (committed.height < height) return { keys: sequencerKeysFrom(committed.sequencers), exact: committed.height === height - 1n };
  // The committed set names the current key of an id genesis also names.
  return { keys: new Map([...sequencerKeysOf(genesis), ...sequencerKeysFrom(committed.sequencers)]), exact: false };
}

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
  /** The node's executor's committed sequencer set (committedSequencersFrom); without it, the genesis set. */
  committedSequencers?: () => Promise<CommittedSequencers | undefined>;
  /** How often to look again while waiting for the executor to judge a signer (default 200 ms). */
  executorPollMs?: number;
}): Promise<void> {
  const { store, follower, genesis, log } = deps;
  const keysFor = sequencerKeysFor(deps);
  let tip = await store.tip();
  const from = tip === undefined ? 0n : tip.height + 1n;
  log.info({ fromHeight: from.toString() }, "following BLOCKS");
  // Blocks that have already arrived are stored together in one database transaction.
  for await (const batch of follower.followBatches(from, 64)) {
    const startedAt = tracingEnabled() ? Date.now() : 0;
    keysFor.newBatch();
    const good = [];
    const tips: ChainTip[] = [];
    let failure: Error | undefined;
    for (const b of batch) {
      try {
        verifyBlock(b, tip, genesis, await keysFor.keys(b, good));
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

/**
 * The keys for block b (blockstoreSequencerKeys). A signer the inexact set does not name may yet
 * be one governance added in a block the executor has not applied: the blocks verified so far are
 * stored first (the executor may be reading them from this store), then the blockstore waits for
 * the executor to reach the height before and judges exactly. It never refuses a block the
 * executor would apply. The executor's set is read once per batch, and again for such a signer.
 */
function sequencerKeysFor(deps: {
  store: BlockStore;
  genesis: Genesis;
  log: Logger;
  committedSequencers?: () => Promise<CommittedSequencers | undefined>;
  executorPollMs?: number;
}): { newBatch(): void; keys(b: SealedBlock, pending: SealedBlock[]): Promise<SequencerKeys> } {
  const read = deps.committedSequencers;
  let batchRead: Promise<CommittedSequencers | undefined> | undefined;
  const newBatch = (): void => {
    batchRead = undefined;
  };
  const keys = async (b: SealedBlock, pending: SealedBlock[]): Promise<SequencerKeys> => {
    const h = b.header.height;
    if (read === undefined) return sequencerKeysOf(deps.genesis);
    batchRead ??= read();
    const r = blockstoreSequencerKeys(h, deps.genesis, await batchRead);
    if (r.exact || r.keys.has(b.header.sequencerId) || h === 0n) return r.keys;
    await deps.store.appendMany(pending.splice(0));
    deps.log.info(
      { height: h.toString(), sequencerId: b.header.sequencerId },
      "sequencer not in the set known here: waiting for the executor",
    );
    for (;;) {
      const c = await read();
      if (c !== undefined && c.height >= h - 1n) {
        batchRead = Promise.resolve(c);
        return blockstoreSequencerKeys(h, deps.genesis, c).keys;
      }
      await new Promise((res) => setTimeout(res, deps.executorPollMs ?? 200));
    }
  };
  return { newBatch, keys };
}

/** While tracing: a span per stored block, a child of the block's cut span (from its BLOCKS headers). */
function traceStored(blocks: readonly SealedBlock[], startedAt: number): void {
  for (const b of blocks) {
    const ids = b.block.txs.map((raw) => toHex(leafTxId(raw)));
    const attrs = { [ATTR_HEIGHT]: Number(b.header.height), [ATTR_TX_COUNT]: ids.length };
    startBlockSpan("tally.block.store", [traceContextOfBlock(b)], attrs, ids, startedAt).end();
  }
}
