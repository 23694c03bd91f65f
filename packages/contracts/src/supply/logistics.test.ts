import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { InvariantError, canonicalJson } from "@tally/ledger";
import type { ContractEvent, Rejection } from "../contract.js";
import { builtinContracts } from "../registry.js";
import { expectAccepted, expectEvents, expectRejection, given, type Then, type When } from "../testing/given-when-then.js";
import { TEST_MEMBERS } from "../testing/test-genesis.js";
import { ATTESTATIONS_MAX, logistics, NOTE_LENGTH_MAX, READING_LENGTH_MAX, TRUSTED_ORACLES_MAX } from "./logistics.js";

const contracts = new Map([...builtinContracts, [logistics.name, logistics]]);
/** The test members plus a second oracle. */
const MEMBERS = new Map([...TEST_MEMBERS, ["oracle-b", { roles: ["oracle"] }]]);
const T0 = 1_700_000_123_456;
const DAY_MS = 86_400_000;
const EXP = T0 + 30 * DAY_MS;
const TX = "ab".repeat(32);
const ESCROW = "logistics/escrow/p-1";

const at = (signer: string, action: string, args: object, opts: { signers?: string[]; t?: number } = {}): When => ({
  signer,
  action,
  args,
  ctx: { members: MEMBERS, signers: opts.signers ?? [signer], blockTimeMs: opts.t ?? T0 },
});

const openArgs = { id: "p-1", shipment: "s-1", seller: "ent-b", amount: "1000", expiresAtMs: EXP, oracles: ["oracle-a"] };
const open = (args: object = {}, signers = ["ent-a", "ent-b"]) => at(signers[0] ?? "ent-a", "open", { ...openArgs, ...args }, { signers });
const attest = (kind: string, oracle = "oracle-a", args: object = {}, t = T0) =>
  at(oracle, "attest", { shipment: "s-1", kind, purchase: "p-1", seller: "ent-b", ...args }, { t });
const release = (signer = "ent-a", args: object = {}) => at(signer, "release", { id: "p-1", seller: "ent-b", ...args });
const refund = (signers: string[], args: object = {}, t = T0) =>
  at(signers[0] ?? "ent-a", "refund", { id: "p-1", buyer: "ent-a", ...args }, { signers, t });

function cashIssued(to: string, amount: string): ContractEvent {
  return { contract: "cash", type: "CashIssued", assetId: `acct/${to}`, parties: ["clear-a", to], data: { issuer: "clear-a", to, amount } };
}

const FUND = cashIssued("ent-a", "10000");

/** The events of running the commands in order from a funded buyer; each must be accepted. */
function history(...steps: When[]): ContractEvent[] {
  let events: ContractEvent[] = [FUND];
  for (const s of steps) events = [...events, ...expectEvents(given("logistics", events, contracts).when(s))];
  return events;
}

const g = (events: readonly ContractEvent[]) => given("logistics", events, contracts);
const balance = (then: Then, who: string) => (then.state.get(`cash:acct/${who}`) as { balance: string } | undefined)?.balance ?? "0";
const purchaseOf = (then: Then) => then.state.get("purchase/p-1") as { status: string; escrow: string; settledAtMs: number | null };
const code = (r: Then | Rejection) => expectRejection(r).code;

const PARTIES = ["ent-a", "ent-b", "oracle-a"];
const opened = history(open());

describe("logistics open", () => {
  test("buyer and seller sign: the purchase opens and the amount moves from the buyer into escrow", () => {
    const then = expectAccepted(g([FUND]).when(open()));
    assert.deepEqual(then.events, [
      {
        type: "PurchaseOpened",
        assetId: "purchase/p-1",
        parties: PARTIES,
        data: {
          id: "p-1",
          buyer: "ent-a",
          seller: "ent-b",
          shipment: "s-1",
          amount: "1000",
          oracles: ["oracle-a"],
          openedAtMs: T0,
          expiresAtMs: EXP,
        },
      },
      {
        type: "ShipmentLinked",
        assetId: "shipment/s-1",
        parties: PARTIES,
        data: { shipment: "s-1", purchase: "p-1", buyer: "ent-a", seller: "ent-b", oracles: ["oracle-a"] },
      },
      {
        contract: "cash",
        type: "CashTransferred",
        assetId: "acct/ent-a",
        parties: ["ent-a", "ent-b"],
        data: { from: "ent-a", to: ESCROW, amount: "1000", memo: "escrow of purchase p-1" },
      },
    ]);
    assert.deepEqual(then.state.get("purchase/p-1"), {
      id: "p-1",
      buyer: "ent-a",
      seller: "ent-b",
      shipment: "s-1",
      amount: "1000",
      escrow: "1000",
      oracles: ["oracle-a"],
      status: "funded",
      openedAtMs: T0,
      expiresAtMs: EXP,
      settledAtMs: null,
      parties: PARTIES,
    });
    assert.deepEqual([balance(then, "ent-a"), balance(then, ESCROW)], ["9000", "1000"]);
    assert.deepEqual(then.state.get("held/ent-a/purchase/p-1"), { side: "buyer", counterparty: "ent-b", shipment: "s-1", amount: "1000" });
    assert.deepEqual(then.state.get("held/ent-b/purchase/p-1"), { side: "seller", counterparty: "ent-a", shipment: "s-1", amount: "1000" });
    assert.equal((then.state.get("shipment/s-1") as { purchase: string }).purchase, "p-1");
  });

  test("without oracles the purchase trusts any oracle (oracles null)", () => {
    const then = expectAccepted(g([FUND]).when(open({ oracles: undefined })));
    assert.equal((then.state.get("purchase/p-1") as { oracles: unknown }).oracles, null);
    assert.deepEqual(then.events[0]?.parties, ["ent-a", "ent-b"]);
  });

  test("MISSING_SIGNATURE without the seller's signature", () => {
    const r = expectRejection(g([FUND]).when(open({}, ["ent-a"])));
    assert.equal(r.code, "MISSING_SIGNATURE");
    assert.match(r.message, /ent-b/);
  });

  test("INSUFFICIENT_FUNDS: funding without cash opens nothing", () => {
    const r = expectRejection(g([cashIssued("ent-a", "999")]).when(open()));
    assert.equal(r.code, "INSUFFICIENT_FUNDS");
    assert.match(r.message, /p-1.*1000.*999/);
    assert.equal(code(g([]).when(open())), "INSUFFICIENT_FUNDS");
  });

  test("PURCHASE_EXISTS, SELF_PURCHASE, UNKNOWN_MEMBER, NOT_AN_ORACLE", () => {
    assert.equal(code(g(opened).when(open({ shipment: "s-2" }))), "PURCHASE_EXISTS");
    assert.equal(code(g([FUND]).when(open({ seller: "ent-a" }, ["ent-a"]))), "SELF_PURCHASE");
    assert.equal(code(g([FUND]).when(open({ seller: "nobody" }, ["ent-a", "nobody"]))), "UNKNOWN_MEMBER");
    const r = expectRejection(g([FUND]).when(open({ oracles: ["oracle-a", "ent-c"] })));
    assert.equal(r.code, "NOT_AN_ORACLE");
    assert.match(r.message, /ent-c/);
  });

  test("EXPIRY_PASSED when the purchase would expire at or before the block time", () => {
    assert.equal(code(g([FUND]).when(open({ expiresAtMs: T0 }))), "EXPIRY_PASSED");
    assert.equal(expectEvents(g([FUND]).when(open({ expiresAtMs: T0 + 1 }))).length, 3);
  });

  test("SHIPMENT_TAKEN, ALREADY_DELIVERED, SHIPMENT_BREACHED: one purchase per shipment, opened before its fate is known", () => {
    assert.equal(code(g(opened).when(open({ id: "p-2" }))), "SHIPMENT_TAKEN");
    const delivered = history(at("oracle-a", "attest", { shipment: "s-1", kind: "delivered" }));
    assert.equal(code(g(delivered).when(open())), "ALREADY_DELIVERED");
    const breached = history(at("oracle-b", "attest", { shipment: "s-1", kind: "temperature-breach", reading: "12C" }));
    assert.equal(code(g(breached).when(open())), "SHIPMENT_BREACHED");
    const shipped = history(at("oracle-a", "attest", { shipment: "s-1", kind: "shipped" }));
    assert.equal(expectEvents(g(shipped).when(open())).length, 3);
  });

  test("FORBIDDEN_ROLE for a regulator", () => {
    assert.equal(code(g([FUND]).when(open({ seller: "ent-b" }, ["reg", "ent-b"]))), "FORBIDDEN_ROLE");
  });
});

describe("logistics attest", () => {
  test("an oracle records received and shipped on a shipment nobody bought: no trigger", () => {
    const events = history(at("oracle-a", "attest", { shipment: "s-9", kind: "received", note: "dock 4" }));
    const then = expectAccepted(g(events).when(at("oracle-b", "attest", { shipment: "s-9", kind: "shipped" })));
    assert.deepEqual(then.events, [
      {
        type: "ShipmentAttested",
        assetId: "shipment/s-9",
        parties: ["oracle-a", "oracle-b"],
        data: {
          shipment: "s-9",
          purchase: null,
          effect: "none",
          seq: 2,
          oracle: "oracle-b",
          kind: "shipped",
          reading: null,
          note: null,
          atMs: T0,
          txId: TX,
        },
      },
    ]);
    const s = then.state.get("shipment/s-9") as { attestations: { kind: string; note: string | null }[]; delivered: boolean };
    assert.deepEqual(
      s.attestations.map((a) => [a.kind, a.note]),
      [
        ["received", "dock 4"],
        ["shipped", null],
      ],
    );
    assert.equal(s.delivered, false);
  });

  test("a delivery attested by a trusted oracle releases the escrow to the seller in the same transaction", () => {
    const then = expectAccepted(g(opened).when(attest("delivered")));
    assert.deepEqual(then.events, [
      {
        type: "ShipmentAttested",
        assetId: "shipment/s-1",
        parties: PARTIES,
        data: {
          shipment: "s-1",
          purchase: "p-1",
          effect: "released",
          seq: 1,
          oracle: "oracle-a",
          kind: "delivered",
          reading: null,
          note: null,
          atMs: T0,
          txId: TX,
        },
      },
      {
        type: "EscrowReleased",
        assetId: "purchase/p-1",
        parties: PARTIES,
        data: { id: "p-1", to: "ent-b", amount: "1000", atMs: T0, trigger: "delivery", oracle: "oracle-a" },
      },
      {
        contract: "cash",
        type: "CashTransferred",
        assetId: `acct/${ESCROW}`,
        parties: ["ent-a", "ent-b"],
        data: { from: ESCROW, to: "ent-b", amount: "1000", memo: "purchase p-1: delivery attested by oracle-a" },
      },
    ]);
    assert.deepEqual([balance(then, "ent-a"), balance(then, ESCROW), balance(then, "ent-b")], ["9000", "0", "1000"]);
    assert.deepEqual([purchaseOf(then).status, purchaseOf(then).escrow, purchaseOf(then).settledAtMs], ["released", "0", T0]);
  });

  test("any oracle's delivery releases a purchase that names none", () => {
    const events = history(open({ oracles: undefined }));
    const then = expectAccepted(g(events).when(attest("delivered", "oracle-b")));
    assert.equal(purchaseOf(then).status, "released");
  });

  test("a temperature breach blocks the escrow; a later delivery is recorded but releases nothing", () => {
    const blocked = expectAccepted(g(opened).when(attest("temperature-breach", "oracle-a", { reading: "11.4C" })));
    assert.deepEqual(blocked.events[1], {
      type: "EscrowBlocked",
      assetId: "purchase/p-1",
      parties: PARTIES,
      data: { id: "p-1", oracle: "oracle-a", seq: 1, atMs: T0 },
    });
    assert.equal(blocked.events[0]?.data.effect, "blocked");
    assert.equal(blocked.events[0]?.data.reading, "11.4C");
    assert.equal(purchaseOf(blocked).status, "blocked");
    const then = expectAccepted(g([...opened, ...blocked.events]).when(attest("delivered", "oracle-a", {}, T0 + DAY_MS)));
    assert.equal(then.events.length, 1);
    assert.equal(then.events[0]?.data.effect, "withheld");
    assert.deepEqual([purchaseOf(then).status, balance(then, ESCROW), balance(then, "ent-b")], ["blocked", "1000", "0"]);
    assert.equal((then.state.get("shipment/s-1") as { delivered: boolean }).delivered, true);
  });

  test("no double release: a second delivery or a breach after release moves nothing", () => {
    const released = history(open(), attest("delivered"));
    for (const kind of ["delivered", "temperature-breach"]) {
      const then = expectAccepted(g(released).when(attest(kind)));
      assert.equal(then.events.length, 1, kind);
      assert.equal(then.events[0]?.data.effect, "none");
      assert.deepEqual([purchaseOf(then).status, balance(then, "ent-b")], ["released", "1000"]);
    }
  });

  test("FORBIDDEN_ROLE for an attestation by a non-oracle", () => {
    for (const signer of ["ent-a", "ent-b", "wh-a", "bank-a", "reg"])
      assert.equal(code(g(opened).when(attest("delivered", signer))), "FORBIDDEN_ROLE", signer);
  });

  test("UNTRUSTED_ORACLE for an oracle the purchase does not trust", () => {
    const r = expectRejection(g(opened).when(attest("delivered", "oracle-b")));
    assert.equal(r.code, "UNTRUSTED_ORACLE");
    assert.match(r.message, /oracle-a.*oracle-b/);
  });

  test("PURCHASE_NOT_NAMED, PURCHASE_MISMATCH, PARTY_MISMATCH: the attestation must name the waiting purchase and its seller", () => {
    const unnamed = expectRejection(g(opened).when(at("oracle-a", "attest", { shipment: "s-1", kind: "delivered" })));
    assert.equal(unnamed.code, "PURCHASE_NOT_NAMED");
    assert.match(unnamed.message, /p-1.*ent-b/);
    assert.equal(code(g(opened).when(attest("delivered", "oracle-a", { purchase: "p-2" }))), "PURCHASE_MISMATCH");
    assert.equal(code(g([FUND]).when(attest("delivered"))), "PURCHASE_MISMATCH");
    assert.equal(code(g(opened).when(attest("delivered", "oracle-a", { seller: "ent-c" }))), "PARTY_MISMATCH");
  });

  test(`ATTESTATION_LIMIT once a shipment holds ${ATTESTATIONS_MAX} attestations`, () => {
    const events: ContractEvent[] = [];
    for (let seq = 1; seq <= ATTESTATIONS_MAX; seq++) {
      const data = {
        shipment: "s-9",
        purchase: null,
        effect: "none",
        seq,
        oracle: "oracle-a",
        kind: "shipped",
        reading: null,
        note: null,
        atMs: T0,
        txId: TX,
      };
      events.push({ type: "ShipmentAttested", assetId: "shipment/s-9", parties: ["oracle-a"], data });
    }
    const r = expectRejection(g(events).when(at("oracle-a", "attest", { shipment: "s-9", kind: "delivered" })));
    assert.equal(r.code, "ATTESTATION_LIMIT");
    const oneShort = g(events.slice(0, -1)).when(at("oracle-a", "attest", { shipment: "s-9", kind: "delivered" }));
    assert.equal(expectEvents(oneShort)[0]?.data.seq, ATTESTATIONS_MAX);
  });
});

describe("logistics release", () => {
  test("the buyer releases a funded escrow to the seller", () => {
    const then = expectAccepted(g(opened).when(release()));
    assert.deepEqual(then.events[0], {
      type: "EscrowReleased",
      assetId: "purchase/p-1",
      parties: PARTIES,
      data: { id: "p-1", to: "ent-b", amount: "1000", atMs: T0, trigger: "buyer", oracle: null },
    });
    assert.deepEqual([balance(then, "ent-b"), balance(then, ESCROW), purchaseOf(then).status], ["1000", "0", "released"]);
  });

  test("ALREADY_SETTLED: double release, after a delivery or after the buyer's own release", () => {
    assert.equal(code(g(history(open(), attest("delivered"))).when(release())), "ALREADY_SETTLED");
    assert.equal(code(g(history(open(), release())).when(release())), "ALREADY_SETTLED");
  });

  test("ESCROW_BLOCKED: no release after a breach", () => {
    const r = expectRejection(g(history(open(), attest("temperature-breach"))).when(release()));
    assert.equal(r.code, "ESCROW_BLOCKED");
    assert.match(r.message, /p-1.*s-1.*1000/);
  });

  test("NOT_BUYER for the seller or a stranger, PARTY_MISMATCH, UNKNOWN_PURCHASE", () => {
    for (const signer of ["ent-b", "ent-c", "oracle-a"]) assert.equal(code(g(opened).when(release(signer))), "NOT_BUYER", signer);
    assert.equal(code(g(opened).when(release("ent-a", { seller: "ent-c" }))), "PARTY_MISMATCH");
    assert.equal(code(g(opened).when(release("ent-a", { id: "p-9" }))), "UNKNOWN_PURCHASE");
    assert.equal(code(g(opened).when(release("reg"))), "FORBIDDEN_ROLE");
  });
});

describe("logistics refund", () => {
  const blocked = history(open(), attest("temperature-breach"));

  test("buyer and seller together refund a blocked escrow to the buyer", () => {
    const then = expectAccepted(g(blocked).when(refund(["ent-a", "ent-b"])));
    assert.deepEqual(then.events, [
      {
        type: "EscrowRefunded",
        assetId: "purchase/p-1",
        parties: PARTIES,
        data: { id: "p-1", to: "ent-a", amount: "1000", atMs: T0, by: "ent-a" },
      },
      {
        contract: "cash",
        type: "CashTransferred",
        assetId: `acct/${ESCROW}`,
        parties: ["ent-a", "ent-b"],
        data: { from: ESCROW, to: "ent-a", amount: "1000", memo: "purchase p-1: refunded" },
      },
    ]);
    assert.deepEqual([balance(then, "ent-a"), balance(then, ESCROW), purchaseOf(then).status], ["10000", "0", "refunded"]);
  });

  test("the seller alone may refund, blocked or not: it gives up its own claim", () => {
    for (const events of [opened, blocked]) assert.equal(purchaseOf(expectAccepted(g(events).when(refund(["ent-b"])))).status, "refunded");
  });

  test("the buyer alone needs the seller's signature before expiry, and no one's from expiry on", () => {
    const r = expectRejection(g(blocked).when(refund(["ent-a"], {}, EXP - 1)));
    assert.equal(r.code, "MISSING_SIGNATURE");
    assert.match(r.message, /ent-b/);
    assert.equal(purchaseOf(expectAccepted(g(blocked).when(refund(["ent-a"], {}, EXP)))).status, "refunded");
    assert.equal(purchaseOf(expectAccepted(g(opened).when(refund(["ent-a"], {}, EXP + DAY_MS)))).status, "refunded");
  });

  test("a delivery after a refund releases nothing", () => {
    const then = expectAccepted(g(history(open(), refund(["ent-b"]))).when(attest("delivered")));
    assert.deepEqual([then.events.length, balance(then, "ent-b"), purchaseOf(then).status], [1, "0", "refunded"]);
  });

  test("NOT_PARTY for a stranger, PARTY_MISMATCH, ALREADY_SETTLED, UNKNOWN_PURCHASE", () => {
    assert.equal(code(g(blocked).when(refund(["ent-c", "ent-b"]))), "NOT_PARTY");
    assert.equal(code(g(blocked).when(refund(["ent-b"], { buyer: "ent-c" }))), "PARTY_MISMATCH");
    assert.equal(code(g(history(open(), attest("delivered"))).when(refund(["ent-b"]))), "ALREADY_SETTLED");
    assert.equal(code(g(history(open(), refund(["ent-b"]))).when(refund(["ent-b"]))), "ALREADY_SETTLED");
    assert.equal(code(g(blocked).when(refund(["ent-b"], { id: "p-9" }))), "UNKNOWN_PURCHASE");
  });
});

describe("logistics args", () => {
  const oracles = (n: number) => Array.from({ length: n }, (_, i) => `oracle-${i}`);
  const cases: [string, string, object][] = [
    ["open", "id", { ...openArgs, id: undefined }],
    ["open", "id", { ...openArgs, id: "P 1" }],
    ["open", "shipment", { ...openArgs, shipment: "" }],
    ["open", "shipment", { ...openArgs, shipment: "s".repeat(65) }],
    ["open", "seller", { ...openArgs, seller: 1 }],
    ["open", "amount", { ...openArgs, amount: "0" }],
    ["open", "amount", { ...openArgs, amount: "-1" }],
    ["open", "amount", { ...openArgs, amount: 1000 }],
    ["open", "amount", { ...openArgs, amount: "1".repeat(31) }],
    ["open", "expiresAtMs", { ...openArgs, expiresAtMs: "soon" }],
    ["open", "expiresAtMs", { ...openArgs, expiresAtMs: -1 }],
    ["open", "expiresAtMs", { ...openArgs, expiresAtMs: 1.5 }],
    ["open", "oracles", { ...openArgs, oracles: "oracle-a" }],
    ["open", "oracles", { ...openArgs, oracles: [] }],
    ["open", "oracles", { ...openArgs, oracles: ["oracle-a", "oracle-a"] }],
    ["open", "oracles", { ...openArgs, oracles: oracles(TRUSTED_ORACLES_MAX + 1) }],
    ["open", "oracles", { ...openArgs, oracles: ["Oracle-A"] }],
    ["open", "buyer", { ...openArgs, buyer: "ent-a" }],
    ["attest", "kind", { shipment: "s-1", kind: "lost" }],
    ["attest", "kind", { shipment: "s-1", kind: 3 }],
    ["attest", "kind", { shipment: "s-1" }],
    ["attest", "shipment", { kind: "shipped" }],
    ["attest", "seller", { shipment: "s-1", kind: "shipped", purchase: "p-1" }],
    ["attest", "purchase", { shipment: "s-1", kind: "shipped", seller: "ent-b" }],
    ["attest", "reading", { shipment: "s-1", kind: "shipped", reading: "r".repeat(READING_LENGTH_MAX + 1) }],
    ["attest", "reading", { shipment: "s-1", kind: "shipped", reading: 9.5 }],
    ["attest", "note", { shipment: "s-1", kind: "shipped", note: "" }],
    ["attest", "note", { shipment: "s-1", kind: "shipped", note: "n".repeat(NOTE_LENGTH_MAX + 1) }],
    ["attest", "oracle", { shipment: "s-1", kind: "shipped", oracle: "oracle-b" }],
    ["release", "seller", { id: "p-1" }],
    ["release", "id", { id: "", seller: "ent-b" }],
    ["refund", "buyer", { id: "p-1" }],
    ["refund", "amount", { id: "p-1", buyer: "ent-a", amount: "5" }],
  ];
  for (const [action, field, args] of cases) {
    test(`${action} refuses ${JSON.stringify(args).slice(0, 90)} naming ${field}`, () => {
      const signer = action === "attest" ? "oracle-a" : "ent-a";
      const r = expectRejection(g(opened).when(at(signer, action, args, { signers: [signer, "ent-b"] })));
      assert.equal(r.code, "BAD_ARGS");
      assert.match(r.message, new RegExp(`\\b${field}\\b`));
    });
  }

  test("bounds are inclusive: the most trusted oracles, the longest reading and note", () => {
    const members = new Map([...MEMBERS, ...oracles(TRUSTED_ORACLES_MAX).map((o) => [o, { roles: ["oracle"] }] as const)]);
    const r = g([FUND]).when({ ...open({ oracles: oracles(TRUSTED_ORACLES_MAX) }), ctx: { members, signers: ["ent-a", "ent-b"] } });
    assert.equal(expectEvents(r).length, 3);
    const long = at("oracle-a", "attest", {
      shipment: "s-9",
      kind: "received",
      reading: "r".repeat(READING_LENGTH_MAX),
      note: "n".repeat(NOTE_LENGTH_MAX),
    });
    assert.equal(expectEvents(g([]).when(long)).length, 1);
  });
});

describe("logistics queries and evolve", () => {
  test("purchase and shipment return the state or null", () => {
    const s = g(history(open(), attest("shipped")));
    assert.equal((s.query("purchase", { id: "p-1" }) as { status: string }).status, "funded");
    assert.equal((s.query("shipment", { id: "s-1" }) as { attestations: unknown[] }).attestations.length, 1);
    assert.equal(s.query("purchase", { id: "p-2" }), null);
    assert.equal(s.query("shipment", { id: "s-2" }), null);
  });

  test("portfolio lists the purchases an institution is party to, on either side", () => {
    const s = g(history(open(), open({ id: "p-0", shipment: "s-0", seller: "ent-c", amount: "5" }, ["ent-a", "ent-c"])));
    assert.deepEqual(s.query("portfolio", { holder: "ent-a" }), {
      holder: "ent-a",
      purchases: [
        { assetId: "purchase/p-0", side: "buyer", counterparty: "ent-c", shipment: "s-0", amount: "5" },
        { assetId: "purchase/p-1", side: "buyer", counterparty: "ent-b", shipment: "s-1", amount: "1000" },
      ],
    });
    assert.deepEqual(s.query("portfolio", { holder: "ent-b" }), {
      holder: "ent-b",
      purchases: [{ assetId: "purchase/p-1", side: "seller", counterparty: "ent-a", shipment: "s-1", amount: "1000" }],
    });
  });

  test("queries refuse bad args", () => {
    for (const [name, args] of [
      ["purchase", {}],
      ["shipment", { id: 5 }],
      ["portfolio", { holder: "ent-a", extra: true }],
    ] as const) {
      assert.equal(code(g([]).query(name, args) as Rejection), "BAD_ARGS", name);
    }
  });

  test("folding a release of an absent purchase, an attestation out of order or an unknown event is an invariant violation", () => {
    const releasedEvent = expectEvents(g(opened).when(attest("delivered")))[1];
    assert.ok(releasedEvent);
    assert.throws(() => g([releasedEvent]), InvariantError);
    const second = expectEvents(g(history(open(), attest("shipped"))).when(attest("delivered")))[0];
    assert.ok(second);
    assert.throws(() => g([...opened, second]), InvariantError);
    const relinked = { shipment: "s-1", purchase: "p-2", buyer: "ent-a", seller: "ent-c", oracles: null };
    assert.throws(() => g([...opened, { type: "ShipmentLinked", assetId: "shipment/s-1", parties: [], data: relinked }]), InvariantError);
    assert.throws(() => g([{ type: "ShipmentLost", assetId: "shipment/s-1", parties: [], data: {} }]), InvariantError);
  });
});

test("logistics is deterministic: the same inputs give deep-equal outputs and the same bytes", () => {
  const run = () => g(opened).when(attest("delivered", "oracle-a", { reading: "4C", note: "signed for" }));
  const a = expectAccepted(run());
  const b = expectAccepted(run());
  assert.deepEqual(a, b);
  assert.equal(canonicalJson([a.events, [...a.updates]]), canonicalJson([b.events, [...b.updates]]));
});
