import { sql, type Kysely } from "kysely";

// Frozen in time: never edit a migration that has shipped; add a new one.
// The regulator node's supervision tables: alerts derived from committed data, the height the
// alert engine has evaluated, the receipts other nodes published, and the feed's access log.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("alerts")
    .addColumn("seq", "bigint", (c) => c.primaryKey())
    .addColumn("rule", "text", (c) => c.notNull())
    .addColumn("rule_id", "text", (c) => c.notNull())
    .addColumn("height", "bigint", (c) => c.notNull())
    .addColumn("tx_id", "bytea", (c) => c.notNull())
    .addColumn("asset_id", "text", (c) => c.notNull())
    .addColumn("subjects", sql`text[]`, (c) => c.notNull())
    .addColumn("summary", "text", (c) => c.notNull())
    .addColumn("details", "jsonb", (c) => c.notNull())
    .addColumn("block_time_ms", "bigint", (c) => c.notNull())
    // What makes an alert the same alert: raising it twice (a restart, a receipt seen again) is a no-op.
    .addColumn("dedupe_key", "text", (c) => c.notNull().unique())
    .addColumn("acked_by", "text")
    .addColumn("acked_at_ms", "bigint")
    .addColumn("ack_note", "text", (c) => c.notNull().defaultTo(""))
    .execute();
  await db.schema.createIndex("alerts_rule_height").on("alerts").columns(["rule", "height"]).execute();

  await db.schema
    .createTable("alert_checkpoint")
    .addColumn("id", "integer", (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn("height", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("node_receipts")
    .addColumn("node_id", "text", (c) => c.notNull())
    .addColumn("height", "bigint", (c) => c.notNull())
    .addColumn("block_hash", "bytea", (c) => c.notNull())
    .addColumn("state_root", "bytea", (c) => c.notNull())
    .addPrimaryKeyConstraint("node_receipts_pk", ["height", "node_id"])
    .execute();

  await db.schema
    .createTable("access_log")
    .addColumn("id", "bigint", (c) => c.generatedAlwaysAsIdentity().primaryKey())
    .addColumn("at_ms", "bigint", (c) => c.notNull())
    .addColumn("caller", "text", (c) => c.notNull())
    .addColumn("rpc", "text", (c) => c.notNull())
    .addColumn("request", "jsonb", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("access_log_caller").on("access_log").columns(["caller", "id"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ["access_log", "node_receipts", "alert_checkpoint", "alerts"]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
