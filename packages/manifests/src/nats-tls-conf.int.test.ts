// k8s/overlays/prod/nats-tls/nats-tls.conf on a real nats-server (issue 13): the file as shipped,
// with only the certificate paths moved to ones openssl makes here, and its included nats.conf a
// single local server. A plaintext client is refused; a client trusting the CA round-trips.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectBus } from "@tally/bus";
import {
  createCertAuthority,
  findNatsServer,
  freePort,
  hasOpenssl,
  issueCert,
  repoRoot,
  ServiceProcess,
  type IssuedCert,
} from "@tally/testkit";

let dir: string;
let server: ServiceProcess | undefined;
let port: number;
let cert: IssuedCert;
const skip = hasOpenssl() && findNatsServer() !== undefined ? false : "openssl and nats-server are needed";

before(async () => {
  if (skip !== false) return;
  dir = mkdtempSync(join(tmpdir(), "tally-nats-tls-conf-"));
  cert = issueCert(createCertAuthority(join(dir, "ca")), "nats", { kind: "server" });
  port = await freePort();
  const shipped = readFileSync(join(repoRoot, "k8s/overlays/prod/nats-tls/nats-tls.conf"), "utf8");
  const conf = shipped
    .replace('"/etc/nats-tls/tls.crt"', JSON.stringify(cert.certFile))
    .replace('"/etc/nats-tls/tls.key"', JSON.stringify(cert.keyFile));
  assert.ok(conf.includes(cert.certFile) && conf.includes(cert.keyFile), "both paths were moved");
  writeFileSync(join(dir, "nats-tls.conf"), conf);
  writeFileSync(join(dir, "nats.conf"), `listen: "127.0.0.1:${port}"\njetstream {\n  store_dir: ${JSON.stringify(join(dir, "js"))}\n}\n`);
  server = new ServiceProcess("nats-tls", [findNatsServer()!, "-c", join(dir, "nats-tls.conf")], {});
  await server.waitForLine(/Server is ready/, 15_000);
});

after(async () => {
  await server?.stop("SIGTERM", 5000);
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

test("the shipped TLS config refuses a plaintext client", { skip }, async () => {
  const got = await new Promise<{ text: string; closed: boolean }>((resolve) => {
    const s = tcpConnect(port, "127.0.0.1");
    let text = "";
    const timer = setTimeout(() => (s.destroy(), resolve({ text, closed: false })), 5000);
    s.on("data", (d: Buffer) => {
      if (text === "") s.write("CONNECT {}\r\nPING\r\n");
      text += d.toString("latin1");
    });
    s.on("error", () => undefined);
    s.on("close", () => (clearTimeout(timer), resolve({ text, closed: true })));
  });
  assert.match(got.text, /"tls_required":true/);
  assert.doesNotMatch(got.text, /PONG/);
  assert.equal(got.closed, true);
});

test("the shipped TLS config serves a client that trusts the CA", { skip }, async () => {
  const bus = await connectBus({ url: `tls://127.0.0.1:${port}`, name: "tls-conf", caFile: cert.caFile });
  try {
    const info = await bus.jsm.getAccountInfo();
    assert.equal(typeof info.streams, "number");
  } finally {
    await bus.nc.close();
  }
});
