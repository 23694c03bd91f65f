import { sql, type Kysely } from "kysely";
import type { Database } from "@tally/db";
import { HEIGHT_CHANNEL, heightNoticePayload } from "@tally/db";
import { decodeSignedTx, leafTxId, type ChainTip, type SealedBlock } from "@tally/ledger";

const INSERT_ROWS_MAX = 500;

/** The blockstore's tables: verified blocks and the first inclusion of each transaction. */
export class BlockStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** The highest stored block, or undefined before genesis. */
  async tip(): Promise<ChainTip | undefined> {
    const r = await this.db
      .selectFrom("blocks")
      .select(["height", "hash", "timestamp_ms", "last_txs_seq"])
      .orderBy("height", "desc")
      .limit(1)
      .executeTakeFirst();
    return r === undefined ? undefined : { height: r.height, hash: r.hash, timestampMs: r.timestamp_ms, lastTxsSeq: r.last_txs_seq };
  }

  /** Stores a verified block and its transactions in one database transaction, then notifies listeners. */
  append(b: SealedBlock): Promise<void> {
    return this.appendMany([b]);
  }

  /**
   * Stores verified consecutive blocks and their transactions in one database transaction,
   * then notifies listeners once, with the last height.
   */
  async appendMany(blocks: readonly SealedBlock[]): Promise<void> {
    const last = blocks.at(-1);
    if (last === undefined) return;
    const blockRows = blocks.map((b) => {
      const h = b.header;
      return {
        height: h.height,
        hash: b.hash,
        prev_hash: h.prevHash,
        tx_root: h.txRoot,
        tx_count: h.txCount,
        first_txs_seq: h.firstTxsSeq,
        last_txs_seq: h.lastTxsSeq,
        timestamp_ms: h.timestampMs,
        sequencer_id: h.sequencerId,
        epoch: h.epoch,
        header: b.block.header,
        signature: b.block.signature,
        raw: b.bytes,
      };
    });
    const txRows = blocks.flatMap((b) =>
      b.block.txs.map((raw, i) => {
        const d = decodeSignedTx(raw);
        return {
          tx_id: leafTxId(raw),
          height: b.header.height,
          tx_index: i,
          signer: d.ok ? (d.tx.body.signer?.institutionId ?? "") : "",
          contract: d.ok ? d.tx.body.contract : "",
          action: d.ok ? d.tx.body.action : "",
          raw,
        };
      }),
    );
    // Keep statements under PostgreSQL's parameter limit: raw blocks can be large, so few per statement.
    const BLOCK_ROWS_MAX = 16;
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < blockRows.length; i += BLOCK_ROWS_MAX)
        await trx
          .insertInto("blocks")
          .values(blockRows.slice(i, i + BLOCK_ROWS_MAX))
          .execute();
      for (let i = 0; i < txRows.length; i += INSERT_ROWS_MAX) {
        // A tx id seen before (a replay the executor will reject) keeps its first inclusion.
        await trx
          .insertInto("transactions")
          .values(txRows.slice(i, i + INSERT_ROWS_MAX))
          .onConflict((oc) => oc.column("tx_id").doNothing())
          .execute();
      }
      await sql`select pg_notify(${HEIGHT_CHANNEL}, ${heightNoticePayload({ source: "blockstore", height: last.header.height, membershipChanged: false })})`.execute(
        trx,
      );
    });
  }

  async blockAt(height: bigint): Promise<Uint8Array | undefined> {
    const r = await this.db.selectFrom("blocks").select("raw").where("height", "=", height).executeTakeFirst();
    return r?.raw;
  }

  /** Raw blocks from a height, at most limit of them. */
  async blocksFrom(height: bigint, limit: number): Promise<{ height: bigint; raw: Uint8Array }[]> {
    return this.db.selectFrom("blocks").select(["height", "raw"]).where("height", ">=", height).orderBy("height").limit(limit).execute();
  }

  async txById(txId: Uint8Array): Promise<{ height: bigint; tx_index: number; raw: Uint8Array } | undefined> {
    return this.db.selectFrom("transactions").select(["height", "tx_index", "raw"]).where("tx_id", "=", txId).executeTakeFirst();
  }
}
