import { sql, type Kysely } from "kysely";

// Frozen in time: never edit a migration that has shipped; add a new one.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("blocks")
    .addColumn("height", "bigint", (c) => c.primaryKey())
    .addColumn("hash", "bytea", (c) => c.notNull().unique())
    .addColumn("prev_hash", "bytea", (c) => c.notNull())
    .addColumn("tx_root", "bytea", (c) => c.notNull())
    .addColumn("tx_count", "integer", (c) => c.notNull())
    .addColumn("first_txs_seq", "bigint", (c) => c.notNull())
    .addColumn("last_txs_seq", "bigint", (c) => c.notNull())
    .addColumn("timestamp_ms", "bigint", (c) => c.notNull())
    .addColumn("sequencer_id", "text", (c) => c.notNull())
    .addColumn("epoch", "bigint", (c) => c.notNull())
    .addColumn("header", "bytea", (c) => c.notNull())
    .addColumn("signature", "bytea", (c) => c.notNull())
    .addColumn("raw", "bytea", (c) => c.notNull())
    .addColumn("stored_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable("transactions")
    .addColumn("tx_id", "bytea", (c) => c.primaryKey())
    .addColumn("height", "bigint", (c) => c.notNull().references("blocks.height"))
    .addColumn("tx_index", "integer", (c) => c.notNull())
    .addColumn("signer", "text", (c) => c.notNull())
    .addColumn("contract", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("raw", "bytea", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("transactions_height").on("transactions").columns(["height", "tx_index"]).execute();
  await db.schema.createIndex("transactions_signer").on("transactions").columns(["signer", "height"]).execute();

  await db.schema
    .createTable("checkpoint")
    .addColumn("id", "integer", (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn("height", "bigint", (c) => c.notNull())
    .addColumn("block_hash", "bytea", (c) => c.notNull())
    .addColumn("state_root", "bytea", (c) => c.notNull())
    .addColumn("timestamp_ms", "bigint", (c) => c.notNull())
    .addColumn("last_txs_seq", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("tx_results")
    .addColumn("height", "bigint", (c) => c.notNull())
    .addColumn("tx_index", "integer", (c) => c.notNull())
    .addColumn("tx_id", "bytea", (c) => c.notNull())
    .addColumn("committed", "boolean", (c) => c.notNull())
    .addColumn("authenticated", "boolean", (c) => c.notNull())
    .addColumn("reason_code", "text", (c) => c.notNull())
    .addColumn("message", "text", (c) => c.notNull())
    .addColumn("signer", "text", (c) => c.notNull())
    .addColumn("contract", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("tx_results_pk", ["height", "tx_index"])
    .execute();
  await db.schema.createIndex("tx_results_tx_id").on("tx_results").column("tx_id").execute();

  await db.schema
    .createTable("events")
    .addColumn("position", "bigint", (c) => c.generatedAlwaysAsIdentity().unique())
    .addColumn("height", "bigint", (c) => c.notNull())
    .addColumn("tx_index", "integer", (c) => c.notNull())
    .addColumn("event_index", "integer", (c) => c.notNull())
    .addColumn("tx_id", "bytea", (c) => c.notNull())
    .addColumn("contract", "text", (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("asset_id", "text", (c) => c.notNull())
    .addColumn("parties", sql`text[]`, (c) => c.notNull())
    .addColumn("data", "jsonb", (c) => c.notNull())
    .addColumn("block_time_ms", "bigint", (c) => c.notNull())
    .addColumn("signer", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("events_pk", ["height", "tx_index", "event_index"])
    .execute();
  await db.schema.createIndex("events_asset").on("events").columns(["asset_id", "height"]).execute();
  await db.schema.createIndex("events_tx").on("events").column("tx_id").execute();

  await db.schema
    .createTable("contract_state")
    .addColumn("contract", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("value", "jsonb", (c) => c.notNull())
    .addColumn("height", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("contract_state_pk", ["contract", "key"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ["contract_state", "events", "tx_results", "checkpoint", "transactions", "blocks"]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
