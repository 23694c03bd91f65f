// Every typed helper against the contract's own checks: the args a helper signs, decoded from the
// transaction exactly as a node decodes them, must pass the contract's prepareCommand. A helper
// that drifts from its contract (a renamed field, an amount sent as a number) fails here, and so
// does a contract action that has no helper.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  builtinContracts,
  isRejection,
  prepareCommand,
  prepareQuery,
  resolveKey,
  runCommand,
  runQuery,
  type MemberView,
  type TxContext,
} from "@tally/contracts";
import { ROLES, fromUtf8, toHex, type JsonValue, type TxSigner } from "@tally/ledger";
import { TallyClient } from "../tally-client.js";
import { TallyError } from "../tally-error.js";
import { viewTransaction, type SignedTransaction } from "../transaction.js";
import { CHAIN_ID, SIGNERS } from "../testing/fixtures.js";
import type { QueryRunner } from "./action-builder.js";
import { TradeActions } from "./trade.js";

const HASH = "0123456789abcdef".repeat(4);
const KEY_HEX = "fe".repeat(32);
const client = new TallyClient("127.0.0.1:1", CHAIN_ID, SIGNERS.bankA);
const NOW = 1_750_000_000_000;

// Every institution the cases name holds every role, so prepareCommand's role check passes and
// what is tested is the args.
const NAMES = ["bank-a", "bank-b", "enterprise-a", "clearing", "exchange", "warehouse-a", "oracle-a", "regulator-a"];
const ALL_ROLES: ReadonlyMap<string, MemberView> = new Map(NAMES.map((n) => [n, { roles: [...ROLES] }]));

function decoded(tx: SignedTransaction): { contract: string; action: string; args: unknown; ctx: TxContext } {
  const v = viewTransaction(tx);
  const ctx: TxContext = {
    chainId: v.body.chainId,
    txId: toHex(v.id),
    height: 1n,
    blockTimeMs: NOW,
    signer: v.body.signer?.institutionId ?? "",
    signers: v.signers,
    members: ALL_ROLES,
  };
  return { contract: v.body.contract, action: v.body.action, args: JSON.parse(fromUtf8(v.body.args)) as unknown, ctx };
}

const c = client;
const CASES: readonly (readonly [string, () => SignedTransaction])[] = [
  ["cash.issue", () => c.cash.issue({ to: "bank-b", amount: 1_000_000n })],
  ["cash.transfer", () => c.cash.transfer({ to: "bank-b", amount: 10n, memo: "invoice 7" })],
  ["cash.redeem", () => c.cash.redeem({ bank: "clearing", amount: 5n }, { coSigners: [SIGNERS.clearing] })],
  ["notary.register", () => c.notary.register({ hash: HASH, title: "bill of lading", uri: "s3://docs/1" })],
  ["notary.transfer", () => c.notary.transfer({ hash: HASH, to: "bank-b" })],
  ["notary.license", () => c.notary.license({ hash: HASH, id: "lic-1", licensee: "bank-b", terms: "print, EU", untilMs: NOW + 1000 })],
  ["notary.license (no end)", () => c.notary.license({ hash: HASH, id: "lic-2", licensee: "bank-b", terms: "web" })],
  ["medical.anchor", () => c.medical.anchor({ id: "rec-1", patient: "bank-b", hash: HASH })],
  ["medical.grant", () => c.medical.grant({ to: "bank-b", untilMs: NOW + 1000 })],
  ["medical.revoke", () => c.medical.revoke({ to: "bank-b" })],
  ["medical.access", () => c.medical.access({ record: "rec-1", patient: "bank-b", purpose: "treatment" })],
  ["credential.issue", () => c.credential.issue({ id: "dip-1", kind: "education", subjectHash: HASH, claimHash: HASH })],
  ["credential.revoke", () => c.credential.revoke({ id: "dip-1", reason: "issued in error" })],
  [
    "bill.issue",
    () => c.bill.issue({ id: "b-1", payee: "bank-b", acceptor: "enterprise-a", amount: 50_000_000n, dueMs: NOW + 86_400_000 }),
  ],
  ["bill.accept", () => c.bill.accept({ id: "b-1" })],
  ["bill.void", () => c.bill.void({ id: "b-1" })],
  ["bill.endorse", () => c.bill.endorse({ id: "b-1", to: "bank-b" })],
  ["bill.split", () => c.bill.split({ id: "b-1", amounts: [20_000_000n, 30_000_000n] })],
  ["bill.discount", () => c.bill.discount({ id: "b-1", bank: "bank-b", rateBp: 350 }, { coSigners: [SIGNERS.bankB] })],
  ["bill.pledge", () => c.bill.pledge({ id: "b-1.1", bank: "bank-b" })],
  ["bill.release", () => c.bill.release({ id: "b-1.1" })],
  ["bill.pay", () => c.bill.pay({ id: "b-1" })],
  ["bill.dishonour", () => c.bill.dishonour({ id: "b-1" })],
  ["bill.recourse", () => c.bill.recourse({ id: "b-1", from: "enterprise-a" })],
  [
    "receivable.register",
    () => c.receivable.register({ id: "r-1", debtor: "enterprise-a", amount: 900n, dueMs: NOW + 1000, invoiceRef: "INV-2024-001" }),
  ],
  ["receivable.confirm", () => c.receivable.confirm({ id: "r-1" })],
  ["receivable.transfer", () => c.receivable.transfer({ id: "r-1", to: "bank-b" })],
  [
    "receivable.split",
    () =>
      c.receivable.split({
        id: "r-1",
        parts: [
          { to: "bank-b", amount: 400n },
          { to: "enterprise-a", amount: 500n },
        ],
      }),
  ],
  ["receivable.finance", () => c.receivable.finance({ id: "r-1.1", bank: "bank-b", rateBp: 120 })],
  [
    "receivable.settle",
    () =>
      c.receivable.settle({
        id: "r-1",
        leaves: [
          { id: "r-1.1", holder: "bank-b" },
          { id: "r-1.2", holder: "enterprise-a" },
        ],
      }),
  ],
  ["warehouse.issue", () => c.warehouse.issue({ id: "w-1", owner: "enterprise-a", commodity: "copper cathode", quantity: 25n, unit: "t" })],
  ["warehouse.transfer", () => c.warehouse.transfer({ id: "w-1", to: "bank-b" })],
  ["warehouse.pledge", () => c.warehouse.pledge({ id: "w-1", bank: "bank-b", principal: 1_000_000n, rateBp: 450 })],
  ["warehouse.repay", () => c.warehouse.repay({ id: "w-1", bank: "bank-b" })],
  ["warehouse.release", () => c.warehouse.release({ id: "w-1", holder: "enterprise-a" })],
  [
    "logistics.open",
    () =>
      c.logistics.open({
        id: "p-1",
        shipment: "s-1",
        seller: "enterprise-a",
        amount: 7_000n,
        expiresAtMs: NOW + 5000,
        oracles: ["oracle-a"],
      }),
  ],
  [
    "logistics.open (any oracle)",
    () => c.logistics.open({ id: "p-2", shipment: "s-2", seller: "enterprise-a", amount: 7n, expiresAtMs: NOW }),
  ],
  [
    "logistics.attest",
    () =>
      c.logistics.attest({ shipment: "s-1", kind: "delivered", purchase: "p-1", seller: "enterprise-a", reading: "4.2C", note: "dock 3" }),
  ],
  ["logistics.attest (bare)", () => c.logistics.attest({ shipment: "s-1", kind: "shipped" })],
  ["logistics.release", () => c.logistics.release({ id: "p-1", seller: "enterprise-a" })],
  ["logistics.refund", () => c.logistics.refund({ id: "p-1", buyer: "bank-a" })],
  [
    "bond.register",
    () =>
      c.bond.register({
        bond: "bd-1",
        regulator: "regulator-a",
        faceValue: 100_00n,
        couponRateBp: 425,
        couponsPerYear: 2,
        couponDatesMs: [NOW + 2000, NOW + 3000],
        maturityMs: NOW + 3000,
        sizeUnits: 1000n,
        subscriptionEndMs: NOW + 1000,
        prospectusHash: HASH,
      }),
  ],
  ["bond.subscribe", () => c.bond.subscribe({ bond: "bd-1", units: 10n })],
  ["bond.allot", () => c.bond.allot({ bond: "bd-1", subscribers: ["bank-a", "bank-b"] })],
  ["bond.transfer", () => c.bond.transfer({ bond: "bd-1", seller: "bank-a", buyer: "bank-b", units: 5n, price: 500_00n })],
  ["bond.coupon", () => c.bond.coupon({ bond: "bd-1", couponDateMs: NOW + 2000, holders: ["bank-a"] })],
  ["bond.redeem", () => c.bond.redeem({ bond: "bd-1", holders: [] })],
  ["bond.freeze", () => c.bond.freeze({ bond: "bd-1", holder: "bank-b", reason: "sanctions screening" })],
  ["bond.unfreeze", () => c.bond.unfreeze({ bond: "bd-1", holder: "bank-b" })],
  [
    "trade.list-instrument",
    () => c.trade.listInstrument({ id: "acme", name: "ACME Corp ordinary", lotSize: 100n, alertUnits: 1_000_000n }),
  ],
  ["trade.lodge", () => c.trade.lodge({ instrument: "acme", holder: "bank-b", units: 5000n })],
  ["trade.withdraw", () => c.trade.withdraw({ instrument: "acme", holder: "bank-b", units: 100n })],
  [
    "trade.place-order",
    () =>
      c.trade.placeOrderWithHits({ order: "o-1", instrument: "acme", side: "buy", quantity: 200n, price: 1234n, clearing: "clearing" }, [
        { order: "o-0", owner: "bank-b", clearing: "clearing" },
      ]),
  ],
  [
    "trade.place-order (no book)",
    () =>
      c.trade.placeOrderAgainst(null, { order: "o-2", instrument: "acme", side: "sell", quantity: 100n, price: 1n, clearing: "clearing" }),
  ],
  ["trade.cancel-order", () => c.trade.cancelOrder({ order: "o-1", instrument: "acme", clearing: "clearing" })],
  [
    "data.register",
    () => c.data.register({ hash: HASH, description: "road traffic 2025", price: 50_000n, resale: "allowed", durationMs: 86_400_000 }),
  ],
  ["data.buy", () => c.data.buy({ asset: HASH, license: "l-1", owner: "bank-b" })],
  ["data.resell", () => c.data.resell({ asset: HASH, license: "l-1", to: "bank-b", price: 30_000n }, { coSigners: [SIGNERS.bankB] })],
  ["data.resell (no price)", () => c.data.resell({ asset: HASH, license: "l-1", to: "bank-b" })],
  ["data.access", () => c.data.access({ asset: HASH, license: "l-1", purpose: "model training" })],
  ["points.mint", () => c.points.mint({ to: "bank-b", amount: 1_000n })],
  ["points.transfer", () => c.points.transfer({ issuer: "bank-a", to: "bank-b", amount: 10n, memo: "thanks" })],
  [
    "points.envelope",
    () =>
      c.points.envelope({
        issuer: "bank-a",
        id: "e-1",
        amount: 100n,
        packets: 2,
        recipients: ["bank-b", "clearing"],
        split: "lucky",
        expiresAtMs: NOW + 1000,
      }),
  ],
  ["points.envelope (open)", () => c.points.envelope({ issuer: "bank-a", id: "e-2", amount: 100n, packets: 3, expiresAtMs: NOW + 1000 })],
  ["points.claim", () => c.points.claim({ issuer: "bank-a", id: "e-1" })],
  ["points.refund", () => c.points.refund({ issuer: "bank-a", id: "e-1" })],
  [
    "points.agree-rate",
    () => c.points.agreeRate({ counterparty: "bank-b", units: 10n, counterpartyUnits: 3n }, { coSigners: [SIGNERS.bankB] }),
  ],
  ["points.exchange", () => c.points.exchange({ from: "bank-a", to: "bank-b", amount: 100n })],
  [
    "charity.open",
    () =>
      c.charity.open({
        id: "p-1",
        title: "Village water",
        auditor: "regulator-a",
        milestones: [{ description: "well drilled", amount: 600n, beneficiary: "enterprise-a" }],
      }),
  ],
  ["charity.donate", () => c.charity.donate({ project: "p-1", donation: "d-1", amount: 500n })],
  ["charity.attest", () => c.charity.attest({ project: "p-1", milestone: 1, evidence: HASH })],
  ["charity.disburse", () => c.charity.disburse({ project: "p-1", milestone: 1, beneficiary: "enterprise-a" })],
  ["membership.add-key", () => c.membership.addKey({ keyId: "bank-a-k2", publicKey: KEY_HEX })],
  ["membership.revoke-key", () => c.membership.revokeKey({ keyId: "bank-a-k1" })],
  ["membership.vote", () => c.membership.vote({ proposal: "pr-1", vote: "yes", institution: "bank-c" })],
  ["membership.vote (chain config)", () => c.membership.vote({ proposal: "pr-2", vote: "no" })],
  ...(
    [
      {
        kind: "add-institution",
        institution: "bank-c",
        name: "Bank C",
        roles: ["bank"],
        keys: [{ keyId: "bank-c-k1", publicKey: KEY_HEX }],
      },
      { kind: "change-roles", institution: "bank-b", roles: ["bank", "clearing"] },
      { kind: "rotate-key", institution: "bank-b", oldKeyId: "bank-b-k1", keyId: "bank-b-k2", publicKey: KEY_HEX },
      { kind: "revoke-key", institution: "bank-b", keyId: "bank-b-k1" },
      { kind: "suspend-institution", institution: "bank-b" },
      { kind: "reinstate-institution", institution: "bank-b" },
      { kind: "add-sequencer", sequencerId: "seq-c", publicKey: KEY_HEX },
      { kind: "remove-sequencer", sequencerId: "seq-b" },
      { kind: "set-finality", quorumNumerator: 2, quorumDenominator: 3 },
      { kind: "set-governance", thresholdNumerator: 3, thresholdDenominator: 4 },
      {
        kind: "set-supervision",
        largeTradeAmount: 10_000_000n,
        alertRules: [
          { id: "big-bills", contract: "bill", action: "discount", minAmount: 1_000_000n },
          { id: "big-cash", contract: "cash", minAmount: 5_000_000n },
        ],
        roundTrip: { windowBlocks: 50 },
        concentration: { maxShareBp: 2_500 },
        rejectedAttempts: { count: 3, windowBlocks: 100, reasonCodes: ["INSUFFICIENT_FUNDS"] },
        dishonouredBills: true,
        divergence: true,
      },
    ] as const
  ).map(
    (change) =>
      [`membership.propose (${change.kind})`, () => c.membership.propose({ id: "pr-1", expiresAtMs: NOW + 86_400_000, change })] as const,
  ),
];

describe("every contract helper's args pass the contract's own prepareCommand", () => {
  for (const [name, make] of CASES) {
    test(name, () => {
      const tx = make();
      const d = decoded(tx);
      assert.equal(`${d.contract}.${d.action}`, name.split(" ")[0]);
      const prepared = prepareCommand(builtinContracts, d.contract, d.action, d.args, d.ctx);
      assert.ok(!isRejection(prepared), isRejection(prepared) ? `${prepared.code}: ${prepared.message}` : "");
    });
  }

  test("every action of every builtin contract has a helper case", () => {
    const covered = new Set(CASES.map(([n]) => n.split(" ")[0]));
    const missing = [...builtinContracts.values()]
      .flatMap((k) => Object.keys(k.actions).map((a) => `${k.name}.${a}`))
      .filter((a) => !covered.has(a));
    assert.deepEqual(missing, []);
  });

  test("amounts travel as decimal strings, optional fields absent when not given", () => {
    const d = decoded(c.cash.transfer({ to: "bank-b", amount: 12_345_678_901_234_567_890n }));
    assert.deepEqual(d.args, { to: "bank-b", amount: "12345678901234567890" });
  });

  test("co-signers: given as options, or added by the counterparty's own client with the same tx id", () => {
    const both = c.bill.discount({ id: "b-1", bank: "bank-b", rateBp: 350 }, { coSigners: [SIGNERS.bankB] });
    assert.deepEqual(viewTransaction(both).signers, ["bank-a", "bank-b"]);
    const alone = c.bill.discount({ id: "b-1", bank: "bank-b", rateBp: 350 });
    const bankB = new TallyClient("127.0.0.1:1", CHAIN_ID, SIGNERS.bankB);
    try {
      const cosigned = bankB.cosign(alone);
      assert.deepEqual(cosigned.id, alone.id);
      assert.deepEqual(viewTransaction(cosigned).signers, ["bank-a", "bank-b"]);
      assert.throws(() => bankB.cosign(cosigned), /ALREADY_SIGNED|already signed/);
    } finally {
      bankB.close();
    }
  });
});

// A state store and query runner over the real contracts: what an executor does, without a database.
class LocalLedger implements QueryRunner {
  private readonly store = new Map<string, JsonValue>();
  private height = 0n;
  constructor(private readonly members: ReadonlyMap<string, MemberView>) {}

  apply(tx: SignedTransaction): readonly { type: string }[] {
    const d = decoded(tx);
    this.height += 1n;
    const ctx: TxContext = { ...d.ctx, height: this.height, members: this.members };
    const prepared = prepareCommand(builtinContracts, d.contract, d.action, d.args, ctx);
    if (isRejection(prepared)) throw new Error(`${prepared.code}: ${prepared.message}`);
    const slice = new Map<string, JsonValue>();
    for (const key of prepared.keys) {
      const v = this.store.get(resolveKey(prepared.contract, key).join("\u0000"));
      if (v !== undefined) slice.set(key, v);
    }
    const outcome = runCommand(prepared, slice, ctx);
    if (isRejection(outcome)) throw new Error(`${outcome.code}: ${outcome.message}`);
    for (const [key, v] of outcome.updates) {
      const k = resolveKey(prepared.contract, key).join("\u0000");
      if (v === null) this.store.delete(k);
      else this.store.set(k, v);
    }
    return outcome.events;
  }

  query<T = unknown>(contract: string, query: string, args: unknown = {}): Promise<{ result: T; height: bigint }> {
    const prepared = prepareQuery(builtinContracts, contract, query, args);
    if (isRejection(prepared)) return Promise.reject(new Error(prepared.code));
    const slice = new Map<string, JsonValue>();
    for (const key of prepared.keys) {
      const v = this.store.get(`${contract}\u0000${key}`);
      if (v !== undefined) slice.set(key, v);
    }
    return Promise.resolve({ result: runQuery(prepared, slice) as T, height: this.height });
  }
}

describe("trade.placeOrder computes its hits from the book query", () => {
  // A venue with one resting sell of bank-b's: 300 ACME at 990.
  function venue(): { ledger: LocalLedger; clients: TallyClient[]; as: (s: TxSigner) => TallyClient } {
    const ledger = new LocalLedger(
      new Map<string, MemberView>([
        ["exchange", { roles: ["exchange"] }],
        ["clearing", { roles: ["clearing"] }],
        ["bank-a", { roles: ["bank"] }],
        ["bank-b", { roles: ["bank"] }],
      ]),
    );
    const clients: TallyClient[] = [];
    const as = (s: TxSigner): TallyClient => {
      const x = new TallyClient("127.0.0.1:1", CHAIN_ID, s);
      clients.push(x);
      return x;
    };
    const clearing = as(SIGNERS.clearing);
    ledger.apply(
      as({ ...SIGNERS.bankA, institutionId: "exchange" }).trade.listInstrument({
        id: "acme",
        name: "ACME",
        lotSize: 100n,
        alertUnits: 1_000_000n,
      }),
    );
    ledger.apply(clearing.trade.lodge({ instrument: "acme", holder: "bank-b", units: 1000n }));
    ledger.apply(clearing.cash.issue({ to: "bank-a", amount: 10_000_000n }));
    const sell = { order: "sell-1", instrument: "acme", side: "sell", quantity: 300n, price: 990n, clearing: "clearing" } as const;
    ledger.apply(as(SIGNERS.bankB).trade.placeOrderAgainst(null, sell, { coSigners: [SIGNERS.clearing] }));
    return { ledger, clients, as };
  }

  test("a buy that crosses a resting sell names it, and the contract accepts the match and trades", async () => {
    const { ledger, clients, as } = venue();
    try {
      // placeOrder reads the book through a query runner: here, the real query over the local ledger.
      const trade = new TradeActions(as(SIGNERS.bankA), ledger);
      const buy = await trade.placeOrder(
        { order: "buy-1", instrument: "acme", side: "buy", quantity: 200n, price: 1000n, clearing: "clearing" },
        { coSigners: [SIGNERS.clearing] },
      );
      assert.deepEqual((decoded(buy).args as { hits: unknown }).hits, [{ order: "sell-1", owner: "bank-b", clearing: "clearing" }]);
      const events = ledger.apply(buy).map((e) => e.type);
      assert.ok(
        events.some((t) => /Trade/.test(t)),
        `no trade among ${events.join(", ")}`,
      );

      // Hits that are not what the book says are what the contract refuses.
      const stale = trade.placeOrderWithHits(
        { order: "buy-2", instrument: "acme", side: "buy", quantity: 100n, price: 1000n, clearing: "clearing" },
        [{ order: "sell-x", owner: "bank-b", clearing: "clearing" }],
        { coSigners: [SIGNERS.clearing] },
      );
      assert.throws(() => ledger.apply(stale), /MATCH_MISMATCH/);
    } finally {
      for (const x of clients) x.close();
    }
  });

  test("an order that would hit its owner's own resting order is refused before signing, with the contract's reason", async () => {
    const { ledger, clients, as } = venue();
    try {
      const trade = new TradeActions(as(SIGNERS.bankB), ledger);
      await assert.rejects(
        trade.placeOrder({ order: "buy-3", instrument: "acme", side: "buy", quantity: 100n, price: 1000n, clearing: "clearing" }),
        (e: unknown) => e instanceof TallyError && e.reason === "SELF_MATCH",
      );
    } finally {
      for (const x of clients) x.close();
    }
  });
});

test("set-supervision carries the optional rules (round trips, concentration, rejected attempts, dishonoured bills, divergence)", () => {
  const d = decoded(
    c.membership.propose({
      id: "pr-sup",
      expiresAtMs: NOW + 86_400_000,
      change: {
        kind: "set-supervision",
        largeTradeAmount: 1n,
        alertRules: [],
        roundTrip: { windowBlocks: 10 },
        rejectedAttempts: { count: 2, windowBlocks: 5 },
        divergence: true,
      },
    }),
  );
  assert.deepEqual((d.args as { change: unknown }).change, {
    kind: "set-supervision",
    roundTrip: { windowBlocks: 10 },
    rejectedAttempts: { count: 2, windowBlocks: 5 },
    divergence: true,
    largeTradeAmount: "1",
    alertRules: [],
  });
  const prepared = prepareCommand(builtinContracts, d.contract, d.action, d.args, d.ctx);
  assert.ok(!isRejection(prepared));
});
