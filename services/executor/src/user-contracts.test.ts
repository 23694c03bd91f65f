// User contracts through executeBlock: deployed by governance, callable from the next transaction,
// hostile ones rejected while the block goes on, an upgrade that leaves old blocks replaying as
// they did, and the same state roots on three nodes, one of them replaying from genesis.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { builtinContracts, codeHash, MEMBERSHIP_CONTRACT } from "@tally/contracts";
import { toHex, type JsonValue, type SealedBlock } from "@tally/ledger";
import { UserContractRegistry } from "@tally/user-contracts";
import { executeBlock, genesisEffects, type BlockEffects, type ExecutorState } from "./block-executor.js";
import { MemoryState } from "./testing/memory-state.js";
import { BANK_A, BANK_B, ChainBuilder, GENESIS, T0, makeTx, type Party } from "./testing/test-chain.js";

const LC_V1 = readFileSync(join(import.meta.dirname, "../../../examples/contracts/letter-of-credit.js"), "utf8");
// Version 2 settles instead of paying: a visible change of behaviour.
const LC_V2 = LC_V1.replaceAll('"CreditPaid"', '"CreditSettled"');
const SPIN = `module.exports = {
  actions: { go: { roles: ["bank"] } },
  keys() { return ["k"]; },
  decide() { for (;;) {} },
  evolve() { return {}; },
};`;
const EXPIRES = T0 + 30 * 24 * 3600_000;

function tx(signer: Party, contract: string, action: string, args: JsonValue): Uint8Array {
  return makeTx({ signer, contract, action, args }).raw;
}

function propose(id: string, name: string, version: number, code: string): Uint8Array {
  const change = { kind: "deploy-contract", name, version, sha256: codeHash(code), code };
  return tx(BANK_A, "membership", "propose", { id, expiresAtMs: EXPIRES, change });
}

function vote(id: string): Uint8Array {
  return tx(BANK_B, "membership", "vote", { proposal: id, vote: "yes" });
}

const ISSUE = {
  applicant: "clearing",
  beneficiary: "bank-b",
  amount: "500",
  currency: "USD",
  documents: "invoice,bill-of-lading",
  expiresAtMs: EXPIRES,
};

/** The chain every node runs: built once, so every node sees the very same blocks. */
function buildChain(): SealedBlock[] {
  const chain = new ChainBuilder();
  chain.next([propose("p-loc", "loc", 1, LC_V1), propose("p-spin", "spin", 1, SPIN)]);
  // The deciding vote and a call in the same block: callable from the next transaction on.
  chain.next([vote("p-loc"), vote("p-spin"), tx(BANK_A, "loc", "issue", { id: "lc-1", ...ISSUE })]);
  chain.next([
    tx(BANK_A, "spin", "go", {}),
    tx(BANK_B, "loc", "present", { id: "lc-1", document: "invoice", hash: "a".repeat(64) }),
    tx(BANK_A, "spin", "go", {}),
    tx(BANK_B, "loc", "present", { id: "lc-1", document: "bill-of-lading", hash: "b".repeat(64) }),
  ]);
  chain.next([propose("p-loc-2", "loc", 2, LC_V2), vote("p-loc-2")]);
  chain.next([tx(BANK_A, "loc", "pay", { id: "lc-1" }), tx(BANK_A, "loc.v1", "issue", { id: "lc-2", ...ISSUE })]);
  return chain.blocks.slice(1);
}

interface Node {
  state: MemoryState;
  exec: ExecutorState;
  registry: UserContractRegistry;
  readonly effects: BlockEffects[];
}

async function startNode(): Promise<Node> {
  const chain = new ChainBuilder();
  const g = genesisEffects(GENESIS, builtinContracts, chain.tip);
  const state = new MemoryState();
  state.apply(g);
  const membership = new Map<string, JsonValue>();
  for (const [k, v] of g.updates.get(MEMBERSHIP_CONTRACT) ?? []) if (v !== null) membership.set(k, v);
  return { state, exec: { stateRoot: g.stateRoot, membership }, registry: await UserContractRegistry.create(), effects: [] };
}

async function run(node: Node, blocks: readonly SealedBlock[]): Promise<void> {
  for (const b of blocks) {
    const r = await executeBlock(b, node.exec, {
      genesis: GENESIS,
      contracts: builtinContracts,
      reader: node.state,
      seen: node.state.seen,
      userContracts: node.registry,
    });
    node.state.apply(r.effects);
    node.exec = { stateRoot: r.effects.stateRoot, membership: r.membership };
    node.effects.push(r.effects);
  }
}

function outcomes(e: BlockEffects): string[] {
  return e.results.map((r) => (r.committed ? "OK" : r.reasonCode));
}

function roots(n: Node): string[] {
  return n.effects.map((e) => toHex(e.stateRoot));
}

describe("user contracts in the executor", () => {
  const blocks = buildChain();
  const nodes: Node[] = [];
  before(async () => {
    for (let i = 0; i < 3; i++) nodes.push(await startNode());
    // Node 0 and node 1 run the chain; node 2 first runs other user-contract work in its sandbox
    // (a different history), then replays the chain from genesis.
    await run(nodes[0]!, blocks);
    await run(nodes[1]!, blocks);
    const warmup = await startNode();
    warmup.registry = nodes[2]!.registry;
    await run(warmup, blocks.slice(0, 3));
    await run(nodes[2]!, blocks);
  });
  after(() => {
    for (const n of nodes) n.registry.host.dispose();
  });

  test("deployed by vote, callable from the next transaction in the same block", () => {
    const e = nodes[0]!.effects;
    assert.deepEqual(outcomes(e[0]!), ["OK", "OK"]);
    assert.deepEqual(outcomes(e[1]!), ["OK", "OK", "OK"]);
    assert.deepEqual(
      e[1]!.events.filter((x) => x.contract === "loc").map((x) => x.event.type),
      ["CreditIssued"],
    );
  });

  test("a contract that loops forever is OUT_OF_GAS each time, and the block's other transactions commit", () => {
    assert.deepEqual(outcomes(nodes[0]!.effects[2]!), ["OUT_OF_GAS", "OK", "OUT_OF_GAS", "OK"]);
  });

  test("after the upgrade `loc` runs v2 while `loc.v1` still runs v1, on the same state", () => {
    const e = nodes[0]!.effects;
    assert.deepEqual(outcomes(e[3]!), ["OK", "OK"]);
    assert.deepEqual(outcomes(e[4]!), ["OK", "OK"]);
    assert.deepEqual(
      e[4]!.events.map((x) => [x.contract, x.event.type]),
      [
        ["loc", "CreditSettled"],
        ["loc", "CreditIssued"],
      ],
    );
    const lc = nodes[0]!.state.get("loc", "lc/lc-1") as { status?: string };
    assert.equal(lc.status, "paid");
  });

  test("three nodes, one replaying from genesis after other sandbox work, reach the same state root at every height", () => {
    assert.equal(roots(nodes[0]!).length, blocks.length);
    assert.deepEqual(roots(nodes[1]!), roots(nodes[0]!));
    assert.deepEqual(roots(nodes[2]!), roots(nodes[0]!));
    for (let i = 0; i < blocks.length; i++) {
      assert.deepEqual(outcomes(nodes[2]!.effects[i]!), outcomes(nodes[0]!.effects[i]!));
    }
  });

  test("blocks of the v1 era replay identically once v2 is deployed", async () => {
    // A node that has applied the whole chain (v2 deployed) re-executes block 3 against the
    // state before it: the prior state carries the membership of that height, so v1 runs.
    const replay = await startNode();
    try {
      await run(replay, blocks.slice(0, 2));
      const before3 = { exec: replay.exec, state: replay.state.clone() };
      await run(replay, blocks.slice(2));
      const again = await executeBlock(blocks[2]!, before3.exec, {
        genesis: GENESIS,
        contracts: builtinContracts,
        reader: before3.state,
        seen: before3.state.seen,
        userContracts: replay.registry,
      });
      assert.equal(toHex(again.effects.stateRoot), roots(nodes[0]!)[2]);
      assert.deepEqual(outcomes(again.effects), outcomes(nodes[0]!.effects[2]!));
    } finally {
      replay.registry.host.dispose();
    }
  });
});
