import { sql, type Kysely } from "kysely";
import type { Database } from "@tally/db";
import { toHex } from "@tally/ledger";
import { NodeDivergence } from "./node-divergence.js";
import { SeenTxFilter } from "./seen-tx-filter.js";

/** What the node's database knows about a transaction. */
export interface KnownStatus {
  /** Height of the block that included it, once the blockstore stored it. */
  readonly sequencedAt?: bigint;
  /** Its result, once the executor applied the block. */
  readonly result?: { height: bigint; txIndex: number; committed: boolean; reasonCode: string; message: string };
  /** True once a quorum of validators signed the state root of the block that holds its result (issue 8). */
  readonly final?: boolean;
}

const IDS_PER_QUERY_MAX = 1000;
/** Rows per page when the seen-tx filter loads the node's applied tx ids. */
const SEEN_PAGE_ROWS = 20_000;

/** Reads transaction progress from the node's database: blockstore's transactions and executor's tx_results. */
export class TxStatusReader {
  private knownHeight: bigint | undefined;
  private batch = new Map<
    string,
    { id: Uint8Array; waiters: { resolve: (s: KnownStatus | undefined) => void; reject: (e: unknown) => void }[] }
  >();
  private flushScheduled: NodeJS.Immediate | undefined;
  private readonly divergence: NodeDivergence;
  /** Every tx id the executor applied up to seenThrough; undefined height until the first load ends. */
  private readonly seen: SeenTxFilter;
  private seenThrough: bigint | undefined;
  private seenWanted = 0n;
  private seenLoading: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    o: { seenFilter?: boolean; seenFilterMaxIds?: number } = {},
  ) {
    this.divergence = new NodeDivergence(db);
    this.seen = new SeenTxFilter(o.seenFilterMaxIds);
    if (o.seenFilter === true) this.catchUpSeen(0n);
  }

  /**
   * False only when the node certainly never applied this tx id (the Bloom filter of its
   * tx_results says so): a submission can then skip the database lookup. True until the filter
   * has loaded, and for every id once it is past its bound.
   */
  mayHaveApplied(id: Uint8Array): boolean {
    return this.seenThrough === undefined || this.seen.mayContain(id);
  }

  /** Loads the applied tx ids up to at least `height` into the filter, one load at a time. */
  private catchUpSeen(height: bigint): void {
    if (height > this.seenWanted) this.seenWanted = height;
    if (this.seenLoading !== undefined || !this.seen.usable) return;
    this.seenLoading = (async () => {
      try {
        let from = this.seenThrough ?? -1n;
        for (;;) {
          // The first load reads to the checkpoint; later ones to the heights the executor announced.
          const target =
            this.seenThrough === undefined
              ? ((await sql<{ height: bigint }>`select height from checkpoint where id = 1`.execute(this.db)).rows[0]?.height ?? 0n)
              : this.seenWanted;
          if (target <= from && this.seenThrough !== undefined) break;
          let after: { height: bigint; txIndex: number } = { height: from, txIndex: 2 ** 31 - 1 };
          for (;;) {
            const rows = await this.db
              .selectFrom("tx_results")
              .select(["tx_id", "height", "tx_index"])
              .where((eb) =>
                eb.or([eb("height", ">", after.height), eb.and([eb("height", "=", after.height), eb("tx_index", ">", after.txIndex)])]),
              )
              .where("height", "<=", target)
              .orderBy("height")
              .orderBy("tx_index")
              .limit(SEEN_PAGE_ROWS)
              .execute();
            for (const r of rows) this.seen.add(r.tx_id);
            const last = rows.at(-1);
            if (last === undefined || rows.length < SEEN_PAGE_ROWS) break;
            after = { height: last.height, txIndex: last.tx_index };
          }
          this.seenThrough = target;
          from = target;
          if (this.seenWanted <= target) break;
        }
      } catch {
        // The filter stays as it was: with seenThrough undefined every lookup goes to the database.
      } finally {
        this.seenLoading = undefined;
      }
      if (this.seenThrough !== undefined && this.seenWanted > this.seenThrough) this.catchUpSeen(this.seenWanted);
    })();
  }

  /** Throws FAILED_PRECONDITION / NODE_DIVERGED while the node has an open divergence record. */
  assertNotDiverged(): Promise<void> {
    return this.divergence.assertServing();
  }

  /** Status by tx id hex, for the ids the node knows; unknown ids are absent. */
  async statuses(ids: readonly Uint8Array[]): Promise<Map<string, KnownStatus>> {
    const out = new Map<string, { sequencedAt?: bigint; result?: KnownStatus["result"]; final?: boolean }>();
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
      const heights = [...new Set(res.map((r) => r.height))];
      if (heights.length > 0) {
        const finals = new Set(
          (await this.db.selectFrom("finality").select("height").where("height", "in", heights).execute()).map((r) => r.height),
        );
        for (const v of out.values()) if (v.result !== undefined && finals.has(v.result.height)) v.final = true;
      }
    }
    return out;
  }

  /** The executor's applied height (0 before genesis): from notices once one arrived, else read once. */
  async committedHeight(): Promise<bigint> {
    if (this.knownHeight !== undefined) return this.knownHeight;
    const r = await sql<{ height: bigint }>`select height from checkpoint where id = 1`.execute(this.db);
    const h = r.rows[0]?.height ?? 0n;
    this.noteCommitted(h);
    return h;
  }

  /** Call with each height the executor announces. */
  noteCommitted(height: bigint): void {
    if (this.knownHeight === undefined || height > this.knownHeight) this.knownHeight = height;
    if (this.seenThrough !== undefined && height > this.seenThrough) this.catchUpSeen(height);
  }

  /**
   * The status of one tx id. Lookups made in the same turn of the event loop share one
   * query, so a gateway under load asks the database once per batch, not once per submit.
   */
  status(id: Uint8Array): Promise<KnownStatus | undefined> {
    const key = toHex(id);
    return new Promise((resolve, reject) => {
      const waiting = this.batch.get(key);
      if (waiting !== undefined) waiting.waiters.push({ resolve, reject });
      else this.batch.set(key, { id, waiters: [{ resolve, reject }] });
      if (this.batch.size >= IDS_PER_QUERY_MAX) this.flush();
      else this.flushScheduled ??= setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    if (this.flushScheduled !== undefined) clearImmediate(this.flushScheduled);
    this.flushScheduled = undefined;
    const batch = this.batch;
    this.batch = new Map();
    if (batch.size === 0) return;
    this.statuses([...batch.values()].map((b) => b.id)).then(
      (found) => {
        for (const [key, b] of batch) for (const w of b.waiters) w.resolve(found.get(key));
      },
      (e: unknown) => {
        for (const b of batch.values()) for (const w of b.waiters) w.reject(e);
      },
    );
  }
}
