// Random sequences of warehouse acts by random signers, most of them refused, with invariants
// checked after every step: cash is conserved, every active receipt has exactly one holder and one
// portfolio entry, collateral entries match pledges, a pledged receipt never changes hands, and
// repayments charge exactly the interest rule.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { JsonValue } from "@tally/ledger";
import { isRejection, type ContractEvent } from "../contract.js";
import { builtinContracts } from "../registry.js";
import { given } from "../testing/given-when-then.js";
import { cashBalances, mulberry32, pick, step } from "./property-harness.js";
import { warehouse } from "./warehouse.js";
import { DAY_MS, loanInterest, receiptIn, type Receipt } from "./warehouse-state.js";

const contracts = new Map([...builtinContracts, [warehouse.name, warehouse]]);
const ACTORS = ["wh-a", "ent-a", "ent-b", "ent-c", "bank-a", "bank-b", "reg"];
// Ids are never reused, so a released receipt is dead: enough of them to keep the life going.
const IDS = Array.from({ length: 12 }, (_, i) => `r-${i + 1}`);
const BANKS = ["bank-a", "bank-b", "clear-a"];
const STEPS = 300;
const ACTIONS = ["issue", "issue", "transfer", "transfer", "transfer", "pledge", "pledge", "pledge", "repay", "repay", "repay", "release"];
const SEEDS = [1, 7, 42, 2024, 99_991];
const START_MS = 1_700_000_000_000;

function cashIssued(to: string, amount: string): ContractEvent {
  return { contract: "cash", type: "CashIssued", assetId: `acct/${to}`, parties: ["clear-a", to], data: { issuer: "clear-a", to, amount } };
}

const FUNDING = [
  cashIssued("bank-a", "10000000"),
  cashIssued("bank-b", "10000000"),
  cashIssued("ent-a", "200000"),
  cashIssued("ent-b", "200000"),
  cashIssued("ent-c", "200000"),
];

function total(state: ReadonlyMap<string, JsonValue>): bigint {
  let sum = 0n;
  for (const b of cashBalances(state).values()) {
    assert.ok(b >= 0n, "a negative balance");
    sum += b;
  }
  return sum;
}

// Mostly plausible args (the right holder, a real bank), sometimes anything: both paths get exercised.
function randomArgs(rand: () => number, action: string, id: string, r: Receipt | undefined): Record<string, unknown> {
  const likely = (right: string | undefined) => (right !== undefined && rand() < 0.75 ? right : pick(rand, ACTORS));
  switch (action) {
    case "issue":
      return { id, owner: pick(rand, ACTORS), commodity: "wheat", quantity: String(1 + Math.floor(rand() * 1000)), unit: "t" };
    case "transfer":
      return { id, to: pick(rand, ACTORS) };
    case "pledge":
      return {
        id,
        bank: likely(pick(rand, BANKS)),
        principal: String(1 + Math.floor(rand() * 300_000)),
        rateBp: Math.floor(rand() * 2000),
      };
    case "repay":
      return { id, bank: likely(r?.pledge?.bank) };
    default:
      return { id, holder: likely(r?.holder) };
  }
}

// Who should sign the body, and who else must co-sign, for the act to go through.
function rightSigners(action: string, args: Record<string, unknown>, r: Receipt | undefined): [string | undefined, string | undefined] {
  switch (action) {
    case "issue":
      return ["wh-a", undefined];
    case "release":
      return [r?.warehouse, r?.holder];
    case "pledge":
      return [r?.holder, String(args.bank)];
    default:
      return [r?.holder, undefined];
  }
}

function checkInvariants(state: ReadonlyMap<string, JsonValue>, startTotal: bigint, pledgedHolder: ReadonlyMap<string, string>): void {
  assert.equal(total(state), startTotal, "cash is conserved");
  for (const id of IDS) {
    const r = receiptIn(state, id);
    const held = [...state.keys()].filter((k) => k.startsWith("held/") && k.endsWith(`/receipt/${id}`));
    const pledgedKeys = [...state.keys()].filter((k) => k.startsWith("pledged/") && k.endsWith(`/receipt/${id}`));
    if (r === undefined) {
      assert.deepEqual([...held, ...pledgedKeys], [], `${id} indexed but absent`);
      continue;
    }
    assert.ok(r.quantity > 0n);
    assert.deepEqual(r.parties, [...new Set(r.parties)].sort(), `${id} parties sorted and unique`);
    assert.ok(r.parties.includes(r.holder) && r.parties.includes(r.warehouse));
    if (r.status === "active") assert.deepEqual(held, [`held/${r.holder}/receipt/${id}`], `${id} has one holder`);
    else {
      assert.deepEqual(held, [], `${id} released but still held`);
      assert.equal(r.pledge, null, `${id} released under pledge`);
    }
    assert.deepEqual(pledgedKeys, r.pledge === null ? [] : [`pledged/${r.pledge.bank}/receipt/${id}`], `${id} collateral index`);
    if (r.pledge !== null) {
      assert.ok(r.parties.includes(r.pledge.bank));
      assert.notEqual(r.pledge.bank, r.holder);
      assert.equal(pledgedHolder.get(id), r.holder, `${id} changed hands while pledged`);
    }
  }
}

for (const seed of SEEDS) {
  test(`warehouse property, seed ${seed}: ${STEPS} random acts keep the invariants`, () => {
    const rand = mulberry32(seed);
    const state = new Map(given("warehouse", FUNDING, contracts).state);
    const startTotal = total(state);
    const pledgedHolder = new Map<string, string>();
    const accepted = new Map<string, number>();
    let now = START_MS;
    for (let i = 0; i < STEPS; i++) {
      now += Math.floor(rand() * 3 * DAY_MS);
      const action = pick(rand, ACTIONS);
      const id = pick(rand, IDS);
      const before = receiptIn(state, id);
      const args = randomArgs(rand, action, id, before);
      const [rightSigner, rightCosigner] = rightSigners(action, args, before);
      const signer = rightSigner !== undefined && rand() < 0.75 ? rightSigner : pick(rand, ACTORS);
      const cosigners = ACTORS.filter((a) => a !== signer && (rand() < 0.2 || (a === rightCosigner && rand() < 0.8)));
      const out = step(contracts, "warehouse", state, signer, action, args, { blockTimeMs: now, signers: [signer, ...cosigners] });
      if (isRejection(out)) {
        assert.match(out.code, /^[A-Z_]+$/);
        checkInvariants(state, startTotal, pledgedHolder);
        continue;
      }
      accepted.set(action, (accepted.get(action) ?? 0) + 1);
      if (action === "pledge") {
        pledgedHolder.set(id, signer);
        assert.ok(cosigners.includes(String(args.bank)), "pledged without the bank's signature");
      }
      if (action === "repay") {
        assert.ok(before?.pledge);
        const expected = loanInterest(before.pledge.principal, before.pledge.rateBp, before.pledge.disbursedAtMs, now);
        const data = out.events[0]?.data;
        assert.equal(data?.interest, expected.interest.toString());
        assert.equal(data?.total, (before.pledge.principal + expected.interest).toString());
        pledgedHolder.delete(id);
      }
      // The holder may be the warehouse itself (a receipt can be transferred to it), signing once.
      if (action === "release")
        assert.ok([signer, ...cosigners].includes(String(before?.holder)), "released without the holder's signature");
      checkInvariants(state, startTotal, pledgedHolder);
    }
    // The run must exercise the whole life, not only rejections.
    for (const action of ["issue", "transfer", "pledge", "repay", "release"])
      assert.ok((accepted.get(action) ?? 0) > 0, `no ${action} accepted`);
  });
}
