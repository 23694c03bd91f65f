import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Block, BlockHeader } from "@tally/proto/types";
import {
  ZERO_HASH,
  blockHashOf,
  decodeBlock,
  genesisBlock,
  sealBlock,
  sequencerKeysOf,
  tipOf,
  verifyBlock,
  verifyChain,
  type BlockDraft,
  type SealedBlock,
} from "./block.js";
import { bytesEqual, fromHex, toHex, utf8 } from "./bytes.js";
import { ed25519Sign, ed25519Verify, signingKeyFromSeed } from "./ed25519.js";
import { InvariantError } from "./errors.js";
import { genesisHash, parseGenesis, type Genesis } from "./genesis.js";
import { sha256 } from "./hash.js";
import { merkleRoot } from "./merkle.js";
import { eventsRoot, nextStateRoot, type EventLeaf, type ResultLeaf } from "./state-root.js";
import { signTx } from "./tx.js";

const CHAIN = "tally-test";
const T0 = 1_700_000_000_000;

const bankKey = signingKeyFromSeed(new Uint8Array(32).fill(1));
const bankBKey = signingKeyFromSeed(new Uint8Array(32).fill(2));
const seqKey = signingKeyFromSeed(new Uint8Array(32).fill(10));
const seq2Key = signingKeyFromSeed(new Uint8Array(32).fill(11));
const strangerKey = signingKeyFromSeed(new Uint8Array(32).fill(99));
const nodeKey = signingKeyFromSeed(new Uint8Array(32).fill(20));

function makeGenesis(): Genesis {
  return {
    chainId: CHAIN,
    genesisTimeMs: T0,
    institutions: [
      { id: "bank-a", name: "Bank A", roles: ["bank"], keys: [{ keyId: "k1", publicKey: toHex(bankKey.publicKey) }] },
      { id: "bank-b", name: "Bank B", roles: ["bank", "clearing"], keys: [{ keyId: "k1", publicKey: toHex(bankBKey.publicKey) }] },
    ],
    sequencers: [
      { id: "seq-1", publicKey: toHex(seqKey.publicKey) },
      { id: "seq-2", publicKey: toHex(seq2Key.publicKey) },
    ],
    validators: [{ nodeId: "node-a", institutionId: "bank-a", publicKey: toHex(nodeKey.publicKey) }],
    finality: { quorumNumerator: 2, quorumDenominator: 3 },
  };
}

const GENESIS = parseGenesis(makeGenesis());
const KEYS = sequencerKeysOf(GENESIS);

function tx(n: number): Uint8Array {
  return signTx(
    {
      chainId: CHAIN,
      contract: "payments",
      action: "transfer",
      args: utf8(JSON.stringify({ n })),
      signer: { institutionId: "bank-a", keyId: "k1" },
      nonce: BigInt(n),
      validUntilMs: BigInt(T0 + 3_600_000),
    },
    [{ institutionId: "bank-a", keyId: "k1", key: bankKey }],
  ).raw;
}

/** A draft for the block after prev, with `count` fresh txs. */
function draftAfter(prev: SealedBlock, count: number, over: Partial<BlockDraft> = {}): BlockDraft {
  const h = prev.header;
  const first = h.lastTxsSeq + 1n;
  return {
    chainId: CHAIN,
    height: h.height + 1n,
    prevHash: prev.hash,
    txs: Array.from({ length: count }, (_, i) => tx(Number(h.height) * 100 + i)),
    firstTxsSeq: count > 0 ? first : 0n,
    lastTxsSeq: count > 0 ? first + BigInt(count) - 1n : h.lastTxsSeq,
    timestampMs: h.timestampMs + 1000n,
    sequencerId: "seq-1",
    epoch: 1n,
    ...over,
  };
}

/** Genesis and four blocks: 3 txs, 0 txs, 1 tx, 2 txs. Every block goes through its published bytes. */
function buildChain(): SealedBlock[] {
  const chain = [genesisBlock(GENESIS)];
  for (const count of [3, 0, 1, 2]) {
    chain.push(decodeBlock(sealBlock(draftAfter(chain[chain.length - 1]!, count), seqKey).bytes));
  }
  return chain;
}

const CHAIN_BLOCKS = buildChain();
const B0 = CHAIN_BLOCKS[0]!;
const B1 = CHAIN_BLOCKS[1]!;
const B2 = CHAIN_BLOCKS[2]!;

/** Re-encodes a block after editing it, and decodes it as a verifier would. */
function edited(b: SealedBlock, edit: (blk: Block) => Block): SealedBlock {
  return decodeBlock(Block.encode(edit({ ...b.block, txs: [...b.block.txs] })).finish());
}

function assertInvariant(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InvariantError, `expected InvariantError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.name, "InvariantError");
    return true;
  });
}

describe("genesis block", () => {
  test("is deterministic for the same genesis, whatever the key order of the document", () => {
    const again = genesisBlock(parseGenesis(JSON.parse(JSON.stringify(makeGenesis()))));
    const reordered = parseGenesis(reversedKeys(makeGenesis()));
    assert.notEqual(JSON.stringify(reordered), JSON.stringify(GENESIS));
    assert.equal(toHex(genesisBlock(GENESIS).bytes), toHex(B0.bytes));
    assert.equal(toHex(again.bytes), toHex(B0.bytes));
    assert.equal(toHex(genesisBlock(reordered).hash), toHex(B0.hash));
    assert.equal(toHex(genesisHash(reordered)), toHex(genesisHash(GENESIS)));
  });

  test("has height 0, a zero prev hash, the empty tx root, the genesis time and hash, and no signature", () => {
    const h = B0.header;
    assert.equal(h.chainId, CHAIN);
    assert.equal(h.height, 0n);
    assert.ok(bytesEqual(h.prevHash, ZERO_HASH));
    assert.equal(toHex(h.txRoot), toHex(sha256()));
    assert.equal(h.txCount, 0);
    assert.equal(h.timestampMs, BigInt(T0));
    assert.equal(toHex(h.genesisHash), toHex(sha256(utf8(JSON.stringify(sortedDeep(GENESIS))))));
    assert.equal(B0.block.signature.byteLength, 0);
    assert.equal(B0.block.txs.length, 0);
    assert.equal(toHex(B0.hash), toHex(blockHashOf(B0.block.header)));
  });

  test("changes with any change to the genesis document", () => {
    const changes: ((g: Genesis) => Genesis)[] = [
      (g) => ({ ...g, genesisTimeMs: g.genesisTimeMs + 1 }),
      (g) => ({ ...g, chainId: "tally-other" }),
      (g) => ({ ...g, finality: { quorumNumerator: 3, quorumDenominator: 4 } }),
      (g) => ({ ...g, sequencers: g.sequencers.slice(0, 1) }),
      (g) => ({ ...g, institutions: [{ ...g.institutions[0]!, name: "Bank A2" }, ...g.institutions.slice(1)] }),
    ];
    for (const change of changes) assert.notEqual(toHex(genesisBlock(parseGenesis(change(makeGenesis()))).hash), toHex(B0.hash));
  });

  test("round-trips through its bytes", () => {
    const d = decodeBlock(B0.bytes);
    assert.equal(toHex(d.hash), toHex(B0.hash));
    assert.deepEqual(d.header, B0.header);
  });
});

/** A copy with object keys in the order `order` gives, at every level. */
function rekeyed(v: unknown, order: (keys: string[]) => string[]): unknown {
  if (Array.isArray(v)) return v.map((x) => rekeyed(x, order));
  if (typeof v === "object" && v !== null) {
    return Object.fromEntries(order(Object.keys(v)).map((k) => [k, rekeyed((v as Record<string, unknown>)[k], order)]));
  }
  return v;
}
// The canonical JSON of the test genesis, written independently: sorted keys at every level.
const sortedDeep = (v: unknown): unknown => rekeyed(v, (keys) => [...keys].sort());
const reversedKeys = (v: unknown): unknown => rekeyed(v, (keys) => [...keys].reverse());

describe("sealBlock and decodeBlock", () => {
  test("round-trip: same header, hash, transactions, leaf hashes and bytes", () => {
    const sealed = sealBlock(draftAfter(B0, 3), seqKey);
    const d = decodeBlock(sealed.bytes);
    assert.deepEqual(d.header, sealed.header);
    assert.deepEqual(d.block, sealed.block);
    assert.equal(toHex(d.hash), toHex(sealed.hash));
    assert.deepEqual(d.leafHashes.map(toHex), sealed.leafHashes.map(toHex));
    assert.equal(toHex(d.bytes), toHex(sealed.bytes));
    assert.equal(toHex(Block.encode(d.block).finish()), toHex(sealed.bytes));
  });

  test("the header commits to the txs: count, RFC 6962 root; the hash is sha256 of the header bytes", () => {
    const draft = draftAfter(B0, 3);
    const sealed = sealBlock(draft, seqKey);
    assert.equal(sealed.header.txCount, 3);
    assert.equal(toHex(sealed.header.txRoot), toHex(merkleRoot(draft.txs)));
    assert.equal(toHex(sealed.hash), toHex(sha256(BlockHeader.encode(sealed.header).finish())));
    assert.equal(toHex(sealed.hash), toHex(sha256(sealed.block.header)));
    assert.equal(sealed.header.genesisHash.byteLength, 0);
  });

  test("the signature is the sequencer's Ed25519 signature over the block hash", () => {
    const sealed = sealBlock(draftAfter(B0, 1), seqKey);
    assert.equal(ed25519Verify(seqKey.publicKey, sealed.hash, sealed.block.signature), true);
    assert.equal(ed25519Verify(seq2Key.publicKey, sealed.hash, sealed.block.signature), false);
  });

  test("sealing is deterministic", () => {
    assert.equal(toHex(sealBlock(draftAfter(B0, 2), seqKey).bytes), toHex(sealBlock(draftAfter(B0, 2), seqKey).bytes));
  });

  test("undecodable bytes throw InvariantError MALFORMED_BLOCK", () => {
    for (const bad of [new Uint8Array([0xff, 0xff, 0xff]), new Uint8Array([0x0a, 0x20, 0x01]), new Uint8Array(16).fill(0x07)]) {
      assertInvariant(() => decodeBlock(bad), "MALFORMED_BLOCK");
    }
    const badHeader = Block.encode({ header: new Uint8Array([0xff, 0xff, 0xff]), signature: new Uint8Array(64), txs: [] }).finish();
    assertInvariant(() => decodeBlock(badHeader), "MALFORMED_BLOCK");
  });
});

describe("verifyBlock and verifyChain accept a good chain", () => {
  test("verifyChain returns the tip of the last block", () => {
    const tip = verifyChain(CHAIN_BLOCKS, GENESIS);
    const last = CHAIN_BLOCKS[CHAIN_BLOCKS.length - 1]!;
    assert.deepEqual(tip, tipOf(last));
    assert.equal(tip?.height, 4n);
    assert.equal(tip?.lastTxsSeq, 6n);
  });

  test("each block verifies against the tip of the one before", () => {
    verifyBlock(B0, undefined, GENESIS, KEYS);
    for (let i = 1; i < CHAIN_BLOCKS.length; i++) verifyBlock(CHAIN_BLOCKS[i]!, tipOf(CHAIN_BLOCKS[i - 1]!), GENESIS, KEYS);
  });

  test("an empty chain has no tip", () => {
    assert.equal(verifyChain([], GENESIS), undefined);
  });

  test("any listed sequencer may sign, and equal timestamps are allowed", () => {
    const b = decodeBlock(sealBlock(draftAfter(B1, 1, { sequencerId: "seq-2", timestampMs: B1.header.timestampMs }), seq2Key).bytes);
    verifyBlock(b, tipOf(B1), GENESIS, KEYS);
  });

  test("a chain is verified in order: the first bad block stops it", () => {
    assertInvariant(() => verifyChain([B0, B2, B1], GENESIS), "HEIGHT_GAP");
    assertInvariant(() => verifyChain(CHAIN_BLOCKS.slice(1), GENESIS), "GENESIS_MISMATCH");
  });
});

describe("verifyBlock refuses tampering with InvariantError", () => {
  const tip0 = tipOf(B0);
  const tip1 = tipOf(B1);

  test("wrong chain id: WRONG_CHAIN", () => {
    const b = decodeBlock(sealBlock(draftAfter(B0, 1, { chainId: "tally-other" }), seqKey).bytes);
    assertInvariant(() => verifyBlock(b, tip0, GENESIS, KEYS), "WRONG_CHAIN");
    assertInvariant(() => verifyBlock(b, undefined, GENESIS, KEYS), "WRONG_CHAIN");
  });

  test("height gap: HEIGHT_GAP", () => {
    for (const height of [2n, 0n, 1n + 2n ** 32n]) {
      const b = decodeBlock(sealBlock(draftAfter(B0, 1, { height }), seqKey).bytes);
      assertInvariant(() => verifyBlock(b, tip0, GENESIS, KEYS), "HEIGHT_GAP");
    }
    assertInvariant(() => verifyBlock(B1, tipOf(B1), GENESIS, KEYS), "HEIGHT_GAP");
  });

  test("prev-hash mismatch: PREV_HASH_MISMATCH", () => {
    for (const prevHash of [ZERO_HASH, B1.hash, sha256(B0.hash), new Uint8Array(0)]) {
      const b = decodeBlock(sealBlock(draftAfter(B0, 1, { prevHash }), seqKey).bytes);
      assertInvariant(() => verifyBlock(b, tip0, GENESIS, KEYS), "PREV_HASH_MISMATCH");
    }
  });

  test("a swapped transaction: TX_ROOT_MISMATCH", () => {
    const swapped = edited(B1, (blk) => ({ ...blk, txs: [tx(12345), ...blk.txs.slice(1)] }));
    assertInvariant(() => verifyBlock(swapped, tip0, GENESIS, KEYS), "TX_ROOT_MISMATCH");
    const reordered = edited(B1, (blk) => ({ ...blk, txs: [blk.txs[1]!, blk.txs[0]!, blk.txs[2]!] }));
    assertInvariant(() => verifyBlock(reordered, tip0, GENESIS, KEYS), "TX_ROOT_MISMATCH");
    const flipped = edited(B1, (blk) => {
      const t = new Uint8Array(blk.txs[2]!);
      t[t.length - 1] = t[t.length - 1]! ^ 1;
      return { ...blk, txs: [blk.txs[0]!, blk.txs[1]!, t] };
    });
    assertInvariant(() => verifyBlock(flipped, tip0, GENESIS, KEYS), "TX_ROOT_MISMATCH");
  });

  test("a signed header whose tx root does not match its txs: TX_ROOT_MISMATCH", () => {
    const header = BlockHeader.encode({ ...B1.header, txRoot: ZERO_HASH }).finish();
    const b = decodeBlock(Block.encode({ header, signature: ed25519Sign(seqKey, blockHashOf(header)), txs: B1.block.txs }).finish());
    assertInvariant(() => verifyBlock(b, tip0, GENESIS, KEYS), "TX_ROOT_MISMATCH");
  });

  test("a dropped or added transaction: TX_COUNT_MISMATCH", () => {
    const dropped = edited(B1, (blk) => ({ ...blk, txs: blk.txs.slice(0, 2) }));
    assertInvariant(() => verifyBlock(dropped, tip0, GENESIS, KEYS), "TX_COUNT_MISMATCH");
    const added = edited(B1, (blk) => ({ ...blk, txs: [...blk.txs, tx(777)] }));
    assertInvariant(() => verifyBlock(added, tip0, GENESIS, KEYS), "TX_COUNT_MISMATCH");
    const emptyPlusOne = edited(B2, (blk) => ({ ...blk, txs: [tx(778)] }));
    assertInvariant(() => verifyBlock(emptyPlusOne, tip1, GENESIS, KEYS), "TX_COUNT_MISMATCH");
  });

  test("a sequencer not in genesis: UNKNOWN_SEQUENCER", () => {
    const b = decodeBlock(sealBlock(draftAfter(B0, 1, { sequencerId: "seq-9" }), strangerKey).bytes);
    assertInvariant(() => verifyBlock(b, tip0, GENESIS, KEYS), "UNKNOWN_SEQUENCER");
    const empty = decodeBlock(sealBlock(draftAfter(B0, 1, { sequencerId: "" }), strangerKey).bytes);
    assertInvariant(() => verifyBlock(empty, tip0, GENESIS, KEYS), "UNKNOWN_SEQUENCER");
  });

  test("a bad signature: BAD_SEQUENCER_SIGNATURE", () => {
    const flippedSig = edited(B1, (blk) => {
      const s = new Uint8Array(blk.signature);
      s[10] = s[10]! ^ 0x20;
      return { ...blk, signature: s };
    });
    assertInvariant(() => verifyBlock(flippedSig, tip0, GENESIS, KEYS), "BAD_SEQUENCER_SIGNATURE");
    const noSig = edited(B1, (blk) => ({ ...blk, signature: new Uint8Array(0) }));
    assertInvariant(() => verifyBlock(noSig, tip0, GENESIS, KEYS), "BAD_SEQUENCER_SIGNATURE");
    // Signed by a stranger, or by the other sequencer, in seq-1's name.
    for (const key of [strangerKey, seq2Key]) {
      const b = decodeBlock(sealBlock(draftAfter(B0, 1), key).bytes);
      assertInvariant(() => verifyBlock(b, tip0, GENESIS, KEYS), "BAD_SEQUENCER_SIGNATURE");
    }
    // A header changed after signing: the hash moves, the old signature no longer matches.
    const later = edited(B1, (blk) => ({
      ...blk,
      header: BlockHeader.encode({ ...B1.header, timestampMs: B1.header.timestampMs + 1n }).finish(),
    }));
    assertInvariant(() => verifyBlock(later, tip0, GENESIS, KEYS), "BAD_SEQUENCER_SIGNATURE");
  });

  test("a first block that is not this chain's genesis: GENESIS_MISMATCH", () => {
    const otherTime = genesisBlock(parseGenesis({ ...makeGenesis(), genesisTimeMs: T0 + 1 }));
    assertInvariant(() => verifyBlock(otherTime, undefined, GENESIS, KEYS), "GENESIS_MISMATCH");
    assertInvariant(() => verifyBlock(B1, undefined, GENESIS, KEYS), "GENESIS_MISMATCH");
    const signedZero = decodeBlock(
      sealBlock({ ...draftAfter(B0, 0), height: 0n, prevHash: ZERO_HASH, timestampMs: BigInt(T0) }, seqKey).bytes,
    );
    assertInvariant(() => verifyBlock(signedZero, undefined, GENESIS, KEYS), "GENESIS_MISMATCH");
  });

  test("the genesis block carrying transactions or a signature: GENESIS_MISMATCH", () => {
    const withTx = edited(B0, (blk) => ({ ...blk, txs: [tx(1)] }));
    assert.equal(toHex(withTx.hash), toHex(B0.hash));
    assertInvariant(() => verifyBlock(withTx, undefined, GENESIS, KEYS), "GENESIS_MISMATCH");
    const withSig = edited(B0, (blk) => ({ ...blk, signature: new Uint8Array(64).fill(1) }));
    assertInvariant(() => verifyBlock(withSig, undefined, GENESIS, KEYS), "GENESIS_MISMATCH");
    assertInvariant(() => verifyChain([withTx, ...CHAIN_BLOCKS.slice(1)], GENESIS), "GENESIS_MISMATCH");
  });

  test("a timestamp before the previous block's: TIME_REGRESSION", () => {
    const b = decodeBlock(sealBlock(draftAfter(B1, 1, { timestampMs: B1.header.timestampMs - 1n }), seqKey).bytes);
    assertInvariant(() => verifyBlock(b, tip1, GENESIS, KEYS), "TIME_REGRESSION");
    const beforeGenesis = decodeBlock(sealBlock(draftAfter(B0, 0, { timestampMs: BigInt(T0 - 1) }), seqKey).bytes);
    assertInvariant(() => verifyBlock(beforeGenesis, tip0, GENESIS, KEYS), "TIME_REGRESSION");
  });

  test("a TXS sequence range overlapping the previous block's, or going backwards: TXS_SEQ_MISMATCH", () => {
    const last = B1.header.lastTxsSeq;
    const cases: Partial<BlockDraft>[] = [
      { firstTxsSeq: last, lastTxsSeq: last },
      { firstTxsSeq: last - 1n, lastTxsSeq: last + 1n },
      { firstTxsSeq: 0n, lastTxsSeq: 0n },
      { firstTxsSeq: last + 5n, lastTxsSeq: last + 4n },
    ];
    for (const over of cases) {
      const b = decodeBlock(sealBlock(draftAfter(B1, 1, over), seqKey).bytes);
      assertInvariant(() => verifyBlock(b, tip1, GENESIS, KEYS), "TXS_SEQ_MISMATCH");
    }
    // More transactions than TXS sequences in its range: some message was included twice.
    const crowded = decodeBlock(sealBlock(draftAfter(B1, 3, { firstTxsSeq: last + 1n, lastTxsSeq: last + 2n }), seqKey).bytes);
    assertInvariant(() => verifyBlock(crowded, tip1, GENESIS, KEYS), "TXS_SEQ_MISMATCH");
    const fits = decodeBlock(sealBlock(draftAfter(B1, 3, { firstTxsSeq: last + 1n, lastTxsSeq: last + 3n }), seqKey).bytes);
    verifyBlock(fits, tip1, GENESIS, KEYS);
    const emptyBackwards = decodeBlock(sealBlock(draftAfter(B1, 0, { lastTxsSeq: last - 1n }), seqKey).bytes);
    assertInvariant(() => verifyBlock(emptyBackwards, tip1, GENESIS, KEYS), "TXS_SEQ_MISMATCH");
  });

  test("a TXS sequence that skips ahead is accepted", () => {
    const last = B1.header.lastTxsSeq;
    const b = decodeBlock(sealBlock(draftAfter(B1, 1, { firstTxsSeq: last + 10n, lastTxsSeq: last + 10n }), seqKey).bytes);
    verifyBlock(b, tip1, GENESIS, KEYS);
  });

  test("verifyChain reports the tampered block's code", () => {
    const chain = [...CHAIN_BLOCKS];
    chain[3] = edited(chain[3]!, (blk) => ({ ...blk, txs: [tx(4242)] }));
    assertInvariant(() => verifyChain(chain, GENESIS), "TX_ROOT_MISMATCH");
  });
});

describe("sequencerKeysOf", () => {
  test("maps each genesis sequencer to its raw key", () => {
    assert.deepEqual([...KEYS.keys()], ["seq-1", "seq-2"]);
    assert.equal(toHex(KEYS.get("seq-1")!), toHex(seqKey.publicKey));
    assert.equal(toHex(KEYS.get("seq-2")!), toHex(seq2Key.publicKey));
  });
});

describe("parseGenesis", () => {
  test("accepts a valid document and returns it", () => {
    const g = makeGenesis();
    assert.equal(parseGenesis(g), g);
    assert.deepEqual(parseGenesis(JSON.parse(JSON.stringify(g))), g);
  });

  type Patch = Record<string, unknown>;
  const withInst = (g: Genesis, patch: Patch): unknown => ({
    ...g,
    institutions: [{ ...g.institutions[0]!, ...patch }, ...g.institutions.slice(1)],
  });
  const withKey = (g: Genesis, patch: Patch): unknown => withInst(g, { keys: [{ ...g.institutions[0]!.keys[0]!, ...patch }] });
  const withSeq = (g: Genesis, patch: Patch): unknown => ({ ...g, sequencers: [{ ...g.sequencers[0]!, ...patch }] });
  const withVal = (g: Genesis, patch: Patch): unknown => ({ ...g, validators: [{ ...g.validators[0]!, ...patch }] });
  const validHex = toHex(strangerKey.publicKey);

  const bad: [string, (g: Genesis) => unknown, RegExp][] = [
    ["null", () => null, /not an object/],
    ["a string", () => "genesis", /not an object/],
    ["missing chainId", (g) => ({ ...g, chainId: undefined }), /chainId/],
    ["invalid chainId", (g) => ({ ...g, chainId: "Tally Test" }), /chainId/],
    ["fractional genesisTimeMs", (g) => ({ ...g, genesisTimeMs: 1.5 }), /genesisTimeMs/],
    ["string genesisTimeMs", (g) => ({ ...g, genesisTimeMs: "0" }), /genesisTimeMs/],
    ["unsafe genesisTimeMs", (g) => ({ ...g, genesisTimeMs: 2 ** 60 }), /genesisTimeMs/],
    ["no institutions", (g) => ({ ...g, institutions: [] }), /institutions/],
    ["institutions not an array", (g) => ({ ...g, institutions: {} }), /institutions/],
    ["a null institution", (g) => ({ ...g, institutions: [null] }), /institution/],
    ["a string institution", (g) => ({ ...g, institutions: ["bank-a"] }), /institution/],
    ["invalid institution id", (g) => withInst(g, { id: "Bank A" }), /institution id/],
    ["institution listed twice", (g) => ({ ...g, institutions: [g.institutions[0], g.institutions[0]] }), /bank-a is listed twice/],
    ["institution without a name", (g) => withInst(g, { name: undefined }), /bank-a: name/],
    ["unknown role", (g) => withInst(g, { roles: ["bank", "king"] }), /bank-a: roles/],
    ["roles not an array", (g) => withInst(g, { roles: "bank" }), /bank-a: roles/],
    ["no keys", (g) => withInst(g, { keys: [] }), /bank-a: needs at least one key/],
    ["a null key", (g) => withInst(g, { keys: [null] }), /bank-a: key/],
    ["invalid key id", (g) => withKey(g, { keyId: "K 1" }), /bank-a: key id/],
    [
      "key id listed twice",
      (g) => withInst(g, { keys: [g.institutions[0]!.keys[0], { keyId: "k1", publicKey: validHex }] }),
      /bank-a: key k1 is listed twice/,
    ],
    ["short public key", (g) => withKey(g, { publicKey: "abcd" }), /bank-a: key k1/],
    ["non-hex public key", (g) => withKey(g, { publicKey: "zz".repeat(32) }), /bank-a: key k1/],
    ["missing public key", (g) => withKey(g, { publicKey: undefined }), /bank-a: key k1/],
    ["no sequencers", (g) => ({ ...g, sequencers: [] }), /sequencers/],
    ["a null sequencer", (g) => ({ ...g, sequencers: [null] }), /sequencer/],
    ["invalid sequencer id", (g) => withSeq(g, { id: "" }), /sequencer id/],
    [
      "sequencer listed twice",
      (g) => ({ ...g, sequencers: [g.sequencers[0], { id: "seq-1", publicKey: validHex }] }),
      /sequencer seq-1 is listed twice/,
    ],
    ["bad sequencer key", (g) => withSeq(g, { publicKey: "00" }), /sequencer seq-1: publicKey/],
    ["no validators", (g) => ({ ...g, validators: [] }), /validators/],
    ["a null validator", (g) => ({ ...g, validators: [null] }), /validator/],
    ["invalid validator nodeId", (g) => withVal(g, { nodeId: "Node A" }), /validator nodeId/],
    [
      "validator listed twice",
      (g) => ({ ...g, validators: [g.validators[0], { ...g.validators[0]!, publicKey: validHex }] }),
      /validator node-a is listed twice/,
    ],
    ["validator of an unknown institution", (g) => withVal(g, { institutionId: "bank-z" }), /validator node-a: institutionId/],
    ["bad validator key", (g) => withVal(g, { publicKey: "" }), /validator node-a: publicKey/],
    ["no finality", (g) => ({ ...g, finality: undefined }), /finality/],
    ["null finality", (g) => ({ ...g, finality: null }), /finality/],
    ["zero numerator", (g) => ({ ...g, finality: { quorumNumerator: 0, quorumDenominator: 3 } }), /finality/],
    ["numerator equal to denominator", (g) => ({ ...g, finality: { quorumNumerator: 3, quorumDenominator: 3 } }), /finality/],
    ["fractional quorum", (g) => ({ ...g, finality: { quorumNumerator: 0.5, quorumDenominator: 1 } }), /finality/],
    ["infinite denominator", (g) => ({ ...g, finality: { quorumNumerator: 1, quorumDenominator: Number.POSITIVE_INFINITY } }), /finality/],
    ["string quorum", (g) => ({ ...g, finality: { quorumNumerator: "2", quorumDenominator: 3 } }), /finality/],
    ["an extra field canonical JSON cannot encode", (g) => ({ ...g, note: 1.5 }), /cannot be hashed: .*1\.5/],
    ["an array", () => [], /not an object/],
  ];

  for (const [name, make, field] of bad) {
    test(`refuses ${name}, naming the field`, () => {
      assert.throws(
        () => parseGenesis(make(makeGenesis())),
        (e: unknown) => {
          assert.ok(e instanceof TypeError, `expected a TypeError, got ${String(e)}`);
          assert.match(e.message, /^genesis: /);
          assert.match(e.message, field);
          return true;
        },
      );
    });
  }

  test("everything parseGenesis accepts can be hashed into a genesis block", () => {
    const g = parseGenesis({ ...makeGenesis(), genesisTimeMs: 0, finality: { quorumNumerator: 1, quorumDenominator: 2 } });
    assert.equal(genesisBlock(g).header.timestampMs, 0n);
  });
});

describe("eventsRoot and nextStateRoot", () => {
  const results: ResultLeaf[] = [
    { txIndex: 0, committed: true, reasonCode: "" },
    { txIndex: 1, committed: false, reasonCode: "INSUFFICIENT_FUNDS" },
    { txIndex: 2, committed: true, reasonCode: "" },
  ];
  const events: EventLeaf[] = [
    { txIndex: 0, eventIndex: 0, contract: "payments", type: "Transferred", data: { from: "bank-a", to: "bank-b", amount: "100" } },
    { txIndex: 0, eventIndex: 1, contract: "payments", type: "FeeCharged", data: { amount: 1n } },
    { txIndex: 2, eventIndex: 0, contract: "payments", type: "Transferred", data: { from: "bank-b", to: "bank-a", amount: "5" } },
  ];
  const root = eventsRoot(results, events);

  test("deterministic, and independent of key order inside event data", () => {
    assert.equal(toHex(eventsRoot(results, events)), toHex(root));
    assert.equal(
      toHex(
        eventsRoot(
          [...results],
          events.map((e) => ({ ...e })),
        ),
      ),
      toHex(root),
    );
    const reKeyed = events.map((e, i) => (i === 0 ? { ...e, data: { amount: "100", to: "bank-b", from: "bank-a" } } : e));
    assert.equal(toHex(eventsRoot(results, reKeyed)), toHex(root));
  });

  test("is the RFC 6962 root over one canonical-JSON leaf per result, then per event", () => {
    const leaves = [
      '{"k":"r","o":true,"r":"","t":0}',
      '{"k":"r","o":false,"r":"INSUFFICIENT_FUNDS","t":1}',
      '{"k":"r","o":true,"r":"","t":2}',
      '{"c":"payments","d":{"amount":"100","from":"bank-a","to":"bank-b"},"e":0,"k":"e","t":0,"y":"Transferred"}',
      '{"c":"payments","d":{"amount":"1"},"e":1,"k":"e","t":0,"y":"FeeCharged"}',
      '{"c":"payments","d":{"amount":"5","from":"bank-b","to":"bank-a"},"e":0,"k":"e","t":2,"y":"Transferred"}',
    ].map(utf8);
    assert.equal(toHex(root), toHex(merkleRoot(leaves)));
    assert.equal(toHex(eventsRoot([], [])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  test("order-sensitive", () => {
    assert.notEqual(toHex(eventsRoot([results[1]!, results[0]!, results[2]!], events)), toHex(root));
    assert.notEqual(toHex(eventsRoot(results, [events[1]!, events[0]!, events[2]!])), toHex(root));
  });

  test("outcome-sensitive", () => {
    const flipped = results.map((r, i) => (i === 1 ? { ...r, committed: true } : r));
    assert.notEqual(toHex(eventsRoot(flipped, events)), toHex(root));
    const otherReason = results.map((r, i) => (i === 1 ? { ...r, reasonCode: "LIMIT_EXCEEDED" } : r));
    assert.notEqual(toHex(eventsRoot(otherReason, events)), toHex(root));
    assert.notEqual(toHex(eventsRoot(results.slice(0, 2), events)), toHex(root));
  });

  test("content-sensitive: event data, type, contract and position", () => {
    const variants: EventLeaf[][] = [
      events.map((e, i) => (i === 0 ? { ...e, data: { ...(e.data as object), amount: "101" } } : e)),
      events.map((e, i) => (i === 0 ? { ...e, type: "Refunded" } : e)),
      events.map((e, i) => (i === 0 ? { ...e, contract: "escrow" } : e)),
      events.map((e, i) => (i === 2 ? { ...e, txIndex: 1 } : e)),
      events.map((e, i) => (i === 1 ? { ...e, eventIndex: 2 } : e)),
      events.slice(0, 2),
    ];
    for (const v of variants) assert.notEqual(toHex(eventsRoot(results, v)), toHex(root));
  });

  test("nextStateRoot is sha256(prev || block hash || events root), deterministic and argument-order-sensitive", () => {
    const prev = sha256(utf8("state-0"));
    const next = nextStateRoot(prev, B1.hash, root);
    assert.equal(toHex(next), toHex(sha256(new Uint8Array([...prev, ...B1.hash, ...root]))));
    assert.equal(toHex(nextStateRoot(prev, B1.hash, root)), toHex(next));
    assert.notEqual(toHex(nextStateRoot(B1.hash, prev, root)), toHex(next));
    assert.notEqual(toHex(nextStateRoot(prev, root, B1.hash)), toHex(next));
    assert.notEqual(toHex(nextStateRoot(prev, B2.hash, root)), toHex(next));
    assert.notEqual(toHex(nextStateRoot(prev, B1.hash, eventsRoot(results, events.slice(1)))), toHex(next));
  });

  test("state roots chain: a different history gives a different state root", () => {
    const chainRoot = (order: readonly SealedBlock[]): string =>
      toHex(order.reduce<Uint8Array>((s, b) => nextStateRoot(s, b.hash, root), ZERO_HASH));
    assert.equal(chainRoot([B0, B1, B2]), chainRoot([B0, B1, B2]));
    assert.notEqual(chainRoot([B0, B1, B2]), chainRoot([B0, B2, B1]));
  });
});

test("fixtures are what the tests assume", () => {
  assert.equal(CHAIN_BLOCKS.map((b) => b.header.txCount).join(","), "0,3,0,1,2");
  assert.equal(fromHex(GENESIS.sequencers[0]!.publicKey).byteLength, 32);
});
