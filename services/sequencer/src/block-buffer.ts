import type { Context } from "@opentelemetry/api";

/** One transaction read from TXS, with its stream sequence. */
export interface PendingTx {
  readonly seq: bigint;
  readonly data: Uint8Array;
  /** While tracing: the trace context and tx id from its TXS headers (set by the gateway). */
  readonly trace?: { readonly ctx: Context; readonly txId: string | undefined };
}

/** Limits on a block. */
export interface CutLimits {
  readonly blockTxsMax: number;
  /** Bytes of transactions in one block (the encoded block adds a few bytes per tx and ~200 for the header). */
  readonly blockBytesMax: number;
}

// Protobuf framing per repeated bytes field: tag + length varint.
const PER_TX_OVERHEAD_BYTES = 4;

/** Accumulates transactions for the next block and says when a limit is reached. Bounded by the limits. */
export class BlockBuffer {
  private txs: PendingTx[] = [];
  private bytes = 0;

  constructor(private readonly limits: CutLimits) {}

  get size(): number {
    return this.txs.length;
  }

  /** True when adding data would break the byte limit, so the block must be cut first. */
  wouldOverflow(data: Uint8Array): boolean {
    return this.txs.length > 0 && this.bytes + data.byteLength + PER_TX_OVERHEAD_BYTES > this.limits.blockBytesMax;
  }

  /** Adds a tx; returns true when the block is now full and must be cut. */
  add(tx: PendingTx): boolean {
    this.txs.push(tx);
    this.bytes += tx.data.byteLength + PER_TX_OVERHEAD_BYTES;
    return this.txs.length >= this.limits.blockTxsMax || this.bytes >= this.limits.blockBytesMax;
  }

  /** Takes everything buffered, leaving the buffer empty. */
  take(): PendingTx[] {
    const out = this.txs;
    this.txs = [];
    this.bytes = 0;
    return out;
  }
}
