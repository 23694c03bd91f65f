import type { Bus } from "./connect.js";
import { blockSeqOf, type BusNames } from "./names.js";
import { OrderedFollower } from "./ordered-follower.js";
import { decodeBlock, type SealedBlock } from "@tally/ledger";
import { tracingEnabled } from "@tally/telemetry";
import { contextFromHeaders } from "./trace-headers.js";

// The trace context a block arrived with on BLOCKS (the sequencer's block-cut span), while tracing.
const blockContexts = new WeakMap<SealedBlock, ReturnType<typeof contextFromHeaders>>();

/** The trace context carried by the BLOCKS message a block was read from (only while tracing). */
export function traceContextOfBlock(block: SealedBlock): ReturnType<typeof contextFromHeaders> | undefined {
  return blockContexts.get(block);
}

/**
 * Reads BLOCKS in order from a height with an ordered consumer. Delivery order equals
 * stream order, and the consumer recreates itself on gaps and when its server dies
 * (OrderedFollower), so no block is skipped.
 */
export class BlockFollower {
  private follower: OrderedFollower | undefined;
  private closed = false;

  constructor(
    private readonly bus: Bus,
    private readonly names: BusNames,
    /** Told whenever the consumer is recreated (its server died, or it could not be created). */
    private readonly onRestart?: (why: string, fromHeight: bigint) => void,
  ) {}

  /** Yields blocks from fromHeight on, forever (until close). Decoding failures throw InvariantError. */
  async *follow(fromHeight: bigint, bufferedMax = 64): AsyncGenerator<SealedBlock> {
    const onRestart = this.onRestart;
    const tracing = tracingEnabled();
    const follower = new OrderedFollower(this.bus, this.names.blocksStream, {
      maxMessages: bufferedMax,
      withHeaders: tracing,
      ...(onRestart === undefined ? {} : { onRestart: (why: string, seq: number) => onRestart(why, BigInt(seq - 1)) }),
    });
    this.follower = follower;
    if (this.closed) return;
    for await (const m of follower.follow(blockSeqOf(fromHeight))) {
      const block = decodeBlock(m.data);
      if (tracing && m.headers !== undefined) blockContexts.set(block, contextFromHeaders(m.headers));
      yield block;
    }
  }

  /**
   * Yields blocks from fromHeight on in batches: each batch is whatever has arrived (at least
   * one block, at most batchBlocksMax), so a consumer that fell behind catches up in large
   * batches while one that keeps up still handles every block at once. Order is kept.
   */
  async *followBatches(fromHeight: bigint, batchBlocksMax = 64): AsyncGenerator<SealedBlock[]> {
    const queue: SealedBlock[] = [];
    let wake: (() => void) | undefined;
    let room: (() => void) | undefined;
    let done = false;
    let stopped = false;
    let failure: Error | undefined;
    const pump = (async () => {
      try {
        for await (const b of this.follow(fromHeight, batchBlocksMax)) {
          queue.push(b);
          wake?.();
          wake = undefined;
          // Bounded: hold at most two batches in memory.
          while (queue.length >= batchBlocksMax * 2 && !this.closed && !stopped) await new Promise<void>((r) => (room = r));
          if (stopped) break;
        }
      } catch (e) {
        failure = e instanceof Error ? e : new Error(String(e));
      } finally {
        done = true;
        wake?.();
      }
    })();
    try {
      for (;;) {
        if (queue.length === 0) {
          if (done) {
            if (failure !== undefined) throw failure;
            return;
          }
          await new Promise<void>((r) => (wake = r));
          continue;
        }
        const batch = queue.splice(0, batchBlocksMax);
        room?.();
        room = undefined;
        yield batch;
      }
    } finally {
      // The consumer stopped (returned, threw or broke out): stop reading too.
      stopped = true;
      room?.();
      void this.follower?.close();
      void pump;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.follower?.close();
  }
}
