// PostgreSQL roles on the real server (issue 13): each node's services log in as their own roles.
// The gateway's role reads but cannot INSERT into tx_results; a node's roles cannot connect to
// another node's database; the writer owns the schema and migrates; the reader starts (its
// migrateToLatest finds nothing to do) without writing.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { createDatabaseIfMissing, databaseUrl, dropDatabase, migrateToLatest, openDb } from "./connect.js";
import { databaseUrlAs, dropNodeDatabaseRoles, nodeDatabaseRoles, setupNodeDatabaseRoles } from "./roles.js";

const admin = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const suffix = randomBytes(4).toString("hex");
const a = nodeDatabaseRoles(`tally_roles_${suffix}_node_a`);
const b = nodeDatabaseRoles(`tally_roles_${suffix}_node_b`);
const INSERT_RESULT =
  "insert into tx_results (height, tx_index, tx_id, committed, authenticated, reason_code, message, signer, contract, action) " +
  "values (1, 0, '\\x00', true, true, '', '', 'bank-a', 'cash', 'issue')";
const urlOf = (db: string, role: string): string => databaseUrlAs(databaseUrl(admin, db), role);

async function asRole<T>(url: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

/** Asserts that f fails with this SQLSTATE (42501: insufficient privilege). */
async function refused(f: () => Promise<unknown>, code: string, what: string): Promise<void> {
  await assert.rejects(f, (e: unknown) => (e as { code?: string }).code === code, what);
}

describe("per-node PostgreSQL roles", () => {
  before(async () => {
    for (const r of [a, b]) {
      await createDatabaseIfMissing(admin, r.database);
      await setupNodeDatabaseRoles(databaseUrl(admin, r.database), r);
    }
  });

  after(async () => {
    for (const r of [a, b]) {
      await dropNodeDatabaseRoles(databaseUrl(admin, r.database), r).catch(() => undefined);
      await dropDatabase(admin, r.database).catch(() => undefined);
    }
  });

  test("the gateway's role reads tx_results but cannot INSERT, UPDATE, DELETE or create tables", async () => {
    await asRole(urlOf(a.database, a.reader), async (c) => {
      assert.equal((await c.query("select count(*)::int as n from tx_results")).rows[0].n, 0);
      await refused(() => c.query(INSERT_RESULT), "42501", "INSERT into tx_results");
      await refused(() => c.query("update tx_results set height = 2"), "42501", "UPDATE tx_results");
      await refused(() => c.query("delete from blocks"), "42501", "DELETE from blocks");
      await refused(() => c.query("truncate contract_state"), "42501", "TRUNCATE contract_state");
      await refused(() => c.query("create table sneaky (x int)"), "42501", "CREATE TABLE");
      await c.query("listen tally_heights"); // LISTEN needs no privilege: the gateway follows heights.
    });
  });

  test("the reader's migrateToLatest finds nothing to do and succeeds (the gateway starts read-only)", async () => {
    const db = openDb(urlOf(a.database, a.reader), { poolMax: 1 });
    try {
      await migrateToLatest(db);
    } finally {
      await db.destroy();
    }
  });

  test("the writer owns the schema: it writes, and what it creates the reader may read but not write", async () => {
    await asRole(urlOf(a.database, a.writer), async (c) => {
      await c.query("create table scratch (x int)");
      await c.query("insert into scratch values (1)");
      await c.query(INSERT_RESULT);
      await c.query("delete from tx_results");
    });
    await asRole(urlOf(a.database, a.reader), async (c) => {
      assert.equal((await c.query("select x from scratch")).rows[0].x, 1);
      await refused(() => c.query("insert into scratch values (2)"), "42501", "INSERT into scratch");
    });
  });

  test("a node's roles cannot connect to another node's database, nor can a role without a grant", async () => {
    for (const [db, role] of [
      [b.database, a.writer],
      [b.database, a.reader],
      [a.database, b.writer],
      [a.database, b.reader],
    ] as const) {
      await refused(() => asRole(urlOf(db, role), (c) => c.query("select 1")), "42501", `${role} into ${db}`);
    }
    // Each may connect to its own.
    for (const r of [a, b]) for (const role of [r.writer, r.reader]) await asRole(urlOf(r.database, role), (c) => c.query("select 1"));
  });
});
