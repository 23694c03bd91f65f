// `tally up` with the opt-in hardening of issue 13, as real processes: --nats-tls (a TLS-only
// nats-server with a CA made by openssl) and TALLY_DB_ROLES=1 (per-node PostgreSQL roles, on
// the machine's PostgreSQL). A transaction submitted with the real `tally submit` commits.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { databaseUrl, dropDatabase, dropNodeDatabaseRoles, nodeDatabaseRoles } from "@tally/db";
import { loadGenesis } from "@tally/config";
import { genesisHash, toHex } from "@tally/ledger";
import { hasOpenssl, SAMPLE_CONSORTIUM, ServiceProcess, repoRoot, testPgAdminUrl } from "@tally/testkit";

const cli = join(repoRoot, "packages/cli/dist/main.js");

describe("tally up --nats-tls with TALLY_DB_ROLES=1", { skip: hasOpenssl() ? false : "openssl is not installed" }, () => {
  const home = mkdtempSync(join(tmpdir(), "tally-up-hardened-"));
  const admin = testPgAdminUrl();
  const env: Record<string, string> = { TALLY_HOME: home, DATABASE_URL: admin, TALLY_DB_ROLES: "1" };
  let up: ServiceProcess | undefined;

  after(async () => {
    await up?.stop("SIGINT", 20_000);
    // Named as tally up names them (from the genesis), so a start that failed half-way is cleaned up too.
    const genesis = join(home, "genesis.json");
    const tag = existsSync(genesis) ? toHex(genesisHash(loadGenesis(genesis))).slice(0, 8) : undefined;
    const databases = tag === undefined ? [] : SAMPLE_CONSORTIUM.nodes.map((n) => `tally_${tag}_${n.id.replace(/[^a-z0-9]/g, "_")}`);
    for (const db of databases) {
      await dropNodeDatabaseRoles(databaseUrl(admin, db), nodeDatabaseRoles(db)).catch(() => undefined);
      await dropDatabase(admin, db).catch(() => undefined);
    }
    rmSync(home, { recursive: true, force: true });
  });

  test("starts over TLS with database roles, and a submitted transaction commits", async () => {
    const saved = process.env.NATS_URL;
    delete process.env.NATS_URL;
    try {
      up = new ServiceProcess("tally-up", [process.execPath, cli, "up", "--nats-tls"], env);
    } finally {
      if (saved !== undefined) process.env.NATS_URL = saved;
    }
    await up.waitForLine(/Ctrl-C stops/, 120_000);
    const net = JSON.parse(readFileSync(join(home, "network.json"), "utf8"));
    assert.match(net.nats, /^tls:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(existsSync(join(home, "nats", "tls", "ca.pem")));
    const conf = readFileSync(join(home, "nats", "nats.conf"), "utf8");
    assert.match(conf, /tls \{/);

    const r = spawnSync(
      process.execPath,
      [cli, "submit", "--as", "bank-a", "notary", "register", JSON.stringify({ hash: "56".repeat(32), title: "hardened" })],
      {
        env: { ...process.env, TALLY_HOME: home },
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    // A node may pass straight from ACCEPTED to FINAL (finality is fast here): either ends it, OK.
    assert.match(r.stdout, /(COMMITTED|FINAL) at height \d+: OK/);
  });
});
