// k8s/base/ordering/nats.conf on three real nats-servers (issue 13): the file as shipped, with its
// generated nats-authorization.conf and the dev overlay's generated passwords (the Secret
// tally-nats-server, as the StatefulSet's environment); only addresses, the store, the pid file and
// the certificate paths move (to a CA and a peer certificate openssl makes here). The cluster
// forms over TLS routes and takes R3 streams from the admin's setup; a plaintext client is refused;
// a route peer without a certificate the CA signed is refused; a service's user works over TLS and
// only as its role.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect as tcpConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { busNames, connectBus, JetStreamPublisher, setupBus, type Bus } from "@tally/bus";
import {
  createCertAuthority,
  findNatsServer,
  freePort,
  hasOpenssl,
  issueCert,
  repoRoot,
  ServiceProcess,
  waitFor,
  type IssuedCert,
} from "@tally/testkit";

const skip = hasOpenssl() && findNatsServer() !== undefined ? false : "openssl and nats-server are needed";
const names = busNames("tally");
let dir: string;
let cert: IssuedCert;
const servers: ServiceProcess[] = [];
let ports: { client: number; route: number; http: number }[] = [];
let serverEnv: Record<string, string> = {};
const buses: Bus[] = [];

/** The dev overlay's generated Secrets, by namespace/name. */
function devSecrets(): Map<string, Record<string, string>> {
  const text = readFileSync(join(repoRoot, "k8s/overlays/dev/nats-credentials/nats-secrets.yaml"), "utf8");
  const out = new Map<string, Record<string, string>>();
  for (const d of parseAllDocuments(text)) {
    const o = d.toJS() as { metadata: { namespace: string; name: string }; stringData: Record<string, string> };
    out.set(`${o.metadata.namespace}/${o.metadata.name}`, o.stringData);
  }
  return out;
}

/** A user's URL of the local cluster, with the dev password from the generated Secrets. */
function urlOf(user: string): string {
  const pw = serverEnv[`TALLY_NATS_PASSWORD_${user.toUpperCase().replace(/-/g, "_")}`];
  assert.ok(pw !== undefined, `a dev password for ${user}`);
  return ports.map((p) => `tls://${user}:${pw}@localhost:${p.client}`).join(",");
}

before(async () => {
  if (skip !== false) return;
  dir = mkdtempSync(join(tmpdir(), "tally-k8s-nats-conf-"));
  cert = issueCert(createCertAuthority(join(dir, "ca")), "nats", { kind: "peer" });
  ports = await Promise.all([0, 1, 2].map(async () => ({ client: await freePort(), route: await freePort(), http: await freePort() })));
  serverEnv = devSecrets().get("tally-ordering/tally-nats-server")!;
  const shipped = readFileSync(join(repoRoot, "k8s/base/ordering/nats.conf"), "utf8");
  const authorization = readFileSync(join(repoRoot, "k8s/base/ordering/nats-authorization.conf"), "utf8");
  const bin = findNatsServer()!;
  for (let i = 0; i < 3; i++) {
    const d = join(dir, `nats-${i}`);
    mkdirSync(d);
    const p = ports[i]!;
    let conf = shipped
      .replace('listen: "0.0.0.0:4222"', `listen: "127.0.0.1:${p.client}"`)
      .replace('listen: "0.0.0.0:6222"', `listen: "127.0.0.1:${p.route}"`)
      .replace("http_port: 8222", `http_port: ${p.http}`)
      .replace('store_dir: "/data/jetstream"', `store_dir: ${JSON.stringify(join(d, "js"))}`)
      .replace('pid_file: "/var/run/nats/nats.pid"', `pid_file: ${JSON.stringify(join(d, "nats.pid"))}`)
      .replaceAll('"/etc/nats-tls/tls.crt"', JSON.stringify(cert.certFile))
      .replaceAll('"/etc/nats-tls/tls.key"', JSON.stringify(cert.keyFile))
      .replaceAll('"/etc/nats-tls/ca.crt"', JSON.stringify(cert.caFile));
    for (let j = 0; j < 3; j++)
      conf = conf.replace(`nats-route://nats-${j}.nats.tally-ordering.svc.cluster.local:6222`, `nats-route://localhost:${ports[j]!.route}`);
    assert.ok(
      !/0\.0\.0\.0|\/etc\/|\/data\/|svc\.cluster\.local/.test(conf.replace(/^\s*#.*$/gm, "")),
      `every address and path was moved:\n${conf}`,
    );
    writeFileSync(join(d, "nats.conf"), conf);
    writeFileSync(join(d, "nats-authorization.conf"), authorization);
    servers.push(new ServiceProcess(`nats-${i}`, [bin, "-c", join(d, "nats.conf")], { ...serverEnv, NATS_SERVER_NAME: `nats-${i}` }));
  }
  await Promise.all(servers.map((s) => s.waitForLine(/Server is ready/, 15_000)));
});

after(async () => {
  for (const b of buses) await b.nc.close().catch(() => undefined);
  await Promise.all(servers.map((s) => s.stop("SIGTERM", 5000)));
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

test("the cluster forms over TLS routes and the admin's setup makes R3 streams", { skip, timeout: 120_000 }, async () => {
  const admin = await waitFor(
    "the cluster's JetStream",
    () => connectBus({ url: urlOf("admin"), name: "setup", caFile: cert.caFile }),
    60_000,
    500,
  );
  buses.push(admin);
  // Until a meta leader is elected, stream creation answers 503: retry, bounded.
  await waitFor(
    "the setup to take R3 streams",
    async () => {
      await setupBus(admin, names, { replicas: 3, leaseTtlMs: 1300 });
      return true;
    },
    60_000,
    500,
  );
  const info = await waitFor("the BLOCKS stream's leader", () => admin.jsm.streams.info(names.blocksStream), 60_000, 500);
  assert.equal(info.config.num_replicas, 3);
  assert.equal((info.cluster?.replicas?.length ?? 0) + 1, 3, "a leader and two replicas, over the TLS routes");
  // Every server has routes to the two others (the only routes there are: TLS, verified).
  for (const p of ports) {
    const routez = (await (await fetch(`http://127.0.0.1:${p.http}/routez`)).json()) as { num_routes: number };
    assert.ok(routez.num_routes >= 2, `server :${p.client} has its routes`);
  }
  for (const s of servers) assert.doesNotMatch(s.lines.join("\n"), /TLS route handshake error|authorization violation/i, s.name);
});

test("a plaintext client is refused", { skip }, async () => {
  const got = await rawSession(ports[0]!.client, (s) => s.write("CONNECT {}\r\nPING\r\n"));
  assert.match(got.text, /"tls_required":true/);
  assert.doesNotMatch(got.text, /PONG/);
  assert.equal(got.closed, true);
});

test("a route peer without a certificate the CA signed is refused", { skip }, async () => {
  // Routes start with the TLS handshake: a plaintext peer gets nothing, not even the INFO.
  const plain = await rawSession(ports[1]!.route, () => undefined);
  assert.equal(plain.text, "");
  assert.equal(plain.closed, true);
  const other = issueCert(createCertAuthority(join(dir, "other-ca"), "Another CA"), "intruder", { kind: "peer" });
  const route = (clientCert: IssuedCert | undefined): Promise<{ text: string; error?: string }> =>
    new Promise((resolve) => {
      let text = "";
      let error: string | undefined;
      const t = tlsConnect({
        host: "127.0.0.1",
        port: ports[1]!.route,
        servername: "localhost",
        ca: readFileSync(cert.caFile),
        ...(clientCert === undefined ? {} : { cert: readFileSync(clientCert.certFile), key: readFileSync(clientCert.keyFile) }),
      });
      const timer = setTimeout(() => t.destroy(), 5000);
      t.on("data", (d: Buffer) => (text += d.toString("latin1")));
      t.on("error", (e) => (error = e.message));
      t.on("close", () => (clearTimeout(timer), resolve({ text, ...(error === undefined ? {} : { error }) })));
    });
  // No client certificate, or one another CA signed: the handshake is refused, nothing is said.
  for (const [what, c] of [
    ["without a certificate", undefined],
    ["with another CA's certificate", other],
  ] as const) {
    const r = await route(c);
    assert.equal(r.text, "", `a route peer ${what} gets no INFO`);
    assert.match(r.error ?? "", /certificate|alert/i, `a route peer ${what} is refused in the handshake`);
  }
  // The control: the CA's certificate gets the route's INFO.
  const ok = await route(cert);
  assert.match(ok.text, /^INFO .*"tls_verify":true/);
  assert.ok(
    servers[1]!.lines.some((l) => /TLS route handshake error/.test(l)),
    "the server logs the refused handshakes",
  );
});

test("a service's user works over TLS, and only as its role", { skip, timeout: 60_000 }, async () => {
  const gw = await connectBus({ url: urlOf("gateway-node-bank-a"), name: "gateway", caFile: cert.caFile });
  buses.push(gw);
  const pub = new JetStreamPublisher(gw.nc, 16, gw.inboxPrefix);
  const ack = await waitFor(
    "a publish to TXS",
    () => pub.publish(names.txSubject("bank-a"), new Uint8Array([1]), { timeoutMs: 2000 }),
    30_000,
    500,
  );
  assert.equal(ack.stream, names.txsStream);
  // Another institution's subject (hosted by another node's gateway) is refused by the bus.
  await assert.rejects(pub.publish(names.txSubject("exchange"), new Uint8Array([1]), { timeoutMs: 2000 }));
  // The node's user reads BLOCKS but may not delete it.
  const node = await connectBus({ url: urlOf("node-node-bank-a"), name: "node", caFile: cert.caFile });
  buses.push(node);
  assert.equal((await node.jsm.streams.info(names.blocksStream)).config.name, names.blocksStream);
  await assert.rejects(node.jsm.streams.delete(names.blocksStream));
});

/** Connects in plaintext, lets write() speak after the server's INFO, and collects what comes back until the server closes (or 5 s). */
function rawSession(port: number, write: (s: Socket) => void): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, "127.0.0.1");
    let text = "";
    const timer = setTimeout(() => (s.destroy(), resolve({ text, closed: false })), 5000);
    s.on("data", (d: Buffer) => {
      if (text === "") write(s);
      text += d.toString("latin1");
    });
    s.on("error", () => undefined);
    s.on("close", () => (clearTimeout(timer), resolve({ text, closed: true })));
  });
}
