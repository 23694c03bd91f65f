// Least privilege in PostgreSQL (issue 13): each node's services log in as their own roles,
// limited to their node's database. The writer role (blockstore, executor, regfeed) owns the
// schema and its tables; the gateway's role only reads (SELECT) and may LISTEN for heights.
// No role but the two may connect to the database (CONNECT is revoked from PUBLIC).
import pg from "pg";
import { migrateToLatest, openDb } from "./connect.js";

/** The roles of one node's database. */
export interface NodeDatabaseRoles {
  readonly database: string;
  /** Blockstore, executor and regfeed: own the schema (they migrate and write). */
  readonly writer: string;
  /** The gateway: reads only. */
  readonly reader: string;
}

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The role names of a node's database: <database>_w and <database>_r (both lowercased, checked). */
export function nodeDatabaseRoles(database: string): NodeDatabaseRoles {
  const roles = { database, writer: `${database}_w`, reader: `${database}_r` };
  for (const n of Object.values(roles)) if (!NAME.test(n)) throw new TypeError(`invalid database or role name ${n}`);
  return roles;
}

const q = (name: string): string => `"${name}"`;
const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * The SQL that sets up a node's roles, in two parts: `cluster` runs connected to any database
 * (roles and CONNECT); `database` runs connected to the node's database (schema, tables,
 * defaults). Idempotent. A password of undefined makes a role without one (trust or peer auth).
 * Pure: the same input gives the same text.
 */
export function nodeDatabaseRolesSql(
  r: NodeDatabaseRoles,
  passwords: { readonly writer?: string; readonly reader?: string } = {},
): { cluster: string[]; database: string[] } {
  const role = (name: string, password: string | undefined): string[] => {
    const pw = password === undefined ? "" : ` PASSWORD ${literal(password)}`;
    return [
      `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${literal(name)}) THEN CREATE ROLE ${q(name)}; END IF; END $$`,
      `ALTER ROLE ${q(name)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS${pw}`,
    ];
  };
  return {
    cluster: [
      ...role(r.writer, passwords.writer),
      ...role(r.reader, passwords.reader),
      `REVOKE ALL ON DATABASE ${q(r.database)} FROM PUBLIC`,
      `GRANT CONNECT, TEMPORARY ON DATABASE ${q(r.database)} TO ${q(r.writer)}`,
      `GRANT CONNECT ON DATABASE ${q(r.database)} TO ${q(r.reader)}`,
    ],
    database: [
      `REVOKE ALL ON SCHEMA public FROM PUBLIC`,
      `ALTER SCHEMA public OWNER TO ${q(r.writer)}`,
      // Tables made before (by the admin's migrations) pass to the writer.
      `DO $$ DECLARE t record; BEGIN FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace ` +
        `WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') LOOP ` +
        `EXECUTE format('ALTER TABLE public.%I OWNER TO %I', t.relname, ${literal(r.writer)}); END LOOP; END $$`,
      `GRANT USAGE ON SCHEMA public TO ${q(r.reader)}`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${q(r.reader)}`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${q(r.writer)} IN SCHEMA public GRANT SELECT ON TABLES TO ${q(r.reader)}`,
    ],
  };
}

/** SQL that removes a node's roles (tests and teardown); run connected to the node's database, then drop it. */
export function dropNodeDatabaseRolesSql(r: NodeDatabaseRoles): string[] {
  return [
    `DROP OWNED BY ${q(r.reader)}`,
    `DROP OWNED BY ${q(r.writer)}`,
    `DROP ROLE IF EXISTS ${q(r.reader)}`,
    `DROP ROLE IF EXISTS ${q(r.writer)}`,
  ];
}

async function run(url: string, statements: readonly string[]): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    for (const s of statements) await c.query(s);
  } finally {
    await c.end();
  }
}

/**
 * The setup step, as the PostgreSQL admin: migrates the node's database to the latest schema (so
 * the read-only gateway never has to), then creates the roles and hands the tables to the writer.
 * `adminDbUrl` is the admin's URL of the node's own database.
 */
export async function setupNodeDatabaseRoles(
  adminDbUrl: string,
  r: NodeDatabaseRoles,
  passwords: { readonly writer?: string; readonly reader?: string } = {},
): Promise<void> {
  const db = openDb(adminDbUrl, { poolMax: 1 });
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  const sql = nodeDatabaseRolesSql(r, passwords);
  await run(adminDbUrl, [...sql.cluster, ...sql.database]);
}

/** Removes a node's roles (run before dropping its database). */
export async function dropNodeDatabaseRoles(adminDbUrl: string, r: NodeDatabaseRoles): Promise<void> {
  await run(adminDbUrl, dropNodeDatabaseRolesSql(r));
}

/** url with its user (and password) replaced: how a service's DATABASE_URL names its role. */
export function databaseUrlAs(url: string, user: string, password?: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password ?? "";
  return u.toString();
}
