import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Receipt, ReceiptBody } from "@tally/proto/types";
import { toHex } from "./bytes.js";
import { signingKeyFromSeed, type SigningKey } from "./ed25519.js";
import { sha256 } from "./hash.js";
import {
  isQuorum,
  readReceiptClaim,
  sequencerSetFromReceipts,
  SequencerSetTally,
  signReceipt,
  type ReceiptSequencer,
  type ReceiptTrust,
} from "./receipt.js";

const CHAIN = "receipt-test";
const nodes = ["n-1", "n-2", "n-3", "n-4"].map((id, i) => ({ id, key: signingKeyFromSeed(new Uint8Array(32).fill(30 + i)) }));
const stranger = signingKeyFromSeed(new Uint8Array(32).fill(99));
const TRUST: ReceiptTrust = {
  chainId: CHAIN,
  validators: new Map(nodes.map((n) => [n.id, n.key.publicKey])),
  quorum: { quorumNumerator: 2, quorumDenominator: 3 },
};
const seq = (id: string, seed: number): ReceiptSequencer => ({
  id,
  publicKey: toHex(signingKeyFromSeed(new Uint8Array(32).fill(seed)).publicKey),
});
const S12 = [seq("seq-1", 10), seq("seq-2", 11)];
const S13 = [seq("seq-1", 10), seq("seq-3", 12)];
const hash = (h: bigint, fork = ""): Uint8Array => sha256(new TextEncoder().encode(`block ${h}${fork}`));

function receipt(
  node: { id: string; key: SigningKey },
  height: bigint,
  next: readonly ReceiptSequencer[],
  o: { chainId?: string; signWith?: SigningKey; blockHash?: Uint8Array; txs?: number } = {},
): Uint8Array {
  const results = Array.from({ length: o.txs ?? 2 }, (_, i) => ({
    txIndex: i,
    txId: sha256(new Uint8Array([i])),
    committed: i % 2 === 0,
    reasonCode: i % 2 === 0 ? "" : "INSUFFICIENT_FUNDS",
    message: "",
  }));
  return signReceipt(
    {
      chainId: o.chainId ?? CHAIN,
      nodeId: node.id,
      height,
      blockHash: o.blockHash ?? hash(height),
      stateRoot: sha256(hash(height)),
      results,
      nextSequencers: next,
    },
    o.signWith ?? node.key,
  );
}

describe("receipts carry the sequencer set in force at the next height", () => {
  test("a signed receipt reads back: claim, next sequencers, results skipped but signed", () => {
    const bytes = receipt(nodes[0]!, 7n, S13, { txs: 50 });
    const r = readReceiptClaim(bytes, CHAIN);
    assert.ok(r.ok);
    assert.equal(r.claim.nodeId, "n-1");
    assert.equal(r.claim.height, 7n);
    assert.deepEqual(r.claim.nextSequencers, S13);
    // The full decoder agrees, results included.
    const body = ReceiptBody.decode(Receipt.decode(bytes).body);
    assert.equal(body.results.length, 50);
    assert.deepEqual(
      body.nextSequencers.map((s) => ({ id: s.id, publicKey: toHex(s.publicKey) })),
      S13,
    );
  });

  test("isQuorum is strictly more than the fraction", () => {
    const q = { quorumNumerator: 2, quorumDenominator: 3 };
    assert.deepEqual(
      [isQuorum(2, 3, q), isQuorum(3, 3, q), isQuorum(2, 4, q), isQuorum(3, 4, q), isQuorum(0, 0, q)],
      [false, true, false, true, false],
    );
  });

  test("more than 2/3 of the validators agreeing on a height's block and set confirm it", () => {
    const r = sequencerSetFromReceipts(
      nodes.slice(0, 3).map((n) => receipt(n, 9n, S13)),
      TRUST,
      9n,
    );
    assert.ok(r.ok, r.ok ? "" : r.message);
    assert.deepEqual(r.confirmation.sequencers, S13);
    assert.deepEqual(r.confirmation.signers, ["n-1", "n-2", "n-3"]);
    assert.equal(toHex(r.confirmation.blockHash), toHex(hash(9n)));
  });

  test("garbage does not count: bad signature, unknown validator, wrong height, wrong chain, no set, not a receipt", () => {
    const good = nodes.slice(0, 2).map((n) => receipt(n, 9n, S13));
    const garbage = [
      receipt(nodes[2]!, 9n, S13, { signWith: stranger }), // bad signature
      receipt({ id: "n-9", key: stranger }, 9n, S13), // unknown validator
      receipt(nodes[3]!, 8n, S13), // wrong height
      receipt(nodes[3]!, 9n, S13, { chainId: "other-chain" }), // another chain's
      receipt(nodes[3]!, 9n, []), // an older executor's: no set
      new Uint8Array([0xff, 0xff, 0x01]), // not a receipt
      Receipt.encode({ body: new Uint8Array([0x0a, 0xff]), signature: new Uint8Array(64) }).finish(), // truncated body
    ];
    const r = sequencerSetFromReceipts([...good, ...garbage], TRUST, 9n);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(Object.fromEntries(r.refused), {
      "bad-signature": 1,
      "unknown-validator": 1,
      "wrong-height": 1,
      "wrong-chain": 1,
      "no-sequencer-set": 1,
      malformed: 2,
    });
    assert.match(r.message, /not more than 2\/3 of 4 validators/);
  });

  test("a tampered receipt (set changed after signing) fails its signature and does not count", () => {
    const honest = nodes.slice(0, 1).map((n) => receipt(n, 9n, S12));
    // n-2..n-4 signed S12 too; someone rewrote their bodies to claim S13 (enough to count, were they genuine).
    const tampered = nodes.slice(1).map((n) => {
      const r = Receipt.decode(receipt(n, 9n, S12));
      const body = ReceiptBody.decode(r.body);
      const forged = ReceiptBody.encode({
        ...body,
        nextSequencers: S13.map((s) => ({ id: s.id, publicKey: Uint8Array.from(Buffer.from(s.publicKey, "hex")) })),
      }).finish();
      return Receipt.encode({ body: forged, signature: r.signature }).finish();
    });
    const r = sequencerSetFromReceipts([...honest, ...tampered, ...honest], TRUST, 9n);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.refused.get("bad-signature"), 3);
  });

  test("validators disagreeing (a fork or a divergent node) confirm nothing unless a quorum agrees", () => {
    const split = [
      receipt(nodes[0]!, 9n, S13),
      receipt(nodes[1]!, 9n, S13),
      receipt(nodes[2]!, 9n, S12),
      receipt(nodes[3]!, 9n, S13, { blockHash: hash(9n, "fork") }),
    ];
    assert.equal(sequencerSetFromReceipts(split, TRUST, 9n).ok, false);
    const three = [...split, receipt(nodes[2]!, 9n, S13)];
    // n-3's two receipts: the later one agrees with n-1 and n-2.
    const r = sequencerSetFromReceipts(three, TRUST, 9n);
    assert.ok(r.ok);
    assert.deepEqual(r.confirmation.signers, ["n-1", "n-2", "n-3"]);
  });

  test("the tally confirms the highest agreed height, checks signatures only of groups that count, and stays bounded", () => {
    const tally = new SequencerSetTally(TRUST, 4);
    for (let h = 1n; h <= 10n; h++) for (const n of nodes.slice(0, h === 10n ? 2 : 3)) tally.add(receipt(n, h, h < 5n ? S12 : S13));
    // Height 10 has 2 of 4: not a quorum; height 9 is the highest confirmed.
    const c = tally.confirm();
    assert.equal(c?.height, 9n);
    assert.deepEqual(c?.sequencers, S13);
    // Only 4 heights are held: 1..6 were forgotten.
    assert.equal(tally.confirm({ max: 6n }), undefined);
    assert.equal(tally.confirm({ min: 7n, max: 7n })?.height, 7n);
    tally.forgetThrough(9n);
    assert.equal(tally.add(receipt(nodes[3]!, 9n, S13)), "old");
    assert.equal(tally.confirm(), undefined);
    assert.equal(tally.add(receipt(nodes[2]!, 10n, S13)), "ok");
    assert.equal(tally.confirm()?.height, 10n);
  });

  test("a forged receipt seen first does not crowd out the validator's real one", () => {
    const tally = new SequencerSetTally(TRUST);
    tally.add(receipt(nodes[0]!, 5n, S12, { signWith: stranger }));
    tally.add(receipt(nodes[1]!, 5n, S13, { signWith: stranger }));
    for (const n of nodes.slice(0, 3)) tally.add(receipt(n, 5n, S13));
    const c = tally.confirm();
    assert.deepEqual(c?.signers, ["n-1", "n-2", "n-3"]);
    assert.deepEqual(c?.sequencers, S13);
    assert.equal(tally.refused.get("bad-signature"), 1);
  });
});
