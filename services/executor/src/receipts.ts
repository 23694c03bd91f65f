import type { Bus, BusNames } from "@tally/bus";
import type { MsgHdrs } from "@nats-io/transport-node";
import type { Logger } from "@tally/telemetry";

// The receipt format is the ledger's (packages/ledger/src/receipt.ts): sequencers and clients read it too.
export { signReceipt, type ReceiptResult } from "@tally/ledger";

/**
 * Publishes receipts without blocking block application, with at most inFlightMax
 * publishes pending. Each receipt's msg id is node:height, so a republish after a
 * restart is dropped as a duplicate.
 */
export class ReceiptPublisher {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly bus: Bus,
    private readonly names: BusNames,
    private readonly nodeId: string,
    private readonly log: Logger,
    private readonly inFlightMax = 64,
  ) {}

  /** headers: e.g. the trace context of the block's apply span (only while tracing). */
  async publish(height: bigint, receipt: Uint8Array, headers?: MsgHdrs): Promise<void> {
    while (this.pending.size >= this.inFlightMax) await Promise.race(this.pending);
    const p = this.send(height, receipt, headers).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async send(height: bigint, receipt: Uint8Array, headers?: MsgHdrs): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.bus.js.publish(this.names.receiptSubject(this.nodeId), receipt, {
          msgID: `${this.nodeId}:${height}`,
          timeout: 2000,
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
}
