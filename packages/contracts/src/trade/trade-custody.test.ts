import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { InvariantError } from "@tally/ledger";
import type { ContractEvent } from "../contract.js";
import { foldEvents } from "../run.js";
import { expectAccepted, expectEvents, expectRejection } from "../testing/given-when-then.js";
import { MARKET, givenTrade, history, listed, lodged, placeOrder } from "./trade-fixtures.js";
import { POSITION_MAX } from "./trade-state.js";
import { trade } from "./trade.js";

const listArgs = { id: "bond-1", name: "Bond One 2030", lotSize: "100", alertUnits: "1000" };

describe("trade list-instrument", () => {
  test("the exchange lists an instrument, with an empty book", () => {
    const then = expectAccepted(givenTrade().when({ signer: "exch", action: "list-instrument", args: listArgs }));
    assert.deepEqual(then.events, [
      {
        type: "InstrumentListed",
        assetId: "inst/bond-1",
        parties: ["exch"],
        data: { id: "bond-1", name: "Bond One 2030", lotSize: "100", alertUnits: "1000", exchange: "exch", listedAtMs: 1_700_000_123_456 },
      },
    ]);
    assert.deepEqual(then.state.get("inst/bond-1"), {
      id: "bond-1",
      name: "Bond One 2030",
      lotSize: "100",
      alertUnits: "1000",
      exchange: "exch",
      listedAtMs: 1_700_000_123_456,
      parties: ["exch"],
    });
    assert.deepEqual(then.state.get("book/bond-1"), {
      instrument: "bond-1",
      exchange: "exch",
      nextSeq: "1",
      bids: [],
      asks: [],
      parties: ["exch"],
    });
  });

  test("INSTRUMENT_EXISTS when the id is listed", () => {
    const r = expectRejection(givenTrade([listed()]).when({ signer: "exch", action: "list-instrument", args: listArgs }));
    assert.equal(r.code, "INSTRUMENT_EXISTS");
    assert.match(r.message, /bond-1/);
  });

  test("FORBIDDEN_ROLE for anyone but the exchange", () => {
    for (const signer of ["clear-a", "bank-a", "ent-a", "reg", "issuer-a"]) {
      assert.equal(
        expectRejection(givenTrade().when({ signer, action: "list-instrument", args: listArgs })).code,
        "FORBIDDEN_ROLE",
        signer,
      );
    }
  });
});

describe("trade lodge", () => {
  const lodge = (signer: string, holder: string, units: string, instrument = "bond-1") => ({
    signer,
    action: "lodge",
    args: { instrument, holder, units },
  });

  test("a clearing bank lodges securities for a member: the position and its portfolio entry", () => {
    const then = expectAccepted(givenTrade([listed()]).when(lodge("clear-a", "ent-a", "700")));
    assert.deepEqual(then.events, [lodged("ent-a", "700")]);
    assert.deepEqual(then.state.get("pos/bond-1/ent-a"), {
      instrument: "bond-1",
      holder: "ent-a",
      units: "700",
      reserved: "0",
      parties: ["clear-a", "ent-a"],
    });
    assert.deepEqual(then.state.get("held/ent-a/pos/bond-1/ent-a"), { instrument: "bond-1", units: "700", reserved: "0" });
  });

  test("lodging adds to a position, and another custodian joins its parties", () => {
    const then = expectAccepted(givenTrade([listed(), lodged("ent-a", "700")]).when(lodge("clear-b", "ent-a", "300")));
    assert.deepEqual(then.state.get("pos/bond-1/ent-a"), {
      instrument: "bond-1",
      holder: "ent-a",
      units: "1000",
      reserved: "0",
      parties: ["clear-a", "clear-b", "ent-a"],
    });
  });

  test("UNKNOWN_INSTRUMENT, UNKNOWN_HOLDER and POSITION_LIMIT", () => {
    assert.equal(expectRejection(givenTrade([listed()]).when(lodge("clear-a", "ent-a", "1", "bond-9"))).code, "UNKNOWN_INSTRUMENT");
    assert.equal(expectRejection(givenTrade([listed()]).when(lodge("clear-a", "nobody", "1"))).code, "UNKNOWN_HOLDER");
    const full = givenTrade([listed(), lodged("ent-a", POSITION_MAX.toString())]);
    assert.equal(expectRejection(full.when(lodge("clear-a", "ent-a", "1"))).code, "POSITION_LIMIT");
  });

  test("FORBIDDEN_ROLE for anyone without the clearing role", () => {
    for (const signer of ["bank-a", "ent-a", "exch", "reg"]) {
      assert.equal(expectRejection(givenTrade([listed()]).when(lodge(signer, "ent-a", "1"))).code, "FORBIDDEN_ROLE", signer);
    }
  });
});

describe("trade withdraw", () => {
  const withdraw = (signers: string[], holder: string, units: string, instrument = "bond-1") => ({
    signer: signers[0] ?? "",
    action: "withdraw",
    args: { instrument, holder, units },
    ctx: { signers },
  });

  test("a clearing bank withdraws with the member's signature; an emptied position leaves the portfolio", () => {
    const then = expectAccepted(givenTrade(MARKET).when(withdraw(["clear-a", "ent-a"], "ent-a", "500", "bond-2")));
    assert.deepEqual(then.events, [
      {
        type: "SecuritiesWithdrawn",
        assetId: "pos/bond-2/ent-a",
        parties: ["clear-a", "ent-a"],
        data: { instrument: "bond-2", holder: "ent-a", custodian: "clear-a", units: "500" },
      },
    ]);
    assert.deepEqual(then.updates.get("held/ent-a/pos/bond-2/ent-a"), null);
    assert.deepEqual(then.state.get("pos/bond-2/ent-a"), {
      instrument: "bond-2",
      holder: "ent-a",
      units: "0",
      reserved: "0",
      parties: ["clear-a", "ent-a"],
    });
  });

  test("MISSING_SIGNATURE without the member's signature", () => {
    const r = expectRejection(givenTrade(MARKET).when(withdraw(["clear-a"], "ent-a", "1")));
    assert.equal(r.code, "MISSING_SIGNATURE");
    assert.match(r.message, /ent-a/);
  });

  test("INSUFFICIENT_UNITS beyond the free units: reserved ones stay for their order", () => {
    assert.equal(expectRejection(givenTrade(MARKET).when(withdraw(["clear-a", "ent-a"], "ent-a", "5001"))).code, "INSUFFICIENT_UNITS");
    const reserved = history(MARKET, [placeOrder("ent-a", "s-1", "sell", "1000", "10", "clear-a")]);
    const r = expectRejection(givenTrade(reserved).when(withdraw(["clear-a", "ent-a"], "ent-a", "4001")));
    assert.equal(r.code, "INSUFFICIENT_UNITS");
    assert.match(r.message, /4000 free units/);
  });

  test("UNKNOWN_INSTRUMENT and FORBIDDEN_ROLE", () => {
    assert.equal(
      expectRejection(givenTrade(MARKET).when(withdraw(["clear-a", "ent-a"], "ent-a", "1", "bond-9"))).code,
      "UNKNOWN_INSTRUMENT",
    );
    assert.equal(expectRejection(givenTrade(MARKET).when(withdraw(["ent-a"], "ent-a", "1"))).code, "FORBIDDEN_ROLE");
  });
});

describe("trade queries", () => {
  const events = history(MARKET, [
    placeOrder("ent-a", "s-1", "sell", "1000", "10", "clear-a"),
    placeOrder("bank-a", "b-1", "buy", "400", "10", "clear-a", [{ order: "s-1", owner: "ent-a", clearing: "clear-a" }]),
  ]);
  const g = givenTrade(events);

  test("instrument, book, order and trade return the state or null", () => {
    assert.equal((g.query("instrument", { id: "bond-1" }) as { lotSize: string }).lotSize, "100");
    assert.equal(g.query("instrument", { id: "bond-9" }), null);
    const book = g.query("book", { instrument: "bond-1" }) as { asks: { order: string; units: string }[] };
    assert.deepEqual(
      book.asks.map((a) => [a.order, a.units]),
      [["s-1", "600"]],
    );
    assert.equal(g.query("book", { instrument: "bond-9" }), null);
    assert.equal((g.query("order", { id: "s-1" }) as { remaining: string }).remaining, "600");
    assert.equal(g.query("order", { id: "s-9" }), null);
    const t = g.query("trade", { id: "b-1.1" }) as { units: string; price: string; buyer: string; seller: string };
    assert.deepEqual([t.units, t.price, t.buyer, t.seller], ["400", "10", "bank-a", "ent-a"]);
    assert.equal(g.query("trade", { id: "b-1.2" }), null);
  });

  test("position and portfolio", () => {
    assert.deepEqual(g.query("position", { instrument: "bond-1", holder: "ent-a" }), {
      instrument: "bond-1",
      holder: "ent-a",
      units: "4000",
      reserved: "600",
      parties: ["clear-a", "ent-a"],
    });
    assert.equal(g.query("position", { instrument: "bond-1", holder: "ent-c" }), null);
    assert.deepEqual(g.query("portfolio", { holder: "ent-a" }), {
      holder: "ent-a",
      positions: [
        { instrument: "bond-1", units: "4000", reserved: "600" },
        { instrument: "bond-2", units: "500", reserved: "0" },
      ],
    });
    assert.deepEqual(g.query("portfolio", { holder: "bank-a" }), {
      holder: "bank-a",
      positions: [{ instrument: "bond-1", units: "400", reserved: "0" }],
    });
    assert.deepEqual(g.query("portfolio", { holder: "ent-c" }), { holder: "ent-c", positions: [] });
  });

  test("queries refuse bad args", () => {
    for (const [name, args] of [
      ["instrument", {}],
      ["book", { instrument: "Bond" }],
      ["order", { id: "o".repeat(61) }],
      ["trade", { id: 5 }],
      ["position", { instrument: "bond-1" }],
      ["portfolio", { holder: "ent-a", extra: 1 }],
    ] as const) {
      assert.equal(expectRejection(g.query(name, args)).code, "BAD_ARGS", name);
    }
    assert.equal(expectRejection(g.query("trades", {})).code, "UNKNOWN_QUERY");
  });
});

describe("trade evolve", () => {
  const bad: [string, ContractEvent][] = [
    ["an unknown event", { type: "Nope", assetId: "x", parties: [], data: {} }],
    [
      "a fill of an unknown order",
      {
        type: "OrderFilled",
        assetId: "order/x",
        parties: [],
        data: { order: "x", instrument: "bond-1", trade: "t", units: "1", price: "1", resting: true },
      },
    ],
    [
      "a delivery beyond the position",
      {
        type: "SecuritiesDelivered",
        assetId: "pos/bond-1/ent-c",
        parties: [],
        data: { instrument: "bond-1", holder: "ent-c", to: "bank-a", trade: "t", units: "1", fromReserved: false },
      },
    ],
    [
      "a withdrawal beyond the position",
      {
        type: "SecuritiesWithdrawn",
        assetId: "pos/bond-1/ent-c",
        parties: [],
        data: { instrument: "bond-1", holder: "ent-c", custodian: "clear-a", units: "1" },
      },
    ],
    ["an alert for an unknown trade", { type: "LargeTradeAlert", assetId: "trade/t", parties: [], data: { trade: "t" } }],
    [
      "an amount that is not a decimal",
      {
        type: "SecuritiesLodged",
        assetId: "pos/bond-1/ent-c",
        parties: [],
        data: { instrument: "bond-1", holder: "ent-c", custodian: "clear-a", units: "-1" },
      },
    ],
    ["a book missing for an order", { type: "OrderRested", assetId: "order/x", parties: [], data: { order: "x", units: "1", seq: "1" } }],
  ];
  for (const [why, event] of bad) {
    test(`folding ${why} is an invariant violation`, () => {
      assert.throws(() => foldEvents(trade, new Map(), [event]), InvariantError);
    });
  }

  test("a second listing of the same id never comes from decide, and resting twice is refused", () => {
    const events = history(MARKET, [placeOrder("ent-a", "s-1", "sell", "100", "10", "clear-a")]);
    const rested = events.find((e) => e.type === "OrderRested");
    assert.ok(rested);
    assert.throws(() => foldEvents(trade, givenTrade(events).state, [rested]), InvariantError);
    assert.ok(expectEvents(givenTrade(events).when(placeOrder("ent-a", "s-2", "sell", "100", "10", "clear-a"))).length > 0);
  });
});
