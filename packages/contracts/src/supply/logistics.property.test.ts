// Random sequences of logistics acts (open, attest, release, refund) by random signers, most of
// them refused, with invariants checked after every step: cash is conserved both across all cash
// accounts and as members' cash + purchases' escrow; each escrow account holds exactly its
// purchase's escrow; a blocked escrow is never released; every payout goes to the right party;
// shipments and purchases name each other one to one; the portfolio index matches the parties.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { JsonValue } from "@tally/ledger";
import { isRejection, type ContractEvent } from "../contract.js";
import { builtinContracts } from "../registry.js";
import { given } from "../testing/given-when-then.js";
import { TEST_MEMBERS } from "../testing/test-genesis.js";
import { ATTESTATIONS_MAX, logistics } from "./logistics.js";
import { ATTESTATION_KINDS, escrowHolder, purchaseIn, shipmentIn, type Purchase } from "./logistics-state.js";
import { cashBalances, mulberry32, pick, step } from "./property-harness.js";

const contracts = new Map([...builtinContracts, [logistics.name, logistics]]);
const MEMBERS = new Map([...TEST_MEMBERS, ["oracle-b", { roles: ["oracle"] }]]);
const TRADERS = ["ent-a", "ent-b", "ent-c", "bank-a"];
const ORACLES = ["oracle-a", "oracle-b"];
const ACTORS = [...TRADERS, ...ORACLES, "wh-a", "reg"];
// One purchase per shipment, ever, and ids are never reused: enough of both to keep trading.
const PURCHASES = Array.from({ length: 20 }, (_, i) => `p-${i + 1}`);
const SHIPMENTS = Array.from({ length: 24 }, (_, i) => `s-${i + 1}`);
const ACTIONS = ["open", "open", "attest", "attest", "attest", "attest", "release", "refund"];
const STEPS = 300;
const SEEDS = [3, 11, 57, 4242, 77_777];
const START_MS = 1_700_000_000_000;
const HOUR_MS = 3_600_000;

function cashIssued(to: string, amount: string): ContractEvent {
  return { contract: "cash", type: "CashIssued", assetId: `acct/${to}`, parties: ["clear-a", to], data: { issuer: "clear-a", to, amount } };
}

const FUNDING = TRADERS.map((t) => cashIssued(t, "20000"));

function purchases(state: ReadonlyMap<string, JsonValue>): Purchase[] {
  return PURCHASES.map((id) => purchaseIn(state, id)).filter((p): p is Purchase => p !== undefined);
}

function checkInvariants(state: ReadonlyMap<string, JsonValue>, startTotal: bigint, everBlocked: ReadonlySet<string>): void {
  const balances = cashBalances(state);
  let all = 0n;
  let members = 0n;
  for (const [holder, b] of balances) {
    assert.ok(b >= 0n, `${holder} negative`);
    all += b;
    if (!holder.includes("/")) members += b;
  }
  assert.equal(all, startTotal, "cash is conserved across all cash accounts");
  const ps = purchases(state);
  const escrowed = ps.reduce((sum, p) => sum + p.escrow, 0n);
  assert.equal(members + escrowed, startTotal, "members' cash + escrow is conserved");
  const heldKeys = [...state.keys()].filter((k) => k.startsWith("held/")).sort();
  const expectedHeld: string[] = [];
  for (const p of ps) {
    assert.equal(balances.get(escrowHolder(p.id)) ?? 0n, p.escrow, `${p.id} escrow account`);
    const holding = p.status === "funded" || p.status === "blocked";
    assert.equal(p.escrow, holding ? p.amount : 0n, `${p.id} escrow in status ${p.status}`);
    assert.equal(p.settledAtMs === null, holding);
    if (everBlocked.has(p.id)) assert.notEqual(p.status, "released", `${p.id} released after a breach`);
    const s = shipmentIn(state, p.shipment);
    assert.equal(s?.purchase, p.id, `${p.shipment} names ${p.id}`);
    assert.equal(s.seller, p.seller);
    expectedHeld.push(`held/${p.buyer}/purchase/${p.id}`, `held/${p.seller}/purchase/${p.id}`);
  }
  assert.deepEqual(heldKeys, expectedHeld.sort(), "portfolio index matches the purchases' parties");
  for (const id of SHIPMENTS) {
    const s = shipmentIn(state, id);
    if (s === undefined) continue;
    assert.ok(s.attestations.length <= ATTESTATIONS_MAX);
    assert.deepEqual(
      s.attestations.map((a) => a.seq),
      s.attestations.map((_, i) => i + 1),
    );
    assert.equal(
      s.delivered,
      s.attestations.some((a) => a.kind === "delivered"),
    );
    assert.equal(
      s.breached,
      s.attestations.some((a) => a.kind === "temperature-breach"),
    );
    if (s.purchase !== null) assert.equal(purchaseIn(state, s.purchase)?.shipment, id);
  }
}

function randomCommand(rand: () => number, state: ReadonlyMap<string, JsonValue>, now: number): [string, string, string[], object] {
  const likely = <T>(right: T | undefined, any: readonly T[]): T => (right !== undefined && rand() < 0.85 ? right : pick(rand, any));
  const action = pick(rand, ACTIONS);
  switch (action) {
    case "open": {
      const buyer = likely(pick(rand, TRADERS), ACTORS);
      const seller = pick(rand, TRADERS);
      const oracles = pick(rand, [undefined, ["oracle-a"], ["oracle-b"], ["oracle-a", "oracle-b"]]);
      const args = {
        id: pick(rand, PURCHASES),
        shipment: pick(rand, SHIPMENTS),
        seller,
        amount: String(1 + Math.floor(rand() * 8000)),
        expiresAtMs: now + Math.floor((rand() - 0.1) * 48 * HOUR_MS),
        ...(oracles === undefined ? {} : { oracles }),
      };
      return [buyer, action, rand() < 0.85 ? [seller] : [], args];
    }
    case "attest": {
      // Mostly about a shipment somebody bought, else a shipment nobody bought is soon delivered.
      const bought = purchases(state).map((p) => p.shipment);
      const shipment = bought.length > 0 && rand() < 0.8 ? pick(rand, bought) : pick(rand, SHIPMENTS);
      const waiting = shipmentIn(state, shipment);
      const named = waiting?.purchase !== null && waiting !== undefined && rand() < 0.9;
      const args = {
        shipment,
        kind: pick(rand, ATTESTATION_KINDS),
        ...(named ? { purchase: waiting.purchase, seller: likely(waiting.seller ?? undefined, TRADERS) } : {}),
      };
      return [likely(pick(rand, ORACLES), ACTORS), action, [], args];
    }
    default: {
      const p = purchaseIn(state, pick(rand, PURCHASES));
      const id = p?.id ?? pick(rand, PURCHASES);
      if (action === "release") return [likely(p?.buyer, ACTORS), action, [], { id, seller: likely(p?.seller, TRADERS) }];
      const signer = likely(p === undefined ? undefined : pick(rand, [p.buyer, p.seller]), ACTORS);
      return [signer, action, rand() < 0.5 && p !== undefined ? [p.seller] : [], { id, buyer: likely(p?.buyer, TRADERS) }];
    }
  }
}

for (const seed of SEEDS) {
  test(`logistics property, seed ${seed}: ${STEPS} random acts keep the invariants`, () => {
    const rand = mulberry32(seed);
    const state = new Map(given("logistics", FUNDING, contracts).state);
    const startTotal = [...cashBalances(state).values()].reduce((a, b) => a + b, 0n);
    const everBlocked = new Set<string>();
    const accepted = new Map<string, number>();
    let now = START_MS;
    for (let i = 0; i < STEPS; i++) {
      now += Math.floor(rand() * 6 * HOUR_MS);
      const [signer, action, cosigners, args] = randomCommand(rand, state, now);
      const signers = [signer, ...cosigners.filter((c) => c !== signer)];
      const before = new Map(purchases(state).map((p) => [p.id, p]));
      const out = step(contracts, "logistics", state, signer, action, args, { blockTimeMs: now, signers, members: MEMBERS });
      if (isRejection(out)) {
        assert.match(out.code, /^[A-Z_]+$/);
        checkInvariants(state, startTotal, everBlocked);
        continue;
      }
      for (const e of out.events) {
        accepted.set(e.type, (accepted.get(e.type) ?? 0) + 1);
        const { id: blockedId, from } = e.data;
        if (e.type === "EscrowBlocked" && typeof blockedId === "string") everBlocked.add(blockedId);
        if (e.contract !== "cash" || typeof from !== "string" || !from.includes("/")) continue;
        // A payout from an escrow account: all of it, to the seller on release, to the buyer on refund.
        const id = from.slice(escrowHolder("").length);
        const p = before.get(id);
        const after = purchaseIn(state, id);
        assert.ok(p && after);
        assert.equal(e.data.amount, p.amount.toString());
        assert.equal(e.data.to, after.status === "released" ? p.seller : p.buyer);
        if (after.status === "released" && action === "attest") {
          assert.equal((args as { kind: string }).kind, "delivered");
          assert.ok(p.oracles === null || p.oracles.includes(signer), "released on an untrusted oracle's word");
        }
        if (after.status === "refunded" && !signers.includes(p.seller))
          assert.ok(now >= p.expiresAtMs, "refunded early without the seller");
      }
      checkInvariants(state, startTotal, everBlocked);
    }
    for (const type of ["PurchaseOpened", "ShipmentAttested", "EscrowReleased", "EscrowBlocked", "EscrowRefunded"]) {
      assert.ok((accepted.get(type) ?? 0) > 0, `no ${type} in seed ${seed}`);
    }
  });
}
