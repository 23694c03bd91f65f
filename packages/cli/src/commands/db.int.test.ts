// `tally db roles` (issue 13), as the Kubernetes Jobs run it, on the machine's PostgreSQL: printed,
// the SQL of @tally/db's nodeDatabaseRolesSql; applied with libpq's PG* variables as admin, it
// migrates the database and makes the writer and the read-only role, with the passwords given;
// run again, nothing changes. Bad input is refused with a reason.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import pg from "pg";
import {
  createDatabaseIfMissing,
  databaseUrl,
  databaseUrlAs,
  dropDatabase,
  dropNodeDatabaseRoles,
  nodeDatabaseRoles,
  nodeDatabaseRolesSql,
} from "@tally/db";
import { repoRoot, testPgAdminUrl, uniqueSuffix } from "@tally/testkit";
import { join } from "node:path";

const cli = join(repoRoot, "packages/cli/dist/main.js");
const admin = testPgAdminUrl();
const roles = nodeDatabaseRoles(`tally_dbcli_${uniqueSuffix()}`);
const writerPw = "writer-test-password";
const readerPw = "reader-test-password";

/** Runs the CLI with only these variables of libpq's (no DATABASE_URL inherited). */
const tally = (args: string[], env: Record<string, string> = {}): { status: number | null; out: string; err: string } => {
  const base = { ...process.env };
  for (const k of ["DATABASE_URL", "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "DB_WRITER_PASSWORD", "DB_READER_PASSWORD"])
    delete base[k];
  const r = spawnSync(process.execPath, [cli, ...args], { env: { ...base, ...env }, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
};

const u = new URL(admin);
const pgEnv = (): Record<string, string> => ({
  PGHOST: u.hostname,
  PGPORT: u.port || "5432",
  PGUSER: decodeURIComponent(u.username) || "postgres",
  ...(u.password !== "" ? { PGPASSWORD: decodeURIComponent(u.password) } : {}),
  PGDATABASE: roles.database,
});

async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

before(async () => {
  await createDatabaseIfMissing(admin, roles.database);
});

after(async () => {
  await dropNodeDatabaseRoles(databaseUrl(admin, roles.database), roles).catch(() => undefined);
  await dropDatabase(admin, roles.database).catch(() => undefined);
});

test("tally db roles prints the SQL of nodeDatabaseRolesSql, for --database or app", () => {
  const r = tally(["db", "roles", "--database", "node_x"]);
  assert.equal(r.status, 0, r.err);
  const sql = nodeDatabaseRolesSql(nodeDatabaseRoles("node_x"));
  for (const s of [...sql.cluster, ...sql.database]) assert.ok(r.out.includes(`${s};`), s);
  assert.doesNotMatch(r.out, /PASSWORD '/, "no password unless given");
  const dflt = tally(["db", "roles"]);
  assert.match(dflt.out, /GRANT CONNECT ON DATABASE "app" TO "app_r"/);
});

test("tally db roles --apply, as admin through PG* variables: migrated, the writer and the read-only role with their passwords", async () => {
  const r = tally(["db", "roles", "--apply"], { ...pgEnv(), DB_WRITER_PASSWORD: writerPw, DB_READER_PASSWORD: readerPw });
  assert.equal(r.status, 0, r.err);
  assert.match(
    r.out,
    new RegExp(`database ${roles.database}: roles ${roles.writer} .* and ${roles.reader} \\(gateway, read-only\\) ready`),
  );
  const db = databaseUrl(admin, roles.database);
  // Migrated, and the tables are the writer's.
  const owners = await query(db, "select distinct tableowner from pg_tables where schemaname = 'public'");
  assert.deepEqual(
    owners.rows.map((x) => x.tableowner),
    [roles.writer],
  );
  // Both roles have a password now (the test server may trust every login, so it is not checked here).
  const pw = await query(
    admin,
    `select rolname from pg_authid where rolname in ('${roles.writer}', '${roles.reader}') and rolpassword is not null`,
  );
  assert.equal(pw.rows.length, 2);
  // The reader reads, and may not write.
  const reader = databaseUrlAs(db, roles.reader, readerPw);
  assert.equal((await query(reader, "select count(*)::int as n from tx_results")).rows[0].n, 0);
  await assert.rejects(query(reader, "delete from tx_results"), (e: unknown) => (e as { code?: string }).code === "42501");
  // Again: idempotent.
  const again = tally(["db", "roles", "--apply"], { DATABASE_URL: db });
  assert.equal(again.status, 0, again.err);
});

test("tally db roles refuses bad input with a reason", () => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [["db", "roles", "--database", "Bad-Name"], {}, /--database: invalid database or role name Bad-Name/],
    [["db", "roles", "--database"], {}, /--database needs a name/],
    [["db", "roles", "--apply"], {}, /DATABASE_URL or PGHOST is required/],
    [["db", "roles", "--apply"], { PGHOST: "db/../x", PGUSER: "u", PGDATABASE: "app" }, /PGHOST is not a host name: "db\/..\/x"/],
    [["db", "roles", "--apply"], { PGHOST: "db", PGUSER: "u", PGDATABASE: "app", PGPORT: "99999" }, /PGPORT/],
    [["db", "roles", "--apply"], { PGHOST: "db", PGDATABASE: "app" }, /PGUSER is required/],
    [["db", "roles", "--apply"], { DATABASE_URL: "mysql://x@db/app" }, /DATABASE_URL must be a postgres: or postgresql:\/\/ URL/],
    [["db", "roles", "--apply"], { DATABASE_URL: "postgres://x@db/Not-A-Db" }, /the admin's URL: invalid database or role name Not-A-Db/],
    [["db", "roles", "--apply", "--database", "x"], { DATABASE_URL: "postgres://x@db/app" }, /--database does not go with --apply/],
    [["db", "roles"], { DB_WRITER_PASSWORD: "short" }, /DB_WRITER_PASSWORD must be 8 to 256 printable characters/],
    [["db", "nothing"], {}, /usage:/],
  ];
  for (const [args, env, re] of cases) {
    const r = tally(args, env);
    assert.notEqual(r.status, 0, `${args.join(" ")} ${JSON.stringify(env)}`);
    assert.match(r.err, re, `${args.join(" ")}: ${r.err}`);
  }
});
