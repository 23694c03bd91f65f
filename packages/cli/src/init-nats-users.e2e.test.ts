// `tally init` writes the NATS users (issue 13): nats/authorization.conf and nats/passwords.json,
// both mode 0600 in a 0700 folder; a second init keeps them; an older directory gets them, keeping
// the passwords it had that nats-server can read. `tally up` runs its nats-server with what init
// wrote: a password changed in passwords.json is the one the server takes, and the services,
// connecting as their users with the file's passwords, commit a transaction. Broken files are
// refused with a reason before anything starts.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectBus } from "@tally/bus";
import { loadGenesis } from "@tally/config";
import { dropDatabase } from "@tally/db";
import { genesisHash, toHex } from "@tally/ledger";
import { repoRoot, SAMPLE_CONSORTIUM, ServiceProcess, testPgAdminUrl } from "@tally/testkit";

const cli = join(repoRoot, "packages/cli/dist/main.js");
const clean = (): NodeJS.ProcessEnv => {
  const e = { ...process.env };
  delete e.NATS_URL;
  delete e.TALLY_NAMESPACE;
  delete e.TALLY_NATS_TLS;
  return e;
};
const tally = (home: string, args: string[], env: Record<string, string> = {}): { status: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [cli, ...args], {
    env: { ...clean(), TALLY_HOME: home, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
};
const homes: string[] = [];
const newHome = (): string => {
  const h = mkdtempSync(join(tmpdir(), "tally-init-nats-"));
  homes.push(h);
  return h;
};
const USERS = [
  "admin",
  "sequencer-seq-exchange",
  "sequencer-seq-clearing",
  "gateway-node-exchange",
  "gateway-node-clearing",
  "gateway-node-bank-a",
  "gateway-node-regulator",
  "node-node-exchange",
  "node-node-clearing",
  "node-node-bank-a",
  "node-node-regulator",
  "regulator",
];

after(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

describe("tally init writes the NATS users", () => {
  test("authorization.conf and passwords.json, private; kept by a second init, new with --force", () => {
    const home = newHome();
    const r = tally(home, ["init"]);
    assert.equal(r.status, 0, r.err);
    assert.match(r.out, /wrote the NATS users \(12\)/);
    const conf = join(home, "nats", "authorization.conf");
    const pwFile = join(home, "nats", "passwords.json");
    assert.equal(statSync(join(home, "nats")).mode & 0o777, 0o700);
    for (const f of [conf, pwFile]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
    const passwords = JSON.parse(readFileSync(pwFile, "utf8")) as Record<string, string>;
    assert.deepEqual(Object.keys(passwords).sort(), [...USERS].sort());
    for (const p of Object.values(passwords)) assert.match(p, /^p[0-9a-f]{36}$/);
    const text = readFileSync(conf, "utf8");
    assert.match(text, /# bus namespace: tally\n/);
    for (const u of USERS)
      assert.match(text, new RegExp(`user: "${u}"\\n\\s+password: \\$TALLY_NATS_PASSWORD_${u.toUpperCase().replace(/-/g, "_")}\\n`));
    for (const p of Object.values(passwords)) assert.ok(!text.includes(p), "no password in the conf");
    // Again: both kept.
    const again = tally(home, ["init"]);
    assert.equal(again.status, 0, again.err);
    assert.doesNotMatch(again.out, /wrote the NATS users/);
    assert.equal(readFileSync(conf, "utf8"), text);
    assert.deepEqual(JSON.parse(readFileSync(pwFile, "utf8")), passwords);
    // A new chain: new passwords.
    assert.equal(tally(home, ["init", "--force"]).status, 0);
    const fresh = JSON.parse(readFileSync(pwFile, "utf8")) as Record<string, string>;
    for (const u of USERS) assert.notEqual(fresh[u], passwords[u], u);
  });

  test("an older directory (passwords.json of an older tally up, no authorization.conf) gets the conf, keeping the passwords nats-server can read", () => {
    const home = newHome();
    assert.equal(tally(home, ["init"]).status, 0);
    unlinkSync(join(home, "nats", "authorization.conf"));
    // An older tally up wrote base64url passwords, which may start with a digit (nats-server refuses those from the environment).
    writeFileSync(join(home, "nats", "passwords.json"), JSON.stringify({ admin: "0digitFirst-abc", regulator: "keptPassword-123" }));
    const r = tally(home, ["init"]);
    assert.equal(r.status, 0, r.err);
    assert.match(r.out, /exists; keeping it/);
    assert.match(r.out, /wrote the NATS users \(12\)/);
    const passwords = JSON.parse(readFileSync(join(home, "nats", "passwords.json"), "utf8")) as Record<string, string>;
    assert.equal(passwords.regulator, "keptPassword-123");
    assert.match(passwords.admin!, /^p[0-9a-f]{36}$/);
    assert.ok(existsSync(join(home, "nats", "authorization.conf")));
  });

  test("broken NATS user files are refused with a reason, before anything starts", () => {
    const home = newHome();
    assert.equal(tally(home, ["init"]).status, 0);
    const pwFile = join(home, "nats", "passwords.json");
    const good = readFileSync(pwFile, "utf8");
    const cases: [string, () => void, RegExp][] = [
      ["garbage JSON", () => writeFileSync(pwFile, "{not json"), /cannot read .*passwords.json/],
      ["not an object", () => writeFileSync(pwFile, "[1, 2]"), /passwords.json must be a JSON object of user → password/],
      [
        "a user without a password",
        () => {
          const p = JSON.parse(good);
          delete p["gateway-node-bank-a"];
          writeFileSync(pwFile, JSON.stringify(p));
        },
        /passwords.json has no password for NATS user gateway-node-bank-a: delete .*authorization.conf and run `tally init`/,
      ],
      [
        "a password nats-server cannot read",
        () => writeFileSync(pwFile, JSON.stringify({ ...JSON.parse(good), admin: "1digit-first" })),
        /the password of admin is not one nats-server can read from its environment/,
      ],
    ];
    for (const [what, breakIt, re] of cases) {
      breakIt();
      const r = tally(home, ["up"], { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" });
      assert.notEqual(r.status, 0, what);
      assert.match(r.err, re, `${what}: ${r.err}`);
      assert.doesNotMatch(r.out, /started nats-server/, what);
      writeFileSync(pwFile, good);
    }
    // Written for another bus namespace.
    const r = tally(home, ["up"], { TALLY_NAMESPACE: "other", DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" });
    assert.notEqual(r.status, 0);
    assert.match(r.err, /authorization.conf is for bus namespace tally, not other/);
  });
});

describe("tally up runs its nats-server with the users tally init wrote", () => {
  const home = newHome();
  const admin = testPgAdminUrl();
  let up: ServiceProcess | undefined;

  after(async () => {
    await up?.stop("SIGINT", 20_000);
    const genesis = join(home, "genesis.json");
    const tag = existsSync(genesis) ? toHex(genesisHash(loadGenesis(genesis))).slice(0, 8) : undefined;
    if (tag !== undefined)
      for (const n of SAMPLE_CONSORTIUM.nodes)
        await dropDatabase(admin, `tally_${tag}_${n.id.replace(/[^a-z0-9]/g, "_")}`).catch(() => undefined);
  });

  test("a password set in passwords.json is the server's, and the services commit with theirs", async () => {
    assert.equal(tally(home, ["init"]).status, 0);
    const pwFile = join(home, "nats", "passwords.json");
    const passwords = JSON.parse(readFileSync(pwFile, "utf8")) as Record<string, string>;
    passwords.regulator = "chosenByTheTest-42";
    writeFileSync(pwFile, JSON.stringify(passwords, null, 2));
    const confBefore = readFileSync(join(home, "nats", "authorization.conf"), "utf8");
    const saved = process.env;
    process.env = clean();
    try {
      up = new ServiceProcess("tally-up", [process.execPath, cli, "up"], { TALLY_HOME: home, DATABASE_URL: admin });
    } finally {
      process.env = saved;
    }
    await up.waitForLine(/Ctrl-C stops/, 120_000);
    assert.equal(readFileSync(join(home, "nats", "authorization.conf"), "utf8"), confBefore, "up used the conf as init wrote it");
    assert.deepEqual(JSON.parse(readFileSync(pwFile, "utf8")), passwords, "and the passwords");
    const net = JSON.parse(readFileSync(join(home, "network.json"), "utf8"));
    const port = /:(\d+)$/.exec(net.nats)![1];
    // The server takes the file's password for the regulator, and refuses another.
    const reg = await connectBus({ url: `nats://regulator:chosenByTheTest-42@127.0.0.1:${port}`, name: "regulator" });
    await reg.nc.close();
    await assert.rejects(connectBus({ url: `nats://regulator:wrong-password-1@127.0.0.1:${port}`, name: "regulator" }), /Authorization/i);
    // Every service connected as its own user, with the file's password: a transaction commits.
    const r = spawnSync(
      process.execPath,
      [cli, "submit", "--as", "bank-a", "notary", "register", JSON.stringify({ hash: "57".repeat(32), title: "init users" })],
      { env: { ...clean(), TALLY_HOME: home }, encoding: "utf8", timeout: 60_000 },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    // A node may pass straight from ACCEPTED to FINAL (finality is fast here): either ends it, OK.
    assert.match(r.stdout, /(COMMITTED|FINAL) at height \d+: OK/);
  });
});
