import { sql, type Kysely } from "kysely";
import type { Database } from "@tally/db";
import { HEIGHT_CHANNEL, heightNoticePayload, preparedQuery } from "@tally/db";
import { decodeSignedTx, leafTxId, type ChainTip, type SealedBlock } from "@tally/ledger";

const INSERT_ROWS_MAX = 500;
/** Batches up to this many block bytes are stored in one statement (array parameters travel as hex text). */
const ONE_STATEMENT_BYTES_MAX = 2 * 1024 * 1024;

/**
 * appendMany in one statement (one transaction, planned once): the blocks ($1..$13), their
 * transactions ($14..$20; a tx id seen before, or earlier in the same statement, keeps its first
 * inclusion), and the height notice ($21, $22) at commit. The transactions' foreign key to
 * blocks is checked at the end of the statement, when the blocks are in.
 */
const APPEND_SQL = `
  with b as (
    insert into blocks (height, hash, prev_hash, tx_root, tx_count, first_txs_seq, last_txs_seq, timestamp_ms, sequencer_id, epoch,
                        header, signature, raw)
    select * from unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bytea[], $5::int[], $6::bigint[], $7::bigint[], $8::bigint[],
                         $9::text[], $10::bigint[], $11::bytea[], $12::bytea[], $13::bytea[])
  ),
  t as (
    insert into transactions (tx_id, height, tx_index, signer, contract, action, raw)
    select * from unnest($14::bytea[], $15::bigint[], $16::int[], $17::text[], $18::text[], $19::text[], $20::bytea[])
    on conflict (tx_id) do nothing
  )
  select pg_notify($21::text, $22::text)`;

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
        // Decoded once: a leaf that decodes has the tx id as its leaf id; others need leafTxId.
        const d = decodeSignedTx(raw);
        return {
          tx_id: d.ok ? d.tx.id : leafTxId(raw),
          height: b.header.height,
          tx_index: i,
          signer: d.ok ? (d.tx.body.signer?.institutionId ?? "") : "",
          contract: d.ok ? d.tx.body.contract : "",
          action: d.ok ? d.tx.body.action : "",
          raw,
        };
      }),
    );
    const notice = heightNoticePayload({ source: "blockstore", height: last.header.height, membershipChanged: false });
    const bytes = blocks.reduce((n, b) => n + b.bytes.byteLength, 0);
    if (bytes <= ONE_STATEMENT_BYTES_MAX) {
      // The usual case (blocks as they come): one prepared statement, rows as array parameters.
      await preparedQuery(this.db, "tally_append_blocks", APPEND_SQL, [
        blockRows.map((r) => r.height),
        blockRows.map((r) => r.hash),
        blockRows.map((r) => r.prev_hash),
        blockRows.map((r) => r.tx_root),
        blockRows.map((r) => r.tx_count),
        blockRows.map((r) => r.first_txs_seq),
        blockRows.map((r) => r.last_txs_seq),
        blockRows.map((r) => r.timestamp_ms),
        blockRows.map((r) => r.sequencer_id),
        blockRows.map((r) => r.epoch),
        blockRows.map((r) => r.header),
        blockRows.map((r) => r.signature),
        blockRows.map((r) => r.raw),
        txRows.map((r) => r.tx_id),
        txRows.map((r) => r.height),
        txRows.map((r) => r.tx_index),
        txRows.map((r) => r.signer),
        txRows.map((r) => r.contract),
        txRows.map((r) => r.action),
        txRows.map((r) => r.raw),
        HEIGHT_CHANNEL,
        notice,
      ]);
      return;
    }
    // Large batches (a blockstore catching up on big blocks): binary parameters, a few blocks per
    // statement, under PostgreSQL's parameter limit, in one transaction.
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
      await sql`select pg_notify(${HEIGHT_CHANNEL}, ${notice})`.execute(trx);
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
