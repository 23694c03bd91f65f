import type { SealedBlock } from "@tally/ledger";
import type { BlockFollower } from "./block-follower.js";
import type { Bus } from "./connect.js";
import type { BusNames } from "./names.js";

/** Blocks of heights from..to (inclusive), in order, from somewhere other than BLOCKS (a peer's blockstore, the node's own). */
export type BlockBackfill = (fromHeight: bigint, toHeight: bigint) => AsyncIterable<SealedBlock>;

/** Thrown when BLOCKS no longer holds a height a follower needs and no backfill was configured. */
export class BlocksRetainedError extends Error {
  constructor(
    readonly neededHeight: bigint,
    readonly firstHeldHeight: bigint,
  ) {
    super(
      `BLOCKS holds heights from ${firstHeldHeight} on; height ${neededHeight} must come from a peer's blockstore (PEER_BLOCKSTORE_ADDRS)`,
    );
  }
}

/**
 * Follows BLOCKS like BlockFollower, but when BLOCKS no longer holds the first heights wanted
 * (retention dropped them), reads those from a backfill first, then switches to the stream.
 * Whoever consumes the batches verifies every block as usual (link, root, signature), so a
 * backfill source needs no trust.
 */
export class BackfillFollower {
  constructor(
    private readonly bus: Bus,
    private readonly names: BusNames,
    private readonly follower: BlockFollower,
    private readonly backfill: BlockBackfill | undefined,
    private readonly onBackfill?: (fromHeight: bigint, toHeight: bigint) => void,
  ) {}

  /** The lowest height BLOCKS still holds (the next height to be published when it holds none). */
  async firstHeldHeight(): Promise<bigint> {
    const info = await this.bus.jsm.streams.info(this.names.blocksStream);
    return BigInt(info.state.first_seq) - 1n;
  }

  async *followBatches(fromHeight: bigint, batchBlocksMax = 64): AsyncGenerator<SealedBlock[]> {
    let next = fromHeight;
    const first = await this.firstHeldHeight();
    if (next < first) {
      if (this.backfill === undefined) throw new BlocksRetainedError(next, first);
      this.onBackfill?.(next, first - 1n);
      let batch: SealedBlock[] = [];
      for await (const b of this.backfill(next, first - 1n)) {
        batch.push(b);
        next = b.header.height + 1n;
        if (batch.length >= batchBlocksMax) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
      if (next < first) throw new BlocksRetainedError(next, first);
    }
    yield* this.follower.followBatches(next, batchBlocksMax);
  }

  close(): Promise<void> {
    return this.follower.close();
  }
}
