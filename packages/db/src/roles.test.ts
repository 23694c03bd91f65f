// The generated PostgreSQL role SQL (issue 13): pure, quoted, and refusing unsafe names.
import { test } from "node:test";
import assert from "node:assert/strict";
import { databaseUrlAs, nodeDatabaseRoles, nodeDatabaseRolesSql } from "./roles.js";

test("nodeDatabaseRoles names a writer and a reader per database, and refuses unsafe names", () => {
  assert.deepEqual(nodeDatabaseRoles("tally_node_a"), { database: "tally_node_a", writer: "tally_node_a_w", reader: "tally_node_a_r" });
  for (const bad of ['x"; drop role postgres; --', "Node-A", "", "a".repeat(62)])
    assert.throws(() => nodeDatabaseRoles(bad), /invalid/, bad);
});

test("the SQL is the same for the same input, limits CONNECT to the two roles and gives the reader SELECT only", () => {
  const r = nodeDatabaseRoles("tally_node_a");
  const sql = nodeDatabaseRolesSql(r, { writer: "w'pw", reader: "r-pw" });
  assert.deepEqual(sql, nodeDatabaseRolesSql(r, { writer: "w'pw", reader: "r-pw" }));
  const all = [...sql.cluster, ...sql.database].join("\n");
  assert.match(all, /REVOKE ALL ON DATABASE "tally_node_a" FROM PUBLIC/);
  assert.match(all, /GRANT CONNECT, TEMPORARY ON DATABASE "tally_node_a" TO "tally_node_a_w"/);
  assert.match(all, /GRANT CONNECT ON DATABASE "tally_node_a" TO "tally_node_a_r"/);
  assert.match(all, /GRANT SELECT ON ALL TABLES IN SCHEMA public TO "tally_node_a_r"/);
  assert.match(all, /PASSWORD 'w''pw'/, "a quote in a password is doubled");
  // The reader is granted nothing that writes.
  for (const line of all.split("\n").filter((l) => l.includes('TO "tally_node_a_r"')))
    assert.doesNotMatch(line, /INSERT|UPDATE|DELETE|TRUNCATE|ALL PRIVILEGES|OWNER/, line);
  assert.doesNotMatch(nodeDatabaseRolesSql(r).cluster.join("\n"), /PASSWORD/);
});

test("databaseUrlAs swaps the user and password", () => {
  assert.equal(databaseUrlAs("postgres://postgres@127.0.0.1:5432/db", "db_r"), "postgres://db_r@127.0.0.1:5432/db");
  assert.equal(databaseUrlAs("postgres://postgres:x@h/db", "db_w", "p@ss"), "postgres://db_w:p%40ss@h/db");
});
