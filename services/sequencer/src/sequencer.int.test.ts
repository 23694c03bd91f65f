// The sequencer against a real nats-server with JetStream. Each test has its own bus
// namespace (its own TXS/BLOCKS/RECEIPTS streams), deleted at the end.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { JetStreamClient } from "@nats-io/jetstream";
import { pino } from "pino";
import { blockSeqOf, type Bus, busNames, type BusNames, connectBus, deleteNamespace, ensureStreams } from "@tally/bus";
import {
  bytesEqual,
  decodeBlock,
  genesisBlock,
  InvariantError,
  parseGenesis,
  sealBlock,
  signTx,
  signingKeyFromSeed,
  toHex,
  utf8,
  verifyChain,
  type Genesis,
  type SealedBlock,
  type SigningKey,
} from "@tally/ledger";
import { testNatsUrl, uniqueNamespace, waitFor } from "@tally/testkit";
import type { BlockBuffer } from "./block-buffer.js";
import { Sequencer, type SequencerConfig } from "./sequencer.js";

const CHAIN = "seq-int-test";
const T0 = 1_700_000_000_000;
const TEST_TIMEOUT_MS = 60_000;
const WAIT_MS = 15_000;

const bankKey = signingKeyFromSeed(new Uint8Array(32).fill(1));
const seqAKey = signingKeyFromSeed(new Uint8Array(32).fill(2));
const seqBKey = signingKeyFromSeed(new Uint8Array(32).fill(3));
const nodeKey = signingKeyFromSeed(new Uint8Array(32).fill(4));

function genesisFor(chainId: string): Genesis {
  return parseGenesis({
    chainId,
    genesisTimeMs: T0,
    institutions: [{ id: "bank-a", name: "Bank A", roles: ["bank"], keys: [{ keyId: "k1", publicKey: toHex(bankKey.publicKey) }] }],
    sequencers: [
      { id: "seq-a", publicKey: toHex(seqAKey.publicKey) },
      { id: "seq-b", publicKey: toHex(seqBKey.publicKey) },
    ],
    validators: [{ nodeId: "node-a", institutionId: "bank-a", publicKey: toHex(nodeKey.publicKey) }],
    finality: { quorumNumerator: 2, quorumDenominator: 3 },
  });
}

const genesis = genesisFor(CHAIN);
const log = pino({ level: "silent" });

let bus: Bus;
const namespaces: BusNames[] = [];

before(async () => {
  bus = await connectBus({ url: testNatsUrl(), name: "sequencer-int-test" });
});

after(async () => {
  for (const n of namespaces) {
    await deleteNamespace(bus.jsm, n);
  }
  await bus.nc.drain();
});

/** Fresh streams for one test. */
async function newChain(): Promise<BusNames> {
  const names = busNames(uniqueNamespace("seq"));
  namespaces.push(names);
  await ensureStreams(bus.jsm, names);
  return names;
}

// Every tx has the same size: fixed-width args and a nonce that always takes 3 varint bytes.
let nonce = 0;
function makeTx(padBytes = 0): { raw: Uint8Array; id: Uint8Array } {
  const n = nonce++;
  return signTx(
    {
      chainId: CHAIN,
      contract: "payments",
      action: "transfer",
      args: utf8(JSON.stringify({ n: String(n).padStart(8, "0"), pad: "x".repeat(padBytes) })),
      signer: { institutionId: "bank-a", keyId: "k1" },
      nonce: 1_100_000n + BigInt(n),
      validUntilMs: BigInt(T0 + 3_600_000),
    },
    [{ institutionId: "bank-a", keyId: "k1", key: bankKey }],
  );
}

/** Publishes count txs one after another (so their TXS order is known); returns their TXS sequences. */
async function publishTxs(names: BusNames, count: number, padBytes = 0): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < count; i++) {
    const tx = makeTx(padBytes);
    const ack = await bus.js.publish(names.txSubject("bank-a"), tx.raw, { msgID: toHex(tx.id) });
    assert.equal(ack.duplicate, false);
    seqs.push(ack.seq);
  }
  return seqs;
}

/** Every message on BLOCKS, decoded, in stream order. Checks that stream sequence = height + 1. */
async function readBlocks(names: BusNames): Promise<SealedBlock[]> {
  const info = await bus.jsm.streams.info(names.blocksStream);
  const out: SealedBlock[] = [];
  for (let s = 1; s <= info.state.last_seq; s++) {
    const m = await bus.jsm.streams.getMessage(names.blocksStream, { seq: s });
    assert.ok(m !== null, `BLOCKS sequence ${s} is missing`);
    const b = decodeBlock(m.data);
    assert.equal(blockSeqOf(b.header.height), s, `BLOCKS sequence ${s} holds height ${b.header.height}`);
    out.push(b);
  }
  return out;
}

/** Every message on TXS, by index seq - 1. */
async function readTxs(names: BusNames): Promise<Uint8Array[]> {
  const info = await bus.jsm.streams.info(names.txsStream);
  const out: Uint8Array[] = [];
  for (let s = 1; s <= info.state.last_seq; s++) {
    const m = await bus.jsm.streams.getMessage(names.txsStream, { seq: s });
    assert.ok(m !== null, `TXS sequence ${s} is missing`);
    out.push(m.data);
  }
  return out;
}

/** The last TXS sequence included in a block so far (0 before any). */
async function includedThrough(names: BusNames): Promise<bigint> {
  const info = await bus.jsm.streams.info(names.blocksStream);
  if (info.state.last_seq === 0) return 0n;
  const m = await bus.jsm.streams.getMessage(names.blocksStream, { seq: info.state.last_seq });
  return m === null ? 0n : decodeBlock(m.data).header.lastTxsSeq;
}

async function waitIncluded(names: BusNames, through: number): Promise<void> {
  await waitFor(`TXS through ${through} included in blocks`, async () => (await includedThrough(names)) >= BigInt(through), WAIT_MS, 10);
}

/**
 * The audit: the chain verifies from genesis, and every TXS sequence from 1 to the last
 * included one is in exactly one block, in order, none skipped; each leaf is the exact
 * TXS message at its sequence. Returns the blocks after genesis.
 */
async function audit(names: BusNames): Promise<{ blocks: SealedBlock[]; includedThrough: bigint; txsCount: number }> {
  const all = await readBlocks(names);
  assert.ok(all.length >= 1, "no genesis on BLOCKS");
  verifyChain(all, genesis);
  const txs = await readTxs(names);
  let next = 1n;
  for (const b of all.slice(1)) {
    const h = b.header;
    assert.ok(h.txCount > 0, `block ${h.height} is empty`);
    assert.equal(h.firstTxsSeq, next, `block ${h.height} starts at TXS ${h.firstTxsSeq}, expected ${next}`);
    assert.equal(h.lastTxsSeq, h.firstTxsSeq + BigInt(h.txCount) - 1n, `block ${h.height}: TXS range does not match its ${h.txCount} txs`);
    b.block.txs.forEach((raw, i) => {
      const want = txs[Number(h.firstTxsSeq) - 1 + i];
      assert.ok(want !== undefined && bytesEqual(raw, want), `block ${h.height} tx ${i} is not TXS ${Number(h.firstTxsSeq) + i}`);
    });
    next = h.lastTxsSeq + 1n;
  }
  return { blocks: all.slice(1), includedThrough: next - 1n, txsCount: txs.length };
}

function config(over: Partial<SequencerConfig> = {}): SequencerConfig {
  return {
    sequencerId: "seq-a",
    blockTxsMax: 1000,
    blockBytesMax: 900 * 1024,
    cutWaitMs: 5,
    fetchTxsMax: 256,
    publishTimeoutMs: 2000,
    ...over,
  };
}

interface Running {
  readonly seq: Sequencer;
  readonly done: Promise<void>;
  /** Stops the sequencer and checks that run() then ends without error. */
  stop(): Promise<void>;
}

function startSequencer(
  names: BusNames,
  over: Partial<SequencerConfig> = {},
  opts: { key?: SigningKey; bus?: Bus; epoch?: bigint } = {},
): Running {
  const seq = new Sequencer(config(over), { bus: opts.bus ?? bus, names, genesis, key: opts.key ?? seqAKey, nowMs: () => Date.now(), log });
  const done = seq.run(opts.epoch ?? 1n);
  // Observed by stop() or by the test; never an unhandled rejection.
  done.catch(() => undefined);
  return {
    seq,
    done,
    stop: async () => {
      await seq.stop();
      await within(10_000, done, "run() to end after stop()");
    },
  };
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

async function waitForGenesis(names: BusNames): Promise<void> {
  await waitFor("genesis on BLOCKS", async () => (await bus.jsm.streams.info(names.blocksStream)).state.last_seq >= 1, WAIT_MS, 10);
}

/**
 * Appends, straight to BLOCKS, a validly signed next block by the other sequencer (seq-b)
 * holding TXS messages from..to, with the expected last sequence of the current tip.
 */
async function appendForeignBlock(names: BusNames, from: number, to: number): Promise<SealedBlock> {
  const blocks = await readBlocks(names);
  const prev = blocks.at(-1)!;
  const txs: Uint8Array[] = [];
  for (let s = from; s <= to; s++) {
    const m = await bus.jsm.streams.getMessage(names.txsStream, { seq: s });
    assert.ok(m !== null);
    txs.push(m.data);
  }
  const now = BigInt(Date.now());
  const b = sealBlock(
    {
      chainId: CHAIN,
      height: prev.header.height + 1n,
      prevHash: prev.hash,
      txs,
      firstTxsSeq: BigInt(from),
      lastTxsSeq: BigInt(to),
      timestampMs: now > prev.header.timestampMs ? now : prev.header.timestampMs,
      sequencerId: "seq-b",
      epoch: 7n,
    },
    seqBKey,
  );
  const ack = await bus.js.publish(names.blocksSubject, b.bytes, {
    msgID: toHex(b.hash),
    expect: { lastSequence: blockSeqOf(prev.header.height) },
  });
  assert.equal(ack.seq, blockSeqOf(b.header.height));
  return b;
}

/**
 * The real bus, except that publishes to BLOCKS wait at a gate while it is closed: this
 * holds a cut's publish in flight so that the test can move BLOCKS underneath it.
 */
function gatedBus(names: BusNames): { bus: Bus; close(): void; open(): void; held(): number } {
  let gate: Promise<void> | undefined;
  let release = (): void => undefined;
  let held = 0;
  const real = bus.js;
  const js = new Proxy(real, {
    get(target, prop) {
      if (prop === "publish") {
        return async (...args: Parameters<JetStreamClient["publish"]>) => {
          if (gate !== undefined && args[0] === names.blocksSubject) {
            held++;
            await gate;
          }
          return target.publish(...args);
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return {
    bus: { nc: bus.nc, jsm: bus.jsm, js },
    close: () => {
      gate = new Promise<void>((r) => (release = r));
    },
    open: () => {
      gate = undefined;
      release();
    },
    held: () => held,
  };
}

function bufferOf(seq: Sequencer): BlockBuffer {
  return (seq as unknown as { buffer: BlockBuffer }).buffer;
}

describe("Sequencer", { timeout: TEST_TIMEOUT_MS }, () => {
  test("publishes this chain's genesis block at BLOCKS sequence 1, then leads", async () => {
    const names = await newChain();
    const s = startSequencer(names);
    try {
      await waitForGenesis(names);
      const m = await bus.jsm.streams.getMessage(names.blocksStream, { seq: 1 });
      assert.ok(m !== null);
      assert.deepEqual(m.data, genesisBlock(genesis).bytes);
      await waitFor("the sequencer to lead", () => s.seq.status().master, WAIT_MS, 10);
      assert.equal(s.seq.status().height, 0n);
    } finally {
      await s.stop();
    }
    assert.equal(s.seq.status().master, false, "a stopped sequencer still claims to be master");
    assert.equal((await bus.jsm.streams.info(names.blocksStream)).state.messages, 1);
  });

  test("cuts blocks by count (blockTxsMax)", async () => {
    const names = await newChain();
    // A wait far longer than the test: only the count can cut.
    const s = startSequencer(names, { blockTxsMax: 5, cutWaitMs: 600_000 });
    try {
      await publishTxs(names, 12);
      await waitIncluded(names, 10);
      let a = await audit(names);
      assert.deepEqual(
        a.blocks.map((b) => b.header.txCount),
        [5, 5],
      );
      assert.deepEqual(
        a.blocks.map((b) => [b.header.firstTxsSeq, b.header.lastTxsSeq]),
        [
          [1n, 5n],
          [6n, 10n],
        ],
      );
      // status() moves once the publish is acknowledged, which may be just after the block is visible.
      await waitFor("status to count 2 blocks", () => s.seq.status().blocksCut === 2, WAIT_MS, 5);
      // The two left over wait in the buffer; three more fill the next block.
      await publishTxs(names, 3);
      await waitIncluded(names, 15);
      a = await audit(names);
      assert.deepEqual(
        a.blocks.map((b) => [b.header.firstTxsSeq, b.header.lastTxsSeq]),
        [
          [1n, 5n],
          [6n, 10n],
          [11n, 15n],
        ],
      );
      assert.equal(a.includedThrough, 15n);
      assert.ok(a.blocks.every((b) => b.header.sequencerId === "seq-a" && b.header.epoch === 1n));
    } finally {
      await s.stop();
    }
  });

  test("cuts blocks by bytes (blockBytesMax); a tx bigger than the limit goes alone", async () => {
    const names = await newChain();
    const small = makeTx().raw.byteLength;
    const unit = small + 4; // bytes plus the framing the buffer counts
    // Three small txs fit, a fourth does not.
    const blockBytesMax = 3 * unit + Math.floor(unit / 2);
    const s = startSequencer(names, { blockBytesMax, blockTxsMax: 1000, cutWaitMs: 600_000 });
    try {
      await publishTxs(names, 6);
      const [bigSeq] = await publishTxs(names, 1, 3 * small);
      await publishTxs(names, 4);
      await waitIncluded(names, 10);
      const a = await audit(names);
      assert.deepEqual(
        a.blocks.map((b) => b.header.txCount),
        [3, 3, 1, 3],
      );
      const big = a.blocks[2]!;
      assert.equal(big.header.firstTxsSeq, BigInt(bigSeq!));
      assert.ok(big.block.txs[0]!.byteLength > blockBytesMax);
      for (const b of a.blocks.filter((x) => x !== big)) {
        const bytes = b.block.txs.reduce((n, t) => n + t.byteLength + 4, 0);
        assert.ok(bytes <= blockBytesMax, `block ${b.header.height} holds ${bytes} bytes, over ${blockBytesMax}`);
      }
      // TXS 11 waits in the buffer: neither limit is reached.
      assert.equal(a.includedThrough, 10n);
    } finally {
      await s.stop();
    }
  });

  test("cuts blocks by wait (cutWaitMs) when no limit is reached", async () => {
    const names = await newChain();
    const s = startSequencer(names, { blockTxsMax: 1000, blockBytesMax: 900 * 1024, cutWaitMs: 20 });
    try {
      await publishTxs(names, 3);
      await waitIncluded(names, 3);
      const first = await audit(names);
      await publishTxs(names, 2);
      await waitIncluded(names, 5);
      const a = await audit(names);
      assert.equal(a.includedThrough, 5n);
      assert.ok(a.blocks.length > first.blocks.length, "the later txs were not cut into a later block");
      assert.ok(a.blocks.every((b) => b.header.txCount < 1000));
    } finally {
      await s.stop();
    }
  });

  test("under concurrent load every TXS sequence is in exactly one block, in order, and the chain verifies", async () => {
    const names = await newChain();
    const s = startSequencer(names, { blockTxsMax: 7, cutWaitMs: 5, fetchTxsMax: 64 });
    try {
      const total = 300;
      for (let burst = 0; burst < 6; burst++) {
        await Promise.all(
          Array.from({ length: total / 6 }, () => {
            const tx = makeTx();
            return bus.js.publish(names.txSubject("bank-a"), tx.raw, { msgID: toHex(tx.id) });
          }),
        );
      }
      await waitIncluded(names, total);
      const a = await audit(names);
      assert.equal(a.txsCount, total);
      assert.equal(a.includedThrough, BigInt(total));
      assert.ok(a.blocks.every((b) => b.header.txCount <= 7));
      await waitFor("status to reach the tip", () => s.seq.status().lastTxsSeq === BigInt(total), WAIT_MS, 5);
      assert.equal(s.seq.status().height, BigInt(a.blocks.length));
    } finally {
      await s.stop();
    }
  });

  test("fenced by a foreign block, it re-reads the tip and carries on: no fork, nothing twice, nothing skipped", async () => {
    const names = await newChain();
    // Only the count cuts, so the moment of each cut is under the test's control.
    const s = startSequencer(names, { blockTxsMax: 10, cutWaitMs: 600_000 });
    try {
      await waitForGenesis(names);
      await publishTxs(names, 5);
      // The sequencer holds TXS 1..5 in its buffer; another writer includes them first.
      const foreign = await appendForeignBlock(names, 1, 5);
      // TXS 6..10 fill the sequencer's block (1..10), whose publish is refused: it must step
      // back to the foreign tip and start again from TXS 6.
      await publishTxs(names, 5);
      await publishTxs(names, 5);
      await waitIncluded(names, 15);
      const a = await audit(names);
      assert.equal(a.includedThrough, 15n);
      assert.equal(a.blocks.length, 2);
      assert.ok(bytesEqual(a.blocks[0]!.hash, foreign.hash), "the foreign block is not height 1");
      const mine = a.blocks[1]!;
      assert.equal(mine.header.sequencerId, "seq-a");
      assert.equal(mine.header.firstTxsSeq, 6n);
      assert.equal(mine.header.lastTxsSeq, 15n);
      assert.ok(bytesEqual(mine.header.prevHash, foreign.hash));
      await waitFor("status to reach height 2", () => s.seq.status().height === 2n, WAIT_MS, 5);
      assert.equal(s.seq.status().master, true);
    } finally {
      await s.stop();
    }
  });

  test("fenced during a wait-cut's publish, it does not include twice what it buffered meanwhile", async () => {
    const names = await newChain();
    const gated = gatedBus(names);
    const cutWaitMs = 1000;
    const s = startSequencer(names, { blockTxsMax: 1000, cutWaitMs }, { bus: gated.bus });
    try {
      await waitForGenesis(names);
      await waitFor("the sequencer to lead", () => s.seq.status().master, WAIT_MS, 10);
      gated.close();
      await publishTxs(names, 3);
      // The wait cut of TXS 1..3 is now held before it reaches BLOCKS.
      await waitFor("the wait cut to publish", () => gated.held() === 1, WAIT_MS, 5);
      await appendForeignBlock(names, 1, 3);
      // TXS 4 and 5 arrive while that publish is in flight.
      await publishTxs(names, 2);
      await waitFor("TXS 4 and 5 to be buffered", () => bufferOf(s.seq).size === 2, WAIT_MS, 2);
      gated.open();
      await waitIncluded(names, 5);
      const a = await audit(names);
      assert.equal(a.includedThrough, 5n);
      assert.deepEqual(
        a.blocks.map((b) => [b.header.sequencerId, b.header.firstTxsSeq, b.header.txCount]),
        [
          ["seq-b", 1n, 3],
          ["seq-a", 4n, 2],
        ],
      );
    } finally {
      gated.open();
      await s.stop();
    }
  });

  test("a new sequencer on the same streams resumes from the last block's last_txs_seq + 1", async () => {
    const names = await newChain();
    const first = startSequencer(names, { blockTxsMax: 10, cutWaitMs: 600_000 });
    try {
      await publishTxs(names, 15);
      await waitIncluded(names, 10);
    } finally {
      await first.stop();
    }
    // TXS 11..15 were read but never cut; more arrive while no sequencer runs.
    const prior = await audit(names);
    assert.equal(prior.includedThrough, 10n);
    await publishTxs(names, 5);
    const second = startSequencer(names, { sequencerId: "seq-b", blockTxsMax: 10, cutWaitMs: 5 }, { key: seqBKey, epoch: 2n });
    try {
      await waitIncluded(names, 20);
      const a = await audit(names);
      assert.equal(a.includedThrough, 20n);
      assert.equal(a.txsCount, 20);
      // The first sequencer's blocks are untouched; the second's start right after them.
      assert.ok(bytesEqual(a.blocks[0]!.hash, prior.blocks[0]!.hash));
      const resumed = a.blocks.slice(prior.blocks.length);
      assert.ok(resumed.length >= 1);
      assert.equal(resumed[0]!.header.firstTxsSeq, 11n);
      assert.ok(resumed.every((b) => b.header.sequencerId === "seq-b" && b.header.epoch === 2n));
    } finally {
      await second.stop();
    }
  });

  test("stop() right after run() ends run() (stop during start-up)", async () => {
    const names = await newChain();
    const s = startSequencer(names);
    await s.stop();
    assert.equal(s.seq.status().master, false);
  });

  test("a stream holding another chain's genesis makes readTip (and run) throw GENESIS_MISMATCH", async () => {
    const names = await newChain();
    const other = genesisBlock(genesisFor("another-chain"));
    await bus.js.publish(names.blocksSubject, other.bytes, { expect: { lastSequence: 0 } });
    const seq = new Sequencer(config(), { bus, names, genesis, key: seqAKey, nowMs: () => Date.now(), log });
    const isMismatch = (e: unknown): boolean => e instanceof InvariantError && e.code === "GENESIS_MISMATCH";
    await assert.rejects(seq.readTip(), isMismatch);
    await assert.rejects(within(10_000, seq.run(1n), "run() to fail"), isMismatch);
    await seq.stop();
    // Nothing was appended to the foreign chain.
    assert.equal((await bus.jsm.streams.info(names.blocksStream)).state.messages, 1);
  });

  test("a last block whose height does not match its stream sequence makes readTip throw HEIGHT_GAP", async () => {
    const names = await newChain();
    const g = genesisBlock(genesis);
    await bus.js.publish(names.blocksSubject, g.bytes, { expect: { lastSequence: 0 } });
    const stray = sealBlock(
      {
        chainId: CHAIN,
        height: 5n,
        prevHash: g.hash,
        txs: [makeTx().raw],
        firstTxsSeq: 1n,
        lastTxsSeq: 1n,
        timestampMs: BigInt(T0 + 1),
        sequencerId: "seq-b",
        epoch: 1n,
      },
      seqBKey,
    );
    await bus.js.publish(names.blocksSubject, stray.bytes, { expect: { lastSequence: 1 } });
    const seq = new Sequencer(config(), { bus, names, genesis, key: seqAKey, nowMs: () => Date.now(), log });
    await assert.rejects(seq.readTip(), (e: unknown) => e instanceof InvariantError && e.code === "HEIGHT_GAP");
  });
});
