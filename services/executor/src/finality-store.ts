// The finality tracker's tables (migration 0003): validator_receipts, finality, divergence and
// finality_cursor. Each batch of receipts is written in one transaction with the cursor, so a
// restart resumes from the next unread RECEIPTS sequence and never loses or doubles a row.
import { sql, type Kysely } from "kysely";
import type { Database } from "@tally/db";
import type { Agreement, VerifiedReceipt } from "./finality-tally.js";

const INSERT_ROWS_MAX = 500;
/** Heights below the highest final one whose pending receipts are reloaded at start. */
const RELOAD_HEIGHTS_BACK = 10_000n;
/** Final heights the lag median is taken over. */
const LAG_WINDOW = 101;

/** A divergence: this node signed something other than what a quorum (or the largest group) signed. */
export interface DivergenceRecord {
  readonly height: bigint;
  readonly nodeId: string;
  readonly quorum: Agreement;
  readonly own: { readonly blockHash: Uint8Array; readonly stateRoot: Uint8Array };
}

/** What GetCheckpoint reports about finality. */
export interface FinalityStatus {
  readonly finalHeight: bigint;
  readonly lagMs: bigint;
  readonly lagMsMedian: bigint;
  readonly diverged: boolean;
}

/** One batch of the tracker's work, written atomically. */
export interface FinalityWrite {
  readonly receipts: readonly VerifiedReceipt[];
  readonly finals: readonly Agreement[];
  readonly divergences: readonly DivergenceRecord[];
  /** The RECEIPTS sequence to resume from; undefined leaves the cursor as it is. */
  readonly nextReceiptsSeq: number | undefined;
  readonly nowMs: number;
  /** Block timestamps this node knows (it applied the block); else the blocks table is read. */
  readonly blockTimesMs?: ReadonlyMap<bigint, bigint>;
}

/** Reads and writes the finality tables of one node's database. */
export class FinalityStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** The next RECEIPTS stream sequence to read (1 on a fresh database). */
  async nextReceiptsSeq(): Promise<number> {
    const r = await this.db.selectFrom("finality_cursor").select("receipts_seq").where("id", "=", 1).executeTakeFirst();
    return r === undefined ? 1 : Number(r.receipts_seq);
  }

  /** Stored receipts of heights not final yet (the recent ones), to rebuild the tally after a restart. */
  async pendingReceipts(): Promise<VerifiedReceipt[]> {
    const rows = await sql<{
      height: bigint;
      node_id: string;
      block_hash: Uint8Array;
      state_root: Uint8Array;
      body: Uint8Array;
      signature: Uint8Array;
    }>`select r.height, r.node_id, r.block_hash, r.state_root, r.body, r.signature
         from validator_receipts r left join finality f on f.height = r.height
        where f.height is null
          and r.height > coalesce((select max(height) from finality), -1) - ${RELOAD_HEIGHTS_BACK}
        order by r.height, r.received_at_ms`.execute(this.db);
    return rows.rows.map((r) => ({
      nodeId: r.node_id,
      height: r.height,
      blockHash: r.block_hash,
      stateRoot: r.state_root,
      body: r.body,
      signature: r.signature,
    }));
  }

  /** The agreements recorded for these heights. */
  async finalsAt(heights: readonly bigint[]): Promise<Map<bigint, Agreement>> {
    const out = new Map<bigint, Agreement>();
    if (heights.length === 0) return out;
    const rows = await this.db.selectFrom("finality").selectAll().where("height", "in", heights).execute();
    for (const r of rows) out.set(r.height, { height: r.height, blockHash: r.block_hash, stateRoot: r.state_root, signers: r.signers });
    return out;
  }

  /** This node's own stored receipts at these heights. */
  async receiptsOf(nodeId: string, heights: readonly bigint[]): Promise<Map<bigint, { blockHash: Uint8Array; stateRoot: Uint8Array }>> {
    const out = new Map<bigint, { blockHash: Uint8Array; stateRoot: Uint8Array }>();
    if (heights.length === 0) return out;
    const rows = await this.db
      .selectFrom("validator_receipts")
      .select(["height", "block_hash", "state_root"])
      .where("node_id", "=", nodeId)
      .where("height", "in", heights)
      .execute();
    for (const r of rows) out.set(r.height, { blockHash: r.block_hash, stateRoot: r.state_root });
    return out;
  }

  /** Writes a batch: receipts, finality rows, divergences and the cursor, in one transaction. Re-writing a row is a no-op. */
  async write(w: FinalityWrite): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < w.receipts.length; i += INSERT_ROWS_MAX) {
        await trx
          .insertInto("validator_receipts")
          .values(
            w.receipts.slice(i, i + INSERT_ROWS_MAX).map((r) => ({
              height: r.height,
              node_id: r.nodeId,
              block_hash: r.blockHash,
              state_root: r.stateRoot,
              body: r.body,
              signature: r.signature,
              received_at_ms: BigInt(w.nowMs),
            })),
          )
          .onConflict((c) => c.columns(["height", "node_id"]).doNothing())
          .execute();
      }
      for (let i = 0; i < w.finals.length; i += INSERT_ROWS_MAX) {
        const part = w.finals.slice(i, i + INSERT_ROWS_MAX);
        // lag_ms from the block's own timestamp when the blockstore has stored it (same database).
        await trx
          .insertInto("finality")
          .values(
            part.map((f) => ({
              height: f.height,
              block_hash: f.blockHash,
              state_root: f.stateRoot,
              signers: [...f.signers],
              final_at_ms: BigInt(w.nowMs),
              lag_ms: ((t) =>
                t !== undefined
                  ? BigInt(w.nowMs) - t
                  : sql<bigint | null>`${BigInt(w.nowMs)}::bigint - (select timestamp_ms from blocks where height = ${f.height}::bigint)`)(
                w.blockTimesMs?.get(f.height),
              ),
            })),
          )
          .onConflict((c) => c.column("height").doNothing())
          .execute();
      }
      for (const d of w.divergences) {
        await trx
          .insertInto("divergence")
          .values({
            height: d.height,
            node_id: d.nodeId,
            quorum_block_hash: d.quorum.blockHash,
            quorum_state_root: d.quorum.stateRoot,
            own_block_hash: d.own.blockHash,
            own_state_root: d.own.stateRoot,
            quorum_signers: [...d.quorum.signers],
            detected_at_ms: BigInt(w.nowMs),
          })
          .onConflict((c) => c.columns(["height", "node_id"]).doNothing())
          .execute();
      }
      if (w.nextReceiptsSeq !== undefined) {
        const seq = BigInt(w.nextReceiptsSeq);
        await trx
          .insertInto("finality_cursor")
          .values({ id: 1, receipts_seq: seq })
          .onConflict((c) => c.column("id").doUpdateSet({ receipts_seq: seq }))
          .execute();
      }
    });
  }

  /** Open (unresolved) divergence records. */
  async openDivergences(): Promise<number> {
    const r = await this.db
      .selectFrom("divergence")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("resolved_at_ms", "is", null)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  /** The highest final height, its lag and the median lag of the recent final heights. */
  async status(): Promise<FinalityStatus> {
    const rows = await this.db.selectFrom("finality").select(["height", "lag_ms"]).orderBy("height", "desc").limit(LAG_WINDOW).execute();
    const lags = rows
      .map((r) => r.lag_ms)
      .filter((l): l is bigint => l !== null)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const top = rows[0];
    return {
      finalHeight: top?.height ?? 0n,
      lagMs: top?.lag_ms !== null && top?.lag_ms !== undefined && top.lag_ms > 0n ? top.lag_ms : 0n,
      lagMsMedian: lags.length === 0 ? 0n : lags[Math.floor(lags.length / 2)]! < 0n ? 0n : lags[Math.floor(lags.length / 2)]!,
      diverged: (await this.openDivergences()) > 0,
    };
  }
}

/** Marks every open divergence record resolved by an operator. Returns how many it resolved. */
export async function resolveDivergences(db: Kysely<Database>, by: string, note: string, nowMs: number): Promise<number> {
  const r = await db
    .updateTable("divergence")
    .set({ resolved_at_ms: BigInt(nowMs), resolved_by: by, resolution_note: note })
    .where("resolved_at_ms", "is", null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}
