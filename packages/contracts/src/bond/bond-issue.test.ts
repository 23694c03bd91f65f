// Issuing a bond: register, subscribe, allot.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import type { MemberView } from "../contract.js";
import { expectAccepted, expectEvents, expectRejection } from "../testing/given-when-then.js";
import { TEST_MEMBERS } from "../testing/test-genesis.js";
import { HOLDERS_MAX } from "./bond-commands.js";
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
  prospectus,
  REGISTER,
  SUB_END_MS,
  subscribe,
  T0_MS,
  whenOf,
} from "./bond-fixtures.js";

const registered = play([], [REGISTER]);

describe("bond register", () => {
  test("an issuer registers a bond; the regulator is party to it and to the event", () => {
    const then = expectAccepted(givenBond([]).when(whenOf(REGISTER)));
    const data = {
      bond: BOND_ID,
      issuer: "issuer-a",
      regulator: "reg",
      faceValue: "100",
      couponRateBp: 500,
      couponsPerYear: 2,
      couponDatesMs: [COUPON1_MS, COUPON2_MS],
      maturityMs: MATURITY_MS,
      sizeUnits: "1000",
      subscriptionEndMs: SUB_END_MS,
      prospectusHash: null,
      registeredAtMs: T0_MS,
    };
    assert.deepEqual(then.events, [{ type: "BondRegistered", assetId: "bond/b-1", parties: ["issuer-a", "reg"], data }]);
    const state = then.state.get("bond/b-1");
    assert.deepEqual(state, {
      id: BOND_ID,
      issuer: "issuer-a",
      regulator: "reg",
      faceValue: "100",
      couponRateBp: 500,
      couponsPerYear: 2,
      couponDatesMs: [COUPON1_MS, COUPON2_MS],
      maturityMs: MATURITY_MS,
      sizeUnits: "1000",
      subscriptionEndMs: SUB_END_MS,
      prospectusHash: null,
      registeredAtMs: T0_MS,
      status: "subscribing",
      subscriptions: [],
      unitsAllotted: "0",
      holders: [],
      couponsPaidMs: [],
      parties: ["issuer-a", "reg"],
    });
    assert.deepEqual(givenBond(then.events).query("bond", { id: BOND_ID }), state);
  });

  test("a prospectus hash is recorded when given", () => {
    const hash = "ab".repeat(32);
    const events = expectEvents(givenBond([]).when(whenOf({ ...REGISTER, args: prospectus({ prospectusHash: hash }) })));
    assert.equal(events[0]?.data.prospectusHash, hash);
  });

  test("FORBIDDEN_ROLE for anyone without the issuer role", () => {
    for (const signer of ["bank-a", "ent-a", "reg", "clear-a"]) {
      const r = expectRejection(givenBond([]).when(whenOf({ ...REGISTER, signer })));
      assert.equal(r.code, "FORBIDDEN_ROLE", signer);
    }
  });

  test("ALREADY_REGISTERED names the first issuer", () => {
    const members = new Map<string, MemberView>([...TEST_MEMBERS, ["issuer-b", { roles: ["issuer"] }]]);
    const r = expectRejection(
      givenBond(registered).when({ ...whenOf({ ...REGISTER, signer: "issuer-b" }), ctx: { members, blockTimeMs: T0_MS } }),
    );
    assert.equal(r.code, "ALREADY_REGISTERED");
    assert.match(r.message, /issuer-a/);
  });

  test("NOT_REGULATOR when the named regulator is not a member with the regulator role", () => {
    for (const regulator of ["bank-a", "nobody"]) {
      const r = expectRejection(givenBond([]).when(whenOf({ ...REGISTER, args: prospectus({ regulator }) })));
      assert.equal(r.code, "NOT_REGULATOR", regulator);
      assert.match(r.message, new RegExp(regulator));
    }
  });

  test("SCHEDULE_IN_PAST when the subscription window has already ended", () => {
    for (const atMs of [SUB_END_MS, SUB_END_MS + 1]) {
      assert.equal(expectRejection(givenBond([]).when(whenOf({ ...REGISTER, atMs }))).code, "SCHEDULE_IN_PAST");
    }
    expectEvents(givenBond([]).when(whenOf({ ...REGISTER, atMs: SUB_END_MS - 1 })));
  });
});

describe("bond subscribe", () => {
  test("records demand only: no cash moves, the regulator and issuer see it", () => {
    const then = expectAccepted(givenBond(registered).when(whenOf(subscribe("bank-a", "300"))));
    assert.deepEqual(then.events, [
      {
        type: "BondSubscribed",
        assetId: "bond/b-1",
        parties: ["bank-a", "issuer-a", "reg"],
        data: { bond: BOND_ID, investor: "bank-a", units: "300", demandUnits: "300" },
      },
    ]);
    const bond = then.state.get("bond/b-1") as { subscriptions: unknown; parties: unknown };
    assert.deepEqual(bond.subscriptions, [{ investor: "bank-a", units: "300" }]);
    assert.deepEqual(bond.parties, ["bank-a", "issuer-a", "reg"]);
  });

  test("an investor's subscriptions add up and keep the order of its first one", () => {
    const events = play(registered, [subscribe("ent-a", "10"), subscribe("bank-a", "5"), subscribe("ent-a", "7")]);
    const bond = givenBond(events).query("bond", { id: BOND_ID }) as { subscriptions: unknown };
    assert.deepEqual(bond.subscriptions, [
      { investor: "ent-a", units: "17" },
      { investor: "bank-a", units: "5" },
    ]);
    assert.equal(events.at(-1)?.data.demandUnits, "17");
  });

  test("SUBSCRIPTION_CLOSED outside the window: at its end and after; accepted just before", () => {
    expectEvents(givenBond(registered).when(whenOf(subscribe("bank-a", "1", SUB_END_MS - 1))));
    for (const atMs of [SUB_END_MS, SUB_END_MS + 1, MATURITY_MS + 1]) {
      const r = expectRejection(givenBond(registered).when(whenOf(subscribe("bank-a", "1", atMs))));
      assert.equal(r.code, "SUBSCRIPTION_CLOSED", String(atMs));
      assert.match(r.message, new RegExp(String(SUB_END_MS)));
    }
  });

  test("SUBSCRIPTION_CLOSED once the bond is allotted", () => {
    const r = expectRejection(givenBond(allottedHistory()).when(whenOf(subscribe("ent-b", "1", SUB_END_MS + 1))));
    assert.equal(r.code, "SUBSCRIPTION_CLOSED");
  });

  test("SELF_SUBSCRIPTION when the issuer subscribes to its own bond", () => {
    assert.equal(expectRejection(givenBond(registered).when(whenOf(subscribe("issuer-a", "1")))).code, "SELF_SUBSCRIPTION");
  });

  test("SUBSCRIPTION_OVER_SIZE when an investor's demand would pass the bond's size", () => {
    const events = play(registered, [subscribe("bank-a", "600")]);
    const r = expectRejection(givenBond(events).when(whenOf(subscribe("bank-a", "401"))));
    assert.equal(r.code, "SUBSCRIPTION_OVER_SIZE");
    assert.match(r.message, /1001/);
    expectEvents(givenBond(events).when(whenOf(subscribe("bank-a", "400"))));
  });

  test("TOO_MANY_SUBSCRIBERS past the bound; an existing subscriber may still add", () => {
    const investors = Array.from({ length: HOLDERS_MAX + 1 }, (_, i) => `inv-${i}`);
    const members = new Map<string, MemberView>([...TEST_MEMBERS, ...investors.map((i): [string, MemberView] => [i, { roles: ["bank"] }])]);
    const events = [...registered];
    for (const inv of investors.slice(0, HOLDERS_MAX)) {
      events.push({
        type: "BondSubscribed",
        assetId: "bond/b-1",
        parties: [inv, "issuer-a", "reg"],
        data: { bond: BOND_ID, investor: inv, units: "1", demandUnits: "1" },
      });
    }
    const g = givenBond(events);
    const last = investors[HOLDERS_MAX]!;
    const r = expectRejection(g.when({ ...whenOf(subscribe(last, "1")), ctx: { members, blockTimeMs: T0_MS + 1 } }));
    assert.equal(r.code, "TOO_MANY_SUBSCRIBERS");
    expectEvents(g.when({ ...whenOf(subscribe("inv-0", "1")), ctx: { members, blockTimeMs: T0_MS + 1 } }));
  });

  test("UNKNOWN_BOND for a bond never registered", () => {
    assert.equal(expectRejection(givenBond([]).when(whenOf(subscribe("bank-a", "1")))).code, "UNKNOWN_BOND");
  });

  test("FORBIDDEN_ROLE for the regulator", () => {
    assert.equal(expectRejection(givenBond(registered).when(whenOf(subscribe("reg", "1")))).code, "FORBIDDEN_ROLE");
  });
});

describe("bond allot", () => {
  test("undersubscribed: everyone gets its demand and pays face × units to the issuer, atomically", () => {
    const start = [cashIssued("bank-a", "50000"), cashIssued("ent-a", "10000")];
    const events = play(start, [REGISTER, subscribe("bank-a", "300"), subscribe("ent-a", "100")]);
    const then = expectAccepted(givenBond(events).when(whenOf(allot(["ent-a", "bank-a"]))));
    assert.deepEqual(then.events[0], {
      type: "BondAllotted",
      assetId: "bond/b-1",
      parties: ["bank-a", "ent-a", "issuer-a", "reg"],
      data: {
        bond: BOND_ID,
        allotments: [
          { investor: "bank-a", demandUnits: "300", allottedUnits: "300", paid: true, units: "300" },
          { investor: "ent-a", demandUnits: "100", allottedUnits: "100", paid: true, units: "100" },
        ],
        unitsAllotted: "400",
      },
    });
    assert.deepEqual(
      then.events.slice(1).map((e) => [e.contract ?? "bond", e.type, e.assetId, e.data.amount ?? e.data.units]),
      [
        ["bond", "UnitsAllotted", "holding/b-1/bank-a", "300"],
        ["bond", "UnitsAllotted", "holding/b-1/ent-a", "100"],
        ["cash", "CashTransferred", "acct/bank-a", "30000"],
        ["cash", "CashTransferred", "acct/ent-a", "10000"],
      ],
    );
    assert.deepEqual(then.state.get("cash:acct/bank-a"), { balance: "20000" });
    assert.deepEqual(then.state.get("cash:acct/ent-a"), { balance: "0" });
    assert.deepEqual(then.state.get("cash:acct/issuer-a"), { balance: "40000" });
    assert.deepEqual(then.state.get("holding/b-1/bank-a"), {
      bond: BOND_ID,
      holder: "bank-a",
      units: "300",
      frozen: false,
      frozenReason: null,
      parties: ["bank-a", "issuer-a", "reg"],
    });
    assert.deepEqual(then.state.get("held/ent-a/bond/b-1"), { bond: BOND_ID, units: "100", holding: "holding/b-1/ent-a" });
    const bond = then.state.get("bond/b-1") as { status: unknown; holders: unknown; unitsAllotted: unknown };
    assert.deepEqual([bond.status, bond.holders, bond.unitsAllotted], ["allotted", ["bank-a", "ent-a"], "400"]);
  });

  test("oversubscribed: pro rata by floor, the remainder one unit each in subscriber order", () => {
    const start = ["ent-a", "bank-b", "bank-a", "ent-b"].map((i) => cashIssued(i, "10000"));
    const events = play(start, [
      { ...REGISTER, args: prospectus({ sizeUnits: "10" }) },
      subscribe("ent-a", "3"),
      subscribe("bank-b", "3"),
      subscribe("bank-a", "3"),
      subscribe("ent-b", "3"),
    ]);
    const then = expectAccepted(givenBond(events).when(whenOf(allot(["bank-a", "bank-b", "ent-a", "ent-b"]))));
    const allotments = then.events[0]?.data.allotments as { investor: string; units: string }[];
    // 3 × 10 / 12 = 2.5, floored to 2 each: 8; the 2 left go to ent-a and bank-b, who subscribed first.
    assert.deepEqual(
      allotments.map((a) => [a.investor, a.units]),
      [
        ["ent-a", "3"],
        ["bank-b", "3"],
        ["bank-a", "2"],
        ["ent-b", "2"],
      ],
    );
    assert.equal(then.events[0]?.data.unitsAllotted, "10");
    assert.deepEqual(then.state.get("cash:acct/issuer-a"), { balance: "1000" });
  });

  test("an investor short of cash is skipped: it gets nothing and its share is not issued", () => {
    const events = play(
      [cashIssued("bank-a", "30000"), cashIssued("ent-a", "9999")],
      [REGISTER, subscribe("bank-a", "300"), subscribe("ent-a", "100")],
    );
    const then = expectAccepted(givenBond(events).when(whenOf(allot(["bank-a", "ent-a"]))));
    assert.deepEqual(then.events[0]?.data.allotments, [
      { investor: "bank-a", demandUnits: "300", allottedUnits: "300", paid: true, units: "300" },
      { investor: "ent-a", demandUnits: "100", allottedUnits: "100", paid: false, units: "0" },
    ]);
    assert.equal(then.events[0]?.data.unitsAllotted, "300");
    assert.equal(then.state.get("holding/b-1/ent-a"), undefined);
    assert.deepEqual(then.state.get("cash:acct/ent-a"), { balance: "9999" });
    assert.deepEqual((then.state.get("bond/b-1") as { holders: unknown }).holders, ["bank-a"]);
  });

  test("a bond nobody subscribed to is allotted with no holders", () => {
    const then = expectAccepted(givenBond(registered).when(whenOf(allot([]))));
    assert.deepEqual(then.events[0]?.data, { bond: BOND_ID, allotments: [], unitsAllotted: "0" });
    assert.equal(then.events.length, 1);
  });

  test("NOT_ISSUER when another issuer allots; FORBIDDEN_ROLE without the issuer role", () => {
    const events = play([cashIssued("bank-a", "1000")], [REGISTER, subscribe("bank-a", "1")]);
    const members = new Map<string, MemberView>([...TEST_MEMBERS, ["issuer-b", { roles: ["issuer"] }]]);
    const step = allot(["bank-a"]);
    const r = expectRejection(
      givenBond(events).when({ ...whenOf({ ...step, signer: "issuer-b" }), ctx: { members, blockTimeMs: SUB_END_MS } }),
    );
    assert.equal(r.code, "NOT_ISSUER");
    assert.match(r.message, /issuer-a/);
    for (const signer of ["bank-a", "reg"]) {
      assert.equal(expectRejection(givenBond(events).when(whenOf({ ...step, signer }))).code, "FORBIDDEN_ROLE", signer);
    }
  });

  test("ALREADY_ALLOTTED the second time", () => {
    const r = expectRejection(givenBond(allottedHistory()).when(whenOf(allot(["bank-a", "bank-b", "ent-a"], SUB_END_MS + 5))));
    assert.equal(r.code, "ALREADY_ALLOTTED");
  });

  test("SUBSCRIPTION_OPEN before the window closes", () => {
    const events = play([cashIssued("bank-a", "1000")], [REGISTER, subscribe("bank-a", "1")]);
    const r = expectRejection(givenBond(events).when(whenOf(allot(["bank-a"], SUB_END_MS - 1))));
    assert.equal(r.code, "SUBSCRIPTION_OPEN");
  });

  test("BOND_MATURED when the issuer would allot at or after maturity", () => {
    const events = play([cashIssued("bank-a", "1000")], [REGISTER, subscribe("bank-a", "1")]);
    assert.equal(expectRejection(givenBond(events).when(whenOf(allot(["bank-a"], MATURITY_MS)))).code, "BOND_MATURED");
  });

  test("SUBSCRIBERS_MISMATCH unless the command names exactly the subscribers", () => {
    const events = play([], [REGISTER, subscribe("bank-a", "1"), subscribe("ent-a", "1")]);
    for (const subscribers of [["bank-a"], ["bank-a", "ent-a", "ent-b"], ["bank-a", "ent-b"], []]) {
      const r = expectRejection(givenBond(events).when(whenOf(allot(subscribers))));
      assert.equal(r.code, "SUBSCRIBERS_MISMATCH", subscribers.join());
    }
  });

  test("UNKNOWN_BOND for a bond never registered", () => {
    assert.equal(expectRejection(givenBond([]).when(whenOf(allot([])))).code, "UNKNOWN_BOND");
  });
});
