import { test } from "node:test";
import assert from "node:assert/strict";
import { isRejection } from "../contract.js";
import { expectAccepted } from "../testing/given-when-then.js";
import { givenTrade, history, MARKET, placeOrder } from "./trade-fixtures.js";
import { orderHits } from "./trade-hits.js";

const resting = history(MARKET, [
  placeOrder("ent-a", "s-1", "sell", "300", "100", "clear-a"),
  placeOrder("ent-b", "s-2", "sell", "200", "99", "clear-b"),
]);

test("orderHits gives the hits the contract accepts: best price first, then time", () => {
  const book = givenTrade(resting).query("book", { instrument: "bond-1" });
  assert.ok(!isRejection(book));
  const hits = orderHits(book, "bond-1", "buy", 100n, 400n, "bank-a");
  assert.deepEqual(hits, [
    { order: "s-2", owner: "ent-b", clearing: "clear-b" },
    { order: "s-1", owner: "ent-a", clearing: "clear-a" },
  ]);
  assert.ok(!isRejection(hits));
  const then = expectAccepted(givenTrade(resting).when(placeOrder("bank-a", "b-1", "buy", "400", "100", "clear-a", hits)));
  assert.ok(then.events.some((e) => e.type === "TradeExecuted" || e.type.startsWith("Trade")));
});

test("orderHits is empty when nothing crosses or the instrument is unlisted, and refuses a self-match", () => {
  const book = givenTrade(resting).query("book", { instrument: "bond-1" });
  assert.ok(!isRejection(book));
  assert.deepEqual(orderHits(book, "bond-1", "buy", 98n, 100n, "bank-a"), []);
  assert.deepEqual(orderHits(null, "bond-9", "buy", 98n, 100n, "bank-a"), []);
  const self = orderHits(book, "bond-1", "buy", 100n, 100n, "ent-b");
  assert.equal(isRejection(self) && self.code, "SELF_MATCH");
});
