import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Kysely } from "kysely";
import { pino } from "pino";
import { Receipt, ReceiptBody, TxOutcome } from "@tally/proto/types";
import { BlockFollower, type Bus, busNames, type BusNames, connectBus, deleteNamespace, ensureStreams } from "@tally/bus";
import { builtinContracts } from "@tally/contracts";
import { migrateToLatest, openDb, type Database } from "@tally/db";
import { canonicalJson, ed25519Verify, eventsRoot, InvariantError, nextStateRoot, toHex, ZERO_HASH, type SealedBlock } from "@tally/ledger";
import { createTestDatabase, testNatsUrl, uniqueNamespace, waitFor } from "@tally/testkit";
import type { BlockEffects } from "./block-executor.js";
import { EffectsStore } from "./effects-store.js";
import { runExecutor } from "./executor.js";
import { ReceiptPublisher } from "./receipts.js";
import type { SignatureVerifier } from "./signature-verifier.js";
import { DbStateReader } from "./state-reader.js";
import { VerifyPool } from "./verify-pool.js";
import {
  BANK_A,
  BANK_A_K2,
  BANK_B,
  ChainBuilder,
  GENESIS,
  issue,
  makeTx,
  NODE_ID,
  NODE_KEY,
  REGULATOR,
  STRANGER_KEY,
  transfer,
} from "./testing/test-chain.js";

const log = pino({ level: "silent" });
const WAIT_MS = 20_000;

/** Resolves with p, or rejects once ms have passed. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A node's database, opened and migrated. */
async function nodeDb(prefix: string) {
  const t = await createTestDatabase(prefix);
  const db = openDb(t.url, { poolMax: 4 });
  await migrateToLatest(db);
  return {
    db,
    store: new EffectsStore(db),
    reader: new DbStateReader(db),
    close: async () => {
      await db.destroy();
      await t.drop();
    },
  };
}
type NodeDb = Awaited<ReturnType<typeof nodeDb>>;

/** One run of runExecutor, in process, until stop() or until it throws. */
interface Run {
  readonly follower: BlockFollower;
  readonly receipts: ReceiptPublisher;
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

function startRun(
  bus: Bus,
  names: BusNames,
  node: NodeDb,
  nodeId: string,
  onApplied: (e: BlockEffects, run: Run) => void,
  verifier?: SignatureVerifier,
): Run {
  const follower = new BlockFollower(bus, names);
  const receipts = new ReceiptPublisher(bus, names, nodeId, log);
  const run: Run = {
    follower,
    receipts,
    done: undefined as unknown as Promise<void>,
    stop: async () => {
      await follower.close();
      await within(run.done, WAIT_MS, "the executor to stop");
      await within(receipts.flush(), WAIT_MS, "receipts to flush");
    },
  };
  (run as { done: Promise<void> }).done = runExecutor({
    nodeId,
    genesis: GENESIS,
    contracts: builtinContracts,
    store: node.store,
    reader: node.reader,
    follower,
    receipts,
    nodeKey: NODE_KEY,
    log,
    ...(verifier === undefined ? {} : { verifier }),
    onApplied: (e) => onApplied(e, run),
  });
  // Observed by stop() or by the test; never an unhandled rejection.
  run.done.catch(() => undefined);
  return run;
}

/** Publishes a block at stream sequence height + 1, fenced on the previous height. */
async function publishBlock(bus: Bus, names: BusNames, b: SealedBlock): Promise<void> {
  const ack = await bus.js.publish(names.blocksSubject, b.bytes, { expect: { lastSequence: Number(b.header.height) } });
  assert.equal(ack.seq, Number(b.header.height) + 1);
}

interface ReadReceipt {
  readonly subject: string;
  readonly body: ReceiptBody;
}

/** Every receipt on RECEIPTS, in stream order, after checking each one's signature by the node's key. */
async function readReceipts(bus: Bus, names: BusNames): Promise<ReadReceipt[]> {
  const info = await bus.jsm.streams.info(names.receiptsStream);
  const out: ReadReceipt[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await bus.jsm.streams.getMessage(names.receiptsStream, { seq });
    assert.ok(m, `receipt at sequence ${seq}`);
    const r = Receipt.decode(m.data);
    assert.ok(ed25519Verify(NODE_KEY.publicKey, r.body, r.signature), `receipt ${seq} is signed by the node key`);
    out.push({ subject: m.subject, body: ReceiptBody.decode(r.body) });
  }
  return out;
}

async function deleteStreams(bus: Bus, names: BusNames): Promise<void> {
  await deleteNamespace(bus.jsm, names);
}

/**
 * The state roots the database's own rows commit to, height by height: the roots recomputed
 * from tx_results and events, chained from ZERO_HASH with each block's hash.
 */
async function rootsFromRows(db: Kysely<Database>, blocks: readonly SealedBlock[]): Promise<string[]> {
  const roots: string[] = [];
  let prev: Uint8Array = ZERO_HASH;
  for (const b of blocks) {
    const h = b.header.height;
    const results = await db.selectFrom("tx_results").selectAll().where("height", "=", h).orderBy("tx_index").execute();
    const events = await db.selectFrom("events").selectAll().where("height", "=", h).orderBy("tx_index").orderBy("event_index").execute();
    const root = eventsRoot(
      results.map((r) => ({ txIndex: r.tx_index, committed: r.committed, reasonCode: r.reason_code })),
      events.map((e) => ({ txIndex: e.tx_index, eventIndex: e.event_index, contract: e.contract, type: e.type, data: e.data })),
    );
    prev = nextStateRoot(prev, b.hash, root);
    roots.push(toHex(prev));
  }
  return roots;
}

/** A chain whose blocks mix commits and every kind of rejection, a key revocation, and an empty block. */
function buildChain(): ChainBuilder {
  const chain = new ChainBuilder();
  const firstIssue = issue("bank-a", "1000");
  chain.next([firstIssue.raw, issue("bank-b", "500").raw]);
  chain.next([transfer(BANK_A, "bank-b", "100").raw, transfer(BANK_B, "clearing", "10000").raw, new Uint8Array([0xff, 0x00, 0xff])]);
  chain.next([
    makeTx({ signer: BANK_A_K2, contract: "membership", action: "revoke-key", args: { keyId: "k1" } }).raw,
    transfer(BANK_A, "bank-b", "1").raw,
    transfer(BANK_A_K2, "bank-b", "50").raw,
  ]);
  chain.next([]);
  chain.next([firstIssue.raw, transfer(BANK_B, "bank-a", "5").raw]);
  chain.next([transfer(REGULATOR, "bank-a", "1").raw, issue("regulator", "1").raw]);
  chain.next([transfer(BANK_A_K2, "bank-b", "1").raw]);
  // After the restart, the revoked key is still revoked: membership is reloaded from the database.
  chain.next([issue("bank-a", "2").raw, transfer(BANK_A_K2, "regulator", "3").raw, transfer(BANK_A, "bank-b", "1").raw]);
  return chain;
}

describe("runExecutor over a real BLOCKS stream and PostgreSQL", () => {
  const chain = buildChain();
  const blocks = chain.blocks;
  const last = blocks.length - 1;
  /** Blocks 0..3 are on the stream before the first run; 7 and 8 only after it stopped. */
  const stoppedAt = 3;
  const lateFrom = 7;
  let bus: Bus;
  let names: BusNames;
  let node: NodeDb;
  let replica: NodeDb | undefined;
  const applied: bigint[] = [];
  const rootsByHeight = new Map<bigint, string>();

  before(async () => {
    names = busNames(uniqueNamespace("exe"));
    bus = await connectBus({ url: testNatsUrl(), name: "executor-int-test" });
    await ensureStreams(bus.jsm, names);
    node = await nodeDb("tally_exec_run");
  });

  after(async () => {
    if (bus !== undefined) {
      await deleteStreams(bus, names);
      await bus.nc.drain();
    }
    await node?.close();
    await replica?.close();
  });

  function record(e: BlockEffects): void {
    applied.push(e.height);
    rootsByHeight.set(e.height, toHex(e.stateRoot));
  }

  test("applies blocks in order, advances the checkpoint and publishes signed receipts with the roots it holds", async () => {
    for (const b of blocks.slice(0, lateFrom)) await publishBlock(bus, names, b);
    // The first run stops itself mid-stream, right after height 3, with blocks 4..6 waiting.
    const run = startRun(bus, names, node, NODE_ID, (e, r) => {
      record(e);
      if (e.height === BigInt(stoppedAt)) void r.follower.close();
    });
    await within(run.done, WAIT_MS, "the first run to stop");
    await within(run.receipts.flush(), WAIT_MS, "receipts to flush");
    const cp = await node.store.checkpoint();
    assert.ok(cp);
    // A block already buffered may still be applied after close; none may be skipped or repeated.
    assert.ok(cp.height >= BigInt(stoppedAt) && cp.height < BigInt(lateFrom), `checkpoint at ${cp.height}`);
    assert.deepEqual(
      applied,
      Array.from({ length: Number(cp.height) + 1 }, (_, i) => BigInt(i)),
    );
    assert.equal(toHex(cp.stateRoot), rootsByHeight.get(cp.height));
    assert.equal(toHex(cp.blockHash), toHex(blocks[Number(cp.height)]!.hash));

    const receipts = await waitFor(
      "a receipt per applied height",
      async () => {
        const rs = await readReceipts(bus, names);
        return rs.length === applied.length ? rs : undefined;
      },
      WAIT_MS,
    );
    for (const [i, r] of receipts.entries()) {
      assert.equal(r.subject, names.receiptSubject(NODE_ID));
      assert.equal(r.body.chainId, GENESIS.chainId);
      assert.equal(r.body.nodeId, NODE_ID);
      assert.equal(r.body.height, BigInt(i));
      assert.equal(toHex(r.body.blockHash), toHex(blocks[i]!.hash));
      assert.equal(toHex(r.body.stateRoot), rootsByHeight.get(BigInt(i)));
    }
    // The roots the receipts carry are the ones the database's rows commit to.
    assert.deepEqual(
      receipts.map((r) => toHex(r.body.stateRoot)),
      await rootsFromRows(node.db, blocks.slice(0, applied.length)),
    );
    // Receipt results are the stored tx results.
    const r2 = receipts[2]!.body.results;
    assert.deepEqual(
      r2.map((x) => [x.index, x.outcome, x.reasonCode]),
      [
        [0, TxOutcome.TX_OUTCOME_COMMITTED, ""],
        [1, TxOutcome.TX_OUTCOME_REJECTED, "INSUFFICIENT_FUNDS"],
        [2, TxOutcome.TX_OUTCOME_REJECTED, "MALFORMED"],
      ],
    );
    assert.deepEqual(
      r2.map((x) => toHex(x.txId)),
      (await node.store.resultsAt(2n)).map((x) => toHex(x.tx_id)),
    );
  });

  test("restarted on the same database, it applies every later height exactly once and skips none", async () => {
    for (const b of blocks.slice(lateFrom)) await publishBlock(bus, names, b);
    const run = startRun(bus, names, node, NODE_ID, (e) => record(e));
    await waitFor("the checkpoint at the last height", async () => (await node.store.checkpoint())?.height === BigInt(last), WAIT_MS);
    await run.stop();

    assert.deepEqual(
      applied,
      blocks.map((b) => b.header.height),
    );
    const perHeight = await node.db
      .selectFrom("tx_results")
      .select(["height", (eb) => eb.fn.countAll<string>().as("n")])
      .groupBy("height")
      .orderBy("height")
      .execute();
    assert.deepEqual(
      perHeight.map((r) => [r.height, Number(r.n)]),
      blocks.filter((b) => b.block.txs.length > 0).map((b) => [b.header.height, b.block.txs.length]),
    );
    const cp = await node.store.checkpoint();
    assert.equal(toHex(cp!.stateRoot), rootsByHeight.get(BigInt(last)));
    assert.equal(cp!.lastTxsSeq, blocks[last]!.header.lastTxsSeq);

    // One receipt per height: the one republished at restart was dropped as a duplicate.
    const receipts = await waitFor(
      "a receipt for the last height",
      async () => {
        const rs = await readReceipts(bus, names);
        return rs.some((r) => r.body.height === BigInt(last)) ? rs : undefined;
      },
      WAIT_MS,
    );
    assert.deepEqual(
      receipts.map((r) => r.body.height),
      blocks.map((b) => b.header.height),
    );
    const fromRows = await rootsFromRows(node.db, blocks);
    assert.deepEqual(
      receipts.map((r) => toHex(r.body.stateRoot)),
      fromRows,
    );
    assert.deepEqual(
      blocks.map((b) => rootsByHeight.get(b.header.height)),
      fromRows,
    );
    // What the chain's txs mean, after a restart in the middle of them.
    const outcomes = async (h: bigint) => (await node.store.resultsAt(h)).map((r) => (r.committed ? "OK" : r.reason_code));
    assert.deepEqual(await outcomes(3n), ["OK", "KEY_REVOKED", "OK"]);
    assert.deepEqual(await outcomes(5n), ["DUPLICATE", "OK"]);
    assert.deepEqual(await outcomes(6n), ["FORBIDDEN_ROLE", "OK"]);
    assert.deepEqual(await outcomes(8n), ["OK", "OK", "KEY_REVOKED"]);
    assert.deepEqual(
      await node.reader.load("cash", ["acct/bank-a", "acct/bank-b", "acct/regulator"]),
      new Map([
        ["acct/bank-a", { balance: "853" }],
        ["acct/bank-b", { balance: "646" }],
        ["acct/regulator", { balance: "4" }],
      ]),
    );
  });

  test("replaying the chain on a fresh database, signatures verified on worker threads, gives the same state root at every height", async () => {
    replica = await nodeDb("tally_exec_replay");
    const replayed = new Map<bigint, string>();
    const pool = new VerifyPool({ workers: 2 });
    const run = startRun(bus, names, replica, "node-replay", (e) => replayed.set(e.height, toHex(e.stateRoot)), pool);
    try {
      await waitFor("the replica at the last height", async () => (await replica!.store.checkpoint())?.height === BigInt(last), WAIT_MS);
      await run.stop();
    } finally {
      await pool.close();
    }
    assert.equal(replayed.size, blocks.length);
    for (const b of blocks) {
      const h = b.header.height;
      assert.equal(replayed.get(h), rootsByHeight.get(h), `state root at height ${h}`);
    }
    const state = (db: Kysely<Database>) =>
      db.selectFrom("contract_state").select(["contract", "key", "value", "height"]).orderBy("contract").orderBy("key").execute();
    assert.equal(
      canonicalJson((await state(replica.db)).map((r) => [r.contract, r.key, r.value as never, r.height.toString()])),
      canonicalJson((await state(node.db)).map((r) => [r.contract, r.key, r.value as never, r.height.toString()])),
    );
  });
});

describe("a block that fails verification", () => {
  let bus: Bus;
  let names: BusNames;
  let node: NodeDb;

  before(async () => {
    names = busNames(uniqueNamespace("exv"));
    bus = await connectBus({ url: testNatsUrl(), name: "executor-int-test-verify" });
    await ensureStreams(bus.jsm, names);
    node = await nodeDb("tally_exec_verify");
  });

  after(async () => {
    if (bus !== undefined) {
      await deleteStreams(bus, names);
      await bus.nc.drain();
    }
    await node?.close();
  });

  test("makes runExecutor throw InvariantError, and is never applied, not even after a restart", async () => {
    const chain = new ChainBuilder();
    chain.next([issue("bank-a", "10").raw]);
    const forged = chain.next([issue("bank-a", "1000000").raw], { key: STRANGER_KEY });
    for (const b of chain.blocks) await publishBlock(bus, names, b);
    const isBadSignature = (e: unknown) => e instanceof InvariantError && e.code === "BAD_SEQUENCER_SIGNATURE";

    for (const attempt of [1, 2]) {
      const applied: bigint[] = [];
      const run = startRun(bus, names, node, NODE_ID, (e) => applied.push(e.height));
      await within(assert.rejects(run.done, isBadSignature), WAIT_MS, `run ${attempt} to fail`);
      await run.follower.close();
      await within(run.receipts.flush(), WAIT_MS, "receipts to flush");
      assert.deepEqual(applied, attempt === 1 ? [0n, 1n] : [], `run ${attempt}`);
      const cp = await node.store.checkpoint();
      assert.equal(cp?.height, 1n);
      assert.equal(toHex(cp.blockHash), toHex(chain.blocks[1]!.hash));
      assert.deepEqual(await node.store.resultsAt(forged.header.height), []);
      assert.deepEqual(await node.reader.load("cash", ["acct/bank-a"]), new Map([["acct/bank-a", { balance: "10" }]]));
    }
  });
});
