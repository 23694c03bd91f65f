// Who calls, and what they may see: mTLS identity (and the certificates that must fail), the
// insecure loopback header, submission by one's own institution only, per-party query and
// history visibility, per-institution backpressure, deadlines, and google.rpc.Status details.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Metadata, status, type ChannelCredentials, type ServiceError } from "@grpc/grpc-js";
import { GatewayServiceClient, type GetHistoryResponse, type QueryResponse, type SubmitResponse } from "@tally/proto/gateway";
import { fromUtf8, utf8 } from "@tally/ledger";
import { decodeStatusDetails, deadlineIn, INSTITUTION_HEADER, mtlsChannelCredentials, STATUS_DETAILS_KEY } from "@tally/rpc";
import { createCertAuthority, issueCert, serviceEntry } from "@tally/testkit";
import { buildTx, GENESIS, SIGNERS } from "./testing/fixtures.js";
import { startGatewayHarness, type GatewayHarness } from "./testing/harness.js";

function clientAs(h: GatewayHarness, institution: string): GatewayServiceClient {
  const c = h.credentialsFor(institution);
  return new GatewayServiceClient(h.server.address, c.credentials, c.options);
}

type Outcome<T> = { res?: T; err?: ServiceError };

function submit(c: GatewayServiceClient, signedTx: Uint8Array, md = new Metadata()): Promise<Outcome<SubmitResponse>> {
  return new Promise((resolve) => c.submit({ signedTx }, md, deadlineIn(10_000), (err, res) => resolve(err ? { err } : { res })));
}

function query(c: GatewayServiceClient, contract: string, q: string, args: unknown, timeoutMs = 10_000): Promise<Outcome<QueryResponse>> {
  return new Promise((resolve) =>
    c.query({ contract, query: q, args: utf8(JSON.stringify(args)) }, new Metadata(), deadlineIn(timeoutMs), (err, res) =>
      resolve(err ? { err } : { res }),
    ),
  );
}

function history(c: GatewayServiceClient, assetId: string): Promise<Outcome<GetHistoryResponse>> {
  return new Promise((resolve) =>
    c.getHistory({ contract: "bill", assetId, after: undefined, limit: 0 }, new Metadata(), deadlineIn(10_000), (err, res) =>
      resolve(err ? { err } : { res }),
    ),
  );
}

const reasonOf = (e: ServiceError | undefined): unknown => e?.metadata?.get("tally-reason")[0];

/** The harness's fake executor answers every query with this JSON. */
function answer(h: GatewayHarness, json: unknown): void {
  h.setQuery(async () => ({ result: utf8(JSON.stringify(json)), height: 7n }));
}

describe("mTLS identity and authorization", () => {
  let h: GatewayHarness;
  let bankA: GatewayServiceClient;
  let bankB: GatewayServiceClient;
  let reg: GatewayServiceClient;
  let otherDir: string;

  before(async () => {
    h = await startGatewayHarness();
    bankA = clientAs(h, "bank-a");
    bankB = clientAs(h, "bank-b");
    reg = clientAs(h, "reg");
    otherDir = mkdtempSync(join(tmpdir(), "gw-other-ca-"));
  });

  after(async () => {
    for (const c of [bankA, bankB, reg]) c?.close();
    await h?.close();
    rmSync(otherDir, { recursive: true, force: true });
  });

  async function expectServes(): Promise<void> {
    const ok = await submit(bankA, buildTx({ args: { to: "bank-b", amount: "1" } }).raw);
    assert.equal(ok.err, undefined, ok.err?.details);
  }

  /** A call with these credentials fails at the TLS handshake: nothing stored, and the gateway serves the next valid call. */
  async function expectHandshakeRefused(creds: ChannelCredentials): Promise<void> {
    const before = await h.txsCount();
    const c = new GatewayServiceClient(h.server.address, creds);
    try {
      const r = await submit(c, buildTx().raw);
      assert.ok(r.err, "the call must fail");
      assert.equal(r.err.code, status.UNAVAILABLE, r.err.details);
    } finally {
      c.close();
    }
    assert.equal(await h.txsCount(), before);
    await expectServes();
  }

  test("a certificate from an unknown CA is refused at the handshake", async () => {
    const rogue = createCertAuthority(join(otherDir, "rogue"), "Rogue CA");
    const cert = issueCert(rogue, "bank-a", { kind: "client", commonName: "bank-a" });
    // It trusts the real CA for the server, but presents a client certificate the gateway's CA never signed.
    await expectHandshakeRefused(mtlsChannelCredentials({ caFile: h.ca!.certFile, certFile: cert.certFile, keyFile: cert.keyFile }));
  });

  test("an expired certificate from the right CA is refused at the handshake", async () => {
    const cert = issueCert(h.ca!, "expired-bank-a", { kind: "client", commonName: "bank-a", validDays: -1 });
    await expectHandshakeRefused(mtlsChannelCredentials({ caFile: cert.caFile, certFile: cert.certFile, keyFile: cert.keyFile }));
  });

  test("a certificate the node's map does not name is UNAUTHENTICATED / UNKNOWN_CLIENT_CERT", async () => {
    const cert = issueCert(h.ca!, "stranger", { kind: "client", commonName: "not-in-the-map" });
    const c = new GatewayServiceClient(
      h.server.address,
      mtlsChannelCredentials({ caFile: cert.caFile, certFile: cert.certFile, keyFile: cert.keyFile }),
    );
    try {
      const r = await submit(c, buildTx().raw);
      assert.equal(r.err?.code, status.UNAUTHENTICATED);
      assert.equal(reasonOf(r.err), "UNKNOWN_CLIENT_CERT");
    } finally {
      c.close();
    }
    await expectServes();
  });

  test("a mapped institution that is not a member is PERMISSION_DENIED / NOT_A_MEMBER, for writes and reads", async () => {
    const ghost = clientAs(h, "ghost");
    try {
      const s = await submit(ghost, buildTx({ signer: SIGNERS.stranger }).raw);
      assert.equal(s.err?.code, status.PERMISSION_DENIED);
      assert.equal(reasonOf(s.err), "NOT_A_MEMBER");
      const q = await query(ghost, "membership", "members", {});
      assert.equal(reasonOf(q.err), "NOT_A_MEMBER");
    } finally {
      ghost.close();
    }
  });

  test("the tally-institution header means nothing over mTLS", async () => {
    const md = new Metadata();
    md.set(INSTITUTION_HEADER, "bank-b");
    const r = await submit(bankA, buildTx({ signer: SIGNERS.bankB }).raw, md);
    assert.equal(reasonOf(r.err), "WRONG_INSTITUTION");
  });

  test("submitting another institution's transaction: PERMISSION_DENIED / WRONG_INSTITUTION with ErrorInfo and the field in grpc-status-details-bin", async () => {
    const before = await h.txsCount();
    const r = await submit(bankB, buildTx({ signer: SIGNERS.bankA }).raw);
    assert.equal(r.err?.code, status.PERMISSION_DENIED);
    const d = decodeStatusDetails(r.err.metadata.get(STATUS_DETAILS_KEY)[0] as Buffer);
    assert.equal(d.code, status.PERMISSION_DENIED);
    assert.equal(d.reason, "WRONG_INSTITUTION");
    assert.equal(d.field, "signed_tx.body.signer.institution_id");
    assert.equal(await h.txsCount(), before);
  });

  test("co-signatures by other institutions are fine: the body signer is what must be the caller", async () => {
    const tx = buildTx({ signer: SIGNERS.bankB, signers: [SIGNERS.bankB, SIGNERS.bankA], args: { to: "bank-a", amount: "3" } });
    assert.equal((await submit(bankB, tx.raw)).err, undefined);
    // The same transaction from the co-signer's gateway session is not its to submit.
    assert.equal(reasonOf((await submit(bankA, tx.raw)).err), "WRONG_INSTITUTION");
  });

  test("a refused transaction names its field: WRONG_CHAIN → signed_tx.body.chain_id", async () => {
    const r = await submit(bankA, buildTx({ chainId: "another-chain" }).raw);
    assert.equal(r.err?.code, status.INVALID_ARGUMENT);
    assert.equal(decodeStatusDetails(r.err.metadata.get(STATUS_DETAILS_KEY)[0] as Buffer).field, "signed_tx.body.chain_id");
  });

  describe("queries show only what the caller is party to", () => {
    const bill = { id: "b-1", holder: "bank-a", amount: "100", parties: ["bank-a", "clear-a"] };

    test("a single asset: its parties see it; anyone else gets NOT_FOUND, the same as for an asset that does not exist", async () => {
      answer(h, bill);
      const seen = await query(bankA, "bill", "bill", { id: "b-1" });
      assert.deepEqual(JSON.parse(fromUtf8(seen.res!.result)), bill);
      const hidden = await query(bankB, "bill", "bill", { id: "b-1" });
      answer(h, null);
      const missing = await query(bankB, "bill", "bill", { id: "b-1" });
      for (const r of [hidden, missing]) {
        assert.equal(r.err?.code, status.NOT_FOUND);
        assert.equal(reasonOf(r.err), "NOT_FOUND");
      }
      assert.equal(hidden.err?.details, missing.err?.details, "no hint that the hidden one exists");
    });

    test("a list keeps the caller's elements only", async () => {
      answer(h, [bill, { id: "p-2", parties: ["bank-b"] }]);
      const r = await query(bankB, "membership", "proposals", {});
      // proposals is public: everyone sees the whole list.
      assert.equal((JSON.parse(fromUtf8(r.res!.result)) as unknown[]).length, 2);
      answer(h, { bond: "x", holders: [], parties: ["bank-b"] });
      assert.equal((await query(bankA, "bond", "holders", { bond: "x" })).err?.code, status.NOT_FOUND);
      assert.ok((await query(bankB, "bond", "holders", { bond: "x" })).res);
    });

    test("an institution's own books: only it; a regulator sees everything; public reference data is for all", async () => {
      answer(h, { account: "bank-b", balance: "5" });
      assert.equal((await query(bankA, "cash", "balance", { account: "bank-b" })).err?.code, status.NOT_FOUND);
      assert.ok((await query(bankB, "cash", "balance", { account: "bank-b" })).res);
      assert.ok((await query(reg, "cash", "balance", { account: "bank-b" })).res);
      answer(h, bill);
      assert.ok((await query(reg, "bill", "bill", { id: "b-1" })).res);
      answer(h, { instrument: "acme", bids: [], asks: [] });
      assert.ok((await query(bankB, "trade", "book", { instrument: "acme" })).res);
    });

    test("bad query requests are INVALID_ARGUMENT naming the field, and never reach the executor", async () => {
      const calls = h.executorCalls.length;
      const r = await query(bankA, "cash", "nope", {});
      assert.equal(r.err?.code, status.INVALID_ARGUMENT);
      assert.equal(decodeStatusDetails(r.err.metadata.get(STATUS_DETAILS_KEY)[0] as Buffer).field, "query");
      const a = await query(bankA, "cash", "balance", { account: 12 });
      assert.equal(decodeStatusDetails(a.err!.metadata.get(STATUS_DETAILS_KEY)[0] as Buffer).field, "args");
      assert.equal(h.executorCalls.length, calls);
    });

    test("GetHistory keeps the events the caller is party to; an asset it is party to nowhere answers like an unknown one", async () => {
      // The fake executor's events name bank-a only, two pages.
      const a = await history(bankA, "bill/b-1");
      assert.equal(a.res?.entries.length, 1);
      assert.equal(a.res?.more, true);
      const b = await history(bankB, "bill/b-1");
      assert.deepEqual(b.res?.entries, []);
      assert.equal(b.res?.more, false);
      const r = await history(reg, "bill/b-1");
      assert.equal(r.res?.entries.length, 1);
    });
  });

  test("a deadline the executor cannot meet ends the call with DEADLINE_EXCEEDED in time, and the gateway serves the next call", async () => {
    h.setQuery(() => new Promise((resolve) => setTimeout(() => resolve({ result: utf8("null"), height: 1n }), 3000)));
    const t0 = Date.now();
    const r = await query(bankA, "cash", "balance", { account: "bank-a" }, 300);
    assert.equal(r.err?.code, status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
    answer(h, { account: "bank-a", balance: "1" });
    assert.ok((await query(bankA, "cash", "balance", { account: "bank-a" })).res);
  });
});

describe("per-institution backpressure", () => {
  let h: GatewayHarness;
  before(async () => {
    h = await startGatewayHarness({ config: { institution: { inFlightMax: 64, ratePerSec: 2, burst: 3 } } });
  });
  after(async () => {
    await h?.close();
  });

  test("past the rate: RESOURCE_EXHAUSTED / RATE_LIMITED with retry-after-ms in the trailers; other institutions unaffected", async () => {
    const bankA = clientAs(h, "bank-a");
    const bankB = clientAs(h, "bank-b");
    try {
      const outcomes = [];
      for (let i = 0; i < 4; i++) outcomes.push(await submit(bankA, buildTx({ args: { to: "bank-b", amount: String(i + 1) } }).raw));
      assert.deepEqual(
        outcomes.map((o) => o.err?.code ?? 0),
        [0, 0, 0, status.RESOURCE_EXHAUSTED],
      );
      const last = outcomes[3]!.err!;
      assert.equal(reasonOf(last), "RATE_LIMITED");
      const retry = Number(last.metadata.get("retry-after-ms")[0]);
      assert.ok(retry > 0 && retry <= 500, `retry-after-ms ${retry}`);
      assert.equal(decodeStatusDetails(last.metadata.get(STATUS_DETAILS_KEY)[0] as Buffer).metadata["retry-after-ms"], String(retry));
      assert.equal((await submit(bankB, buildTx({ signer: SIGNERS.bankB, args: { to: "bank-a", amount: "1" } }).raw)).err, undefined);
      // After the hint, bank-a may go on.
      await new Promise((r) => setTimeout(r, retry + 20));
      assert.equal((await submit(bankA, buildTx({ args: { to: "bank-b", amount: "9" } }).raw)).err, undefined);
    } finally {
      bankA.close();
      bankB.close();
    }
  });
});

describe("insecure loopback mode", () => {
  let h: GatewayHarness;
  before(async () => {
    h = await startGatewayHarness({ tls: false });
  });
  after(async () => {
    await h?.close();
  });

  test("the tally-institution header names the caller; without it, UNAUTHENTICATED / NO_IDENTITY", async () => {
    const bankA = clientAs(h, "bank-a");
    const anonymous = new GatewayServiceClient(h.server.address, h.credentialsFor("bank-a").credentials);
    try {
      assert.equal((await submit(bankA, buildTx().raw)).err, undefined);
      assert.equal(reasonOf((await submit(bankA, buildTx({ signer: SIGNERS.bankB }).raw)).err), "WRONG_INSTITUTION");
      const r = await submit(anonymous, buildTx().raw);
      assert.equal(r.err?.code, status.UNAUTHENTICATED);
      assert.equal(reasonOf(r.err), "NO_IDENTITY");
    } finally {
      bankA.close();
      anonymous.close();
    }
  });

  test("the gateway refuses to start in insecure mode on a non-loopback address, and without TLS files otherwise", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gw-main-"));
    const genesisFile = join(dir, "genesis.json");
    writeFileSync(
      genesisFile,
      JSON.stringify(GENESIS, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v)),
    );
    const run = (env: Record<string, string>): Promise<{ code: number | null; out: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [serviceEntry("gateway")], {
          env: {
            ...process.env,
            NODE_ID: "node-1",
            GENESIS_FILE: genesisFile,
            EXECUTOR_ADDR: "127.0.0.1:1",
            DATABASE_URL: "postgres://x@127.0.0.1:1/x",
            ...env,
          },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (out += d.toString()));
        const t = setTimeout(() => child.kill("SIGKILL"), 15_000);
        child.on("exit", (code) => {
          clearTimeout(t);
          resolve({ code, out });
        });
      });
    try {
      const open = await run({ GATEWAY_INSECURE: "true", GRPC_ADDR: "0.0.0.0:0" });
      // A refused configuration exits EX_CONFIG (78), naming the variable (docs/configuration.md).
      assert.equal(open.code, 78);
      assert.match(open.out, /GRPC_ADDR 0\.0\.0\.0 is not a loopback address/);
      const noTls = await run({ GRPC_ADDR: "127.0.0.1:0" });
      assert.equal(noTls.code, 78);
      assert.match(noTls.out, /GATEWAY_CLIENT_CA_FILE is required/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
