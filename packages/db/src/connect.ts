import { Kysely, Migrator, PostgresDialect, type Migration, type MigrationProvider } from "kysely";
import pg from "pg";
import * as m0001 from "./migrations/0001-node-schema.js";
import * as m0002 from "./migrations/0002-supervision.js";
import * as m0003 from "./migrations/0003-finality.js";
import type { Database } from "./schema.js";

// int8 comes back as a string by default; heights and sequences are bigint in code.
pg.types.setTypeParser(20, (v: string) => BigInt(v));

/** Opens a pooled kysely connection to one node's database. */
export function openDb(url: string, opts: { poolMax?: number; asyncCommit?: boolean } = {}): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolMax ?? 8,
    connectionTimeoutMillis: 5000,
    // See asyncCommit in the blockstore's and executor's main.ts for why this is safe there.
    ...(opts.asyncCommit === true ? { options: "-c synchronous_commit=off" } : {}),
  });
  // An idle client that errors (server restart) must not crash the process; the pool replaces it.
  pool.on("error", () => undefined);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

const migrations: Record<string, Migration> = { "0001-node-schema": m0001, "0002-supervision": m0002, "0003-finality": m0003 };

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations) };

/** Runs every pending migration. Each service calls it at start; kysely's lock makes concurrent runs safe. */
export async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`migration ${failed} failed`, { cause: error });
  }
}

/** Creates a database if it does not exist (used by `tally up` and tests). */
export async function createDatabaseIfMissing(adminUrl: string, name: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new TypeError(`invalid database name ${name}`);
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const r = await c.query("select 1 from pg_database where datname = $1", [name]);
    if (r.rowCount === 0) await c.query(`create database "${name}"`);
  } finally {
    await c.end();
  }
}

/** Drops a database (tests clean up after themselves). */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new TypeError(`invalid database name ${name}`);
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(`drop database if exists "${name}" with (force)`);
  } finally {
    await c.end();
  }
}

/** The URL of another database on the same server as url. */
export function databaseUrl(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}
