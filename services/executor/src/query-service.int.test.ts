import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { status, type ServiceError } from "@grpc/grpc-js";
import type { Kysely } from "kysely";
import {
  ExecutorQueryServiceClient,
  type ExecutorQueryServiceGetHistoryRequest,
  type ExecutorQueryServiceGetHistoryResponse,
  type ExecutorQueryServiceQueryResponse,
  type GetCheckpointResponse,
  type GetTxResultResponse,
} from "@tally/proto/executor";
import { TxOutcome } from "@tally/proto/types";
import { builtinContracts } from "@tally/contracts";
import { migrateToLatest, openDb, type Database } from "@tally/db";
import { fromUtf8, sha256, toHex, utf8 } from "@tally/ledger";
import { insecure, startServer, unary, type RunningServer } from "@tally/rpc";
import { createTestDatabase } from "@tally/testkit";
import { executeBlock, genesisEffects } from "./block-executor.js";
import { EffectsStore } from "./effects-store.js";
import { dbSnapshot, queryService } from "./query-service.js";
import { DbStateReader } from "./state-reader.js";
import { BANK_A, BANK_B, ChainBuilder, GENESIS, issue, transfer } from "./testing/test-chain.js";

const CALL_MS = 5_000;

describe("the executor's gRPC query service over a database with state", () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Kysely<Database>;
  let server: RunningServer;
  let client: ExecutorQueryServiceClient;
  const chain = new ChainBuilder();
  const issued = issue("bank-a", "100");
  const short = transfer(BANK_B, "clearing", "31");
  let stateRoot: Uint8Array;

  function query(contract: string, name: string, args: Uint8Array | string): Promise<ExecutorQueryServiceQueryResponse> {
    const bytes = typeof args === "string" ? utf8(args) : args;
    return unary<ExecutorQueryServiceQueryResponse>(
      (md, o, cb) => client.query({ contract, query: name, args: bytes }, md, o, cb),
      CALL_MS,
    );
  }

  function txResult(txId: Uint8Array): Promise<GetTxResultResponse> {
    return unary<GetTxResultResponse>((md, o, cb) => client.getTxResult({ txId }, md, o, cb), CALL_MS);
  }

  /** Asserts a call fails with INVALID_ARGUMENT and the given tally-reason. */
  async function invalid(call: Promise<unknown>, reason: string): Promise<void> {
    await assert.rejects(call, (e: ServiceError) => {
      assert.equal(e.code, status.INVALID_ARGUMENT, e.message);
      assert.deepEqual(e.metadata.get("tally-reason"), [reason]);
      return true;
    });
  }

  async function balanceOf(account: string): Promise<unknown> {
    return JSON.parse(fromUtf8((await query("cash", "balance", JSON.stringify({ account }))).result));
  }

  before(async () => {
    testDb = await createTestDatabase("tally_exec_query");
    db = openDb(testDb.url, { poolMax: 4 });
    await migrateToLatest(db);
    const store = new EffectsStore(db);
    const reader = new DbStateReader(db);
    const g = genesisEffects(GENESIS, builtinContracts, chain.tip);
    await store.commit(g, undefined);
    const r = await executeBlock(
      chain.next([issued.raw, transfer(BANK_A, "bank-b", "30").raw, short.raw]),
      { stateRoot: g.stateRoot, membership: await reader.loadAll("membership") },
      { genesis: GENESIS, contracts: builtinContracts, reader, seen: (ids) => store.seen(ids) },
    );
    await store.commit(r.effects, 0n);
    stateRoot = r.effects.stateRoot;
    server = await startServer({
      host: "127.0.0.1",
      port: 0,
      healthNames: ["tally.v1.ExecutorQueryService"],
      services: [queryService(builtinContracts, dbSnapshot(db))],
    });
    client = new ExecutorQueryServiceClient(server.address, insecure());
  });

  after(async () => {
    client?.close();
    await server?.stop(1000);
    await db?.destroy();
    await testDb?.drop();
  });

  test("a balance query answers from the committed state, at the checkpoint height", async () => {
    const res = await query("cash", "balance", JSON.stringify({ account: "bank-a" }));
    assert.equal(res.height, 1n);
    assert.equal(fromUtf8(res.result), '{"account":"bank-a","balance":"70"}');
    assert.deepEqual(await balanceOf("bank-b"), { account: "bank-b", balance: "30" });
    assert.deepEqual(await balanceOf("regulator"), { account: "regulator", balance: "0" });
  });

  test("a membership query sees the genesis members, and empty args mean {}", async () => {
    const res = await query("membership", "members", new Uint8Array(0));
    assert.deepEqual(JSON.parse(fromUtf8(res.result)), ["bank-a", "bank-b", "clearing", "regulator"]);
  });

  test("GetTxResult reports committed and rejected txs, and an unknown id as not found", async () => {
    const ok = await txResult(issued.id);
    assert.equal(ok.found, true);
    assert.equal(ok.height, 1n);
    assert.deepEqual(
      [ok.result?.index, ok.result?.outcome, ok.result?.reasonCode, toHex(ok.result?.txId ?? new Uint8Array())],
      [0, TxOutcome.TX_OUTCOME_COMMITTED, "", toHex(issued.id)],
    );
    const rejected = await txResult(short.id);
    assert.deepEqual(
      [rejected.found, rejected.result?.index, rejected.result?.outcome, rejected.result?.reasonCode],
      [true, 2, TxOutcome.TX_OUTCOME_REJECTED, "INSUFFICIENT_FUNDS"],
    );
    const none = await txResult(sha256(utf8("never submitted")));
    assert.equal(none.found, false);
    assert.equal(none.result, undefined);
  });

  test("GetCheckpoint reports the committed height, state root and block hash", async () => {
    const cp = await unary<GetCheckpointResponse>((md, o, cb) => client.getCheckpoint({}, md, o, cb), CALL_MS);
    assert.equal(cp.height, 1n);
    assert.equal(toHex(cp.stateRoot), toHex(stateRoot));
    assert.equal(toHex(cp.blockHash), toHex(chain.tip.hash));
  });

  test("an unknown contract or query is INVALID_ARGUMENT with its reason", async () => {
    await invalid(query("loans", "balance", "{}"), "UNKNOWN_CONTRACT");
    await invalid(query("cash", "history", JSON.stringify({ account: "bank-a" })), "UNKNOWN_QUERY");
    // Only own properties are queries.
    await invalid(query("cash", "toString", "{}"), "UNKNOWN_QUERY");
  });

  test("args that are not UTF-8 JSON, not an object, or do not fit the query are BAD_ARGS", async () => {
    await invalid(query("cash", "balance", "{not json"), "BAD_ARGS");
    await invalid(query("cash", "balance", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), "BAD_ARGS");
    for (const notObject of ["[1,2]", '"bank-a"', "null", "42", "true"]) await invalid(query("cash", "balance", notObject), "BAD_ARGS");
    await invalid(query("cash", "balance", "{}"), "BAD_ARGS");
    await invalid(query("cash", "balance", JSON.stringify({ account: "bank-a", extra: 1 })), "BAD_ARGS");
    await invalid(query("cash", "balance", JSON.stringify({ account: "Not An Id" })), "BAD_ARGS");
  });

  test("args above 16 KiB are refused as TOO_LARGE, and 16 KiB exactly are parsed", async () => {
    const limit = 16 * 1024;
    const pad = (n: number) => {
      const head = '{"account":"bank-a","pad":"';
      return head + "x".repeat(n - head.length - 2) + '"}';
    };
    assert.equal(pad(limit + 1).length, limit + 1);
    await invalid(query("cash", "balance", pad(limit + 1)), "TOO_LARGE");
    // At the bound the args are read, and refused only for the unknown field.
    await invalid(query("cash", "balance", pad(limit)), "BAD_ARGS");
  });

  test("GetTxResult with an id that is not 32 bytes is INVALID_ARGUMENT", async () => {
    await invalid(txResult(new Uint8Array(31)), "BAD_TX_ID");
    await invalid(txResult(new Uint8Array(33)), "BAD_TX_ID");
    await invalid(txResult(new Uint8Array(0)), "BAD_TX_ID");
  });

  test("a request that is not the method's protobuf is INVALID_ARGUMENT MALFORMED", async () => {
    await invalid(
      new Promise((resolve, reject) =>
        client.makeUnaryRequest(
          "/tally.v1.ExecutorQueryService/Query",
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff]),
          { deadline: new Date(Date.now() + CALL_MS) },
          (err, res) => (err ? reject(err) : resolve(res)),
        ),
      ),
      "MALFORMED",
    );
  });

  function history(req: Partial<ExecutorQueryServiceGetHistoryRequest>): Promise<ExecutorQueryServiceGetHistoryResponse> {
    return unary<ExecutorQueryServiceGetHistoryResponse>(
      (md, o, cb) => client.getHistory({ contract: "cash", assetId: "", after: undefined, limit: 0, ...req }, md, o, cb),
      CALL_MS,
    );
  }

  test("GetHistory returns every event of an asset in commit order, with height, tx id and signers", async () => {
    const r = await history({ assetId: "acct/bank-a" });
    assert.equal(r.height, 1n);
    assert.equal(r.more, false);
    // bank-a was issued 100 (an event on its account), then sent 30 (an event on its account);
    // the rejected transfer by bank-b left no event, and bank-b's account history is its own.
    assert.deepEqual(
      r.entries.map((e) => [
        e.event?.type,
        e.event?.cursor?.height,
        e.event?.cursor?.txIndex,
        toHex(e.event?.txId ?? new Uint8Array()),
        e.signers,
      ]),
      [
        ["CashIssued", 1n, 0, toHex(issued.id), ["clearing"]],
        ["CashTransferred", 1n, 1, r.entries[1] === undefined ? "" : toHex(r.entries[1].event!.txId), ["bank-a"]],
      ],
    );
    assert.deepEqual(JSON.parse(fromUtf8(r.entries[1]!.event!.data)), { from: "bank-a", to: "bank-b", amount: "30", memo: null });
    assert.deepEqual((await history({ assetId: "acct/bank-b" })).entries, []);
    assert.deepEqual((await history({ contract: "notary", assetId: "acct/bank-a" })).entries, [], "the asset id is per contract");
  });

  test("GetHistory pages with limit and the cursor of the last entry", async () => {
    const first = await history({ assetId: "acct/bank-a", limit: 1 });
    assert.equal(first.entries.length, 1);
    assert.equal(first.more, true);
    const second = await history({ assetId: "acct/bank-a", limit: 1, after: first.entries[0]!.event!.cursor });
    assert.deepEqual(
      second.entries.map((e) => e.event?.type),
      ["CashTransferred"],
    );
    assert.equal(second.more, false);
  });

  test("GetHistory refuses an empty or oversized contract or asset id, and a page above 500", async () => {
    await invalid(history({ assetId: "" }), "BAD_ARGS");
    await invalid(history({ contract: "", assetId: "acct/bank-a" }), "BAD_ARGS");
    await invalid(history({ contract: "c".repeat(65), assetId: "acct/bank-a" }), "BAD_ARGS");
    await invalid(history({ assetId: "a".repeat(257) }), "BAD_ARGS");
    await invalid(history({ assetId: "acct/bank-a", limit: 501 }), "BAD_ARGS");
    assert.equal((await history({ assetId: "acct/bank-a", limit: 500 })).entries.length, 2);
  });

  test("the server keeps answering after every refusal", async () => {
    assert.deepEqual(await balanceOf("bank-a"), { account: "bank-a", balance: "70" });
    assert.equal((await txResult(issued.id)).found, true);
  });
});
