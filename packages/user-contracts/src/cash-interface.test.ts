// The one way a user contract changes another contract's state: cash legs, checked as cash's own
// transfers, and only out of accounts whose institutions signed the transaction.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { isRejection } from "@tally/contracts";
import type { JsonValue } from "@tally/ledger";
import { SandboxChain, codeOf } from "./testing/harness.js";

// A purchase: the buyer pays the seller through a cash leg and the sale is recorded, in one
// transaction. `legFrom` says whose account the leg draws on; `evolveExtra` lets a test add writes.
function shop(legFrom = "ctx.signer", evolveExtra = "", uses = '["cash"]'): string {
  return `module.exports = {
    uses: ${uses},
    actions: { buy: { roles: ["bank", "enterprise"], args: { id: "identifier", seller: "identifier", price: "amount" } } },
    keys(command, ctx) {
      return ["sale/" + command.args.id, "cash:acct/" + ctx.signer, "cash:acct/" + command.args.seller];
    },
    decide(command, state, ctx) {
      const a = command.args;
      if (state["sale/" + a.id] !== undefined) return { reject: { code: "SOLD", message: a.id + " is sold" } };
      return {
        events: [{ type: "Sold", assetId: "sale/" + a.id, parties: [ctx.signer, a.seller], data: { id: a.id, buyer: ctx.signer, seller: a.seller, price: a.price } }],
        cash: [{ from: ${legFrom}, to: ${legFrom === "ctx.signer" ? "a.seller" : "ctx.signer"}, amount: a.price, memo: "sale " + a.id }],
      };
    },
    evolve(state, event) { return { ["sale/" + event.data.id]: event.data${evolveExtra} }; },
  };`;
}

function balance(chain: SandboxChain, id: string): string | undefined {
  return (chain.state.get("cash")?.get(`acct/${id}`) as { balance?: string } | undefined)?.balance;
}

describe("the cash interface of user contracts", () => {
  let chain: SandboxChain;
  before(async () => {
    chain = await SandboxChain.start([
      { name: "shop", versions: [shop()] },
      { name: "thief", versions: [shop("a.seller")] },
      { name: "forger", versions: [shop("ctx.signer", `, ["cash:acct/" + event.data.buyer]: { balance: "999999" }`)] },
      { name: "nouse", versions: [shop("ctx.signer", "", "[]")] },
    ]);
    chain.state.set(
      "cash",
      new Map<string, JsonValue>([
        ["acct/bank-a", { balance: "100" }],
        ["acct/ent-a", { balance: "5" }],
      ]),
    );
  });
  after(() => chain.dispose());

  test("a sale moves the price from the buyer to the seller and records it, in one transaction", () => {
    const r = chain.act("bank-a", "shop", "buy", { id: "s-1", seller: "ent-a", price: "30" });
    assert.ok(!isRejection(r), isRejection(r) ? r.message : "");
    assert.deepEqual(
      r.events.map((e) => [e.contract ?? "shop", e.type]),
      [
        ["shop", "Sold"],
        ["cash", "CashTransferred"],
      ],
    );
    assert.equal(balance(chain, "bank-a"), "70");
    assert.equal(balance(chain, "ent-a"), "35");
    assert.deepEqual(chain.state.get("shop")?.get("sale/s-1"), { id: "s-1", buyer: "bank-a", seller: "ent-a", price: "30" });
  });

  test("cash checks the leg as its own transfer: a buyer without the money is INSUFFICIENT_FUNDS and nothing moves", () => {
    assert.equal(codeOf(chain.act("bank-a", "shop", "buy", { id: "s-2", seller: "ent-a", price: "71" })), "INSUFFICIENT_FUNDS");
    assert.equal(balance(chain, "bank-a"), "70");
    assert.equal(chain.state.get("shop")?.get("sale/s-2"), undefined);
  });

  test("a leg out of an account whose institution did not sign is CASH_LEG_NOT_SIGNED; with its signature it moves", () => {
    assert.equal(codeOf(chain.act("bank-a", "thief", "buy", { id: "t-1", seller: "ent-a", price: "5" })), "CASH_LEG_NOT_SIGNED");
    assert.equal(balance(chain, "ent-a"), "35");
    const r = chain.act("bank-a", "thief", "buy", { id: "t-1", seller: "ent-a", price: "5" }, undefined, ["ent-a"]);
    assert.ok(!isRejection(r), isRejection(r) ? r.message : "");
    assert.equal(balance(chain, "ent-a"), "30");
  });

  test("evolve writing a cash account itself is UNDECLARED_KEY; cash legs without uses: ['cash'] are MALFORMED_EVENTS", () => {
    assert.equal(codeOf(chain.act("bank-a", "forger", "buy", { id: "f-1", seller: "ent-a", price: "1" })), "UNDECLARED_KEY");
    // 70, and 5 from ent-a's signed leg above: nothing of the forger's.
    assert.equal(balance(chain, "bank-a"), "75");
    assert.equal(codeOf(chain.act("bank-a", "nouse", "buy", { id: "n-1", seller: "ent-a", price: "1" })), "MALFORMED_EVENTS");
  });

  test("without uses: ['cash'], a key spelled cash:acct/x is the contract's own, not the cash account", async () => {
    const own = `module.exports = {
      actions: { go: { roles: ["bank"] } },
      keys(command, ctx) { return ["cash:acct/" + ctx.signer]; },
      decide(command, state, ctx) { return [{ type: "Wrote", assetId: "x", parties: [], data: {} }]; },
      evolve(state, event) { return { ["cash:acct/bank-a"]: { balance: "1000000" } }; },
    };`;
    const c = await SandboxChain.start([{ name: "own", versions: [own] }]);
    try {
      c.state.set("cash", new Map<string, JsonValue>([["acct/bank-a", { balance: "1" }]]));
      assert.equal(codeOf(c.act("bank-a", "own", "go", {})), "ok");
      assert.deepEqual(c.state.get("cash")?.get("acct/bank-a"), { balance: "1" });
      assert.deepEqual(c.state.get("own")?.get("cash:acct/bank-a"), { balance: "1000000" });
    } finally {
      c.dispose();
    }
  });

  test("a contract may use only cash: uses: ['bill'] is BAD_CONTRACT", async () => {
    const c = await SandboxChain.start([{ name: "billy", versions: [shop("ctx.signer", "", '["bill"]')] }]);
    try {
      assert.equal(codeOf(c.act("bank-a", "billy", "buy", { id: "b-1", seller: "ent-a", price: "1" })), "BAD_CONTRACT");
    } finally {
      c.dispose();
    }
  });
});
