// The contract every StateReader passes, the in-memory fake and DbStateReader alike.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { JsonValue } from "@tally/ledger";
import type { StateReader } from "../state-reader.js";

/** The entries a reader under test must hold: contract → key → value. */
export const STATE_READER_FIXTURE: ReadonlyMap<string, ReadonlyMap<string, JsonValue>> = new Map([
  [
    "cash",
    new Map<string, JsonValue>([
      ["acct/bank-b", { balance: "7" }],
      ["acct/bank-a", { balance: "100" }],
      ["acct/clearing", { balance: "0" }],
    ]),
  ],
  ["notary", new Map<string, JsonValue>([["acct/bank-a", { nested: [1, "two", null, true] }]])],
]);

/** Registers the StateReader contract tests; `reader` resolves to a reader holding exactly STATE_READER_FIXTURE. */
export function stateReaderContract(reader: () => StateReader): void {
  test("load returns the named keys that exist, with their values, and nothing else", async () => {
    const got = await reader().load("cash", ["acct/bank-a", "acct/nobody", "acct/clearing"]);
    assert.deepEqual(
      got,
      new Map<string, JsonValue>([
        ["acct/bank-a", { balance: "100" }],
        ["acct/clearing", { balance: "0" }],
      ]),
    );
  });

  test("load is scoped to one contract", async () => {
    assert.deepEqual(
      await reader().load("notary", ["acct/bank-a", "acct/bank-b"]),
      new Map([["acct/bank-a", { nested: [1, "two", null, true] }]]),
    );
    assert.equal((await reader().load("membership", ["acct/bank-a"])).size, 0);
  });

  test("load of no keys is empty", async () => {
    assert.equal((await reader().load("cash", [])).size, 0);
  });

  test("load of more keys than one query holds still finds every present one", async () => {
    const keys = Array.from({ length: 2500 }, (_, i) => `acct/x${i}`);
    keys.splice(1700, 0, "acct/bank-b");
    keys.splice(10, 0, "acct/bank-a");
    const got = await reader().load("cash", keys);
    assert.deepEqual([...got.keys()].sort(), ["acct/bank-a", "acct/bank-b"]);
  });

  test("loadAll returns every entry of the contract in key order", async () => {
    const got = await reader().loadAll("cash");
    assert.deepEqual([...got.keys()], ["acct/bank-a", "acct/bank-b", "acct/clearing"]);
    assert.deepEqual(got.get("acct/bank-b"), { balance: "7" });
    assert.equal((await reader().loadAll("membership")).size, 0);
  });

  test("scan returns the entries under a prefix, in key order, up to the limit, of one contract", async () => {
    assert.deepEqual([...(await reader().scan("cash", "acct/", 10)).keys()], ["acct/bank-a", "acct/bank-b", "acct/clearing"]);
    assert.deepEqual([...(await reader().scan("cash", "acct/bank-", 10)).keys()], ["acct/bank-a", "acct/bank-b"]);
    assert.deepEqual([...(await reader().scan("cash", "acct/", 2)).keys()], ["acct/bank-a", "acct/bank-b"]);
    assert.deepEqual((await reader().scan("cash", "acct/bank-b", 5)).get("acct/bank-b"), { balance: "7" });
    assert.equal((await reader().scan("cash", "bcct/", 10)).size, 0);
    assert.equal((await reader().scan("notary", "acct/bank-b", 10)).size, 0);
    // A prefix is text, not a pattern: % and _ match only themselves.
    assert.equal((await reader().scan("cash", "acct/%", 10)).size, 0);
    assert.equal((await reader().scan("cash", "acct_", 10)).size, 0);
  });
}
