// The life of a digital bill, act by act: given events / when a command / then events and state.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { canonicalJson } from "@tally/ledger";
import { expectAccepted, expectRejection } from "../testing/given-when-then.js";
import { DAY_MS } from "./bill-state.js";
import { daysToMaturity, discountOf } from "./bill-decide.js";
import {
  ACCEPTED,
  DELIVERED,
  DISHONOURED,
  DUE,
  ENDORSED,
  FACE,
  FUNDS,
  ISSUE,
  ISSUED,
  T0,
  cmd,
  givenBill,
  history,
} from "./bill-test-fixtures.js";

/** A lineage or register answer without its root's `parties` (which decide who may read it at a gateway; asserted present). */
function withoutParties(v: unknown): unknown {
  const { parties, ...rest } = v as Record<string, unknown>;
  assert.ok(Array.isArray(parties), "the answer names its parties");
  return rest;
}

const balance = (state: ReadonlyMap<string, unknown>, who: string): unknown => state.get(`cash:acct/${who}`);
const funds = (n: bigint): { balance: string } => ({ balance: n.toString() });

describe("bill issue", () => {
  test("an enterprise draws a bill: it is issued, the drawer holds it and it is in the drawer's portfolio", () => {
    const then = expectAccepted(givenBill([]).when(ISSUE));
    assert.deepEqual(then.events, [
      {
        type: "BillIssued",
        assetId: "bill/b-1",
        parties: ["ent-a", "ent-b", "ent-c"],
        data: { id: "b-1", drawer: "ent-a", payee: "ent-b", acceptor: "ent-c", amount: FACE, dueMs: DUE, atMs: T0 },
      },
    ]);
    assert.deepEqual(then.state.get("bill/b-1"), {
      id: "b-1",
      parent: null,
      children: [],
      drawer: "ent-a",
      payee: "ent-b",
      acceptor: "ent-c",
      amount: FACE,
      dueMs: DUE,
      holder: "ent-a",
      state: "issued",
      pledgee: null,
      endorsements: [],
      recourseFrom: null,
      parties: ["ent-a", "ent-b", "ent-c"],
    });
    assert.deepEqual(then.state.get("held/ent-a/bill/b-1"), { amount: FACE, dueMs: DUE });
  });

  test("the drawer may be its own acceptor, and a bank may accept", () => {
    const self = cmd("ent-a", "issue", { id: "b-2", payee: "ent-b", acceptor: "ent-a", amount: "5", dueMs: DUE }, T0);
    assert.deepEqual(expectAccepted(givenBill([]).when(self)).events[0]?.parties, ["ent-a", "ent-b"]);
    const bank = cmd("ent-a", "issue", { id: "b-3", payee: "ent-b", acceptor: "bank-a", amount: "5", dueMs: DUE }, T0);
    expectAccepted(givenBill([]).when(bank));
  });
});

describe("bill accept and void", () => {
  test("the acceptor accepts: the bill is accepted and still with the drawer", () => {
    const then = expectAccepted(givenBill(ISSUED).when(cmd("ent-c", "accept", { id: "b-1" }, T0 + 1000)));
    assert.deepEqual(then.events, [
      {
        type: "BillAccepted",
        assetId: "bill/b-1",
        parties: ["ent-a", "ent-b", "ent-c"],
        data: { id: "b-1", acceptor: "ent-c", atMs: T0 + 1000 },
      },
    ]);
    assert.equal((then.state.get("bill/b-1") as { state: string }).state, "accepted");
    assert.deepEqual(then.state.get("held/ent-a/bill/b-1"), { amount: FACE, dueMs: DUE });
  });

  test("the drawer voids a bill before acceptance: it leaves every portfolio", () => {
    const then = expectAccepted(givenBill(ISSUED).when(cmd("ent-a", "void", { id: "b-1" }, T0 + 1000)));
    assert.equal(then.events[0]?.type, "BillVoided");
    assert.equal((then.state.get("bill/b-1") as { state: string }).state, "voided");
    assert.equal(then.updates.get("held/ent-a/bill/b-1"), null);
    assert.equal(then.state.has("held/ent-a/bill/b-1"), false);
  });
});

describe("bill delivery and endorsement", () => {
  test("the drawer delivers the accepted bill to its payee: the chain starts with a delivery", () => {
    const then = expectAccepted(givenBill(ACCEPTED).when(cmd("ent-a", "endorse", { id: "b-1", to: "ent-b" }, T0 + 2000)));
    assert.deepEqual(then.events[0]?.data, { id: "b-1", kind: "deliver", from: "ent-a", to: "ent-b", atMs: T0 + 2000 });
    const b = then.state.get("bill/b-1") as { holder: string; endorsements: unknown[] };
    assert.equal(b.holder, "ent-b");
    assert.deepEqual(b.endorsements, [{ kind: "deliver", from: "ent-a", to: "ent-b", atMs: T0 + 2000 }]);
    assert.equal(then.state.has("held/ent-a/bill/b-1"), false);
    assert.deepEqual(then.state.get("held/ent-b/bill/b-1"), { amount: FACE, dueMs: DUE });
  });

  test("the holder endorses it on: the new holder joins the parties and the chain grows", () => {
    const then = expectAccepted(givenBill(DELIVERED).when(cmd("ent-b", "endorse", { id: "b-1", to: "bank-b" }, T0 + 3000)));
    assert.deepEqual(then.events[0]?.parties, ["bank-b", "ent-a", "ent-b", "ent-c"]);
    assert.deepEqual(then.events[0]?.data, { id: "b-1", kind: "endorse", from: "ent-b", to: "bank-b", atMs: T0 + 3000 });
    const b = then.state.get("bill/b-1") as { holder: string; parties: string[]; endorsements: { kind: string; to: string }[] };
    assert.equal(b.holder, "bank-b");
    assert.deepEqual(b.parties, ["bank-b", "ent-a", "ent-b", "ent-c"]);
    assert.deepEqual(
      b.endorsements.map((e) => [e.kind, e.to]),
      [
        ["deliver", "ent-b"],
        ["endorse", "bank-b"],
      ],
    );
    assert.deepEqual(givenBill([...DELIVERED, ...then.events]).query("portfolio", { holder: "bank-b" }), {
      holder: "bank-b",
      bills: [{ id: "b-1", amount: FACE, dueMs: DUE }],
      mayHaveMore: false,
    });
  });

  test("a bill may come back to the drawer or go to its acceptor", () => {
    const events = history([cmd("ent-b", "endorse", { id: "b-1", to: "ent-a" }, T0 + 3000)], DELIVERED);
    expectAccepted(givenBill(events).when(cmd("ent-a", "endorse", { id: "b-1", to: "ent-c" }, T0 + 4000)));
  });
});

describe("bill split", () => {
  const split = cmd("ent-b", "split", { id: "b-1", amounts: ["600000", "300000", "100000"] }, T0 + 3000);

  test("the holder splits a bill into children that sum to it: the parent is split and leaves the portfolio", () => {
    const then = expectAccepted(givenBill(DELIVERED).when(split));
    assert.deepEqual(
      then.events.map((e) => [e.type, e.assetId]),
      [
        ["BillSplit", "bill/b-1"],
        ["BillSplitOff", "bill/b-1.1"],
        ["BillSplitOff", "bill/b-1.2"],
        ["BillSplitOff", "bill/b-1.3"],
      ],
    );
    const parent = then.state.get("bill/b-1") as { state: string; children: string[] };
    assert.equal(parent.state, "split");
    assert.deepEqual(parent.children, ["b-1.1", "b-1.2", "b-1.3"]);
    assert.equal(then.state.has("held/ent-b/bill/b-1"), false);
    const child = then.state.get("bill/b-1.2") as {
      parent: string;
      amount: string;
      holder: string;
      state: string;
      endorsements: unknown[];
    };
    assert.equal(child.parent, "b-1");
    assert.equal(child.amount, "300000");
    assert.equal(child.holder, "ent-b");
    assert.equal(child.state, "accepted");
    assert.deepEqual(child.endorsements, [{ kind: "deliver", from: "ent-a", to: "ent-b", atMs: T0 + 2000 }]);
    assert.deepEqual(givenBill([...DELIVERED, ...then.events]).query("portfolio", { holder: "ent-b" }), {
      holder: "ent-b",
      bills: [
        { id: "b-1.1", amount: "600000", dueMs: DUE },
        { id: "b-1.2", amount: "300000", dueMs: DUE },
        { id: "b-1.3", amount: "100000", dueMs: DUE },
      ],
      mayHaveMore: false,
    });
  });

  test("a child may be split again and endorsed; lineage walks the tree from any bill", () => {
    const events = history(
      [
        split,
        cmd("ent-b", "split", { id: "b-1.1", amounts: ["500000", "100000"] }, T0 + 4000),
        cmd("ent-b", "endorse", { id: "b-1.1.2", to: "issuer-a" }, T0 + 5000),
      ],
      DELIVERED,
    );
    const g = givenBill(events);
    const leaf = (id: string, amount: string, holder = "ent-b") => ({ id, amount, holder, state: "accepted", children: [] });
    const b11 = {
      id: "b-1.1",
      amount: "600000",
      holder: "ent-b",
      state: "split",
      children: [leaf("b-1.1.1", "500000"), leaf("b-1.1.2", "100000", "issuer-a")],
    };
    assert.deepEqual(withoutParties(g.query("lineage", { id: "b-1" })), {
      id: "b-1",
      amount: FACE,
      holder: "ent-b",
      state: "split",
      children: [b11, leaf("b-1.2", "300000"), leaf("b-1.3", "100000")],
    });
    assert.deepEqual(withoutParties(g.query("lineage", { id: "b-1.1" })), b11);
    assert.deepEqual(withoutParties(g.query("lineage", { id: "b-1.1.2" })), leaf("b-1.1.2", "100000", "issuer-a"));
    assert.equal(g.query("lineage", { id: "b-9" }), null);
  });

  test("SPLIT_TOO_DEEP beyond two levels", () => {
    const events = history([split, cmd("ent-b", "split", { id: "b-1.1", amounts: ["500000", "100000"] }, T0 + 4000)], DELIVERED);
    const r = givenBill(events).when(cmd("ent-b", "split", { id: "b-1.1.1", amounts: ["1", "499999"] }, T0 + 5000));
    assert.equal(expectRejection(r).code, "SPLIT_TOO_DEEP");
  });

  test("sixteen children are allowed", () => {
    const amounts = Array.from({ length: 16 }, (_, i) => (i === 0 ? (1_000_000 - 15 * 62_500).toString() : "62500"));
    const then = expectAccepted(givenBill(DELIVERED).when(cmd("ent-b", "split", { id: "b-1", amounts }, T0 + 3000)));
    assert.equal(then.events.length, 17);
    assert.ok(then.state.has("bill/b-1.16"));
  });
});

describe("bill discount", () => {
  test("days are rounded up and the discount is floored", () => {
    assert.equal(daysToMaturity(DUE - 60 * DAY_MS, DUE), 60n);
    assert.equal(daysToMaturity(DUE - 60 * DAY_MS + 1, DUE), 60n);
    assert.equal(daysToMaturity(DUE - 60 * DAY_MS - 1, DUE), 61n);
    assert.equal(daysToMaturity(DUE - 1, DUE), 1n);
    assert.equal(discountOf(1_000_000n, 300, 60n), 5000n);
    // 1000001 × 300 × 60 / 3600000 = 5000.005, floored.
    assert.equal(discountOf(1_000_001n, 300, 60n), 5000n);
    assert.equal(discountOf(999_999n, 300, 60n), 4999n);
    assert.equal(discountOf(1_000_000n, 0, 60n), 0n);
  });

  test("the holder discounts to a bank that co-signs: the bank pays amount − discount and holds the bill", () => {
    const when = DUE - 60 * DAY_MS + 5; // 59 days and a bit: 60 days, rounded up
    const then = expectAccepted(
      givenBill(DELIVERED).when(cmd("ent-b", "discount", { id: "b-1", bank: "bank-a", rateBp: 300 }, when, "bank-a")),
    );
    assert.deepEqual(then.events[0], {
      type: "BillDiscounted",
      assetId: "bill/b-1",
      parties: ["bank-a", "ent-a", "ent-b", "ent-c"],
      data: {
        id: "b-1",
        from: "ent-b",
        to: "bank-a",
        amount: FACE,
        rateBp: 300,
        days: 60,
        discount: "5000",
        proceeds: "995000",
        atMs: when,
      },
    });
    assert.deepEqual(then.events[1], {
      contract: "cash",
      type: "CashTransferred",
      assetId: "acct/bank-a",
      parties: ["bank-a", "ent-b"],
      data: { from: "bank-a", to: "ent-b", amount: "995000", memo: "discount of bill b-1" },
    });
    assert.deepEqual(balance(then.state, "bank-a"), funds(BigInt(FUNDS) - 995_000n));
    assert.deepEqual(balance(then.state, "ent-b"), funds(BigInt(FUNDS) + 995_000n));
    const b = then.state.get("bill/b-1") as { holder: string; endorsements: { kind: string }[] };
    assert.equal(b.holder, "bank-a");
    assert.equal(b.endorsements.at(-1)?.kind, "discount");
    assert.ok(then.state.has("held/bank-a/bill/b-1"));
    assert.equal(then.state.has("held/ent-b/bill/b-1"), false);
  });

  test("a bank may rediscount to another bank", () => {
    const events = history([cmd("ent-b", "discount", { id: "b-1", bank: "bank-a", rateBp: 300 }, T0 + 3000, "bank-a")], DELIVERED);
    const then = expectAccepted(
      givenBill(events).when(cmd("bank-a", "discount", { id: "b-1", bank: "clear-a", rateBp: 200 }, T0 + 4000, "clear-a")),
    );
    assert.equal((then.state.get("bill/b-1") as { holder: string }).holder, "clear-a");
  });

  test("at a zero rate the bank pays the face amount", () => {
    const then = expectAccepted(
      givenBill(DELIVERED).when(cmd("ent-b", "discount", { id: "b-1", bank: "bank-a", rateBp: 0 }, T0 + 3000, "bank-a")),
    );
    assert.equal(then.events[0]?.data.proceeds, FACE);
  });
});

describe("bill pledge and release", () => {
  const pledge = cmd("ent-b", "pledge", { id: "b-1", bank: "bank-a" }, T0 + 3000, "bank-a");

  test("the holder pledges to a bank that co-signs: the bill is pledged, still held, and the bank is a party", () => {
    const then = expectAccepted(givenBill(DELIVERED).when(pledge));
    assert.deepEqual(then.events[0]?.data, { id: "b-1", holder: "ent-b", pledgee: "bank-a", atMs: T0 + 3000 });
    const b = then.state.get("bill/b-1") as { state: string; pledgee: string; holder: string; parties: string[] };
    assert.deepEqual([b.state, b.pledgee, b.holder], ["pledged", "bank-a", "ent-b"]);
    assert.ok(b.parties.includes("bank-a"));
    assert.ok(then.state.has("held/ent-b/bill/b-1"));
  });

  test("the pledgee releases it, even after the due date, and the holder may act again", () => {
    const events = history([pledge], DELIVERED);
    const then = expectAccepted(givenBill(events).when(cmd("bank-a", "release", { id: "b-1" }, DUE + 5)));
    const b = then.state.get("bill/b-1") as { state: string; pledgee: unknown; parties: string[] };
    assert.deepEqual([b.state, b.pledgee], ["accepted", null]);
    assert.ok(b.parties.includes("bank-a"), "a former pledgee stays a party");
    expectAccepted(givenBill([...events, ...then.events]).when(cmd("ent-b", "pay", { id: "b-1" }, DUE + 6, "ent-c")));
  });
});

describe("bill pay", () => {
  test("at the due date the holder presents and the acceptor pays the face amount: the bill is paid", () => {
    const then = expectAccepted(givenBill(ENDORSED).when(cmd("issuer-a", "pay", { id: "b-1" }, DUE, "ent-c")));
    assert.deepEqual(
      then.events.map((e) => [e.type, e.data.amount]),
      [
        ["BillPaid", FACE],
        ["CashTransferred", FACE],
      ],
    );
    assert.deepEqual(balance(then.state, "ent-c"), funds(BigInt(FUNDS) - BigInt(FACE)));
    assert.deepEqual(balance(then.state, "issuer-a"), funds(BigInt(FUNDS) + BigInt(FACE)));
    assert.equal((then.state.get("bill/b-1") as { state: string }).state, "paid");
    assert.equal(then.state.has("held/issuer-a/bill/b-1"), false);
  });

  test("a late payment is still a payment, until non-payment is recorded", () => {
    expectAccepted(givenBill(ENDORSED).when(cmd("issuer-a", "pay", { id: "b-1" }, DUE + 10 * DAY_MS, "ent-c")));
  });

  test("an acceptor holding its own bill pays nothing in cash", () => {
    const events = history([cmd("ent-b", "endorse", { id: "b-1", to: "ent-c" }, T0 + 3000)], DELIVERED);
    const then = expectAccepted(givenBill(events).when(cmd("ent-c", "pay", { id: "b-1" }, DUE)));
    assert.deepEqual(
      then.events.map((e) => e.type),
      ["BillPaid"],
    );
  });
});

describe("bill dishonour and recourse", () => {
  test("a day after the due date the holder records non-payment: the bill is dishonoured and still held", () => {
    const then = expectAccepted(givenBill(ENDORSED).when(cmd("issuer-a", "dishonour", { id: "b-1" }, DUE + DAY_MS)));
    assert.deepEqual(then.events[0]?.data, { id: "b-1", holder: "issuer-a", acceptor: "ent-c", amount: FACE, atMs: DUE + DAY_MS });
    assert.equal((then.state.get("bill/b-1") as { state: string }).state, "dishonoured");
    assert.ok(then.state.has("held/issuer-a/bill/b-1"));
  });

  for (const from of ["ent-b", "ent-a"]) {
    test(`the holder claims recourse against ${from === "ent-a" ? "the drawer" : "an earlier endorser"}, who co-signs and pays: the bill is settled`, () => {
      const then = expectAccepted(givenBill(DISHONOURED).when(cmd("issuer-a", "recourse", { id: "b-1", from }, DUE + 2 * DAY_MS, from)));
      assert.deepEqual(then.events[0]?.data, { id: "b-1", holder: "issuer-a", from, amount: FACE, atMs: DUE + 2 * DAY_MS });
      assert.deepEqual(balance(then.state, from), funds(BigInt(FUNDS) - BigInt(FACE)));
      assert.deepEqual(balance(then.state, "issuer-a"), funds(BigInt(FUNDS) + BigInt(FACE)));
      const b = then.state.get("bill/b-1") as { state: string; recourseFrom: string };
      assert.deepEqual([b.state, b.recourseFrom], ["settled", from]);
      assert.equal(then.state.has("held/issuer-a/bill/b-1"), false);
    });
  }

  test("a split child's holder has recourse against the parent's endorsers", () => {
    const events = history(
      [
        cmd("ent-b", "split", { id: "b-1", amounts: ["400000", "600000"] }, T0 + 3000),
        cmd("ent-b", "endorse", { id: "b-1.2", to: "bank-b" }, T0 + 4000),
        cmd("bank-b", "dishonour", { id: "b-1.2" }, DUE + DAY_MS),
      ],
      DELIVERED,
    );
    const then = expectAccepted(givenBill(events).when(cmd("bank-b", "recourse", { id: "b-1.2", from: "ent-b" }, DUE + DAY_MS, "ent-b")));
    assert.equal(then.events[1]?.data.amount, "600000");
  });
});

describe("bill queries", () => {
  test("bill returns the state value or null", () => {
    const g = givenBill(ENDORSED);
    assert.equal((g.query("bill", { id: "b-1" }) as { holder: string }).holder, "issuer-a");
    assert.equal(g.query("bill", { id: "b-2" }), null);
  });

  test("portfolio lists what a holder holds, and nothing for others", () => {
    const g = givenBill(ENDORSED);
    assert.deepEqual(g.query("portfolio", { holder: "issuer-a" }), {
      holder: "issuer-a",
      bills: [{ id: "b-1", amount: FACE, dueMs: DUE }],
      mayHaveMore: false,
    });
    assert.deepEqual(g.query("portfolio", { holder: "ent-b" }), { holder: "ent-b", bills: [], mayHaveMore: false });
  });

  test("queries refuse bad args; unknown queries are refused", () => {
    const g = givenBill(ENDORSED);
    for (const [name, args] of [
      ["bill", {}],
      ["bill", { id: "B-1" }],
      ["bill", { id: "b-1", extra: 1 }],
      ["lineage", { id: 5 }],
      ["portfolio", { holder: "" }],
      ["portfolio", { holder: "ent-a", id: "b-1" }],
    ] as const) {
      assert.equal(expectRejection(g.query(name, args)).code, "BAD_ARGS", `${name} ${JSON.stringify(args)}`);
    }
    assert.equal(expectRejection(g.query("history", { id: "b-1" })).code, "UNKNOWN_QUERY");
  });
});

test("every event of a bill names it and its parties; cash legs name the cash contract", () => {
  const events = history([cmd("issuer-a", "recourse", { id: "b-1", from: "ent-b" }, DUE + 2 * DAY_MS, "ent-b")], DISHONOURED);
  const own = events.filter((e) => e.contract === undefined);
  assert.deepEqual(
    own.map((e) => e.type),
    ["BillIssued", "BillAccepted", "BillEndorsed", "BillEndorsed", "BillDishonoured", "BillRecourseSettled"],
  );
  for (const e of own) {
    assert.equal(e.assetId, "bill/b-1");
    assert.deepEqual([...e.parties], [...e.parties].sort());
    assert.ok(e.parties.includes("ent-a") && e.parties.includes("ent-c"));
  }
  assert.equal(events.at(-1)?.contract, "cash");
});

test("the bill contract is deterministic: the same inputs give deep-equal outputs and the same bytes", () => {
  const run = () =>
    givenBill(DELIVERED).when(cmd("ent-b", "discount", { id: "b-1", bank: "bank-a", rateBp: 250 }, T0 + 7 * DAY_MS, "bank-a"));
  const a = expectAccepted(run());
  const b = expectAccepted(run());
  assert.deepEqual(a, b);
  assert.equal(canonicalJson([a.events, [...a.updates]]), canonicalJson([b.events, [...b.updates]]));
});
