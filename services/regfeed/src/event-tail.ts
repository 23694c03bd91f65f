// The newest committed events, kept in memory and shared by every live subscriber. Without it each
// subscriber runs its own query (and JSON encoding) per commit: 20 subscribers at 100 blocks/s were
// 2,000 queries/s and the feed's p99 grew past 300 ms. With it, one read per wave of wake-ups
// serves them all. Subscribers further behind than the tail read the database as before.
//
// Why it cannot skip or repeat: the tail reads the events table strictly after its last cursor, in
// commit order, like any subscriber (a block's events become visible at once, heights commit in
// order). It holds every event in (coveredFrom, last]; a request after a cursor below coveredFrom
// is not served from it.
import { sql, type Kysely } from "kysely";
import type { Database } from "@tally/db";
import { canonicalJson } from "@tally/ledger";
import type { EventFilter } from "@tally/proto/regfeed";
import type { Event, EventCursor } from "@tally/proto/types";
import { eventAmount, parseAmount } from "./amount.js";

/** Events the tail keeps when main.ts does not say. */
export const TAIL_EVENTS_DEFAULT = 20_000;

/** Rows one refresh reads per query. */
const REFRESH_ROWS = 5000;

interface Cached {
  readonly event: Event;
  readonly amount: bigint | undefined;
}

type Pos = readonly [bigint, number, number];

const posOf = (c: EventCursor | undefined): Pos => (c === undefined ? [-1n, -1, -1] : [c.height, c.txIndex, c.eventIndex]);

function cmp(a: Pos, b: Pos): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] - b[1];
  return a[2] - b[2];
}

/** Whether an event passes a filter: the same rules as EventFeed's SQL. */
export function matches(c: Cached, f: EventFilter | undefined, min: bigint | undefined): boolean {
  if (f === undefined) return true;
  const e = c.event;
  if (f.contracts.length > 0 && !f.contracts.includes(e.contract)) return false;
  if (f.types.length > 0 && !f.types.includes(e.type)) return false;
  if (f.assetIds.length > 0 && !f.assetIds.includes(e.assetId)) return false;
  if (f.parties.length > 0 && !e.parties.some((p) => f.parties.includes(p))) return false;
  if (min !== undefined && (c.amount === undefined || c.amount < min)) return false;
  return true;
}

/** The shared in-memory tail of the events table. */
export class EventTail {
  private events: Cached[] = [];
  /** Every event after this position (through the last cached) is cached; undefined before the first refresh. */
  private coveredFrom: Pos | undefined;
  private last: Pos = [-1n, -1, -1];
  private inflight: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly max = TAIL_EVENTS_DEFAULT,
  ) {}

  /**
   * Brings the tail up to what is committed. Callers that arrive while a read is running share the
   * next one, which starts after it: whatever was committed before they called is then included.
   */
  refresh(): Promise<void> {
    if (this.inflight === undefined) {
      this.inflight = this.load().finally(() => (this.inflight = undefined));
      return this.inflight;
    }
    this.queued ??= this.inflight.then(
      () => {
        this.queued = undefined;
        return this.refresh();
      },
      () => {
        this.queued = undefined;
        return this.refresh();
      },
    );
    return this.queued;
  }

  private async load(): Promise<void> {
    if (this.coveredFrom === undefined) {
      // Start at the newest event: history is the database's business.
      const top = await this.db
        .selectFrom("events")
        .select(["height", "tx_index", "event_index"])
        .orderBy("height", "desc")
        .orderBy("tx_index", "desc")
        .orderBy("event_index", "desc")
        .limit(1)
        .executeTakeFirst();
      this.last = top === undefined ? [-1n, -1, -1] : [top.height, top.tx_index, top.event_index];
      this.coveredFrom = this.last;
      return;
    }
    for (;;) {
      const [h, t, e] = this.last;
      const rows = await this.db
        .selectFrom("events")
        .select([
          "height",
          "tx_index",
          "event_index",
          "tx_id",
          "contract",
          "type",
          "asset_id",
          "parties",
          "data",
          "block_time_ms",
          "signer",
        ])
        .where(sql<boolean>`(height, tx_index, event_index) > (${h}::bigint, ${t}::bigint, ${e}::bigint)`)
        .orderBy("height")
        .orderBy("tx_index")
        .orderBy("event_index")
        .limit(REFRESH_ROWS)
        .execute();
      const enc = new TextEncoder();
      for (const r of rows) {
        this.events.push({
          event: {
            cursor: { height: r.height, txIndex: r.tx_index, eventIndex: r.event_index },
            txId: r.tx_id,
            contract: r.contract,
            type: r.type,
            assetId: r.asset_id,
            parties: r.parties,
            data: enc.encode(canonicalJson(r.data)),
            blockTimeMs: r.block_time_ms,
            signer: r.signer,
          },
          amount: eventAmount(r.data),
        });
        this.last = [r.height, r.tx_index, r.event_index];
      }
      if (this.events.length > this.max) {
        const drop = this.events.length - this.max;
        this.coveredFrom = posOf(this.events[drop - 1]!.event.cursor);
        this.events = this.events.slice(drop);
      }
      if (rows.length < REFRESH_ROWS) return;
    }
  }

  /**
   * Up to limit events after the cursor that match the filter, from memory; undefined when the
   * cursor is older than the tail (the caller reads the database).
   */
  async read(after: EventCursor | undefined, filter: EventFilter | undefined, limit: number): Promise<Event[] | undefined> {
    await this.refresh();
    const from = posOf(after);
    if (this.coveredFrom === undefined || cmp(from, this.coveredFrom) < 0) return undefined;
    // First cached event strictly after the cursor.
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp(posOf(this.events[mid]!.event.cursor), from) <= 0) lo = mid + 1;
      else hi = mid;
    }
    const min = filter === undefined || filter.minAmount === "" ? undefined : parseAmount(filter.minAmount);
    const out: Event[] = [];
    for (let i = lo; i < this.events.length && out.length < limit; i++) {
      const c = this.events[i]!;
      if (matches(c, filter, min)) out.push(c.event);
    }
    return out;
  }
}
