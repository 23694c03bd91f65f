// Follows RECEIPTS (every node's signed execution receipts) into the node's node_receipts table,
// for the divergence rule and VerifyChain. An ordered consumer from the start of the stream: after
// a restart it re-reads what the stream keeps, and storing a receipt twice is a no-op. (No subject
// filter: the stream holds receipts only, and filter_subjects needs nats-server 2.10.)
import type { MsgHdrs } from "@nats-io/transport-node";
import type { Bus, BusNames } from "@tally/bus";
import type { Logger } from "@tally/telemetry";
import type { ReceiptStore } from "./alerts/receipt-store.js";

/** Runs until the connection closes or stop() is called. onReceipt sees each receipt message's stream sequence and headers (metrics, tracing). */
export async function followReceipts(
  bus: Bus,
  names: BusNames,
  store: ReceiptStore,
  log: Logger,
  signal: AbortSignal,
  onReceipt?: (seq: number, headers: MsgHdrs | undefined) => void,
): Promise<void> {
  while (!signal.aborted) {
    try {
      const consumer = await bus.js.consumers.get(names.receiptsStream);
      const msgs = await consumer.consume({ max_messages: 256 });
      signal.addEventListener("abort", () => void msgs.close(), { once: true });
      for await (const m of msgs) {
        onReceipt?.(m.seq, m.headers);
        const outcome = await store.add(m.data);
        if (outcome !== "stored") log.warn({ subject: m.subject, outcome }, "receipt not kept");
      }
    } catch (e) {
      if (signal.aborted) return;
      log.warn({ err: e }, "following RECEIPTS failed; retrying");
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
