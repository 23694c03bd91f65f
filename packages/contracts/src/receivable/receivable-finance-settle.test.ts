// Finance (factoring) and settlement: given / when / then for every act and rejection, with the
// cash legs they move atomically.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import type { ContractEvent } from "../contract.js";
import type { When } from "../testing/given-when-then.js";
import { expectAccepted, expectEvents, expectRejection } from "../testing/given-when-then.js";
import {
  DEBTOR,
  DUE,
  SUPPLIER,
  TIER2,
  TIER3,
  balanceIn,
  cashIssued,
  confirmedHistory,
  givenRecv,
  play,
  registerStep,
} from "./receivable-test-kit.js";

/** A lineage or register answer without its root's `parties` (which decide who may read it at a gateway; asserted present). */
function withoutParties(v: unknown): unknown {
  const { parties, ...rest } = v as Record<string, unknown>;
  assert.ok(Array.isArray(parties), "the answer names its parties");
  return rest;
}

const code = (r: unknown): string => expectRejection(r as Parameters<typeof expectRejection>[0]).code;

function financeStep(signer: string, id: string, bank: string, rateBp: number): When {
  return { signer, action: "finance", args: { id, bank, rateBp }, ctx: { signers: [signer, bank] } };
}

describe("receivable finance", () => {
  test("the holder factors it with a bank: the bank pays the advance in the same transaction and becomes the holder", () => {
    const then = expectAccepted(givenRecv(confirmedHistory("999")).when(financeStep(SUPPLIER, "r-1", "bank-a", 125)));
    // Discount is floor(999 × 125 / 10000) = floor(12.4875) = 12; the advance is 987.
    assert.deepEqual(then.events, [
      {
        type: "ReceivableFinanced",
        assetId: "recv/r-1",
        parties: ["bank-a", DEBTOR, SUPPLIER],
        data: { id: "r-1", from: SUPPLIER, bank: "bank-a", rateBp: 125, amount: "999", discount: "12", advance: "987" },
      },
      {
        contract: "cash",
        type: "CashTransferred",
        assetId: "acct/bank-a",
        parties: ["bank-a", SUPPLIER],
        data: { from: "bank-a", to: SUPPLIER, amount: "987", memo: "advance on receivable r-1" },
      },
    ]);
    assert.equal(balanceIn(then.state, SUPPLIER), 987n);
    assert.equal(balanceIn(then.state, "bank-a"), 100000n - 987n);
    const r = then.state.get("recv/r-1") as Record<string, unknown>;
    assert.equal(r.holder, "bank-a");
    assert.equal(r.financed, true);
    assert.equal(r.financedBy, "bank-a");
    assert.equal(then.state.has(`held/${SUPPLIER}/recv/r-1`), false);
    assert.deepEqual(then.state.get("held/bank-a/recv/r-1"), { amount: "999", debtor: DEBTOR, dueMs: DUE });
  });

  test("at rate 0 the advance is the whole amount; at the highest rate it is still positive", () => {
    const zero = expectEvents(givenRecv(confirmedHistory()).when(financeStep(SUPPLIER, "r-1", "bank-a", 0)));
    assert.equal(zero[0]?.data.advance, "1000");
    const top = expectEvents(givenRecv(confirmedHistory("1")).when(financeStep(SUPPLIER, "r-1", "bank-a", 9999)));
    assert.equal(top[0]?.data.advance, "1");
  });

  test("a lower tier may finance its child; the holder may be any enterprise down the chain", () => {
    const events = play(
      [
        {
          signer: SUPPLIER,
          action: "split",
          args: {
            id: "r-1",
            parts: [
              { to: SUPPLIER, amount: "400" },
              { to: TIER2, amount: "600" },
            ],
          },
        },
      ],
      confirmedHistory(),
    );
    const then = expectAccepted(givenRecv(events).when(financeStep(TIER2, "r-1.2", "bank-b", 100)));
    assert.equal(balanceIn(then.state, TIER2), 594n);
    // The sibling is financed independently.
    const sibling = givenRecv([...events, ...then.events]).when(financeStep(SUPPLIER, "r-1.1", "bank-a", 100));
    assert.equal(expectEvents(sibling).length, 2);
  });

  test("MISSING_SIGNATURE when the bank does not sign the same transaction", () => {
    const g = givenRecv(confirmedHistory());
    const r = expectRejection(g.when({ signer: SUPPLIER, action: "finance", args: { id: "r-1", bank: "bank-a", rateBp: 10 } }));
    assert.equal(r.code, "MISSING_SIGNATURE");
    assert.match(r.message, /bank-a/);
    const wrongBank = g.when({
      signer: SUPPLIER,
      action: "finance",
      args: { id: "r-1", bank: "bank-a", rateBp: 10 },
      ctx: { signers: [SUPPLIER, "bank-b"] },
    });
    assert.equal(code(wrongBank), "MISSING_SIGNATURE");
  });

  test("NOT_CONFIRMED: an unconfirmed receivable cannot be financed", () => {
    const g = givenRecv(play([registerStep()], [cashIssued("bank-a", "5000")]));
    assert.equal(code(g.when(financeStep(SUPPLIER, "r-1", "bank-a", 10))), "NOT_CONFIRMED");
  });

  test("ALREADY_FINANCED: the bank cannot finance it again, nor can a later holder", () => {
    const financed = play([financeStep(SUPPLIER, "r-1", "bank-a", 10)], confirmedHistory());
    const r = expectRejection(givenRecv(financed).when(financeStep("bank-a", "r-1", "bank-b", 10)));
    assert.equal(r.code, "ALREADY_FINANCED");
    assert.match(r.message, /r-1.*bank-a/);
    const passedOn = play([{ signer: "bank-a", action: "transfer", args: { id: "r-1", to: TIER2 } }], financed);
    assert.equal(code(givenRecv(passedOn).when(financeStep(TIER2, "r-1", "bank-b", 10))), "ALREADY_FINANCED");
  });

  test("ALREADY_FINANCED: children of a financed receivable inherit the mark", () => {
    const events = play(
      [
        financeStep(SUPPLIER, "r-1", "bank-a", 10),
        {
          signer: "bank-a",
          action: "split",
          args: {
            id: "r-1",
            parts: [
              { to: "bank-a", amount: "100" },
              { to: TIER2, amount: "900" },
            ],
          },
        },
      ],
      confirmedHistory(),
    );
    const g = givenRecv(events);
    assert.deepEqual(
      [(g.state.get("recv/r-1.2") as { financed: boolean }).financed, (g.state.get("recv/r-1.2") as { financedBy: string }).financedBy],
      [true, "bank-a"],
    );
    assert.equal(code(g.when(financeStep(TIER2, "r-1.2", "bank-b", 10))), "ALREADY_FINANCED");
  });

  test("INSUFFICIENT_FUNDS when the bank cannot pay the advance: nothing moves", () => {
    const g = givenRecv(
      play(
        [registerStep(), { signer: DEBTOR, action: "confirm", args: { id: "r-1" }, ctx: { signers: [DEBTOR, SUPPLIER] } }],
        [cashIssued("bank-a", "989")],
      ),
    );
    const r = expectRejection(g.when(financeStep(SUPPLIER, "r-1", "bank-a", 100)));
    assert.equal(r.code, "INSUFFICIENT_FUNDS");
    assert.match(r.message, /989.*990/);
    assert.equal(expectEvents(g.when(financeStep(SUPPLIER, "r-1", "bank-a", 110))).length, 2);
  });

  test("NOT_A_BANK, SELF_FINANCE, NOT_HOLDER and MATURED", () => {
    const g = givenRecv(confirmedHistory());
    assert.equal(code(g.when(financeStep(SUPPLIER, "r-1", TIER2, 10))), "NOT_A_BANK");
    assert.equal(code(g.when(financeStep(SUPPLIER, "r-1", "nobody", 10))), "NOT_A_BANK");
    assert.equal(code(g.when(financeStep(TIER2, "r-1", "bank-a", 10))), "NOT_HOLDER");
    assert.equal(
      code(g.when({ ...financeStep(SUPPLIER, "r-1", "bank-a", 10), ctx: { signers: [SUPPLIER, "bank-a"], blockTimeMs: DUE } })),
      "MATURED",
    );
    const atBank = givenRecv(play([{ signer: SUPPLIER, action: "transfer", args: { id: "r-1", to: "bank-a" } }], confirmedHistory()));
    assert.equal(code(atBank.when(financeStep("bank-a", "r-1", "bank-a", 10))), "SELF_FINANCE");
  });
});

// r-1 of 1000: ent-b keeps r-1.1 (250); r-1.2 (750) goes to ent-c, who splits it into r-1.2.1
// (500, to issuer-a, who factors it with bank-a) and r-1.2.2 (250, kept).
function treeHistory(): ContractEvent[] {
  return play(
    [
      {
        signer: SUPPLIER,
        action: "split",
        args: {
          id: "r-1",
          parts: [
            { to: SUPPLIER, amount: "250" },
            { to: TIER2, amount: "750" },
          ],
        },
      },
      {
        signer: TIER2,
        action: "split",
        args: {
          id: "r-1.2",
          parts: [
            { to: TIER3, amount: "500" },
            { to: TIER2, amount: "250" },
          ],
        },
      },
      financeStep(TIER3, "r-1.2.1", "bank-a", 200),
    ],
    confirmedHistory(),
  );
}

const treeLeaves = [
  { id: "r-1.1", holder: SUPPLIER },
  { id: "r-1.2.1", holder: "bank-a" },
  { id: "r-1.2.2", holder: TIER2 },
];

function settleStep(leaves: readonly { id: string; holder: string }[] = treeLeaves, blockTimeMs = DUE, signer = DEBTOR): When {
  return { signer, action: "settle", args: { id: "r-1", leaves }, ctx: { blockTimeMs } };
}

describe("receivable settle", () => {
  test("at maturity the debtor pays every leaf's current holder its amount, in the same transaction", () => {
    const g = givenRecv(treeHistory());
    const before = (who: string) => balanceIn(g.state, who);
    const then = expectAccepted(g.when(settleStep()));
    assert.deepEqual(
      then.events.map((e) => [e.contract ?? "receivable", e.type, e.assetId]),
      [
        ["receivable", "ReceivablePaid", "recv/r-1.1"],
        ["receivable", "ReceivablePaid", "recv/r-1.2.1"],
        ["receivable", "ReceivablePaid", "recv/r-1.2.2"],
        ["receivable", "ReceivableSettled", "recv/r-1"],
        ["cash", "CashTransferred", `acct/${DEBTOR}`],
        ["cash", "CashTransferred", `acct/${DEBTOR}`],
        ["cash", "CashTransferred", `acct/${DEBTOR}`],
      ],
    );
    assert.equal(balanceIn(then.state, DEBTOR), before(DEBTOR) - 1000n);
    assert.equal(balanceIn(then.state, SUPPLIER), before(SUPPLIER) + 250n);
    assert.equal(balanceIn(then.state, "bank-a"), before("bank-a") + 500n);
    assert.equal(balanceIn(then.state, TIER2), before(TIER2) + 250n);
    assert.equal(balanceIn(then.state, TIER3), before(TIER3));
    for (const { id, holder } of treeLeaves) {
      const leaf = then.state.get(`recv/${id}`) as Record<string, unknown>;
      assert.deepEqual([leaf.status, leaf.holder, leaf.settledAtMs], ["settled", holder, DUE], id);
      assert.equal(then.state.has(`held/${holder}/recv/${id}`), false, id);
    }
    const root = then.state.get("recv/r-1") as Record<string, unknown>;
    assert.deepEqual([root.leaves, root.settledAtMs], [[], DUE]);
    const settled = then.events.find((e) => e.type === "ReceivableSettled");
    assert.deepEqual(settled?.data.payments, [
      { id: "r-1.1", holder: SUPPLIER, amount: "250" },
      { id: "r-1.2.1", holder: "bank-a", amount: "500" },
      { id: "r-1.2.2", holder: TIER2, amount: "250" },
    ]);
  });

  test("an unsplit receivable is its own single leaf; settling after the due date is fine; the leaves may come in any order", () => {
    const then = expectAccepted(givenRecv(confirmedHistory()).when(settleStep([{ id: "r-1", holder: SUPPLIER }], DUE + 86_400_000)));
    assert.deepEqual(
      then.events.map((e) => e.type),
      ["ReceivablePaid", "ReceivableSettled", "CashTransferred"],
    );
    const r = then.state.get("recv/r-1") as Record<string, unknown>;
    assert.deepEqual([r.status, r.leaves, r.settledAtMs], ["settled", [], DUE + 86_400_000]);
    const reversed = givenRecv(treeHistory()).when(settleStep([...treeLeaves].reverse()));
    assert.equal(expectEvents(reversed).length, 7);
  });

  test("NOT_MATURED before the due date", () => {
    const r = expectRejection(givenRecv(treeHistory()).when(settleStep(treeLeaves, DUE - 1)));
    assert.equal(r.code, "NOT_MATURED");
    assert.match(r.message, new RegExp(`${DUE}`));
  });

  test("NOT_DEBTOR when anyone but the debtor settles; FORBIDDEN_ROLE for a bank", () => {
    assert.equal(code(givenRecv(treeHistory()).when(settleStep(treeLeaves, DUE, SUPPLIER))), "NOT_DEBTOR");
    assert.equal(code(givenRecv(treeHistory()).when(settleStep(treeLeaves, DUE, TIER3))), "NOT_DEBTOR");
    assert.equal(code(givenRecv(treeHistory()).when(settleStep(treeLeaves, DUE, "bank-a"))), "FORBIDDEN_ROLE");
  });

  test("INSUFFICIENT_FUNDS when the debtor cannot pay every leaf: nothing moves", () => {
    const g = givenRecv(
      play(
        [registerStep(), { signer: DEBTOR, action: "confirm", args: { id: "r-1" }, ctx: { signers: [DEBTOR, SUPPLIER] } }],
        [cashIssued(DEBTOR, "999")],
      ),
    );
    const r = expectRejection(g.when(settleStep([{ id: "r-1", holder: SUPPLIER }])));
    assert.equal(r.code, "INSUFFICIENT_FUNDS");
    assert.match(r.message, /ent-a holds 999, less than 1000/);
  });

  test("LEAVES_MISMATCH when the command's leaves are not exactly the live leaves with their holders", () => {
    const g = givenRecv(treeHistory());
    const cases: { id: string; holder: string }[][] = [
      treeLeaves.slice(0, 2),
      [...treeLeaves, { id: "r-1.3", holder: SUPPLIER }],
      [
        { id: "r-1.1", holder: SUPPLIER },
        { id: "r-1.2", holder: TIER2 },
      ],
      [treeLeaves[0]!, { id: "r-1.2.1", holder: TIER3 }, treeLeaves[2]!],
    ];
    for (const leaves of cases) assert.equal(code(g.when(settleStep(leaves))), "LEAVES_MISMATCH", JSON.stringify(leaves));
    const r = expectRejection(g.when(settleStep([treeLeaves[0]!, { id: "r-1.2.1", holder: TIER3 }, treeLeaves[2]!])));
    assert.match(r.message, /r-1\.2\.1.*held by bank-a, not issuer-a/);
  });

  test("ALREADY_SETTLED the second time; a settled leaf cannot be transferred", () => {
    const events = play([settleStep()], treeHistory());
    assert.equal(code(givenRecv(events).when(settleStep())), "ALREADY_SETTLED");
    const moved = givenRecv(events).when({
      signer: SUPPLIER,
      action: "transfer",
      args: { id: "r-1.1", to: TIER3 },
      ctx: { blockTimeMs: DUE - 1 },
    });
    assert.equal(code(moved), "ALREADY_SETTLED");
  });

  test("NOT_CONFIRMED for an unconfirmed receivable; UNKNOWN_RECEIVABLE for an unknown one", () => {
    const g = givenRecv(play([registerStep()], [cashIssued(DEBTOR, "5000")]));
    assert.equal(code(g.when(settleStep([{ id: "r-1", holder: SUPPLIER }]))), "NOT_CONFIRMED");
    assert.equal(
      code(g.when({ ...settleStep([{ id: "r-2", holder: SUPPLIER }]), args: { id: "r-2", leaves: [{ id: "r-2", holder: SUPPLIER }] } })),
      "UNKNOWN_RECEIVABLE",
    );
  });
});

describe("receivable queries", () => {
  test("receivable returns the state value, or null", () => {
    const g = givenRecv(treeHistory());
    assert.equal((g.query("receivable", { id: "r-1.2.1" }) as { holder: string }).holder, "bank-a");
    assert.equal(g.query("receivable", { id: "r-7" }), null);
  });

  test("lineage walks the tree from the asked receivable", () => {
    const g = givenRecv(treeHistory());
    const leaf = (id: string, amount: string, holder: string, financed = false) => ({
      id,
      amount,
      holder,
      state: "confirmed",
      financed,
      children: [],
    });
    const sub = {
      id: "r-1.2",
      amount: "750",
      holder: null,
      state: "split",
      financed: false,
      children: [leaf("r-1.2.1", "500", "bank-a", true), leaf("r-1.2.2", "250", TIER2)],
    };
    assert.deepEqual(withoutParties(g.query("lineage", { id: "r-1" })), {
      id: "r-1",
      amount: "1000",
      holder: null,
      state: "split",
      financed: false,
      children: [leaf("r-1.1", "250", SUPPLIER), sub],
    });
    assert.deepEqual(withoutParties(g.query("lineage", { id: "r-1.2" })), sub);
    assert.equal(g.query("lineage", { id: "r-1.9" }), null);
  });

  test("portfolio lists what a holder holds now", () => {
    const g = givenRecv(treeHistory());
    assert.deepEqual(g.query("portfolio", { holder: TIER2 }), {
      holder: TIER2,
      receivables: [{ id: "r-1.2.2", amount: "250", debtor: DEBTOR, dueMs: DUE }],
    });
    assert.deepEqual(g.query("portfolio", { holder: "bank-a" }), {
      holder: "bank-a",
      receivables: [{ id: "r-1.2.1", amount: "500", debtor: DEBTOR, dueMs: DUE }],
    });
    assert.deepEqual(g.query("portfolio", { holder: TIER3 }), { holder: TIER3, receivables: [] });
    const after = givenRecv(play([settleStep()], treeHistory()));
    assert.deepEqual(after.query("portfolio", { holder: TIER2 }), { holder: TIER2, receivables: [] });
  });

  test("queries refuse bad args", () => {
    const g = givenRecv();
    for (const [name, args] of [
      ["receivable", {}],
      ["receivable", { id: "R-1" }],
      ["lineage", { id: 5 }],
      ["portfolio", { holder: "" }],
      ["portfolio", { holder: "ent-a", extra: 1 }],
    ] as const) {
      assert.equal(code(g.query(name, args)), "BAD_ARGS", `${name} ${JSON.stringify(args)}`);
    }
  });
});
