import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { InvariantError, canonicalJson } from "@tally/ledger";
import type { ContractEvent } from "../contract.js";
import { builtinContracts } from "../registry.js";
import { foldEvents } from "../run.js";
import { expectAccepted, expectEvents, expectRejection, given, type When } from "../testing/given-when-then.js";
import { TEST_MEMBERS } from "../testing/test-genesis.js";
import { COMMODITY_LENGTH_MAX, RATE_BP_MAX, UNIT_LENGTH_MAX, warehouse } from "./warehouse.js";
import { DAY_MS, loanInterest } from "./warehouse-state.js";

const contracts = new Map([...builtinContracts, [warehouse.name, warehouse]]);
const T0 = 1_700_000_123_456;

function cashIssued(to: string, amount: string): ContractEvent {
  return { contract: "cash", type: "CashIssued", assetId: `acct/${to}`, parties: ["clear-a", to], data: { issuer: "clear-a", to, amount } };
}

function cashMoved(from: string, to: string, amount: string, memo: string): ContractEvent {
  return { contract: "cash", type: "CashTransferred", assetId: `acct/${from}`, parties: [from, to], data: { from, to, amount, memo } };
}

function issued(id = "r-1", owner = "ent-a", wh = "wh-a"): ContractEvent {
  return {
    type: "ReceiptIssued",
    assetId: `receipt/${id}`,
    parties: [owner, wh].sort(),
    data: { id, warehouse: wh, owner, commodity: "copper", quantity: "500", unit: "t", issuedAtMs: T0 - 1000 },
  };
}

function transferred(from: string, to: string, id = "r-1"): ContractEvent {
  return { type: "ReceiptTransferred", assetId: `receipt/${id}`, parties: [from, to, "wh-a"].sort(), data: { id, from, to } };
}

function pledged(holder = "ent-a", bank = "bank-a", principal = "1000000", rateBp = 500, disbursedAtMs = T0, id = "r-1"): ContractEvent {
  return {
    type: "ReceiptPledged",
    assetId: `receipt/${id}`,
    parties: [bank, holder, "wh-a"].sort(),
    data: { id, holder, bank, principal, rateBp, disbursedAtMs },
  };
}

function released(holder = "ent-a", id = "r-1"): ContractEvent {
  return {
    type: "ReceiptReleased",
    assetId: `receipt/${id}`,
    parties: [holder, "wh-a"].sort(),
    data: { id, warehouse: "wh-a", holder, releasedAtMs: T0 },
  };
}

const g = (events: readonly ContractEvent[] = []) => given("warehouse", events, contracts);
const signed = (...signers: string[]) => ({ signers });
const bankFunded = cashIssued("bank-a", "5000000");
const holding = [bankFunded, issued()];
const loan = [bankFunded, issued(), pledged(), cashMoved("bank-a", "ent-a", "1000000", "loan on receipt/r-1")];

const issue = (args: object = {}): When => ({
  signer: "wh-a",
  action: "issue",
  args: { id: "r-1", owner: "ent-a", commodity: "copper", quantity: "500", unit: "t", ...args },
});
const pledge = (args: object = {}, signers = ["ent-a", "bank-a"]): When => ({
  signer: signers[0] ?? "ent-a",
  action: "pledge",
  args: { id: "r-1", bank: "bank-a", principal: "1000000", rateBp: 500, ...args },
  ctx: signed(...signers),
});
const repayAt = (blockTimeMs: number, signer = "ent-a", bank = "bank-a"): When => ({
  signer,
  action: "repay",
  args: { id: "r-1", bank },
  ctx: { blockTimeMs },
});
const release = (signers = ["wh-a", "ent-a"], holder = "ent-a"): When => ({
  signer: signers[0] ?? "wh-a",
  action: "release",
  args: { id: "r-1", holder },
  ctx: signed(...signers),
});

describe("warehouse issue", () => {
  test("a warehouse issues a receipt to the goods' owner, indexed in the owner's portfolio", () => {
    const then = expectAccepted(g().when(issue()));
    const data = { id: "r-1", warehouse: "wh-a", owner: "ent-a", commodity: "copper", quantity: "500", unit: "t", issuedAtMs: T0 };
    assert.deepEqual(then.events, [{ type: "ReceiptIssued", assetId: "receipt/r-1", parties: ["ent-a", "wh-a"], data }]);
    const receipt = {
      id: "r-1",
      warehouse: "wh-a",
      holder: "ent-a",
      commodity: "copper",
      quantity: "500",
      unit: "t",
      status: "active",
      pledge: null,
      issuedAtMs: T0,
      releasedAtMs: null,
      parties: ["ent-a", "wh-a"],
    };
    assert.deepEqual(
      new Map(then.updates),
      new Map<string, unknown>([
        ["receipt/r-1", receipt],
        ["held/ent-a/receipt/r-1", { warehouse: "wh-a", commodity: "copper", quantity: "500", unit: "t" }],
      ]),
    );
  });

  test("RECEIPT_EXISTS for an id already issued, even once its goods are released", () => {
    for (const history of [[issued()], [issued(), released()]]) {
      const r = expectRejection(g(history).when(issue({ owner: "ent-b" })));
      assert.equal(r.code, "RECEIPT_EXISTS");
      assert.match(r.message, /r-1/);
    }
  });

  test("UNKNOWN_MEMBER when the owner is not a member", () => {
    assert.equal(expectRejection(g().when(issue({ owner: "nobody" }))).code, "UNKNOWN_MEMBER");
  });

  test("SELF_ISSUE when a warehouse names itself the owner", () => {
    assert.equal(expectRejection(g().when(issue({ owner: "wh-a" }))).code, "SELF_ISSUE");
  });

  test("FORBIDDEN_ROLE for anyone without the warehouse role", () => {
    for (const signer of ["ent-a", "bank-a", "oracle-a", "reg", "stranger"]) {
      assert.equal(expectRejection(g().when({ ...issue(), signer })).code, "FORBIDDEN_ROLE", signer);
    }
  });
});

describe("warehouse transfer", () => {
  test("the holder transfers the receipt: the portfolio index moves and the new holder joins the parties", () => {
    const then = expectAccepted(g(holding).when({ signer: "ent-a", action: "transfer", args: { id: "r-1", to: "ent-b" } }));
    assert.deepEqual(then.events, [transferred("ent-a", "ent-b")]);
    assert.equal(then.updates.get("held/ent-a/receipt/r-1"), null);
    assert.deepEqual(then.state.get("held/ent-b/receipt/r-1"), { warehouse: "wh-a", commodity: "copper", quantity: "500", unit: "t" });
    const r = then.state.get("receipt/r-1") as { holder: string; parties: string[] };
    assert.equal(r.holder, "ent-b");
    assert.deepEqual(r.parties, ["ent-a", "ent-b", "wh-a"]);
  });

  test("NOT_HOLDER: a receipt transferred away cannot be transferred again by its former holder", () => {
    const r = expectRejection(
      g([...holding, transferred("ent-a", "ent-b")]).when({ signer: "ent-a", action: "transfer", args: { id: "r-1", to: "ent-c" } }),
    );
    assert.equal(r.code, "NOT_HOLDER");
    assert.match(r.message, /ent-b/);
  });

  test("RECEIPT_PLEDGED while pledged", () => {
    const r = expectRejection(g(loan).when({ signer: "ent-a", action: "transfer", args: { id: "r-1", to: "ent-b" } }));
    assert.equal(r.code, "RECEIPT_PLEDGED");
    assert.match(r.message, /bank-a.*1000000/);
  });

  test("RECEIPT_CLOSED once the goods are released, UNKNOWN_RECEIPT for an id never issued", () => {
    const closed = g([...holding, released()]).when({ signer: "ent-a", action: "transfer", args: { id: "r-1", to: "ent-b" } });
    assert.equal(expectRejection(closed).code, "RECEIPT_CLOSED");
    const none = g(holding).when({ signer: "ent-a", action: "transfer", args: { id: "r-9", to: "ent-b" } });
    assert.equal(expectRejection(none).code, "UNKNOWN_RECEIPT");
  });

  test("SELF_TRANSFER and UNKNOWN_MEMBER", () => {
    assert.equal(
      expectRejection(g(holding).when({ signer: "ent-a", action: "transfer", args: { id: "r-1", to: "ent-a" } })).code,
      "SELF_TRANSFER",
    );
    assert.equal(
      expectRejection(g(holding).when({ signer: "ent-a", action: "transfer", args: { id: "r-1", to: "nobody" } })).code,
      "UNKNOWN_MEMBER",
    );
  });

  test("FORBIDDEN_ROLE for a regulator, even one named holder", () => {
    const r = g([issued("r-1", "reg")]).when({ signer: "reg", action: "transfer", args: { id: "r-1", to: "ent-b" } });
    assert.equal(expectRejection(r).code, "FORBIDDEN_ROLE");
  });
});

describe("warehouse pledge", () => {
  test("owner and bank sign: the principal is disbursed bank → owner in the same transaction", () => {
    const then = expectAccepted(g(holding).when(pledge()));
    assert.deepEqual(then.events, [pledged(), cashMoved("bank-a", "ent-a", "1000000", "loan on receipt/r-1")]);
    assert.deepEqual(then.state.get("cash:acct/bank-a"), { balance: "4000000" });
    assert.deepEqual(then.state.get("cash:acct/ent-a"), { balance: "1000000" });
    const r = then.state.get("receipt/r-1") as { pledge: unknown; parties: string[] };
    assert.deepEqual(r.pledge, { bank: "bank-a", principal: "1000000", rateBp: 500, disbursedAtMs: T0 });
    assert.deepEqual(r.parties, ["bank-a", "ent-a", "wh-a"]);
    assert.deepEqual(then.state.get("pledged/bank-a/receipt/r-1"), {
      holder: "ent-a",
      principal: "1000000",
      rateBp: 500,
      disbursedAtMs: T0,
    });
  });

  test("a zero rate is an interest-free loan", () => {
    assert.equal(expectEvents(g(holding).when(pledge({ rateBp: 0 }))).length, 2);
  });

  test("MISSING_SIGNATURE when the bank did not sign", () => {
    const r = expectRejection(g(holding).when(pledge({}, ["ent-a"])));
    assert.equal(r.code, "MISSING_SIGNATURE");
    assert.match(r.message, /bank-a/);
  });

  test("NOT_HOLDER when someone else pledges, even with the bank's signature", () => {
    assert.equal(expectRejection(g(holding).when(pledge({}, ["ent-b", "bank-a"]))).code, "NOT_HOLDER");
  });

  test("RECEIPT_PLEDGED: a pledged receipt cannot be pledged again", () => {
    const r = expectRejection(g([...loan, cashIssued("bank-b", "5000000")]).when(pledge({ bank: "bank-b" }, ["ent-a", "bank-b"])));
    assert.equal(r.code, "RECEIPT_PLEDGED");
  });

  test("NOT_A_BANK when the lender does not hold the bank role", () => {
    assert.equal(expectRejection(g(holding).when(pledge({ bank: "ent-b" }, ["ent-a", "ent-b"]))).code, "NOT_A_BANK");
    assert.equal(expectRejection(g(holding).when(pledge({ bank: "nobody" }, ["ent-a"]))).code, "NOT_A_BANK");
  });

  test("SELF_PLEDGE when a bank holding a receipt pledges it to itself", () => {
    const r = g([bankFunded, issued("r-1", "bank-a")]).when(pledge({}, ["bank-a"]));
    assert.equal(expectRejection(r).code, "SELF_PLEDGE");
  });

  test("INSUFFICIENT_FUNDS when the bank cannot disburse: nothing is pledged", () => {
    const r = expectRejection(g([cashIssued("bank-a", "999999"), issued()]).when(pledge()));
    assert.equal(r.code, "INSUFFICIENT_FUNDS");
    assert.match(r.message, /999999/);
  });

  test("RECEIPT_CLOSED once released", () => {
    assert.equal(expectRejection(g([...holding, released()]).when(pledge())).code, "RECEIPT_CLOSED");
  });
});

describe("warehouse repay", () => {
  test("30 days at 500 bp: interest = floor(1000000 × 500 × 30 / 3650000) = 4109, paid with the principal to the bank", () => {
    const then = expectAccepted(g([...loan, cashIssued("ent-a", "4109")]).when(repayAt(T0 + 30 * DAY_MS)));
    const [repaid, leg] = then.events;
    assert.deepEqual(repaid, {
      type: "LoanRepaid",
      assetId: "receipt/r-1",
      parties: ["bank-a", "ent-a", "wh-a"],
      data: {
        id: "r-1",
        holder: "ent-a",
        bank: "bank-a",
        principal: "1000000",
        rateBp: 500,
        days: "30",
        interest: "4109",
        total: "1004109",
        repaidAtMs: T0 + 30 * DAY_MS,
      },
    });
    assert.deepEqual(leg, cashMoved("ent-a", "bank-a", "1004109", "repayment on receipt/r-1"));
    assert.deepEqual(then.state.get("cash:acct/ent-a"), { balance: "0" });
    assert.deepEqual(then.state.get("cash:acct/bank-a"), { balance: "5004109" });
    // With only the principal, one minor unit of interest short.
    assert.equal(expectRejection(g([...loan, cashIssued("ent-a", "4108")]).when(repayAt(T0 + 30 * DAY_MS))).code, "INSUFFICIENT_FUNDS");
  });

  test("repayment releases the pledge: the receipt can be transferred again and leaves the bank's collateral", () => {
    const then = expectAccepted(g([...loan, cashIssued("ent-a", "10000")]).when(repayAt(T0 + DAY_MS)));
    assert.equal((then.state.get("receipt/r-1") as { pledge: unknown }).pledge, null);
    assert.equal(then.updates.get("pledged/bank-a/receipt/r-1"), null);
    const after = given("warehouse", [...loan, cashIssued("ent-a", "10000"), ...then.events], contracts);
    assert.deepEqual(after.query("collateral", { bank: "bank-a" }), { bank: "bank-a", pledged: [] });
    assert.equal(expectEvents(after.when({ signer: "ent-a", action: "transfer", args: { id: "r-1", to: "ent-b" } })).length, 1);
  });

  test("days round up: the same block costs nothing, one day costs one, a day and a millisecond costs two", () => {
    const funded = [...loan, cashIssued("ent-a", "10000")];
    const interestAt = (t: number) => expectEvents(g(funded).when(repayAt(t)))[0]?.data;
    assert.deepEqual([interestAt(T0)?.days, interestAt(T0)?.interest], ["0", "0"]);
    assert.deepEqual([interestAt(T0 + 1)?.days, interestAt(T0 + 1)?.interest], ["1", "136"]);
    assert.deepEqual([interestAt(T0 + DAY_MS)?.days, interestAt(T0 + DAY_MS)?.interest], ["1", "136"]);
    assert.deepEqual([interestAt(T0 + DAY_MS + 1)?.days, interestAt(T0 + DAY_MS + 1)?.interest], ["2", "273"]);
  });

  test("loanInterest floors and never runs backwards", () => {
    assert.deepEqual(loanInterest(1n, 10_000, 0, 364 * DAY_MS), { days: 364n, interest: 0n });
    assert.deepEqual(loanInterest(1n, 10_000, 0, 365 * DAY_MS), { days: 365n, interest: 1n });
    assert.deepEqual(loanInterest(10n ** 29n, RATE_BP_MAX, 0, 3650 * DAY_MS), { days: 3650n, interest: 10n ** 30n });
    assert.deepEqual(loanInterest(100n, 500, 1000, 10), { days: 0n, interest: 0n });
  });

  test("INSUFFICIENT_FUNDS names principal, interest and days", () => {
    const r = expectRejection(g([bankFunded, issued(), pledged()]).when(repayAt(T0 + 30 * DAY_MS)));
    assert.equal(r.code, "INSUFFICIENT_FUNDS");
    assert.match(r.message, /1004109.*1000000.*4109.*30 days/);
  });

  test("NOT_PLEDGED, NOT_HOLDER, WRONG_BANK, UNKNOWN_RECEIPT", () => {
    assert.equal(expectRejection(g(holding).when(repayAt(T0))).code, "NOT_PLEDGED");
    assert.equal(expectRejection(g(loan).when(repayAt(T0, "ent-b"))).code, "NOT_HOLDER");
    assert.equal(expectRejection(g(loan).when(repayAt(T0, "ent-a", "bank-b"))).code, "WRONG_BANK");
    assert.equal(
      expectRejection(g(loan).when({ signer: "ent-a", action: "repay", args: { id: "r-2", bank: "bank-a" } })).code,
      "UNKNOWN_RECEIPT",
    );
  });
});

describe("warehouse release", () => {
  test("the issuing warehouse releases the goods against the holder's signature: the receipt closes", () => {
    const then = expectAccepted(g(holding).when(release()));
    assert.deepEqual(then.events, [released()]);
    assert.equal(then.updates.get("held/ent-a/receipt/r-1"), null);
    const r = then.state.get("receipt/r-1") as { status: string; releasedAtMs: number };
    assert.deepEqual([r.status, r.releasedAtMs], ["released", T0]);
  });

  test("RECEIPT_PLEDGED: goods under a pledge stay in the warehouse", () => {
    assert.equal(expectRejection(g(loan).when(release())).code, "RECEIPT_PLEDGED");
  });

  test("MISSING_SIGNATURE without the holder's signature", () => {
    const r = expectRejection(g(holding).when(release(["wh-a"])));
    assert.equal(r.code, "MISSING_SIGNATURE");
    assert.match(r.message, /ent-a/);
  });

  test("PARTY_MISMATCH when the named holder is not the holder", () => {
    assert.equal(expectRejection(g(holding).when(release(["wh-a", "ent-b"], "ent-b"))).code, "PARTY_MISMATCH");
  });

  test("NOT_ISSUING_WAREHOUSE for another warehouse", () => {
    const members = new Map([...TEST_MEMBERS, ["wh-b", { roles: ["warehouse"] }]]);
    const r = g(holding).when({ ...release(["wh-b", "ent-a"]), ctx: { signers: ["wh-b", "ent-a"], members } });
    assert.equal(expectRejection(r).code, "NOT_ISSUING_WAREHOUSE");
  });

  test("RECEIPT_CLOSED the second time, FORBIDDEN_ROLE for a non-warehouse", () => {
    assert.equal(expectRejection(g([...holding, released()]).when(release())).code, "RECEIPT_CLOSED");
    assert.equal(expectRejection(g(holding).when(release(["ent-a"]))).code, "FORBIDDEN_ROLE");
  });
});

describe("warehouse args", () => {
  const cases: [string, string, unknown][] = [
    ["issue", "id", { owner: "ent-a", commodity: "c", quantity: "1", unit: "t" }],
    ["issue", "id", { id: "R-1", owner: "ent-a", commodity: "c", quantity: "1", unit: "t" }],
    ["issue", "id", { id: "a/b", owner: "ent-a", commodity: "c", quantity: "1", unit: "t" }],
    ["issue", "id", { id: "x".repeat(65), owner: "ent-a", commodity: "c", quantity: "1", unit: "t" }],
    ["issue", "owner", { id: "r-1", owner: 5, commodity: "c", quantity: "1", unit: "t" }],
    ["issue", "commodity", { id: "r-1", owner: "ent-a", commodity: "", quantity: "1", unit: "t" }],
    ["issue", "commodity", { id: "r-1", owner: "ent-a", commodity: "c".repeat(COMMODITY_LENGTH_MAX + 1), quantity: "1", unit: "t" }],
    ["issue", "commodity", { id: "r-1", owner: "ent-a", commodity: 3, quantity: "1", unit: "t" }],
    ["issue", "quantity", { id: "r-1", owner: "ent-a", commodity: "c", quantity: "0", unit: "t" }],
    ["issue", "quantity", { id: "r-1", owner: "ent-a", commodity: "c", quantity: "-5", unit: "t" }],
    ["issue", "quantity", { id: "r-1", owner: "ent-a", commodity: "c", quantity: 5, unit: "t" }],
    ["issue", "quantity", { id: "r-1", owner: "ent-a", commodity: "c", quantity: "1.5", unit: "t" }],
    ["issue", "quantity", { id: "r-1", owner: "ent-a", commodity: "c", quantity: "9".repeat(31), unit: "t" }],
    ["issue", "unit", { id: "r-1", owner: "ent-a", commodity: "c", quantity: "1" }],
    ["issue", "unit", { id: "r-1", owner: "ent-a", commodity: "c", quantity: "1", unit: "u".repeat(UNIT_LENGTH_MAX + 1) }],
    ["issue", "extra", { id: "r-1", owner: "ent-a", commodity: "c", quantity: "1", unit: "t", extra: 1 }],
    ["transfer", "to", { id: "r-1" }],
    ["transfer", "to", { id: "r-1", to: "" }],
    ["transfer", "id", { id: null, to: "ent-b" }],
    ["transfer", "memo", { id: "r-1", to: "ent-b", memo: "x" }],
    ["pledge", "principal", { id: "r-1", bank: "bank-a", principal: "0", rateBp: 1 }],
    ["pledge", "principal", { id: "r-1", bank: "bank-a", principal: 100, rateBp: 1 }],
    ["pledge", "rateBp", { id: "r-1", bank: "bank-a", principal: "1", rateBp: -1 }],
    ["pledge", "rateBp", { id: "r-1", bank: "bank-a", principal: "1", rateBp: RATE_BP_MAX + 1 }],
    ["pledge", "rateBp", { id: "r-1", bank: "bank-a", principal: "1", rateBp: 1.5 }],
    ["pledge", "rateBp", { id: "r-1", bank: "bank-a", principal: "1", rateBp: "500" }],
    ["pledge", "bank", { id: "r-1", principal: "1", rateBp: 1 }],
    ["repay", "bank", { id: "r-1" }],
    ["repay", "amount", { id: "r-1", bank: "bank-a", amount: "5" }],
    ["release", "holder", { id: "r-1" }],
    ["release", "holder", { id: "r-1", holder: ["ent-a"] }],
  ];
  for (const [action, field, args] of cases) {
    test(`${action} refuses ${JSON.stringify(args).slice(0, 90)} naming ${field}`, () => {
      const signer = action === "issue" || action === "release" ? "wh-a" : "ent-a";
      const r = expectRejection(g(holding).when({ signer, action, args }));
      assert.equal(r.code, "BAD_ARGS");
      assert.match(r.message, new RegExp(`\\b${field}\\b`));
    });
  }

  test("bounds are inclusive: the longest commodity and unit, the highest rate", () => {
    const args = { commodity: "c".repeat(COMMODITY_LENGTH_MAX), unit: "u".repeat(UNIT_LENGTH_MAX) };
    assert.equal(expectEvents(g().when(issue(args))).length, 1);
    assert.equal(expectEvents(g(holding).when(pledge({ rateBp: RATE_BP_MAX }))).length, 2);
  });
});

describe("warehouse queries and evolve", () => {
  test("receipt returns the state or null; portfolio lists what a holder holds, in id order", () => {
    const s = g([issued("r-2"), issued("r-1"), issued("r-3", "ent-b")]);
    assert.equal((s.query("receipt", { id: "r-1" }) as { holder: string }).holder, "ent-a");
    assert.equal(s.query("receipt", { id: "r-9" }), null);
    assert.deepEqual(s.query("portfolio", { holder: "ent-a" }), {
      holder: "ent-a",
      holdings: [
        { assetId: "receipt/r-1", warehouse: "wh-a", commodity: "copper", quantity: "500", unit: "t" },
        { assetId: "receipt/r-2", warehouse: "wh-a", commodity: "copper", quantity: "500", unit: "t" },
      ],
    });
    assert.deepEqual(s.query("portfolio", { holder: "ent-c" }), { holder: "ent-c", holdings: [] });
  });

  test("collateral lists a bank's pledged receipts", () => {
    assert.deepEqual(g(loan).query("collateral", { bank: "bank-a" }), {
      bank: "bank-a",
      pledged: [{ assetId: "receipt/r-1", holder: "ent-a", principal: "1000000", rateBp: 500, disbursedAtMs: T0 }],
    });
  });

  test("queries refuse bad args", () => {
    for (const [name, args] of [
      ["receipt", {}],
      ["portfolio", { holder: "Ent-A" }],
      ["collateral", { bank: "bank-a", x: 1 }],
    ] as const) {
      assert.equal(expectRejection(g().query(name, args)).code, "BAD_ARGS", name);
    }
  });

  test("folding a transfer by a non-holder, a release under pledge or an unknown event is an invariant violation", () => {
    assert.throws(() => foldEvents(warehouse, new Map(), [transferred("ent-a", "ent-b")], new Map()), InvariantError);
    assert.throws(() => g([issued(), transferred("ent-b", "ent-c")]), InvariantError);
    assert.throws(() => g([issued(), pledged(), released()]), InvariantError);
    assert.throws(() => g([issued(), issued()]), InvariantError);
    assert.throws(() => g([{ type: "ReceiptBurned", assetId: "receipt/r-1", parties: [], data: { id: "r-1" } }]), InvariantError);
  });
});

test("a receipt's life: issue, transfer, pledge, repay, release", () => {
  let events: ContractEvent[] = [cashIssued("bank-a", "1000000"), cashIssued("ent-b", "1000")];
  const run = (w: When) => {
    const then = expectAccepted(given("warehouse", events, contracts).when(w));
    events = [...events, ...then.events];
    return then;
  };
  run(issue());
  run({ signer: "ent-a", action: "transfer", args: { id: "r-1", to: "ent-b" } });
  run(pledge({ principal: "100000", rateBp: 365 }, ["ent-b", "bank-a"]));
  const repaid = run(repayAt(T0 + 10 * DAY_MS, "ent-b"));
  assert.equal(repaid.events[0]?.data.interest, "100");
  const last = run(release(["wh-a", "ent-b"], "ent-b"));
  assert.deepEqual(last.state.get("cash:acct/bank-a"), { balance: "1000100" });
  assert.deepEqual(last.state.get("cash:acct/ent-b"), { balance: "900" });
  assert.deepEqual(
    [...last.state.keys()].filter((k) => k.startsWith("held/") || k.startsWith("pledged/")),
    [],
  );
  assert.deepEqual((last.state.get("receipt/r-1") as { parties: string[] }).parties, ["bank-a", "ent-a", "ent-b", "wh-a"]);
});

test("warehouse is deterministic: the same inputs give deep-equal outputs and the same bytes", () => {
  const refused = () => g(loan).when(repayAt(T0 + 7 * DAY_MS + 5));
  assert.deepEqual(expectRejection(refused()), expectRejection(refused()));
  const ok = () => g(holding).when(pledge());
  const x = expectAccepted(ok());
  const y = expectAccepted(ok());
  assert.deepEqual(x, y);
  assert.equal(canonicalJson([x.events, [...x.updates]]), canonicalJson([y.events, [...y.updates]]));
});
