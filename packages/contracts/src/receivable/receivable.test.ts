// Register, confirm, transfer and split: given / when / then for every act and rejection.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { expectAccepted, expectEvents, expectRejection } from "../testing/given-when-then.js";
import { DEPTH_MAX, LEAVES_MAX, invoiceKey } from "./receivable-record.js";
import {
  DEBTOR,
  DUE,
  SUPPLIER,
  T0,
  TIER2,
  TIER3,
  confirmStep,
  confirmedHistory,
  givenRecv,
  play,
  registerStep,
} from "./receivable-test-kit.js";

const code = (r: unknown): string => expectRejection(r as Parameters<typeof expectRejection>[0]).code;

describe("receivable register", () => {
  test("a supplier registers a receivable against a core enterprise; it sits in the supplier's portfolio, unconfirmed", () => {
    const then = expectAccepted(givenRecv().when(registerStep("r-1", "1000", "INV 2024/001")));
    assert.deepEqual(then.events, [
      {
        type: "ReceivableRegistered",
        assetId: "recv/r-1",
        parties: [DEBTOR, SUPPLIER],
        data: { id: "r-1", supplier: SUPPLIER, debtor: DEBTOR, amount: "1000", dueMs: DUE, invoiceRef: "INV 2024/001" },
      },
    ]);
    assert.deepEqual(then.state.get("recv/r-1"), {
      id: "r-1",
      root: "r-1",
      parent: null,
      children: [],
      depth: 0,
      supplier: SUPPLIER,
      debtor: DEBTOR,
      holder: SUPPLIER,
      amount: "1000",
      dueMs: DUE,
      invoiceRef: "INV 2024/001",
      status: "registered",
      financed: false,
      financedBy: null,
      leaves: ["r-1"],
      settledAtMs: null,
      parties: [DEBTOR, SUPPLIER],
    });
    assert.deepEqual(then.state.get(`held/${SUPPLIER}/recv/r-1`), { amount: "1000", debtor: DEBTOR, dueMs: DUE });
    assert.deepEqual(then.state.get(invoiceKey(DEBTOR, SUPPLIER, "INV 2024/001")), { id: "r-1" });
  });

  test("ALREADY_REGISTERED when the id is taken", () => {
    const g = givenRecv(play([registerStep("r-1")]));
    const r = expectRejection(g.when({ ...registerStep("r-1", "5", "other") }));
    assert.equal(r.code, "ALREADY_REGISTERED");
    assert.match(r.message, /r-1.*ent-b.*ent-a/);
  });

  test("DUPLICATE_INVOICE when the same supplier registers the same invoice against the same debtor again", () => {
    const g = givenRecv(play([registerStep("r-1", "1000", "INV-7")]));
    assert.equal(code(g.when(registerStep("r-2", "1000", "INV-7"))), "DUPLICATE_INVOICE");
    // Another supplier's invoice of the same number is another invoice.
    const other = g.when({
      signer: TIER2,
      action: "register",
      args: { id: "r-2", debtor: DEBTOR, amount: "1", dueMs: DUE, invoiceRef: "INV-7" },
    });
    assert.equal(expectEvents(other).length, 1);
  });

  test("SELF_DEBTOR, UNKNOWN_DEBTOR and DEBTOR_NOT_ENTERPRISE", () => {
    const args = (debtor: string) => ({ id: "r-1", debtor, amount: "1", dueMs: DUE, invoiceRef: "i" });
    assert.equal(code(givenRecv().when({ signer: SUPPLIER, action: "register", args: args(SUPPLIER) })), "SELF_DEBTOR");
    assert.equal(code(givenRecv().when({ signer: SUPPLIER, action: "register", args: args("nobody") })), "UNKNOWN_DEBTOR");
    assert.equal(code(givenRecv().when({ signer: SUPPLIER, action: "register", args: args("bank-a") })), "DEBTOR_NOT_ENTERPRISE");
  });

  test("DUE_NOT_FUTURE when the due date is not after the block time", () => {
    for (const dueMs of [T0, T0 - 1, 0]) {
      const r = givenRecv().when({
        signer: SUPPLIER,
        action: "register",
        args: { id: "r-1", debtor: DEBTOR, amount: "1", dueMs, invoiceRef: "i" },
      });
      assert.equal(code(r), "DUE_NOT_FUTURE", String(dueMs));
    }
    const ok = givenRecv().when({
      signer: SUPPLIER,
      action: "register",
      args: { id: "r-1", debtor: DEBTOR, amount: "1", dueMs: T0 + 1, invoiceRef: "i" },
    });
    assert.equal(expectEvents(ok).length, 1);
  });
});

describe("receivable confirm", () => {
  test("the debtor confirms with the supplier's signature in the same transaction", () => {
    const g = givenRecv(play([registerStep()]));
    const then = expectAccepted(g.when(confirmStep()));
    assert.deepEqual(then.events, [
      {
        type: "ReceivableConfirmed",
        assetId: "recv/r-1",
        parties: [DEBTOR, SUPPLIER],
        data: { id: "r-1", debtor: DEBTOR, supplier: SUPPLIER, amount: "1000" },
      },
    ]);
    assert.equal((then.state.get("recv/r-1") as { status: string }).status, "confirmed");
    assert.deepEqual([...then.updates.keys()], ["recv/r-1"]);
  });

  test("MISSING_SIGNATURE when only the debtor signs, or another co-signs instead of the supplier", () => {
    const g = givenRecv(play([registerStep()]));
    assert.equal(code(g.when({ signer: DEBTOR, action: "confirm", args: { id: "r-1" } })), "MISSING_SIGNATURE");
    assert.equal(
      code(g.when({ signer: DEBTOR, action: "confirm", args: { id: "r-1" }, ctx: { signers: [DEBTOR, TIER2] } })),
      "MISSING_SIGNATURE",
    );
  });

  test("NOT_DEBTOR when anyone but the debtor confirms, even with both signatures", () => {
    const g = givenRecv(play([registerStep()]));
    assert.equal(
      code(g.when({ signer: SUPPLIER, action: "confirm", args: { id: "r-1" }, ctx: { signers: [SUPPLIER, DEBTOR] } })),
      "NOT_DEBTOR",
    );
    assert.equal(
      code(g.when({ signer: TIER2, action: "confirm", args: { id: "r-1" }, ctx: { signers: [TIER2, SUPPLIER] } })),
      "NOT_DEBTOR",
    );
  });

  test("ALREADY_CONFIRMED the second time; UNKNOWN_RECEIVABLE for an id never registered", () => {
    const g = givenRecv(play([registerStep(), confirmStep()]));
    assert.equal(code(g.when(confirmStep())), "ALREADY_CONFIRMED");
    assert.equal(code(g.when(confirmStep("r-9"))), "UNKNOWN_RECEIVABLE");
  });
});

describe("receivable transfer", () => {
  test("the holder transfers it whole to its own supplier; the portfolio index follows", () => {
    const then = expectAccepted(
      givenRecv(confirmedHistory()).when({ signer: SUPPLIER, action: "transfer", args: { id: "r-1", to: TIER2 } }),
    );
    assert.deepEqual(then.events, [
      {
        type: "ReceivableTransferred",
        assetId: "recv/r-1",
        parties: [DEBTOR, SUPPLIER, TIER2],
        data: { id: "r-1", from: SUPPLIER, to: TIER2, amount: "1000" },
      },
    ]);
    const r = then.state.get("recv/r-1") as { holder: string; parties: string[] };
    assert.equal(r.holder, TIER2);
    assert.deepEqual(r.parties, [DEBTOR, SUPPLIER, TIER2]);
    assert.equal(then.state.has(`held/${SUPPLIER}/recv/r-1`), false);
    assert.deepEqual(then.state.get(`held/${TIER2}/recv/r-1`), { amount: "1000", debtor: DEBTOR, dueMs: DUE });
  });

  test("it travels down several tiers, and a bank may hold it", () => {
    const events = play(
      [
        { signer: SUPPLIER, action: "transfer", args: { id: "r-1", to: TIER2 } },
        { signer: TIER2, action: "transfer", args: { id: "r-1", to: TIER3 } },
        { signer: TIER3, action: "transfer", args: { id: "r-1", to: "bank-b" } },
      ],
      confirmedHistory(),
    );
    assert.equal((givenRecv(events).state.get("recv/r-1") as { holder: string }).holder, "bank-b");
  });

  test("NOT_CONFIRMED: an unconfirmed receivable cannot be transferred", () => {
    const g = givenRecv(play([registerStep()]));
    const r = expectRejection(g.when({ signer: SUPPLIER, action: "transfer", args: { id: "r-1", to: TIER2 } }));
    assert.equal(r.code, "NOT_CONFIRMED");
    assert.match(r.message, /r-1.*1000.*ent-a/);
  });

  test("NOT_HOLDER: a double spend by the former holder, or a transfer by a stranger", () => {
    const events = play([{ signer: SUPPLIER, action: "transfer", args: { id: "r-1", to: TIER2 } }], confirmedHistory());
    const again = expectRejection(givenRecv(events).when({ signer: SUPPLIER, action: "transfer", args: { id: "r-1", to: TIER3 } }));
    assert.equal(again.code, "NOT_HOLDER");
    assert.match(again.message, /held by ent-c, not ent-b/);
    assert.equal(code(givenRecv(events).when({ signer: TIER3, action: "transfer", args: { id: "r-1", to: SUPPLIER } })), "NOT_HOLDER");
    assert.equal(code(givenRecv(events).when({ signer: DEBTOR, action: "transfer", args: { id: "r-1", to: SUPPLIER } })), "NOT_HOLDER");
  });

  test("SELF_TRANSFER, UNKNOWN_RECIPIENT and RECIPIENT_NOT_ELIGIBLE", () => {
    const g = givenRecv(confirmedHistory());
    const to = (t: string) => g.when({ signer: SUPPLIER, action: "transfer", args: { id: "r-1", to: t } });
    assert.equal(code(to(SUPPLIER)), "SELF_TRANSFER");
    assert.equal(code(to("nobody")), "UNKNOWN_RECIPIENT");
    for (const t of ["wh-a", "reg", "oracle-a", "exch"]) assert.equal(code(to(t)), "RECIPIENT_NOT_ELIGIBLE", t);
  });

  test("MATURED: from the due date on it can only be settled", () => {
    const g = givenRecv(confirmedHistory());
    const at = (blockTimeMs: number) =>
      g.when({ signer: SUPPLIER, action: "transfer", args: { id: "r-1", to: TIER2 }, ctx: { blockTimeMs } });
    assert.equal(code(at(DUE)), "MATURED");
    assert.equal(code(at(DUE + 1)), "MATURED");
    assert.equal(expectEvents(at(DUE - 1)).length, 1);
  });

  test("UNKNOWN_RECEIVABLE; ALREADY_SPLIT on a split parent", () => {
    const g = givenRecv(confirmedHistory());
    assert.equal(code(g.when({ signer: SUPPLIER, action: "transfer", args: { id: "r-2", to: TIER2 } })), "UNKNOWN_RECEIVABLE");
    const split = play(
      [
        {
          signer: SUPPLIER,
          action: "split",
          args: {
            id: "r-1",
            parts: [
              { to: SUPPLIER, amount: "1" },
              { to: TIER2, amount: "999" },
            ],
          },
        },
      ],
      confirmedHistory(),
    );
    assert.equal(code(givenRecv(split).when({ signer: SUPPLIER, action: "transfer", args: { id: "r-1", to: TIER3 } })), "ALREADY_SPLIT");
  });
});

describe("receivable split", () => {
  const splitStep = {
    signer: SUPPLIER,
    action: "split",
    args: {
      id: "r-1",
      parts: [
        { to: SUPPLIER, amount: "500" },
        { to: TIER2, amount: "300" },
        { to: TIER3, amount: "200" },
      ],
    },
  };

  test("the holder splits into children summing to the parent, keeping one; one event per asset", () => {
    const then = expectAccepted(givenRecv(confirmedHistory()).when(splitStep));
    assert.deepEqual(
      then.events.map((e) => [e.type, e.assetId]),
      [
        ["ReceivableSplit", "recv/r-1"],
        ["ReceivableChildCreated", "recv/r-1.1"],
        ["ReceivableChildCreated", "recv/r-1.2"],
        ["ReceivableChildCreated", "recv/r-1.3"],
        ["ReceivableLeavesChanged", "recv/r-1"],
      ],
    );
    const parent = then.state.get("recv/r-1") as Record<string, unknown>;
    assert.equal(parent.status, "split");
    assert.equal(parent.holder, null);
    assert.deepEqual(parent.children, ["r-1.1", "r-1.2", "r-1.3"]);
    assert.deepEqual(parent.leaves, ["r-1.1", "r-1.2", "r-1.3"]);
    assert.deepEqual(parent.parties, [DEBTOR, SUPPLIER, TIER2, TIER3]);
    const child = then.state.get("recv/r-1.2") as Record<string, unknown>;
    assert.deepEqual(child, {
      id: "r-1.2",
      root: "r-1",
      parent: "r-1",
      children: [],
      depth: 1,
      supplier: SUPPLIER,
      debtor: DEBTOR,
      holder: TIER2,
      amount: "300",
      dueMs: DUE,
      invoiceRef: "INV/r-1",
      status: "confirmed",
      financed: false,
      financedBy: null,
      leaves: null,
      settledAtMs: null,
      parties: [DEBTOR, SUPPLIER, TIER2],
    });
    assert.equal(then.state.has(`held/${SUPPLIER}/recv/r-1`), false);
    assert.deepEqual(then.state.get(`held/${SUPPLIER}/recv/r-1.1`), { amount: "500", debtor: DEBTOR, dueMs: DUE });
    assert.deepEqual(then.state.get(`held/${TIER3}/recv/r-1.3`), { amount: "200", debtor: DEBTOR, dueMs: DUE });
  });

  test("a child splits further down the tiers; the root's leaves are replaced in place", () => {
    const events = play(
      [
        splitStep,
        {
          signer: TIER2,
          action: "split",
          args: {
            id: "r-1.2",
            parts: [
              { to: TIER3, amount: "100" },
              { to: "bank-a", amount: "200" },
            ],
          },
        },
      ],
      confirmedHistory(),
    );
    const g = givenRecv(events);
    assert.deepEqual((g.state.get("recv/r-1") as { leaves: string[] }).leaves, ["r-1.1", "r-1.2.1", "r-1.2.2", "r-1.3"]);
    assert.equal((g.state.get("recv/r-1.2.2") as { depth: number }).depth, 2);
    const split = events.find((e) => e.type === "ReceivableLeavesChanged" && e.data.removed === "r-1.2");
    assert.deepEqual(split?.data, { id: "r-1", removed: "r-1.2", added: ["r-1.2.1", "r-1.2.2"] });
  });

  test("SPLIT_SUM_MISMATCH when the parts do not sum to the parent, above or below", () => {
    const g = givenRecv(confirmedHistory());
    for (const [a, b] of [
      ["500", "499"],
      ["500", "501"],
    ] as const) {
      const r = expectRejection(
        g.when({
          signer: SUPPLIER,
          action: "split",
          args: {
            id: "r-1",
            parts: [
              { to: TIER2, amount: a },
              { to: TIER3, amount: b },
            ],
          },
        }),
      );
      assert.equal(r.code, "SPLIT_SUM_MISMATCH");
      assert.match(r.message, /r-1.*1000/);
    }
  });

  test("NOT_CONFIRMED, NOT_HOLDER, MATURED and recipient checks apply to a split", () => {
    const parts = [
      { to: TIER2, amount: "500" },
      { to: TIER3, amount: "500" },
    ];
    assert.equal(
      code(givenRecv(play([registerStep()])).when({ signer: SUPPLIER, action: "split", args: { id: "r-1", parts } })),
      "NOT_CONFIRMED",
    );
    const g = givenRecv(confirmedHistory());
    assert.equal(code(g.when({ signer: TIER2, action: "split", args: { id: "r-1", parts } })), "NOT_HOLDER");
    assert.equal(code(g.when({ signer: SUPPLIER, action: "split", args: { id: "r-1", parts }, ctx: { blockTimeMs: DUE } })), "MATURED");
    const bad = [
      { to: TIER2, amount: "500" },
      { to: "wh-a", amount: "500" },
    ];
    assert.equal(code(g.when({ signer: SUPPLIER, action: "split", args: { id: "r-1", parts: bad } })), "RECIPIENT_NOT_ELIGIBLE");
    const unknown = [
      { to: TIER2, amount: "500" },
      { to: "nobody", amount: "500" },
    ];
    assert.equal(code(g.when({ signer: SUPPLIER, action: "split", args: { id: "r-1", parts: unknown } })), "UNKNOWN_RECIPIENT");
  });

  test(`DEPTH_LIMIT: children may be at most ${DEPTH_MAX} deep`, () => {
    let events = confirmedHistory();
    let id = "r-1";
    for (let depth = 1; depth <= DEPTH_MAX; depth++) {
      events = play(
        [
          {
            signer: SUPPLIER,
            action: "split",
            args: {
              id,
              parts: [
                { to: SUPPLIER, amount: "1" },
                { to: TIER2, amount: String(1000 - depth) },
              ],
            },
          },
        ],
        events,
      );
      id = `${id}.2`;
      events = play([{ signer: TIER2, action: "transfer", args: { id, to: SUPPLIER } }], events);
    }
    const r = expectRejection(
      givenRecv(events).when({
        signer: SUPPLIER,
        action: "split",
        args: {
          id,
          parts: [
            { to: SUPPLIER, amount: "1" },
            { to: TIER2, amount: String(1000 - DEPTH_MAX - 1) },
          ],
        },
      }),
    );
    assert.equal(r.code, "DEPTH_LIMIT");
  });

  test(`TOO_MANY_LEAVES: a tree keeps at most ${LEAVES_MAX} live leaves`, () => {
    const split = (id: string, amounts: readonly string[]) => ({
      signer: SUPPLIER,
      action: "split",
      args: { id, parts: amounts.map((amount) => ({ to: SUPPLIER, amount })) },
    });
    const sixteen = (id: string, each: string) =>
      split(
        id,
        Array.from({ length: 16 }, () => each),
      );
    // 16, then 16 + 15, + 15, + 15: 61 leaves.
    const events = play(
      [sixteen("r-1", "16"), sixteen("r-1.1", "1"), sixteen("r-1.2", "1"), sixteen("r-1.3", "1")],
      confirmedHistory("256"),
    );
    const g = givenRecv(events);
    assert.equal((g.state.get("recv/r-1") as { leaves: string[] }).leaves.length, 61);
    const r = expectRejection(g.when(split("r-1.4", ["12", "1", "1", "1", "1"])));
    assert.equal(r.code, "TOO_MANY_LEAVES");
    assert.match(r.message, /65 leaves.*64/);
    const full = expectAccepted(g.when(split("r-1.4", ["13", "1", "1", "1"])));
    assert.equal((full.state.get("recv/r-1") as { leaves: string[] }).leaves.length, LEAVES_MAX);
  });
});
