import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { canonicalJson, type Genesis, type JsonValue } from "@tally/ledger";
import { isRejection } from "../contract.js";
import { builtinContracts } from "../registry.js";
import { prepareCommand } from "../run.js";
import { expectAccepted, expectRejection, testContext } from "../testing/given-when-then.js";
import { TEST_GENESIS, fixtureKey } from "../testing/test-genesis.js";
import { DAY_MS, NOW_MS, TEST_VOTERS, governanceChain, outcomeTypes } from "./governance-testing.js";
import { PROPOSAL_TTL_MAX_MS } from "./governance.js";

const ALL_IDS = TEST_GENESIS.institutions.map((i) => i.id).sort();
const NEW_KEY = fixtureKey(0xc1);
const ADD_D = {
  kind: "add-institution",
  institution: "ent-d",
  name: "Enterprise D",
  roles: ["enterprise"],
  keys: [{ keyId: "k1", publicKey: NEW_KEY }],
};
// 11 voting members at 2/3: 22/3 rounded up is 8.
const EIGHT = TEST_VOTERS.slice(0, 8);

function propose(id: string, change: JsonValue, expiresAtMs = NOW_MS + DAY_MS): Record<string, JsonValue> {
  return { id, expiresAtMs, change };
}

function code(r: unknown): string {
  return expectRejection(r as JsonValue).code;
}

describe("membership propose", () => {
  test("records the proposal with the proposer's yes vote, visible to every member and the newcomer", () => {
    const c = governanceChain();
    const then = expectAccepted(c.act("bank-a", "propose", propose("p-1", ADD_D)));
    assert.deepEqual(outcomeTypes(then), ["ProposalCreated"]);
    assert.deepEqual([...then.updates.keys()], ["proposal/p-1"]);
    assert.deepEqual(then.state.get("proposal/p-1"), {
      record: "proposal",
      id: "p-1",
      proposer: "bank-a",
      change: ADD_D,
      institution: "ent-d",
      createdAtMs: NOW_MS,
      expiresAtMs: NOW_MS + DAY_MS,
      status: "open",
      yes: ["bank-a"],
      no: [],
      closedAtMs: null,
      parties: [...ALL_IDS, "ent-d"].sort(),
    });
    assert.deepEqual(c.query("proposal", { id: "p-1" }), then.state.get("proposal/p-1"));
    assert.equal(c.query("proposal", { id: "p-9" }), null);
  });

  test("names the proposal, chain config, index, user-contract index and the changed institution's entry as its keys", () => {
    const ctx = testContext("bank-a");
    const p = prepareCommand(builtinContracts, "membership", "propose", propose("p-1", ADD_D), ctx);
    assert.ok(!isRejection(p));
    assert.deepEqual(p.keys, ["proposal/p-1", "chain-config", "index", "user-contracts", "inst/ent-d"]);
    const v = prepareCommand(builtinContracts, "membership", "vote", { proposal: "p-1", vote: "yes", institution: "ent-d" }, ctx);
    assert.ok(!isRejection(v));
    assert.deepEqual(v.keys, ["proposal/p-1", "chain-config", "index", "user-contracts", "inst/ent-d"]);
    const chain = prepareCommand(
      builtinContracts,
      "membership",
      "propose",
      propose("p-2", { kind: "remove-sequencer", sequencerId: "seq-1" }),
      ctx,
    );
    assert.ok(!isRejection(chain));
    assert.deepEqual(chain.keys, ["proposal/p-2", "chain-config", "index", "user-contracts"]);
  });

  test("PROPOSAL_EXISTS for a proposal id already used, whatever the change", () => {
    const c = governanceChain();
    expectAccepted(c.act("bank-a", "propose", propose("p-1", ADD_D)));
    assert.equal(
      code(c.act("bank-b", "propose", propose("p-1", { kind: "suspend-institution", institution: "ent-a" }))),
      "PROPOSAL_EXISTS",
    );
  });

  test("EXPIRY_IN_PAST at or before the block time; EXPIRY_TOO_FAR past the longest life", () => {
    const c = governanceChain();
    assert.equal(code(c.act("bank-a", "propose", propose("p-1", ADD_D, NOW_MS))), "EXPIRY_IN_PAST");
    assert.equal(code(c.act("bank-a", "propose", propose("p-1", ADD_D, NOW_MS - 1))), "EXPIRY_IN_PAST");
    assert.equal(code(c.act("bank-a", "propose", propose("p-1", ADD_D, NOW_MS + PROPOSAL_TTL_MAX_MS + 1))), "EXPIRY_TOO_FAR");
    expectAccepted(c.act("bank-a", "propose", propose("p-1", ADD_D, NOW_MS + PROPOSAL_TTL_MAX_MS)));
  });

  test("FORBIDDEN_ROLE for the regulator and for strangers: only voting members propose", () => {
    const c = governanceChain();
    assert.equal(code(c.act("reg", "propose", propose("p-1", ADD_D))), "FORBIDDEN_ROLE");
    assert.equal(code(c.act("ent-z", "propose", propose("p-1", ADD_D))), "FORBIDDEN_ROLE");
  });

  test("with a single voting member the proposal applies in its own transaction", () => {
    const solo: Genesis = { ...TEST_GENESIS, institutions: TEST_GENESIS.institutions.filter((i) => i.id === "bank-a" || i.id === "reg") };
    const c = governanceChain(solo);
    const then = expectAccepted(c.act("bank-a", "propose", propose("p-1", ADD_D)));
    assert.deepEqual(outcomeTypes(then), ["ProposalCreated", "InstitutionAdmitted", "ProposalApplied"]);
    assert.deepEqual(then.state.get("index"), ["bank-a", "ent-d", "reg"]);
  });
});

describe("membership vote", () => {
  test("the vote that brings the yes votes to 2/3 applies the change in the same transaction", () => {
    const c = governanceChain();
    const outs = c.pass("p-1", ADD_D, EIGHT);
    assert.deepEqual(outs.slice(0, 7).map(outcomeTypes), [["ProposalCreated"], ...Array.from({ length: 6 }, () => ["VoteCast"])]);
    const last = expectAccepted(outs[7]!);
    assert.deepEqual(outcomeTypes(last), ["VoteCast", "InstitutionAdmitted", "ProposalApplied"]);
    assert.deepEqual(last.events[1]?.data, { id: "ent-d", name: "Enterprise D", roles: ["enterprise"], keys: ADD_D.keys, proposal: "p-1" });
    assert.deepEqual(last.events[2]?.data, { proposal: "p-1", closedAtMs: NOW_MS, yes: [...EIGHT].sort(), no: [], voters: 11, needed: 8 });
    assert.deepEqual(last.state.get("index"), [...ALL_IDS, "ent-d"].sort());
    assert.deepEqual(last.state.get("inst/ent-d"), {
      id: "ent-d",
      name: "Enterprise D",
      roles: ["enterprise"],
      keys: [{ keyId: "k1", publicKey: NEW_KEY, active: true }],
    });
    const p = last.state.get("proposal/p-1") as Record<string, JsonValue>;
    assert.equal(p.status, "applied");
    assert.equal(p.closedAtMs, NOW_MS);
    // The newcomer is a member at once, and now counts among the voters.
    expectAccepted(c.act("ent-d", "propose", propose("p-2", { kind: "suspend-institution", institution: "ent-a" })));
  });

  test("the threshold comes from chain config: 3/4 of 11 needs 9 yes votes", () => {
    const c = governanceChain({ ...TEST_GENESIS, governance: { thresholdNumerator: 3, thresholdDenominator: 4 } });
    const outs = c.pass("p-1", ADD_D, TEST_VOTERS.slice(0, 9));
    assert.deepEqual(outcomeTypes(outs[7]!), ["VoteCast"]);
    assert.deepEqual(outcomeTypes(outs[8]!), ["VoteCast", "InstitutionAdmitted", "ProposalApplied"]);
  });

  test("unanimity (1/1) needs every voting member", () => {
    const c = governanceChain({ ...TEST_GENESIS, governance: { thresholdNumerator: 1, thresholdDenominator: 1 } });
    const outs = c.pass("p-1", ADD_D, TEST_VOTERS);
    assert.deepEqual(outcomeTypes(outs[9]!), ["VoteCast"]);
    assert.deepEqual(outcomeTypes(outs[10]!), ["VoteCast", "InstitutionAdmitted", "ProposalApplied"]);
  });

  test("no votes that leave too few members to reach the threshold reject the proposal", () => {
    const c = governanceChain();
    expectAccepted(c.act("bank-a", "propose", propose("p-1", ADD_D)));
    const noVote = (v: string) => c.act(v, "vote", { proposal: "p-1", vote: "no", institution: "ent-d" });
    // 11 voters, 8 needed: three no votes still leave 8 who could say yes.
    for (const v of ["bank-b", "clear-a", "clear-b"]) assert.deepEqual(outcomeTypes(noVote(v)), ["VoteCast"]);
    const fourth = expectAccepted(noVote("ent-a"));
    assert.deepEqual(outcomeTypes(fourth), ["VoteCast", "ProposalRejected"]);
    assert.equal((fourth.state.get("proposal/p-1") as Record<string, JsonValue>).status, "rejected");
    assert.equal(code(c.act("ent-b", "vote", { proposal: "p-1", vote: "yes", institution: "ent-d" })), "PROPOSAL_REJECTED");
    assert.equal(c.state.has("inst/ent-d"), false);
  });

  test("FORBIDDEN_ROLE for a vote by a non-member or by the regulator", () => {
    const c = governanceChain();
    expectAccepted(c.act("bank-a", "propose", propose("p-1", ADD_D)));
    assert.equal(code(c.act("ent-z", "vote", { proposal: "p-1", vote: "yes", institution: "ent-d" })), "FORBIDDEN_ROLE");
    assert.equal(code(c.act("reg", "vote", { proposal: "p-1", vote: "yes", institution: "ent-d" })), "FORBIDDEN_ROLE");
  });

  test("ALREADY_VOTED for a second vote by one member, the proposer included, either way", () => {
    const c = governanceChain();
    expectAccepted(c.act("bank-a", "propose", propose("p-1", ADD_D)));
    expectAccepted(c.act("bank-b", "vote", { proposal: "p-1", vote: "yes", institution: "ent-d" }));
    assert.equal(code(c.act("bank-b", "vote", { proposal: "p-1", vote: "yes", institution: "ent-d" })), "ALREADY_VOTED");
    assert.equal(code(c.act("bank-b", "vote", { proposal: "p-1", vote: "no", institution: "ent-d" })), "ALREADY_VOTED");
    assert.equal(code(c.act("bank-a", "vote", { proposal: "p-1", vote: "yes", institution: "ent-d" })), "ALREADY_VOTED");
  });

  test("PROPOSAL_EXPIRED once the block time is past the expiry; at the expiry itself votes still count", () => {
    const c = governanceChain();
    expectAccepted(c.act("bank-a", "propose", propose("p-1", ADD_D, NOW_MS + 1000)));
    expectAccepted(c.act("bank-b", "vote", { proposal: "p-1", vote: "yes", institution: "ent-d" }, NOW_MS + 1000));
    const r = expectRejection(c.act("clear-a", "vote", { proposal: "p-1", vote: "yes", institution: "ent-d" }, NOW_MS + 1001));
    assert.equal(r.code, "PROPOSAL_EXPIRED");
    assert.match(r.message, /p-1/);
  });

  test("PROPOSAL_APPLIED for a vote on an applied proposal: it applies at most once", () => {
    const c = governanceChain();
    c.pass("p-1", ADD_D, EIGHT);
    assert.equal(code(c.act("wh-a", "vote", { proposal: "p-1", vote: "yes", institution: "ent-d" })), "PROPOSAL_APPLIED");
    assert.equal(c.events.filter((e) => e.type === "InstitutionAdmitted" && e.data.id === "ent-d").length, 1);
  });

  test("PROPOSAL_NOT_FOUND for a vote on no proposal", () => {
    assert.equal(code(governanceChain().act("bank-a", "vote", { proposal: "p-9", vote: "yes" })), "PROPOSAL_NOT_FOUND");
  });

  test("PROPOSAL_SUBJECT_MISMATCH when the vote does not restate the institution the proposal changes", () => {
    const c = governanceChain();
    expectAccepted(c.act("bank-a", "propose", propose("p-1", ADD_D)));
    expectAccepted(c.act("bank-a", "propose", propose("p-2", { kind: "set-finality", quorumNumerator: 1, quorumDenominator: 2 })));
    assert.equal(code(c.act("bank-b", "vote", { proposal: "p-1", vote: "yes" })), "PROPOSAL_SUBJECT_MISMATCH");
    assert.equal(code(c.act("bank-b", "vote", { proposal: "p-1", vote: "yes", institution: "ent-e" })), "PROPOSAL_SUBJECT_MISMATCH");
    assert.equal(code(c.act("bank-b", "vote", { proposal: "p-2", vote: "yes", institution: "bank-a" })), "PROPOSAL_SUBJECT_MISMATCH");
  });

  test("only current voting members' votes count: a yes from a member suspended since then does not", () => {
    const c = governanceChain();
    expectAccepted(c.act("bank-a", "propose", propose("p-x", ADD_D)));
    expectAccepted(c.act("ent-c", "vote", { proposal: "p-x", vote: "yes", institution: "ent-d" }));
    const suspend = c.pass("p-s", { kind: "suspend-institution", institution: "ent-c" }, EIGHT);
    assert.deepEqual(outcomeTypes(suspend[7]!), ["VoteCast", "InstitutionSuspended", "ProposalApplied"]);
    // 10 voters now: 20/3 rounded up is 7.
    for (const v of ["bank-b", "clear-a", "clear-b", "ent-a"])
      expectAccepted(c.act(v, "vote", { proposal: "p-x", vote: "yes", institution: "ent-d" }));
    // Seven members said yes, but ent-c no longer votes: six count.
    assert.deepEqual(outcomeTypes(c.act("ent-b", "vote", { proposal: "p-x", vote: "yes", institution: "ent-d" })), ["VoteCast"]);
    const applied = expectAccepted(c.act("exch", "vote", { proposal: "p-x", vote: "yes", institution: "ent-d" }));
    assert.deepEqual(outcomeTypes(applied), ["VoteCast", "InstitutionAdmitted", "ProposalApplied"]);
    assert.deepEqual(applied.events[2]?.data.yes, ["bank-a", "bank-b", "clear-a", "clear-b", "ent-a", "ent-b", "exch"]);
    assert.equal(applied.events[2]?.data.voters, 10);
  });

  for (const [name, args] of [
    ["no args", {}],
    ["no proposal", { vote: "yes" }],
    ["a bad proposal id", { proposal: "P 1", vote: "yes" }],
    ["a numeric proposal id", { proposal: 1, vote: "yes" }],
    ["no vote", { proposal: "p-1" }],
    ["a vote that is neither yes nor no", { proposal: "p-1", vote: "maybe" }],
    ["a boolean vote", { proposal: "p-1", vote: true }],
    ["a bad institution", { proposal: "p-1", vote: "yes", institution: "Ent D" }],
    ["an empty institution", { proposal: "p-1", vote: "yes", institution: "" }],
    ["an extra field", { proposal: "p-1", vote: "yes", weight: 2 }],
  ] as const) {
    test(`BAD_ARGS for a vote with ${name}`, () => {
      assert.equal(code(governanceChain().act("bank-a", "vote", args)), "BAD_ARGS");
    });
  }
});

describe("membership propose BAD_ARGS", () => {
  const long = "x".repeat(201);
  const cases: [string, unknown][] = [
    ["no args", {}],
    ["no id", { expiresAtMs: NOW_MS + DAY_MS, change: ADD_D }],
    ["a bad id", propose("P 1", ADD_D)],
    ["a numeric id", { id: 5, expiresAtMs: NOW_MS + DAY_MS, change: ADD_D }],
    ["no expiry", { id: "p-1", change: ADD_D }],
    ["a string expiry", { id: "p-1", expiresAtMs: "soon", change: ADD_D }],
    ["a negative expiry", propose("p-1", ADD_D, -1)],
    ["a fractional expiry", propose("p-1", ADD_D, NOW_MS + 0.5)],
    ["no change", { id: "p-1", expiresAtMs: NOW_MS + DAY_MS }],
    ["a string change", propose("p-1", "add")],
    ["an array change", propose("p-1", [ADD_D])],
    ["a change without kind", propose("p-1", { institution: "ent-d" })],
    ["an unknown kind", propose("p-1", { kind: "explode", institution: "ent-d" })],
    ["an extra top-level field", { ...propose("p-1", ADD_D), note: "x" }],
    ["an extra change field", propose("p-1", { ...ADD_D, note: "x" })],
    ["a bad institution id", propose("p-1", { ...ADD_D, institution: "Ent D" })],
    ["an empty name", propose("p-1", { ...ADD_D, name: "" })],
    ["a name too long", propose("p-1", { ...ADD_D, name: long })],
    ["no keys", propose("p-1", { ...ADD_D, keys: [] })],
    [
      "too many keys",
      propose("p-1", { ...ADD_D, keys: Array.from({ length: 9 }, (_, i) => ({ keyId: `k${i}`, publicKey: fixtureKey(i + 1) })) }),
    ],
    [
      "a key id twice",
      propose("p-1", {
        ...ADD_D,
        keys: [
          { keyId: "k1", publicKey: NEW_KEY },
          { keyId: "k1", publicKey: fixtureKey(0xc2) },
        ],
      }),
    ],
    [
      "a public key twice",
      propose("p-1", {
        ...ADD_D,
        keys: [
          { keyId: "k1", publicKey: NEW_KEY },
          { keyId: "k2", publicKey: NEW_KEY },
        ],
      }),
    ],
    ["a bad public key", propose("p-1", { ...ADD_D, keys: [{ keyId: "k1", publicKey: NEW_KEY.toUpperCase() }] })],
    ["a key with an extra field", propose("p-1", { ...ADD_D, keys: [{ keyId: "k1", publicKey: NEW_KEY, active: false }] })],
    ["empty roles", propose("p-1", { ...ADD_D, roles: [] })],
    ["roles not an array", propose("p-1", { ...ADD_D, roles: "bank" })],
    ["a role twice", propose("p-1", { ...ADD_D, roles: ["bank", "bank"] })],
    ["a numeric role", propose("p-1", { ...ADD_D, roles: [1] })],
    [
      "a rotation to the same key id",
      propose("p-1", { kind: "rotate-key", institution: "bank-b", oldKeyId: "k1", keyId: "k1", publicKey: NEW_KEY }),
    ],
    ["a revocation without key id", propose("p-1", { kind: "revoke-key", institution: "bank-b" })],
    ["a suspension with a reason field", propose("p-1", { kind: "suspend-institution", institution: "ent-a", reason: "x" })],
  ];
  for (const [name, args] of cases) {
    test(`BAD_ARGS for ${name}`, () => {
      const r = expectRejection(governanceChain().act("bank-a", "propose", args));
      assert.equal(r.code, "BAD_ARGS", r.message);
    });
  }

  test("UNKNOWN_ROLE for a role Tally does not know, naming it", () => {
    const r = expectRejection(governanceChain().act("bank-a", "propose", propose("p-1", { ...ADD_D, roles: ["enterprise", "king"] })));
    assert.equal(r.code, "UNKNOWN_ROLE");
    assert.match(r.message, /king/);
  });
});

test("governance is deterministic: the same votes give deep-equal outcomes and the same bytes", () => {
  const run = () => {
    const c = governanceChain();
    const outs = c.pass("p-1", ADD_D, EIGHT);
    return expectAccepted(outs[7]!);
  };
  const a = run();
  const b = run();
  assert.deepEqual(a, b);
  assert.equal(canonicalJson([a.events, [...a.updates]]), canonicalJson([b.events, [...b.updates]]));
});
