// The sequencer set in force at a height (docs/architecture.md): the chain config after the block
// before, genesis's before there is one. Blocks are verified against it the way the executor does.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import {
  InvariantError,
  ZERO_HASH,
  sealBlock,
  sequencerKeysFrom,
  signingKeyFromSeed,
  signTx,
  tipOf,
  toHex,
  verifyBlock,
  type ChainTip,
  type Genesis,
  type JsonValue,
  type SealedBlock,
  type SigningKey,
} from "@tally/ledger";
import { TEST_GENESIS } from "../testing/test-genesis.js";
import { CHAIN_CONFIG_KEY, sequencersInForce } from "./chain-config.js";
import { TEST_VOTERS, governanceChain } from "./governance-testing.js";
import { SequencersByHeight, touchesMembership, type RecordedEvent } from "./sequencers-by-height.js";

const EIGHT = TEST_VOTERS.slice(0, 8);
const KEY_1 = signingKeyFromSeed(new Uint8Array(32).fill(1));
const KEY_2 = signingKeyFromSeed(new Uint8Array(32).fill(2));
// Upper-case hex in genesis: the set in force spells keys as state does, lower case.
const GENESIS: Genesis = { ...TEST_GENESIS, sequencers: [{ id: "seq-1", publicKey: toHex(KEY_1.publicKey).toUpperCase() }] };

/** A chain of empty blocks, each verified against the set in force after the one before. */
function chainFrom(genesis: Genesis) {
  const c = governanceChain(genesis);
  let tip: ChainTip = { height: 0n, hash: ZERO_HASH, timestampMs: BigInt(genesis.genesisTimeMs), lastTxsSeq: 0n };
  return {
    c,
    /** Seals the next block as id with key and verifies it against the set in force now; appends it when good. */
    next(id: string, key: SigningKey): SealedBlock {
      const b = sealBlock(
        {
          chainId: genesis.chainId,
          height: tip.height + 1n,
          prevHash: tip.hash,
          txs: [],
          firstTxsSeq: 0n,
          lastTxsSeq: 0n,
          timestampMs: tip.timestampMs + 1n,
          sequencerId: id,
          epoch: 1n,
        },
        key,
      );
      const config = c.state.get(CHAIN_CONFIG_KEY);
      verifyBlock(b, tip, genesis, sequencerKeysFrom(sequencersInForce(config, genesis)));
      tip = tipOf(b);
      return b;
    },
  };
}

function refusedAs(code: string): (e: unknown) => boolean {
  return (e) => e instanceof InvariantError && e.code === code;
}

describe("sequencersInForce", () => {
  test("without a chain config (before the genesis block is applied): genesis's sequencers, keys in lower case", () => {
    assert.deepEqual(sequencersInForce(undefined, GENESIS), [{ id: "seq-1", publicKey: toHex(KEY_1.publicKey) }]);
  });

  test("with one: the chain config's sequencers, not genesis's", () => {
    const c = governanceChain(GENESIS);
    c.pass("p-1", { kind: "add-sequencer", sequencerId: "seq-2", publicKey: toHex(KEY_2.publicKey) }, EIGHT);
    c.pass("p-2", { kind: "remove-sequencer", sequencerId: "seq-1" }, EIGHT);
    assert.deepEqual(sequencersInForce(c.state.get(CHAIN_CONFIG_KEY), GENESIS), [{ id: "seq-2", publicKey: toHex(KEY_2.publicKey) }]);
  });

  test("a malformed chain config is an InvariantError, never a silent fallback to genesis", () => {
    const bad: JsonValue[] = [null, 7, [], { record: "chain-config" }, { record: "chain-config", sequencers: "seq-1" }];
    for (const v of bad) assert.throws(() => sequencersInForce(v, GENESIS), InvariantError, JSON.stringify(v));
  });
});

describe("blocks judged against the set in force at their height", () => {
  test("genesis's sequencer signs while the set is genesis's; a stranger is UNKNOWN_SEQUENCER", () => {
    const ch = chainFrom(GENESIS);
    ch.next("seq-1", KEY_1);
    assert.throws(() => ch.next("seq-2", KEY_2), refusedAs("UNKNOWN_SEQUENCER"));
    // A known id with another key is still a bad signature.
    assert.throws(() => ch.next("seq-1", KEY_2), refusedAs("BAD_SEQUENCER_SIGNATURE"));
  });

  test("added mid-chain: refused before the add-sequencer proposal applies, accepted from the next block on", () => {
    const ch = chainFrom(GENESIS);
    ch.next("seq-1", KEY_1);
    assert.throws(() => ch.next("seq-2", KEY_2), refusedAs("UNKNOWN_SEQUENCER"));
    ch.c.pass("p-1", { kind: "add-sequencer", sequencerId: "seq-2", publicKey: toHex(KEY_2.publicKey) }, EIGHT);
    ch.next("seq-2", KEY_2);
    ch.next("seq-1", KEY_1);
  });

  test("removed mid-chain: a genesis sequencer voted out is refused, though its signature is good", () => {
    const ch = chainFrom(GENESIS);
    ch.c.pass("p-1", { kind: "add-sequencer", sequencerId: "seq-2", publicKey: toHex(KEY_2.publicKey) }, EIGHT);
    ch.next("seq-1", KEY_1);
    ch.c.pass("p-2", { kind: "remove-sequencer", sequencerId: "seq-1" }, EIGHT);
    assert.throws(() => ch.next("seq-1", KEY_1), /sequencer seq-1 is not in the sequencer set/);
    assert.throws(() => ch.next("seq-1", KEY_1), refusedAs("UNKNOWN_SEQUENCER"));
    ch.next("seq-2", KEY_2);
  });
});

describe("SequencersByHeight: the set in force followed from recorded chain-config events", () => {
  test("folding the recorded events gives the set membership state holds, from the height after their block", () => {
    const c = governanceChain(GENESIS);
    const genesisEvents = c.events.length;
    c.pass("p-1", { kind: "add-sequencer", sequencerId: "seq-2", publicKey: toHex(KEY_2.publicKey) }, EIGHT);
    c.pass("p-2", { kind: "remove-sequencer", sequencerId: "seq-1" }, EIGHT);
    // Genesis's events at height 0; the proposals, votes and changes in block 5.
    const recorded: RecordedEvent[] = c.events.map((e, i) => ({
      height: i < genesisEvents ? 0n : 5n,
      contract: e.contract ?? "membership",
      type: e.type,
      assetId: e.assetId,
      data: e.data,
    }));
    const sets = new SequencersByHeight(GENESIS, recorded);
    const ids = (h: bigint): string[] => [...sets.keysAt(h).keys()];
    assert.deepEqual(ids(0n), ["seq-1"]);
    assert.deepEqual(ids(5n), ["seq-1"]);
    assert.deepEqual(ids(6n), ["seq-2"]);
    assert.deepEqual(sets.keysAt(6n), sequencerKeysFrom(sequencersInForce(c.state.get(CHAIN_CONFIG_KEY), GENESIS)));
    assert.throws(() => sets.keysAt(5n), RangeError);
    // Without any events: genesis's set at every height.
    assert.deepEqual([...new SequencersByHeight(GENESIS, []).keysAt(100n).keys()], ["seq-1"]);
  });

  test("a malformed chain-config event is an InvariantError, as in membership", () => {
    const bad: RecordedEvent[] = [
      { height: 1n, contract: "membership", type: "SequencerRemoved", assetId: CHAIN_CONFIG_KEY, data: { sequencerId: "seq-1" } },
    ];
    // Removing before the chain config exists: membership's evolve refuses it.
    assert.throws(() => new SequencersByHeight(GENESIS, bad).keysAt(2n), InvariantError);
    const notObject: RecordedEvent[] = [
      { height: 1n, contract: "membership", type: "SequencerAdded", assetId: CHAIN_CONFIG_KEY, data: "x" },
    ];
    assert.throws(() => new SequencersByHeight(GENESIS, notObject).keysAt(2n), InvariantError);
  });
});

describe("touchesMembership: whether a block may change the chain config, without executing it", () => {
  const signer = { institutionId: "bank-a", keyId: "k1", key: KEY_1 };
  const tx = (contract: string, args = "{}") =>
    signTx(
      {
        chainId: GENESIS.chainId,
        contract,
        action: contract === "membership" ? "vote" : "transfer",
        args: new TextEncoder().encode(args),
        signer: { institutionId: "bank-a", keyId: "k1" },
        nonce: 1n,
        validUntilMs: 2_000_000_000_000n,
      },
      [signer],
    ).raw;

  test("a membership transaction does; others, even naming membership in their args, and garbage do not", () => {
    assert.equal(touchesMembership([tx("cash"), tx("membership")]), true);
    assert.equal(touchesMembership([tx("cash", '{"memo":"membership"}'), tx("notary")]), false);
    assert.equal(touchesMembership([new TextEncoder().encode("membership"), new Uint8Array([0xff, 0x01])]), false);
    assert.equal(touchesMembership([]), false);
  });
});
