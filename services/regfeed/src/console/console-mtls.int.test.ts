// The console's production identity: HTTPS that requires a client certificate from the node's
// client CA, the institution taken from the gateway's client map, never from a header. Also the
// configuration's refusal to serve plain HTTP beyond loopback.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Kysely } from "kysely";
import { ConfigError, Env } from "@tally/config";
import { HeightSignal, migrateToLatest, openDb, type Database } from "@tally/db";
import { createCertAuthority, createTestDatabase, hasOpenssl, issueCert, type IssuedCert } from "@tally/testkit";
import { AccessLog } from "../access-log.js";
import { AlertStore } from "../alerts/alert-store.js";
import { consoleConfig } from "./console-config.js";
import { fixtureGenesis } from "./console-fixture.js";
import { startConsole, type RunningConsole } from "./console-server.js";

describe("the console over mTLS", { timeout: 60_000, skip: hasOpenssl() ? false : "openssl is not installed" }, () => {
  const dir = mkdtempSync(join(tmpdir(), "tally-console-mtls-"));
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  let con: RunningConsole;
  let server: IssuedCert;
  const certs = new Map<string, IssuedCert>();

  before(async () => {
    const ca = createCertAuthority(join(dir, "ca"));
    server = issueCert(ca, "console", { kind: "server" });
    for (const cn of ["regulator", "bank-a", "stranger"]) certs.set(cn, issueCert(ca, cn, { kind: "client" }));
    // The same common name from a CA the console does not trust.
    certs.set("other-ca", issueCert(createCertAuthority(join(dir, "other"), "Other CA"), "regulator", { kind: "client" }));
    const map = join(dir, "clients.json");
    writeFileSync(
      map,
      JSON.stringify({
        clients: [
          { institution: "regulator", commonName: "regulator" },
          { institution: "bank-a", commonName: "bank-a" },
        ],
      }),
    );
    const t = await createTestDatabase("tally_console_mtls");
    drop = () => t.drop();
    db = openDb(t.url);
    await migrateToLatest(db);
    const cfg = consoleConfig(
      new Env({
        CONSOLE_ADDR: "127.0.0.1:0",
        CONSOLE_TLS_CERT_FILE: server.certFile,
        CONSOLE_TLS_KEY_FILE: server.keyFile,
        CONSOLE_CLIENT_CA_FILE: server.caFile,
        CONSOLE_CLIENT_MAP_FILE: map,
      }),
    )!;
    const signal = new HeightSignal(200);
    con = await startConsole(
      {
        db,
        genesis: fixtureGenesis,
        access: new AccessLog(db),
        alerts: new AlertStore(db),
        identify: cfg.identify,
        waitForCommit: (s) => signal.wait(s),
        waitForAlerts: (s) => signal.wait(s),
        commitGeneration: () => 0,
        alertGeneration: () => 0,
      },
      cfg.host,
      cfg.port,
      cfg.tls,
    );
  });

  after(async () => {
    await con?.close();
    await db?.destroy();
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (client: IssuedCert | undefined, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const u = new URL(con.url);
      const req = request(
        {
          host: u.hostname,
          port: u.port,
          path: "/api/whoami",
          ca: readFileSync(server.caFile),
          headers,
          ...(client === undefined ? {} : { cert: readFileSync(client.certFile), key: readFileSync(client.keyFile) }),
        },
        (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      req.end();
    });

  test("the regulator's certificate opens it; another institution's is 403 whatever header it sends", async () => {
    assert.match(con.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
    const ok = await call(certs.get("regulator"));
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.body), { institution: "regulator", roles: ["regulator"] });
    const bank = await call(certs.get("bank-a"), { "tally-institution": "regulator", cookie: "tally-institution=regulator" });
    assert.equal(bank.status, 403);
    assert.equal(JSON.parse(bank.body).reason, "NOT_A_REGULATOR");
    const stranger = await call(certs.get("stranger"));
    assert.equal(stranger.status, 401);
    assert.equal(JSON.parse(stranger.body).reason, "UNKNOWN_CLIENT_CERT");
    const rows = await db.selectFrom("access_log").select(["caller", "rpc"]).execute();
    assert.deepEqual(rows, [{ caller: "regulator", rpc: "console:Open" }]);
  });

  test("no certificate, or one from another CA, does not get past TLS", async () => {
    await assert.rejects(call(undefined));
    await assert.rejects(call(certs.get("other-ca")));
    assert.equal((await call(certs.get("regulator"))).status, 200, "still serving");
  });

  test("plain HTTP is refused beyond loopback", () => {
    assert.throws(() => consoleConfig(new Env({ CONSOLE_ADDR: "0.0.0.0:8080" })), ConfigError);
    assert.throws(() => consoleConfig(new Env({ CONSOLE_ADDR: "10.1.2.3:8080" })), ConfigError);
    assert.equal(consoleConfig(new Env({})), undefined);
    assert.equal(consoleConfig(new Env({ CONSOLE_ADDR: "127.0.0.1:0" }))?.tls, undefined);
  });
});
