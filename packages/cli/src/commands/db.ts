import { ConfigError, Env } from "@tally/config";
import { nodeDatabaseRoles, nodeDatabaseRolesSql, setupNodeDatabaseRoles } from "@tally/db";
import type { Args } from "../args.js";

const USAGE = `usage:
  tally db roles [--database <name>]
      print the SQL that gives a node's database its roles (docs/security.md): <db>_w for the
      blockstore, executor and regfeed (owns the schema), <db>_r for the gateway (reads only);
      no other role may connect. The database is --database, else DATABASE_URL's or PGDATABASE, else app
  tally db roles --apply
      as the PostgreSQL admin: migrate the node's database, then run that SQL. The admin's URL of
      the node's database is DATABASE_URL, else made of PGHOST, PGPORT, PGUSER, PGPASSWORD and
      PGDATABASE. DB_WRITER_PASSWORD and DB_READER_PASSWORD, when set, become the roles' passwords
      (leave them unset when CloudNativePG manages the roles)
`;

/** `tally db roles [--apply]`: the per-node PostgreSQL roles of issue 13, printed or applied as admin. */
export async function dbCommand(sub: string | undefined, a: Args, vars: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (sub !== "roles") {
    process.stderr.write(USAGE);
    return 2;
  }
  const env = new Env(vars);
  const passwords = {
    ...optionalPassword(env, "DB_WRITER_PASSWORD", "writer"),
    ...optionalPassword(env, "DB_READER_PASSWORD", "reader"),
  };
  if (a.flags.has("apply")) {
    if (a.flags.has("database")) throw new ConfigError("--database does not go with --apply: the database is the one of the admin's URL");
    const url = adminUrl(env);
    const database = decodeURIComponent(new URL(url).pathname.replace(/^\//, ""));
    const roles = rolesOf(database, "the admin's URL");
    await setupNodeDatabaseRoles(url, roles, passwords);
    console.log(
      `database ${database}: roles ${roles.writer} (blockstore, executor, regfeed) and ${roles.reader} (gateway, read-only) ready`,
    );
    return 0;
  }
  const dbFlag = a.flags.get("database");
  if (dbFlag === true) throw new ConfigError("--database needs a name: --database <name>");
  const fromUrl = env.optional("DATABASE_URL");
  const database =
    dbFlag ??
    (fromUrl !== undefined ? decodeURIComponent(new URL(fromUrl).pathname.replace(/^\//, "")) : undefined) ??
    env.str("PGDATABASE", "app");
  const roles = rolesOf(database, dbFlag !== undefined ? "--database" : "the database name");
  const sql = nodeDatabaseRolesSql(roles, passwords);
  process.stdout.write(
    [
      `-- The roles of node database ${database} (tally db roles). Run as the PostgreSQL admin, in two parts.`,
      "-- 1. Connected to any database of the server:",
      ...sql.cluster.map((s) => `${s};`),
      `-- 2. Connected to database ${database}, after its migrations (tally db roles --apply does both, and migrates):`,
      ...sql.database.map((s) => `${s};`),
      "",
    ].join("\n"),
  );
  return 0;
}

function rolesOf(database: string, where: string): ReturnType<typeof nodeDatabaseRoles> {
  try {
    return nodeDatabaseRoles(database);
  } catch (e) {
    throw new ConfigError(`${where}: ${(e as Error).message} (lower-case letters, digits and '_', at most 61 characters)`);
  }
}

function optionalPassword(env: Env, name: string, key: "writer" | "reader"): { writer?: string } | { reader?: string } {
  const v = env.optional(name);
  if (v === undefined) return {};
  if (v.length < 8 || v.length > 256 || [...v].some((ch) => ch.charCodeAt(0) < 0x20))
    throw new ConfigError(`${name} must be 8 to 256 printable characters`);
  return { [key]: v };
}

/** The admin's URL of the node's database: DATABASE_URL, else libpq's PG* variables. */
function adminUrl(env: Env): string {
  if (env.optional("DATABASE_URL") !== undefined) return env.url("DATABASE_URL", ["postgres:", "postgresql:"]);
  const host = env.optional("PGHOST");
  if (host === undefined) throw new ConfigError("DATABASE_URL or PGHOST is required: the admin's connection to the node's database");
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(host)) throw new ConfigError(`PGHOST is not a host name: "${host}"`);
  const u = new URL("postgresql://localhost");
  u.hostname = host;
  u.port = String(env.int("PGPORT", 5432, 1, 65535));
  u.username = env.str("PGUSER");
  u.password = env.optional("PGPASSWORD") ?? "";
  u.pathname = `/${env.str("PGDATABASE")}`;
  return u.toString();
}
