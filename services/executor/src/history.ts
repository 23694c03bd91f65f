// An asset's history: every event that named it, in commit order, with the institutions that
// signed each transaction. Read from the node's events table, joined to the transactions the
// blockstore keeps, whose signatures the executor verified before committing them.
import { sql, type Kysely } from "kysely";
import type { Database } from "@tally/db";
import { canonicalJson, decodeSignedTx } from "@tally/ledger";
import type { EventCursor, HistoryEntry } from "@tally/proto/types";

/** Most entries one history page may hold. */
export const HISTORY_PAGE_MAX = 500;

/** Entries in a page when the caller does not say. */
export const HISTORY_PAGE_DEFAULT = 100;

/** One page of an asset's history, and whether more follows. */
export interface HistoryPage {
  readonly entries: HistoryEntry[];
  readonly more: boolean;
}

/** The institutions that signed a stored transaction, the body's signer first; [] when it is not stored. */
function signersOf(raw: Uint8Array | null, bodySigner: string): string[] {
  if (raw === null) return bodySigner === "" ? [] : [bodySigner];
  const d = decodeSignedTx(raw);
  if (!d.ok) return [bodySigner];
  const others = d.tx.signatures.map((s) => s.institutionId).filter((i) => i !== bodySigner);
  return [bodySigner, ...new Set(others)];
}

/** Reads one page of the history of `assetId` in `contract`, after the cursor. limit is already bounded. */
export async function readHistory(
  db: Kysely<Database>,
  contract: string,
  assetId: string,
  after: EventCursor | undefined,
  limit: number,
): Promise<HistoryPage> {
  const h = after === undefined ? -1n : after.height;
  const t = after === undefined ? -1 : after.txIndex;
  const e = after === undefined ? -1 : after.eventIndex;
  const rows = await db
    .selectFrom("events as ev")
    .leftJoin("transactions as tx", "tx.tx_id", "ev.tx_id")
    .select([
      "ev.height",
      "ev.tx_index",
      "ev.event_index",
      "ev.tx_id",
      "ev.contract",
      "ev.type",
      "ev.asset_id",
      "ev.parties",
      "ev.data",
      "ev.block_time_ms",
      "ev.signer",
      "tx.raw",
    ])
    .where("ev.asset_id", "=", assetId)
    .where("ev.contract", "=", contract)
    .where(sql<boolean>`(ev.height, ev.tx_index, ev.event_index) > (${h}::bigint, ${t}::bigint, ${e}::bigint)`)
    .orderBy("ev.height")
    .orderBy("ev.tx_index")
    .orderBy("ev.event_index")
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  return {
    more: rows.length > limit,
    entries: page.map((r) => ({
      event: {
        cursor: { height: r.height, txIndex: r.tx_index, eventIndex: r.event_index },
        txId: r.tx_id,
        contract: r.contract,
        type: r.type,
        assetId: r.asset_id,
        parties: r.parties,
        data: new TextEncoder().encode(canonicalJson(r.data)),
        blockTimeMs: r.block_time_ms,
        signer: r.signer,
      },
      signers: signersOf(r.raw, r.signer),
    })),
  };
}
