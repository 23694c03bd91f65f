import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { InvariantError, canonicalJson } from "@tally/ledger";
import type { ContractEvent } from "../contract.js";
import { foldEvents } from "../run.js";
import { builtinContracts } from "../registry.js";
import { expectAccepted, expectEvents, expectRejection, given } from "../testing/given-when-then.js";
import { TEST_GENESIS, fixtureKey } from "../testing/test-genesis.js";
import { membershipGenesisEvents } from "./genesis-events.js";
import { KEYS_PER_INSTITUTION_MAX } from "./membership.js";

// Every test institution id, in the order the index keeps them.
const SORTED_IDS = TEST_GENESIS.institutions.map((i) => i.id).sort();

const genesis = membershipGenesisEvents(TEST_GENESIS);
const NEW_KEY = fixtureKey(0xab);

function revoked(institution: string, keyId: string): ContractEvent {
  return { type: "KeyRevoked", assetId: `inst/${institution}`, parties: [institution], data: { institution, keyId } };
}

function added(institution: string, keyId: string, publicKey: string): ContractEvent {
  return { type: "KeyAdded", assetId: `inst/${institution}`, parties: [institution], data: { institution, keyId, publicKey } };
}

describe("membership genesis", () => {
  test("admits each genesis institution with one event, in genesis order, then records the chain config", () => {
    assert.equal(genesis.length, TEST_GENESIS.institutions.length + 1);
    assert.deepEqual(
      genesis.map((e) => e.assetId),
      [...TEST_GENESIS.institutions.map((i) => `inst/${i.id}`), "chain-config"],
    );
    assert.deepEqual(genesis[1], {
      type: "InstitutionAdmitted",
      assetId: "inst/bank-a",
      parties: ["bank-a"],
      data: {
        id: "bank-a",
        name: "Bank A",
        roles: ["bank"],
        keys: [
          { keyId: "k1", publicKey: fixtureKey(0x21) },
          { keyId: "k2", publicKey: fixtureKey(0x22) },
        ],
      },
    });
  });

  test("folds into a sorted index and one entry per institution, every key active", () => {
    const { state } = given("membership", genesis);
    assert.deepEqual(state.get("index"), SORTED_IDS);
    assert.deepEqual(state.get("inst/clear-a"), {
      id: "clear-a",
      name: "Clearing A",
      roles: ["clearing", "bank"],
      keys: [{ keyId: "k1", publicKey: fixtureKey(0x11), active: true }],
    });
    // The entries, the index and the chain config.
    assert.equal(state.size, TEST_GENESIS.institutions.length + 2);
  });

  test("writes public keys in lowercase whatever case genesis used", () => {
    const upper = {
      ...TEST_GENESIS,
      institutions: [{ id: "x", name: "X", roles: ["bank"], keys: [{ keyId: "k1", publicKey: "AB".repeat(32) }] }],
    };
    const [event] = membershipGenesisEvents(upper);
    assert.deepEqual(event?.data.keys, [{ keyId: "k1", publicKey: "ab".repeat(32) }]);
    const upperSequencer = { ...TEST_GENESIS, sequencers: [{ id: "seq-x", publicKey: "CD".repeat(32) }] };
    const config = membershipGenesisEvents(upperSequencer).at(-1);
    assert.deepEqual(config?.data.sequencers, [{ id: "seq-x", publicKey: "cd".repeat(32) }]);
  });

  test("admitting an institution twice is an invariant violation", () => {
    const contract = builtinContracts.get("membership");
    assert.ok(contract);
    assert.throws(() => foldEvents(contract, new Map(), [genesis[0]!, genesis[0]!]), InvariantError);
  });
});

describe("membership revoke-key", () => {
  test("an institution revokes one of its own keys", () => {
    const then = expectAccepted(given("membership", genesis).when({ signer: "bank-a", action: "revoke-key", args: { keyId: "k2" } }));
    assert.deepEqual(then.events, [revoked("bank-a", "k2")]);
    assert.deepEqual([...then.updates.keys()], ["inst/bank-a"]);
    assert.deepEqual(then.state.get("inst/bank-a"), {
      id: "bank-a",
      name: "Bank A",
      roles: ["bank"],
      keys: [
        { keyId: "k1", publicKey: fixtureKey(0x21), active: true },
        { keyId: "k2", publicKey: fixtureKey(0x22), active: false },
      ],
    });
  });

  test("KEY_NOT_FOUND for a key the institution does not hold, even when another institution holds that id", () => {
    const g = given("membership", genesis);
    assert.equal(expectRejection(g.when({ signer: "bank-a", action: "revoke-key", args: { keyId: "k9" } })).code, "KEY_NOT_FOUND");
    const r = expectRejection(g.when({ signer: "bank-b", action: "revoke-key", args: { keyId: "k2" } }));
    assert.equal(r.code, "KEY_NOT_FOUND");
    assert.match(r.message, /bank-b/);
  });

  test("KEY_ALREADY_REVOKED for a key revoked before", () => {
    const r = given("membership", [...genesis, revoked("bank-a", "k2")]).when({
      signer: "bank-a",
      action: "revoke-key",
      args: { keyId: "k2" },
    });
    assert.equal(expectRejection(r).code, "KEY_ALREADY_REVOKED");
  });

  test("LAST_ACTIVE_KEY when no active key would remain", () => {
    assert.equal(
      expectRejection(given("membership", genesis).when({ signer: "bank-b", action: "revoke-key", args: { keyId: "k1" } })).code,
      "LAST_ACTIVE_KEY",
    );
    const r = given("membership", [...genesis, revoked("bank-a", "k2")]).when({
      signer: "bank-a",
      action: "revoke-key",
      args: { keyId: "k1" },
    });
    assert.equal(expectRejection(r).code, "LAST_ACTIVE_KEY");
  });

  test("a regulator manages its own keys too: rotation is add then revoke", () => {
    const afterAdd = expectAccepted(
      given("membership", genesis).when({ signer: "reg", action: "add-key", args: { keyId: "k2", publicKey: NEW_KEY } }),
    );
    const events = expectEvents(
      given("membership", [...genesis, ...afterAdd.events]).when({ signer: "reg", action: "revoke-key", args: { keyId: "k1" } }),
    );
    assert.deepEqual(events, [revoked("reg", "k1")]);
  });

  test("FORBIDDEN_ROLE for a signer that is not a member or holds no role", () => {
    const g = given("membership", genesis);
    assert.equal(expectRejection(g.when({ signer: "stranger", action: "revoke-key", args: { keyId: "k1" } })).code, "FORBIDDEN_ROLE");
    const members = new Map([["idle", { roles: [] }]]);
    assert.equal(
      expectRejection(g.when({ signer: "idle", action: "revoke-key", args: { keyId: "k1" }, ctx: { members } })).code,
      "FORBIDDEN_ROLE",
    );
  });

  for (const args of [{}, { keyId: "K1" }, { keyId: 1 }, { keyId: "k1", institution: "bank-b" }]) {
    test(`BAD_ARGS for ${JSON.stringify(args)}`, () => {
      assert.equal(expectRejection(given("membership", genesis).when({ signer: "bank-a", action: "revoke-key", args })).code, "BAD_ARGS");
    });
  }
});

describe("membership add-key", () => {
  test("an institution adds a key for itself, active at once", () => {
    const then = expectAccepted(
      given("membership", genesis).when({ signer: "bank-b", action: "add-key", args: { keyId: "k2", publicKey: NEW_KEY } }),
    );
    assert.deepEqual(then.events, [added("bank-b", "k2", NEW_KEY)]);
    assert.deepEqual(then.state.get("inst/bank-b"), {
      id: "bank-b",
      name: "Bank B",
      roles: ["bank"],
      keys: [
        { keyId: "k1", publicKey: fixtureKey(0x31), active: true },
        { keyId: "k2", publicKey: NEW_KEY, active: true },
      ],
    });
  });

  test("KEY_EXISTS when the key id is taken, revoked or not", () => {
    const g = given("membership", [...genesis, revoked("bank-a", "k2")]);
    assert.equal(
      expectRejection(g.when({ signer: "bank-a", action: "add-key", args: { keyId: "k1", publicKey: NEW_KEY } })).code,
      "KEY_EXISTS",
    );
    assert.equal(
      expectRejection(g.when({ signer: "bank-a", action: "add-key", args: { keyId: "k2", publicKey: NEW_KEY } })).code,
      "KEY_EXISTS",
    );
  });

  test("KEY_EXISTS when the public key is already registered, so a revoked key cannot come back", () => {
    const r = expectRejection(
      given("membership", [...genesis, revoked("bank-a", "k2")]).when({
        signer: "bank-a",
        action: "add-key",
        args: { keyId: "k3", publicKey: fixtureKey(0x22) },
      }),
    );
    assert.equal(r.code, "KEY_EXISTS");
    assert.match(r.message, /bank-a\/k2/);
  });

  test("TOO_MANY_KEYS at the bound", () => {
    const extra = Array.from({ length: KEYS_PER_INSTITUTION_MAX - 1 }, (_, i) =>
      added("bank-b", `x${i}`, (i + 1).toString(16).padStart(64, "0")),
    );
    const g = given("membership", [...genesis, ...extra]);
    assert.equal(
      expectRejection(g.when({ signer: "bank-b", action: "add-key", args: { keyId: "one-more", publicKey: NEW_KEY } })).code,
      "TOO_MANY_KEYS",
    );
    const below = given("membership", [...genesis, ...extra.slice(1)]);
    assert.equal(
      expectEvents(below.when({ signer: "bank-b", action: "add-key", args: { keyId: "one-more", publicKey: NEW_KEY } })).length,
      1,
    );
  });

  for (const args of [
    { keyId: "k2" },
    { publicKey: NEW_KEY },
    { keyId: "k2", publicKey: NEW_KEY.toUpperCase() },
    { keyId: "k2", publicKey: NEW_KEY.slice(1) },
    { keyId: "k2", publicKey: "zz".repeat(32) },
    { keyId: "k2", publicKey: NEW_KEY, active: false },
  ]) {
    test(`BAD_ARGS for ${JSON.stringify(args)}`, () => {
      assert.equal(expectRejection(given("membership", genesis).when({ signer: "bank-b", action: "add-key", args })).code, "BAD_ARGS");
    });
  }
});

describe("membership evolve", () => {
  const contract = builtinContracts.get("membership");
  assert.ok(contract);

  test("a key event for an unknown institution or key is an invariant violation", () => {
    assert.throws(() => foldEvents(contract, new Map(), [revoked("nobody", "k1")]), InvariantError);
    assert.throws(() => foldEvents(contract, new Map(), [added("nobody", "k1", NEW_KEY)]), InvariantError);
    assert.throws(() => foldEvents(contract, given("membership", genesis).state, [revoked("bank-a", "k9")]), InvariantError);
  });

  test("a member without a membership entry is an invariant violation, not a rejection", () => {
    assert.throws(() => given("membership").when({ signer: "bank-a", action: "revoke-key", args: { keyId: "k1" } }), InvariantError);
  });

  test("malformed governance events are invariant violations", () => {
    const state = given("membership", genesis).state;
    const ev = (type: string, assetId: string, data: ContractEvent["data"]): ContractEvent => ({ type, assetId, parties: [], data });
    const bad: ContractEvent[] = [
      ev("VoteCast", "proposal/p-9", { proposal: "p-9", voter: "bank-a", vote: "yes" }),
      ev("ProposalApplied", "proposal/p-9", { proposal: "p-9", closedAtMs: 1 }),
      ev("ChainConfigInitialised", "chain-config", genesis.at(-1)!.data),
      ev("SequencerAdded", "chain-config", { sequencerId: "seq-1", publicKey: NEW_KEY }),
      ev("SequencerRemoved", "chain-config", { sequencerId: "seq-9" }),
      ev("InstitutionReinstated", "inst/bank-a", { institution: "bank-a" }),
      ev("RolesChanged", "inst/nobody", { institution: "nobody", roles: ["bank"] }),
      ev("FinalityChanged", "chain-config", { quorumNumerator: "2", quorumDenominator: 3 }),
      ev("SupervisionChanged", "chain-config", { supervision: "none" }),
    ];
    for (const e of bad) assert.throws(() => foldEvents(contract, state, [e]), InvariantError, e.type);
    // Before genesis there is no chain config to change.
    assert.throws(
      () => foldEvents(contract, new Map(), [ev("FinalityChanged", "chain-config", { quorumNumerator: 1, quorumDenominator: 2 })]),
      InvariantError,
    );
    const created = ev("ProposalCreated", "proposal/p-1", {
      id: "p-1",
      proposer: "bank-a",
      change: { kind: "suspend-institution", institution: "ent-a" },
      institution: "ent-a",
      createdAtMs: 1,
      expiresAtMs: 2,
    });
    const open = [...genesis, created];
    const withProposal = given("membership", open).state;
    assert.throws(() => foldEvents(contract, withProposal, [created]), InvariantError);
    assert.throws(
      () => foldEvents(contract, withProposal, [ev("VoteCast", "proposal/p-1", { proposal: "p-1", voter: "bank-a", vote: "yes" })]),
      InvariantError,
    );
    assert.throws(
      () => foldEvents(contract, withProposal, [ev("VoteCast", "proposal/p-1", { proposal: "p-1", voter: "bank-b", vote: "maybe" })]),
      InvariantError,
    );
    const closed = given("membership", [...open, ev("ProposalRejected", "proposal/p-1", { proposal: "p-1", closedAtMs: 2 })]).state;
    assert.throws(
      () => foldEvents(contract, closed, [ev("ProposalApplied", "proposal/p-1", { proposal: "p-1", closedAtMs: 2 })]),
      InvariantError,
    );
    assert.throws(
      () => foldEvents(contract, state, [{ ...created, data: { ...created.data, change: { kind: "suspend-institution" } } }]),
      InvariantError,
    );
  });

  test("an unknown event type is an invariant violation", () => {
    assert.throws(() => foldEvents(contract, new Map(), [{ type: "Mystery", assetId: "x", parties: [], data: {} }]), InvariantError);
  });
});

describe("membership queries", () => {
  const g = given("membership", genesis);

  test("institution returns the entry, or null for a stranger", () => {
    assert.deepEqual(g.query("institution", { id: "bank-a" }), g.state.get("inst/bank-a"));
    assert.equal(g.query("institution", { id: "nobody" }), null);
  });

  test("members returns the sorted member ids", () => {
    assert.deepEqual(g.query("members", {}), SORTED_IDS);
    assert.deepEqual(given("membership").query("members", {}), []);
  });

  test("BAD_ARGS for bad or extra query args", () => {
    assert.equal(expectRejection(g.query("institution", {})).code, "BAD_ARGS");
    assert.equal(expectRejection(g.query("institution", { id: "Bank-A" })).code, "BAD_ARGS");
    assert.equal(expectRejection(g.query("members", { all: true })).code, "BAD_ARGS");
  });
});

test("membership is deterministic: the same inputs give deep-equal outputs and the same bytes", () => {
  const run = () =>
    given("membership", membershipGenesisEvents(TEST_GENESIS)).when({
      signer: "bank-a",
      action: "add-key",
      args: { keyId: "k3", publicKey: NEW_KEY },
    });
  const a = expectAccepted(run());
  const b = expectAccepted(run());
  assert.deepEqual(a, b);
  assert.equal(canonicalJson([a.events, [...a.updates]]), canonicalJson([b.events, [...b.updates]]));
});
