// Coupons, redemption, the queries, and determinism.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { canonicalJson, InvariantError } from "@tally/ledger";
import type { ContractEvent, MemberView } from "../contract.js";
import { foldEvents } from "../run.js";
import { expectAccepted, expectEvents, expectRejection } from "../testing/given-when-then.js";
import { TEST_MEMBERS } from "../testing/test-genesis.js";
import { bond } from "./bond.js";
import {
  allottedHistory,
  BOND_ID,
  cashIssued,
  COUPON1_MS,
  COUPON2_MS,
  givenBond,
  MATURITY_MS,
  play,
  REGISTER,
  SUB_END_MS,
  subscribe,
  transfer,
  whenOf,
  type Step,
} from "./bond-fixtures.js";

/** A lineage or register answer without its root's `parties` (which decide who may read it at a gateway; asserted present). */
function withoutParties(v: unknown): unknown {
  const { parties, ...rest } = v as Record<string, unknown>;
  assert.ok(Array.isArray(parties), "the answer names its parties");
  return rest;
}

// bank-a holds 300, bank-b 200, ent-a 100; issuer-a has 1 000 000 + 60 000 in cash.
const allotted = allottedHistory();
const HOLDERS = ["bank-a", "bank-b", "ent-a"];

function coupon(couponDateMs: number, holders: readonly string[] = HOLDERS, atMs = couponDateMs): Step {
  return { signer: "issuer-a", action: "coupon", args: { bond: BOND_ID, couponDateMs, holders }, atMs };
}

function redeem(holders: readonly string[] = HOLDERS, atMs = MATURITY_MS): Step {
  return { signer: "issuer-a", action: "redeem", args: { bond: BOND_ID, holders }, atMs };
}

// A cash payment out of an account, as a given event, to drain it.
function spend(from: string, amount: number): ContractEvent {
  return {
    contract: "cash",
    type: "CashTransferred",
    assetId: `acct/${from}`,
    parties: [from, "clear-a"],
    data: { from, to: "clear-a", amount: String(amount), memo: null },
  };
}

function balance(state: ReadonlyMap<string, unknown>, who: string): string {
  return (state.get(`cash:acct/${who}`) as { balance: string } | undefined)?.balance ?? "0";
}

describe("bond coupon", () => {
  test("pays each holder of record face × units × rateBp / 10000 / couponsPerYear, floored", () => {
    // ent-a sells 1 unit to bank-b: 99 × 100 × 500 / 20 000 = 247.5 → 247; 201 → 502.5 → 502.
    const events = play(allotted, [transfer("ent-a", "bank-b", "1", "100")]);
    const then = expectAccepted(givenBond(events).when(whenOf(coupon(COUPON1_MS))));
    assert.deepEqual(then.events[0], {
      type: "CouponPaid",
      assetId: "bond/b-1",
      parties: ["bank-a", "bank-b", "ent-a", "issuer-a", "reg"],
      data: {
        bond: BOND_ID,
        couponDateMs: COUPON1_MS,
        payments: [
          { holder: "bank-a", units: "300", amount: "750" },
          { holder: "bank-b", units: "201", amount: "502" },
          { holder: "ent-a", units: "99", amount: "247" },
        ],
        total: "1499",
      },
    });
    assert.deepEqual(
      then.events.slice(1).map((e) => [e.contract, e.type, e.data.from, e.data.to, e.data.amount]),
      [
        ["cash", "CashTransferred", "issuer-a", "bank-a", "750"],
        ["cash", "CashTransferred", "issuer-a", "bank-b", "502"],
        ["cash", "CashTransferred", "issuer-a", "ent-a", "247"],
      ],
    );
    assert.equal(balance(then.state, "issuer-a"), String(1_060_000 - 1499));
    assert.deepEqual((then.state.get("bond/b-1") as { couponsPaidMs: unknown }).couponsPaidMs, [COUPON1_MS]);
  });

  test("holders of record are the holders when the coupon is paid", () => {
    const events = play([...allotted, cashIssued("ent-b", "100000")], [transfer("ent-a", "ent-b", "100", "10000")]);
    const then = expectAccepted(givenBond(events).when(whenOf(coupon(COUPON1_MS, ["bank-a", "bank-b", "ent-b"]))));
    const payments = then.events[0]?.data.payments as { holder: string }[];
    assert.deepEqual(
      payments.map((p) => p.holder),
      ["bank-a", "bank-b", "ent-b"],
    );
  });

  test("a frozen holding still receives its coupon", () => {
    const frozen = play(allotted, [{ signer: "reg", action: "freeze", args: { bond: BOND_ID, holder: "ent-a" }, atMs: SUB_END_MS + 1 }]);
    const then = expectAccepted(givenBond(frozen).when(whenOf(coupon(COUPON1_MS))));
    assert.equal(balance(then.state, "ent-a"), String(90_000 + 250));
  });

  test("coupon dates may be paid in any order, each once", () => {
    const events = play(allotted, [coupon(COUPON2_MS), coupon(COUPON1_MS, HOLDERS, COUPON2_MS + 1)]);
    assert.deepEqual((givenBond(events).query("bond", { id: BOND_ID }) as { couponsPaidMs: unknown }).couponsPaidMs, [
      COUPON1_MS,
      COUPON2_MS,
    ]);
  });

  test("COUPON_ALREADY_PAID the second time", () => {
    const paid = play(allotted, [coupon(COUPON1_MS)]);
    const r = expectRejection(givenBond(paid).when(whenOf(coupon(COUPON1_MS, HOLDERS, COUPON1_MS + 5))));
    assert.equal(r.code, "COUPON_ALREADY_PAID");
  });

  test("COUPON_NOT_DUE before its date; due at the date itself", () => {
    const r = expectRejection(givenBond(allotted).when(whenOf(coupon(COUPON1_MS, HOLDERS, COUPON1_MS - 1))));
    assert.equal(r.code, "COUPON_NOT_DUE");
    assert.match(r.message, new RegExp(String(COUPON1_MS)));
  });

  test("UNKNOWN_COUPON_DATE for a date not in the schedule", () => {
    assert.equal(expectRejection(givenBond(allotted).when(whenOf(coupon(COUPON1_MS + 1)))).code, "UNKNOWN_COUPON_DATE");
  });

  test("HOLDERS_MISMATCH unless the command names exactly the bond's holders", () => {
    for (const holders of [["bank-a", "bank-b"], [...HOLDERS, "ent-b"], ["bank-a", "bank-b", "ent-b"], []]) {
      const r = expectRejection(givenBond(allotted).when(whenOf(coupon(COUPON1_MS, holders))));
      assert.equal(r.code, "HOLDERS_MISMATCH", holders.join());
    }
    expectEvents(givenBond(allotted).when(whenOf(coupon(COUPON1_MS, ["ent-a", "bank-b", "bank-a"]))));
  });

  test("INSUFFICIENT_FUNDS when the issuer cannot pay every holder: nobody is paid", () => {
    // The coupon totals 750 + 500 + 250 = 1500.
    const short = givenBond([...allotted, spend("issuer-a", 1_060_000 - 1499)]);
    const r = expectRejection(short.when(whenOf(coupon(COUPON1_MS))));
    assert.equal(r.code, "INSUFFICIENT_FUNDS");
    assert.match(r.message, /issuer-a holds/);
    expectEvents(givenBond([...allotted, spend("issuer-a", 1_060_000 - 1500)]).when(whenOf(coupon(COUPON1_MS))));
  });

  test("NOT_ISSUER for another issuer; FORBIDDEN_ROLE without the issuer role", () => {
    const members = new Map<string, MemberView>([...TEST_MEMBERS, ["issuer-b", { roles: ["issuer"] }]]);
    const r = expectRejection(
      givenBond(allotted).when({ ...whenOf({ ...coupon(COUPON1_MS), signer: "issuer-b" }), ctx: { members, blockTimeMs: COUPON1_MS } }),
    );
    assert.equal(r.code, "NOT_ISSUER");
    for (const signer of ["bank-a", "reg"]) {
      assert.equal(expectRejection(givenBond(allotted).when(whenOf({ ...coupon(COUPON1_MS), signer }))).code, "FORBIDDEN_ROLE", signer);
    }
  });

  test("BOND_NOT_ALLOTTED before allotment; UNKNOWN_BOND for a bond never registered", () => {
    const subscribed = play([], [REGISTER, subscribe("bank-a", "1")]);
    assert.equal(expectRejection(givenBond(subscribed).when(whenOf(coupon(COUPON1_MS, ["bank-a"])))).code, "BOND_NOT_ALLOTTED");
    assert.equal(expectRejection(givenBond([]).when(whenOf(coupon(COUPON1_MS)))).code, "UNKNOWN_BOND");
  });
});

describe("bond redeem", () => {
  const couponsPaid = play(allotted, [coupon(COUPON1_MS), coupon(COUPON2_MS)]);

  test("at maturity the issuer pays face × units to every holder, frozen or not, and the bond is redeemed", () => {
    const frozen = play(couponsPaid, [{ signer: "reg", action: "freeze", args: { bond: BOND_ID, holder: "ent-a" }, atMs: COUPON2_MS }]);
    const then = expectAccepted(givenBond(frozen).when(whenOf(redeem())));
    const payments = [
      { holder: "bank-a", units: "300", amount: "30000" },
      { holder: "bank-b", units: "200", amount: "20000" },
      { holder: "ent-a", units: "100", amount: "10000" },
    ];
    assert.deepEqual(then.events[0], {
      type: "BondRedeemed",
      assetId: "bond/b-1",
      parties: ["bank-a", "bank-b", "ent-a", "issuer-a", "reg"],
      data: { bond: BOND_ID, payments, total: "60000" },
    });
    assert.deepEqual(
      then.events.slice(1, 4).map((e) => [e.type, e.assetId, e.parties, e.data]),
      payments.map((p) => [
        "UnitsRedeemed",
        `holding/b-1/${p.holder}`,
        [p.holder, "issuer-a", "reg"].sort(),
        { bond: BOND_ID, holder: p.holder, units: p.units, amount: p.amount },
      ]),
    );
    assert.deepEqual(
      then.events.slice(4).map((e) => [e.contract, e.data.to, e.data.amount]),
      payments.map((p) => ["cash", p.holder, p.amount]),
    );
    for (const h of HOLDERS) {
      assert.equal(then.state.get(`holding/b-1/${h}`), undefined, h);
      assert.equal(then.state.get(`held/${h}/bond/b-1`), undefined, h);
    }
    const b = then.state.get("bond/b-1") as { status: unknown; holders: unknown };
    assert.deepEqual([b.status, b.holders], ["redeemed", []]);
    assert.equal(balance(then.state, "ent-a"), String(90_000 + 500 + 10_000));
  });

  test("NOT_MATURED before maturity", () => {
    const r = expectRejection(givenBond(couponsPaid).when(whenOf(redeem(HOLDERS, MATURITY_MS - 1))));
    assert.equal(r.code, "NOT_MATURED");
  });

  test("COUPONS_UNPAID while a coupon date is unpaid", () => {
    const one = play(allotted, [coupon(COUPON1_MS)]);
    const r = expectRejection(givenBond(one).when(whenOf(redeem())));
    assert.equal(r.code, "COUPONS_UNPAID");
    assert.match(r.message, new RegExp(String(COUPON2_MS)));
  });

  test("ALREADY_REDEEMED the second time; after it no coupon, trade or freeze", () => {
    const redeemed = play(couponsPaid, [redeem()]);
    const g = givenBond(redeemed);
    assert.equal(expectRejection(g.when(whenOf(redeem([], MATURITY_MS + 1)))).code, "ALREADY_REDEEMED");
    assert.equal(expectRejection(g.when(whenOf(coupon(COUPON2_MS, [])))).code, "BOND_REDEEMED");
    assert.equal(expectRejection(g.when(whenOf(transfer("bank-a", "bank-b", "1", "1", MATURITY_MS - 1)))).code, "BOND_REDEEMED");
    const freeze: Step = { signer: "reg", action: "freeze", args: { bond: BOND_ID, holder: "bank-a" }, atMs: MATURITY_MS };
    assert.equal(expectRejection(g.when(whenOf(freeze))).code, "NO_HOLDING");
  });

  test("HOLDERS_MISMATCH unless the command names exactly the bond's holders", () => {
    assert.equal(expectRejection(givenBond(couponsPaid).when(whenOf(redeem(["bank-a", "bank-b"])))).code, "HOLDERS_MISMATCH");
  });

  test("INSUFFICIENT_FUNDS when the issuer cannot repay every holder: nothing moves", () => {
    // issuer-a has 1 060 000 − 3000 in coupons; it owes 60 000.
    const short = givenBond([...couponsPaid, spend("issuer-a", 1_057_000 - 59_999)]);
    assert.equal(expectRejection(short.when(whenOf(redeem()))).code, "INSUFFICIENT_FUNDS");
    expectEvents(givenBond([...couponsPaid, spend("issuer-a", 1_057_000 - 60_000)]).when(whenOf(redeem())));
  });

  test("NOT_ISSUER, FORBIDDEN_ROLE and BOND_NOT_ALLOTTED", () => {
    const members = new Map<string, MemberView>([...TEST_MEMBERS, ["issuer-b", { roles: ["issuer"] }]]);
    const r = expectRejection(
      givenBond(couponsPaid).when({ ...whenOf({ ...redeem(), signer: "issuer-b" }), ctx: { members, blockTimeMs: MATURITY_MS } }),
    );
    assert.equal(r.code, "NOT_ISSUER");
    assert.equal(expectRejection(givenBond(couponsPaid).when(whenOf({ ...redeem(), signer: "bank-a" }))).code, "FORBIDDEN_ROLE");
    const subscribed = play([], [REGISTER, subscribe("bank-a", "1")]);
    assert.equal(expectRejection(givenBond(subscribed).when(whenOf(redeem(["bank-a"])))).code, "BOND_NOT_ALLOTTED");
  });
});

describe("bond queries", () => {
  const traded = play([...allotted, cashIssued("ent-b", "100000")], [transfer("ent-a", "ent-b", "40", "4000")]);
  const g = givenBond(traded);

  test("bond and holding return the state, or null when absent", () => {
    assert.equal((g.query("bond", { id: BOND_ID }) as { status: string }).status, "allotted");
    assert.equal(g.query("bond", { id: "b-9" }), null);
    assert.deepEqual(g.query("holding", { bond: BOND_ID, holder: "ent-b" }), {
      bond: BOND_ID,
      holder: "ent-b",
      units: "40",
      frozen: false,
      frozenReason: null,
      parties: ["ent-b", "issuer-a", "reg"],
    });
    assert.equal(g.query("holding", { bond: BOND_ID, holder: "clear-a" }), null);
  });

  test("holders lists every holding of the bond, by holder; null for an unknown bond", () => {
    assert.deepEqual(withoutParties(g.query("holders", { bond: BOND_ID })), {
      bond: BOND_ID,
      holders: [
        { holder: "bank-a", units: "300", frozen: false },
        { holder: "bank-b", units: "200", frozen: false },
        { holder: "ent-a", units: "60", frozen: false },
        { holder: "ent-b", units: "40", frozen: false },
      ],
    });
    assert.equal(g.query("holders", { bond: "b-9" }), null);
  });

  test("holders does not mix in a bond whose id extends another's", () => {
    const two = play(traded, [{ ...REGISTER, args: { ...(REGISTER.args as object), bond: "b-10" } }]);
    assert.equal((givenBond(two).query("holders", { bond: BOND_ID }) as { holders: unknown[] }).holders.length, 4);
    assert.deepEqual(withoutParties(givenBond(two).query("holders", { bond: "b-10" })), { bond: "b-10", holders: [] });
  });

  test("portfolio lists a holder's bonds from its index", () => {
    assert.deepEqual(g.query("portfolio", { holder: "ent-a" }), {
      holder: "ent-a",
      holdings: [{ key: "bond/b-1", bond: BOND_ID, units: "60", holding: "holding/b-1/ent-a" }],
    });
    assert.deepEqual(g.query("portfolio", { holder: "clear-a" }), { holder: "clear-a", holdings: [] });
  });

  test("queries refuse bad args; unknown queries are refused", () => {
    for (const [name, args] of [
      ["bond", {}],
      ["bond", { id: "B-1" }],
      ["bond", { id: BOND_ID, extra: 1 }],
      ["holding", { bond: BOND_ID }],
      ["holders", { bond: 5 }],
      ["portfolio", { holder: "" }],
    ] as const) {
      assert.equal(expectRejection(g.query(name, args)).code, "BAD_ARGS", `${name} ${JSON.stringify(args)}`);
    }
    assert.equal(expectRejection(g.query("history", { id: BOND_ID })).code, "UNKNOWN_QUERY");
  });
});

describe("bond evolve", () => {
  test("malformed or impossible events are invariant violations", () => {
    const base = new Map(givenBond(allotted).state);
    const bad: ContractEvent[] = [
      { type: "BondSmelted", assetId: "bond/b-1", parties: [], data: { bond: BOND_ID } },
      { type: "BondRegistered", assetId: "bond/b-1", parties: [], data: (allotted[4] as ContractEvent).data },
      { type: "CouponPaid", assetId: "bond/b-1", parties: [], data: { bond: BOND_ID, couponDateMs: 5 } },
      {
        type: "UnitsRedeemed",
        assetId: "holding/b-1/ent-b",
        parties: [],
        data: { bond: BOND_ID, holder: "ent-b", units: "1", amount: "100" },
      },
      {
        type: "UnitsDelivered",
        assetId: "holding/b-1/ent-a",
        parties: [],
        data: { bond: BOND_ID, seller: "ent-a", units: "101", sellerUnitsAfter: "0" },
      },
      { type: "HoldingUnfrozen", assetId: "holding/b-1/ent-a", parties: [], data: { bond: BOND_ID, holder: "ent-a", regulator: "reg" } },
      { type: "BondSubscribed", assetId: "bond/b-1", parties: [], data: { bond: BOND_ID, investor: "x", units: "1", demandUnits: "1" } },
      { type: "BondTraded", assetId: "bond/b-1", parties: [], data: { bond: "b-9", seller: "a", buyer: "b", sellerUnitsAfter: "0" } },
    ];
    for (const e of bad) assert.throws(() => foldEvents(bond, base, [e]), InvariantError, e.type);
  });
});

test("bond is deterministic: the same inputs give deep-equal outputs and the same bytes", () => {
  const run = () => givenBond(allotted).when(whenOf(coupon(COUPON1_MS)));
  const a = expectAccepted(run());
  const b = expectAccepted(run());
  assert.deepEqual(a, b);
  assert.equal(canonicalJson([a.events, [...a.updates]]), canonicalJson([b.events, [...b.updates]]));
});
