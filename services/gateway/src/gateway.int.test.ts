import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Client, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import {
  GatewayServiceClient,
  SubmitStreamRequest,
  SubmitStreamResponse,
  TxStatus,
  type SubmitAndWaitResponse,
  type SubmitResponse,
  type TxStatusUpdate,
} from "@tally/proto/gateway";
import { TxOutcome } from "@tally/proto/types";
import { busNames, deleteNamespace, ensureStreams } from "@tally/bus";
import { admit } from "./admission.js";
import { canonicalJson, fromUtf8, LIMITS, toHex, utf8 } from "@tally/ledger";
import { deadlineIn, RpcError } from "@tally/rpc";
import { TallyClient, TallyError } from "@tally/sdk";
import { uniqueNamespace, waitFor } from "@tally/testkit";
import { Gateway } from "./gateway-service.js";
import { TxStatusReader } from "./tx-status-reader.js";
import { ChainProofs } from "./chain-proofs.js";
import { TxWatcher } from "./tx-watcher.js";
import { buildTx, CHAIN_ID, membershipStateWithRevoked, NOT_PROTOBUF, SIGNERS, unsignedTx } from "./testing/fixtures.js";
import {
  GATEWAY_CONFIG,
  insertBlock,
  insertResult,
  insertSequenced,
  notifyHeight,
  silentLog,
  startGatewayHarness,
  type GatewayHarness,
} from "./testing/harness.js";

let h: GatewayHarness;
let raw: GatewayServiceClient;
let plain: Client;
let client: TallyClient;
let nextHeight = 1n;
/** The caller most tests submit as. */
const BANK_A = { id: "bank-a", roles: ["bank"] } as const;

function reasonOf(e: ServiceError): string | undefined {
  const v = e.metadata?.get("tally-reason")[0];
  return typeof v === "string" ? v : undefined;
}

/** A unary Submit with the raw generated client: the response, or the error. */
function rawSubmit(signedTx: Uint8Array): Promise<{ res?: SubmitResponse; err?: ServiceError }> {
  return new Promise((resolve) => {
    raw.submit({ signedTx }, new Metadata(), deadlineIn(10_000), (err, res) => resolve(err ? { err } : { res }));
  });
}

/** Opens a SubmitAndWait stream and collects its updates until it ends or fails. */
function openWait(signedTx: Uint8Array, waitMs: number): { updates: TxStatusUpdate[]; done: Promise<ServiceError | undefined> } {
  const updates: TxStatusUpdate[] = [];
  const call = raw.submitAndWait({ signedTx, waitMs, untilFinal: false }, new Metadata(), deadlineIn(waitMs + 10_000));
  const done = new Promise<ServiceError | undefined>((resolve) => {
    call.on("data", (m: SubmitAndWaitResponse) => {
      if (m.update !== undefined) updates.push(m.update);
    });
    call.on("error", (e: ServiceError) => resolve(e));
    call.on("end", () => resolve(undefined));
  });
  return { updates, done };
}

/** Sends bytes that are not the method's request protobuf, with a plain grpc-js client. */
function sendRawBytes(path: string, body: Uint8Array, streaming: boolean): Promise<ServiceError | undefined> {
  const id = (b: Buffer): Buffer => b;
  return new Promise((resolve) => {
    if (!streaming) {
      plain.makeUnaryRequest(path, id, id, Buffer.from(body), new Metadata(), deadlineIn(10_000), (err) => resolve(err ?? undefined));
      return;
    }
    const call = plain.makeServerStreamRequest(path, id, id, Buffer.from(body), new Metadata(), deadlineIn(10_000));
    call.on("data", () => undefined);
    call.on("error", (e: ServiceError) => resolve(e));
    call.on("end", () => resolve(undefined));
  });
}

/** An assert.rejects validator: a TallyError with this status (and reason). */
function tallyError(code: status, reason?: string): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof TallyError, String(e));
    assert.equal(e.code, code, e.message);
    if (reason !== undefined) assert.equal(e.reason, reason);
    return true;
  };
}

async function expectServing(): Promise<void> {
  await assert.rejects(client.status(randomBytes(32)), tallyError(status.NOT_FOUND));
}

/**
 * Submits bad bytes through the raw client and through the SDK: both get the status with a
 * tally-reason, nothing reaches TXS, and the server still answers afterwards.
 */
async function expectRefused(signedTx: Uint8Array, code: status, reason: string): Promise<void> {
  const before = await h.txsCount();
  const { res, err } = await rawSubmit(signedTx);
  assert.equal(res, undefined, `${reason}: expected a refusal, got ${JSON.stringify(res)}`);
  assert.ok(err);
  assert.equal(err.code, code, `${reason}: got ${status[err.code]} ${err.details}`);
  assert.equal(reasonOf(err), reason);
  await assert.rejects(client.submit({ raw: signedTx, id: new Uint8Array(32) }), (e: unknown) => {
    assert.ok(e instanceof TallyError);
    assert.equal(e.code, code);
    assert.equal(e.reason, reason);
    return true;
  });
  assert.equal(await h.txsCount(), before, `${reason}: something was published to TXS`);
  await expectServing();
}

describe("gateway over real NATS and PostgreSQL", () => {
  before(async () => {
    h = await startGatewayHarness();
    const asBankA = h.credentialsFor("bank-a");
    raw = new GatewayServiceClient(h.server.address, asBankA.credentials, asBankA.options);
    plain = new Client(h.server.address, asBankA.credentials, asBankA.options);
    client = new TallyClient(h.server.address, CHAIN_ID, SIGNERS.bankA, asBankA.credentials);
  });

  after(async () => {
    client?.close();
    raw?.close();
    plain?.close();
    await h?.close();
  });

  describe("refusals: the right status and reason, and nothing published", () => {
    test("a request body that is not protobuf is INVALID_ARGUMENT / MALFORMED, for unary and streaming calls", async () => {
      const before = await h.txsCount();
      for (const [path, streaming] of [
        ["/tally.v1.GatewayService/Submit", false],
        ["/tally.v1.GatewayService/SubmitAndWait", true],
        ["/tally.v1.GatewayService/GetTxStatus", false],
      ] as const) {
        const err = await sendRawBytes(path, NOT_PROTOBUF, streaming);
        assert.ok(err, `${path} answered a malformed request`);
        assert.equal(err.code, status.INVALID_ARGUMENT, `${path}: ${status[err.code]} ${err.details}`);
        assert.equal(reasonOf(err), "MALFORMED");
      }
      assert.equal(await h.txsCount(), before);
      await expectServing();
    });

    test("signed_tx bytes that are garbage: INVALID_ARGUMENT / MALFORMED", async () => {
      await expectRefused(NOT_PROTOBUF, status.INVALID_ARGUMENT, "MALFORMED");
      await expectRefused(randomBytes(300), status.INVALID_ARGUMENT, "MALFORMED");
      await expectRefused(new Uint8Array(0), status.INVALID_ARGUMENT, "MALFORMED");
    });

    test("a signature that does not verify: UNAUTHENTICATED / BAD_SIGNATURE", async () => {
      await expectRefused(buildTx({ signer: SIGNERS.impostor }).raw, status.UNAUTHENTICATED, "BAD_SIGNATURE");
    });

    test("no signature: UNAUTHENTICATED / MISSING_SIGNATURE", async () => {
      await expectRefused(unsignedTx(), status.UNAUTHENTICATED, "MISSING_SIGNATURE");
    });

    test("a co-signature by an unknown institution: PERMISSION_DENIED / UNKNOWN_SIGNER", async () => {
      await expectRefused(buildTx({ signers: [SIGNERS.bankA, SIGNERS.stranger] }).raw, status.PERMISSION_DENIED, "UNKNOWN_SIGNER");
    });

    test("a body signer other than the caller's institution: PERMISSION_DENIED / WRONG_INSTITUTION, even with valid signatures", async () => {
      await expectRefused(buildTx({ signer: SIGNERS.bankB }).raw, status.PERMISSION_DENIED, "WRONG_INSTITUTION");
      await expectRefused(buildTx({ signer: SIGNERS.stranger }).raw, status.PERMISSION_DENIED, "WRONG_INSTITUTION");
    });

    test("a key revoked in the node's membership state: PERMISSION_DENIED / KEY_REVOKED", async () => {
      const tx = buildTx({ signer: SIGNERS.bankA2 });
      // Genesis knows the key as active.
      assert.ok(admit(tx.raw, CHAIN_ID, Date.now(), h.membership.view, 0n));
      // Write membership state as the executor does after bank-a's revoke-key, then refresh.
      const rows = [...membershipStateWithRevoked("bank-a", "k2")].map(([key, value]) => ({
        contract: "membership",
        key,
        value: JSON.stringify(value),
        height: 1n,
      }));
      await h.db.insertInto("contract_state").values(rows).execute();
      await h.membership.refresh();
      await expectRefused(tx.raw, status.PERMISSION_DENIED, "KEY_REVOKED");
      // The institution's other key, and everyone else, still work.
      assert.ok(admit(buildTx({ signer: SIGNERS.bankA }).raw, CHAIN_ID, Date.now(), h.membership.view, 0n));
      assert.ok(
        admit(buildTx({ signer: SIGNERS.bankB, args: { to: "bank-a", amount: "1" } }).raw, CHAIN_ID, Date.now(), h.membership.view, 0n),
      );
    });

    test("another chain's id: INVALID_ARGUMENT / WRONG_CHAIN", async () => {
      await expectRefused(buildTx({ chainId: "someone-elses-chain" }).raw, status.INVALID_ARGUMENT, "WRONG_CHAIN");
    });

    test("a valid_until in the past: FAILED_PRECONDITION / EXPIRED", async () => {
      await expectRefused(buildTx({ validUntilMs: Date.now() - 60_000 }).raw, status.FAILED_PRECONDITION, "EXPIRED");
    });

    test("a valid_until too far ahead: INVALID_ARGUMENT / VALID_UNTIL_TOO_FAR", async () => {
      await expectRefused(buildTx({ validUntilMs: Date.now() + 48 * 3600_000 }).raw, status.INVALID_ARGUMENT, "VALID_UNTIL_TOO_FAR");
    });

    test("an oversized transaction: INVALID_ARGUMENT / TOO_LARGE", async () => {
      const big = buildTx({ args: { to: "bank-b", amount: "1", memo: "m".repeat(LIMITS.txBytesMax) } }).raw;
      assert.ok(big.byteLength > LIMITS.txBytesMax);
      await expectRefused(big, status.INVALID_ARGUMENT, "TOO_LARGE");
    });

    test("an unknown contract: INVALID_ARGUMENT / UNKNOWN_CONTRACT", async () => {
      await expectRefused(buildTx({ contract: "lottery" }).raw, status.INVALID_ARGUMENT, "UNKNOWN_CONTRACT");
    });

    test("an unknown action: INVALID_ARGUMENT / UNKNOWN_ACTION", async () => {
      await expectRefused(buildTx({ action: "burn" }).raw, status.INVALID_ARGUMENT, "UNKNOWN_ACTION");
    });

    test("args that fail the action's schema: INVALID_ARGUMENT / BAD_ARGS", async () => {
      await expectRefused(buildTx({ args: { to: "bank-b", amount: "-1" } }).raw, status.INVALID_ARGUMENT, "BAD_ARGS");
      await expectRefused(buildTx({ args: { to: "bank-b" } }).raw, status.INVALID_ARGUMENT, "BAD_ARGS");
    });

    test("a signer without the action's role: PERMISSION_DENIED / FORBIDDEN_ROLE", async () => {
      await expectRefused(
        buildTx({ action: "issue", args: { to: "bank-a", amount: "1" } }).raw,
        status.PERMISSION_DENIED,
        "FORBIDDEN_ROLE",
      );
    });

    test("SubmitAndWait refuses a bad transaction the same way, before any update", async () => {
      const before = await h.txsCount();
      const w = openWait(buildTx({ signer: SIGNERS.stranger }).raw, 1000);
      const err = await w.done;
      assert.ok(err);
      assert.equal(err.code, status.PERMISSION_DENIED);
      assert.equal(reasonOf(err), "WRONG_INSTITUTION");
      assert.deepEqual(w.updates, []);
      assert.equal(await h.txsCount(), before);
    });
  });

  describe("submit", () => {
    const good = buildTx({ args: { to: "bank-b", amount: "250", memo: "first" } });

    test("a good transaction is ACCEPTED and is exactly one TXS message, keyed by its tx id", async () => {
      const before = await h.txsCount();
      const r = await client.submit(good);
      assert.equal(r.status, TxStatus.TX_STATUS_ACCEPTED);
      assert.equal(r.duplicate, false);
      assert.deepEqual(new Uint8Array(r.txId), good.id);
      assert.equal(await h.txsCount(), before + 1);
      const info = await h.bus.jsm.streams.info(h.names.txsStream);
      const m = await h.bus.jsm.streams.getMessage(h.names.txsStream, { seq: info.state.last_seq });
      assert.ok(m);
      assert.equal(m.header.get("Nats-Msg-Id"), toHex(good.id));
      assert.equal(m.header.get("tally-tx-id"), toHex(good.id));
      assert.equal(m.subject, h.names.txSubject("bank-a"));
      // The exact signed bytes, never re-encoded.
      assert.deepEqual(new Uint8Array(m.data), good.raw);
    });

    test("submitting it again answers the same tx id with duplicate=true, and TXS still holds one copy", async () => {
      const before = await h.txsCount();
      const again = await rawSubmit(good.raw);
      assert.ok(again.res, again.err?.details);
      assert.deepEqual(new Uint8Array(again.res.txId), good.id);
      assert.equal(again.res.duplicate, true);
      assert.equal(again.res.status, TxStatus.TX_STATUS_ACCEPTED);
      const viaSdk = await client.submit(good);
      assert.equal(viaSdk.duplicate, true);
      assert.equal(await h.txsCount(), before);
    });

    test("GetTxStatus knows an accepted transaction before it is sequenced", async () => {
      const s = await client.status(good.id);
      assert.equal(s.status, TxStatus.TX_STATUS_ACCEPTED);
      assert.equal(s.height, 0n);
      assert.equal(s.result, undefined);
    });

    test("a two-party transaction with a co-signature is accepted", async () => {
      const tx = buildTx({ signer: SIGNERS.bankA, signers: [SIGNERS.bankA, SIGNERS.bankB] });
      const before = await h.txsCount();
      const r = await client.submit(tx);
      assert.equal(r.status, TxStatus.TX_STATUS_ACCEPTED);
      assert.equal(await h.txsCount(), before + 1);
    });

    test("a transaction built by the SDK client is accepted", async () => {
      const tx = client.build("notary", "register", { hash: toHex(randomBytes(32)), title: "bill of lading" });
      const r = await client.submit(tx);
      assert.equal(r.status, TxStatus.TX_STATUS_ACCEPTED);
      assert.deepEqual(new Uint8Array(r.txId), tx.id);
    });
  });

  describe("GetTxStatus follows the node's database", () => {
    test("an unknown tx id is NOT_FOUND / NO_SUCH_TX; a tx id of the wrong length is INVALID_ARGUMENT / BAD_TX_ID", async () => {
      await assert.rejects(client.status(randomBytes(32)), (e: unknown) => {
        assert.ok(e instanceof TallyError);
        assert.equal(e.code, status.NOT_FOUND);
        assert.equal(e.reason, "NO_SUCH_TX");
        return true;
      });
      await assert.rejects(client.status(randomBytes(31)), (e: unknown) => {
        assert.ok(e instanceof TallyError);
        assert.equal(e.code, status.INVALID_ARGUMENT);
        assert.equal(e.reason, "BAD_TX_ID");
        return true;
      });
    });

    test("NOT_FOUND, then SEQUENCED with the block's height, then COMMITTED with the result", async () => {
      // A transaction this gateway never saw (another node's gateway accepted it).
      const tx = buildTx({ signer: SIGNERS.bankB, args: { to: "bank-a", amount: "7" } });
      await assert.rejects(client.status(tx.id), tallyError(status.NOT_FOUND));

      const height = nextHeight++;
      await insertBlock(h.db, height, 3);
      await insertSequenced(h.db, tx.id, tx.raw, height, 2);
      const seq = await client.status(tx.id);
      assert.equal(seq.status, TxStatus.TX_STATUS_SEQUENCED);
      assert.equal(seq.height, height);
      assert.equal(seq.result, undefined);

      await insertResult(h.db, tx.id, height, 2);
      const done = await client.status(tx.id);
      assert.equal(done.status, TxStatus.TX_STATUS_COMMITTED);
      assert.equal(done.height, height);
      assert.ok(done.result);
      assert.equal(done.result.outcome, TxOutcome.TX_OUTCOME_COMMITTED);
      assert.equal(done.result.index, 2);
      assert.deepEqual(new Uint8Array(done.result.txId), tx.id);
    });

    test("a transaction the contract rejected is COMMITTED with outcome REJECTED and its reason", async () => {
      const tx = buildTx({ args: { to: "bank-b", amount: "999999" } });
      const height = nextHeight++;
      await insertBlock(h.db, height);
      await insertSequenced(h.db, tx.id, tx.raw, height, 0);
      await insertResult(h.db, tx.id, height, 0, { committed: false, reasonCode: "INSUFFICIENT_FUNDS", message: "bank-a holds 0" });
      const s = await client.status(tx.id);
      assert.equal(s.status, TxStatus.TX_STATUS_COMMITTED);
      assert.equal(s.result?.outcome, TxOutcome.TX_OUTCOME_REJECTED);
      assert.equal(s.result?.reasonCode, "INSUFFICIENT_FUNDS");
      assert.equal(s.result?.message, "bank-a holds 0");
    });

    test("a replay's later rejected result does not hide the first outcome", async () => {
      const tx = buildTx({ args: { to: "bank-b", amount: "3" } });
      const height = nextHeight++;
      await insertBlock(h.db, height, 2);
      await insertSequenced(h.db, tx.id, tx.raw, height, 0);
      // The same tx included twice in one block: the second is a rejected replay.
      await insertResult(h.db, tx.id, height, 1, { committed: false, reasonCode: "REPLAY", message: "seen before" });
      await insertResult(h.db, tx.id, height, 0);
      const s = await client.status(tx.id);
      assert.equal(s.result?.outcome, TxOutcome.TX_OUTCOME_COMMITTED);
      assert.equal(s.result?.index, 0);
    });

    test("a copy with a forged signature sequenced first does not become the genuine transaction's outcome", async () => {
      const tx = buildTx({ args: { to: "bank-b", amount: "4" } });
      const height = nextHeight++;
      await insertBlock(h.db, height, 2);
      await insertSequenced(h.db, tx.id, tx.raw, height, 0);
      // Index 0: the same body with a forged signature, rejected unauthenticated; index 1: the genuine one.
      await insertResult(h.db, tx.id, height, 0, {
        committed: false,
        reasonCode: "BAD_SIGNATURE",
        message: "forged",
        authenticated: false,
      });
      await insertResult(h.db, tx.id, height, 1);
      const s = await client.status(tx.id);
      assert.equal(s.status, TxStatus.TX_STATUS_COMMITTED);
      assert.equal(s.result?.outcome, TxOutcome.TX_OUTCOME_COMMITTED);
      assert.equal(s.result?.index, 1);
    });

    test("resubmitting a committed transaction answers its outcome as a duplicate and publishes nothing", async () => {
      const tx = buildTx({ args: { to: "bank-b", amount: "11" } });
      const height = nextHeight++;
      await insertBlock(h.db, height);
      await insertSequenced(h.db, tx.id, tx.raw, height, 0);
      await insertResult(h.db, tx.id, height, 0);
      const before = await h.txsCount();
      const r = await rawSubmit(tx.raw);
      assert.ok(r.res, r.err?.details);
      assert.equal(r.res.status, TxStatus.TX_STATUS_COMMITTED);
      assert.equal(r.res.duplicate, true);
      assert.equal(await h.txsCount(), before);

      // SubmitAndWait answers at once, with one COMMITTED update.
      const w = openWait(tx.raw, 5000);
      assert.equal(await w.done, undefined);
      assert.equal(w.updates.length, 1);
      assert.equal(w.updates[0]?.status, TxStatus.TX_STATUS_COMMITTED);
      assert.equal(w.updates[0]?.duplicate, true);
      assert.equal(w.updates[0]?.height, height);
      assert.equal(await h.txsCount(), before);
    });
    test("a replay after the first submission's deadline passed still answers its status, not EXPIRED", async () => {
      const tx = buildTx({ args: { to: "bank-b", amount: "12" }, validUntilMs: Date.now() - 1000 });
      const height = nextHeight++;
      await insertBlock(h.db, height);
      await insertSequenced(h.db, tx.id, tx.raw, height, 0);
      await insertResult(h.db, tx.id, height, 0);
      const before = await h.txsCount();
      const r = await rawSubmit(tx.raw);
      assert.ok(r.res, r.err?.details);
      assert.equal(r.res.status, TxStatus.TX_STATUS_COMMITTED);
      assert.equal(r.res.duplicate, true);
      assert.equal(await h.txsCount(), before);
      // The same body never seen before is judged afresh: EXPIRED.
      const fresh = await rawSubmit(buildTx({ args: { to: "bank-b", amount: "13" }, validUntilMs: Date.now() - 1000 }).raw);
      assert.equal(fresh.err?.code, 9);
    });
  });

  describe("SubmitAndWait", () => {
    test("streams ACCEPTED, then SEQUENCED(height), then COMMITTED(result), then ends", async () => {
      const tx = buildTx({ args: { to: "bank-b", amount: "5", memo: "waited" } });
      const before = await h.txsCount();
      const w = openWait(tx.raw, 15_000);
      await waitFor("ACCEPTED", () => w.updates.length >= 1, 10_000);
      assert.equal(w.updates[0]?.status, TxStatus.TX_STATUS_ACCEPTED);
      assert.deepEqual(new Uint8Array(w.updates[0]?.txId ?? []), tx.id);
      assert.equal(await h.txsCount(), before + 1);

      const height = nextHeight++;
      await insertBlock(h.db, height);
      await insertSequenced(h.db, tx.id, tx.raw, height, 0);
      await notifyHeight(h.db, "blockstore", height);
      await waitFor("SEQUENCED", () => w.updates.length >= 2, 10_000);
      assert.equal(w.updates[1]?.status, TxStatus.TX_STATUS_SEQUENCED);
      assert.equal(w.updates[1]?.height, height);

      await insertResult(h.db, tx.id, height, 0);
      await notifyHeight(h.db, "executor", height);
      const err = await w.done;
      assert.equal(err, undefined, err?.details);
      assert.deepEqual(
        w.updates.map((u) => u.status),
        [TxStatus.TX_STATUS_ACCEPTED, TxStatus.TX_STATUS_SEQUENCED, TxStatus.TX_STATUS_COMMITTED],
      );
      const last = w.updates[2]!;
      assert.equal(last.height, height);
      assert.equal(last.result?.outcome, TxOutcome.TX_OUTCOME_COMMITTED);
      assert.equal(last.duplicate, false);
      await waitFor("the waiter to leave the watcher", () => h.watcher.size === 0, 5000);
    });

    test("when the block is stored and applied between two looks, SEQUENCED is still reported before COMMITTED", async () => {
      const tx = buildTx({ args: { to: "bank-b", amount: "6" } });
      const seen: TxStatusUpdate[] = [];
      const height = nextHeight++;
      const result = client.submitAndWait(
        tx,
        (u) => {
          seen.push(u);
          if (u.status === TxStatus.TX_STATUS_ACCEPTED) {
            void h.db.transaction().execute(async (trx) => {
              await insertBlock(trx, height);
              await insertSequenced(trx, tx.id, tx.raw, height, 0);
              await insertResult(trx, tx.id, height, 0, { committed: false, reasonCode: "INSUFFICIENT_FUNDS", message: "none" });
            });
          }
        },
        15_000,
      );
      const last = await result;
      assert.equal(last.status, TxStatus.TX_STATUS_COMMITTED);
      assert.equal(last.result?.reasonCode, "INSUFFICIENT_FUNDS");
      assert.deepEqual(
        seen.map((u) => [u.status, u.height]),
        [
          [TxStatus.TX_STATUS_ACCEPTED, 0n],
          [TxStatus.TX_STATUS_SEQUENCED, height],
          [TxStatus.TX_STATUS_COMMITTED, height],
        ],
      );
    });

    test("with a short wait_ms and no commit: ACCEPTED, then DEADLINE_EXCEEDED / WAIT_TIMEOUT; the tx stays accepted", async () => {
      const tx = buildTx({ args: { to: "bank-b", amount: "8" } });
      const w = openWait(tx.raw, 300);
      const err = await w.done;
      assert.ok(err, "the stream ended without an error");
      assert.equal(err.code, status.DEADLINE_EXCEEDED);
      assert.equal(reasonOf(err), "WAIT_TIMEOUT");
      assert.deepEqual(
        w.updates.map((u) => u.status),
        [TxStatus.TX_STATUS_ACCEPTED],
      );
      assert.equal((await client.status(tx.id)).status, TxStatus.TX_STATUS_ACCEPTED);
      await waitFor("the waiter to leave the watcher", () => h.watcher.size === 0, 5000);

      await assert.rejects(client.submitAndWait(buildTx({ args: { to: "bank-b", amount: "9" } }), undefined, 200), (e: unknown) => {
        assert.ok(e instanceof TallyError);
        assert.equal(e.code, status.DEADLINE_EXCEEDED);
        assert.equal(e.reason, "WAIT_TIMEOUT");
        return true;
      });
    });

    test("a client that cancels its wait frees its place in the watcher", async () => {
      const tx = buildTx({ args: { to: "bank-b", amount: "10" } });
      const call = raw.submitAndWait({ signedTx: tx.raw, waitMs: 15_000, untilFinal: false }, new Metadata(), deadlineIn(20_000));
      const got: TxStatusUpdate[] = [];
      call.on("data", (m: SubmitAndWaitResponse) => m.update && got.push(m.update));
      call.on("error", () => undefined);
      await waitFor("ACCEPTED", () => got.length >= 1, 10_000);
      await waitFor("the waiter to be registered", () => h.watcher.size === 1, 5000);
      call.cancel();
      await waitFor("the waiter to leave the watcher", () => h.watcher.size === 0, 5000);
    });
  });

  describe("SubmitStream (bulk)", () => {
    test("each request is answered by its correlation id; refusals are answers and the stream goes on", async () => {
      const before = await h.txsCount();
      const good = buildTx({ args: { to: "bank-b", amount: "21" } });
      const expired = buildTx({ args: { to: "bank-b", amount: "22" }, validUntilMs: Date.now() - 1000 });
      const call = raw.submitStream(new Metadata());
      const answers = new Map<bigint, SubmitStreamResponse>();
      const done = new Promise<void>((resolve, reject) => {
        call.on("data", (r: SubmitStreamResponse) => answers.set(r.correlationId, r));
        call.on("end", () => resolve());
        call.on("error", reject);
      });
      call.write({ signedTx: good.raw, correlationId: 1n });
      call.write({ signedTx: new Uint8Array([1, 2, 3]), correlationId: 2n });
      call.write({ signedTx: expired.raw, correlationId: 3n });
      call.write({ signedTx: good.raw, correlationId: 4n });
      await waitFor("four answers", () => answers.size === 4);
      call.end();
      await done;
      assert.equal(answers.get(1n)?.errorCode, 0);
      assert.equal(answers.get(1n)?.status, TxStatus.TX_STATUS_ACCEPTED);
      assert.equal(toHex(answers.get(1n)!.txId), toHex(good.id));
      assert.deepEqual([answers.get(2n)?.errorCode, answers.get(2n)?.reason], [status.INVALID_ARGUMENT, "MALFORMED"]);
      assert.deepEqual([answers.get(3n)?.errorCode, answers.get(3n)?.reason], [status.FAILED_PRECONDITION, "EXPIRED"]);
      assert.equal(answers.get(4n)?.errorCode, 0);
      assert.equal(answers.get(4n)?.duplicate, true);
      assert.equal(await h.txsCount(), before + 1, "one copy of the good tx, nothing of the refused ones");
    });

    test("a message that is not protobuf is answered MALFORMED, and later ones still go through", async () => {
      const before = await h.txsCount();
      const call = plain.makeBidiStreamRequest(
        "/tally.v1.GatewayService/SubmitStream",
        (b: Buffer) => b,
        (b: Buffer) => SubmitStreamResponse.decode(b),
        new Metadata(),
      );
      const answers: SubmitStreamResponse[] = [];
      call.on("data", (r: SubmitStreamResponse) => answers.push(r));
      const ended = new Promise<void>((resolve) => call.on("end", () => resolve()));
      call.write(Buffer.from(NOT_PROTOBUF));
      const ok = buildTx({ args: { to: "bank-b", amount: "23" } });
      call.write(Buffer.from(SubmitStreamRequest.encode({ signedTx: ok.raw, correlationId: 7n }).finish()));
      await waitFor("two answers", () => answers.length === 2);
      call.end();
      await ended;
      assert.ok(answers.some((a) => a.reason === "MALFORMED" && a.correlationId === 0n));
      assert.ok(answers.some((a) => a.correlationId === 7n && a.errorCode === 0));
      assert.equal(await h.txsCount(), before + 1);
    });

    test("the SDK's BulkSubmitter sends many more transactions than the server's in-flight limit; every one is accepted once", async () => {
      const before = await h.txsCount();
      const bulk = client.openStream(32);
      const txs = Array.from({ length: 300 }, (_, i) => client.build("cash", "transfer", { to: "bank-b", amount: String(100 + i) }));
      const acks = await Promise.all(txs.map((t) => bulk.submit(t)));
      await bulk.close();
      assert.equal(acks.length, 300);
      assert.ok(acks.every((a, i) => toHex(a.txId) === toHex(txs[i]!.id) && a.status === TxStatus.TX_STATUS_ACCEPTED && !a.duplicate));
      assert.equal(await h.txsCount(), before + 300);
      // A refused one rejects its own promise only.
      const bulk2 = client.openStream(8);
      const bad = bulk2.submit({ raw: new Uint8Array([9, 9]), id: new Uint8Array(32) });
      const fine = bulk2.submit(client.build("cash", "transfer", { to: "bank-b", amount: "1" }));
      await assert.rejects(bad, (e: unknown) => e instanceof TallyError && e.reason === "MALFORMED");
      assert.equal((await fine).status, TxStatus.TX_STATUS_ACCEPTED);
      await bulk2.close();
    });
  });

  describe("Query passthrough to the node's executor", () => {
    test("the executor's answer and height come back, and the request reaches it unchanged", async () => {
      h.setQuery(async (req) => ({
        result: utf8(canonicalJson({ contract: req.contract, query: req.query, args: JSON.parse(fromUtf8(req.args)) })),
        height: 42n,
      }));
      const calls = h.executorCalls.length;
      const r = await client.query<{ contract: string; query: string; args: unknown }>("cash", "balance", { account: "bank-a" });
      assert.equal(r.height, 42n);
      assert.deepEqual(r.result, { contract: "cash", query: "balance", args: { account: "bank-a" } });
      assert.equal(h.executorCalls.length, calls + 1);
    });

    test("the executor's INVALID_ARGUMENT and tally-reason pass through unchanged", async () => {
      h.setQuery(async (req) => {
        throw new RpcError(status.INVALID_ARGUMENT, `contract ${req.contract} has no query ${req.query}`, "UNKNOWN_QUERY");
      });
      await assert.rejects(client.query("cash", "nope"), (e: unknown) => {
        assert.ok(e instanceof TallyError);
        assert.equal(e.code, status.INVALID_ARGUMENT);
        assert.equal(e.reason, "UNKNOWN_QUERY");
        assert.match(e.message, /contract cash has no query nope/);
        return true;
      });
      const err = await new Promise<ServiceError | null>((resolve) =>
        raw.query({ contract: "cash", query: "nope", args: new Uint8Array(0) }, new Metadata(), deadlineIn(10_000), (e) => resolve(e)),
      );
      assert.ok(err);
      assert.equal(err.code, status.INVALID_ARGUMENT);
      assert.equal(reasonOf(err), "UNKNOWN_QUERY");
      assert.equal(err.details, "contract cash has no query nope");
    });

    test("other executor statuses keep their code and reason; a crash in the executor is INTERNAL", async () => {
      h.setQuery(async () => {
        throw new RpcError(status.FAILED_PRECONDITION, "not caught up", "NOT_CAUGHT_UP");
      });
      await assert.rejects(client.query("cash", "balance", { account: "bank-a" }), tallyError(status.FAILED_PRECONDITION, "NOT_CAUGHT_UP"));
      h.setQuery(async () => {
        throw new Error("disk on fire");
      });
      await assert.rejects(client.query("cash", "balance", { account: "bank-a" }), tallyError(status.INTERNAL, "INTERNAL"));
      await expectServing();
    });

    test("GetHistory is answered by the executor; the SDK pages through it with the last cursor", async () => {
      const calls = h.historyCalls.length;
      const entries = await client.history("bill", "bill/b-1");
      assert.deepEqual(
        entries.map((e) => [e.height, e.type, e.assetId, e.contract, e.signers, e.data]),
        [
          [1n, "Step1", "bill/b-1", "bill", ["bank-a", "bank-b"], { n: 1 }],
          [2n, "Step2", "bill/b-1", "bill", ["bank-a", "bank-b"], { n: 2 }],
        ],
      );
      assert.equal(h.historyCalls.length, calls + 2);
      assert.deepEqual(h.historyCalls.at(-1)?.after, { height: 1n, txIndex: 0, eventIndex: 0 });
    });

    test("GetHistory keeps the executor's refusal: INVALID_ARGUMENT / BAD_ARGS, and the gateway serves on", async () => {
      await assert.rejects(client.history("bill", "bad"), tallyError(status.INVALID_ARGUMENT, "BAD_ARGS"));
      await expectServing();
    });

    test("query args over the size limit are refused without asking the executor", async () => {
      const calls = h.executorCalls.length;
      await assert.rejects(
        client.query("cash", "balance", { account: "x".repeat(LIMITS.txBytesMax) }),
        tallyError(status.INVALID_ARGUMENT, "TOO_LARGE"),
      );
      assert.equal(h.executorCalls.length, calls);
    });
  });

  describe("back-pressure and bus failures", () => {
    test("when TXS cannot take the publish: UNAVAILABLE / BUS_UNAVAILABLE with retry-after, and nothing is remembered", async () => {
      // A namespace whose streams do not exist: JetStream answers no one.
      const gw = new Gateway(
        { ...GATEWAY_CONFIG, publishTimeoutMs: 500 },
        {
          bus: h.bus,
          names: busNames(uniqueNamespace("nostream")),
          membership: h.membership,
          statuses: h.statuses,
          watcher: h.watcher,
          executor: h.executorClient,
          proofs: new ChainProofs(h.db),
          nowMs: () => Date.now(),
          log: silentLog,
        },
      );
      const tx = buildTx({ args: { to: "bank-b", amount: "12" } });
      await assert.rejects(gw.submit(tx.raw, BANK_A), (e: unknown) => {
        assert.ok(e instanceof RpcError);
        assert.equal(e.code, status.UNAVAILABLE);
        assert.equal(e.reason, "BUS_UNAVAILABLE");
        assert.equal(e.metadata["retry-after-ms"], "500");
        return true;
      });
      await assert.rejects(gw.status(tx.id), (e: unknown) => e instanceof RpcError && e.code === status.NOT_FOUND);
    });

    test("while TXS is unavailable the gateway retries until it comes back, then answers ACCEPTED with one copy", async () => {
      // TXS does not exist at first (as while a stream leader is elected: no one answers).
      const names = busNames(uniqueNamespace("late"));
      const gw = new Gateway(
        { ...GATEWAY_CONFIG, publishTimeoutMs: 300, publishRetryMs: 10_000 },
        {
          bus: h.bus,
          names,
          membership: h.membership,
          statuses: h.statuses,
          watcher: h.watcher,
          executor: h.executorClient,
          proofs: new ChainProofs(h.db),
          nowMs: () => Date.now(),
          log: silentLog,
        },
      );
      const tx = buildTx({ args: { to: "bank-b", amount: "14" } });
      const pending = gw.submit(tx.raw, BANK_A);
      let settled = false;
      void pending.then(
        () => (settled = true),
        () => (settled = true),
      );
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(settled, false, "no answer while the stream is missing: never ACCEPTED without an ack");
      await ensureStreams(h.bus.jsm, names);
      try {
        const u = await pending;
        assert.equal(u.status, TxStatus.TX_STATUS_ACCEPTED);
        assert.equal((await h.bus.jsm.streams.info(names.txsStream)).state.messages, 1);
      } finally {
        await deleteNamespace(h.bus.jsm, names);
      }
    });

    test("past inFlightMax: RESOURCE_EXHAUSTED / GATEWAY_BUSY, nothing published", async () => {
      const gw = new Gateway(
        { ...GATEWAY_CONFIG, inFlightMax: 0 },
        {
          bus: h.bus,
          names: h.names,
          membership: h.membership,
          statuses: h.statuses,
          watcher: h.watcher,
          executor: h.executorClient,
          proofs: new ChainProofs(h.db),
          nowMs: () => Date.now(),
          log: silentLog,
        },
      );
      const before = await h.txsCount();
      await assert.rejects(
        gw.submit(buildTx().raw, BANK_A),
        (e: unknown) => e instanceof RpcError && e.code === status.RESOURCE_EXHAUSTED && e.reason === "GATEWAY_BUSY",
      );
      assert.equal(await h.txsCount(), before);
    });

    test("when the watcher is full, waiting is RESOURCE_EXHAUSTED / WAITERS_FULL", async () => {
      const watcher = new TxWatcher(new TxStatusReader(h.db), 0);
      const gw = new Gateway(GATEWAY_CONFIG, {
        bus: h.bus,
        names: h.names,
        membership: h.membership,
        statuses: h.statuses,
        watcher,
        executor: h.executorClient,
        proofs: new ChainProofs(h.db),
        nowMs: () => Date.now(),
        log: silentLog,
      });
      const updates: TxStatusUpdate[] = [];
      await assert.rejects(
        gw.wait(randomBytes(32), 5000, new AbortController().signal, (u) => updates.push(u)),
        (e: unknown) => e instanceof RpcError && e.code === status.RESOURCE_EXHAUSTED && e.reason === "WAITERS_FULL",
      );
      assert.deepEqual(updates, []);
      watcher.stop();
    });
  });
});
