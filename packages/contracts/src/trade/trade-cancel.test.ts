import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { expectAccepted, expectRejection } from "../testing/given-when-then.js";
import { MARKET, cancelOrder, givenTrade, history, issued, placeOrder } from "./trade-fixtures.js";

describe("trade cancel-order", () => {
  const book = history(MARKET, [
    placeOrder("ent-a", "s-1", "sell", "1000", "10", "clear-a"),
    placeOrder("bank-b", "b-1", "buy", "500", "8", "clear-b"),
  ]);

  test("the owner cancels a resting sell: its units are released and it leaves the book", () => {
    const then = expectAccepted(givenTrade(book).when(cancelOrder("ent-a", "s-1", "clear-a")));
    assert.deepEqual(
      then.events.map((e) => [e.type, e.assetId]),
      [
        ["OrderCancelled", "order/s-1"],
        ["SecuritiesReleased", "pos/bond-1/ent-a"],
      ],
    );
    assert.deepEqual(then.state.get("pos/bond-1/ent-a"), {
      instrument: "bond-1",
      holder: "ent-a",
      units: "5000",
      reserved: "0",
      parties: ["clear-a", "ent-a"],
    });
    assert.deepEqual((then.state.get("book/bond-1") as { asks: unknown[] }).asks, []);
    const order = then.state.get("order/s-1") as Record<string, unknown>;
    assert.deepEqual([order.status, order.resting, order.remaining], ["cancelled", false, "1000"]);
  });

  test("the owner cancels a resting buy: the clearing bank returns the escrow", () => {
    const then = expectAccepted(givenTrade(book).when(cancelOrder("bank-b", "b-1", "clear-b")));
    assert.deepEqual(
      then.events.map((e) => [e.contract ?? "trade", e.type]),
      [
        ["trade", "OrderCancelled"],
        ["cash", "CashTransferred"],
      ],
    );
    assert.deepEqual(then.events[1]?.data, { from: "clear-b", to: "bank-b", amount: "4000", memo: "release order b-1" });
    assert.deepEqual(then.state.get("cash:acct/bank-b"), { balance: "500000" });
    assert.deepEqual(then.state.get("cash:acct/clear-b"), { balance: "0" });
    assert.equal(then.state.get("escrow/clear-b"), undefined);
    assert.deepEqual((then.state.get("book/bond-1") as { bids: unknown[] }).bids, []);
  });

  test("cancelling a partly filled order releases only what is left", () => {
    const partly = history(book, [
      placeOrder("bank-a", "b-2", "buy", "400", "10", "clear-a", [{ order: "s-1", owner: "ent-a", clearing: "clear-a" }]),
    ]);
    const then = expectAccepted(givenTrade(partly).when(cancelOrder("ent-a", "s-1", "clear-a")));
    assert.equal(then.events[1]?.data.units, "600");
    assert.deepEqual(then.state.get("pos/bond-1/ent-a"), {
      instrument: "bond-1",
      holder: "ent-a",
      units: "4600",
      reserved: "0",
      parties: ["clear-a", "ent-a"],
    });
  });

  test("NOT_OWNER when cancelling someone else's order, even as its clearing bank", () => {
    for (const signer of ["ent-b", "clear-a", "bank-a"]) {
      const r = expectRejection(givenTrade(book).when(cancelOrder(signer, "s-1", "clear-a")));
      assert.equal(r.code, "NOT_OWNER", signer);
      assert.match(r.message, /s-1 belongs to ent-a/);
    }
  });

  test("UNKNOWN_ORDER, ORDER_MISMATCH and ORDER_CLOSED", () => {
    assert.equal(expectRejection(givenTrade(book).when(cancelOrder("ent-a", "s-9", "clear-a"))).code, "UNKNOWN_ORDER");
    assert.equal(expectRejection(givenTrade(book).when(cancelOrder("ent-a", "s-1", "clear-b"))).code, "ORDER_MISMATCH");
    assert.equal(expectRejection(givenTrade(book).when(cancelOrder("ent-a", "s-1", "clear-a", "bond-2"))).code, "ORDER_MISMATCH");
    const cancelled = history(book, [cancelOrder("ent-a", "s-1", "clear-a")]);
    const again = expectRejection(givenTrade(cancelled).when(cancelOrder("ent-a", "s-1", "clear-a")));
    assert.equal(again.code, "ORDER_CLOSED");
    assert.match(again.message, /cancelled/);
    const filled = history(book, [
      placeOrder("bank-a", "b-2", "buy", "1000", "10", "clear-a", [{ order: "s-1", owner: "ent-a", clearing: "clear-a" }]),
    ]);
    assert.equal(expectRejection(givenTrade(filled).when(cancelOrder("ent-a", "s-1", "clear-a"))).code, "ORDER_CLOSED");
    assert.equal(expectRejection(givenTrade(filled).when(cancelOrder("bank-a", "b-2", "clear-a"))).code, "ORDER_CLOSED");
  });

  test("INSUFFICIENT_FUNDS when the clearing bank no longer holds the escrow: the order stays", () => {
    const drained = [
      ...book,
      {
        contract: "cash",
        type: "CashTransferred",
        assetId: "acct/clear-b",
        parties: ["clear-a", "clear-b"],
        data: { from: "clear-b", to: "clear-a", amount: "4000", memo: null },
      },
    ];
    assert.equal(expectRejection(givenTrade(drained).when(cancelOrder("bank-b", "b-1", "clear-b"))).code, "INSUFFICIENT_FUNDS");
    const restored = [...drained, issued("clear-b", "4000", "clear-b")];
    assert.equal(expectAccepted(givenTrade(restored).when(cancelOrder("bank-b", "b-1", "clear-b"))).events.length, 2);
  });

  test("FORBIDDEN_ROLE for roles that cannot trade", () => {
    for (const signer of ["exch", "reg", "wh-a"]) {
      assert.equal(expectRejection(givenTrade(book).when(cancelOrder(signer, "s-1", "clear-a"))).code, "FORBIDDEN_ROLE", signer);
    }
  });
});
