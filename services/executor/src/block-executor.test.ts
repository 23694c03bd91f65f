import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  builtinContracts,
  cashAccountKey,
  cashLegs,
  institutionKey,
  isRejection,
  MEMBERSHIP_CONTRACT,
  MEMBERSHIP_INDEX_KEY,
  parseInstitutionEntry,
  rejection,
  type Contract,
} from "@tally/contracts";
import {
  bytesEqual,
  ed25519Sign,
  eventsRoot,
  nextStateRoot,
  sha256,
  toHex,
  ZERO_HASH,
  type JsonValue,
  type SealedBlock,
} from "@tally/ledger";
import { SignedTx } from "@tally/proto/types";
import { executeBlock, genesisEffects, type BlockEffects, type ExecutorState } from "./block-executor.js";
import { MemoryState } from "./testing/memory-state.js";
import { stateReaderContract, STATE_READER_FIXTURE } from "./testing/state-reader-contract.js";
import {
  BANK_A,
  BANK_A_K2,
  BANK_B,
  ChainBuilder,
  CLEARING,
  GENESIS,
  issue,
  makeTx,
  REGULATOR,
  STRANGER_KEY,
  T0,
  transfer,
} from "./testing/test-chain.js";

/** One node's view while a test drives blocks through executeBlock. */
interface TestNode {
  readonly chain: ChainBuilder;
  state: MemoryState;
  exec: ExecutorState;
}

function startNode(): TestNode {
  const chain = new ChainBuilder();
  const g = genesisEffects(GENESIS, builtinContracts, chain.tip);
  const state = new MemoryState();
  state.apply(g);
  const membership = new Map<string, JsonValue>();
  for (const [k, v] of g.updates.get(MEMBERSHIP_CONTRACT) ?? []) if (v !== null) membership.set(k, v);
  return { chain, state, exec: { stateRoot: g.stateRoot, membership } };
}

/** Executes a block on the node's state without applying it. */
function dryRun(node: TestNode, block: SealedBlock, state: MemoryState = node.state, exec: ExecutorState = node.exec) {
  return executeBlock(block, exec, { genesis: GENESIS, contracts: builtinContracts, reader: state, seen: state.seen });
}

/** Executes a block and applies its effects, as the executor does after commit. */
async function apply(node: TestNode, block: SealedBlock): Promise<BlockEffects> {
  const r = await dryRun(node, block);
  node.state.apply(r.effects);
  node.exec = { stateRoot: r.effects.stateRoot, membership: r.membership };
  return r.effects;
}

/** Seals the next block with these txs and applies it. */
function applyNext(node: TestNode, txs: readonly Uint8Array[], timestampMs?: bigint): Promise<BlockEffects> {
  return apply(node, node.chain.next(txs, timestampMs === undefined ? {} : { timestampMs }));
}

/** Each tx's outcome: "OK" or its reason code. */
function outcomes(e: BlockEffects): string[] {
  return e.results.map((r) => (r.committed ? "OK" : r.reasonCode));
}

function balance(node: TestNode, id: string): string | undefined {
  const v = node.state.get("cash", `acct/${id}`) as { balance?: string } | undefined;
  return v?.balance;
}

/** A block whose txs were all rejected leaves no trace but its results. */
function assertNoEffects(e: BlockEffects): void {
  assert.equal(e.events.length, 0, "a rejected tx emits no events");
  assert.equal(e.updates.size, 0, "a rejected tx changes no state");
  assert.ok(e.results.every((r) => !r.committed));
}

/** A node whose bank-a holds 100 at height 1. */
async function fundedNode(): Promise<TestNode> {
  const node = startNode();
  assert.deepEqual(outcomes(await applyNext(node, [issue("bank-a", "100").raw])), ["OK"]);
  return node;
}

describe("genesis", () => {
  test("admits every genesis institution and commits to them in the root", () => {
    const chain = new ChainBuilder();
    const g = genesisEffects(GENESIS, builtinContracts, chain.tip);
    assert.equal(g.height, 0n);
    assert.deepEqual(
      g.events.map((e) => [e.event.type, e.event.assetId]),
      [...GENESIS.institutions.map((i) => ["InstitutionAdmitted", institutionKey(i.id)]), ["ChainConfigInitialised", "chain-config"]],
    );
    const m = g.updates.get(MEMBERSHIP_CONTRACT);
    assert.ok(m);
    assert.deepEqual(m.get(MEMBERSHIP_INDEX_KEY), ["bank-a", "bank-b", "clearing", "regulator"]);
    const bankA = parseInstitutionEntry(m.get(institutionKey("bank-a")) ?? undefined);
    assert.deepEqual(
      bankA.keys.map((k) => [k.keyId, k.active]),
      [
        ["k1", true],
        ["k2", true],
      ],
    );
    const root = eventsRoot(
      [],
      g.events.map((e) => ({ txIndex: e.txIndex, eventIndex: e.eventIndex, contract: e.contract, type: e.event.type, data: e.event.data })),
    );
    assert.ok(bytesEqual(g.stateRoot, nextStateRoot(ZERO_HASH, chain.tip.hash, root)));
  });
});

describe("committed transactions", () => {
  test("a cash issue and a transfer commit, in order, through the block's working state", async () => {
    const node = startNode();
    const txs = [issue("bank-a", "100"), transfer(BANK_A, "bank-b", "30"), transfer(BANK_A, "bank-b", "80")];
    const e = await applyNext(
      node,
      txs.map((t) => t.raw),
    );
    // The third sees the first two: 70 left, so 80 is short.
    assert.deepEqual(outcomes(e), ["OK", "OK", "INSUFFICIENT_FUNDS"]);
    assert.deepEqual(
      e.results.map((r) => [r.txIndex, toHex(r.txId), r.signer, r.contract, r.action]),
      [
        [0, toHex(txs[0]!.id), "clearing", "cash", "issue"],
        [1, toHex(txs[1]!.id), "bank-a", "cash", "transfer"],
        [2, toHex(txs[2]!.id), "bank-a", "cash", "transfer"],
      ],
    );
    assert.deepEqual(
      e.events.map((ev) => [ev.txIndex, ev.eventIndex, ev.contract, ev.event.type, ev.signer]),
      [
        [0, 0, "cash", "CashIssued", "clearing"],
        [1, 0, "cash", "CashTransferred", "bank-a"],
      ],
    );
    assert.deepEqual(e.events[1]?.event.data, { from: "bank-a", to: "bank-b", amount: "30", memo: null });
    assert.deepEqual(
      e.updates.get("cash"),
      new Map([
        ["acct/bank-a", { balance: "70" }],
        ["acct/bank-b", { balance: "30" }],
      ]),
    );
    assert.equal(balance(node, "bank-a"), "70");
    assert.equal(balance(node, "bank-b"), "30");
    assert.equal(e.height, 1n);
    assert.ok(bytesEqual(e.blockHash, node.chain.tip.hash));
    assert.equal(e.lastTxsSeq, 3n);
  });

  test("the state root is sha256(previous root || block hash || events root over outcomes and events)", async () => {
    const node = await fundedNode();
    const prev = node.exec.stateRoot;
    const e = await applyNext(node, [transfer(BANK_A, "bank-b", "5").raw, transfer(BANK_B, "bank-a", "999").raw]);
    const root = eventsRoot(
      e.results.map((r) => ({ txIndex: r.txIndex, committed: r.committed, reasonCode: r.reasonCode })),
      e.events.map((ev) => ({
        txIndex: ev.txIndex,
        eventIndex: ev.eventIndex,
        contract: ev.contract,
        type: ev.event.type,
        data: ev.event.data,
      })),
    );
    assert.ok(bytesEqual(e.stateRoot, nextStateRoot(prev, node.chain.tip.hash, root)));
  });
});

describe("rejections", () => {
  test("MALFORMED: a garbage leaf is kept with its leaf hash as id, and the block goes on", async () => {
    const node = startNode();
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x01, 0x02]);
    const ok = issue("bank-a", "10");
    const e = await applyNext(node, [garbage, ok.raw]);
    assert.deepEqual(outcomes(e), ["MALFORMED", "OK"]);
    assert.ok(bytesEqual(e.results[0]!.txId, sha256(garbage)));
    assert.equal(e.results[0]!.signer, "");
    assert.ok(e.events.every((ev) => ev.txIndex === 1));
    assert.equal(balance(node, "bank-a"), "10");
  });

  test("MALFORMED: a SignedTx whose args are not a JSON object", async () => {
    const node = startNode();
    const e = await applyNext(node, [makeTx({ signer: CLEARING, contract: "cash", action: "issue", args: [1, 2] }).raw]);
    assert.deepEqual(outcomes(e), ["MALFORMED"]);
    assertNoEffects(e);
  });

  test("DUPLICATE within one block: the second copy is rejected and applied no state", async () => {
    const node = startNode();
    const t = issue("bank-a", "10");
    const e = await applyNext(node, [t.raw, t.raw]);
    assert.deepEqual(outcomes(e), ["OK", "DUPLICATE"]);
    assert.ok(bytesEqual(e.results[1]!.txId, t.id));
    assert.equal(e.events.length, 1);
    assert.equal(balance(node, "bank-a"), "10");
  });

  test("DUPLICATE across blocks, found through SeenTxIds", async () => {
    const node = startNode();
    const t = issue("bank-a", "10");
    assert.deepEqual(outcomes(await applyNext(node, [t.raw])), ["OK"]);
    const again = await applyNext(node, [t.raw]);
    assert.deepEqual(outcomes(again), ["DUPLICATE"]);
    assertNoEffects(again);
    assert.equal(balance(node, "bank-a"), "10");
  });

  test("EXPIRED is judged by block time: the same tx commits in a block before its deadline and not after", async () => {
    const node = startNode();
    const t1 = T0 + 10_000;
    const deadline = BigInt(t1 + 500);
    const t = makeTx({ signer: CLEARING, contract: "cash", action: "issue", args: { to: "bank-a", amount: "1" }, validUntilMs: deadline });
    // Both deadlines are long past on the wall clock; only the block time decides.
    const before = await dryRun(node, node.chain.draft([t.raw], { timestampMs: BigInt(t1) }));
    const atDeadline = await dryRun(node, node.chain.draft([t.raw], { timestampMs: deadline }));
    const after = await dryRun(node, node.chain.draft([t.raw], { timestampMs: BigInt(t1 + 1000) }));
    assert.deepEqual(outcomes(before.effects), ["OK"]);
    assert.deepEqual(outcomes(atDeadline.effects), ["OK"]);
    assert.deepEqual(outcomes(after.effects), ["EXPIRED"]);
    assertNoEffects(after.effects);
  });

  test("WRONG_CHAIN", async () => {
    const node = startNode();
    const e = await applyNext(node, [
      makeTx({ signer: CLEARING, contract: "cash", action: "issue", args: { to: "bank-a", amount: "1" }, chainId: "other-chain" }).raw,
    ]);
    assert.deepEqual(outcomes(e), ["WRONG_CHAIN"]);
    assertNoEffects(e);
  });

  test("BAD_SIGNATURE: signed with a key that is not the named one", async () => {
    const node = startNode();
    const e = await applyNext(node, [
      makeTx({ signer: CLEARING, contract: "cash", action: "issue", args: { to: "bank-a", amount: "1" }, signWith: STRANGER_KEY }).raw,
      makeTx({ signer: CLEARING, contract: "cash", action: "issue", args: { to: "bank-a", amount: "1" }, signWith: BANK_A.key }).raw,
    ]);
    assert.deepEqual(outcomes(e), ["BAD_SIGNATURE", "BAD_SIGNATURE"]);
    assertNoEffects(e);
  });

  test("UNKNOWN_SIGNER: an institution or key id the chain does not know", async () => {
    const node = startNode();
    const e = await applyNext(node, [
      makeTx({
        signer: { id: "nobody", keyId: "k1", key: STRANGER_KEY },
        contract: "cash",
        action: "transfer",
        args: { to: "bank-a", amount: "1" },
      }).raw,
      makeTx({
        signer: { id: "bank-a", keyId: "k9", key: BANK_A.key },
        contract: "cash",
        action: "transfer",
        args: { to: "bank-b", amount: "1" },
      }).raw,
    ]);
    assert.deepEqual(outcomes(e), ["UNKNOWN_SIGNER", "UNKNOWN_SIGNER"]);
    assertNoEffects(e);
  });

  test("KEY_REVOKED by an earlier tx in the same block; the key worked in the tx before, and stays revoked", async () => {
    const node = await fundedNode();
    const e = await applyNext(node, [
      transfer(BANK_A, "bank-b", "10").raw,
      makeTx({ signer: BANK_A_K2, contract: "membership", action: "revoke-key", args: { keyId: "k1" } }).raw,
      transfer(BANK_A, "bank-b", "20").raw,
      transfer(BANK_A_K2, "bank-b", "5").raw,
    ]);
    assert.deepEqual(outcomes(e), ["OK", "OK", "KEY_REVOKED", "OK"]);
    assert.deepEqual(
      e.events.map((ev) => [ev.txIndex, ev.event.type]),
      [
        [0, "CashTransferred"],
        [1, "KeyRevoked"],
        [3, "CashTransferred"],
      ],
    );
    assert.equal(balance(node, "bank-a"), "85");
    const entry = parseInstitutionEntry(node.state.get(MEMBERSHIP_CONTRACT, institutionKey("bank-a")));
    assert.deepEqual(
      entry.keys.map((k) => [k.keyId, k.active]),
      [
        ["k1", false],
        ["k2", true],
      ],
    );
    // The executor carries membership to the next block.
    const later = await applyNext(node, [transfer(BANK_A, "bank-b", "1").raw]);
    assert.deepEqual(outcomes(later), ["KEY_REVOKED"]);
  });

  test("FORBIDDEN_ROLE: a regulator writes nothing, and only clearing issues", async () => {
    const node = await fundedNode();
    const e = await applyNext(node, [
      transfer(REGULATOR, "bank-a", "1").raw,
      makeTx({ signer: REGULATOR, contract: "cash", action: "issue", args: { to: "regulator", amount: "1" } }).raw,
      makeTx({ signer: BANK_A, contract: "cash", action: "issue", args: { to: "bank-a", amount: "1" } }).raw,
    ]);
    assert.deepEqual(outcomes(e), ["FORBIDDEN_ROLE", "FORBIDDEN_ROLE", "FORBIDDEN_ROLE"]);
    assertNoEffects(e);
    assert.equal(balance(node, "bank-a"), "100");
  });

  test("UNKNOWN_CONTRACT, UNKNOWN_ACTION and BAD_ARGS", async () => {
    const node = await fundedNode();
    const e = await applyNext(node, [
      makeTx({ signer: BANK_A, contract: "loans", action: "transfer", args: { to: "bank-b", amount: "1" } }).raw,
      makeTx({ signer: BANK_A, contract: "cash", action: "burn", args: { amount: "1" } }).raw,
      makeTx({ signer: BANK_A, contract: "cash", action: "tostring", args: {} }).raw,
      makeTx({ signer: BANK_A, contract: "cash", action: "transfer", args: { to: "bank-b", amount: "-1" } }).raw,
      makeTx({ signer: BANK_A, contract: "cash", action: "transfer", args: { to: "bank-b" } }).raw,
      makeTx({ signer: BANK_A, contract: "membership", action: "revoke-key", args: { keyId: "K1!" } }).raw,
    ]);
    assert.deepEqual(outcomes(e), ["UNKNOWN_CONTRACT", "UNKNOWN_ACTION", "UNKNOWN_ACTION", "BAD_ARGS", "BAD_ARGS", "BAD_ARGS"]);
    assertNoEffects(e);
    assert.ok(
      e.results.every((r) => r.message.length > 0),
      "every rejection says why",
    );
  });

  test("a contract rejection (INSUFFICIENT_FUNDS) keeps the tx with its code and changes nothing", async () => {
    const node = await fundedNode();
    const e = await applyNext(node, [transfer(BANK_B, "bank-a", "1").raw, transfer(BANK_A, "bank-b", "101").raw]);
    assert.deepEqual(outcomes(e), ["INSUFFICIENT_FUNDS", "INSUFFICIENT_FUNDS"]);
    assert.match(e.results[1]!.message, /100/);
    assertNoEffects(e);
    assert.equal(balance(node, "bank-a"), "100");
    assert.equal(balance(node, "bank-b"), undefined);
  });

  test("a copy of a body with a forged signature, sequenced first, does not consume the genuine tx's id", async () => {
    const node = startNode();
    const genuine = issue("bank-a", "10");
    const signed = SignedTx.decode(genuine.raw);
    const forged = SignedTx.encode({
      body: signed.body,
      signatures: signed.signatures.map((x) => ({ ...x, signature: ed25519Sign(STRANGER_KEY, signed.body) })),
    }).finish();
    // Forged copy first in the same block, then in an earlier block: the genuine one commits both times.
    assert.deepEqual(outcomes(await applyNext(node, [forged, genuine.raw])), ["BAD_SIGNATURE", "OK"]);
    const other = issue("bank-b", "7");
    const forgedOther = SignedTx.encode({
      body: SignedTx.decode(other.raw).body,
      signatures: SignedTx.decode(other.raw).signatures.map((x) => ({
        ...x,
        signature: ed25519Sign(STRANGER_KEY, SignedTx.decode(other.raw).body),
      })),
    }).finish();
    assert.deepEqual(outcomes(await applyNext(node, [forgedOther])), ["BAD_SIGNATURE"]);
    assert.deepEqual(outcomes(await applyNext(node, [other.raw])), ["OK"]);
    assert.equal(balance(node, "bank-b"), "7");
    // And the genuine one is still protected against its own replay.
    assert.deepEqual(outcomes(await applyNext(node, [genuine.raw])), ["DUPLICATE"]);
  });

  test("a rejected tx id is not included again later: the replay is DUPLICATE", async () => {
    const node = startNode();
    const t = transfer(BANK_B, "bank-a", "1");
    assert.deepEqual(outcomes(await applyNext(node, [t.raw])), ["INSUFFICIENT_FUNDS"]);
    assert.deepEqual(outcomes(await applyNext(node, [issue("bank-b", "5").raw, t.raw])), ["OK", "DUPLICATE"]);
    assert.equal(balance(node, "bank-a"), undefined);
  });
});

describe("determinism", () => {
  async function mixedBlockOn(node: TestNode): Promise<SealedBlock> {
    return node.chain.draft([
      transfer(BANK_A, "bank-b", "30").raw,
      issue("bank-b", "7").raw,
      transfer(BANK_B, "clearing", "500").raw,
      new Uint8Array([1, 2, 3]),
      makeTx({ signer: BANK_A_K2, contract: "membership", action: "revoke-key", args: { keyId: "k1" } }).raw,
      transfer(BANK_A, "bank-b", "1").raw,
    ]);
  }

  test("the same block on the same prior state gives byte-equal state roots and effects", async () => {
    const node = await fundedNode();
    const block = await mixedBlockOn(node);
    const a = await dryRun(node, block, node.state.clone());
    const b = await dryRun(node, block, node.state.clone());
    assert.deepEqual(outcomes(a.effects), ["OK", "OK", "INSUFFICIENT_FUNDS", "MALFORMED", "OK", "KEY_REVOKED"]);
    assert.equal(toHex(a.effects.stateRoot), toHex(b.effects.stateRoot));
    assert.deepEqual(a.effects, b.effects);
    assert.deepEqual(a.membership, b.membership);
  });

  test("changing one tx's outcome changes the state root", async () => {
    const node = await fundedNode();
    const block = await mixedBlockOn(node);
    const base = await dryRun(node, block, node.state.clone());
    // Same prior root, same block; bank-b now holds enough for tx 2.
    const richer = node.state.clone();
    richer.set("cash", "acct/bank-b", { balance: "1000" });
    const changed = await dryRun(node, block, richer);
    assert.deepEqual(outcomes(changed.effects), ["OK", "OK", "OK", "MALFORMED", "OK", "KEY_REVOKED"]);
    assert.notEqual(toHex(changed.effects.stateRoot), toHex(base.effects.stateRoot));
  });

  test("two rejections that differ only in reason code give different roots", async () => {
    const node = await fundedNode();
    const t = transfer(BANK_B, "bank-a", "1");
    const block = node.chain.draft([t.raw]);
    const short = await dryRun(node, block, node.state.clone());
    const seen = node.state.clone();
    seen.apply({ ...short.effects, updates: new Map() });
    const dup = await dryRun(node, block, seen);
    assert.deepEqual(outcomes(short.effects), ["INSUFFICIENT_FUNDS"]);
    assert.deepEqual(outcomes(dup.effects), ["DUPLICATE"]);
    assert.notEqual(toHex(short.effects.stateRoot), toHex(dup.effects.stateRoot));
  });

  test("a different prior root gives a different state root for the same block", async () => {
    const node = await fundedNode();
    const block = await mixedBlockOn(node);
    const a = await dryRun(node, block, node.state.clone());
    const b = await dryRun(node, block, node.state.clone(), { ...node.exec, stateRoot: new Uint8Array(32).fill(7) });
    assert.deepEqual(a.effects.results, b.effects.results);
    assert.notEqual(toHex(a.effects.stateRoot), toHex(b.effects.stateRoot));
  });
});

// A contract that settles on the cash ledger: "pay" records a note under its own key and moves
// cash from the signer to `to` in the same transaction, or does neither.
const payNotes: Contract = {
  name: "pay-notes",
  uses: ["cash"],
  actions: {
    pay: {
      roles: ["bank", "clearing"],
      parse: (a) =>
        typeof a.to === "string" && typeof a.amount === "string" && typeof a.note === "string"
          ? a
          : rejection("BAD_ARGS", "to, amount, note"),
    },
  },
  keys: (cmd, ctx) => {
    const c = cmd as { to: string; note: string };
    return [`note/${c.note}`, cashAccountKey(ctx.signer), cashAccountKey(c.to)];
  },
  decide: (cmd, state, ctx) => {
    const c = cmd as { to: string; amount: string; note: string };
    if (state.has(`note/${c.note}`)) return rejection("NOTE_EXISTS", c.note);
    const legs = cashLegs(state, ctx, [{ from: ctx.signer, to: c.to, amount: BigInt(c.amount) }]);
    if (isRejection(legs)) return legs;
    return [
      { type: "NotePaid", assetId: `note/${c.note}`, parties: [ctx.signer, c.to], data: { note: c.note, amount: c.amount } },
      ...legs,
    ];
  },
  evolve: (_state, event) => new Map([[`note/${event.data.note as string}`, { amount: event.data.amount ?? null }]]),
  queries: {},
};

describe("a contract that settles on the cash ledger", () => {
  const contracts = new Map([...builtinContracts, [payNotes.name, payNotes]]);
  const pay = (from: typeof BANK_A, to: string, amount: string, note: string) =>
    makeTx({ signer: from, contract: "pay-notes", action: "pay", args: { to, amount, note } });

  test("its own entry and the cash legs commit together, each under its own contract", async () => {
    const node = await fundedNode();
    const r = await executeBlock(
      node.chain.next([pay(BANK_A, "bank-b", "40", "n1").raw, pay(BANK_A, "bank-b", "61", "n2").raw]),
      node.exec,
      {
        genesis: GENESIS,
        contracts,
        reader: node.state,
        seen: node.state.seen,
      },
    );
    // The second sees the first's cash leg: 60 left, 61 is short, and its note is not written either.
    assert.deepEqual(outcomes(r.effects), ["OK", "INSUFFICIENT_FUNDS"]);
    assert.deepEqual(r.effects.updates.get("pay-notes"), new Map([["note/n1", { amount: "40" }]]));
    assert.deepEqual(
      r.effects.updates.get("cash"),
      new Map([
        ["acct/bank-a", { balance: "60" }],
        ["acct/bank-b", { balance: "40" }],
      ]),
    );
    // The cash leg is cash's event: an account's history shows payments made through other contracts.
    assert.deepEqual(
      r.effects.events.map((e) => [e.contract, e.event.type, e.event.assetId]),
      [
        ["pay-notes", "NotePaid", "note/n1"],
        ["cash", "CashTransferred", "acct/bank-a"],
      ],
    );
  });

  test("a cash balance changed earlier in the block by cash itself is what the next settlement sees", async () => {
    const node = await fundedNode();
    const r = await executeBlock(
      node.chain.next([transfer(BANK_A, "bank-b", "90").raw, pay(BANK_A, "bank-b", "11", "n3").raw]),
      node.exec,
      {
        genesis: GENESIS,
        contracts,
        reader: node.state,
        seen: node.state.seen,
      },
    );
    assert.deepEqual(outcomes(r.effects), ["OK", "INSUFFICIENT_FUNDS"]);
    assert.equal(r.effects.updates.get("pay-notes"), undefined);
  });
});

describe("MemoryState passes the StateReader contract", () => {
  const state = new MemoryState();
  for (const [contract, kv] of STATE_READER_FIXTURE) for (const [k, v] of kv) state.set(contract, k, v);
  stateReaderContract(() => state);
});
