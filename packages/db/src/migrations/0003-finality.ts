import { sql, type Kysely } from "kysely";

// Frozen in time: never edit a migration that has shipped; add a new one.
// Finality (issue 8): the validator receipts a node's finality tracker verified, the heights a
// quorum of them made final, the divergence records raised when this node's own state root
// disagrees with a quorum's, and the tracker's position in RECEIPTS. Independent of 0002.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("validator_receipts")
    .addColumn("height", "bigint", (c) => c.notNull())
    .addColumn("node_id", "text", (c) => c.notNull())
    .addColumn("block_hash", "bytea", (c) => c.notNull())
    .addColumn("state_root", "bytea", (c) => c.notNull())
    // The exact signed ReceiptBody bytes and the validator's signature over them: evidence.
    .addColumn("body", "bytea", (c) => c.notNull())
    .addColumn("signature", "bytea", (c) => c.notNull())
    .addColumn("received_at_ms", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("validator_receipts_pk", ["height", "node_id"])
    .execute();

  await db.schema
    .createTable("finality")
    .addColumn("height", "bigint", (c) => c.primaryKey())
    .addColumn("block_hash", "bytea", (c) => c.notNull())
    .addColumn("state_root", "bytea", (c) => c.notNull())
    .addColumn("signers", sql`text[]`, (c) => c.notNull())
    .addColumn("final_at_ms", "bigint", (c) => c.notNull())
    // final_at_ms minus the block's timestamp, when the block was stored when it became final.
    .addColumn("lag_ms", "bigint")
    .execute();

  await db.schema
    .createTable("divergence")
    .addColumn("id", "bigint", (c) => c.generatedAlwaysAsIdentity().primaryKey())
    .addColumn("height", "bigint", (c) => c.notNull())
    .addColumn("node_id", "text", (c) => c.notNull())
    .addColumn("quorum_block_hash", "bytea", (c) => c.notNull())
    .addColumn("quorum_state_root", "bytea", (c) => c.notNull())
    .addColumn("own_block_hash", "bytea", (c) => c.notNull())
    .addColumn("own_state_root", "bytea", (c) => c.notNull())
    .addColumn("quorum_signers", sql`text[]`, (c) => c.notNull())
    .addColumn("detected_at_ms", "bigint", (c) => c.notNull())
    .addColumn("resolved_at_ms", "bigint")
    .addColumn("resolved_by", "text")
    .addColumn("resolution_note", "text", (c) => c.notNull().defaultTo(""))
    .addUniqueConstraint("divergence_height_node", ["height", "node_id"])
    .execute();

  // Each restore of a state snapshot (tally node restore): rows of the executor's tables below
  // this height came from the snapshot, not from this node's own replay.
  await db.schema
    .createTable("node_restores")
    .addColumn("id", "bigint", (c) => c.generatedAlwaysAsIdentity().primaryKey())
    .addColumn("height", "bigint", (c) => c.notNull())
    .addColumn("block_hash", "bytea", (c) => c.notNull())
    .addColumn("state_root", "bytea", (c) => c.notNull())
    .addColumn("source_node", "text", (c) => c.notNull())
    .addColumn("state_entries", "bigint", (c) => c.notNull())
    .addColumn("restored_at_ms", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("finality_cursor")
    .addColumn("id", "integer", (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn("receipts_seq", "bigint", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ["finality_cursor", "node_restores", "divergence", "finality", "validator_receipts"]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
