// deploy/nats-cluster.conf on three real nats-servers: only addresses, ports and the store move
// (the routes' host names become loopback ports). The cluster forms, JetStream takes the ledger's
// R3 streams under the ledger account, and the regulator account may not publish a transaction.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { busNames, connectBus, ensureStreams, type Bus } from "@tally/bus";
import { findNatsServer, freePort, repoRoot, ServiceProcess, waitFor } from "@tally/testkit";

const LEDGER = "ledger-test-pw";
const REGULATOR = "regulator-test-pw";
const names = busNames("tcluster");
let dir: string;
const servers: ServiceProcess[] = [];
let urls: string[] = [];
let bus: Bus | undefined;
let regulator: NatsConnection | undefined;

before(async () => {
  const bin = findNatsServer();
  assert.ok(bin, "nats-server is needed");
  dir = mkdtempSync(join(tmpdir(), "tally-nats-cluster-conf-"));
  const cluster = read("deploy/nats-cluster.conf");
  const accounts = read("deploy/nats-server-accounts.conf");
  const ports = await Promise.all(
    [0, 1, 2].map(async () => ({ client: await freePort(), route: await freePort(), http: await freePort() })),
  );
  urls = ports.map((p) => `nats://127.0.0.1:${p.client}`);
  for (let i = 0; i < 3; i++) {
    const d = join(dir, `nats-${i}`);
    mkdirSync(d);
    const p = ports[i]!;
    let conf = cluster
      .replace('listen: "0.0.0.0:6222"', `listen: "127.0.0.1:${p.route}"`)
      .replace("http_port: 8222", `http_port: ${p.http}`);
    for (let j = 0; j < 3; j++) conf = conf.replace(`nats-route://nats-${j}:6222`, `nats-route://127.0.0.1:${ports[j]!.route}`);
    assert.ok(!conf.includes("nats-0:6222") && conf.includes(`127.0.0.1:${p.route}`), "every address was moved");
    writeFileSync(join(d, "nats-cluster.conf"), conf);
    writeFileSync(
      join(d, "nats-server-accounts.conf"),
      accounts
        .replace('listen: "0.0.0.0:4222"', `listen: "127.0.0.1:${p.client}"`)
        .replace('store_dir: "/data/jetstream"', `store_dir: "${join(d, "js")}"`),
    );
    servers.push(
      new ServiceProcess(`nats-${i}`, [bin, "-c", join(d, "nats-cluster.conf")], {
        NATS_SERVER_NAME: `nats-${i}`,
        TALLY_NATS_LEDGER_PASSWORD: LEDGER,
        TALLY_NATS_REGULATOR_PASSWORD: REGULATOR,
      }),
    );
  }
  await Promise.all(servers.map((s) => s.waitForLine(/Server is ready/, 15_000)));
});

after(async () => {
  await regulator?.close().catch(() => undefined);
  await bus?.nc.close().catch(() => undefined);
  await Promise.all(servers.map((s) => s.stop("SIGTERM", 5000)));
  rmSync(dir, { recursive: true, force: true });
});

function read(p: string): string {
  return readFileSync(join(repoRoot, p), "utf8");
}

test("the three servers form one JetStream cluster that takes the ledger's R3 streams", { timeout: 90_000 }, async () => {
  const withCreds = urls.map((u) => u.replace("nats://", `nats://ledger:${LEDGER}@`)).join(",");
  // connectBus asks JetStream for account info, which times out until the cluster has a meta leader.
  bus = await waitFor("the cluster's JetStream", () => connectBus({ url: withCreds, name: "cluster-conf-test" }), 60_000, 500);
  const b = bus;
  // Until a meta leader is elected, stream creation answers 503: retry, bounded.
  await waitFor(
    "the cluster to take R3 streams",
    async () => {
      await ensureStreams(b.jsm, names, { replicas: 3 });
      return true;
    },
    60_000,
    500,
  );
  // A new cluster elects each stream's leader after creating it: until then requests time out.
  const info = await waitFor("the TXS stream to have a leader", () => b.jsm.streams.info(names.txsStream), 60_000, 500);
  assert.equal(info.config.num_replicas, 3);
  assert.equal((info.cluster?.replicas?.length ?? 0) + 1, 3, "a leader and two replicas");
  assert.equal(info.cluster?.name, "tally");
  const ack = await waitFor("a publish to TXS", () => b.js.publish(names.txSubject("bank-a"), new Uint8Array([1])), 30_000, 500);
  assert.equal(ack.stream, names.txsStream);
});

test("the regulator account cannot publish a transaction on the cluster", { timeout: 30_000 }, async () => {
  regulator = await connect({ servers: urls, user: "regulator", pass: REGULATOR, inboxPrefix: "_INBOX_regulator" });
  const denied = (async () => {
    for await (const s of regulator.status()) if (s.type === "error" && s.error.name === "PermissionViolationError") return s.error.message;
    return "";
  })();
  regulator.publish(names.txSubject("bank-a"), new Uint8Array([1]));
  const msg = await Promise.race([denied, new Promise<string>((r) => setTimeout(() => r("no violation reported"), 10_000))]);
  assert.match(msg, /Permissions Violation for Publish/);
});
