// `tally bus users` renders the per-role NATS users from a genesis, with passwords read from the
// environment; a real nats-server runs with it; `tally bus setup` makes the streams as admin, and
// is refused as any other user.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { busNames, connectBus, natsPasswordVar } from "@tally/bus";
import { findNatsServer, freePort, NATS_INSTALL_HINT, repoRoot, SAMPLE_CONSORTIUM, ServiceProcess, writeConsortium } from "@tally/testkit";
import { parseHosts } from "./bus.js";

const cli = join(repoRoot, "packages/cli/dist/main.js");
const dir = mkdtempSync(join(tmpdir(), "tally-bus-cli-"));
const files = writeConsortium(dir, SAMPLE_CONSORTIUM, Date.now());
const names = busNames("tally");
const users = ["admin", "node-node-bank-a", "gateway-node-clearing", "sequencer-seq-exchange", "regulator"];
// nats-server parses a variable's value as a configuration value: a password must start with a
// letter (or be quoted), or the server refuses the file.
const password = (): string => `p${randomBytes(9).toString("hex")}`;
const passwords = Object.fromEntries(users.map((u) => [u, password()]));
let nats: ServiceProcess;
let port: number;

const tally = (args: string[], env: Record<string, string> = {}): { status: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [cli, ...args], { env: { ...process.env, ...env } });
  return { status: r.status, out: r.stdout.toString(), err: r.stderr.toString() };
};
const urlOf = (u: string): string => `nats://${u}:${passwords[u]!}@127.0.0.1:${port}`;

before(async () => {
  const r = tally(["bus", "users", "--genesis", files.genesisFile, "--hosts", "node-clearing:clearing-b,bank-b"]);
  assert.equal(r.status, 0, r.err);
  const bin = findNatsServer();
  if (bin === undefined) throw new Error(NATS_INSTALL_HINT);
  port = await freePort();
  mkdirSync(join(dir, "js"));
  const conf = join(dir, "nats.conf");
  writeFileSync(conf, `listen: "127.0.0.1:${port}"\njetstream { store_dir: "${join(dir, "js")}" }\n${r.out}`, { mode: 0o600 });
  // Every user's password variable must be set for nats-server to start; only some are used here.
  const env: Record<string, string> = {};
  for (const m of r.out.matchAll(/password: \$(TALLY_NATS_PASSWORD_[A-Z0-9_]+)/g)) env[m[1]!] = password();
  for (const u of users) env[natsPasswordVar(u)] = passwords[u]!;
  nats = new ServiceProcess("nats-server", [bin, "-c", conf], env);
  await nats.waitForLine(/Server is ready/, 15_000);
});

after(async () => {
  await nats?.stop("SIGTERM", 5000);
  rmSync(dir, { recursive: true, force: true });
});

test("tally bus users: each password is an environment variable, each gateway's hosted institutions are its subjects", () => {
  const r = tally(["bus", "users", "--genesis", files.genesisFile, "--hosts", "node-clearing:clearing-b,bank-b"]);
  assert.match(r.out, /user: "admin"\n\s+password: \$TALLY_NATS_PASSWORD_ADMIN\n/);
  assert.match(
    r.out,
    /user: "gateway-node-clearing"[\s\S]*?publish: \{ allow: \["\$JS.API.INFO", "tally.tx.bank-b", "tally.tx.clearing", "tally.tx.clearing-b"\] \}/,
  );
  assert.doesNotMatch(r.out, /password: "/, "no literal password is printed");
});

test("tally bus users with a bad --hosts or a missing genesis fails with a reason", () => {
  const bad = tally(["bus", "users", "--genesis", files.genesisFile, "--hosts", "node-clearing"]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.err, /--hosts: "node-clearing" is not <node>:<institution>/);
  const missing = tally(["bus", "users", "--genesis", join(dir, "nope.json")]);
  assert.notEqual(missing.status, 0);
  assert.match(missing.err, /cannot read genesis file/);
  assert.deepEqual(parseHosts(" a:x,y  b:z a:w "), { a: ["x", "y", "w"], b: ["z"] });
});

test("tally bus users --sequencer adds a user for each sequencer governance added; a bad id is refused", () => {
  const r = tally(["bus", "users", "--genesis", files.genesisFile, "--sequencer", "seq-new,seq-other"]);
  assert.equal(r.status, 0, r.err);
  for (const id of ["seq-exchange", "seq-clearing", "seq-new", "seq-other"]) assert.match(r.out, new RegExp(`user: "sequencer-${id}"`));
  assert.match(r.out, /password: \$TALLY_NATS_PASSWORD_SEQUENCER_SEQ_NEW\n/);
  assert.match(r.out, /user: "sequencer-seq-new"[\s\S]*?"\$KV\.tally-leases\.member\.seq-new"/);
  const bad = tally(["bus", "users", "--genesis", files.genesisFile, "--sequencer", "seq new"]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.err, /--sequencer: "seq new" is not a sequencer id/);
});

test("tally bus setup is refused as a service's user, and makes the streams and the lease bucket as admin", async () => {
  for (const u of ["node-node-bank-a", "sequencer-seq-exchange", "regulator"]) {
    const r = tally(["bus", "setup"], { NATS_URL: urlOf(u), TALLY_NAMESPACE: "tally" });
    assert.notEqual(r.status, 0, `${u} ran the setup`);
  }
  const admin = await connectBus({ url: urlOf("admin"), name: "check" });
  try {
    assert.deepEqual(await admin.jsm.streams.names().next(), []);
    const r = tally(["bus", "setup"], { NATS_URL: urlOf("admin"), TALLY_NAMESPACE: "tally" });
    assert.equal(r.status, 0, r.err);
    assert.match(r.out, /streams and lease bucket ready in namespace tally/);
    const streams = (await admin.jsm.streams.names().next()).sort();
    assert.deepEqual(
      streams,
      [names.blocksStream, names.eventsStream, `KV_${names.leaseBucket}`, names.receiptsStream, names.txsStream].sort(),
    );
    // Run again: idempotent.
    assert.equal(tally(["bus", "setup"], { NATS_URL: urlOf("admin"), TALLY_NAMESPACE: "tally" }).status, 0);
  } finally {
    await admin.nc.close();
  }
  // A service's user then reads what the setup made.
  const node = await connectBus({ url: urlOf("node-node-bank-a"), name: "node" });
  try {
    assert.equal((await node.jsm.streams.info(names.blocksStream)).config.name, names.blocksStream);
  } finally {
    await node.nc.close();
  }
});

test("tally bus users --k8s: the authorization include and every namespace's Secrets, with random passwords (0600)", () => {
  const out = join(dir, "k8s-random");
  const r = tally(["bus", "users", "--genesis", files.genesisFile, "--client-maps", join(dir, "tls"), "--k8s", out]);
  assert.equal(r.status, 0, r.err);
  const secrets = readFileSync(join(out, "nats-secrets.yaml"), "utf8");
  assert.equal(statSync(join(out, "nats-secrets.yaml")).mode & 0o077, 0, "the Secrets file is private");
  const passwords = [...secrets.matchAll(/"TALLY_NATS_PASSWORD_[A-Z0-9_]+": "([^"]+)"/g)].map((m) => m[1]!);
  assert.equal(passwords.length, 12);
  for (const p of passwords) assert.match(p, /^p[0-9a-f]{36}$/);
  assert.equal(new Set(passwords).size, passwords.length, "every user has its own password");
  assert.doesNotMatch(secrets, /dev-only/);
  // The same users as printed, and the gateways host what their client certificate maps name.
  const conf = readFileSync(join(out, "nats-authorization.conf"), "utf8");
  const printed = tally(["bus", "users", "--genesis", files.genesisFile, "--client-maps", join(dir, "tls")]).out;
  const body = (s: string): string => s.slice(s.indexOf("authorization {"));
  assert.equal(body(conf), body(printed));
  assert.match(
    conf,
    /user: "gateway-node-clearing"[\s\S]*?"tally.tx.auditor", "tally.tx.bank-b", "tally.tx.clearing", "tally.tx.clearing-b"/,
  );
  // Not over passwords that may be in use, unless --force.
  const again = tally(["bus", "users", "--genesis", files.genesisFile, "--k8s", out]);
  assert.notEqual(again.status, 0);
  assert.match(again.err, /nats-secrets.yaml exists; its passwords may be in use \(--force writes new ones\)/);
  assert.equal(tally(["bus", "users", "--genesis", files.genesisFile, "--k8s", out, "--force"]).status, 0);
  assert.notEqual(readFileSync(join(out, "nats-secrets.yaml"), "utf8"), secrets, "new passwords");
});

test("tally bus users --k8s --dev-passwords from the sample consortium writes the committed k8s files", () => {
  const out = join(dir, "k8s-dev");
  const r = tally(["bus", "users", "--genesis", files.genesisFile, "--client-maps", join(dir, "tls"), "--k8s", out, "--dev-passwords"]);
  assert.equal(r.status, 0, r.err);
  assert.equal(
    readFileSync(join(out, "nats-authorization.conf"), "utf8"),
    readFileSync(join(repoRoot, "k8s/base/ordering/nats-authorization.conf"), "utf8"),
  );
  assert.equal(
    readFileSync(join(out, "nats-secrets.yaml"), "utf8"),
    readFileSync(join(repoRoot, "k8s/overlays/dev/nats-credentials/nats-secrets.yaml"), "utf8"),
  );
});

test("tally bus users --k8s refuses bad input with a reason", () => {
  const aFile = join(dir, "a-file");
  writeFileSync(aFile, "x");
  mkdirSync(join(dir, "empty"), { recursive: true });
  const g = ["bus", "users", "--genesis", files.genesisFile];
  const cases: [string[], RegExp][] = [
    [[...g, "--k8s"], /--k8s needs a directory/],
    [[...g, "--k8s", aFile], /--k8s .*a-file is not a directory/],
    [
      [...g, "--k8s", join(dir, "k8s-bad"), "--nats-servers", "nats-0:4222,not a server"],
      /--nats-servers: NATS server "not a server" is not host:port/,
    ],
    [
      [...g, "--k8s", join(dir, "k8s-bad"), "--nats-servers", "nats-0:70000"],
      /--nats-servers: NATS server "nats-0:70000" is not host:port/,
    ],
    [[...g, "--k8s", join(dir, "k8s-bad"), "--nats-servers"], /--nats-servers needs host:port/],
    [[...g, "--dev-passwords"], /--dev-passwords goes with --k8s <dir>/],
    [[...g, "--client-maps", join(dir, "nowhere")], /--client-maps .*nowhere is not a directory/],
    [[...g, "--client-maps", join(dir, "empty")], /holds no clients-<node>.json for any node of the genesis/],
    [[...g, "--k8s", join(dir, "k8s-bad"), "--namespace", "Not A Namespace"], /bus namespace Not A Namespace must match/],
  ];
  for (const [args, re] of cases) {
    const r = tally(args);
    assert.notEqual(r.status, 0, args.join(" "));
    assert.match(r.err, re, `${args.join(" ")}: ${r.err}`);
  }
  assert.ok(!existsSync(join(dir, "k8s-bad", "nats-secrets.yaml")), "nothing written on bad input");
});
