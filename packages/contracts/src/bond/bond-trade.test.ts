// Trading a bond by delivery-versus-payment, and the regulator's freeze.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import type { ContractEvent, MemberView } from "../contract.js";
import { expectAccepted, expectEvents, expectRejection } from "../testing/given-when-then.js";
import { TEST_MEMBERS } from "../testing/test-genesis.js";
import { BOND_PARTIES_MAX, HOLDERS_MAX } from "./bond-commands.js";
import {
  allot,
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

// bank-a holds 300, bank-b 200, ent-a 100; cash left: bank-a 70000, bank-b 80000, ent-a 90000.
const allotted = allottedHistory();

function freeze(holder: string, reason?: string): Step {
  return {
    signer: "reg",
    action: "freeze",
    args: { bond: BOND_ID, holder, ...(reason === undefined ? {} : { reason }) },
    atMs: SUB_END_MS + 1,
  };
}

function unfreeze(holder: string): Step {
  return { signer: "reg", action: "unfreeze", args: { bond: BOND_ID, holder }, atMs: SUB_END_MS + 2 };
}

function membersWith(...extra: [string, string][]): Map<string, MemberView> {
  return new Map<string, MemberView>([...TEST_MEMBERS, ...extra.map(([id, role]): [string, MemberView] => [id, { roles: [role] }])]);
}

describe("bond transfer (DvP)", () => {
  test("units move seller to buyer and the price moves buyer to seller, in one transaction", () => {
    const then = expectAccepted(givenBond(allotted).when(whenOf(transfer("bank-a", "bank-b", "100", "9500"))));
    const parties = ["bank-a", "bank-b", "issuer-a", "reg"];
    const data = {
      bond: BOND_ID,
      seller: "bank-a",
      buyer: "bank-b",
      units: "100",
      price: "9500",
      sellerUnitsAfter: "200",
      buyerUnitsAfter: "300",
    };
    assert.deepEqual(then.events, [
      { type: "BondTraded", assetId: "bond/b-1", parties, data },
      { type: "UnitsDelivered", assetId: "holding/b-1/bank-a", parties, data },
      { type: "UnitsReceived", assetId: "holding/b-1/bank-b", parties, data },
      {
        contract: "cash",
        type: "CashTransferred",
        assetId: "acct/bank-b",
        parties: ["bank-b", "bank-a"],
        data: { from: "bank-b", to: "bank-a", amount: "9500", memo: "bond b-1 100 units" },
      },
    ]);
    assert.equal((then.state.get("holding/b-1/bank-a") as { units: string }).units, "200");
    assert.equal((then.state.get("holding/b-1/bank-b") as { units: string }).units, "300");
    assert.deepEqual(then.state.get("held/bank-b/bond/b-1"), { bond: BOND_ID, units: "300", holding: "holding/b-1/bank-b" });
    assert.deepEqual(then.state.get("cash:acct/bank-a"), { balance: "79500" });
    assert.deepEqual(then.state.get("cash:acct/bank-b"), { balance: "70500" });
  });

  test("the buyer may be the body signer", () => {
    const step = transfer("bank-a", "bank-b", "1", "1");
    expectEvents(givenBond(allotted).when(whenOf({ ...step, signer: "bank-b", signers: ["bank-b", "bank-a"] })));
  });

  test("a new buyer joins the holders; a seller selling out leaves them, its holding and index entry deleted", () => {
    const events = play([...allotted, cashIssued("ent-b", "50000")], [transfer("ent-a", "ent-b", "100", "10000")]);
    const g = givenBond(events);
    const bond = g.query("bond", { id: BOND_ID }) as { holders: unknown; parties: unknown };
    assert.deepEqual(bond.holders, ["bank-a", "bank-b", "ent-b"]);
    assert.deepEqual(bond.parties, ["bank-a", "bank-b", "ent-a", "ent-b", "issuer-a", "reg"]);
    assert.equal(g.state.get("holding/b-1/ent-a"), undefined);
    assert.equal(g.state.get("held/ent-a/bond/b-1"), undefined);
    assert.deepEqual(g.state.get("holding/b-1/ent-b"), {
      bond: BOND_ID,
      holder: "ent-b",
      units: "100",
      frozen: false,
      frozenReason: null,
      parties: ["ent-b", "issuer-a", "reg"],
    });
  });

  test("MISSING_SIGNATURE unless both seller and buyer sign", () => {
    const step = transfer("bank-a", "bank-b", "1", "1");
    for (const [signer, signers] of [
      ["bank-a", ["bank-a"]],
      ["bank-b", ["bank-b"]],
      ["bank-a", ["bank-a", "ent-a"]],
    ] as const) {
      const r = expectRejection(givenBond(allotted).when(whenOf({ ...step, signer, signers })));
      assert.equal(r.code, "MISSING_SIGNATURE", signers.join());
    }
  });

  test("NOT_PARTY when the body signer is neither seller nor buyer", () => {
    const step = transfer("bank-a", "bank-b", "1", "1");
    const r = expectRejection(givenBond(allotted).when(whenOf({ ...step, signer: "ent-a", signers: ["ent-a", "bank-a", "bank-b"] })));
    assert.equal(r.code, "NOT_PARTY");
  });

  test("SELF_TRANSFER when seller and buyer are the same", () => {
    assert.equal(expectRejection(givenBond(allotted).when(whenOf(transfer("bank-a", "bank-a", "1", "1")))).code, "SELF_TRANSFER");
  });

  test("INSUFFICIENT_UNITS when transferring more than held, or holding none", () => {
    const r = expectRejection(givenBond(allotted).when(whenOf(transfer("bank-a", "bank-b", "301", "1"))));
    assert.equal(r.code, "INSUFFICIENT_UNITS");
    assert.match(r.message, /300.*301/);
    const none = expectRejection(givenBond([...allotted, cashIssued("ent-b", "1")]).when(whenOf(transfer("ent-b", "bank-a", "1", "1"))));
    assert.equal(none.code, "INSUFFICIENT_UNITS");
    expectEvents(givenBond(allotted).when(whenOf(transfer("bank-a", "bank-b", "300", "1"))));
  });

  test("INSUFFICIENT_FUNDS when the buyer cannot pay: nothing moves", () => {
    const r = expectRejection(givenBond(allotted).when(whenOf(transfer("bank-a", "bank-b", "1", "80001"))));
    assert.equal(r.code, "INSUFFICIENT_FUNDS");
    assert.match(r.message, /bank-b holds 80000/);
    expectEvents(givenBond(allotted).when(whenOf(transfer("bank-a", "bank-b", "1", "80000"))));
  });

  test("HOLDING_FROZEN when the seller's or the buyer's holding is frozen", () => {
    const frozen = play(allotted, [freeze("bank-a")]);
    const sell = expectRejection(givenBond(frozen).when(whenOf(transfer("bank-a", "bank-b", "1", "1"))));
    assert.equal(sell.code, "HOLDING_FROZEN");
    assert.match(sell.message, /bank-a/);
    assert.equal(expectRejection(givenBond(frozen).when(whenOf(transfer("bank-b", "bank-a", "1", "1")))).code, "HOLDING_FROZEN");
    expectEvents(givenBond(frozen).when(whenOf(transfer("bank-b", "ent-a", "1", "1"))));
  });

  test("BOND_NOT_ALLOTTED before allotment, BOND_MATURED from maturity, BOND_REDEEMED after redemption", () => {
    const subscribed = play([], [REGISTER, subscribe("bank-a", "1")]);
    assert.equal(expectRejection(givenBond(subscribed).when(whenOf(transfer("bank-a", "bank-b", "1", "1")))).code, "BOND_NOT_ALLOTTED");
    const atMaturity = transfer("bank-a", "bank-b", "1", "1", MATURITY_MS);
    assert.equal(expectRejection(givenBond(allotted).when(whenOf(atMaturity))).code, "BOND_MATURED");
    expectEvents(givenBond(allotted).when(whenOf(transfer("bank-a", "bank-b", "1", "1", MATURITY_MS - 1))));
    const coupon = (couponDateMs: number): Step => ({
      signer: "issuer-a",
      action: "coupon",
      args: { bond: BOND_ID, couponDateMs, holders: [] },
      atMs: MATURITY_MS,
    });
    const redeem: Step = { signer: "issuer-a", action: "redeem", args: { bond: BOND_ID, holders: [] }, atMs: MATURITY_MS };
    const redeemed = play([], [REGISTER, allot([]), coupon(COUPON1_MS), coupon(COUPON2_MS), redeem]);
    assert.equal(expectRejection(givenBond(redeemed).when(whenOf(atMaturity))).code, "BOND_REDEEMED");
  });

  test("FORBIDDEN_ROLE for a regulator, as body signer or as the other party", () => {
    const step = transfer("reg", "bank-b", "1", "1");
    assert.equal(expectRejection(givenBond(allotted).when(whenOf(step))).code, "FORBIDDEN_ROLE");
    const r = expectRejection(givenBond(allotted).when(whenOf({ ...transfer("bank-a", "reg", "1", "1") })));
    assert.equal(r.code, "FORBIDDEN_ROLE");
    assert.match(r.message, /reg/);
  });

  test("UNKNOWN_BOND for a bond never registered", () => {
    assert.equal(expectRejection(givenBond([]).when(whenOf(transfer("bank-a", "bank-b", "1", "1")))).code, "UNKNOWN_BOND");
  });

  test("TOO_MANY_HOLDERS when a new buyer would pass the bound; a seller selling out makes room", () => {
    const investors = Array.from({ length: HOLDERS_MAX }, (_, i) => `inv-${i}`);
    const members = membersWith(...investors.map((i): [string, string] => [i, "bank"]));
    const events: ContractEvent[] = [...play([], [REGISTER]), cashIssued("bank-a", "10")];
    events.push({
      type: "BondAllotted",
      assetId: "bond/b-1",
      parties: [],
      data: {
        bond: BOND_ID,
        allotments: investors.map((i) => ({ investor: i, demandUnits: "2", allottedUnits: "2", paid: true, units: "2" })),
        unitsAllotted: String(2 * HOLDERS_MAX),
      },
    });
    for (const i of investors)
      events.push({
        type: "UnitsAllotted",
        assetId: `holding/b-1/${i}`,
        parties: [],
        data: { bond: BOND_ID, holder: i, units: "2", cost: "200" },
      });
    const g = givenBond(events);
    const r = expectRejection(
      g.when({
        ...whenOf(transfer("inv-0", "bank-a", "1", "1")),
        ctx: { members, signers: ["inv-0", "bank-a"], blockTimeMs: SUB_END_MS + 1 },
      }),
    );
    assert.equal(r.code, "TOO_MANY_HOLDERS");
    expectEvents(
      g.when({
        ...whenOf(transfer("inv-0", "bank-a", "2", "1")),
        ctx: { members, signers: ["inv-0", "bank-a"], blockTimeMs: SUB_END_MS + 1 },
      }),
    );
  });

  test("TOO_MANY_PARTIES when a newcomer would pass the bond's bound on parties", () => {
    const others = Array.from({ length: BOND_PARTIES_MAX - 3 }, (_, i) => `old-${i}`);
    const events: ContractEvent[] = [...play([], [REGISTER, subscribe("bank-a", "5")]), cashIssued("newcomer", "10")];
    for (const o of others) {
      events.push({
        type: "BondSubscribed",
        assetId: "bond/b-1",
        parties: [],
        data: { bond: BOND_ID, investor: o, units: "1", demandUnits: "1" },
      });
    }
    events.push({
      type: "BondAllotted",
      assetId: "bond/b-1",
      parties: [],
      data: {
        bond: BOND_ID,
        allotments: [{ investor: "bank-a", demandUnits: "5", allottedUnits: "5", paid: true, units: "5" }],
        unitsAllotted: "5",
      },
    });
    events.push({
      type: "UnitsAllotted",
      assetId: "holding/b-1/bank-a",
      parties: [],
      data: { bond: BOND_ID, holder: "bank-a", units: "5", cost: "500" },
    });
    const members = membersWith(["newcomer", "bank"]);
    const g = givenBond(events);
    const ctx = { members, signers: ["bank-a", "newcomer"], blockTimeMs: SUB_END_MS + 1 };
    assert.equal(expectRejection(g.when({ ...whenOf(transfer("bank-a", "newcomer", "1", "1")), ctx })).code, "TOO_MANY_PARTIES");
    // An institution already party to the bond may still buy.
    const old = { members: membersWith(["old-0", "bank"]), signers: ["bank-a", "old-0"], blockTimeMs: SUB_END_MS + 1 };
    expectEvents(givenBond([...events, cashIssued("old-0", "1")]).when({ ...whenOf(transfer("bank-a", "old-0", "1", "1")), ctx: old }));
  });
});

describe("bond freeze and unfreeze", () => {
  test("the bond's regulator freezes a holding with a reason; the event is recorded on the holding", () => {
    const then = expectAccepted(givenBond(allotted).when(whenOf(freeze("ent-a", "sanctions screening"))));
    assert.deepEqual(then.events, [
      {
        type: "HoldingFrozen",
        assetId: "holding/b-1/ent-a",
        parties: ["ent-a", "issuer-a", "reg"],
        data: { bond: BOND_ID, holder: "ent-a", regulator: "reg", reason: "sanctions screening" },
      },
    ]);
    const h = then.state.get("holding/b-1/ent-a") as { frozen: unknown; frozenReason: unknown; units: unknown };
    assert.deepEqual([h.frozen, h.frozenReason, h.units], [true, "sanctions screening", "100"]);
  });

  test("a freeze without a reason records null; unfreezing lets the holding trade again", () => {
    const frozen = play(allotted, [freeze("ent-a")]);
    assert.equal(frozen.at(-1)?.data.reason, null);
    const then = expectAccepted(givenBond(frozen).when(whenOf(unfreeze("ent-a"))));
    assert.deepEqual(then.events, [
      {
        type: "HoldingUnfrozen",
        assetId: "holding/b-1/ent-a",
        parties: ["ent-a", "issuer-a", "reg"],
        data: { bond: BOND_ID, holder: "ent-a", regulator: "reg" },
      },
    ]);
    const h = then.state.get("holding/b-1/ent-a") as { frozen: unknown; frozenReason: unknown };
    assert.deepEqual([h.frozen, h.frozenReason], [false, null]);
    expectEvents(givenBond([...frozen, ...then.events]).when(whenOf(transfer("ent-a", "bank-a", "1", "1"))));
  });

  test("FORBIDDEN_ROLE: freezing is the regulator's act only", () => {
    for (const signer of ["issuer-a", "bank-a", "ent-a", "clear-a"]) {
      assert.equal(expectRejection(givenBond(allotted).when(whenOf({ ...freeze("ent-a"), signer }))).code, "FORBIDDEN_ROLE", signer);
      assert.equal(expectRejection(givenBond(allotted).when(whenOf({ ...unfreeze("ent-a"), signer }))).code, "FORBIDDEN_ROLE", signer);
    }
  });

  test("NOT_BOND_REGULATOR when another regulator tries", () => {
    const members = membersWith(["reg-2", "regulator"]);
    const r = expectRejection(
      givenBond(allotted).when({ ...whenOf({ ...freeze("ent-a"), signer: "reg-2" }), ctx: { members, blockTimeMs: SUB_END_MS + 1 } }),
    );
    assert.equal(r.code, "NOT_BOND_REGULATOR");
  });

  test("NO_HOLDING when the institution holds no units, or the bond is not allotted yet", () => {
    assert.equal(expectRejection(givenBond(allotted).when(whenOf(freeze("ent-b")))).code, "NO_HOLDING");
    const subscribed = play([], [REGISTER, subscribe("bank-a", "1")]);
    assert.equal(expectRejection(givenBond(subscribed).when(whenOf(freeze("bank-a")))).code, "NO_HOLDING");
  });

  test("ALREADY_FROZEN and NOT_FROZEN", () => {
    const frozen = play(allotted, [freeze("ent-a")]);
    assert.equal(expectRejection(givenBond(frozen).when(whenOf(freeze("ent-a")))).code, "ALREADY_FROZEN");
    assert.equal(expectRejection(givenBond(allotted).when(whenOf(unfreeze("ent-a")))).code, "NOT_FROZEN");
  });

  test("UNKNOWN_BOND for a bond never registered", () => {
    assert.equal(expectRejection(givenBond([]).when(whenOf(freeze("ent-a")))).code, "UNKNOWN_BOND");
  });
});
