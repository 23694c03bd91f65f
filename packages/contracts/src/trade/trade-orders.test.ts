import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { canonicalJson } from "@tally/ledger";
import { isRejection, type Rejection } from "../contract.js";
import type { CommandOutcome } from "../run.js";
import { expectAccepted, expectEvents, expectRejection } from "../testing/given-when-then.js";
import { TEST_MEMBERS } from "../testing/test-genesis.js";
import { MARKET, Market, givenTrade, history, issued, lodged, placeOrder } from "./trade-fixtures.js";
import { BOOK_SIDE_MAX, HITS_MAX, POSITION_MAX } from "./trade-state.js";

const cash = (then: { state: ReadonlyMap<string, unknown> }, who: string): unknown => then.state.get(`cash:acct/${who}`);
const codeOf = (r: CommandOutcome | Rejection): string => (isRejection(r) ? r.code : "accepted");
const types = (events: readonly { type: string; contract?: string }[]): string[] =>
  events.map((e) => (e.contract === undefined ? e.type : `${e.contract}.${e.type}`));

describe("trade place-order: resting", () => {
  test("a sell that crosses nothing rests and reserves its units", () => {
    const then = expectAccepted(givenTrade(MARKET).when(placeOrder("ent-a", "s-1", "sell", "1000", "10", "clear-a")));
    assert.deepEqual(types(then.events), ["OrderPlaced", "OrderRested", "SecuritiesReserved"]);
    assert.deepEqual(then.events[0]?.parties, ["clear-a", "ent-a", "exch"]);
    assert.deepEqual(then.state.get("pos/bond-1/ent-a"), {
      instrument: "bond-1",
      holder: "ent-a",
      units: "4000",
      reserved: "1000",
      parties: ["clear-a", "ent-a"],
    });
    assert.deepEqual(then.state.get("held/ent-a/pos/bond-1/ent-a"), { instrument: "bond-1", units: "4000", reserved: "1000" });
    const book = then.state.get("book/bond-1") as { asks: unknown[]; bids: unknown[]; nextSeq: string };
    assert.deepEqual(book.asks, [{ order: "s-1", owner: "ent-a", clearing: "clear-a", price: "10", units: "1000", seq: "1" }]);
    assert.deepEqual(book.bids, []);
    assert.equal(book.nextSeq, "2");
    const order = then.state.get("order/s-1") as Record<string, unknown>;
    assert.equal(order.status, "open");
    assert.equal(order.resting, true);
    assert.equal(order.remaining, "1000");
    assert.equal(order.placedAtMs, 1_700_000_123_456);
  });

  test("a buy that crosses nothing rests and escrows limit × units with its clearing bank", () => {
    const then = expectAccepted(givenTrade(MARKET).when(placeOrder("bank-a", "b-1", "buy", "500", "20", "clear-a")));
    assert.deepEqual(types(then.events), ["OrderPlaced", "OrderRested", "cash.CashTransferred"]);
    assert.deepEqual(then.events[2]?.data, { from: "bank-a", to: "clear-a", amount: "10000", memo: "escrow order b-1" });
    assert.deepEqual(cash(then, "bank-a"), { balance: "990000" });
    assert.deepEqual(cash(then, "clear-a"), { balance: "10000" });
    assert.equal((then.state.get("book/bond-1") as { bids: unknown[] }).bids.length, 1);
  });

  test("a clearing bank may trade for itself with one signature", () => {
    const g = givenTrade([...MARKET, lodged("clear-b", "100", "bond-1", "clear-b")]);
    const r = g.when({
      signer: "clear-b",
      action: "place-order",
      args: { order: "cb-1", instrument: "bond-1", side: "sell", quantity: "100", price: "10", clearing: "clear-b" },
    });
    assert.deepEqual(types(expectEvents(r)), ["OrderPlaced", "OrderRested", "SecuritiesReserved"]);
  });
});

describe("trade place-order: matching and settlement", () => {
  const sellRests = history(MARKET, [placeOrder("ent-b", "s-1", "sell", "1000", "10", "clear-b")]);
  const hitS1 = [{ order: "s-1", owner: "ent-b", clearing: "clear-b" }];

  test("a crossing buy trades at the resting price: securities and cash move in the same transaction", () => {
    const then = expectAccepted(givenTrade(sellRests).when(placeOrder("bank-a", "b-1", "buy", "1000", "12", "clear-a", hitS1)));
    assert.deepEqual(types(then.events), [
      "OrderPlaced",
      "TradeExecuted",
      "LargeTradeAlert",
      "OrderFilled",
      "OrderFilled",
      "SecuritiesDelivered",
      "SecuritiesReceived",
      "cash.CashTransferred",
      "cash.CashTransferred",
      "cash.CashTransferred",
    ]);
    const trade = then.events[1];
    assert.equal(trade?.assetId, "trade/b-1.1");
    assert.deepEqual(trade?.parties, ["bank-a", "clear-a", "clear-b", "ent-b", "exch", "reg"]);
    assert.equal(trade?.data.price, "10");
    assert.equal(trade?.data.amount, "10000");
    assert.deepEqual(
      then.events.slice(7).map((e) => [e.data.from, e.data.to, e.data.amount]),
      [
        ["bank-a", "clear-a", "10000"],
        ["clear-a", "clear-b", "10000"],
        ["clear-b", "ent-b", "10000"],
      ],
    );
    assert.deepEqual(cash(then, "bank-a"), { balance: "990000" });
    assert.deepEqual(cash(then, "clear-a"), { balance: "0" });
    assert.deepEqual(cash(then, "clear-b"), { balance: "0" });
    assert.deepEqual(cash(then, "ent-b"), { balance: "10000" });
    assert.deepEqual(then.state.get("pos/bond-1/ent-b"), {
      instrument: "bond-1",
      holder: "ent-b",
      units: "2000",
      reserved: "0",
      parties: ["clear-b", "ent-b"],
    });
    assert.deepEqual(then.state.get("pos/bond-1/bank-a"), {
      instrument: "bond-1",
      holder: "bank-a",
      units: "1000",
      reserved: "0",
      parties: ["bank-a", "clear-a"],
    });
    const book = then.state.get("book/bond-1") as { asks: unknown[]; bids: unknown[] };
    assert.deepEqual([book.asks, book.bids], [[], []]);
    assert.equal((then.state.get("order/s-1") as { status: string }).status, "filled");
    assert.equal((then.state.get("order/b-1") as { status: string; resting: boolean }).status, "filled");
    const record = then.state.get("trade/b-1.1") as Record<string, unknown>;
    assert.equal(record.buyer, "bank-a");
    assert.equal(record.seller, "ent-b");
    assert.equal(record.aggressor, "buy");
    assert.equal(record.largeTrade, true);
    assert.ok((record.parties as string[]).includes("reg"));
  });

  test("every event of a fill names the regulators; a trade below the threshold raises no alert", () => {
    const r = givenTrade(history(MARKET, [placeOrder("ent-b", "s-1", "sell", "900", "10", "clear-b")])).when(
      placeOrder("bank-a", "b-1", "buy", "900", "10", "clear-a", [{ order: "s-1", owner: "ent-b", clearing: "clear-b" }]),
    );
    const events = expectEvents(r);
    assert.ok(!events.some((e) => e.type === "LargeTradeAlert"));
    for (const e of events.filter((x) => x.contract === undefined && x.type !== "OrderPlaced"))
      assert.ok(e.parties.includes("reg"), e.type);
  });

  test("every regulator among the members is party to the trade; times come from the block", () => {
    const members = new Map([...TEST_MEMBERS, ["reg-2", { roles: ["regulator"] }]]);
    const w = placeOrder("bank-a", "b-1", "buy", "1000", "10", "clear-a", hitS1);
    const then = expectAccepted(
      givenTrade(sellRests).when({ ...w, ctx: { ...w.ctx, members, blockTimeMs: 1_800_000_000_000, height: 42n } }),
    );
    const trade = then.events.find((e) => e.type === "TradeExecuted");
    assert.deepEqual(trade?.parties, ["bank-a", "clear-a", "clear-b", "ent-b", "exch", "reg", "reg-2"]);
    assert.deepEqual([trade?.data.blockTimeMs, trade?.data.height], [1_800_000_000_000, "42"]);
    assert.equal((then.state.get("order/b-1") as { placedAtMs: number }).placedAtMs, 1_800_000_000_000);
    assert.deepEqual(then.events.find((e) => e.type === "LargeTradeAlert")?.parties, trade?.parties);
  });

  test("a partial fill leaves the remainder resting at its limit, escrowed", () => {
    const g = givenTrade(history(MARKET, [placeOrder("ent-b", "s-1", "sell", "300", "10", "clear-b")]));
    const then = expectAccepted(
      g.when(placeOrder("bank-a", "b-1", "buy", "500", "11", "clear-a", [{ order: "s-1", owner: "ent-b", clearing: "clear-b" }])),
    );
    assert.deepEqual(types(then.events).slice(-5), [
      "OrderRested",
      "cash.CashTransferred",
      "cash.CashTransferred",
      "cash.CashTransferred",
      "cash.CashTransferred",
    ]);
    assert.deepEqual(cash(then, "bank-a"), { balance: String(1_000_000 - 3000 - 2200) });
    assert.deepEqual(cash(then, "clear-a"), { balance: "2200" });
    const book = then.state.get("book/bond-1") as { asks: unknown[]; bids: { order: string; units: string; price: string }[] };
    assert.deepEqual(book.asks, []);
    assert.deepEqual(
      book.bids.map((b) => [b.order, b.units, b.price]),
      [["b-1", "200", "11"]],
    );
    const order = then.state.get("order/b-1") as Record<string, unknown>;
    assert.deepEqual([order.remaining, order.status, order.fills, order.resting], ["200", "open", 1, true]);
  });

  test("a partial fill of a resting order leaves its rest in the book with its time priority", () => {
    const then = expectAccepted(givenTrade(sellRests).when(placeOrder("bank-a", "b-1", "buy", "400", "10", "clear-a", hitS1)));
    const book = then.state.get("book/bond-1") as { asks: { order: string; units: string; seq: string }[] };
    assert.deepEqual(book.asks, [{ order: "s-1", owner: "ent-b", clearing: "clear-b", price: "10", units: "600", seq: "1" }]);
    assert.deepEqual(then.state.get("pos/bond-1/ent-b"), {
      instrument: "bond-1",
      holder: "ent-b",
      units: "2000",
      reserved: "600",
      parties: ["clear-b", "ent-b"],
    });
  });

  test("an incoming sell sweeps bids best price first, earlier first at one price, each at its own price", () => {
    const g = givenTrade(
      history(MARKET, [
        placeOrder("bank-a", "b-1", "buy", "200", "9", "clear-a"),
        placeOrder("bank-b", "b-2", "buy", "200", "10", "clear-b"),
        placeOrder("bank-a", "b-3", "buy", "200", "10", "clear-a"),
      ]),
    );
    const hits = [
      { order: "b-2", owner: "bank-b", clearing: "clear-b" },
      { order: "b-3", owner: "bank-a", clearing: "clear-a" },
      { order: "b-1", owner: "bank-a", clearing: "clear-a" },
    ];
    const then = expectAccepted(g.when(placeOrder("ent-a", "s-1", "sell", "500", "9", "clear-a", hits)));
    const trades = then.events.filter((e) => e.type === "TradeExecuted");
    assert.deepEqual(
      trades.map((t) => [t.assetId, t.data.buyOrder, t.data.units, t.data.price]),
      [
        ["trade/s-1.1", "b-2", "200", "10"],
        ["trade/s-1.2", "b-3", "200", "10"],
        ["trade/s-1.3", "b-1", "100", "9"],
      ],
    );
    assert.deepEqual(cash(then, "ent-a"), { balance: "4900" });
    assert.deepEqual(cash(then, "clear-a"), { balance: "900" }, "the escrow of b-1's 100 remaining units at 9");
    assert.deepEqual(cash(then, "clear-b"), { balance: "0" });
    assert.deepEqual(then.state.get("held/bank-b/pos/bond-1/bank-b"), { instrument: "bond-1", units: "200", reserved: "0" });
    assert.deepEqual(then.state.get("held/bank-a/pos/bond-1/bank-a"), { instrument: "bond-1", units: "300", reserved: "0" });
    assert.deepEqual(then.state.get("pos/bond-1/ent-a"), {
      instrument: "bond-1",
      holder: "ent-a",
      units: "4500",
      reserved: "0",
      parties: ["clear-a", "ent-a"],
    });
    const book = then.state.get("book/bond-1") as { bids: { order: string; units: string }[]; asks: unknown[] };
    assert.deepEqual(
      book.bids.map((b) => [b.order, b.units]),
      [["b-1", "100"]],
    );
  });

  test("a sell whose limit stops part way rests its remainder above the best bid", () => {
    const g = givenTrade(
      history(MARKET, [
        placeOrder("bank-a", "b-1", "buy", "200", "9", "clear-a"),
        placeOrder("bank-b", "b-2", "buy", "200", "10", "clear-b"),
      ]),
    );
    const then = expectAccepted(
      g.when(placeOrder("ent-a", "s-1", "sell", "300", "10", "clear-a", [{ order: "b-2", owner: "bank-b", clearing: "clear-b" }])),
    );
    const book = then.state.get("book/bond-1") as {
      bids: { order: string; price: string }[];
      asks: { order: string; price: string; units: string }[];
    };
    assert.deepEqual(
      book.bids.map((b) => [b.order, b.price]),
      [["b-1", "9"]],
    );
    assert.deepEqual(
      book.asks.map((a) => [a.order, a.price, a.units]),
      [["s-1", "10", "100"]],
    );
  });
});

describe("trade place-order: rejections", () => {
  const sellRests = history(MARKET, [placeOrder("ent-b", "s-1", "sell", "1000", "10", "clear-b")]);
  const hitS1 = [{ order: "s-1", owner: "ent-b", clearing: "clear-b" }];
  const code = (events: Parameters<typeof givenTrade>[0], w: ReturnType<typeof placeOrder>): string =>
    expectRejection(givenTrade(events).when(w)).code;

  test("UNKNOWN_INSTRUMENT for a quote on an instrument not listed", () => {
    const r = expectRejection(givenTrade(MARKET).when(placeOrder("ent-a", "s-1", "sell", "100", "10", "clear-a", [], "bond-9")));
    assert.equal(r.code, "UNKNOWN_INSTRUMENT");
    assert.match(r.message, /bond-9/);
  });

  test("NOT_LOT_MULTIPLE when the quantity is not a multiple of the lot", () => {
    const r = expectRejection(givenTrade(MARKET).when(placeOrder("ent-a", "s-1", "sell", "150", "10", "clear-a")));
    assert.equal(r.code, "NOT_LOT_MULTIPLE");
    assert.match(r.message, /150.*100/);
  });

  test("INSUFFICIENT_UNITS when selling more than held, reserved units not counting", () => {
    assert.equal(code(MARKET, placeOrder("ent-c", "s-9", "sell", "100", "10", "clear-a")), "INSUFFICIENT_UNITS");
    const r = expectRejection(givenTrade(MARKET).when(placeOrder("ent-a", "s-9", "sell", "5100", "10", "clear-a")));
    assert.equal(r.code, "INSUFFICIENT_UNITS");
    assert.match(r.message, /ent-a holds 5000 free units of bond-1, less than the 5100/);
    const reserved = history(MARKET, [placeOrder("ent-a", "s-1", "sell", "1000", "10", "clear-a")]);
    assert.equal(code(reserved, placeOrder("ent-a", "s-2", "sell", "4100", "11", "clear-a")), "INSUFFICIENT_UNITS");
  });

  test("INSUFFICIENT_FUNDS when buying without the cash for the fills and the escrow", () => {
    assert.equal(code(MARKET, placeOrder("ent-c", "b-9", "buy", "100", "10", "clear-a")), "INSUFFICIENT_FUNDS");
    assert.equal(code(MARKET, placeOrder("bank-b", "b-9", "buy", "100000", "6", "clear-b")), "INSUFFICIENT_FUNDS");
    // 1000 at 10 fills for 10 000; the 99 000 left would escrow 990 000 at 10: 1 000 000 in all, 1 000 000 held.
    assert.equal(
      expectEvents(givenTrade(sellRests).when(placeOrder("bank-a", "b-1", "buy", "100000", "10", "clear-a", hitS1))).length > 0,
      true,
    );
    const r = expectRejection(givenTrade(sellRests).when(placeOrder("bank-a", "b-1", "buy", "100100", "10", "clear-a", hitS1)));
    assert.equal(r.code, "INSUFFICIENT_FUNDS");
    assert.match(r.message, /bank-a holds 1000000 free, less than the 1001000/);
  });

  test("INSUFFICIENT_FUNDS when a clearing bank trading for itself would spend the escrow it holds for members", () => {
    const events = history([...MARKET, issued("clear-a", "1000", "clear-a")], [placeOrder("bank-a", "b-1", "buy", "500", "20", "clear-a")]);
    const g = givenTrade(events);
    assert.deepEqual(g.query("escrow", { clearing: "clear-a" }), { clearing: "clear-a", amount: "10000" });
    assert.deepEqual(g.state.get("cash:acct/clear-a"), { balance: "11000" });
    const r = expectRejection(g.when(placeOrder("clear-a", "b-2", "buy", "200", "10", "clear-a")));
    assert.equal(r.code, "INSUFFICIENT_FUNDS");
    assert.match(r.message, /clear-a holds 1000 free/);
    const own = expectAccepted(g.when(placeOrder("clear-a", "b-2", "buy", "100", "10", "clear-a")));
    assert.deepEqual(own.state.get("escrow/clear-a"), { clearing: "clear-a", amount: "11000", parties: ["clear-a"] });
    assert.deepEqual(own.state.get("cash:acct/clear-a"), { balance: "11000" }, "a self-cleared bid's escrow stays in the account");
  });

  test("nothing moves when a resting buyer's clearing bank has spent the escrow", () => {
    const spent = history(MARKET, [placeOrder("bank-b", "b-1", "buy", "100", "10", "clear-b")]);
    const drained = [
      ...spent,
      {
        contract: "cash",
        type: "CashTransferred",
        assetId: "acct/clear-b",
        parties: ["clear-a", "clear-b"],
        data: { from: "clear-b", to: "clear-a", amount: "1000", memo: null },
      },
    ];
    const r = expectRejection(
      givenTrade(drained).when(
        placeOrder("ent-a", "s-1", "sell", "100", "10", "clear-a", [{ order: "b-1", owner: "bank-b", clearing: "clear-b" }]),
      ),
    );
    assert.equal(r.code, "INSUFFICIENT_FUNDS");
    assert.match(r.message, /clear-b/);
  });

  test("MISSING_SIGNATURE when the clearing bank did not sign the order", () => {
    const r = givenTrade(MARKET).when({ ...placeOrder("ent-a", "s-1", "sell", "100", "10", "clear-a"), ctx: { signers: ["ent-a"] } });
    assert.equal(expectRejection(r).code, "MISSING_SIGNATURE");
    const other = givenTrade(MARKET).when({
      ...placeOrder("ent-a", "s-1", "sell", "100", "10", "clear-a"),
      ctx: { signers: ["ent-a", "clear-b"] },
    });
    assert.equal(expectRejection(other).code, "MISSING_SIGNATURE");
  });

  test("NOT_CLEARING_BANK when the named clearing bank lacks the role or is not a member", () => {
    assert.equal(code(MARKET, placeOrder("ent-a", "s-1", "sell", "100", "10", "bank-a")), "NOT_CLEARING_BANK");
    assert.equal(code(MARKET, placeOrder("ent-a", "s-1", "sell", "100", "10", "nobody")), "NOT_CLEARING_BANK");
  });

  test("ORDER_EXISTS when the id was used, even by an order long filled", () => {
    assert.equal(code(sellRests, placeOrder("ent-a", "s-1", "sell", "100", "11", "clear-a")), "ORDER_EXISTS");
    const filled = history(sellRests, [placeOrder("bank-a", "b-1", "buy", "1000", "10", "clear-a", hitS1)]);
    assert.equal(code(filled, placeOrder("bank-a", "b-1", "buy", "100", "1", "clear-a")), "ORDER_EXISTS");
  });

  test("MATCH_MISMATCH unless the hits are exactly the price-time-priority set", () => {
    const two = history(sellRests, [placeOrder("ent-a", "s-2", "sell", "1000", "10", "clear-a")]);
    const s2 = { order: "s-2", owner: "ent-a", clearing: "clear-a" };
    const cases = [
      ["no hits though the order crosses", placeOrder("bank-a", "b-1", "buy", "100", "10", "clear-a")],
      ["hits out of priority order", placeOrder("bank-a", "b-1", "buy", "1100", "10", "clear-a", [s2, ...hitS1])],
      ["a later order instead of the first", placeOrder("bank-a", "b-1", "buy", "100", "10", "clear-a", [s2])],
      ["more hits than the quantity uses", placeOrder("bank-a", "b-1", "buy", "100", "10", "clear-a", [...hitS1, s2])],
      ["a wrong owner", placeOrder("bank-a", "b-1", "buy", "100", "10", "clear-a", [{ ...hitS1[0]!, owner: "ent-c" }])],
      ["a wrong clearing bank", placeOrder("bank-a", "b-1", "buy", "100", "10", "clear-a", [{ ...hitS1[0]!, clearing: "clear-a" }])],
      ["a hit though nothing crosses", placeOrder("bank-a", "b-1", "buy", "100", "9", "clear-a", hitS1)],
    ] as const;
    for (const [why, w] of cases) {
      const r = expectRejection(givenTrade(two).when(w));
      assert.equal(r.code, "MATCH_MISMATCH", why);
      assert.match(r.message, /s-1 \(ent-b via clear-b\)|none/, why);
    }
  });

  test("SELF_MATCH when the order would trade with the owner's own resting order", () => {
    const own = history([...MARKET, lodged("bank-a", "100")], [placeOrder("bank-a", "s-1", "sell", "100", "10", "clear-a")]);
    const r = expectRejection(
      givenTrade(own).when(
        placeOrder("bank-a", "b-1", "buy", "100", "10", "clear-a", [{ order: "s-1", owner: "bank-a", clearing: "clear-a" }]),
      ),
    );
    assert.equal(r.code, "SELF_MATCH");
    assert.match(r.message, /s-1/);
  });

  test("BOOK_FULL when the remainder would rest on a full side; a full side still trades", () => {
    const m = new Market();
    for (let i = 0; i < BOOK_SIDE_MAX; i++) m.must(placeOrder("bank-a", `b-${i}`, "buy", "1", "1", "clear-a", [], "bond-2"));
    const full = m.run(placeOrder("bank-b", "b-x", "buy", "1", "1", "clear-b", [], "bond-2"));
    assert.equal(codeOf(full), "BOOK_FULL");
    const hit = m.run(
      placeOrder("ent-a", "s-1", "sell", "1", "1", "clear-a", [{ order: "b-0", owner: "bank-a", clearing: "clear-a" }], "bond-2"),
    );
    assert.equal(codeOf(hit), "accepted");
    assert.equal(codeOf(m.run(placeOrder("bank-b", "b-x", "buy", "1", "1", "clear-b", [], "bond-2"))), "accepted");
  });

  test("MATCH_TOO_LARGE when the order would trade with more than HITS_MAX resting orders", () => {
    const m = new Market();
    for (let i = 0; i <= HITS_MAX; i++) m.must(placeOrder("ent-a", `s-${i}`, "sell", "1", "1", "clear-a", [], "bond-2"));
    const hits = Array.from({ length: HITS_MAX }, (_, i) => ({ order: `s-${i}`, owner: "ent-a", clearing: "clear-a" }));
    const r = m.run(placeOrder("bank-a", "b-1", "buy", String(HITS_MAX + 1), "1", "clear-a", hits, "bond-2"));
    assert.equal(codeOf(r), "MATCH_TOO_LARGE");
    assert.equal(codeOf(m.run(placeOrder("bank-a", "b-1", "buy", String(HITS_MAX), "1", "clear-a", hits, "bond-2"))), "accepted");
  });

  test("POSITION_LIMIT when a buyer would pass the position bound", () => {
    const events = history(
      [...MARKET, lodged("bank-a", (POSITION_MAX - 50n).toString())],
      [placeOrder("ent-a", "s-1", "sell", "100", "1", "clear-a")],
    );
    assert.equal(
      code(events, placeOrder("bank-a", "b-1", "buy", "100", "1", "clear-a", [{ order: "s-1", owner: "ent-a", clearing: "clear-a" }])),
      "POSITION_LIMIT",
    );
  });

  test("FORBIDDEN_ROLE for the exchange, the regulator, a warehouse and an oracle", () => {
    for (const signer of ["exch", "reg", "wh-a", "oracle-a", "stranger"]) {
      assert.equal(
        code([...MARKET, issued(signer, "1000")], placeOrder(signer, "b-1", "buy", "100", "1", "clear-a")),
        "FORBIDDEN_ROLE",
        signer,
      );
    }
  });

  test("every trader role may place an order", () => {
    for (const signer of ["bank-a", "clear-a", "ent-a", "issuer-a"]) {
      const r = givenTrade([...MARKET, issued(signer, "1000")]).when(placeOrder(signer, "b-1", "buy", "100", "1", "clear-a"));
      assert.ok(expectEvents(r).length > 0, signer);
    }
  });
});

test("place-order is deterministic: the same inputs give deep-equal outputs and the same bytes", () => {
  const events = history(MARKET, [placeOrder("ent-b", "s-1", "sell", "1000", "10", "clear-b")]);
  const run = () =>
    expectAccepted(
      givenTrade(events).when(
        placeOrder("bank-a", "b-1", "buy", "1500", "12", "clear-a", [{ order: "s-1", owner: "ent-b", clearing: "clear-b" }]),
      ),
    );
  const a = run();
  const b = run();
  assert.deepEqual(a, b);
  assert.equal(canonicalJson([a.events, [...a.updates]]), canonicalJson([b.events, [...b.updates]]));
});
