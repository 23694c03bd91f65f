import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { InvariantError, isValidId, type JsonValue } from "@tally/ledger";
import { foreignKey, isRejection, rejection, resolveKey, type Contract, type ContractEvent } from "./contract.js";
import { eraseContract, eraseQuery } from "./erase-contract.js";
import { builtinContracts } from "./registry.js";
import { foldEvents, prepareCommand, prepareQuery, runCommand, runQuery, usedContracts, type PreparedCommand } from "./run.js";
import { testContext } from "./testing/given-when-then.js";

// A counter whose "bump" emits `times` Bumped events: each evolve must see the previous one's result.
type Bump = { readonly action: "bump"; readonly times: number; readonly key: string };
const counter: Contract = eraseContract<Bump>({
  name: "counter",
  actions: {
    bump: {
      roles: ["bank"],
      parse: (args) =>
        typeof args.times === "number" && typeof args.key === "string"
          ? { action: "bump", times: args.times, key: args.key }
          : rejection("BAD_ARGS", "times, key"),
    },
    refuse: { roles: ["bank"], parse: () => ({ action: "bump", times: -1, key: "n" }) },
  },
  keys: () => ["n", "n"],
  decide: (cmd) =>
    cmd.times < 0
      ? rejection("NOPE", "refused in decide")
      : Array.from({ length: cmd.times }, (): ContractEvent => ({ type: "Bumped", assetId: cmd.key, parties: [], data: { key: cmd.key } })),
  evolve: (state, event) => {
    const key = event.data.key as string;
    const n = state.get(key);
    return new Map<string, JsonValue | null>([[key, typeof n === "number" ? n + 1 : 1]]);
  },
  queries: {
    get: eraseQuery<{ readonly key: string }>({
      parse: (args) => (typeof args.key === "string" ? { key: args.key } : rejection("BAD_ARGS", "key")),
      keys: (q) => [q.key, q.key],
      run: (q, state) => state.get(q.key) ?? null,
    }),
  },
});
const contracts = new Map([["counter", counter]]);
const ctx = testContext("bank-a");

function prepared(args: unknown): PreparedCommand {
  const p = prepareCommand(contracts, "counter", "bump", args, ctx);
  if (isRejection(p)) throw new Error(p.message);
  return p;
}

describe("prepareCommand", () => {
  test("UNKNOWN_CONTRACT", () => {
    const r = prepareCommand(builtinContracts, "lottery", "draw", {}, ctx);
    assert.ok(isRejection(r));
    assert.equal(r.code, "UNKNOWN_CONTRACT");
  });

  test("UNKNOWN_ACTION, including names found only on Object.prototype", () => {
    for (const action of ["burn", "toString", "__proto__", "constructor", "hasOwnProperty"]) {
      const r = prepareCommand(builtinContracts, "cash", action, {}, ctx);
      assert.ok(isRejection(r), action);
      assert.equal(r.code, "UNKNOWN_ACTION", action);
    }
  });

  test("FORBIDDEN_ROLE for a non-member, before args are looked at", () => {
    const r = prepareCommand(builtinContracts, "cash", "transfer", "garbage", testContext("stranger"));
    assert.ok(isRejection(r));
    assert.equal(r.code, "FORBIDDEN_ROLE");
    assert.match(r.message, /stranger holds none/);
  });

  test("BAD_ARGS when args are not a JSON object", () => {
    for (const args of [null, [], "x", 3, undefined]) {
      const r = prepareCommand(builtinContracts, "cash", "transfer", args, ctx);
      assert.ok(isRejection(r), JSON.stringify(args));
      assert.equal(r.code, "BAD_ARGS");
    }
  });

  test("names the keys to load, without duplicates", () => {
    assert.deepEqual(prepared({ times: 1, key: "n" }).keys, ["n"]);
    const transfer = prepareCommand(builtinContracts, "cash", "transfer", { to: "bank-b", amount: "1" }, ctx);
    assert.ok(!isRejection(transfer));
    assert.deepEqual(transfer.keys, ["acct/bank-a", "acct/bank-b"]);
    assert.equal(transfer.command && (transfer.command as { amount: unknown }).amount, 1n);
  });
});

describe("runCommand", () => {
  test("folds events in order, each evolve seeing the previous one's result", () => {
    const out = runCommand(prepared({ times: 3, key: "n" }), new Map([["n", 10]]), ctx);
    assert.ok(!isRejection(out));
    assert.equal(out.events.length, 3);
    assert.deepEqual([...out.updates], [["n", 13]]);
  });

  test("passes decide's rejection through", () => {
    const p = prepareCommand(contracts, "counter", "refuse", {}, ctx);
    assert.ok(!isRejection(p));
    const out = runCommand(p, new Map(), ctx);
    assert.ok(isRejection(out));
    assert.equal(out.code, "NOPE");
  });

  test("a write to a key the command did not name is an invariant violation", () => {
    assert.throws(
      () => runCommand(prepared({ times: 1, key: "other" }), new Map(), ctx),
      (e) => e instanceof InvariantError && e.code === "UNDECLARED_KEY",
    );
  });

  test("does not modify the slice it is given", () => {
    const slice = new Map<string, JsonValue>([["n", 1]]);
    runCommand(prepared({ times: 2, key: "n" }), slice, ctx);
    assert.deepEqual([...slice], [["n", 1]]);
  });
});

describe("foldEvents", () => {
  test("a null update deletes the entry for later evolves", () => {
    const deleter: Contract = { ...counter, evolve: (state, e) => new Map([[e.assetId, state.has(e.assetId) ? null : 1]]) };
    const e: ContractEvent = { type: "T", assetId: "k", parties: [], data: {} };
    assert.deepEqual([...foldEvents(deleter, new Map(), [e, e])], [["k", null]]);
    assert.deepEqual([...foldEvents(deleter, new Map(), [e, e, e])], [["k", 1]]);
  });
});

describe("queries", () => {
  test("prepareQuery: UNKNOWN_CONTRACT, UNKNOWN_QUERY, BAD_ARGS", () => {
    const codes = [
      prepareQuery(builtinContracts, "nope", "balance", {}),
      prepareQuery(builtinContracts, "cash", "toString", {}),
      prepareQuery(builtinContracts, "cash", "balance", []),
      prepareQuery(builtinContracts, "cash", "balance", { account: 1 }),
    ].map((r) => (isRejection(r) ? r.code : "accepted"));
    assert.deepEqual(codes, ["UNKNOWN_CONTRACT", "UNKNOWN_QUERY", "BAD_ARGS", "BAD_ARGS"]);
  });

  test("runQuery reads the slice of the query's keys", () => {
    const p = prepareQuery(contracts, "counter", "get", { key: "n" });
    assert.ok(!isRejection(p));
    assert.deepEqual(p.keys, ["n"]);
    assert.equal(runQuery(p, new Map([["n", 4]])), 4);
  });
});

test("the builtin contracts are the scenarios' contracts, and every name is a valid transaction identifier", () => {
  assert.deepEqual(
    [...builtinContracts.keys()],
    [
      "membership",
      "cash",
      "notary",
      "bill",
      "receivable",
      "warehouse",
      "logistics",
      "bond",
      "trade",
      "data",
      "points",
      "charity",
      "medical",
      "credential",
    ],
  );
  for (const [name, c] of builtinContracts) {
    assert.equal(c.name, name);
    for (const n of [name, ...Object.keys(c.actions), ...Object.keys(c.queries)]) assert.ok(isValidId(n), `${name}: ${n}`);
  }
});

describe("contracts that use another contract's state", () => {
  const cashIssued = (to: string, amount: string): ContractEvent => ({
    contract: "cash",
    type: "CashIssued",
    assetId: `acct/${to}`,
    parties: [to],
    data: { issuer: "clear-a", to, amount },
  });

  test("an event naming a used contract folds with that contract's evolve into <contract>:<key> entries", () => {
    const user: Contract = { ...counter, name: "user", uses: ["cash"] };
    const foreign = usedContracts(builtinContracts, user);
    const updates = foldEvents(user, new Map([["cash:acct/bank-a", { balance: "5" }]]), [cashIssued("bank-a", "7")], foreign);
    assert.deepEqual([...updates], [["cash:acct/bank-a", { balance: "12" }]]);
  });

  test("an event naming a contract not in uses is an invariant violation, not a silent write", () => {
    assert.throws(() => foldEvents(counter, new Map(), [cashIssued("bank-a", "1")]), InvariantError);
  });

  test("resolveKey maps only the prefixes of used contracts; foreignKey builds them", () => {
    const user: Contract = { ...counter, name: "user", uses: ["cash"] };
    assert.deepEqual(resolveKey(user, foreignKey("cash", "acct/bank-a")), ["cash", "acct/bank-a"]);
    assert.deepEqual(resolveKey(user, "notary:doc/x"), ["user", "notary:doc/x"]);
    assert.deepEqual(resolveKey(user, "n"), ["user", "n"]);
    assert.deepEqual(resolveKey(counter, "cash:acct/bank-a"), ["counter", "cash:acct/bank-a"]);
  });

  test("a registry where a contract uses a missing contract, or itself, is refused", () => {
    assert.throws(() => usedContracts(builtinContracts, { ...counter, uses: ["loans"] }), InvariantError);
    assert.throws(() => usedContracts(new Map([["counter", counter]]), { ...counter, uses: ["counter"] }), InvariantError);
  });

  test("no registered contract uses membership: only the membership contract changes who is a member", () => {
    for (const c of builtinContracts.values()) assert.ok(!(c.uses ?? []).includes("membership"), c.name);
    for (const c of builtinContracts.values()) assert.doesNotThrow(() => usedContracts(builtinContracts, c), c.name);
  });
});
