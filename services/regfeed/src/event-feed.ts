import { sql, type Kysely } from "kysely";
import type { Database } from "@tally/db";
import { canonicalJson } from "@tally/ledger";
import type { Event, EventCursor } from "@tally/proto/types";
import type { EventFilter } from "@tally/proto/regfeed";
import { amountSql, parseAmount } from "./amount.js";
import type { EventTail } from "./event-tail.js";

/** Bounds on a filter, so one subscriber cannot make the database do unbounded work. */
export const FILTER_VALUES_MAX = 100;
export const FILTER_VALUE_LENGTH_MAX = 128;

/** Reads events in commit order after a cursor: from the shared in-memory tail when it covers the cursor, else from the database. */
export class EventFeed {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tail?: EventTail,
  ) {}

  /** Up to limit events strictly after the cursor, matching the filter, in (height, tx index, event index) order. */
  async page(after: EventCursor | undefined, filter: EventFilter | undefined, limit: number): Promise<Event[]> {
    const fromTail = await this.tail?.read(after, filter, limit);
    return fromTail ?? this.pageFromDb(after, filter, limit);
  }

  /** page(), always from the database. */
  async pageFromDb(after: EventCursor | undefined, filter: EventFilter | undefined, limit: number): Promise<Event[]> {
    const h = after === undefined ? -1n : after.height;
    const t = after === undefined ? -1 : after.txIndex;
    const e = after === undefined ? -1 : after.eventIndex;
    let q = this.db
      .selectFrom("events")
      .select(["height", "tx_index", "event_index", "tx_id", "contract", "type", "asset_id", "parties", "data", "block_time_ms", "signer"])
      .where(sql<boolean>`(height, tx_index, event_index) > (${h}::bigint, ${t}::bigint, ${e}::bigint)`);
    if (filter !== undefined) {
      if (filter.contracts.length > 0) q = q.where("contract", "in", filter.contracts);
      if (filter.types.length > 0) q = q.where("type", "in", filter.types);
      if (filter.assetIds.length > 0) q = q.where("asset_id", "in", filter.assetIds);
      if (filter.parties.length > 0) q = q.where(sql<boolean>`parties && ${sql.val(filter.parties)}::text[]`);
      const min = filter.minAmount === "" ? undefined : parseAmount(filter.minAmount);
      // An event without an amount does not match a minimum (NULL >= x is not true).
      if (min !== undefined) q = q.where(sql<boolean>`${amountSql("data")} >= ${min.toString()}::numeric`);
    }
    const rows = await q.orderBy("height").orderBy("tx_index").orderBy("event_index").limit(limit).execute();
    return rows.map((r) => ({
      cursor: { height: r.height, txIndex: r.tx_index, eventIndex: r.event_index },
      txId: r.tx_id,
      contract: r.contract,
      type: r.type,
      assetId: r.asset_id,
      parties: r.parties,
      data: new TextEncoder().encode(canonicalJson(r.data)),
      blockTimeMs: r.block_time_ms,
      signer: r.signer,
    }));
  }
}
