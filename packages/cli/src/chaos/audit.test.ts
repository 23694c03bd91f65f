import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeBlock,
  genesisBlock,
  parseGenesis,
  sealBlock,
  signingKeyFromSeed,
  toHex,
  type Genesis,
  type SealedBlock,
} from "@tally/ledger";
import { membershipGenesisEvents, type RecordedEvent } from "@tally/contracts";
import { auditChain, auditCommits, percentile } from "./audit.js";

const seq1 = signingKeyFromSeed(new Uint8Array(32).fill(10));
const seq2 = signingKeyFromSeed(new Uint8Array(32).fill(11));
const seq3 = signingKeyFromSeed(new Uint8Array(32).fill(12));
const bank = signingKeyFromSeed(new Uint8Array(32).fill(1));
const GENESIS: Genesis = parseGenesis({
  chainId: "chaos-audit-test",
  genesisTimeMs: 1_700_000_000_000,
  institutions: [{ id: "bank-a", name: "Bank A", roles: ["bank"], keys: [{ keyId: "k1", publicKey: toHex(bank.publicKey) }] }],
  sequencers: [
    { id: "seq-1", publicKey: toHex(seq1.publicKey) },
    { id: "seq-2", publicKey: toHex(seq2.publicKey) },
  ],
  validators: [{ nodeId: "node-a", institutionId: "bank-a", publicKey: toHex(signingKeyFromSeed(new Uint8Array(32).fill(20)).publicKey) }],
  finality: { quorumNumerator: 2, quorumDenominator: 3 },
});

/** A block after prev holding TXS first..last (as opaque tx bytes), cut by `by` in `epoch`. */
function next(prev: SealedBlock, first: bigint, last: bigint, by: "seq-1" | "seq-2" | "seq-3", epoch: bigint): SealedBlock {
  const txs = Array.from({ length: Number(last - first + 1n) }, (_, i) => new Uint8Array([Number(first) + i]));
  return decodeBlock(
    sealBlock(
      {
        chainId: GENESIS.chainId,
        height: prev.header.height + 1n,
        prevHash: prev.hash,
        txs,
        firstTxsSeq: first,
        lastTxsSeq: last,
        timestampMs: prev.header.timestampMs + 1n,
        sequencerId: by,
        epoch,
      },
      by === "seq-1" ? seq1 : by === "seq-2" ? seq2 : seq3,
    ).bytes,
  );
}

describe("chaos audit", () => {
  test("a chain with a failover between two sequencers is clean", () => {
    const g = genesisBlock(GENESIS);
    const b1 = next(g, 1n, 3n, "seq-1", 2n);
    const b2 = next(b1, 4n, 4n, "seq-1", 2n);
    const b3 = next(b2, 5n, 7n, "seq-2", 5n);
    const a = auditChain([g, b1, b2, b3], GENESIS);
    assert.deepEqual(
      { forks: a.forks, twice: a.txsIncludedTwice, gaps: a.txsGaps, epochs: a.epochs },
      { forks: 0, twice: 0, gaps: 0, epochs: [2n, 5n] },
    );
  });

  test("a TXS range included again, a gap, and a new sequencer keeping the old epoch are all reported", () => {
    const g = genesisBlock(GENESIS);
    const b1 = next(g, 1n, 3n, "seq-1", 2n);
    const b2 = next(b1, 3n, 4n, "seq-2", 2n); // TXS 3 again, in seq-1's epoch
    const b3 = next(b2, 7n, 7n, "seq-2", 3n); // 5 and 6 never included
    const a = auditChain([g, b1, b2, b3], GENESIS);
    assert.equal(a.txsIncludedTwice, 1);
    assert.equal(a.txsGaps, 2);
    assert.ok(a.forks >= 2, a.forkDetails.join("; "));
    assert.ok(a.forkDetails.some((d) => d.includes("chain does not verify")));
    assert.ok(a.forkDetails.some((d) => d.includes("cut in epoch 2")));
  });

  test("each block's signer is judged by the set in force at its height, from the chain-config events recorded", () => {
    // Genesis's chain config at 0; at height 2, governance adds seq-3 and removes seq-2 (in force from 3).
    const events: RecordedEvent[] = [
      ...membershipGenesisEvents(GENESIS).map((e) => ({
        height: 0n,
        contract: "membership",
        type: e.type,
        assetId: e.assetId,
        data: e.data,
      })),
      {
        height: 2n,
        contract: "membership",
        type: "SequencerAdded",
        assetId: "chain-config",
        data: { sequencerId: "seq-3", publicKey: toHex(seq3.publicKey), proposal: "p1" },
      },
      {
        height: 2n,
        contract: "membership",
        type: "SequencerRemoved",
        assetId: "chain-config",
        data: { sequencerId: "seq-2", proposal: "p2" },
      },
      // Not about the chain config: ignored.
      { height: 2n, contract: "cash", type: "CashIssued", assetId: "chain-config", data: {} },
    ];
    const g = genesisBlock(GENESIS);
    const b1 = next(g, 1n, 1n, "seq-1", 2n);
    const b2 = next(b1, 2n, 2n, "seq-2", 3n);
    const b3 = next(b2, 3n, 3n, "seq-3", 4n);
    assert.equal(auditChain([g, b1, b2, b3], GENESIS, events).forks, 0);
    // Without the events, seq-3 is unknown (genesis's set).
    assert.match(auditChain([g, b1, b2, b3], GENESIS).forkDetails.join("; "), /sequencer seq-3 is not in the sequencer set/);
    // seq-2, voted out at 2, may not sign 3.
    const bad = next(b2, 3n, 3n, "seq-2", 4n);
    assert.match(
      auditChain([g, b1, b2, bad], GENESIS, events).forkDetails.join("; "),
      /block 3: sequencer seq-2 is not in the sequencer set/,
    );
  });

  test("commits: lost, rejected and duplicated are told apart", () => {
    const r = auditCommits(
      ["a", "b", "c", "d"],
      [
        { txId: "a", committed: true },
        { txId: "b", committed: true },
        { txId: "b", committed: true },
        { txId: "c", committed: false },
        { txId: "x", committed: true },
      ],
    );
    assert.deepEqual(
      { acked: r.acked, committed: r.committed, lost: r.lost, rejected: r.rejected, duplicated: r.duplicated },
      { acked: 4, committed: 1, lost: 1, rejected: 1, duplicated: 1 },
    );
    assert.deepEqual(r.examples.lost, ["d"]);
  });

  test("a replay rejected after its commit is still committed exactly once", () => {
    const r = auditCommits(
      ["a"],
      [
        { txId: "a", committed: true },
        { txId: "a", committed: false },
      ],
    );
    assert.equal(r.committed, 1);
    assert.equal(r.duplicated, 0);
  });

  test("nearest-rank percentiles", () => {
    const xs = Array.from({ length: 20 }, (_, i) => i + 1);
    assert.equal(percentile(xs, 50), 10);
    assert.equal(percentile(xs, 99), 20);
    assert.equal(percentile([], 50), 0);
  });
});
