// A client that trusts only its genesis file catches a lying gateway or blockstore: every kind of
// tampered proof is fed to it and each is refused with its own reason code.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { BlockHeader, Receipt, ReceiptBody } from "@tally/proto/types";
import {
  fromHex,
  genesisBlock,
  inclusionProof,
  sealBlock,
  sequencerKeysOf,
  sha256,
  signingKeyFromSeed,
  signReceipt,
  signTx,
  toHex,
  type Genesis,
  type SealedBlock,
  type SigningKey,
} from "@tally/ledger";
import { TallyClient } from "./tally-client.js";
import { ProofError, TrustedChain, type InclusionProof, type ProofReason, type SignedHeader } from "./trusted-chain.js";
import { verifyInclusionProof } from "./verify-proof.js";
import type { ProofSource } from "./proof-source.js";
import { buildChain, CHAIN_ID, GENESIS, ROGUE_KEY, SEQ_KEY, SIGNERS } from "./testing/fixtures.js";

function tx(n: number): { raw: Uint8Array; id: Uint8Array } {
  return signTx(
    {
      chainId: CHAIN_ID,
      contract: "cash",
      action: "transfer",
      args: new TextEncoder().encode(`{"amount":"${n + 1}","to":"bank-b"}`),
      signer: { institutionId: "bank-a", keyId: SIGNERS.bankA.keyId },
      nonce: BigInt(n),
      validUntilMs: 2_000_000_000_000n,
    },
    [SIGNERS.bankA],
  );
}

// Blocks 1..6 of 5 txs each: tx(height * 10 + i).
const TXS = new Map<number, { raw: Uint8Array; id: Uint8Array }[]>();
const CHAIN = buildChain(6, (h) => {
  const txs = [0, 1, 2, 3, 4].map((i) => tx(h * 10 + i));
  TXS.set(h, txs);
  return txs.map((t) => t.raw);
});

function proofOf(b: SealedBlock, index: number): InclusionProof {
  return {
    height: b.header.height,
    leafIndex: index,
    treeSize: b.block.txs.length,
    path: inclusionProof(b.block.txs, index),
    signedTx: b.block.txs[index]!,
    header: b.block.header,
    headerSignature: b.block.signature,
  };
}

const headerOf = (b: SealedBlock): SignedHeader => ({ header: b.block.header, signature: b.block.signature });

function rejectsWith(reason: ProofReason): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof ProofError, String(e));
    assert.equal(e.reason, reason, e.message);
    assert.equal(e.code, status.DATA_LOSS);
    return true;
  };
}

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const out = new Uint8Array(bytes);
  out[at] = out[at]! ^ 1;
  return out;
}

describe("inclusion proofs against the trusted genesis", () => {
  test("an honest proof of every tx of every block verifies and returns its header", () => {
    const chain = new TrustedChain(GENESIS);
    for (const b of CHAIN.slice(1)) {
      for (let i = 0; i < b.block.txs.length; i++) {
        const v = chain.verifyInclusion(proofOf(b, i), TXS.get(Number(b.header.height))![i]!.id);
        assert.equal(v.height, b.header.height);
        assert.deepEqual(v.hash, b.hash);
      }
    }
  });

  test("a wrong leaf (the signed bytes changed) is refused: PROOF_BAD_PATH", () => {
    const p = proofOf(CHAIN[2]!, 3);
    assert.throws(
      () => new TrustedChain(GENESIS).verifyInclusion({ ...p, signedTx: flip(p.signedTx, p.signedTx.length - 1) }, TXS.get(2)![3]!.id),
      rejectsWith("PROOF_BAD_PATH"),
    );
  });

  test("an honest proof of another transaction is refused: PROOF_WRONG_TX", () => {
    assert.throws(
      () => new TrustedChain(GENESIS).verifyInclusion(proofOf(CHAIN[2]!, 3), TXS.get(2)![1]!.id),
      rejectsWith("PROOF_WRONG_TX"),
    );
  });

  test("a tampered path, a moved index or a wrong tree size is refused", () => {
    const p = proofOf(CHAIN[3]!, 2);
    const id = TXS.get(3)![2]!.id;
    const t = new TrustedChain(GENESIS);
    assert.throws(() => t.verifyInclusion({ ...p, path: [flip(p.path[0]!, 0), ...p.path.slice(1)] }, id), rejectsWith("PROOF_BAD_PATH"));
    assert.throws(() => t.verifyInclusion({ ...p, path: p.path.slice(1) }, id), rejectsWith("PROOF_BAD_PATH"));
    assert.throws(() => t.verifyInclusion({ ...p, leafIndex: 1 }, id), rejectsWith("PROOF_BAD_PATH"));
    assert.throws(() => t.verifyInclusion({ ...p, treeSize: 4 }, id), rejectsWith("PROOF_TREE_SIZE_MISMATCH"));
    assert.throws(() => t.verifyInclusion({ ...p, height: 4n }, id), rejectsWith("PROOF_HEIGHT_MISMATCH"));
  });

  test("a wrong root: a header whose tx root was changed no longer carries the sequencer's signature", () => {
    const b = CHAIN[2]!;
    const forged = BlockHeader.encode({ ...b.header, txRoot: new Uint8Array(32).fill(7) }).finish();
    assert.throws(
      () => new TrustedChain(GENESIS).verifyInclusion({ ...proofOf(b, 0), header: forged }, TXS.get(2)![0]!.id),
      rejectsWith("PROOF_BAD_SIGNATURE"),
    );
  });

  test("a forged header signature is refused: PROOF_BAD_SIGNATURE", () => {
    const p = proofOf(CHAIN[1]!, 0);
    assert.throws(
      () => new TrustedChain(GENESIS).verifyInclusion({ ...p, headerSignature: flip(p.headerSignature, 5) }, TXS.get(1)![0]!.id),
      rejectsWith("PROOF_BAD_SIGNATURE"),
    );
  });

  test("a block sealed by a sequencer genesis does not name, or by another key under a genesis name, is refused", () => {
    const txs = [tx(900), tx(901)];
    const rogue = buildChain(1, () => txs.map((t) => t.raw), { key: ROGUE_KEY, sequencerId: "seq-rogue", from: CHAIN[0]! })[1]!;
    assert.throws(() => new TrustedChain(GENESIS).verifyInclusion(proofOf(rogue, 1), txs[1]!.id), rejectsWith("PROOF_UNKNOWN_SEQUENCER"));
    const impostor = buildChain(1, () => txs.map((t) => t.raw), { key: ROGUE_KEY, sequencerId: "seq-a", from: CHAIN[0]! })[1]!;
    assert.throws(() => new TrustedChain(GENESIS).verifyInclusion(proofOf(impostor, 1), txs[1]!.id), rejectsWith("PROOF_BAD_SIGNATURE"));
  });

  test("a block of another chain, and a header that does not decode, are refused", () => {
    const other = sealBlock(
      {
        chainId: "other-chain",
        height: 1n,
        prevHash: CHAIN[0]!.hash,
        txs: [tx(1).raw],
        firstTxsSeq: 1n,
        lastTxsSeq: 1n,
        timestampMs: 1n,
        sequencerId: "seq-a",
        epoch: 1n,
      },
      SEQ_KEY,
    );
    assert.throws(() => new TrustedChain(GENESIS).verifyInclusion(proofOf(other, 0), tx(1).id), rejectsWith("PROOF_WRONG_CHAIN"));
    assert.throws(
      () => new TrustedChain(GENESIS).verifyHeader({ header: new Uint8Array([0xff, 0xff, 0xff]), signature: new Uint8Array(64) }),
      rejectsWith("PROOF_MALFORMED_HEADER"),
    );
  });

  test("a height-0 header that is not this chain's genesis block is refused", () => {
    const fake = BlockHeader.encode({ ...CHAIN[0]!.header, timestampMs: 1n }).finish();
    assert.throws(
      () => new TrustedChain(GENESIS).verifyHeader({ header: fake, signature: new Uint8Array(0) }),
      rejectsWith("PROOF_NOT_GENESIS"),
    );
    assert.equal(new TrustedChain(GENESIS).verifyHeader(headerOf(CHAIN[0]!)).height, 0n);
  });

  test("two different validly signed headers at one height are a fork: PROOF_FORK", () => {
    const t = new TrustedChain(GENESIS);
    t.verifyHeader(headerOf(CHAIN[2]!));
    const fork = buildChain(1, () => [tx(777).raw], { from: CHAIN[1]! })[1]!;
    assert.throws(() => t.verifyHeader(headerOf(fork)), rejectsWith("PROOF_FORK"));
  });

  test("verifyInclusionProof (sequencer keys only) still answers ok or a reason", () => {
    const keys = sequencerKeysOf(GENESIS);
    const ok = verifyInclusionProof(proofOf(CHAIN[4]!, 4), TXS.get(4)![4]!.id, keys);
    assert.equal(ok.ok, true);
    const bad = verifyInclusionProof(proofOf(CHAIN[4]!, 4), TXS.get(4)![3]!.id, keys);
    assert.equal(bad.ok, false);
  });
});

describe("consistency between two heights the client has seen", () => {
  const headers = (from: number, to: number): SignedHeader[] => CHAIN.slice(from, to + 1).map(headerOf);

  test("the honest chain between two seen heights verifies, from genesis too", async () => {
    const t = new TrustedChain(GENESIS);
    const h0 = t.verifyHeader(headerOf(CHAIN[0]!));
    const h2 = t.verifyInclusion(proofOf(CHAIN[2]!, 0), TXS.get(2)![0]!.id);
    const h6 = t.verifyInclusion(proofOf(CHAIN[6]!, 4), TXS.get(6)![4]!.id);
    await t.verifyConsistency(h2, h6, headers(3, 6));
    await t.verifyConsistency(h0, h2, headers(1, 2));
    await t.verifyConsistency(h2, h2, []);
  });

  test("a fork: a validly signed branch that does not lead to the seen head is refused", async () => {
    const t = new TrustedChain(GENESIS);
    const h2 = t.verifyHeader(headerOf(CHAIN[2]!));
    const h5 = t.verifyHeader(headerOf(CHAIN[5]!));
    // A branch from block 2, signed by the genuine sequencer key: equivocation.
    const branch = buildChain(3, (h) => [tx(5000 + h).raw], { from: CHAIN[2]! }).slice(1);
    await assert.rejects(t.verifyConsistency(h2, h5, branch.map(headerOf)), rejectsWith("PROOF_FORK"));
  });

  test("a broken link, a gap, a missing end, a reordering or an unsigned header in between is refused", async () => {
    const t = new TrustedChain(GENESIS);
    const h1 = t.verifyHeader(headerOf(CHAIN[1]!));
    const h5 = t.verifyHeader(headerOf(CHAIN[5]!));
    const hs = headers(2, 5);
    // Block 3 rebuilt on a different parent, still signed by the sequencer: its prev hash breaks the link.
    const relinked = sealBlock(
      {
        chainId: CHAIN_ID,
        height: 3n,
        prevHash: new Uint8Array(32).fill(1),
        txs: CHAIN[3]!.block.txs,
        firstTxsSeq: CHAIN[3]!.header.firstTxsSeq,
        lastTxsSeq: CHAIN[3]!.header.lastTxsSeq,
        timestampMs: CHAIN[3]!.header.timestampMs,
        sequencerId: "seq-a",
        epoch: 1n,
      },
      SEQ_KEY,
    );
    await assert.rejects(
      new TrustedChain(GENESIS).verifyConsistency(h1, h5, [hs[0]!, headerOf(relinked), hs[2]!, hs[3]!]),
      rejectsWith("PROOF_BROKEN_LINK"),
    );
    await assert.rejects(t.verifyConsistency(h1, h5, [hs[0]!, hs[2]!, hs[3]!]), rejectsWith("PROOF_RANGE"));
    await assert.rejects(t.verifyConsistency(h1, h5, hs.slice(0, 3)), rejectsWith("PROOF_RANGE"));
    await assert.rejects(t.verifyConsistency(h1, h5, [hs[1]!, hs[0]!, hs[2]!, hs[3]!]), rejectsWith("PROOF_RANGE"));
    await assert.rejects(
      t.verifyConsistency(h1, h5, [hs[0]!, { ...hs[1]!, signature: flip(hs[1]!.signature, 0) }, hs[2]!, hs[3]!]),
      rejectsWith("PROOF_BAD_SIGNATURE"),
    );
    await assert.rejects(t.verifyConsistency(h5, h1, []), rejectsWith("PROOF_RANGE"));
  });
});

describe("TallyClient.proveTx / proveConsistency with a lying proof source", () => {
  function clientWith(source: Partial<ProofSource>): TallyClient {
    const proofs: ProofSource = {
      inclusionProof: source.inclusionProof ?? (() => Promise.reject(new Error("unused"))),
      headers: source.headers ?? async function* () {},
      close: () => undefined,
    };
    return new TallyClient("127.0.0.1:1", CHAIN_ID, SIGNERS.bankA, undefined, Date.now, { genesis: GENESIS, proofs });
  }

  test("an honest source: proveTx verifies, then proveConsistency links the heights seen", async () => {
    const byId = new Map<string, InclusionProof>();
    for (const b of CHAIN.slice(1))
      b.block.txs.forEach((_, i) => byId.set(Buffer.from(TXS.get(Number(b.header.height))![i]!.id).toString("hex"), proofOf(b, i)));
    const c = clientWith({
      inclusionProof: async (id) => byId.get(Buffer.from(id).toString("hex"))!,
      async *headers(from, to) {
        for (const b of CHAIN.slice(Number(from), Number(to) + 1)) yield headerOf(b);
      },
    });
    try {
      const a = await c.proveTx(TXS.get(2)![1]!.id);
      const b = await c.proveTx(TXS.get(5)![3]!.id);
      assert.equal(a.height, 2n);
      assert.equal(b.height, 5n);
      await c.proveConsistency(2n, 5n);
      // The headers between were verified on the way, so they are seen now; 6 is not.
      assert.equal(c.trustedChain?.seenAt(4n)?.height, 4n);
      await assert.rejects(c.proveConsistency(2n, 6n), (e: unknown) => e instanceof Error && /NOT_SEEN/.test(e.message));
    } finally {
      c.close();
    }
  });

  test("a source that serves a tampered proof is caught by proveTx", async () => {
    const p = proofOf(CHAIN[3]!, 0);
    const c = clientWith({ inclusionProof: async () => ({ ...p, signedTx: TXS.get(3)![1]!.raw }) });
    try {
      await assert.rejects(c.proveTx(TXS.get(3)![0]!.id), rejectsWith("PROOF_BAD_PATH"));
    } finally {
      c.close();
    }
  });

  test("a source that serves a forked chain between two seen heights is caught by proveConsistency", async () => {
    const branch = buildChain(3, (h) => [tx(6000 + h).raw], { from: CHAIN[1]! });
    const c = clientWith({
      inclusionProof: async (id) => {
        const hex = Buffer.from(id).toString("hex");
        return hex === Buffer.from(TXS.get(1)![0]!.id).toString("hex") ? proofOf(CHAIN[1]!, 0) : proofOf(CHAIN[4]!, 0);
      },
      async *headers() {
        for (const b of branch.slice(1)) yield headerOf(b);
      },
    });
    try {
      await c.proveTx(TXS.get(1)![0]!.id);
      await c.proveTx(TXS.get(4)![0]!.id);
      await assert.rejects(c.proveConsistency(1n, 4n), rejectsWith("PROOF_FORK"));
    } finally {
      c.close();
    }
  });

  test("without a genesis or a proof source, proofs are FAILED_PRECONDITION", async () => {
    const c = new TallyClient("127.0.0.1:1", CHAIN_ID, SIGNERS.bankA);
    try {
      await assert.rejects(c.proveTx(new Uint8Array(32)), (e: unknown) => e instanceof Error && /NO_TRUSTED_GENESIS/.test(e.message));
    } finally {
      c.close();
    }
  });
});

describe("following governance's sequencer set from validators' receipts", () => {
  const VALIDATORS = [21, 22, 23, 24].map((seed, i) => ({
    nodeId: `node-${i + 1}`,
    key: signingKeyFromSeed(new Uint8Array(32).fill(seed)),
  }));
  const G: Genesis = {
    ...GENESIS,
    validators: VALIDATORS.map((v) => ({ nodeId: v.nodeId, institutionId: "bank-a", publicKey: toHex(v.key.publicKey) })),
  };
  const SEQ_B = signingKeyFromSeed(new Uint8Array(32).fill(12));
  const A = { id: "seq-a", publicKey: toHex(SEQ_KEY.publicKey) };
  const B = { id: "seq-b", publicKey: toHex(SEQ_B.publicKey) };
  // Blocks 1..3 by seq-a (block 3 holds the vote that adds seq-b); block 4 by seq-b (the vote in it
  // removes seq-a); block 5 by seq-b.
  const first = buildChain(3, () => [], { from: genesisBlock(G) });
  const b4 = buildChain(1, () => [], { from: first.at(-1)!, key: SEQ_B, sequencerId: "seq-b" })[1]!;
  const b5 = buildChain(1, () => [], { from: b4, key: SEQ_B, sequencerId: "seq-b" })[1]!;
  const a5 = buildChain(1, () => [], { from: b4 })[1]!;

  function receiptOf(
    v: { nodeId: string; key: SigningKey },
    block: SealedBlock,
    next: readonly { id: string; publicKey: string }[],
    o: { signWith?: SigningKey; height?: bigint } = {},
  ): Uint8Array {
    return signReceipt(
      {
        chainId: CHAIN_ID,
        nodeId: v.nodeId,
        height: o.height ?? block.header.height,
        blockHash: block.hash,
        stateRoot: sha256(block.hash),
        results: [],
        nextSequencers: next,
      },
      o.signWith ?? v.key,
    );
  }

  test("a voted-in sequencer's block is refused until receipts of more than the quorum of validators show the new set", () => {
    const chain = new TrustedChain(G);
    assert.throws(() => chain.verifyHeader(headerOf(b4)), rejectsWith("PROOF_UNKNOWN_SEQUENCER"));
    const good = VALIDATORS.slice(0, 3).map((v) => receiptOf(v, first[3]!, [A, B]));
    const accepted = chain.acceptSequencerSet(3n, good);
    assert.equal(accepted.fromHeight, 4n);
    assert.deepEqual(accepted.sequencers, [A, B]);
    assert.deepEqual(accepted.signers, ["node-1", "node-2", "node-3"]);
    assert.equal(chain.verifyHeader(headerOf(b4)).height, 4n);
    // Heights before the change are still judged by genesis's set.
    for (const b of first.slice(1)) chain.verifyHeader(headerOf(b));
    assert.deepEqual(chain.sequencerSetAt(3n).sequencers, [A]);
  });

  test("too few, garbage or tampered receipts do not change the set: PROOF_NO_RECEIPT_QUORUM", () => {
    const chain = new TrustedChain(G);
    const two = VALIDATORS.slice(0, 2).map((v) => receiptOf(v, first[3]!, [A, B]));
    const garbage = [
      receiptOf(VALIDATORS[2]!, first[3]!, [A, B], { signWith: ROGUE_KEY }), // bad signature
      receiptOf({ nodeId: "node-9", key: ROGUE_KEY }, first[3]!, [A, B]), // a validator genesis does not name
      receiptOf(VALIDATORS[3]!, first[2]!, [A, B]), // another height
      new Uint8Array([1, 2, 3]), // not a receipt
    ];
    assert.throws(() => chain.acceptSequencerSet(3n, [...two, ...garbage]), rejectsWith("PROOF_NO_RECEIPT_QUORUM"));
    // Three honest validators signed "no change"; their bodies were rewritten to add seq-b.
    const tampered = VALIDATORS.slice(0, 3).map((v) => {
      const r = Receipt.decode(receiptOf(v, first[3]!, [A]));
      const body = ReceiptBody.decode(r.body);
      const forged = ReceiptBody.encode({
        ...body,
        nextSequencers: [A, B].map((s) => ({ id: s.id, publicKey: fromHex(s.publicKey) })),
      }).finish();
      return Receipt.encode({ body: forged, signature: r.signature }).finish();
    });
    assert.throws(() => chain.acceptSequencerSet(3n, tampered), rejectsWith("PROOF_NO_RECEIPT_QUORUM"));
    assert.throws(() => chain.verifyHeader(headerOf(b4)), rejectsWith("PROOF_UNKNOWN_SEQUENCER"));
  });

  test("a voted-out sequencer's blocks are refused once the client is shown the receipts that removed it", () => {
    const chain = new TrustedChain(G);
    chain.acceptSequencerSet(
      3n,
      VALIDATORS.slice(1).map((v) => receiptOf(v, first[3]!, [A, B])),
    );
    // Before it learns of the removal, the client still holds seq-a in the set.
    assert.equal(chain.verifyHeader(headerOf(a5)).height, 5n);
    const other = new TrustedChain(G);
    other.acceptSequencerSet(
      3n,
      VALIDATORS.slice(1).map((v) => receiptOf(v, first[3]!, [A, B])),
    );
    other.acceptSequencerSet(
      4n,
      VALIDATORS.map((v) => receiptOf(v, b4, [B])),
    );
    assert.throws(() => other.verifyHeader(headerOf(a5)), rejectsWith("PROOF_UNKNOWN_SEQUENCER"));
    assert.equal(other.verifyHeader(headerOf(b5)).height, 5n);
  });

  test("receipts for another block than one the client saw, or a second set for one height, are a fork", () => {
    const chain = new TrustedChain(G);
    chain.verifyHeader(headerOf(first[3]!));
    const forked = buildChain(1, () => [], { from: first[2]!, key: SEQ_KEY, sequencerId: "seq-a" })[1]!;
    // Same height, another block (it differs from the one seen only if its contents differ).
    const otherBlock = { ...forked, hash: sha256(new Uint8Array([7])) } as SealedBlock;
    assert.throws(
      () =>
        chain.acceptSequencerSet(
          3n,
          VALIDATORS.slice(0, 3).map((v) => receiptOf(v, otherBlock, [A, B])),
        ),
      rejectsWith("PROOF_FORK"),
    );
    chain.acceptSequencerSet(
      3n,
      VALIDATORS.slice(0, 3).map((v) => receiptOf(v, first[3]!, [A, B])),
    );
    assert.throws(
      () =>
        chain.acceptSequencerSet(
          3n,
          VALIDATORS.slice(0, 3).map((v) => receiptOf(v, first[3]!, [B])),
        ),
      rejectsWith("PROOF_FORK"),
    );
  });
});
