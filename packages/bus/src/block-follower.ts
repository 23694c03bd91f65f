import { DeliverPolicy, type ConsumerMessages } from "@nats-io/jetstream";
import type { Bus } from "./connect.js";
import { blockSeqOf, type BusNames } from "./names.js";
import { decodeBlock, type SealedBlock } from "@tally/ledger";

/**
 * Reads BLOCKS in order from a height with an ordered consumer. Delivery order equals
 * stream order, and the consumer recreates itself on gaps, so no block is skipped.
 */
export class BlockFollower {
  private messages: ConsumerMessages | undefined;
  private closed = false;

  constructor(
    private readonly bus: Bus,
    private readonly names: BusNames,
  ) {}

  /** Yields blocks from fromHeight on, forever (until close). Decoding failures throw InvariantError. */
  async *follow(fromHeight: bigint, bufferedMax = 64): AsyncGenerator<SealedBlock> {
    const consumer = await this.bus.js.consumers.get(this.names.blocksStream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: blockSeqOf(fromHeight),
    });
    this.messages = await consumer.consume({ max_messages: bufferedMax });
    // Closed while starting: close() completes only once the iterator is read, so do not await it.
    if (this.closed) void this.messages.close();
    for await (const m of this.messages) yield decodeBlock(m.data);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.messages?.close();
  }
}
