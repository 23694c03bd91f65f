import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { InvariantError, canonicalJson } from "@tally/ledger";
import type { ContractEvent } from "../contract.js";
import { builtinContracts } from "../registry.js";
import { foldEvents } from "../run.js";
import { WRITER_ROLES } from "../roles.js";
import { expectAccepted, expectEvents, expectRejection, given, testContext } from "../testing/given-when-then.js";
import { isRejection } from "../contract.js";
import { BALANCE_MAX, MEMO_LENGTH_MAX, cashLegs } from "./cash.js";

function issued(to: string, amount: string, issuer = "clear-a"): ContractEvent {
  return { type: "CashIssued", assetId: `acct/${to}`, parties: issuer === to ? [issuer] : [issuer, to], data: { issuer, to, amount } };
}

function transferred(from: string, to: string, amount: string, memo: string | null = null): ContractEvent {
  return { type: "CashTransferred", assetId: `acct/${from}`, parties: [from, to], data: { from, to, amount, memo } };
}

const funded = [issued("bank-a", "100")];

describe("cash issue", () => {
  test("a clearing bank issues deposits to a member", () => {
    const then = expectAccepted(given("cash").when({ signer: "clear-a", action: "issue", args: { to: "bank-a", amount: "100" } }));
    assert.deepEqual(then.events, [issued("bank-a", "100")]);
    assert.deepEqual([...then.updates], [["acct/bank-a", { balance: "100" }]]);
  });

  test("issuing adds to an existing balance", () => {
    const then = expectAccepted(given("cash", funded).when({ signer: "clear-a", action: "issue", args: { to: "bank-a", amount: "50" } }));
    assert.deepEqual(then.state.get("acct/bank-a"), { balance: "150" });
  });

  test("a clearing bank may issue to itself and is named once among the parties", () => {
    const events = expectEvents(given("cash").when({ signer: "clear-a", action: "issue", args: { to: "clear-a", amount: "5" } }));
    assert.deepEqual(events[0]?.parties, ["clear-a"]);
  });

  test("FORBIDDEN_ROLE for anyone without the clearing role", () => {
    for (const signer of ["bank-a", "ent-a", "reg", "stranger"]) {
      const r = given("cash").when({ signer, action: "issue", args: { to: "bank-a", amount: "1" } });
      assert.equal(expectRejection(r).code, "FORBIDDEN_ROLE", signer);
    }
  });

  test("UNKNOWN_ACCOUNT when the recipient is not a member", () => {
    const r = expectRejection(given("cash").when({ signer: "clear-a", action: "issue", args: { to: "nobody", amount: "1" } }));
    assert.equal(r.code, "UNKNOWN_ACCOUNT");
    assert.match(r.message, /nobody/);
  });

  test("BALANCE_LIMIT when a balance would pass the bound", () => {
    const g = given("cash", [issued("bank-a", BALANCE_MAX.toString())]);
    assert.equal(
      expectRejection(g.when({ signer: "clear-a", action: "issue", args: { to: "bank-a", amount: "1" } })).code,
      "BALANCE_LIMIT",
    );
    const upTo = given("cash", [issued("bank-a", (BALANCE_MAX - 1n).toString())]).when({
      signer: "clear-a",
      action: "issue",
      args: { to: "bank-a", amount: "1" },
    });
    assert.deepEqual(expectAccepted(upTo).state.get("acct/bank-a"), { balance: BALANCE_MAX.toString() });
  });
});

describe("cash transfer", () => {
  test("moves a balance from the signer to a member", () => {
    const then = expectAccepted(
      given("cash", funded).when({ signer: "bank-a", action: "transfer", args: { to: "bank-b", amount: "30", memo: "invoice 7" } }),
    );
    assert.deepEqual(then.events, [transferred("bank-a", "bank-b", "30", "invoice 7")]);
    assert.deepEqual(
      new Map(then.updates),
      new Map([
        ["acct/bank-a", { balance: "70" }],
        ["acct/bank-b", { balance: "30" }],
      ]),
    );
  });

  test("a missing memo is null in the event", () => {
    const events = expectEvents(given("cash", funded).when({ signer: "bank-a", action: "transfer", args: { to: "bank-b", amount: "1" } }));
    assert.equal(events[0]?.data.memo, null);
  });

  test("the whole balance may move, leaving zero", () => {
    const then = expectAccepted(
      given("cash", funded).when({ signer: "bank-a", action: "transfer", args: { to: "bank-b", amount: "100" } }),
    );
    assert.deepEqual(then.state.get("acct/bank-a"), { balance: "0" });
  });

  test("balances follow a history of issues and transfers", () => {
    const g = given("cash", [
      ...funded,
      transferred("bank-a", "bank-b", "40"),
      transferred("bank-b", "ent-a", "15"),
      issued("bank-b", "5"),
    ]);
    assert.deepEqual(g.query("balance", { account: "bank-a" }), { account: "bank-a", balance: "60" });
    assert.deepEqual(g.query("balance", { account: "bank-b" }), { account: "bank-b", balance: "30" });
    assert.deepEqual(g.query("balance", { account: "ent-a" }), { account: "ent-a", balance: "15" });
  });

  test("INSUFFICIENT_FUNDS when the balance is short or absent: no overdraft", () => {
    const short = expectRejection(
      given("cash", funded).when({ signer: "bank-a", action: "transfer", args: { to: "bank-b", amount: "101" } }),
    );
    assert.equal(short.code, "INSUFFICIENT_FUNDS");
    assert.match(short.message, /100/);
    const none = given("cash", funded).when({ signer: "ent-a", action: "transfer", args: { to: "bank-b", amount: "1" } });
    assert.equal(expectRejection(none).code, "INSUFFICIENT_FUNDS");
  });

  test("SELF_TRANSFER when sending to oneself", () => {
    assert.equal(
      expectRejection(given("cash", funded).when({ signer: "bank-a", action: "transfer", args: { to: "bank-a", amount: "1" } })).code,
      "SELF_TRANSFER",
    );
  });

  test("UNKNOWN_ACCOUNT when the recipient is not a member", () => {
    assert.equal(
      expectRejection(given("cash", funded).when({ signer: "bank-a", action: "transfer", args: { to: "nobody", amount: "1" } })).code,
      "UNKNOWN_ACCOUNT",
    );
  });

  test("BALANCE_LIMIT when the recipient would pass the bound", () => {
    const g = given("cash", [...funded, issued("bank-b", BALANCE_MAX.toString())]);
    assert.equal(
      expectRejection(g.when({ signer: "bank-a", action: "transfer", args: { to: "bank-b", amount: "1" } })).code,
      "BALANCE_LIMIT",
    );
  });

  test("every writer role may transfer", () => {
    for (const role of WRITER_ROLES) {
      const members = new Map([
        ["holder", { roles: [role] }],
        ["bank-b", { roles: ["bank"] }],
      ]);
      const r = given("cash", [issued("holder", "10")]).when({
        signer: "holder",
        action: "transfer",
        args: { to: "bank-b", amount: "10" },
        ctx: { members },
      });
      assert.deepEqual(expectEvents(r), [transferred("holder", "bank-b", "10")], role);
    }
  });

  test("a regulator can write nothing, even holding a balance", () => {
    const r = given("cash", [issued("reg", "10")]).when({ signer: "reg", action: "transfer", args: { to: "bank-b", amount: "1" } });
    assert.equal(expectRejection(r).code, "FORBIDDEN_ROLE");
  });
});

describe("cash args", () => {
  const cases: [string, string, unknown][] = [
    ["issue", "to", { amount: "1" }],
    ["issue", "amount", { to: "bank-a" }],
    ["issue", "amount", { to: "bank-a", amount: "1.5" }],
    ["issue", "amount", { to: "bank-a", amount: "-3" }],
    ["issue", "amount", { to: "bank-a", amount: "01" }],
    ["issue", "amount", { to: "bank-a", amount: "0" }],
    ["issue", "amount", { to: "bank-a", amount: 1e30 }],
    ["issue", "amount", { to: "bank-a", amount: 5 }],
    ["issue", "amount", { to: "bank-a", amount: "1".repeat(31) }],
    ["issue", "to", { to: 7, amount: "1" }],
    ["issue", "to", { to: "Bank-A", amount: "1" }],
    ["issue", "memo", { to: "bank-a", amount: "1", memo: "issue has no memo" }],
    ["transfer", "amount", { to: "bank-b", amount: "1e2" }],
    ["transfer", "memo", { to: "bank-b", amount: "1", memo: 5 }],
    ["transfer", "memo", { to: "bank-b", amount: "1", memo: "" }],
    ["transfer", "memo", { to: "bank-b", amount: "1", memo: "m".repeat(MEMO_LENGTH_MAX + 1) }],
    ["transfer", "from", { from: "bank-b", to: "bank-b", amount: "1" }],
  ];
  for (const [action, field, args] of cases) {
    test(`${action} refuses ${JSON.stringify(args)} naming ${field}`, () => {
      const signer = action === "issue" ? "clear-a" : "bank-a";
      const r = expectRejection(given("cash", funded).when({ signer, action, args }));
      assert.equal(r.code, "BAD_ARGS");
      assert.match(r.message, new RegExp(`\\b${field}\\b`));
    });
  }

  test("a memo at the bound is accepted", () => {
    const r = given("cash", funded).when({
      signer: "bank-a",
      action: "transfer",
      args: { to: "bank-b", amount: "1", memo: "m".repeat(MEMO_LENGTH_MAX) },
    });
    assert.equal(expectEvents(r).length, 1);
  });

  test("the largest amount is accepted and carried as a decimal string", () => {
    const amount = "9".repeat(30);
    const events = expectEvents(given("cash").when({ signer: "clear-a", action: "issue", args: { to: "bank-a", amount } }));
    assert.equal(events[0]?.data.amount, amount);
  });
});

describe("cash queries and evolve", () => {
  test("balance is 0 for an account never funded", () => {
    assert.deepEqual(given("cash").query("balance", { account: "bank-b" }), { account: "bank-b", balance: "0" });
  });

  test("balance refuses bad args and unknown queries are refused", () => {
    assert.equal(expectRejection(given("cash").query("balance", {})).code, "BAD_ARGS");
    assert.equal(expectRejection(given("cash").query("balance", { account: "bank-a", extra: 1 })).code, "BAD_ARGS");
    assert.equal(expectRejection(given("cash").query("history", { account: "bank-a" })).code, "UNKNOWN_QUERY");
  });

  test("folding a transfer that overdraws is an invariant violation", () => {
    const contract = builtinContracts.get("cash");
    assert.ok(contract);
    assert.throws(() => foldEvents(contract, new Map(), [transferred("bank-a", "bank-b", "1")]), InvariantError);
  });
});

test("cash is deterministic: the same inputs give deep-equal outputs and the same bytes", () => {
  const run = () =>
    given("cash", [issued("bank-a", "100")]).when({
      signer: "bank-a",
      action: "transfer",
      args: { to: "bank-b", amount: "30", memo: "x" },
    });
  const a = expectAccepted(run());
  const b = expectAccepted(run());
  assert.deepEqual(a, b);
  assert.equal(canonicalJson([a.events, [...a.updates]]), canonicalJson([b.events, [...b.updates]]));
});

describe("cash redeem", () => {
  const redeem = (amount: string, signers = ["bank-a", "clear-a"], bank = "clear-a") =>
    given("cash", funded).when({ signer: "bank-a", action: "redeem", args: { bank, amount }, ctx: { signers } });

  test("a member redeems deposits with a clearing bank, both signing: the balance falls", () => {
    const then = expectAccepted(redeem("40"));
    assert.deepEqual(then.events, [
      {
        type: "CashRedeemed",
        assetId: "acct/bank-a",
        parties: ["bank-a", "clear-a"],
        data: { holder: "bank-a", bank: "clear-a", amount: "40" },
      },
    ]);
    assert.deepEqual(then.state.get("acct/bank-a"), { balance: "60" });
  });

  test("MISSING_SIGNATURE without the clearing bank's signature", () => {
    assert.equal(expectRejection(redeem("40", ["bank-a"])).code, "MISSING_SIGNATURE");
  });

  test("NOT_CLEARING_BANK when the named bank is not a clearing bank", () => {
    assert.equal(expectRejection(redeem("40", ["bank-a", "bank-b"], "bank-b")).code, "NOT_CLEARING_BANK");
    assert.equal(expectRejection(redeem("40", ["bank-a", "nobody"], "nobody")).code, "NOT_CLEARING_BANK");
  });

  test("INSUFFICIENT_FUNDS past the balance; the whole balance may be redeemed", () => {
    assert.equal(expectRejection(redeem("101")).code, "INSUFFICIENT_FUNDS");
    assert.deepEqual(expectAccepted(redeem("100")).state.get("acct/bank-a"), { balance: "0" });
  });

  test("FORBIDDEN_ROLE for the regulator, BAD_ARGS for garbage", () => {
    const r = given("cash", funded).when({ signer: "reg", action: "redeem", args: { bank: "clear-a", amount: "1" } });
    assert.equal(expectRejection(r).code, "FORBIDDEN_ROLE");
    for (const args of [
      { bank: "clear-a" },
      { bank: "clear-a", amount: "-1" },
      { bank: 5, amount: "1" },
      { bank: "clear-a", amount: "1", x: 1 },
    ]) {
      assert.equal(expectRejection(given("cash", funded).when({ signer: "bank-a", action: "redeem", args })).code, "BAD_ARGS");
    }
  });
});

describe("cash legs of other contracts' settlements", () => {
  const state = new Map([
    ["cash:acct/bank-a", { balance: "100" }],
    ["cash:acct/bank-b", { balance: "5" }],
  ]);
  const ctx = testContext("bank-a");

  test("each leg sees the balances the earlier legs left, and the events are cash's", () => {
    const legs = cashLegs(state, ctx, [
      { from: "bank-a", to: "bank-b", amount: 60n },
      { from: "bank-b", to: "ent-a", amount: 65n },
    ]);
    assert.ok(!isRejection(legs));
    assert.deepEqual(
      legs.map((e) => [e.contract, e.type, e.data.from, e.data.to, e.data.amount]),
      [
        ["cash", "CashTransferred", "bank-a", "bank-b", "60"],
        ["cash", "CashTransferred", "bank-b", "ent-a", "65"],
      ],
    );
  });

  test("a leg short of funds, or to a non-member, refuses the whole settlement", () => {
    const short = cashLegs(state, ctx, [
      { from: "bank-a", to: "bank-b", amount: 60n },
      { from: "bank-a", to: "bank-b", amount: 41n },
    ]);
    assert.equal(isRejection(short) && short.code, "INSUFFICIENT_FUNDS");
    const stranger = cashLegs(state, ctx, [{ from: "bank-a", to: "nobody", amount: 1n }]);
    assert.equal(isRejection(stranger) && stranger.code, "UNKNOWN_ACCOUNT");
  });

  test("zero and self legs move nothing and emit nothing", () => {
    assert.deepEqual(
      cashLegs(state, ctx, [
        { from: "bank-a", to: "bank-b", amount: 0n },
        { from: "bank-a", to: "bank-a", amount: 5n },
      ]),
      [],
    );
  });
});
