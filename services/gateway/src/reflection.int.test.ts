// The gateway's gRPC interface, checked with a client nobody here wrote: `buf curl`, which learns
// the schema from server reflection, and speaks grpc.health.v1.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fromHex, toHex } from "@tally/ledger";
import { repoRoot } from "@tally/testkit";
import { buildTx, NOT_PROTOBUF } from "./testing/fixtures.js";
import { startGatewayHarness, type GatewayHarness } from "./testing/harness.js";

const BUF = join(repoRoot, "node_modules", ".bin", "buf");
const HEALTH_PROTO = join(repoRoot, "node_modules", "grpc-health-check", "proto", "health", "v1", "health.proto");
const CALL_TIMEOUT_MS = 30_000;

let h: GatewayHarness;
let base: string;
let healthBase: string;
/** buf curl's TLS flags: the test CA, and bank-a's client certificate. */
let tlsFlags: string[];

interface BufResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `buf curl --protocol grpc --http2-prior-knowledge ...args`, bounded in time. Asynchronous on
 * purpose: the server under test lives in this process, and spawnSync would block its event loop.
 */
function bufCurl(...args: string[]): Promise<BufResult> {
  return new Promise((resolve, reject) => {
    const plaintext = args.some((a) => a.startsWith("http://"));
    const transport = plaintext ? ["--http2-prior-knowledge"] : tlsFlags;
    const child = spawn(BUF, ["curl", "--protocol", "grpc", ...transport, "--connect-timeout", "10", ...args], {
      cwd: repoRoot,
      timeout: CALL_TIMEOUT_MS,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** buf curl exits with the gRPC status code shifted left by three when the RPC itself fails. */
const exitFor = (grpcCode: number): number => grpcCode << 3;

describe("the gateway's gRPC interface through buf curl", () => {
  before(async () => {
    assert.ok(existsSync(BUF), `buf not found at ${BUF}`);
    h = await startGatewayHarness({ withReflection: true, healthPort: 0 });
    base = `https://127.0.0.1:${h.server.port}`;
    healthBase = `http://${h.server.healthAddress}`;
    const bankA = h.tlsFilesFor("bank-a");
    tlsFlags = ["--cacert", bankA.caFile, "--cert", bankA.certFile, "--key", bankA.keyFile];
  });

  after(async () => {
    await h?.close();
  });

  test("server reflection lists every GatewayService method", async () => {
    const r = await bufCurl("--list-methods", base);
    assert.equal(r.status, 0, r.stderr);
    const methods = r.stdout.split("\n").map((l) => l.trim());
    for (const m of ["Submit", "SubmitAndWait", "GetTxStatus", "Query"]) {
      assert.ok(methods.includes(`tally.v1.GatewayService/${m}`), `tally.v1.GatewayService/${m} missing from:\n${r.stdout}`);
    }
    const services = await bufCurl("--list-services", base);
    assert.equal(services.status, 0, services.stderr);
    assert.ok(services.stdout.split("\n").includes("tally.v1.GatewayService"));
  });

  test("grpc.health.v1 Check on the plaintext health port answers SERVING for the server and for the gateway service, and tells the truth when that changes", async () => {
    const check = (service: string): Promise<BufResult> =>
      bufCurl("--schema", HEALTH_PROTO, "-d", JSON.stringify({ service }), `${healthBase}/grpc.health.v1.Health/Check`);
    for (const service of ["", "tally.v1.GatewayService"]) {
      const r = await check(service);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { status: "SERVING" });
    }
    const unknown = await check("tally.v1.NoSuchService");
    assert.equal(unknown.status, exitFor(5), `${unknown.stdout} ${unknown.stderr}`);

    h.server.health.setStatus("tally.v1.GatewayService", "NOT_SERVING");
    try {
      const r = await check("tally.v1.GatewayService");
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { status: "NOT_SERVING" });
    } finally {
      h.server.health.setStatus("tally.v1.GatewayService", "SERVING");
    }
    // The mTLS port answers health too (for clients that hold a certificate).
    const overTls = await bufCurl("--schema", HEALTH_PROTO, "-d", "{}", `${base}/grpc.health.v1.Health/Check`);
    assert.equal(overTls.status, 0, overTls.stderr);
  });

  test("the plaintext health port serves health only: no GatewayService, no reflection", async () => {
    const r = await bufCurl(
      "-d",
      JSON.stringify({ tx_id: Buffer.alloc(32).toString("base64") }),
      `${healthBase}/tally.v1.GatewayService/GetTxStatus`,
    );
    assert.notEqual(r.status, 0, "the health port must not serve the gateway");
  });

  test("without a client certificate buf curl gets no answer at all", async () => {
    const saved = tlsFlags;
    tlsFlags = ["--cacert", saved[1]!];
    try {
      const r = await bufCurl(
        "-d",
        JSON.stringify({ tx_id: Buffer.alloc(32).toString("base64") }),
        `${base}/tally.v1.GatewayService/GetTxStatus`,
      );
      assert.notEqual(r.status, 0, r.stdout);
    } finally {
      tlsFlags = saved;
    }
  });

  test("Submit through buf curl, with the schema from reflection: ACCEPTED and one TXS message", async () => {
    const tx = buildTx({ args: { to: "bank-b", amount: "42", memo: "buf curl" } });
    const before = await h.txsCount();
    const r = await bufCurl(
      "-d",
      JSON.stringify({ signed_tx: Buffer.from(tx.raw).toString("base64") }),
      `${base}/tally.v1.GatewayService/Submit`,
    );
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout) as { txId?: string; status?: string; duplicate?: boolean };
    assert.equal(res.status, "TX_STATUS_ACCEPTED");
    assert.equal(toHex(new Uint8Array(Buffer.from(res.txId ?? "", "base64"))), toHex(tx.id));
    assert.equal(res.duplicate, undefined, "a first submission is not a duplicate");
    assert.equal(await h.txsCount(), before + 1);

    const status = await bufCurl(
      "-d",
      JSON.stringify({ tx_id: Buffer.from(tx.id).toString("base64") }),
      `${base}/tally.v1.GatewayService/GetTxStatus`,
    );
    assert.equal(status.status, 0, status.stderr);
    const st = JSON.parse(status.stdout) as { update?: { status?: string; txId?: string } };
    assert.equal(st.update?.status, "TX_STATUS_ACCEPTED");
    assert.deepEqual(fromHex(Buffer.from(st.update?.txId ?? "", "base64").toString("hex")), tx.id);
  });

  test("a refusal reaches buf curl as its gRPC status with the tally-reason trailer, and nothing is published", async () => {
    const before = await h.txsCount();
    const r = await bufCurl(
      "-v",
      "-d",
      JSON.stringify({ signed_tx: Buffer.from(NOT_PROTOBUF).toString("base64") }),
      `${base}/tally.v1.GatewayService/Submit`,
    );
    assert.equal(r.status, exitFor(3), `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /Grpc-Status: 3/i);
    assert.match(r.stderr, /Tally-Reason: MALFORMED/i);
    assert.match(r.stderr, /"code": "invalid_argument"/);
    assert.equal(await h.txsCount(), before);
  });

  test("Query through buf curl as bank-a: its own balance answers; another's is NOT_FOUND with ErrorInfo in grpc-status-details-bin", async () => {
    h.setQuery(async (req) => ({
      result: new TextEncoder().encode(
        new TextDecoder().decode(req.args).replace(/^\{"account":"([^"]+)"\}$/, '{"account":"$1","balance":"7"}'),
      ),
      height: 3n,
    }));
    const q = (account: string): Promise<BufResult> =>
      bufCurl(
        "-v",
        "-d",
        JSON.stringify({ contract: "cash", query: "balance", args: Buffer.from(JSON.stringify({ account })).toString("base64") }),
        `${base}/tally.v1.GatewayService/Query`,
      );
    const own = await q("bank-a");
    assert.equal(own.status, 0, own.stderr);
    const res = JSON.parse(own.stdout) as { result: string; height: string };
    assert.deepEqual(JSON.parse(Buffer.from(res.result, "base64").toString()), { account: "bank-a", balance: "7" });
    const other = await q("bank-b");
    assert.equal(other.status, exitFor(5), `${other.stdout}\n${other.stderr}`);
    assert.match(other.stderr, /Tally-Reason: NOT_FOUND/i);
    // buf curl decodes the google.rpc.Status details it knows: ErrorInfo is one of them.
    assert.match(other.stderr, /google\.rpc\.ErrorInfo|"reason": "NOT_FOUND"/);
  });
});
