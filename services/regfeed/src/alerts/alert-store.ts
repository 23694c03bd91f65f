// Reading and acknowledging persisted alerts.
import type { Kysely, Selectable } from "kysely";
import type { AlertsTable, Database } from "@tally/db";
import { canonicalJson } from "@tally/ledger";
import type { Alert } from "@tally/proto/regfeed";

function toAlert(r: Selectable<AlertsTable>): Alert {
  return {
    seq: r.seq,
    rule: r.rule,
    ruleId: r.rule_id,
    height: r.height,
    txId: r.tx_id,
    assetId: r.asset_id,
    subjects: r.subjects,
    summary: r.summary,
    details: new TextEncoder().encode(canonicalJson(r.details)),
    blockTimeMs: r.block_time_ms,
    acked: r.acked_by !== null,
    ackedBy: r.acked_by ?? "",
    ackedAtMs: r.acked_at_ms ?? 0n,
    ackNote: r.ack_note,
  };
}

/** The node's alerts table. */
export class AlertStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Up to limit alerts with seq above afterSeq, in seq order. */
  async page(afterSeq: bigint, limit: number, unackedOnly: boolean): Promise<Alert[]> {
    let q = this.db.selectFrom("alerts").selectAll().where("seq", ">", afterSeq);
    if (unackedOnly) q = q.where("acked_by", "is", null);
    return (await q.orderBy("seq").limit(limit).execute()).map(toAlert);
  }

  /** Acknowledges an alert once; undefined when there is no such alert. */
  async ack(seq: bigint, by: string, note: string): Promise<{ alert: Alert; alreadyAcked: boolean } | undefined> {
    const updated = await this.db
      .updateTable("alerts")
      .set({ acked_by: by, acked_at_ms: BigInt(this.nowMs()), ack_note: note })
      .where("seq", "=", seq)
      .where("acked_by", "is", null)
      .returningAll()
      .executeTakeFirst();
    if (updated !== undefined) return { alert: toAlert(updated), alreadyAcked: false };
    const existing = await this.db.selectFrom("alerts").selectAll().where("seq", "=", seq).executeTakeFirst();
    return existing === undefined ? undefined : { alert: toAlert(existing), alreadyAcked: true };
  }
}
