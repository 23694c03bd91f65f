// Property test: random sequences of bond acts by random signers at advancing block times (most
// rejected, which is fine), folding accepted outcomes into the state, and after every step the
// invariants: cash is conserved, units are conserved (holdings sum to what was allotted), the
// holder set and the portfolio index match the holdings, nothing is negative.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { JsonValue } from "@tally/ledger";
import { isRejection } from "../contract.js";
import { prepareCommand, runCommand } from "../run.js";
import { readDecimal, readObject } from "../state-read.js";
import { testContext } from "../testing/given-when-then.js";
import { HOLDERS_MAX } from "./bond-commands.js";
import { BOND_CONTRACTS, cashIssued, DAY_MS, givenBond, prospectus, T0_MS } from "./bond-fixtures.js";
import { readBond, readHolding, type Bond } from "./bond-state.js";
import { mulberry32 } from "../testing/prng.js";

const INVESTORS = ["bank-a", "bank-b", "ent-a", "ent-b", "ent-c", "clear-a"];
const SIGNERS = [...INVESTORS, "issuer-a", "reg"];
const BONDS = [
  // 1000 units of 100, 5% paid twice; rarely oversubscribed.
  prospectus({ bond: "b-1", subscriptionEndMs: T0_MS + 20 * DAY_MS, couponDatesMs: [T0_MS + 100 * DAY_MS, T0_MS + 200 * DAY_MS] }),
  // 50 units of 7, 9.5% paid four times; always oversubscribed.
  prospectus({
    bond: "b-2",
    faceValue: "7",
    sizeUnits: "50",
    couponRateBp: 950,
    couponsPerYear: 4,
    subscriptionEndMs: T0_MS + 30 * DAY_MS,
    couponDatesMs: [T0_MS + 60 * DAY_MS, T0_MS + 90 * DAY_MS, T0_MS + 120 * DAY_MS, T0_MS + 150 * DAY_MS],
    maturityMs: T0_MS + 150 * DAY_MS,
  }),
];

type State = Map<string, JsonValue>;

function bondOf(state: State, id: string): Bond | undefined {
  const v = state.get(`bond/${id}`);
  return v === undefined ? undefined : readBond(v, id);
}

function cashTotal(state: State): bigint {
  let total = 0n;
  for (const [k, v] of state) {
    if (!k.startsWith("cash:acct/")) continue;
    const balance = readDecimal(readObject(v, k), "balance", k);
    assert.ok(balance >= 0n, `${k} is negative`);
    total += balance;
  }
  return total;
}

function checkInvariants(state: State, cashAtStart: bigint, where: string): void {
  assert.equal(cashTotal(state), cashAtStart, `${where}: cash is not conserved`);
  for (const id of ["b-1", "b-2"]) {
    const bond = bondOf(state, id);
    if (bond === undefined) continue;
    const prefix = `holding/${id}/`;
    const holdings = [...state].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => readHolding(v, k));
    const sum = holdings.reduce((s, h) => s + h.units, 0n);
    const holders = holdings.map((h) => h.holder).sort();
    assert.deepEqual(bond.holders, holders, `${where}: holders of ${id} do not match its holdings`);
    assert.ok(holders.length <= HOLDERS_MAX);
    if (bond.status === "allotted") assert.equal(sum, bond.unitsAllotted, `${where}: units of ${id} are not conserved`);
    else assert.equal(sum, 0n, `${where}: ${id} is ${bond.status} yet has holdings`);
    assert.ok(bond.unitsAllotted <= bond.sizeUnits);
    for (const h of holdings) {
      assert.ok(h.units > 0n, `${where}: an empty holding`);
      assert.equal(h.bond, id);
      assert.deepEqual(state.get(`held/${h.holder}/bond/${id}`), { bond: id, units: h.units.toString(), holding: `${prefix}${h.holder}` });
    }
    for (const s of bond.subscriptions) assert.ok(s.units > 0n && s.units <= bond.sizeUnits);
    assert.equal(new Set(bond.couponsPaidMs).size, bond.couponsPaidMs.length);
    for (const d of bond.couponsPaidMs) assert.ok(bond.couponDatesMs.includes(d));
  }
  // Every index entry has its holding.
  for (const k of state.keys()) {
    const m = /^held\/([^/]+)\/bond\/([^/]+)$/.exec(k);
    if (m !== null) assert.ok(state.has(`holding/${m[2]}/${m[1]}`), `${where}: index entry ${k} without a holding`);
  }
}

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}

// A holder list: the right one most of the time, otherwise one holder short or one too many.
function holderList(rand: () => number, right: readonly string[]): string[] {
  const r = rand();
  if (r < 0.8) return [...right];
  if (r < 0.9) return right.slice(1);
  return [...new Set([...right, pick(rand, INVESTORS)])];
}

function randomCommand(
  rand: () => number,
  state: State,
  nowMs: number,
): { signer: string; action: string; args: unknown; signers: string[] } {
  const id = pick(rand, ["b-1", "b-2"]);
  const bond = bondOf(state, id);
  const issuerOr = (p: number): string => (rand() < p ? "issuer-a" : pick(rand, SIGNERS));
  const r = rand();
  if (r < 0.22) {
    const investor = pick(rand, SIGNERS);
    return { signer: investor, action: "subscribe", args: { bond: id, units: String(1 + Math.floor(rand() * 60)) }, signers: [investor] };
  }
  if (r < 0.3) {
    const subscribers = holderList(rand, bond?.subscriptions.map((s) => s.investor) ?? []);
    return { signer: issuerOr(0.8), action: "allot", args: { bond: id, subscribers }, signers: [] };
  }
  if (r < 0.72) {
    const seller = pick(rand, bond !== undefined && bond.holders.length > 0 && rand() < 0.9 ? bond.holders : SIGNERS);
    const buyer = pick(rand, rand() < 0.9 ? INVESTORS : SIGNERS);
    // Mostly within the seller's holding, sometimes beyond it.
    const held = Number((state.get(`holding/${id}/${seller}`) as { units?: string } | undefined)?.units ?? "10");
    const units = String(1 + Math.floor(rand() * held * 1.2));
    const price = String(1 + Math.floor(rand() * 20000));
    const signers = rand() < 0.85 ? [seller, buyer] : [seller];
    return { signer: seller, action: "transfer", args: { bond: id, seller, buyer, units, price }, signers };
  }
  if (r < 0.86) {
    const dates = bond?.couponDatesMs ?? [nowMs];
    const couponDateMs = rand() < 0.9 ? pick(rand, dates) : nowMs;
    return {
      signer: issuerOr(0.85),
      action: "coupon",
      args: { bond: id, couponDateMs, holders: holderList(rand, bond?.holders ?? []) },
      signers: [],
    };
  }
  if (r < 0.93) {
    return { signer: issuerOr(0.85), action: "redeem", args: { bond: id, holders: holderList(rand, bond?.holders ?? []) }, signers: [] };
  }
  const holder = pick(rand, bond !== undefined && bond.holders.length > 0 && rand() < 0.8 ? bond.holders : INVESTORS);
  const action = rand() < 0.5 ? "freeze" : "unfreeze";
  return { signer: rand() < 0.85 ? "reg" : pick(rand, SIGNERS), action, args: { bond: id, holder }, signers: [] };
}

function runSeed(seed: number, steps: number, accepted: Map<string, number>): void {
  const rand = mulberry32(seed);
  // Starting cash, random per institution: some investors will be short at allotment.
  const funding = [...INVESTORS, "issuer-a"].map((who) =>
    cashIssued(who, String(1 + Math.floor(rand() * (who === "issuer-a" ? 400_000 : 80_000)))),
  );
  const state: State = new Map(givenBond(funding).state);
  const apply = (updates: ReadonlyMap<string, JsonValue | null>): void => {
    for (const [k, v] of updates) {
      if (v === null) state.delete(k);
      else state.set(k, v);
    }
  };
  const run = (signer: string, action: string, args: unknown, signers: string[], nowMs: number): boolean => {
    const ctx = testContext(signer, { blockTimeMs: nowMs, signers: [signer, ...signers.filter((s) => s !== signer)] });
    const prepared = prepareCommand(BOND_CONTRACTS, "bond", action, args, ctx);
    if (isRejection(prepared)) return false;
    const slice = new Map<string, JsonValue>();
    for (const k of prepared.keys) {
      const v = state.get(k);
      if (v !== undefined) slice.set(k, v);
    }
    const outcome = runCommand(prepared, slice, ctx);
    if (isRejection(outcome)) return false;
    apply(outcome.updates);
    return true;
  };
  for (const b of BONDS) assert.ok(run("issuer-a", "register", b, [], T0_MS));
  const cashAtStart = cashTotal(state);
  checkInvariants(state, cashAtStart, `seed ${seed} start`);
  let nowMs = T0_MS;
  for (let step = 0; step < steps; step++) {
    nowMs += Math.floor(rand() * 1.8 * DAY_MS);
    const cmd = randomCommand(rand, state, nowMs);
    if (run(cmd.signer, cmd.action, cmd.args, cmd.signers, nowMs)) accepted.set(cmd.action, (accepted.get(cmd.action) ?? 0) + 1);
    checkInvariants(state, cashAtStart, `seed ${seed} step ${step} ${cmd.action}`);
  }
}

test("bond property: cash and units are conserved, holders and the portfolio index match, over random histories", () => {
  const accepted = new Map<string, number>();
  for (const seed of [1, 7, 42, 1234, 99_999, 31_337]) runSeed(seed, 250, accepted);
  // The sequences must reach every act, or the invariants prove little.
  for (const action of ["subscribe", "allot", "transfer", "coupon", "redeem", "freeze", "unfreeze"]) {
    assert.ok((accepted.get(action) ?? 0) > 0, `no ${action} was ever accepted: ${JSON.stringify([...accepted])}`);
  }
});
