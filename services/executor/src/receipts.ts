import { Receipt, ReceiptBody, TxOutcome, type TxResult } from "@tally/proto/types";
import { JetStreamPublisher, type Bus, type BusNames } from "@tally/bus";
import type { MsgHdrs } from "@nats-io/transport-node";
import { ed25519Sign, type SigningKey } from "@tally/ledger";
import type { Logger } from "@tally/telemetry";

/** What a receipt says about one transaction. */
export interface ReceiptResult {
  readonly txIndex: number;
  readonly txId: Uint8Array;
  readonly committed: boolean;
  readonly reasonCode: string;
  readonly message: string;
}

/** Encodes and signs an execution receipt {height, block hash, state root, results}. */
export function signReceipt(
  r: { chainId: string; nodeId: string; height: bigint; blockHash: Uint8Array; stateRoot: Uint8Array; results: readonly ReceiptResult[] },
  key: SigningKey,
): Uint8Array {
  const results: TxResult[] = r.results.map((x) => ({
    index: x.txIndex,
    txId: x.txId,
    outcome: x.committed ? TxOutcome.TX_OUTCOME_COMMITTED : TxOutcome.TX_OUTCOME_REJECTED,
    reasonCode: x.reasonCode,
    message: x.message,
  }));
  const body = ReceiptBody.encode({
    chainId: r.chainId,
    nodeId: r.nodeId,
    height: r.height,
    blockHash: r.blockHash,
    stateRoot: r.stateRoot,
    results,
  }).finish();
  return Receipt.encode({ body, signature: ed25519Sign(key, body) }).finish();
}

/**
 * Publishes receipts without blocking block application, with at most inFlightMax
 * publishes pending. Each receipt's msg id is node:height, so a republish after a
 * restart is dropped as a duplicate.
 */
export class ReceiptPublisher {
  private readonly pending = new Set<Promise<void>>();
  /** One shared reply subscription for every receipt's ack (no request machinery per publish). */
  private readonly publisher: JetStreamPublisher;

  constructor(
    bus: Bus,
    private readonly names: BusNames,
    private readonly nodeId: string,
    private readonly log: Logger,
    private readonly inFlightMax = 64,
  ) {
    this.publisher = new JetStreamPublisher(bus.nc, inFlightMax, bus.inboxPrefix);
  }

  /** headers: e.g. the trace context of the block's apply span (only while tracing). */
  async publish(height: bigint, receipt: Uint8Array, headers?: MsgHdrs): Promise<void> {
    while (this.pending.size >= this.inFlightMax) await Promise.race(this.pending);
    const p = this.send(height, receipt, headers).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async send(height: bigint, receipt: Uint8Array, headers?: MsgHdrs): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.publisher.publish(this.names.receiptSubject(this.nodeId), receipt, {
          msgID: `${this.nodeId}:${height}`,
          timeoutMs: 2000,
          ...(headers === undefined ? {} : { headers }),
        });
        return;
      } catch (e) {
        if (attempt >= 5) {
          this.log.error({ err: (e as Error).message, height: height.toString() }, "receipt not published");
          return;
        }
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  /** Stops the reply subscription (after flush); publishes still awaiting an ack are rejected. */
  close(): void {
    this.publisher.close();
  }
}
