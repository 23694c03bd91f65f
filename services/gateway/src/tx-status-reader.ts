import { sql, type Kysely } from "kysely";
import type { Database } from "@tally/db";
import { toHex } from "@tally/ledger";

/** What the node's database knows about a transaction. */
export interface KnownStatus {
  /** Height of the block that included it, once the blockstore stored it. */
  readonly sequencedAt?: bigint;
  /** Its result, once the executor applied the block. */
  readonly result?: { height: bigint; txIndex: number; committed: boolean; reasonCode: string; message: string };
}

const IDS_PER_QUERY_MAX = 1000;

/** Reads transaction progress from the node's database: blockstore's transactions and executor's tx_results. */
export class TxStatusReader {
  constructor(private readonly db: Kysely<Database>) {}

  /** Status by tx id hex, for the ids the node knows; unknown ids are absent. */
  async statuses(ids: readonly Uint8Array[]): Promise<Map<string, KnownStatus>> {
    const out = new Map<string, { sequencedAt?: bigint; result?: KnownStatus["result"] }>();
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY_MAX) {
      const part = ids.slice(i, i + IDS_PER_QUERY_MAX);
      const [seq, res] = await Promise.all([
        this.db.selectFrom("transactions").select(["tx_id", "height"]).where("tx_id", "in", part).execute(),
        // A tx id's outcome is its first authenticated inclusion (signatures verified); later ones,
        // even in the same block, are rejected replays. A copy with a forged signature sequenced
        // earlier is unauthenticated and is the outcome only while no authenticated one exists.
        this.db
          .selectFrom("tx_results")
          .select(["tx_id", "height", "tx_index", "committed", "reason_code", "message"])
          .distinctOn("tx_id")
          .where("tx_id", "in", part)
          .orderBy("tx_id")
          .orderBy("authenticated", "desc")
          .orderBy("height")
          .orderBy("tx_index")
          .execute(),
      ]);
      for (const r of seq) out.set(toHex(r.tx_id), { ...out.get(toHex(r.tx_id)), sequencedAt: r.height });
      for (const r of res) {
        const k = toHex(r.tx_id);
        out.set(k, {
          ...out.get(k),
          sequencedAt: out.get(k)?.sequencedAt ?? r.height,
          result: { height: r.height, txIndex: r.tx_index, committed: r.committed, reasonCode: r.reason_code, message: r.message },
        });
      }
    }
    return out;
  }

  /** The executor's applied height (0 before genesis). */
  async committedHeight(): Promise<bigint> {
    const r = await sql<{ height: bigint }>`select height from checkpoint where id = 1`.execute(this.db);
    return r.rows[0]?.height ?? 0n;
  }
}
