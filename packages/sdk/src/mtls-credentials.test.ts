// Mutual TLS with certificates made by openssl at test time: the client connects with a CA file,
// a client certificate and its key; the server sees the client's identity; a client certificate
// from another CA, or a server the client's CA did not sign, is refused at connect.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServerCredentials, status } from "@grpc/grpc-js";
import { TxStatus } from "@tally/proto/gateway";
import { mtlsCredentials } from "./mtls-credentials.js";
import { TallyClient } from "./tally-client.js";
import { TallyError } from "./tally-error.js";
import { startFakeGateway, type FakeGateway } from "./testing/fake-gateway.js";
import { GENESIS, SIGNERS } from "./testing/fixtures.js";

function openssl(dir: string, ...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
}

function makeCa(dir: string, name: string): void {
  openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.crt`,
    "-days",
    "1",
    "-subj",
    `/CN=${name}`,
  );
}

function makeCert(dir: string, ca: string, name: string, ext: string): void {
  openssl(
    dir,
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${name}`,
  );
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(
    dir,
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.crt`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-out",
    `${name}.crt`,
    "-days",
    "1",
    "-extfile",
    `${name}.ext`,
  );
}

describe("mtlsCredentials against a gateway that requires client certificates", () => {
  let dir: string;
  let gw: FakeGateway;
  const files = (name: string) => ({ cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tally-sdk-mtls-"));
    makeCa(dir, "consortium-ca");
    makeCa(dir, "rogue-ca");
    makeCert(dir, "consortium-ca", "gateway", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    makeCert(dir, "consortium-ca", "bank-a", "extendedKeyUsage=clientAuth\n");
    makeCert(dir, "rogue-ca", "mallory", "extendedKeyUsage=clientAuth\n");
    const read = (f: string) => readFileSync(join(dir, f));
    gw = await startFakeGateway(
      ServerCredentials.createSsl(read("consortium-ca.crt"), [{ private_key: read("gateway.key"), cert_chain: read("gateway.crt") }], true),
    );
  });
  after(async () => {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("connect with the CA file and the institution's certificate and key; the gateway sees bank-a", async () => {
    const client = await TallyClient.connect({
      gateway: gw.address,
      tls: { ca: join(dir, "consortium-ca.crt"), ...files("bank-a") },
      genesis: GENESIS,
      key: SIGNERS.bankA,
    });
    try {
      const r = await client.submit(client.cash.transfer({ to: "bank-b", amount: 1n }));
      assert.equal(r.status, TxStatus.TX_STATUS_ACCEPTED);
      assert.equal(gw.peers.at(-1), "bank-a");
    } finally {
      client.close();
    }
  });

  test("PEM bytes work as well as paths", async () => {
    const creds = mtlsCredentials({
      ca: readFileSync(join(dir, "consortium-ca.crt")),
      cert: readFileSync(files("bank-a").cert),
      key: readFileSync(files("bank-a").key),
    });
    const client = new TallyClient(gw.address, GENESIS.chainId, SIGNERS.bankA, creds);
    try {
      await client.waitForReady(10_000);
    } finally {
      client.close();
    }
  });

  test("a client certificate from an unknown CA is refused: connect fails with UNAVAILABLE / CONNECT_FAILED", async () => {
    await assert.rejects(
      TallyClient.connect({
        gateway: gw.address,
        tls: { ca: join(dir, "consortium-ca.crt"), ...files("mallory") },
        genesis: GENESIS,
        key: SIGNERS.bankA,
        connectTimeoutMs: 1500,
      }),
      (e: unknown) => e instanceof TallyError && e.code === status.UNAVAILABLE && e.reason === "CONNECT_FAILED",
    );
  });

  test("a gateway whose certificate the client's CA did not sign is refused", async () => {
    await assert.rejects(
      TallyClient.connect({
        gateway: gw.address,
        tls: { ca: join(dir, "rogue-ca.crt"), ...files("bank-a") },
        genesis: GENESIS,
        key: SIGNERS.bankA,
        connectTimeoutMs: 1500,
      }),
      (e: unknown) => e instanceof TallyError && e.reason === "CONNECT_FAILED",
    );
  });

  test("a missing file is named", () => {
    assert.throws(() => mtlsCredentials({ ca: join(dir, "nope.crt"), ...files("bank-a") }), /CA certificate file .*nope\.crt/);
  });

  test("connect refuses plaintext unless asked for", async () => {
    await assert.rejects(TallyClient.connect({ gateway: gw.address, genesis: GENESIS, key: SIGNERS.bankA }), /insecure: true/);
  });
});
