// TLS on NATS (issue 13), against a real TLS-only nats-server with certificates made by openssl at
// test time: a plaintext client is refused, a client that does not trust the CA is refused, a
// tls:// client never falls back to a plaintext server, and the real services run over TLS (a
// transaction commits end to end).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TxOutcome } from "@tally/proto/types";
import { busNames, connectBus, deleteNamespace, natsTlsConf } from "@tally/bus";
import { dropDatabase } from "@tally/db";
import { signerFromKeyFile, TallyClient } from "@tally/sdk";
import {
  createCertAuthority,
  gatewayCredentials,
  hasOpenssl,
  issueCert,
  LocalNetwork,
  startNatsServer,
  testNatsUrl,
  testPgAdminUrl,
  uniqueNamespace,
  uniqueSuffix,
  writeConsortium,
  type ConsortiumPlan,
  type IssuedCert,
  type StartedNats,
} from "@tally/testkit";

const PLAN: ConsortiumPlan = {
  chainId: "tally-nats-tls",
  institutions: [{ id: "bank-a", name: "Bank A", roles: ["bank"], node: "node-a" }],
  nodes: [{ id: "node-a", institution: "bank-a" }],
  sequencers: [{ id: "seq-1", institution: "bank-a" }],
};

/** What a plaintext TCP client gets from the server: the bytes it read until the server closed (or 5 s). */
function plaintextSession(port: number): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, "127.0.0.1");
    let text = "";
    let sent = false;
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ text, closed: false });
    }, 5000);
    s.on("data", (d: Buffer) => {
      text += d.toString("latin1");
      if (!sent && text.includes("\r\n")) {
        sent = true;
        s.write('CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\nPUB tally.tx.bank-a 2\r\nhi\r\n');
      }
    });
    s.on("error", () => undefined);
    s.on("close", () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
  });
}

describe("NATS over TLS", { skip: hasOpenssl() ? false : "openssl is not installed" }, () => {
  const dir = mkdtempSync(join(tmpdir(), "tally-nats-tls-e2e-"));
  const namespace = uniqueNamespace("nt");
  const dbPrefix = `tally_nt_${uniqueSuffix()}`;
  let cert: IssuedCert;
  let nats: StartedNats;
  let url: string;

  before(async () => {
    cert = issueCert(createCertAuthority(join(dir, "ca")), "nats-server", { kind: "server" });
    nats = await startNatsServer(join(dir, "nats"), { extraConf: natsTlsConf(cert) });
    url = `tls://127.0.0.1:${nats.port}`;
  });

  after(async () => {
    await nats?.stop();
    await dropDatabase(testPgAdminUrl(), `${dbPrefix}_node_a`).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  test("a plaintext client is refused: the server requires TLS, never answers PING, and closes", async () => {
    const r = await plaintextSession(nats.port);
    assert.match(r.text, /^INFO .*"tls_required":true/);
    assert.doesNotMatch(r.text, /PONG/);
    assert.equal(r.closed, true, `the server kept a plaintext connection open: ${r.text}`);
  });

  test("a client that does not trust the CA is refused; one that does connects and round-trips", async () => {
    const caFile = process.env.NATS_CA_FILE;
    delete process.env.NATS_CA_FILE;
    try {
      await assert.rejects(() => connectBus({ url, name: "untrusting" }));
    } finally {
      if (caFile !== undefined) process.env.NATS_CA_FILE = caFile;
    }
    const bus = await connectBus({ url, name: "trusting", caFile: cert.caFile });
    try {
      const sub = bus.nc.subscribe("tls.check", { max: 1 });
      bus.nc.publish("tls.check", "over tls");
      for await (const m of sub) assert.equal(m.string(), "over tls");
    } finally {
      await bus.nc.close();
    }
  });

  test("a tls:// client does not fall back to a plaintext server", async () => {
    const plain = testNatsUrl().replace(/^nats:\/\//, "tls://");
    await assert.rejects(() => connectBus({ url: plain, name: "no-downgrade", caFile: cert.caFile }));
  });

  test("the services run over TLS: a transaction commits end to end", async () => {
    const files = writeConsortium(join(dir, "consortium"), PLAN, Date.now());
    const net = await LocalNetwork.start({
      dir: join(dir, "consortium"),
      plan: PLAN,
      files,
      natsUrl: url,
      pgAdminUrl: testPgAdminUrl(),
      namespace,
      databasePrefix: dbPrefix,
      env: { NATS_CA_FILE: cert.caFile },
    });
    try {
      const inst = net.endpoints.institutions[0]!;
      const c = new TallyClient(
        inst.gateway,
        PLAN.chainId,
        signerFromKeyFile(files.keyFiles.get("bank-a")!),
        gatewayCredentials(files, "bank-a"),
      );
      try {
        const u = await c.submitAndWait(c.notary.register({ hash: "34".repeat(32), title: "over NATS TLS" }));
        assert.equal(u.result?.outcome, TxOutcome.TX_OUTCOME_COMMITTED, u.result?.reasonCode);
      } finally {
        c.close();
      }
    } finally {
      await net.stop();
      const bus = await connectBus({ url, name: "nats-tls-cleanup", caFile: cert.caFile });
      await deleteNamespace(bus.jsm, busNames(namespace));
      await bus.nc.close();
    }
  });
});
