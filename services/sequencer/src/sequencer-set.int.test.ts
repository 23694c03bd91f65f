// The sequencer follows the sequencer set in force from validators' receipts, against a real
// nats-server: it pauses after a block with a membership transaction until more than the quorum
// of validators' receipts for that block say who is in force; left out, it retires (cuts nothing
// more); garbage on RECEIPTS does not count; a tracker started later learns the set from each
// validator's latest receipt. The receipts are signed here with the validators' keys, as an
// executor would sign them (no executor runs).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { type Bus, busNames, type BusNames, connectBus, deleteNamespace, ensureStreams } from "@tally/bus";
import {
  decodeBlock,
  parseGenesis,
  sha256,
  signingKeyFromSeed,
  signReceipt,
  signTx,
  toHex,
  utf8,
  type Genesis,
  type ReceiptSequencer,
  type SealedBlock,
  type SigningKey,
} from "@tally/ledger";
import { testNatsUrl, uniqueNamespace, waitFor } from "@tally/testkit";
import { Sequencer } from "./sequencer.js";
import { SequencerSetTracker, SetUnknownError } from "./set-tracker.js";

const CHAIN = "seq-set-int-test";
const T0 = 1_700_000_000_000;
const bankKey = signingKeyFromSeed(new Uint8Array(32).fill(1));
const seqAKey = signingKeyFromSeed(new Uint8Array(32).fill(2));
const seqBKey = signingKeyFromSeed(new Uint8Array(32).fill(3));
const stranger = signingKeyFromSeed(new Uint8Array(32).fill(99));
const VALIDATORS = ["node-1", "node-2", "node-3"].map((nodeId, i) => ({
  nodeId,
  key: signingKeyFromSeed(new Uint8Array(32).fill(40 + i)),
}));
const A: ReceiptSequencer = { id: "seq-a", publicKey: toHex(seqAKey.publicKey) };
const B: ReceiptSequencer = { id: "seq-b", publicKey: toHex(seqBKey.publicKey) };

const genesis: Genesis = parseGenesis({
  chainId: CHAIN,
  genesisTimeMs: T0,
  institutions: [{ id: "bank-a", name: "Bank A", roles: ["bank"], keys: [{ keyId: "k1", publicKey: toHex(bankKey.publicKey) }] }],
  sequencers: [A, B],
  validators: VALIDATORS.map((v) => ({ nodeId: v.nodeId, institutionId: "bank-a", publicKey: toHex(v.key.publicKey) })),
  // 3 validators at 2/3: all three must agree.
  finality: { quorumNumerator: 2, quorumDenominator: 3 },
});
const log = pino({ level: "silent" });

let bus: Bus;
const namespaces: BusNames[] = [];

before(async () => {
  bus = await connectBus({ url: testNatsUrl(), name: "sequencer-set-int-test" });
});

after(async () => {
  for (const n of namespaces) await deleteNamespace(bus.jsm, n);
  await bus.nc.drain();
});

async function newChain(): Promise<BusNames> {
  const names = busNames(uniqueNamespace("sqs"));
  namespaces.push(names);
  await ensureStreams(bus.jsm, names);
  return names;
}

let nonce = 0;
async function submit(names: BusNames, contract: string): Promise<void> {
  const tx = signTx(
    {
      chainId: CHAIN,
      contract,
      action: contract === "membership" ? "vote" : "transfer",
      args: utf8(JSON.stringify({ n: nonce })),
      signer: { institutionId: "bank-a", keyId: "k1" },
      nonce: BigInt(++nonce),
      validUntilMs: BigInt(T0 + 3_600_000),
    },
    [{ institutionId: "bank-a", keyId: "k1", key: bankKey }],
  );
  await bus.js.publish(names.txSubject("bank-a"), tx.raw, { msgID: toHex(tx.id) });
}

async function blocks(names: BusNames): Promise<SealedBlock[]> {
  const last = (await bus.jsm.streams.info(names.blocksStream)).state.last_seq;
  const out: SealedBlock[] = [];
  for (let s = 1; s <= last; s++) out.push(decodeBlock((await bus.jsm.streams.getMessage(names.blocksStream, { seq: s }))!.data));
  return out;
}

/** A validator's receipt for a block, naming the set in force at the next height. */
async function publishReceipt(
  names: BusNames,
  v: { nodeId: string; key: SigningKey },
  block: SealedBlock,
  next: readonly ReceiptSequencer[],
  o: { signWith?: SigningKey; chainId?: string; height?: bigint } = {},
): Promise<void> {
  const r = signReceipt(
    {
      chainId: o.chainId ?? CHAIN,
      nodeId: v.nodeId,
      height: o.height ?? block.header.height,
      blockHash: block.hash,
      stateRoot: sha256(block.hash),
      results: block.block.txs.map((raw, i) => ({ txIndex: i, txId: sha256(raw), committed: true, reasonCode: "", message: "" })),
      nextSequencers: next,
    },
    o.signWith ?? v.key,
  );
  await bus.js.publish(names.receiptSubject(v.nodeId), r);
}

function tracker(names: BusNames, id: "seq-a" | "seq-b", waitMs = 10_000): SequencerSetTracker {
  return new SequencerSetTracker(
    { bus, names, genesis, log },
    { sequencerId: id, publicKey: (id === "seq-a" ? seqAKey : seqBKey).publicKey, waitMs, scanBlocksMax: 1000 },
  );
}

function sequencer(names: BusNames, id: "seq-a" | "seq-b", sets: SequencerSetTracker): { seq: Sequencer; done: Promise<void> } {
  const seq = new Sequencer(
    { sequencerId: id, blockTxsMax: 100, blockBytesMax: 900 * 1024, cutWaitMs: 5, fetchTxsMax: 64, publishTimeoutMs: 2000 },
    { bus, names, genesis, key: id === "seq-a" ? seqAKey : seqBKey, nowMs: () => Date.now(), log, sequencerSet: sets },
  );
  const done = seq.run(1n);
  done.catch(() => undefined);
  return { seq, done };
}

describe("the sequencer follows the set in force from validators' receipts", { timeout: 60_000 }, () => {
  test("after a membership block it cuts nothing until a quorum of receipts; still in the set, it goes on", async () => {
    const names = await newChain();
    const sets = tracker(names, "seq-b");
    const { seq, done } = sequencer(names, "seq-b", sets);
    try {
      await submit(names, "cash");
      await waitFor("block 1", async () => ((await blocks(names)).length === 2 ? true : undefined));
      await submit(names, "membership");
      await waitFor("block 2, with the membership tx", async () => ((await blocks(names)).length === 3 ? true : undefined));
      // No receipts yet: a transfer waits in the buffer, not in a block.
      await submit(names, "cash");
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await blocks(names)).length, 3, "a block was cut before the set in force at height 3 was known");
      assert.equal(seq.status().master, true);
      const b2 = (await blocks(names))[2]!;
      // Two of three validators, and garbage: still not a quorum.
      await publishReceipt(names, VALIDATORS[0]!, b2, [A, B]);
      await publishReceipt(names, VALIDATORS[1]!, b2, [A, B]);
      await publishReceipt(names, VALIDATORS[2]!, b2, [A, B], { signWith: stranger });
      await publishReceipt(names, { nodeId: "node-9", key: stranger }, b2, [A, B]);
      await publishReceipt(names, VALIDATORS[2]!, b2, [A, B], { chainId: "other-chain" });
      await waitFor("the forged receipt checked", () => sets.refused.get("bad-signature") === 1);
      assert.equal((await blocks(names)).length, 3);
      assert.equal(sets.refused.get("unknown-validator"), 1);
      assert.equal(sets.refused.get("wrong-chain"), 1);
      // The third validator's real receipt: the set is {seq-a, seq-b}; seq-b cuts on.
      await publishReceipt(names, VALIDATORS[2]!, b2, [A, B]);
      await waitFor("block 3", async () => ((await blocks(names)).length === 4 ? true : undefined));
      assert.equal((await blocks(names))[3]!.header.sequencerId, "seq-b");
      assert.equal(seq.status().retired, false);
      assert.equal(seq.status().sequencerSetHeight, 2n);
    } finally {
      await seq.stop();
      await done;
      await sets.stop();
    }
  });

  test("voted out in the block it cut, it retires: no further block, whatever arrives", async () => {
    const names = await newChain();
    const sets = tracker(names, "seq-b");
    const { seq, done } = sequencer(names, "seq-b", sets);
    try {
      await submit(names, "membership");
      await waitFor("block 1", async () => ((await blocks(names)).length === 2 ? true : undefined));
      const b1 = (await blocks(names))[1]!;
      for (const v of VALIDATORS) await publishReceipt(names, v, b1, [A]);
      await waitFor("seq-b retired", () => seq.status().retired);
      for (let i = 0; i < 5; i++) await submit(names, "cash");
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await blocks(names)).length, 2, "seq-b cut a block after it was voted out");
      const s = seq.status();
      assert.deepEqual({ master: s.master, retired: s.retired, set: s.sequencerSet }, { master: false, retired: true, set: ["seq-a"] });
      // seq-a, in the set, takes over from the tip and includes everything.
      const setsA = tracker(names, "seq-a");
      const a = sequencer(names, "seq-a", setsA);
      try {
        await waitFor("seq-a's block", async () => ((await blocks(names)).at(-1)!.header.lastTxsSeq === 6n ? true : undefined));
        const after = (await blocks(names)).slice(2);
        assert.ok(after.every((b) => b.header.sequencerId === "seq-a"));
      } finally {
        await a.seq.stop();
        await a.done;
        await setsA.stop();
      }
    } finally {
      await seq.stop();
      await done;
      await sets.stop();
    }
  });

  test("a tracker started later learns the set from each validator's latest receipt; unknown, the wait is bounded", async () => {
    const names = await newChain();
    const first = tracker(names, "seq-b");
    const { seq, done } = sequencer(names, "seq-b", first);
    let b1: SealedBlock;
    try {
      await submit(names, "membership");
      await waitFor("block 1", async () => ((await blocks(names)).length === 2 ? true : undefined));
      b1 = (await blocks(names))[1]!;
    } finally {
      await seq.stop();
      await done;
      await first.stop();
    }
    // A master starting now could not know the set at 2: it waits, bounded.
    const early = tracker(names, "seq-a", 300);
    await early.start();
    await early.catchUp(1n);
    await assert.rejects(early.inForceAt(2n, new AbortController().signal), SetUnknownError);
    await early.stop();
    // The validators report (seq-b removed); a tracker started after learns it at start, without new receipts.
    for (const v of VALIDATORS) await publishReceipt(names, v, b1, [A]);
    const later = tracker(names, "seq-b");
    await later.start();
    try {
      assert.equal(later.retired, true);
      assert.deepEqual(later.knownAt(2n), [A]);
    } finally {
      await later.stop();
    }
  });
});
