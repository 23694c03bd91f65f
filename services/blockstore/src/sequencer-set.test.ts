// The sequencer set the blockstore judges a block's signer by (docs/architecture.md, "The
// sequencer set in force"): the executor's committed chain config, exact when the executor is at
// the height before; a signer it does not know yet is waited for, never refused early.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import {
  InvariantError,
  genesisBlock,
  parseGenesis,
  sealBlock,
  signingKeyFromSeed,
  toHex,
  type ChainTip,
  type SealedBlock,
  type SigningKey,
} from "@tally/ledger";
import type { BlockStore } from "./block-store.js";
import { blockstoreSequencerKeys, runBlockstore } from "./blockstore.js";
import { sequencersOfChainConfig, type CommittedSequencers } from "./committed-sequencers.js";

const keyA = signingKeyFromSeed(new Uint8Array(32).fill(2));
const keyB = signingKeyFromSeed(new Uint8Array(32).fill(3));
const keyC = signingKeyFromSeed(new Uint8Array(32).fill(5));
const keyA2 = signingKeyFromSeed(new Uint8Array(32).fill(6));
const seq = (id: string, k: SigningKey) => ({ id, publicKey: toHex(k.publicKey) });
const bankKey = signingKeyFromSeed(new Uint8Array(32).fill(1));
const genesis = parseGenesis({
  chainId: "bs-seqset",
  genesisTimeMs: 1_700_000_000_000,
  institutions: [{ id: "bank-a", name: "Bank A", roles: ["bank"], keys: [{ keyId: "k1", publicKey: toHex(bankKey.publicKey) }] }],
  sequencers: [seq("seq-a", keyA), seq("seq-b", keyB)],
  validators: [{ nodeId: "node-a", institutionId: "bank-a", publicKey: toHex(bankKey.publicKey) }],
  finality: { quorumNumerator: 2, quorumDenominator: 3 },
});
const log = pino({ level: "silent" });

function next(prev: SealedBlock, id: string, key: SigningKey): SealedBlock {
  return sealBlock(
    {
      chainId: genesis.chainId,
      height: prev.header.height + 1n,
      prevHash: prev.hash,
      txs: [],
      firstTxsSeq: 0n,
      lastTxsSeq: 0n,
      timestampMs: prev.header.timestampMs + 1n,
      sequencerId: id,
      epoch: 1n,
    },
    key,
  );
}

const ids = (keys: ReadonlyMap<string, Uint8Array>) => [...keys.keys()].sort();

describe("blockstoreSequencerKeys", () => {
  const committed = (height: bigint): CommittedSequencers => ({ height, sequencers: [seq("seq-b", keyB), seq("seq-c", keyC)] });

  test("no executor state yet: genesis's set, not exact", () => {
    const r = blockstoreSequencerKeys(5n, genesis, undefined);
    assert.deepEqual([ids(r.keys), r.exact], [["seq-a", "seq-b"], false]);
  });

  test("the executor at h-1: its committed set, exact (a genesis sequencer voted out is not in it)", () => {
    const r = blockstoreSequencerKeys(5n, genesis, committed(4n));
    assert.deepEqual([ids(r.keys), r.exact], [["seq-b", "seq-c"], true]);
  });

  test("the executor behind: its committed set, not exact", () => {
    const r = blockstoreSequencerKeys(9n, genesis, committed(4n));
    assert.deepEqual([ids(r.keys), r.exact], [["seq-b", "seq-c"], false]);
  });

  test("the executor ahead: genesis's set with the committed one, its key winning for an id both name", () => {
    const r = blockstoreSequencerKeys(3n, genesis, { height: 4n, sequencers: [seq("seq-a", keyA2), seq("seq-c", keyC)] });
    assert.deepEqual([ids(r.keys), r.exact], [["seq-a", "seq-b", "seq-c"], false]);
    assert.equal(toHex(r.keys.get("seq-a")!), toHex(keyA2.publicKey));
  });
});

describe("sequencersOfChainConfig", () => {
  test("reads the sequencers; garbage is a CONTRACT_STATE InvariantError", () => {
    assert.deepEqual(sequencersOfChainConfig({ record: "chain-config", sequencers: [seq("seq-b", keyB)] }), [seq("seq-b", keyB)]);
    for (const bad of [
      null,
      7,
      "x",
      {},
      { sequencers: {} },
      { sequencers: [7] },
      { sequencers: [{ id: "s" }] },
      { sequencers: [{ id: 1, publicKey: "ab" }] },
    ])
      assert.throws(
        () => sequencersOfChainConfig(bad),
        (e) => e instanceof InvariantError && e.code === "CONTRACT_STATE",
        JSON.stringify(bad),
      );
  });
});

/** runBlockstore over one batch, with a store that records what it appended and the executor's set from `committed`. */
async function runOver(blocks: SealedBlock[], committed: () => CommittedSequencers | undefined) {
  const appended: bigint[][] = [];
  const store = {
    tip: () => Promise.resolve(undefined),
    appendMany: (bs: readonly SealedBlock[]) => {
      if (bs.length > 0) appended.push(bs.map((b) => b.header.height));
      return Promise.resolve();
    },
  } as unknown as BlockStore;
  const follower = {
    async *followBatches(): AsyncGenerator<SealedBlock[]> {
      yield await Promise.resolve(blocks);
    },
  };
  const stored: ChainTip[] = [];
  let error: unknown;
  try {
    await runBlockstore({
      store,
      follower,
      genesis,
      log,
      onStored: (t) => stored.push(t),
      committedSequencers: () => Promise.resolve(committed()),
      executorPollMs: 1,
    });
  } catch (e) {
    error = e;
  }
  return { appended, stored, error };
}

describe("runBlockstore judges signers by the executor's set", () => {
  const g = genesisBlock(genesis);
  const b1 = next(g, "seq-a", keyA);

  test("the executor at h-1 without seq-a (voted out): seq-a's good signature is refused as UNKNOWN_SEQUENCER, nothing of it stored", async () => {
    const b2 = next(b1, "seq-a", keyA);
    const r = await runOver([g, b1, b2], () => ({ height: 1n, sequencers: [seq("seq-b", keyB)] }));
    assert.ok(r.error instanceof InvariantError && r.error.code === "UNKNOWN_SEQUENCER", String(r.error));
    assert.match(String(r.error), /sequencer seq-a is not in the sequencer set/);
    assert.deepEqual(r.appended, [[0n, 1n]]);
  });

  test("a sequencer the executor has not seen added yet: the blocks before are stored, then it waits and stores it", async () => {
    const b2 = next(b1, "seq-c", keyC);
    let reads = 0;
    // The executor is at 0 for a while, then applies block 1, which added seq-c.
    const r = await runOver([g, b1, b2], () =>
      ++reads < 5 ? { height: 0n, sequencers: [seq("seq-a", keyA)] } : { height: 1n, sequencers: [seq("seq-a", keyA), seq("seq-c", keyC)] },
    );
    assert.equal(r.error, undefined);
    assert.deepEqual(r.appended, [[0n, 1n], [2n]]);
    assert.deepEqual(
      r.stored.map((t) => t.height),
      [0n, 1n, 2n],
    );
    assert.ok(reads >= 5);
  });

  test("a stranger, once the executor reaches the height before, is refused", async () => {
    const b2 = next(b1, "seq-x", keyC);
    let reads = 0;
    const r = await runOver([g, b1, b2], () => (++reads < 3 ? undefined : { height: 1n, sequencers: [seq("seq-a", keyA)] }));
    assert.ok(r.error instanceof InvariantError && r.error.code === "UNKNOWN_SEQUENCER", String(r.error));
    assert.deepEqual(r.appended, [[0n, 1n]]);
  });

  test("without the executor's set: genesis's sequencers, as before", async () => {
    const b2 = next(b1, "seq-b", keyB);
    const r = await runOver([g, b1, b2], () => undefined);
    assert.equal(r.error, undefined);
    assert.deepEqual(r.appended, [[0n, 1n, 2n]]);
  });
});
