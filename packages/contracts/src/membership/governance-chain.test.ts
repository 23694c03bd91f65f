import { test, describe } from "node:test";
import assert from "node:assert/strict";
import type { JsonValue } from "@tally/ledger";
import { expectAccepted, expectRejection, given } from "../testing/given-when-then.js";
import { TEST_GENESIS, fixtureKey } from "../testing/test-genesis.js";
import { SEQUENCERS_MAX } from "./chain-config.js";
import { DAY_MS, NOW_MS, TEST_VOTERS, governanceChain, outcomeTypes } from "./governance-testing.js";
import { ALERT_RULES_MAX } from "./proposal-change.js";

const EIGHT = TEST_VOTERS.slice(0, 8);
const SEQ_KEY = fixtureKey(0x62);

function code(r: unknown): string {
  return expectRejection(r as JsonValue).code;
}

function proposeBy(c: ReturnType<typeof governanceChain>, id: string, change: JsonValue): unknown {
  return c.act("bank-a", "propose", { id, expiresAtMs: NOW_MS + DAY_MS, change });
}

function config(c: ReturnType<typeof governanceChain>): Record<string, JsonValue> {
  return c.query("chain-config", {}) as Record<string, JsonValue>;
}

function last(outs: readonly unknown[]) {
  return expectAccepted(outs.at(-1) as Parameters<typeof expectAccepted>[0]);
}

describe("chain config from genesis", () => {
  test("records the sequencers, the finality quorum, the default 2/3 threshold and no supervision rules", () => {
    const c = governanceChain();
    assert.deepEqual(config(c), {
      record: "chain-config",
      sequencers: [{ id: "seq-1", publicKey: fixtureKey(0x61) }],
      finality: { quorumNumerator: 2, quorumDenominator: 3 },
      governance: { thresholdNumerator: 2, thresholdDenominator: 3 },
      supervision: null,
    });
  });

  test("takes the governance threshold from genesis when it names one", () => {
    const c = governanceChain({ ...TEST_GENESIS, governance: { thresholdNumerator: 3, thresholdDenominator: 4 } });
    assert.deepEqual(config(c).governance, { thresholdNumerator: 3, thresholdDenominator: 4 });
  });

  test("the chain-config query is null before genesis and refuses args", () => {
    assert.equal(given("membership").query("chain-config", {}), null);
    assert.equal(code(governanceChain().query("chain-config", { all: true })), "BAD_ARGS");
  });
});

describe("governance: the sequencer set", () => {
  test("adds a sequencer once voted, then removes one", () => {
    const c = governanceChain();
    const added = last(c.pass("p-1", { kind: "add-sequencer", sequencerId: "seq-2", publicKey: SEQ_KEY }, EIGHT));
    assert.deepEqual(outcomeTypes(added), ["VoteCast", "SequencerAdded", "ProposalApplied"]);
    assert.equal(added.events[1]?.assetId, "chain-config");
    assert.deepEqual(config(c).sequencers, [
      { id: "seq-1", publicKey: fixtureKey(0x61) },
      { id: "seq-2", publicKey: SEQ_KEY },
    ]);
    const removed = last(c.pass("p-2", { kind: "remove-sequencer", sequencerId: "seq-1" }, EIGHT));
    assert.deepEqual(outcomeTypes(removed), ["VoteCast", "SequencerRemoved", "ProposalApplied"]);
    assert.deepEqual(config(c).sequencers, [{ id: "seq-2", publicKey: SEQ_KEY }]);
  });

  test("SEQUENCER_EXISTS for a known id or public key; SEQUENCER_NOT_FOUND; LAST_SEQUENCER", () => {
    const c = governanceChain();
    assert.equal(code(proposeBy(c, "p-1", { kind: "add-sequencer", sequencerId: "seq-1", publicKey: SEQ_KEY })), "SEQUENCER_EXISTS");
    assert.equal(
      code(proposeBy(c, "p-1", { kind: "add-sequencer", sequencerId: "seq-2", publicKey: fixtureKey(0x61) })),
      "SEQUENCER_EXISTS",
    );
    assert.equal(code(proposeBy(c, "p-1", { kind: "remove-sequencer", sequencerId: "seq-9" })), "SEQUENCER_NOT_FOUND");
    assert.equal(code(proposeBy(c, "p-1", { kind: "remove-sequencer", sequencerId: "seq-1" })), "LAST_SEQUENCER");
  });

  test("TOO_MANY_SEQUENCERS at the bound", () => {
    const sequencers = Array.from({ length: SEQUENCERS_MAX }, (_, i) => ({ id: `seq-${i}`, publicKey: fixtureKey(0x10 + i) }));
    const c = governanceChain({ ...TEST_GENESIS, sequencers });
    assert.equal(
      code(proposeBy(c, "p-1", { kind: "add-sequencer", sequencerId: "seq-x", publicKey: fixtureKey(0xee) })),
      "TOO_MANY_SEQUENCERS",
    );
  });

  test("BAD_ARGS for a bad sequencer id or key", () => {
    const c = governanceChain();
    assert.equal(code(proposeBy(c, "p-1", { kind: "add-sequencer", sequencerId: "Seq 2", publicKey: SEQ_KEY })), "BAD_ARGS");
    assert.equal(code(proposeBy(c, "p-1", { kind: "add-sequencer", sequencerId: "seq-2", publicKey: "ab" })), "BAD_ARGS");
    assert.equal(code(proposeBy(c, "p-1", { kind: "add-sequencer", sequencerId: "seq-2" })), "BAD_ARGS");
  });
});

describe("governance: the finality quorum and the governance threshold", () => {
  test("changes the finality quorum once voted", () => {
    const c = governanceChain();
    const then = last(c.pass("p-1", { kind: "set-finality", quorumNumerator: 3, quorumDenominator: 4 }, EIGHT));
    assert.deepEqual(outcomeTypes(then), ["VoteCast", "FinalityChanged", "ProposalApplied"]);
    assert.deepEqual(config(c).finality, { quorumNumerator: 3, quorumDenominator: 4 });
  });

  test("a new governance threshold governs the next proposals", () => {
    const c = governanceChain();
    last(c.pass("p-1", { kind: "set-governance", thresholdNumerator: 9, thresholdDenominator: 10 }, EIGHT));
    assert.deepEqual(config(c).governance, { thresholdNumerator: 9, thresholdDenominator: 10 });
    // 99/10 rounded up is 10 of 11.
    const outs = c.pass("p-2", { kind: "set-finality", quorumNumerator: 1, quorumDenominator: 2 }, TEST_VOTERS.slice(0, 10));
    assert.deepEqual(outcomeTypes(outs[8]!), ["VoteCast"]);
    assert.deepEqual(outcomeTypes(outs[9]!), ["VoteCast", "FinalityChanged", "ProposalApplied"]);
  });

  test("NO_CHANGE for the values already in force", () => {
    const c = governanceChain();
    assert.equal(code(proposeBy(c, "p-1", { kind: "set-finality", quorumNumerator: 2, quorumDenominator: 3 })), "NO_CHANGE");
    assert.equal(code(proposeBy(c, "p-1", { kind: "set-governance", thresholdNumerator: 2, thresholdDenominator: 3 })), "NO_CHANGE");
  });

  for (const [name, change] of [
    ["a quorum of one", { kind: "set-finality", quorumNumerator: 3, quorumDenominator: 3 }],
    ["a zero quorum", { kind: "set-finality", quorumNumerator: 0, quorumDenominator: 3 }],
    ["a fractional quorum", { kind: "set-finality", quorumNumerator: 1.5, quorumDenominator: 3 }],
    ["a string quorum", { kind: "set-finality", quorumNumerator: "2", quorumDenominator: 3 }],
    ["a huge quorum denominator", { kind: "set-finality", quorumNumerator: 2, quorumDenominator: 1_000_001 }],
    ["a threshold of one half", { kind: "set-governance", thresholdNumerator: 1, thresholdDenominator: 2 }],
    ["a threshold above one", { kind: "set-governance", thresholdNumerator: 4, thresholdDenominator: 3 }],
    ["a missing threshold denominator", { kind: "set-governance", thresholdNumerator: 2 }],
  ] as const) {
    test(`BAD_ARGS for ${name}`, () => {
      assert.equal(code(proposeBy(governanceChain(), "p-1", change)), "BAD_ARGS");
    });
  }
});

describe("governance: the supervision rules", () => {
  const rules: { kind: string; largeTradeAmount: string; alertRules: Record<string, string>[] } = {
    kind: "set-supervision",
    largeTradeAmount: "1000000",
    alertRules: [
      { id: "big-bill", contract: "bill", action: "transfer", minAmount: "500000" },
      { id: "any-cash", contract: "cash", minAmount: "2000000" },
    ],
  };

  test("records the supervision rules in the chain config once voted", () => {
    const c = governanceChain();
    const then = last(c.pass("p-1", rules, EIGHT));
    assert.deepEqual(outcomeTypes(then), ["VoteCast", "SupervisionChanged", "ProposalApplied"]);
    const { kind: _kind, ...supervision } = rules;
    assert.deepEqual(config(c).supervision, supervision);
    assert.equal(code(proposeBy(c, "p-2", rules)), "NO_CHANGE");
    // An empty rule list is a change too.
    expectAccepted(proposeBy(c, "p-3", { ...rules, alertRules: [] }) as Parameters<typeof expectAccepted>[0]);
  });

  for (const [name, change] of [
    ["a zero amount", { ...rules, largeTradeAmount: "0" }],
    ["a numeric amount", { ...rules, largeTradeAmount: 1000 }],
    ["no rule list", { kind: "set-supervision", largeTradeAmount: "1" }],
    ["a rule id twice", { ...rules, alertRules: [rules.alertRules[1], rules.alertRules[1]] }],
    ["a rule without amount", { ...rules, alertRules: [{ id: "r", contract: "cash" }] }],
    ["a rule with an extra field", { ...rules, alertRules: [{ ...rules.alertRules[1], note: "x" }] }],
    [
      "too many rules",
      { ...rules, alertRules: Array.from({ length: ALERT_RULES_MAX + 1 }, (_, i) => ({ id: `r${i}`, contract: "cash", minAmount: "1" })) },
    ],
  ] as const) {
    test(`BAD_ARGS for supervision with ${name}`, () => {
      assert.equal(code(proposeBy(governanceChain(), "p-1", change as JsonValue)), "BAD_ARGS");
    });
  }
});

describe("governance: the regulator's supervision rules beyond thresholds", () => {
  const full = {
    kind: "set-supervision",
    largeTradeAmount: "1000000",
    alertRules: [{ id: "any-cash", contract: "cash", minAmount: "2000000" }],
    roundTrip: { windowBlocks: 20 },
    concentration: { maxShareBp: 2500 },
    rejectedAttempts: { count: 3, windowBlocks: 100, reasonCodes: ["ALREADY_FINANCED", "INSUFFICIENT_FUNDS"] },
    dishonouredBills: true,
    divergence: true,
  };

  test("records every rule once voted; rules left out stay out", () => {
    const c = governanceChain();
    const then = last(c.pass("p-1", full, EIGHT));
    assert.deepEqual(outcomeTypes(then), ["VoteCast", "SupervisionChanged", "ProposalApplied"]);
    const { kind: _kind, ...supervision } = full;
    assert.deepEqual(config(c).supervision, supervision);
    const { roundTrip: _r, divergence: _d, ...fewer } = full;
    last(c.pass("p-2", { ...fewer, rejectedAttempts: { count: 2, windowBlocks: 5 } }, EIGHT));
    const { kind: _k2, ...fewerSupervision } = fewer;
    assert.deepEqual(config(c).supervision, { ...fewerSupervision, rejectedAttempts: { count: 2, windowBlocks: 5 } });
  });

  for (const [name, change] of [
    ["a zero window", { ...full, roundTrip: { windowBlocks: 0 } }],
    ["a window too long", { ...full, roundTrip: { windowBlocks: 100_001 } }],
    ["a share of 100%", { ...full, concentration: { maxShareBp: 10_000 } }],
    ["a lowercase reason code", { ...full, rejectedAttempts: { count: 1, windowBlocks: 1, reasonCodes: ["nope"] } }],
    ["a repeated reason code", { ...full, rejectedAttempts: { count: 1, windowBlocks: 1, reasonCodes: ["A", "A"] } }],
    ["an empty reason-code list", { ...full, rejectedAttempts: { count: 1, windowBlocks: 1, reasonCodes: [] } }],
    ["a string flag", { ...full, divergence: "yes" }],
    ["an extra field in a rule", { ...full, roundTrip: { windowBlocks: 5, note: 1 } }],
    ["an unknown rule", { ...full, velocity: { perBlock: 3 } }],
  ] as const) {
    test(`BAD_ARGS for supervision with ${name}`, () => {
      assert.equal(code(proposeBy(governanceChain(), "p-1", change as unknown as JsonValue)), "BAD_ARGS");
    });
  }
});

describe("membership proposal queries", () => {
  test("proposals lists every proposal in id order, open or closed", () => {
    const c = governanceChain();
    proposeBy(c, "p-b", { kind: "set-finality", quorumNumerator: 1, quorumDenominator: 2 });
    c.pass("p-a", { kind: "set-finality", quorumNumerator: 3, quorumDenominator: 4 }, EIGHT);
    const list = c.query("proposals", {}) as Record<string, JsonValue>[];
    assert.deepEqual(
      list.map((p) => [p.id, p.status]),
      [
        ["p-a", "applied"],
        ["p-b", "open"],
      ],
    );
    assert.deepEqual(given("membership").query("proposals", {}), []);
    assert.equal(code(c.query("proposals", { limit: 5 })), "BAD_ARGS");
    assert.equal(code(c.query("proposal", { id: "P A" })), "BAD_ARGS");
  });
});
