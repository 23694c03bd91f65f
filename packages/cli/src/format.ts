import { TxStatus, type TxStatusUpdate } from "@tally/proto/gateway";
import type { Alert } from "@tally/proto/regfeed";
import { TxOutcome, type Event } from "@tally/proto/types";
import { fromUtf8, toHex } from "@tally/ledger";

/** One line for a status update. */
export function formatUpdate(u: TxStatusUpdate): string {
  const id = toHex(u.txId).slice(0, 16);
  const st = TxStatus[u.status]?.replace("TX_STATUS_", "") ?? String(u.status);
  // COMMITTED and FINAL carry the outcome (a fast network may report FINAL without a COMMITTED first).
  const withResult = u.status === TxStatus.TX_STATUS_COMMITTED || (u.status === TxStatus.TX_STATUS_FINAL && u.result !== undefined);
  if (!withResult) return `  ${id}… ${st}${u.height > 0n ? ` at height ${u.height}` : ""}${u.duplicate ? " (duplicate)" : ""}`;
  const ok = u.result?.outcome === TxOutcome.TX_OUTCOME_COMMITTED;
  return `  ${id}… ${st} at height ${u.height}: ${ok ? "OK" : `REJECTED ${u.result?.reasonCode}: ${u.result?.message}`}`;
}

/** One line for a regulator feed event. */
export function formatEvent(e: Event): string {
  const c = e.cursor!;
  const at = `${c.height}:${c.txIndex}:${c.eventIndex}`.padEnd(10);
  return `[regfeed] ${at} ${`${e.contract}.${e.type}`.padEnd(30)} ${e.assetId.padEnd(24)} by ${e.signer || "genesis"} ${fromUtf8(e.data)}`;
}

/** One line for a supervision alert. */
export function formatAlert(a: Alert): string {
  const ack = a.acked ? ` (acked by ${a.ackedBy})` : "";
  return `[ALERT #${a.seq}] h${a.height} ${a.rule.padEnd(22)} ${a.subjects.join(",").padEnd(20)} ${a.summary}${ack}`;
}
