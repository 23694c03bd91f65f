// Garbage in every field (BAD_ARGS), role checks (FORBIDDEN_ROLE), evolve's invariants and
// determinism.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { InvariantError, canonicalJson } from "@tally/ledger";
import type { ContractEvent } from "../contract.js";
import { foldEvents, usedContracts } from "../run.js";
import { expectAccepted, expectEvents, expectRejection, type When } from "../testing/given-when-then.js";
import { receivable } from "./receivable.js";
import { INVOICE_REF_LENGTH_MAX, LEAVES_MAX, RATE_BP_MAX, ROOT_ID_LENGTH_MAX, SPLIT_PARTS_MAX } from "./receivable-record.js";
import {
  DEBTOR,
  DUE,
  SUPPLIER,
  TIER2,
  confirmStep,
  confirmedHistory,
  contracts,
  givenRecv,
  play,
  registerStep,
} from "./receivable-test-kit.js";

const reg = { id: "r-2", debtor: DEBTOR, amount: "10", dueMs: DUE, invoiceRef: "inv" };
const two = [
  { to: TIER2, amount: "600" },
  { to: SUPPLIER, amount: "400" },
];

describe("receivable args", () => {
  const cases: [string, string, unknown][] = [
    ["register", "id", { ...reg, id: undefined }],
    ["register", "id", { ...reg, id: "r.2" }],
    ["register", "id", { ...reg, id: "r".repeat(ROOT_ID_LENGTH_MAX + 1) }],
    ["register", "id", { ...reg, id: "R-2" }],
    ["register", "id", { ...reg, id: 2 }],
    ["register", "id", { ...reg, id: "" }],
    ["register", "debtor", { ...reg, debtor: undefined }],
    ["register", "debtor", { ...reg, debtor: ["ent-a"] }],
    ["register", "amount", { ...reg, amount: "0" }],
    ["register", "amount", { ...reg, amount: "-5" }],
    ["register", "amount", { ...reg, amount: "1.5" }],
    ["register", "amount", { ...reg, amount: 10 }],
    ["register", "amount", { ...reg, amount: "" }],
    ["register", "amount", { ...reg, amount: "1".repeat(31) }],
    ["register", "dueMs", { ...reg, dueMs: String(DUE) }],
    ["register", "dueMs", { ...reg, dueMs: -1 }],
    ["register", "dueMs", { ...reg, dueMs: 1.5 }],
    ["register", "dueMs", { ...reg, dueMs: 253_402_300_800_000 }],
    ["register", "invoiceRef", { ...reg, invoiceRef: "" }],
    ["register", "invoiceRef", { ...reg, invoiceRef: "x".repeat(INVOICE_REF_LENGTH_MAX + 1) }],
    ["register", "invoiceRef", { ...reg, invoiceRef: 7 }],
    ["register", "holder", { ...reg, holder: SUPPLIER }],
    ["confirm", "id", {}],
    ["confirm", "id", { id: "r-1.1" }],
    ["confirm", "extra", { id: "r-1", extra: true }],
    ["transfer", "id", { to: TIER2 }],
    ["transfer", "to", { id: "r-1" }],
    ["transfer", "to", { id: "r-1", to: "" }],
    ["transfer", "to", { id: "r-1", to: "x".repeat(65) }],
    ["transfer", "amount", { id: "r-1", to: TIER2, amount: "5" }],
    ["split", "parts", { id: "r-1" }],
    ["split", "parts", { id: "r-1", parts: "all" }],
    ["split", "parts", { id: "r-1", parts: [] }],
    ["split", "parts", { id: "r-1", parts: [{ to: TIER2, amount: "1000" }] }],
    ["split", "parts", { id: "r-1", parts: Array.from({ length: SPLIT_PARTS_MAX + 1 }, () => ({ to: TIER2, amount: "1" })) }],
    ["split", "parts", { id: "r-1", parts: [TIER2, SUPPLIER] }],
    ["split", "to", { id: "r-1", parts: [{ amount: "500" }, { to: SUPPLIER, amount: "500" }] }],
    [
      "split",
      "amount",
      {
        id: "r-1",
        parts: [
          { to: TIER2, amount: "0" },
          { to: SUPPLIER, amount: "1000" },
        ],
      },
    ],
    [
      "split",
      "memo",
      {
        id: "r-1",
        parts: [
          { to: TIER2, amount: "500", memo: "x" },
          { to: SUPPLIER, amount: "500" },
        ],
      },
    ],
    ["split", "id", { id: "", parts: two }],
    ["finance", "rateBp", { id: "r-1", bank: "bank-a" }],
    ["finance", "rateBp", { id: "r-1", bank: "bank-a", rateBp: -1 }],
    ["finance", "rateBp", { id: "r-1", bank: "bank-a", rateBp: RATE_BP_MAX + 1 }],
    ["finance", "rateBp", { id: "r-1", bank: "bank-a", rateBp: 1.5 }],
    ["finance", "rateBp", { id: "r-1", bank: "bank-a", rateBp: "10" }],
    ["finance", "bank", { id: "r-1", rateBp: 10 }],
    ["finance", "bank", { id: "r-1", bank: "Bank A", rateBp: 10 }],
    ["settle", "leaves", { id: "r-1" }],
    ["settle", "leaves", { id: "r-1", leaves: [] }],
    ["settle", "leaves", { id: "r-1", leaves: Array.from({ length: LEAVES_MAX + 1 }, (_, i) => ({ id: `r-1.${i}`, holder: SUPPLIER })) }],
    [
      "settle",
      "leaves",
      {
        id: "r-1",
        leaves: [
          { id: "r-1", holder: SUPPLIER },
          { id: "r-1", holder: SUPPLIER },
        ],
      },
    ],
    ["settle", "holder", { id: "r-1", leaves: [{ id: "r-1" }] }],
    ["settle", "id", { id: "r-1.1", leaves: [{ id: "r-1.1", holder: SUPPLIER }] }],
    ["settle", "amount", { id: "r-1", leaves: [{ id: "r-1", holder: SUPPLIER }], amount: "1000" }],
  ];
  const signerOf: Record<string, string> = {
    register: SUPPLIER,
    confirm: DEBTOR,
    transfer: SUPPLIER,
    split: SUPPLIER,
    finance: SUPPLIER,
    settle: DEBTOR,
  };
  for (const [action, field, args] of cases) {
    test(`${action} refuses ${JSON.stringify(args).slice(0, 120)} naming ${field}`, () => {
      const r = expectRejection(givenRecv(confirmedHistory()).when({ signer: signerOf[action] ?? SUPPLIER, action, args }));
      assert.equal(r.code, "BAD_ARGS");
      assert.match(r.message, new RegExp(`\\b${field}\\b`));
    });
  }

  test("the bounds themselves are accepted", () => {
    const g = givenRecv(confirmedHistory());
    const longest = { ...reg, id: "r".repeat(ROOT_ID_LENGTH_MAX), invoiceRef: "x".repeat(INVOICE_REF_LENGTH_MAX) };
    assert.equal(expectEvents(g.when({ signer: SUPPLIER, action: "register", args: longest })).length, 1);
    const parts = Array.from({ length: SPLIT_PARTS_MAX }, (_, i) => ({ to: TIER2, amount: i === 0 ? "985" : "1" }));
    assert.equal(expectEvents(g.when({ signer: SUPPLIER, action: "split", args: { id: "r-1", parts } })).length, SPLIT_PARTS_MAX + 2);
  });
});

describe("receivable roles", () => {
  const forbidden: [string, unknown, string[]][] = [
    ["register", reg, ["bank-a", "clear-a", "reg", "wh-a", "oracle-a", "exch", "stranger"]],
    ["confirm", { id: "r-1" }, ["bank-a", "reg", "wh-a"]],
    ["transfer", { id: "r-1", to: TIER2 }, ["reg", "wh-a", "oracle-a", "exch"]],
    ["split", { id: "r-1", parts: two }, ["reg", "wh-a", "oracle-a", "exch"]],
    ["finance", { id: "r-1", bank: "bank-a", rateBp: 1 }, ["reg", "wh-a", "oracle-a", "exch"]],
    ["settle", { id: "r-1", leaves: [{ id: "r-1", holder: SUPPLIER }] }, ["bank-a", "reg", "wh-a"]],
  ];
  for (const [action, args, signers] of forbidden) {
    test(`FORBIDDEN_ROLE for ${action} by ${signers.join(", ")}`, () => {
      for (const signer of signers) {
        const r = givenRecv(confirmedHistory()).when({ signer, action, args, ctx: { signers: [signer, DEBTOR, SUPPLIER, "bank-a"] } });
        assert.equal(expectRejection(r).code, "FORBIDDEN_ROLE", signer);
      }
    });
  }

  test("an issuer that is also an enterprise may register and hold", () => {
    const r = givenRecv().when({ signer: "issuer-a", action: "register", args: reg });
    assert.equal(expectEvents(r).length, 1);
  });
});

describe("receivable evolve", () => {
  const fold = (events: readonly ContractEvent[], state = new Map()) =>
    foldEvents(receivable, state, events, usedContracts(contracts, receivable));
  const registered = play([registerStep()]);

  test("an event of an unknown type, or with malformed data, is an invariant violation", () => {
    assert.throws(() => fold([{ type: "ReceivableVanished", assetId: "recv/r-1", parties: [], data: { id: "r-1" } }]), InvariantError);
    const bad = { ...registered[0]!, data: { ...registered[0]!.data, amount: "1.5" } };
    assert.throws(() => fold([bad]), InvariantError);
    assert.throws(() => fold([{ ...registered[0]!, data: { ...registered[0]!.data, dueMs: "soon" } }]), InvariantError);
  });

  test("events that do not fit the state are invariant violations", () => {
    assert.throws(() => fold([...registered, ...registered]), InvariantError);
    const transferred: ContractEvent = {
      type: "ReceivableTransferred",
      assetId: "recv/r-1",
      parties: [],
      data: { id: "r-1", from: SUPPLIER, to: TIER2, amount: "1000" },
    };
    assert.throws(() => fold([transferred]), InvariantError);
    const confirmed = play([confirmStep()], registered);
    assert.throws(() => fold([...confirmed, { ...transferred, data: { ...transferred.data, from: TIER2 } }]), InvariantError);
    const split: ContractEvent = {
      type: "ReceivableSplit",
      assetId: "recv/r-1",
      parties: [],
      data: { id: "r-1", holder: SUPPLIER, children: [{ id: "r-1.1", holder: TIER2, amount: "999" }] },
    };
    assert.throws(() => fold([...confirmed, split]), InvariantError);
    const leaves: ContractEvent = {
      type: "ReceivableLeavesChanged",
      assetId: "recv/r-1",
      parties: [],
      data: { id: "r-1", removed: "r-1.4", added: ["r-1.4.1"] },
    };
    assert.throws(() => fold([...confirmed, leaves]), InvariantError);
  });

  test("a malformed stored record is an invariant violation when read", () => {
    const g = givenRecv(confirmedHistory());
    const broken = new Map(g.state);
    broken.set("recv/r-1", { ...(g.state.get("recv/r-1") as object), status: "lost" });
    const transferred: ContractEvent = {
      type: "ReceivableTransferred",
      assetId: "recv/r-1",
      parties: [],
      data: { id: "r-1", from: SUPPLIER, to: TIER2, amount: "1000" },
    };
    assert.throws(() => fold([transferred], broken), InvariantError);
  });
});

test("receivable is deterministic: the same inputs give deep-equal outputs and the same bytes", () => {
  const steps: When[] = [
    { signer: SUPPLIER, action: "split", args: { id: "r-1", parts: two } },
    { signer: TIER2, action: "finance", args: { id: "r-1.1", bank: "bank-b", rateBp: 333 }, ctx: { signers: [TIER2, "bank-b"] } },
  ];
  const run = () => {
    const events = play(steps, confirmedHistory());
    return expectAccepted(
      givenRecv(events).when({
        signer: DEBTOR,
        action: "settle",
        args: {
          id: "r-1",
          leaves: [
            { id: "r-1.1", holder: "bank-b" },
            { id: "r-1.2", holder: SUPPLIER },
          ],
        },
        ctx: { blockTimeMs: DUE },
      }),
    );
  };
  const a = run();
  const b = run();
  assert.deepEqual(a, b);
  assert.equal(canonicalJson([a.events, [...a.updates]]), canonicalJson([b.events, [...b.updates]]));
});
