import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { expectEvents, expectRejection } from "../testing/given-when-then.js";
import { MARKET, givenTrade } from "./trade-fixtures.js";
import { HITS_MAX, INSTRUMENT_NAME_LENGTH_MAX, ORDER_ID_LENGTH_MAX } from "./trade-state.js";

const list = { id: "bond-3", name: "Bond Three", lotSize: "100", alertUnits: "1000" };
const lodge = { instrument: "bond-1", holder: "ent-a", units: "1" };
const place = { order: "o-1", instrument: "bond-1", side: "buy", quantity: "100", price: "1", clearing: "clear-a" };
const cancel = { order: "o-1", instrument: "bond-1", clearing: "clear-a" };
const hit = { order: "s-1", owner: "ent-b", clearing: "clear-b" };

const signerOf: Record<string, string> = {
  "list-instrument": "exch",
  lodge: "clear-a",
  withdraw: "clear-a",
  "place-order": "bank-a",
  "cancel-order": "bank-a",
};

describe("trade args", () => {
  const cases: [string, string, Record<string, unknown>][] = [
    ["list-instrument", "id", { ...list, id: "Bond" }],
    ["list-instrument", "id", { ...list, id: "" }],
    ["list-instrument", "name", { ...list, name: "" }],
    ["list-instrument", "name", { ...list, name: 7 }],
    ["list-instrument", "name", { ...list, name: "n".repeat(INSTRUMENT_NAME_LENGTH_MAX + 1) }],
    ["list-instrument", "lotSize", { ...list, lotSize: "0" }],
    ["list-instrument", "lotSize", { ...list, lotSize: "-100" }],
    ["list-instrument", "lotSize", { ...list, lotSize: 100 }],
    ["list-instrument", "alertUnits", { ...list, alertUnits: "1".repeat(16) }],
    ["list-instrument", "exchange", { ...list, exchange: "exch" }],
    ["lodge", "instrument", { ...lodge, instrument: null }],
    ["lodge", "holder", { ...lodge, holder: "Ent A" }],
    ["lodge", "units", { ...lodge, units: "1.5" }],
    ["lodge", "units", { ...lodge, units: "1".repeat(31) }],
    ["lodge", "custodian", { ...lodge, custodian: "clear-b" }],
    ["withdraw", "units", { ...lodge, units: "0" }],
    ["withdraw", "holder", { instrument: "bond-1", units: "1" }],
    ["place-order", "order", { ...place, order: "o".repeat(ORDER_ID_LENGTH_MAX + 1) }],
    ["place-order", "order", { ...place, order: "o/1" }],
    ["place-order", "side", { ...place, side: "short" }],
    ["place-order", "side", { ...place, side: "" }],
    ["place-order", "side", { order: "o-1", instrument: "bond-1", quantity: "100", price: "1", clearing: "clear-a" }],
    ["place-order", "quantity", { ...place, quantity: "-100" }],
    ["place-order", "quantity", { ...place, quantity: "1".repeat(16) }],
    ["place-order", "price", { ...place, price: "0" }],
    ["place-order", "price", { ...place, price: 1 }],
    ["place-order", "price", { ...place, price: "1e3" }],
    ["place-order", "clearing", { ...place, clearing: "" }],
    ["place-order", "hits", { ...place, hits: "s-1" }],
    ["place-order", "hits", { ...place, hits: Array.from({ length: HITS_MAX + 1 }, () => hit) }],
    ["place-order", "hits", { ...place, hits: [{ order: "s-1", owner: "ent-b" }] }],
    ["place-order", "hits", { ...place, hits: [{ ...hit, extra: 1 }] }],
    ["place-order", "hits", { ...place, hits: [null] }],
    ["place-order", "owner", { ...place, owner: "bank-b" }],
    ["cancel-order", "order", { ...cancel, order: 1 }],
    ["cancel-order", "clearing", { order: "o-1", instrument: "bond-1" }],
    ["cancel-order", "instrument", { ...cancel, instrument: "x".repeat(65) }],
  ];
  for (const [action, field, args] of cases) {
    test(`${action} refuses ${JSON.stringify(args).slice(0, 100)} naming ${field}`, () => {
      const r = expectRejection(
        givenTrade(MARKET).when({
          signer: signerOf[action] ?? "",
          action,
          args,
          ctx: { signers: [signerOf[action] ?? "", "clear-a", "ent-a"] },
        }),
      );
      assert.equal(r.code, "BAD_ARGS");
      assert.match(r.message, new RegExp(`\\b${field}\\b`));
    });
  }

  test("args that are not an object, and unknown actions, are refused", () => {
    assert.equal(expectRejection(givenTrade(MARKET).when({ signer: "bank-a", action: "place-order", args: [] })).code, "BAD_ARGS");
    assert.equal(expectRejection(givenTrade(MARKET).when({ signer: "bank-a", action: "modify-order", args: {} })).code, "UNKNOWN_ACTION");
  });

  test("values at their bounds are accepted; empty hits mean none", () => {
    const atBounds = { ...list, name: "n".repeat(INSTRUMENT_NAME_LENGTH_MAX), lotSize: "9".repeat(15), alertUnits: "9".repeat(15) };
    assert.equal(expectEvents(givenTrade(MARKET).when({ signer: "exch", action: "list-instrument", args: atBounds })).length, 1);
    const id = "o".repeat(ORDER_ID_LENGTH_MAX);
    const r = givenTrade(MARKET).when({
      signer: "bank-a",
      action: "place-order",
      args: { ...place, order: id, hits: [] },
      ctx: { signers: ["bank-a", "clear-a"] },
    });
    assert.equal(expectEvents(r)[0]?.assetId, `order/${id}`);
  });
});
