import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { utf8, type JsonValue } from "@tally/ledger";
import { RpcError } from "@tally/rpc";
import { rejection, type Contract } from "@tally/contracts";
import { queryAccess, seesEvent, visibleAnswer } from "./visibility.js";

const args = (v: unknown): Uint8Array => utf8(JSON.stringify(v));
const BANK = ["bank"];
const REG = ["regulator"];

describe("queryAccess: who may read each query, declared by the contract", () => {
  test("reference data is public", () => {
    for (const [c, q, a] of [
      ["trade", "book", { instrument: "acme" }],
      ["trade", "instrument", { id: "acme" }],
      ["membership", "members", {}],
      ["membership", "institution", { id: "bank-a" }],
      ["membership", "chain-config", {}],
    ] as const) {
      assert.deepEqual(queryAccess(c, q, args(a)), { kind: "public" }, `${c}.${q}`);
    }
  });

  test("an institution's own books belong to it", () => {
    assert.deepEqual(queryAccess("cash", "balance", args({ account: "bank-b" })), { kind: "owner", owner: "bank-b" });
    assert.deepEqual(queryAccess("bill", "portfolio", args({ holder: "ent-a" })), { kind: "owner", owner: "ent-a" });
    assert.deepEqual(queryAccess("trade", "escrow", args({ clearing: "clear-a" })), { kind: "owner", owner: "clear-a" });
    assert.deepEqual(queryAccess("warehouse", "collateral", args({ bank: "bank-a" })), { kind: "owner", owner: "bank-a" });
  });

  test("assets answer by their parties", () => {
    assert.deepEqual(queryAccess("bill", "bill", args({ id: "b-1" })), { kind: "parties" });
    assert.deepEqual(queryAccess("bond", "holders", args({ bond: "b-1" })), { kind: "parties" });
    assert.deepEqual(queryAccess("receivable", "lineage", args({ id: "r-1" })), { kind: "parties" });
  });

  test("bad requests are INVALID_ARGUMENT naming the field", () => {
    for (const [c, q, a, reason, field] of [
      ["nope", "x", args({}), "UNKNOWN_CONTRACT", "contract"],
      ["cash", "nope", args({}), "UNKNOWN_QUERY", "query"],
      ["cash", "balance", utf8("{not json"), "BAD_ARGS", "args"],
      ["cash", "balance", args({ account: 7 }), "BAD_ARGS", "args"],
      ["cash", "balance", args([1]), "BAD_ARGS", "args"],
    ] as const) {
      assert.throws(
        () => queryAccess(c, q, a),
        (e: unknown) => e instanceof RpcError && e.code === status.INVALID_ARGUMENT && e.reason === reason && e.field === field,
      );
    }
  });

  test("a deployed user contract's queries answer by their parties; garbage args are BAD_ARGS; undeployed ones UNKNOWN_CONTRACT", () => {
    const deployed = new Set(["loc", "loc.v1"]);
    assert.deepEqual(queryAccess("loc", "letter", args({ id: "lc-1" }), deployed), { kind: "parties" });
    assert.deepEqual(queryAccess("loc.v1", "letter", args({ id: "lc-1" }), deployed), { kind: "parties" });
    for (const [a, reason] of [
      [utf8("{not json"), "BAD_ARGS"],
      [args([1]), "BAD_ARGS"],
    ] as const) {
      assert.throws(
        () => queryAccess("loc", "letter", a, deployed),
        (e: unknown) => e instanceof RpcError && e.reason === reason,
      );
    }
    assert.throws(
      () => queryAccess("loc.v2", "letter", args({}), deployed),
      (e: unknown) => e instanceof RpcError && e.reason === "UNKNOWN_CONTRACT",
    );
  });

  test("once its declarations are read, a user contract's queries are checked and public ones are public", () => {
    const names = new Set(["loc"]);
    const query = (isPublic: boolean) => ({
      parse: (a: Readonly<Record<string, unknown>>) => (typeof a.id === "string" ? a : rejection("BAD_ARGS", "id is required")),
      keys: () => [],
      run: () => null,
      ...(isPublic ? { public: true } : {}),
    });
    const loc: Contract = {
      name: "loc",
      actions: {},
      keys: () => [],
      decide: () => [],
      evolve: () => new Map(),
      queries: { letter: query(false), rates: query(true) },
    };
    const deployed = new Map([["loc", loc]]);
    assert.deepEqual(queryAccess("loc", "letter", args({ id: "lc-1" }), names, deployed), { kind: "parties" });
    assert.deepEqual(queryAccess("loc", "rates", args({ id: "eur" }), names, deployed), { kind: "public" });
    for (const [q, a, reason] of [
      ["nope", args({ id: "x" }), "UNKNOWN_QUERY"],
      ["letter", args({}), "BAD_ARGS"],
    ] as const) {
      assert.throws(
        () => queryAccess("loc", q, a, names, deployed),
        (e: unknown) => e instanceof RpcError && e.reason === reason,
      );
    }
  });
});

describe("visibleAnswer", () => {
  const bill = { id: "b-1", holder: "bank-a", parties: ["bank-a", "ent-a"] } satisfies JsonValue;
  const parties = { kind: "parties" } as const;

  test("a single asset: whole to its parties, NOT_FOUND (undefined) to others, exactly like null", () => {
    assert.deepEqual(visibleAnswer(parties, bill, "ent-a", BANK), bill);
    assert.equal(visibleAnswer(parties, bill, "bank-b", BANK), undefined);
    assert.equal(visibleAnswer(parties, null, "bank-a", BANK), undefined);
    // An answer that names no parties is not shown to anyone but a regulator.
    assert.equal(visibleAnswer(parties, { amount: "5" }, "bank-a", BANK), undefined);
    assert.equal(visibleAnswer(parties, "x", "bank-a", BANK), undefined);
  });

  test("a list keeps the elements the caller is party to", () => {
    const other = { id: "b-2", parties: ["bank-b"] };
    assert.deepEqual(visibleAnswer(parties, [bill, other, "junk", null], "bank-a", BANK), [bill]);
    assert.deepEqual(visibleAnswer(parties, [other], "bank-a", BANK), []);
  });

  test("owner answers only to the owner; public to everyone; a regulator sees everything", () => {
    const balance = { account: "bank-b", balance: "9" };
    assert.deepEqual(visibleAnswer({ kind: "owner", owner: "bank-b" }, balance, "bank-b", BANK), balance);
    assert.equal(visibleAnswer({ kind: "owner", owner: "bank-b" }, balance, "bank-a", BANK), undefined);
    assert.deepEqual(visibleAnswer({ kind: "public" }, balance, "bank-a", BANK), balance);
    assert.deepEqual(visibleAnswer({ kind: "owner", owner: "bank-b" }, balance, "reg", REG), balance);
    assert.deepEqual(visibleAnswer(parties, bill, "reg", REG), bill);
    assert.equal(visibleAnswer(parties, null, "reg", REG), null);
  });

  test("events: parties and regulators", () => {
    assert.equal(seesEvent(["bank-a"], "bank-a", BANK), true);
    assert.equal(seesEvent(["bank-a"], "bank-b", BANK), false);
    assert.equal(seesEvent([], "reg", REG), true);
  });
});
