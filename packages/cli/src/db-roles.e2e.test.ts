// A local network whose services log in as per-node PostgreSQL roles (issue 13): a transaction
// commits through the gateway, the gateway's connections are the read-only role's, and that
// role cannot write tx_results even though it is the one the gateway really uses.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { TxOutcome } from "@tally/proto/types";
import { busNames, connectBus, deleteNamespace } from "@tally/bus";
import { databaseUrl, databaseUrlAs, dropDatabase, dropNodeDatabaseRoles, nodeDatabaseRoles } from "@tally/db";
import { signerFromKeyFile, TallyClient } from "@tally/sdk";
import {
  gatewayCredentials,
  LocalNetwork,
  testNatsUrl,
  testPgAdminUrl,
  uniqueNamespace,
  uniqueSuffix,
  writeConsortium,
  type ConsortiumFiles,
  type ConsortiumPlan,
} from "@tally/testkit";

const PLAN: ConsortiumPlan = {
  chainId: "tally-dbroles",
  institutions: [{ id: "bank-a", name: "Bank A", roles: ["bank"], node: "node-a" }],
  nodes: [{ id: "node-a", institution: "bank-a" }],
  sequencers: [{ id: "seq-1", institution: "bank-a" }],
};

describe("services under per-node PostgreSQL roles", () => {
  const dir = mkdtempSync(join(tmpdir(), "tally-dbroles-e2e-"));
  const namespace = uniqueNamespace("dr");
  const dbName = `tally_dr_${uniqueSuffix()}_node_a`;
  const roles = nodeDatabaseRoles(dbName);
  const admin = testPgAdminUrl();
  let net: LocalNetwork;
  let files: ConsortiumFiles;

  before(async () => {
    files = writeConsortium(dir, PLAN, Date.now());
    net = await LocalNetwork.start({
      dir,
      plan: PLAN,
      files,
      natsUrl: testNatsUrl(),
      pgAdminUrl: admin,
      namespace,
      databasePrefix: dbName.slice(0, -"_node_a".length),
      databaseRoles: {},
    });
  });

  after(async () => {
    await net?.stop();
    const bus = await connectBus({ url: testNatsUrl(), name: "dbroles-cleanup" });
    await deleteNamespace(bus.jsm, busNames(namespace));
    await bus.nc.close();
    await dropNodeDatabaseRoles(databaseUrl(admin, dbName), roles).catch(() => undefined);
    await dropDatabase(admin, dbName).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  test("a transaction commits; the gateway connects as the reader, the others as the writer, and the reader cannot write", async () => {
    const inst = net.endpoints.institutions[0]!;
    const c = new TallyClient(
      inst.gateway,
      PLAN.chainId,
      signerFromKeyFile(files.keyFiles.get("bank-a")!),
      gatewayCredentials(files, "bank-a"),
    );
    try {
      const u = await c.submitAndWait(c.notary.register({ hash: "12".repeat(32), title: "under database roles" }));
      assert.equal(u.result?.outcome, TxOutcome.TX_OUTCOME_COMMITTED, u.result?.reasonCode);
    } finally {
      c.close();
    }
    const a = new pg.Client({ connectionString: admin });
    await a.connect();
    try {
      const users = (await a.query("select distinct usename from pg_stat_activity where datname = $1", [dbName])).rows.map(
        (r: { usename: string }) => r.usename,
      );
      assert.deepEqual(users.sort(), [roles.reader, roles.writer].sort(), "only the node's two roles are connected");
    } finally {
      await a.end();
    }
    const r = new pg.Client({ connectionString: databaseUrlAs(databaseUrl(admin, dbName), roles.reader) });
    await r.connect();
    try {
      assert.equal((await r.query("select count(*)::int as n from tx_results where committed")).rows[0].n, 1);
      await assert.rejects(
        () => r.query("delete from tx_results"),
        (e: unknown) => (e as { code?: string }).code === "42501",
      );
    } finally {
      await r.end();
    }
  });
});
