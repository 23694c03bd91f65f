// Charity, act by act: open, donate, attest, disburse, and the trace and summary queries, with every
// refusal: given events / when a command / then events, state or the reason code.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { canonicalJson } from "@tally/ledger";
import type { ContractEvent } from "../contract.js";
import { expectAccepted, expectRejection, type When } from "../testing/given-when-then.js";
import { T0, cashIssued, cmd, givenOf, history } from "../testing/scenario-fixtures.js";
import { MILESTONES_MAX } from "./charity-state.js";

const EVIDENCE = "e0".repeat(32);
const g = (events: readonly ContractEvent[]) => givenOf("charity", events);
const cash = (state: ReadonlyMap<string, unknown>, who: string): string =>
  (state.get(`cash:acct/${who}`) as { balance: string } | undefined)?.balance ?? "0";
const FUNDING = ["bank-a", "bank-b", "ent-c"].map((to) => cashIssued(to, "1000"));
const MILESTONES = [
  { description: "well drilled", amount: "600", beneficiary: "ent-b" },
  { description: "pump installed", amount: "400", beneficiary: "ent-c" },
];
const OPEN = cmd("ent-a", "open", { id: "p-1", title: "Village water", auditor: "audit-a", milestones: MILESTONES }, T0);
const OPENED = history("charity", [OPEN], FUNDING);
const donate = (who: string, id: string, amount: string, at = T0 + 10): When =>
  cmd(who, "donate", { project: "p-1", donation: id, amount }, at);
const DONATED = history(
  "charity",
  [donate("bank-a", "d-1", "500"), donate("bank-b", "d-2", "300", T0 + 20), donate("ent-c", "d-3", "200", T0 + 30)],
  OPENED,
);
const attest = (n: number, who = "audit-a"): When => cmd(who, "attest", { project: "p-1", milestone: n, evidence: EVIDENCE }, T0 + 40);
const disburse = (n: number, beneficiary: string, who = "ent-a"): When =>
  cmd(who, "disburse", { project: "p-1", milestone: n, beneficiary }, T0 + 50 + n);
const ATTESTED = history("charity", [attest(1)], DONATED);
const PAID_1 = history("charity", [disburse(1, "ent-b")], ATTESTED);

function rejects(events: readonly ContractEvent[], when: When, code: string, message?: RegExp): void {
  const r = expectRejection(g(events).when(when));
  assert.equal(r.code, code, r.message);
  if (message !== undefined) assert.match(r.message, message);
}

describe("charity open", () => {
  test("an organiser opens a project with milestones and an auditor; its target is their sum", () => {
    const then = expectAccepted(g(FUNDING).when(OPEN));
    assert.deepEqual(then.events[0]?.parties, ["audit-a", "ent-a", "ent-b", "ent-c"]);
    assert.deepEqual(g([...FUNDING, ...then.events]).query("summary", { project: "p-1" }), {
      project: "p-1",
      title: "Village water",
      organiser: "ent-a",
      auditor: "audit-a",
      target: "1000",
      raised: "0",
      disbursed: "0",
      held: "0",
      donations: 0,
      milestones: [
        { milestone: 1, description: "well drilled", amount: "600", beneficiary: "ent-b", attested: false, disbursed: false },
        { milestone: 2, description: "pump installed", amount: "400", beneficiary: "ent-c", attested: false, disbursed: false },
      ],
    });
  });

  test("open refusals: id taken, an auditor without the role or not a member, auditing itself, an unknown beneficiary", () => {
    rejects(OPENED, OPEN, "PROJECT_EXISTS");
    const open = (signer: string, args: Record<string, unknown>) =>
      cmd(signer, "open", { id: "p-2", title: "t", auditor: "audit-a", milestones: MILESTONES, ...args }, T0);
    rejects(OPENED, open("ent-a", { auditor: "bank-a" }), "INELIGIBLE_PARTY");
    rejects(OPENED, open("ent-a", { auditor: "nobody" }), "UNKNOWN_MEMBER");
    rejects(OPENED, open("audit-a", {}), "SAME_PARTY");
    rejects(OPENED, open("ent-a", { milestones: [{ description: "d", amount: "1", beneficiary: "nobody" }] }), "UNKNOWN_MEMBER");
    const huge = [
      { description: "d", amount: "9".repeat(30), beneficiary: "ent-b" },
      { description: "e", amount: "1", beneficiary: "ent-b" },
    ];
    rejects(OPENED, open("ent-a", { milestones: huge }), "TARGET_TOO_LARGE");
  });
});

describe("charity donate", () => {
  test("a donation moves the donor's cash into the project's escrow in the same act", () => {
    const then = expectAccepted(g(OPENED).when(donate("bank-a", "d-1", "500")));
    assert.deepEqual(then.events, [
      {
        type: "DonationReceived",
        assetId: "donation/p-1/d-1",
        parties: ["audit-a", "bank-a", "ent-a"],
        data: { project: "p-1", donation: "d-1", donor: "bank-a", amount: "500", start: "0", atMs: T0 + 10 },
      },
      {
        contract: "cash",
        type: "CashTransferred",
        assetId: "acct/bank-a",
        parties: ["bank-a", "ent-a"],
        data: { from: "bank-a", to: "charity/project/p-1", amount: "500", memo: "donation d-1 to project p-1" },
      },
    ]);
    assert.equal(cash(then.state, "bank-a"), "500");
    assert.equal(cash(then.state, "charity/project/p-1"), "500");
  });

  test("donate refusals: unknown project, id taken, beyond the target, more than the donor holds", () => {
    rejects(FUNDING, donate("bank-a", "d-1", "1"), "UNKNOWN_PROJECT");
    rejects(DONATED, donate("bank-a", "d-8", "1"), "TARGET_EXCEEDED", /raised 1000 of its 1000/);
    rejects(history("charity", [donate("bank-a", "d-1", "5")], OPENED), donate("bank-b", "d-1", "5"), "DONATION_EXISTS");
    rejects(OPENED, donate("bank-a", "d-9", "1001"), "TARGET_EXCEEDED");
    rejects(OPENED, donate("ent-a", "d-9", "1"), "INSUFFICIENT_FUNDS");
  });
});

describe("charity attest and disburse", () => {
  test("the auditor attests a milestone with its evidence", () => {
    const then = expectAccepted(g(DONATED).when(attest(1)));
    assert.deepEqual(then.events[0]?.data, { project: "p-1", milestone: 1, auditor: "audit-a", evidence: EVIDENCE, atMs: T0 + 40 });
    rejects([...DONATED, ...then.events], attest(1), "ALREADY_ATTESTED");
  });

  test("attest refusals: not the project's auditor, no such milestone, no such project", () => {
    const other = history("charity", [], DONATED);
    rejects(other, attest(1, "ent-a"), "FORBIDDEN_ROLE");
    rejects(other, attest(1, "audit-b"), "NOT_AUDITOR", /audit-a is/);
    rejects(other, attest(3), "UNKNOWN_MILESTONE");
    rejects(FUNDING, attest(1), "UNKNOWN_PROJECT");
  });

  test("an attested milestone is paid from escrow to its beneficiary", () => {
    const then = expectAccepted(g(ATTESTED).when(disburse(1, "ent-b")));
    assert.equal(then.events[0]?.type, "MilestoneDisbursed");
    assert.equal(cash(then.state, "ent-b"), "600");
    assert.equal(cash(then.state, "charity/project/p-1"), "400");
    const s = g([...ATTESTED, ...then.events]).query("summary", { project: "p-1" }) as Record<string, unknown>;
    assert.deepEqual([s.raised, s.disbursed, s.held], ["1000", "600", "400"]);
  });

  test("no disbursement without the auditor's attestation, nor twice, nor to anyone but the beneficiary, nor by anyone but the organiser", () => {
    rejects(DONATED, disburse(1, "ent-b"), "NOT_ATTESTED", /audit-a/);
    rejects(PAID_1, disburse(1, "ent-b"), "ALREADY_DISBURSED");
    rejects(ATTESTED, disburse(1, "ent-c"), "PARTY_MISMATCH");
    rejects(ATTESTED, disburse(1, "ent-b", "ent-b"), "NOT_ORGANISER");
    rejects(ATTESTED, disburse(5, "ent-b"), "UNKNOWN_MILESTONE");
  });

  test("a milestone is paid only from what the project holds", () => {
    const thin = history("charity", [donate("bank-a", "d-1", "500"), attest(1)], OPENED);
    rejects(thin, disburse(1, "ent-b"), "INSUFFICIENT_HELD", /holds 500/);
  });
});

describe("charity trace", () => {
  test("each donation is traced to the beneficiaries it reached, first in first out, and what is still held", () => {
    const both = history("charity", [attest(2), disburse(2, "ent-c")], PAID_1);
    const t = (events: readonly ContractEvent[], d: string) =>
      g(events).query("trace", { project: "p-1", donation: d }) as Record<string, unknown>;
    assert.deepEqual(t(PAID_1, "d-1"), {
      project: "p-1",
      donation: "d-1",
      donor: "bank-a",
      amount: "500",
      atMs: T0 + 10,
      to: [{ milestone: 1, beneficiary: "ent-b", amount: "500", atMs: T0 + 51 }],
      held: "0",
      parties: ["audit-a", "bank-a", "ent-a", "ent-b"],
    });
    assert.deepEqual(t(PAID_1, "d-2").to, [{ milestone: 1, beneficiary: "ent-b", amount: "100", atMs: T0 + 51 }]);
    assert.equal(t(PAID_1, "d-2").held, "200");
    assert.deepEqual(t(PAID_1, "d-3").to, []);
    assert.equal(t(PAID_1, "d-3").held, "200");
    assert.deepEqual(t(both, "d-2").to, [
      { milestone: 1, beneficiary: "ent-b", amount: "100", atMs: T0 + 51 },
      { milestone: 2, beneficiary: "ent-c", amount: "200", atMs: T0 + 52 },
    ]);
    assert.equal(t(both, "d-2").held, "0");
    assert.equal(g(both).query("trace", { project: "p-1", donation: "d-7" }), null);
  });
});

// [action, signer, the field the rejection must name, args]
const GARBAGE: [string, string, string, unknown][] = [
  ["open", "ent-a", "id", { title: "t", auditor: "audit-a", milestones: MILESTONES }],
  ["open", "ent-a", "title", { id: "p-2", title: "", auditor: "audit-a", milestones: MILESTONES }],
  ["open", "ent-a", "title", { id: "p-2", title: "t".repeat(201), auditor: "audit-a", milestones: MILESTONES }],
  ["open", "ent-a", "milestones", { id: "p-2", title: "t", auditor: "audit-a", milestones: [] }],
  ["open", "ent-a", "milestones", { id: "p-2", title: "t", auditor: "audit-a", milestones: {} }],
  [
    "open",
    "ent-a",
    "milestones",
    { id: "p-2", title: "t", auditor: "audit-a", milestones: Array.from({ length: MILESTONES_MAX + 1 }, () => MILESTONES[0]) },
  ],
  [
    "open",
    "ent-a",
    "amount",
    { id: "p-2", title: "t", auditor: "audit-a", milestones: [{ description: "d", amount: 5, beneficiary: "ent-b" }] },
  ],
  ["open", "ent-a", "beneficiary", { id: "p-2", title: "t", auditor: "audit-a", milestones: [{ description: "d", amount: "5" }] }],
  [
    "open",
    "ent-a",
    "extra",
    { id: "p-2", title: "t", auditor: "audit-a", milestones: [{ description: "d", amount: "5", beneficiary: "ent-b", extra: 1 }] },
  ],
  ["open", "ent-a", "milestones\\[0\\]", { id: "p-2", title: "t", auditor: "audit-a", milestones: ["x"] }],
  ["donate", "bank-a", "amount", { project: "p-1", donation: "d-9", amount: "0" }],
  ["donate", "bank-a", "amount", { project: "p-1", donation: "d-9", amount: 10 }],
  ["donate", "bank-a", "donation", { project: "p-1", amount: "10" }],
  ["donate", "bank-a", "to", { project: "p-1", donation: "d-9", amount: "10", to: "ent-b" }],
  ["attest", "audit-a", "milestone", { project: "p-1", milestone: 0, evidence: EVIDENCE }],
  ["attest", "audit-a", "milestone", { project: "p-1", milestone: "1", evidence: EVIDENCE }],
  ["attest", "audit-a", "evidence", { project: "p-1", milestone: 1, evidence: "report.pdf" }],
  ["attest", "audit-a", "evidence", { project: "p-1", milestone: 1 }],
  ["disburse", "ent-a", "beneficiary", { project: "p-1", milestone: 1 }],
  ["disburse", "ent-a", "milestone", { project: "p-1", milestone: MILESTONES_MAX + 1, beneficiary: "ent-b" }],
  ["disburse", "ent-a", "amount", { project: "p-1", milestone: 1, beneficiary: "ent-b", amount: "600" }],
];

describe("charity args", () => {
  for (const [action, signer, field, args] of GARBAGE) {
    test(`${action} refuses ${JSON.stringify(args).slice(0, 100)} naming ${field.replaceAll("\\", "")}`, () => {
      const r = expectRejection(g(ATTESTED).when(cmd(signer, action, args, T0 + 60)));
      assert.equal(r.code, "BAD_ARGS");
      assert.match(r.message, new RegExp(`(^|\\W)${field}(\\W|$)`));
    });
  }

  test("args that are not an object are refused", () => {
    for (const args of [null, [], "x", 5])
      assert.equal(expectRejection(g(ATTESTED).when(cmd("ent-a", "disburse", args, T0))).code, "BAD_ARGS");
  });
});

test("charity is deterministic: the same inputs give deep-equal outputs and the same bytes", () => {
  const run = () => g(ATTESTED).when(disburse(1, "ent-b"));
  const a = expectAccepted(run());
  const b = expectAccepted(run());
  assert.deepEqual(a, b);
  assert.equal(canonicalJson([a.events, [...a.updates]]), canonicalJson([b.events, [...b.updates]]));
});
