// The blockstore against a real nats-server (JetStream) and a real PostgreSQL: blocks sealed
// here are published on BLOCKS, followed, verified, stored, and served over gRPC.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Client, credentials, status, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import type { Kysely } from "kysely";
import { pino } from "pino";
import { Block } from "@tally/proto/types";
import {
  BlockstoreServiceClient,
  type GetBlockResponse,
  type GetChainInfoResponse,
  type GetInclusionProofResponse,
  type GetTxResponse,
  type StreamBlocksResponse,
} from "@tally/proto/blockstore";
import { BlockFollower, blockSeqOf, type Bus, busNames, type BusNames, connectBus, deleteNamespace, ensureStreams } from "@tally/bus";
import { HeightSignal, listenHeights, migrateToLatest, openDb, type Database } from "@tally/db";
import {
  bytesEqual,
  genesisBlock,
  InvariantError,
  leafTxId,
  parseGenesis,
  sealBlock,
  sequencerKeysOf,
  sha256,
  signTx,
  signingKeyFromSeed,
  toHex,
  utf8,
  type ChainTip,
  type Genesis,
  type SealedBlock,
} from "@tally/ledger";
import { startServer, type RunningServer } from "@tally/rpc";
import { verifyInclusionProof } from "@tally/sdk";
import { createTestDatabase, testNatsUrl, uniqueNamespace, waitFor } from "@tally/testkit";
import { BlockStore } from "./block-store.js";
import { blockstoreService } from "./blockstore-service.js";
import { runBlockstore } from "./blockstore.js";

const CHAIN = "bs-int-test";
const T0 = 1_700_000_000_000;
const WAIT_MS = 15_000;
const SUITE = { timeout: 120_000 };

const bankKey = signingKeyFromSeed(new Uint8Array(32).fill(1));
const seqAKey = signingKeyFromSeed(new Uint8Array(32).fill(2));
const seqBKey = signingKeyFromSeed(new Uint8Array(32).fill(3));
const nodeKey = signingKeyFromSeed(new Uint8Array(32).fill(4));

function genesisFor(genesisTimeMs: number): Genesis {
  return parseGenesis({
    chainId: CHAIN,
    genesisTimeMs,
    institutions: [{ id: "bank-a", name: "Bank A", roles: ["bank"], keys: [{ keyId: "k1", publicKey: toHex(bankKey.publicKey) }] }],
    sequencers: [
      { id: "seq-a", publicKey: toHex(seqAKey.publicKey) },
      { id: "seq-b", publicKey: toHex(seqBKey.publicKey) },
    ],
    validators: [{ nodeId: "node-a", institutionId: "bank-a", publicKey: toHex(nodeKey.publicKey) }],
    finality: { quorumNumerator: 2, quorumDenominator: 3 },
  });
}

const genesis = genesisFor(T0);
const log = pino({ level: "silent" });

interface Tx {
  readonly raw: Uint8Array;
  readonly id: Uint8Array;
}

let nonce = 0;
function makeTx(action = "transfer"): Tx {
  const n = nonce++;
  return signTx(
    {
      chainId: CHAIN,
      contract: "payments",
      action,
      args: utf8(JSON.stringify({ n })),
      signer: { institutionId: "bank-a", keyId: "k1" },
      nonce: BigInt(n + 1),
      validUntilMs: BigInt(T0 + 3_600_000),
    },
    [{ institutionId: "bank-a", keyId: "k1", key: bankKey }],
  );
}

/** The next block after prev holding txs, sealed by seq-a, covering TXS sequences after prev's. */
function nextBlock(prev: SealedBlock, txs: readonly Uint8Array[], over: { prevHash?: Uint8Array } = {}): SealedBlock {
  const first = prev.header.lastTxsSeq + 1n;
  return sealBlock(
    {
      chainId: CHAIN,
      height: prev.header.height + 1n,
      prevHash: over.prevHash ?? prev.hash,
      txs,
      firstTxsSeq: first,
      lastTxsSeq: first + BigInt(txs.length) - 1n,
      timestampMs: prev.header.timestampMs + 1000n,
      sequencerId: "seq-a",
      epoch: 1n,
    },
    seqAKey,
  );
}

/** A block's bytes with one bit of its signature flipped. */
function withBadSignature(b: SealedBlock): Uint8Array {
  const signature = new Uint8Array(b.block.signature);
  signature[0] = signature[0]! ^ 0x01;
  return Block.encode({ ...b.block, signature }).finish();
}

/** A block's bytes with its last tx replaced (header and signature unchanged). */
function withSwappedTx(b: SealedBlock, tx: Uint8Array): Uint8Array {
  return Block.encode({ ...b.block, txs: [...b.block.txs.slice(0, -1), tx] }).finish();
}

function eqBytes(actual: Uint8Array | undefined, expected: Uint8Array, what: string): void {
  assert.ok(actual !== undefined && bytesEqual(actual, expected), `${what}: ${actual ? toHex(actual) : "undefined"} != ${toHex(expected)}`);
}

async function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(t);
  }
}

let bus: Bus;
const namespaces: BusNames[] = [];
const databases: { drop(): Promise<void> }[] = [];

before(async () => {
  bus = await connectBus({ url: testNatsUrl(), name: "blockstore-int-test" });
});

after(async () => {
  for (const n of namespaces) {
    await deleteNamespace(bus.jsm, n);
  }
  await bus.nc.drain();
  for (const d of databases) await d.drop();
});

/** Its own streams and its own migrated database. */
async function newNode(): Promise<{ names: BusNames; db: Kysely<Database>; url: string; store: BlockStore }> {
  const names = busNames(uniqueNamespace("bs"));
  namespaces.push(names);
  await ensureStreams(bus.jsm, names);
  const d = await createTestDatabase("tally_bs_test");
  databases.push(d);
  const db = openDb(d.url);
  await migrateToLatest(db);
  return { names, db, url: d.url, store: new BlockStore(db) };
}

/** Appends raw block bytes to BLOCKS at the given height's stream sequence. */
async function publishBlock(names: BusNames, height: bigint, bytes: Uint8Array): Promise<void> {
  const ack = await bus.js.publish(names.blocksSubject, bytes, { expect: { lastSequence: blockSeqOf(height) - 1 } });
  assert.equal(ack.seq, blockSeqOf(height));
}

/** runBlockstore in the background, with its follower. */
function follow(names: BusNames, store: BlockStore): { follower: BlockFollower; done: Promise<void>; stored: ChainTip[] } {
  const follower = new BlockFollower(bus, names);
  const stored: ChainTip[] = [];
  const done = runBlockstore({ store, follower, genesis, log, onStored: (t) => stored.push(t) });
  done.catch(() => undefined);
  return { follower, done, stored };
}

async function waitForTip(store: BlockStore, height: bigint): Promise<void> {
  await waitFor(`blockstore tip at height ${height}`, async () => (await store.tip())?.height === height, WAIT_MS, 10);
}

function grpcError(e: unknown): ServiceError {
  assert.ok(e instanceof Error && typeof (e as ServiceError).code === "number", `not a gRPC error: ${String(e)}`);
  return e as ServiceError;
}

function call<Res>(invoke: (cb: (err: ServiceError | null, res: Res) => void) => unknown): Promise<Res> {
  return within(
    10_000,
    new Promise<Res>((resolve, reject) => {
      invoke((err, res) => (err ? reject(err) : resolve(res)));
    }),
    "a gRPC reply",
  );
}

async function rejectsWith(p: Promise<unknown>, code: status, reason?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    const err = grpcError(e);
    assert.equal(err.code, code, `expected ${status[code]}, got ${status[err.code]}: ${err.details}`);
    if (reason !== undefined) assert.deepEqual(err.metadata.get("tally-reason"), [reason]);
    return true;
  });
}

/** Reads a server stream to its end (or error), bounded. */
function collect(s: ClientReadableStream<StreamBlocksResponse>): Promise<StreamBlocksResponse[]> {
  const got: StreamBlocksResponse[] = [];
  return within(
    10_000,
    new Promise<StreamBlocksResponse[]>((resolve, reject) => {
      s.on("data", (m: StreamBlocksResponse) => got.push(m));
      s.on("error", reject);
      s.on("end", () => resolve(got));
    }),
    "the block stream to end",
  );
}

describe("blockstore on a real BLOCKS stream and database", SUITE, () => {
  let node: Awaited<ReturnType<typeof newNode>>;
  let running: ReturnType<typeof follow>;
  const g = genesisBlock(genesis);
  const txs = Array.from({ length: 5 }, () => makeTx());
  const t6 = makeTx("issue");
  const t7 = makeTx();
  const garbage = utf8("not a SignedTx at all");
  const b1 = nextBlock(
    g,
    txs.map((t) => t.raw),
  );
  // A replay of txs[2] from block 1, a leaf that is no SignedTx, and t6 twice in one block.
  const b2 = nextBlock(b1, [t6.raw, txs[2]!.raw, garbage, t6.raw]);
  const b3 = nextBlock(b2, [t7.raw]);
  const chain = [g, b1, b2, b3];
  let server: RunningServer;
  let client: BlockstoreServiceClient;
  let listener: { close(): Promise<void> } | undefined;

  before(async () => {
    node = await newNode();
    for (const b of chain) await publishBlock(node.names, b.header.height, b.bytes);
  });

  after(async () => {
    client?.close();
    await server?.stop(500);
    await listener?.close();
    await running?.follower.close();
    await node?.db.destroy();
  });

  test("stores every verified block with its header columns and raw bytes", async () => {
    running = follow(node.names, node.store);
    await waitForTip(node.store, 3n);
    assert.deepEqual(
      running.stored.map((t) => t.height),
      [0n, 1n, 2n, 3n],
    );
    const rows = await node.db.selectFrom("blocks").selectAll().orderBy("height").execute();
    assert.equal(rows.length, chain.length);
    rows.forEach((r, i) => {
      const b = chain[i]!;
      const h = b.header;
      assert.equal(r.height, h.height);
      eqBytes(r.hash, b.hash, `hash of ${h.height}`);
      eqBytes(r.prev_hash, h.prevHash, `prev_hash of ${h.height}`);
      eqBytes(r.tx_root, h.txRoot, `tx_root of ${h.height}`);
      assert.equal(r.tx_count, h.txCount);
      assert.equal(r.first_txs_seq, h.firstTxsSeq);
      assert.equal(r.last_txs_seq, h.lastTxsSeq);
      assert.equal(r.timestamp_ms, h.timestampMs);
      assert.equal(r.sequencer_id, h.sequencerId);
      assert.equal(r.epoch, h.epoch);
      eqBytes(r.header, b.block.header, `header of ${h.height}`);
      eqBytes(r.signature, b.block.signature, `signature of ${h.height}`);
      eqBytes(r.raw, b.bytes, `raw of ${h.height}`);
    });
    const tip = await node.store.tip();
    assert.ok(tip !== undefined);
    eqBytes(tip.hash, b3.hash, "stored tip hash");
  });

  test("stores each tx id once, at its first inclusion; a non-SignedTx leaf is kept by its sha256", async () => {
    const rows = await node.db.selectFrom("transactions").selectAll().orderBy("height").orderBy("tx_index").execute();
    const byId = new Map(rows.map((r) => [toHex(r.tx_id), r]));
    // 5 in block 1; t6 and the garbage leaf in block 2 (txs[2] and t6's second copy are replays); t7 in block 3.
    assert.equal(rows.length, 8);
    assert.equal(byId.size, 8);
    txs.forEach((t, i) => {
      const r = byId.get(toHex(t.id));
      assert.ok(r !== undefined, `tx ${i} of block 1 not stored`);
      assert.equal(r.height, 1n);
      assert.equal(r.tx_index, i);
      assert.equal(r.signer, "bank-a");
      assert.equal(r.contract, "payments");
      assert.equal(r.action, "transfer");
      eqBytes(r.raw, t.raw, `raw of tx ${i}`);
    });
    const replayed = byId.get(toHex(txs[2]!.id));
    assert.ok(replayed !== undefined);
    assert.equal(replayed.height, 1n, "a replay overwrote the first inclusion");
    assert.equal(replayed.tx_index, 2);
    const r6 = byId.get(toHex(t6.id));
    assert.ok(r6 !== undefined);
    assert.equal(r6.height, 2n);
    assert.equal(r6.tx_index, 0, "the second copy of t6 in the same block overwrote the first");
    assert.equal(r6.action, "issue");
    const junk = byId.get(toHex(sha256(garbage)));
    assert.ok(junk !== undefined, "the non-SignedTx leaf was not stored by its sha256");
    assert.equal(junk.height, 2n);
    assert.equal(junk.tx_index, 2);
    assert.equal(junk.signer, "");
    assert.equal(junk.contract, "");
    eqBytes(junk.raw, garbage, "raw of the garbage leaf");
    assert.equal(byId.get(toHex(t7.id))?.height, 3n);
  });

  test("follows blocks published after it started", async () => {
    const b4 = nextBlock(b3, [makeTx().raw, makeTx().raw]);
    chain.push(b4);
    await publishBlock(node.names, 4n, b4.bytes);
    await waitForTip(node.store, 4n);
    eqBytes(await node.store.blockAt(4n), b4.bytes, "stored block 4");
  });

  test("restarted, it resumes from the stored tip (no block stored twice, none skipped)", async () => {
    await within(10_000, running.follower.close(), "the follower to close");
    await within(10_000, running.done, "runBlockstore to end once its follower is closed");
    const b5 = nextBlock(chain.at(-1)!, [makeTx().raw]);
    chain.push(b5);
    await publishBlock(node.names, 5n, b5.bytes);
    running = follow(node.names, node.store);
    await waitForTip(node.store, 5n);
    // From the tip on: a restart from genesis would have offered height 0 first.
    assert.deepEqual(
      running.stored.map((t) => t.height),
      [5n],
    );
    const heights = (await node.db.selectFrom("blocks").select("height").orderBy("height").execute()).map((r) => r.height);
    assert.deepEqual(heights, [0n, 1n, 2n, 3n, 4n, 5n]);
  });

  describe("gRPC BlockstoreService", () => {
    before(async () => {
      const signal = new HeightSignal(200);
      listener = await listenHeights(node.url, (n) => n.source === "blockstore" && signal.notify());
      server = await startServer({
        host: "127.0.0.1",
        port: 0,
        healthNames: ["tally.v1.BlockstoreService"],
        services: [blockstoreService(node.store, CHAIN, (_h, s) => signal.wait(s))],
      });
      client = new BlockstoreServiceClient(server.address, credentials.createInsecure());
    });

    test("GetBlock returns the block, its header and its hash", async () => {
      const r = await call<GetBlockResponse>((cb) => client.getBlock({ height: 2n }, cb));
      assert.ok(r.block !== undefined && r.header !== undefined);
      eqBytes(Block.encode(r.block).finish(), b2.bytes, "block 2");
      assert.equal(r.header.height, 2n);
      assert.equal(r.header.txCount, 4);
      eqBytes(r.header.prevHash, b1.hash, "block 2 prev hash");
      eqBytes(r.blockHash, b2.hash, "block 2 hash");
    });

    test("GetTx returns the exact signed bytes and where they were first included", async () => {
      const r = await call<GetTxResponse>((cb) => client.getTx({ txId: txs[2]!.id }, cb));
      eqBytes(r.signedTx, txs[2]!.raw, "signed tx");
      assert.equal(r.height, 1n);
      assert.equal(r.index, 2);
    });

    test("GetInclusionProof proofs verify against the genesis sequencer keys", async () => {
      const keys = sequencerKeysOf(genesis);
      for (const [t, height, index] of [
        [txs[3]!, 1n, 3],
        [txs[0]!, 1n, 0],
        [txs[2]!, 1n, 2],
        [t6, 2n, 0],
        [t7, 3n, 0],
      ] as const) {
        const p = await call<GetInclusionProofResponse>((cb) => client.getInclusionProof({ txId: t.id }, cb));
        assert.equal(p.height, height);
        assert.equal(p.leafIndex, index);
        const v = verifyInclusionProof(p, t.id, keys);
        assert.ok(v.ok, `proof of ${toHex(t.id)} does not verify: ${v.ok ? "" : v.reason}`);
        assert.equal(v.header.height, height);
        // The same proof does not pass for another transaction.
        assert.equal(verifyInclusionProof(p, txs[4]!.id === t.id ? txs[1]!.id : txs[4]!.id, keys).ok, false);
      }
      // And a proof whose header was signed by nobody in the set fails.
      const p = await call<GetInclusionProofResponse>((cb) => client.getInclusionProof({ txId: txs[1]!.id }, cb));
      assert.equal(verifyInclusionProof(p, txs[1]!.id, new Map([["seq-a", seqBKey.publicKey]])).ok, false);
    });

    test("StreamBlocks with to_height sends exactly from..to, in order, then ends", async () => {
      const got = await collect(client.streamBlocks({ fromHeight: 1n, toHeight: 3n }));
      assert.equal(got.length, 3);
      got.forEach((m, i) => {
        assert.ok(m.block !== undefined);
        eqBytes(Block.encode(m.block).finish(), chain[i + 1]!.bytes, `streamed block ${i + 1}`);
      });
    });

    test("StreamBlocks without to_height follows the chain as blocks are stored", async () => {
      const tip = chain.at(-1)!;
      const stream = client.streamBlocks({ fromHeight: tip.header.height, toHeight: 0n });
      const got: StreamBlocksResponse[] = [];
      stream.on("data", (m: StreamBlocksResponse) => got.push(m));
      stream.on("error", () => undefined); // the cancel below
      try {
        await waitFor("the current tip on the stream", () => got.length >= 1, WAIT_MS, 10);
        const next = nextBlock(tip, [makeTx().raw]);
        chain.push(next);
        await publishBlock(node.names, next.header.height, next.bytes);
        await waitFor("the new block on the stream", () => got.length >= 2, WAIT_MS, 10);
        eqBytes(Block.encode(got[0]!.block!).finish(), tip.bytes, "first streamed block");
        eqBytes(Block.encode(got[1]!.block!).finish(), next.bytes, "followed block");
      } finally {
        stream.cancel();
      }
    });

    test("GetChainInfo reports the chain id and the stored tip", async () => {
      const r = await call<GetChainInfoResponse>((cb) => client.getChainInfo({}, cb));
      assert.equal(r.chainId, CHAIN);
      const tip = chain.at(-1)!;
      assert.equal(r.height, tip.header.height);
      eqBytes(r.headHash, tip.hash, "head hash");
    });

    test("refuses bad input with the right status, and keeps serving", async () => {
      await rejectsWith(
        call((cb) => client.getTx({ txId: new Uint8Array(5) }, cb)),
        status.INVALID_ARGUMENT,
        "BAD_TX_ID",
      );
      await rejectsWith(
        call((cb) => client.getInclusionProof({ txId: new Uint8Array(33) }, cb)),
        status.INVALID_ARGUMENT,
        "BAD_TX_ID",
      );
      await rejectsWith(
        call((cb) => client.getTx({ txId: new Uint8Array(0) }, cb)),
        status.INVALID_ARGUMENT,
        "BAD_TX_ID",
      );
      const unknown = sha256(utf8("never submitted"));
      await rejectsWith(
        call((cb) => client.getTx({ txId: unknown }, cb)),
        status.NOT_FOUND,
        "NO_SUCH_TX",
      );
      await rejectsWith(
        call((cb) => client.getInclusionProof({ txId: unknown }, cb)),
        status.NOT_FOUND,
        "NO_SUCH_TX",
      );
      await rejectsWith(
        call((cb) => client.getBlock({ height: 1_000_000n }, cb)),
        status.NOT_FOUND,
        "NO_SUCH_BLOCK",
      );
      await rejectsWith(collect(client.streamBlocks({ fromHeight: 3n, toHeight: 1n })), status.INVALID_ARGUMENT, "BAD_RANGE");
      // Bytes that are no protobuf at all, on a plain client.
      const raw = new Client(server.address, credentials.createInsecure());
      try {
        await rejectsWith(
          call<Buffer | undefined>((cb) =>
            raw.makeUnaryRequest(
              "/tally.v1.BlockstoreService/GetTx",
              (x: Buffer) => x,
              (b: Buffer) => b,
              Buffer.from([0xff, 0xff, 0xff]),
              cb,
            ),
          ),
          status.INVALID_ARGUMENT,
          "MALFORMED",
        );
      } finally {
        raw.close();
      }
      const info = await call<GetChainInfoResponse>((cb) => client.getChainInfo({}, cb));
      assert.equal(info.chainId, CHAIN);
      assert.equal(info.height, chain.at(-1)!.header.height);
    });
  });
});

describe("blockstore refuses a tampered or foreign block and stores nothing of it", SUITE, () => {
  const g = genesisBlock(genesis);
  const b1 = nextBlock(g, [makeTx().raw, makeTx().raw]);
  const good2Txs = [makeTx().raw, makeTx().raw, makeTx().raw];
  const good2 = nextBlock(b1, good2Txs);
  const cases: { name: string; code: string; blocks: () => Uint8Array[]; storedTip: bigint | undefined }[] = [
    {
      name: "a flipped signature bit",
      code: "BAD_SEQUENCER_SIGNATURE",
      blocks: () => [g.bytes, b1.bytes, withBadSignature(good2)],
      storedTip: 1n,
    },
    {
      name: "a header signed with another sequencer's key",
      code: "BAD_SEQUENCER_SIGNATURE",
      blocks: () => [
        g.bytes,
        b1.bytes,
        sealBlock(
          {
            chainId: CHAIN,
            height: 2n,
            prevHash: b1.hash,
            txs: good2Txs,
            firstTxsSeq: 3n,
            lastTxsSeq: 5n,
            timestampMs: b1.header.timestampMs + 1n,
            sequencerId: "seq-a",
            epoch: 1n,
          },
          seqBKey,
        ).bytes,
      ],
      storedTip: 1n,
    },
    {
      name: "a wrong previous hash (validly signed)",
      code: "PREV_HASH_MISMATCH",
      blocks: () => [g.bytes, b1.bytes, nextBlock(b1, good2Txs, { prevHash: sha256(utf8("elsewhere")) }).bytes],
      storedTip: 1n,
    },
    {
      name: "a swapped transaction",
      code: "TX_ROOT_MISMATCH",
      blocks: () => [g.bytes, b1.bytes, withSwappedTx(good2, makeTx().raw)],
      storedTip: 1n,
    },
    { name: "bytes that are no block", code: "MALFORMED_BLOCK", blocks: () => [g.bytes, b1.bytes, utf8("garbage")], storedTip: 1n },
    {
      name: "another chain's genesis",
      code: "GENESIS_MISMATCH",
      blocks: () => [genesisBlock(genesisFor(T0 + 1)).bytes],
      storedTip: undefined,
    },
  ];

  for (const c of cases) {
    test(`${c.name}: runBlockstore rejects with ${c.code}`, async () => {
      const node = await newNode();
      try {
        const bytes = c.blocks();
        for (let i = 0; i < bytes.length; i++) await publishBlock(node.names, BigInt(i), bytes[i]!);
        const r = follow(node.names, node.store);
        try {
          await assert.rejects(within(WAIT_MS, r.done, "runBlockstore to reject"), (e: unknown) => {
            assert.ok(e instanceof InvariantError, `not an InvariantError: ${String(e)}`);
            assert.equal(e.code, c.code);
            return true;
          });
        } finally {
          await within(10_000, r.follower.close(), "the follower to close");
        }
        assert.equal((await node.store.tip())?.height, c.storedTip);
        const heights = (await node.db.selectFrom("blocks").select("height").execute()).map((x) => x.height);
        assert.ok(!heights.includes(BigInt(bytes.length - 1)), "the refused block was stored");
        if (c.storedTip !== undefined) {
          // Only block 1's two transactions.
          const stored = await node.db.selectFrom("transactions").select(["tx_id", "height"]).execute();
          assert.equal(stored.length, 2);
          assert.ok(stored.every((t) => t.height === 1n));
          for (const t of good2Txs) {
            assert.equal(await node.store.txById(leafTxId(t)), undefined);
          }
        }
      } finally {
        await node.db.destroy();
      }
    });
  }
});
