import { describe, test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { TxStatus } from "@tally/proto/gateway";
import { toHex } from "@tally/ledger";
import { TallyClient } from "./tally-client.js";
import { TallyError } from "./tally-error.js";
import { startFakeGateway, type FakeGateway } from "./testing/fake-gateway.js";
import { CHAIN_ID, GENESIS, SIGNERS } from "./testing/fixtures.js";
import type { RetryEnv } from "./retry.js";

// Real sockets, no real waiting: the retry loop's sleeps are recorded and skipped.
const sleeps: number[] = [];
const FAST: RetryEnv = { nowMs: () => performance.now(), sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 };

describe("TallyClient against a fake gateway", () => {
  let gw: FakeGateway;
  let client: TallyClient;
  before(async () => {
    gw = await startFakeGateway();
    client = new TallyClient(gw.address, CHAIN_ID, SIGNERS.bankA, undefined, Date.now, { retryEnv: FAST, genesis: GENESIS });
  });
  after(async () => {
    client.close();
    await gw.stop();
  });
  beforeEach(() => {
    sleeps.length = 0;
    gw.attempts.length = 0;
  });

  test("a submit that fails twice (UNAVAILABLE, RESOURCE_EXHAUSTED) is retried with the same bytes and then accepted once", async () => {
    gw.failures.submit.push(
      { code: status.UNAVAILABLE, reason: "BUS_UNAVAILABLE", retryAfterMs: 500 },
      { code: status.RESOURCE_EXHAUSTED, reason: "GATEWAY_BUSY", retryAfterMs: 100 },
    );
    const tx = client.cash.transfer({ to: "bank-b", amount: 100n });
    const r = await client.submit(tx);
    assert.equal(r.status, TxStatus.TX_STATUS_ACCEPTED);
    assert.equal(r.duplicate, false);
    assert.deepEqual(new Uint8Array(r.txId), tx.id, "the tx id is the one the client computed");
    assert.equal(gw.attempts.length, 3);
    for (const a of gw.attempts) assert.deepEqual(new Uint8Array(a), tx.raw, "every attempt sends the same signed bytes");
    assert.equal(gw.txs.size >= 1 && gw.txs.has(toHex(tx.id)), true);
    // The retry-after hints are floors under the jittered backoff (50 ms and 100 ms at random 0.5).
    assert.deepEqual(sleeps, [500, 100]);
    // For a gateway in insecure loopback mode, every call names the institution.
    assert.equal(gw.namedCallers.at(-1), "bank-a");

    // Submitting the same transaction again is answered as a duplicate: never a second copy.
    const again = await client.submit(tx);
    assert.equal(again.duplicate, true);
    assert.deepEqual(new Uint8Array(again.txId), tx.id);
    assert.equal([...gw.txs.keys()].filter((k) => k === toHex(tx.id)).length, 1);
  });

  test("a submit refused for good is not retried: the TallyError carries code and reason", async () => {
    gw.failures.submit.push({ code: status.PERMISSION_DENIED, reason: "FORBIDDEN_ROLE" });
    await assert.rejects(client.submit(client.cash.transfer({ to: "bank-b", amount: 1n })), (e: unknown) => {
      assert.ok(e instanceof TallyError);
      assert.equal(e.code, status.PERMISSION_DENIED);
      assert.equal(e.reason, "FORBIDDEN_ROLE");
      assert.equal(e.retryable, false);
      return true;
    });
    assert.equal(gw.attempts.length, 1);
  });

  test("retries are bounded: after attemptsMax UNAVAILABLEs the last error is thrown with the attempts made", async () => {
    const bounded = new TallyClient(gw.address, CHAIN_ID, SIGNERS.bankA, undefined, Date.now, {
      retryEnv: FAST,
      retry: { attemptsMax: 3, backoffInitialMs: 10, backoffMaxMs: 100, totalMs: 10_000 },
    });
    try {
      for (let i = 0; i < 5; i++) gw.failures.submit.push({ code: status.UNAVAILABLE, reason: "BUS_UNAVAILABLE" });
      await assert.rejects(bounded.submit(bounded.cash.transfer({ to: "bank-b", amount: 2n })), (e: unknown) => {
        assert.ok(e instanceof TallyError);
        assert.equal(e.code, status.UNAVAILABLE);
        assert.equal(e.reason, "BUS_UNAVAILABLE");
        assert.equal(e.details.attempts, 3);
        return true;
      });
      assert.equal(gw.attempts.length, 3);
    } finally {
      gw.failures.submit.length = 0;
      bounded.close();
    }
  });

  test("submitAndWait retries the wait with the same bytes and reports each step once, in order", async () => {
    gw.failures.wait.push({ code: status.UNAVAILABLE, reason: "BUS_UNAVAILABLE" });
    const steps: TxStatus[] = [];
    const tx = client.notary.register({ hash: "ab".repeat(32), title: "contract" });
    const last = await client.submitAndWait(tx, { onUpdate: (u) => steps.push(u.status) });
    assert.equal(last.status, TxStatus.TX_STATUS_COMMITTED);
    assert.deepEqual(steps, [TxStatus.TX_STATUS_ACCEPTED, TxStatus.TX_STATUS_SEQUENCED, TxStatus.TX_STATUS_COMMITTED]);
    assert.equal(gw.attempts.length, 2);
    assert.deepEqual(new Uint8Array(gw.attempts[0]!), new Uint8Array(gw.attempts[1]!));
  });

  test("the older submitAndWait(tx, onUpdate, waitMs) form still works", async () => {
    const seen: TxStatus[] = [];
    const last = await client.submitAndWait(client.cash.transfer({ to: "bank-b", amount: 3n }), (u) => seen.push(u.status), 5000);
    assert.equal(last.status, TxStatus.TX_STATUS_COMMITTED);
    assert.equal(seen.at(-1), TxStatus.TX_STATUS_COMMITTED);
  });

  test("until: 'final' waits on after COMMITTED until the gateway reports FINAL", async () => {
    gw.finalAfterPolls = 3;
    try {
      const steps: TxStatus[] = [];
      const last = await client.submitAndWait(client.cash.transfer({ to: "bank-b", amount: 4n }), {
        until: "final",
        onUpdate: (u) => steps.push(u.status),
        finalPollMs: 1,
      });
      assert.equal(last.status, TxStatus.TX_STATUS_FINAL);
      assert.deepEqual(steps, [
        TxStatus.TX_STATUS_ACCEPTED,
        TxStatus.TX_STATUS_SEQUENCED,
        TxStatus.TX_STATUS_COMMITTED,
        TxStatus.TX_STATUS_FINAL,
      ]);
    } finally {
      gw.finalAfterPolls = undefined;
    }
  });

  test("until: 'final' against a gateway that never reports FINAL ends in DEADLINE_EXCEEDED / FINALITY_TIMEOUT", async () => {
    const real = new TallyClient(gw.address, CHAIN_ID, SIGNERS.bankA);
    try {
      const started = Date.now();
      await assert.rejects(
        real.submitAndWait(real.cash.transfer({ to: "bank-b", amount: 5n }), { until: "final", timeoutMs: 400, finalPollMs: 50 }),
        (e: unknown) => {
          assert.ok(e instanceof TallyError);
          assert.equal(e.code, status.DEADLINE_EXCEEDED);
          assert.equal(e.reason, "FINALITY_TIMEOUT");
          assert.match(e.message, /committed at height \d+/);
          return true;
        },
      );
      assert.ok(Date.now() - started < 3000, "the timeout bounds the wait");
    } finally {
      real.close();
    }
  });

  test("queries retry UNAVAILABLE and return the parsed result", async () => {
    gw.failures.query.push({ code: status.UNAVAILABLE, reason: "EXECUTOR_UNAVAILABLE" });
    gw.queryResult = (req) => ({
      contract: req.contract,
      query: req.query,
      args: JSON.parse(new TextDecoder().decode(req.args)) as unknown,
    });
    const r = await client.query("cash", "balance", { account: "bank-a" });
    assert.deepEqual(r.result, { contract: "cash", query: "balance", args: { account: "bank-a" } });
  });

  test("a google.rpc.Status in grpc-status-details-bin gives the reason (ErrorInfo) and the wrong field (BadRequest)", async () => {
    const any = (typeUrl: string, value: Uint8Array): Uint8Array =>
      new BinaryWriter().uint32(10).string(typeUrl).uint32(18).bytes(value).finish();
    const errorInfo = new BinaryWriter().uint32(10).string("BAD_ARGS").uint32(18).string("tally").finish();
    const violation = new BinaryWriter().uint32(10).string("args.amount").uint32(18).string("must be positive").finish();
    const badRequest = new BinaryWriter().uint32(10).bytes(violation).finish();
    const st = new BinaryWriter()
      .uint32(8)
      .int32(status.INVALID_ARGUMENT)
      .uint32(18)
      .string("amount must be positive")
      .uint32(26)
      .bytes(any("type.googleapis.com/google.rpc.ErrorInfo", errorInfo))
      .uint32(26)
      .bytes(any("type.googleapis.com/google.rpc.BadRequest", badRequest))
      .finish();
    // No tally-reason trailer this time: the reason must come from the status details.
    gw.failures.query.push({ code: status.INVALID_ARGUMENT, reason: "", statusDetails: st });
    await assert.rejects(client.query("cash", "balance", {}), (e: unknown) => {
      assert.ok(e instanceof TallyError);
      assert.equal(e.code, status.INVALID_ARGUMENT);
      assert.equal(e.reason, "BAD_ARGS");
      assert.equal(e.details.field, "args.amount");
      return true;
    });
  });

  test("a helper's bad args fail locally with the contract's reason, before anything is sent", () => {
    assert.throws(
      () => client.bill.issue({ id: "has.dot", payee: "bank-b", acceptor: "bank-b", amount: 1n, dueMs: 0 }),
      (e: unknown) => e instanceof TallyError && e.code === status.INVALID_ARGUMENT && e.reason === "BAD_ARGS" && /'\.'/.test(e.message),
    );
    assert.throws(
      () => client.cash.transfer({ to: "bank-b", amount: -5n }),
      (e: unknown) => e instanceof TallyError && e.reason === "BAD_ARGS" && /amount/.test(e.message),
    );
  });
});
