import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseGenesis, sha256, signingKeyFromSeed, toHex, type ReceiptSequencer } from "@tally/ledger";
import { inSet, SetKnowledge } from "./set-knowledge.js";

const key = (seed: number): Uint8Array => signingKeyFromSeed(new Uint8Array(32).fill(seed)).publicKey;
const SEQ1 = { id: "seq-1", publicKey: toHex(key(10)) };
const SEQ2 = { id: "seq-2", publicKey: toHex(key(11)) };
const SEQ3 = { id: "seq-3", publicKey: toHex(key(12)) };
const GENESIS = parseGenesis({
  chainId: "set-knowledge-test",
  genesisTimeMs: 1_700_000_000_000,
  institutions: [{ id: "bank-a", name: "Bank A", roles: ["bank"], keys: [{ keyId: "k1", publicKey: toHex(key(1)) }] }],
  sequencers: [SEQ1, SEQ2],
  validators: [{ nodeId: "n-1", institutionId: "bank-a", publicKey: toHex(key(20)) }],
  finality: { quorumNumerator: 2, quorumDenominator: 3 },
});
const hash = (h: bigint): Uint8Array => sha256(new TextEncoder().encode(`block ${h}`));
const confirmation = (height: bigint, sequencers: readonly ReceiptSequencer[], blockHash = hash(height)) => ({
  height,
  blockHash,
  sequencers,
  signers: ["n-1"],
});

describe("what a sequencer knows of the set in force", () => {
  test("genesis's set is in force while no block called membership: no receipts needed", () => {
    const k = new SetKnowledge(GENESIS);
    assert.deepEqual(k.inForceAt(1n), { known: true, sequencers: [SEQ1, SEQ2] });
    for (let h = 1n; h <= 5n; h++) k.noteBlock(h, hash(h), false);
    assert.deepEqual(k.inForceAt(6n), { known: true, sequencers: [SEQ1, SEQ2] });
  });

  test("after a membership block the set is unknown until a quorum confirms that height or a later one", () => {
    const k = new SetKnowledge(GENESIS);
    k.noteBlock(1n, hash(1n), false);
    k.noteBlock(2n, hash(2n), true);
    // Block 2 itself is judged by the set before it; block 3 waits.
    assert.equal(k.inForceAt(2n).known, true);
    const at3 = k.inForceAt(3n);
    assert.equal(at3.known, false);
    if (!at3.known) assert.equal(at3.confirmFrom, 2n);
    // A confirmation below the change does not settle it.
    assert.equal(k.confirm(confirmation(1n, [SEQ1, SEQ2])), "taken");
    assert.equal(k.inForceAt(3n).known, false);
    assert.equal(k.confirm(confirmation(2n, [SEQ1, SEQ3])), "taken");
    assert.deepEqual(k.inForceAt(3n), { known: true, sequencers: [SEQ1, SEQ3] });
    assert.deepEqual(k.latest().sequencers, [SEQ1, SEQ3]);
    // Older confirmations are ignored.
    assert.equal(k.confirm(confirmation(1n, [SEQ1, SEQ2])), "older");
  });

  test("a quorum's confirmation of another block than the one this sequencer cut is refused", () => {
    const k = new SetKnowledge(GENESIS);
    k.noteBlock(1n, hash(1n), true);
    assert.equal(k.confirm(confirmation(1n, [SEQ1], sha256(new Uint8Array([1])))), "other-block");
    assert.equal(k.inForceAt(2n).known, false);
  });

  test("blocks not examined (too many to read) count as possible changes; a later confirmation covers them", () => {
    const k = new SetKnowledge(GENESIS);
    k.skipThrough(1000n);
    assert.equal(k.nextToExamine(), 1001n);
    k.noteBlock(1001n, hash(1001n), false);
    const f = k.inForceAt(1002n);
    assert.equal(f.known, false);
    if (!f.known) assert.equal(f.confirmFrom, 1000n);
    k.confirm(confirmation(1000n, [SEQ2]));
    assert.deepEqual(k.inForceAt(1002n), { known: true, sequencers: [SEQ2] });
  });

  test("a block not yet examined leaves the set unknown; blocks must be noted in order", () => {
    const k = new SetKnowledge(GENESIS);
    assert.equal(k.inForceAt(3n).known, false);
    assert.throws(() => k.noteBlock(2n, hash(2n), false), /block 2 noted before block 1/);
  });

  test("in the set means the same id with the same key", () => {
    assert.equal(inSet([SEQ1, SEQ2], "seq-1", key(10)), true);
    assert.equal(inSet([SEQ1, SEQ2], "seq-1", key(11)), false);
    assert.equal(inSet([SEQ1, SEQ2], "seq-3", key(12)), false);
  });
});
