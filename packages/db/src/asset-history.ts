// An asset's history (moved here from the executor so the regulator feed serves the same view): every event that named it, in commit order, with the institutions that
// signed each transaction. Read from the node's events table, joined to the transactions the
// blockstore keeps, whose signatures the executor verified before committing them.
import { sql, type Kysely } from "kysely";
import type { Database } from "./schema.js";
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

/**
 * Reads one page of the history of `assetId` in `contract` (any contract when undefined), after
 * the cursor. limit is already bounded. Used by the executor's and the regulator feed's history RPCs.
 */
export async function readHistory(
  db: Kysely<Database>,
  contract: string | undefined,
  assetId: string,
  after: EventCursor | undefined,
  limit: number,
): Promise<HistoryPage> {
  const h = after === undefined ? -1n : after.height;
  const t = after === undefined ? -1 : after.txIndex;
  const e = after === undefined ? -1 : after.eventIndex;
  let q = db
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
    .where(sql<boolean>`(ev.height, ev.tx_index, ev.event_index) > (${h}::bigint, ${t}::bigint, ${e}::bigint)`);
  if (contract !== undefined) q = q.where("ev.contract", "=", contract);
  const rows = await q
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

/** Most lineage ids one answer lists. */
export const LINEAGE_MAX = 1000;

/** The ancestors of a split asset id: `bill/b-1.2.1` → `bill/b-1`, `bill/b-1.2`. Children are named `<parent>.<n>`. */
export function ancestorIds(assetId: string): string[] {
  const slash = assetId.indexOf("/");
  const parts = assetId.slice(slash + 1).split(".");
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(`${assetId.slice(0, slash + 1)}${parts.slice(0, i).join(".")}`);
  return out;
}

/**
 * An asset's lineage as the node's events know it: its ancestors and every descendant
 * (`<id>.<n>`, recursively), in byte order, at most LINEAGE_MAX.
 */
export async function readLineage(db: Kysely<Database>, contract: string | undefined, assetId: string): Promise<string[]> {
  const ancestors = ancestorIds(assetId);
  // LIKE treats _ and % as wildcards: escape them in the prefix.
  const prefix = `${assetId.replace(/[\\%_]/g, (c) => `\\${c}`)}.%`;
  let q = db
    .selectFrom("events")
    .select("asset_id")
    .distinct()
    .where((w) => w.or([w("asset_id", "like", prefix), ...(ancestors.length > 0 ? [w("asset_id", "in", ancestors)] : [])]));
  if (contract !== undefined) q = q.where("contract", "=", contract);
  const rows = await q.orderBy("asset_id").limit(LINEAGE_MAX).execute();
  return rows.map((r) => r.asset_id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
