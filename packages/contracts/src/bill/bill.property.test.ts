// Random sequences of bill acts by random signers (most refused), folding what is accepted, and
// checking after every step that cash is conserved, splits add up, every held bill has exactly one
// portfolio entry under its holder, and nothing is negative.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { JsonValue } from "@tally/ledger";
import { isRejection } from "../contract.js";
import { prepareCommand, runCommand } from "../run.js";
import { testContext } from "../testing/given-when-then.js";
import { DAY_MS, HELD_STATES, readBill, type Bill } from "./bill-state.js";
import { CONTRACTS, FUNDING, T0, givenBill } from "./bill-test-fixtures.js";
import { mulberry32 } from "../testing/prng.js";

const PEOPLE = ["ent-a", "ent-b", "ent-c", "issuer-a", "bank-a", "bank-b", "clear-a", "reg", "wh-a"];
const STEPS = 250;

function bills(state: ReadonlyMap<string, JsonValue>): Bill[] {
  return [...state].filter(([k]) => k.startsWith("bill/")).map(([k, v]) => readBill(v, k));
}

function cashTotal(state: ReadonlyMap<string, JsonValue>): bigint {
  let total = 0n;
  for (const [k, v] of state) {
    if (!k.startsWith("cash:acct/")) continue;
    const balance = BigInt((v as { balance: string }).balance);
    assert.ok(balance >= 0n, `${k} is negative`);
    total += balance;
  }
  return total;
}

function checkInvariants(state: ReadonlyMap<string, JsonValue>, cash: bigint, where: string): void {
  assert.equal(cashTotal(state), cash, `${where}: cash is conserved`);
  const all = bills(state);
  const byId = new Map(all.map((b) => [b.id, b]));
  const expectedHeld = new Map<string, string>();
  for (const b of all) {
    assert.ok(b.amount > 0n, `${where}: ${b.id} has a positive amount`);
    assert.equal(b.pledgee !== null, b.state === "pledged", `${where}: ${b.id} has a pledgee exactly while pledged`);
    assert.equal(b.endorsements.at(-1)?.to ?? b.drawer, b.holder, `${where}: ${b.id}'s chain ends at its holder`);
    if (b.state === "split") {
      assert.ok(b.children.length >= 2, `${where}: ${b.id} has children`);
      const sum = b.children.reduce((a, id) => {
        const child = byId.get(id);
        assert.ok(child !== undefined && child.parent === b.id, `${where}: ${id} is a child of ${b.id}`);
        return a + child.amount;
      }, 0n);
      assert.equal(sum, b.amount, `${where}: the children of ${b.id} sum to it`);
    } else {
      assert.equal(b.children.length, 0, `${where}: only a split bill has children`);
    }
    if (HELD_STATES.includes(b.state)) expectedHeld.set(`held/${b.holder}/bill/${b.id}`, b.amount.toString());
  }
  const held = new Map([...state].filter(([k]) => k.startsWith("held/")).map(([k, v]) => [k, (v as { amount: string }).amount]));
  assert.deepEqual(held, expectedHeld, `${where}: the portfolio index matches the holders`);
}

function pick<T>(rand: () => number, xs: readonly T[]): T {
  const x = xs[Math.floor(rand() * xs.length)];
  if (x === undefined) throw new Error("pick from nothing");
  return x;
}

function randomAmounts(rand: () => number, total: bigint): string[] {
  const n = 2 + Math.floor(rand() * 3);
  if (rand() < 0.2) return Array.from({ length: n }, () => String(1 + Math.floor(rand() * 1000)));
  const out: bigint[] = [];
  let left = total;
  for (let i = 0; i < n - 1 && left > 1n; i++) {
    const part = 1n + BigInt(Math.floor(rand() * Number(left - 1n)));
    out.push(part);
    left -= part;
  }
  out.push(left);
  return out.map(String);
}

// A command that might be accepted: usually about a bill that exists, signed by a likely party.
function randomCommand(rand: () => number, state: ReadonlyMap<string, JsonValue>, now: number, n: number) {
  const all = bills(state);
  const live = all.filter((x) => HELD_STATES.includes(x.state));
  const pool = live.length > 0 && rand() < 0.8 ? live : all;
  const b = pool.length > 0 && rand() < 0.9 ? pick(rand, pool) : undefined;
  const id = b?.id ?? `b-${n}`;
  const someone = (): string => pick(rand, PEOPLE);
  const likely = (who: string | null | undefined): string => (who !== null && who !== undefined && rand() < 0.7 ? who : someone());
  const amount = b?.amount ?? 1000n;
  const acts: [string, () => { signer: string; args: Record<string, unknown>; cosign: string[] }][] = [
    [
      "issue",
      () => ({
        signer: likely("ent-a"),
        args: {
          id: `b-${n}`,
          payee: likely("ent-b"),
          acceptor: likely(pick(rand, ["ent-c", "bank-a", "ent-a"])),
          amount: String(1 + Math.floor(rand() * 1_000_000)),
          dueMs: now + Math.floor(rand() * 60 * DAY_MS),
        },
        cosign: [],
      }),
    ],
    ["accept", () => ({ signer: likely(b?.acceptor), args: { id }, cosign: [] })],
    ["void", () => ({ signer: likely(b?.drawer), args: { id }, cosign: [] })],
    ["endorse", () => ({ signer: likely(b?.holder), args: { id, to: rand() < 0.5 ? (b?.payee ?? someone()) : someone() }, cosign: [] })],
    ["split", () => ({ signer: likely(b?.holder), args: { id, amounts: randomAmounts(rand, amount) }, cosign: [] })],
    [
      "discount",
      () => ({
        signer: likely(b?.holder),
        args: { id, bank: pick(rand, ["bank-a", "bank-b", "clear-a", "ent-c"]), rateBp: Math.floor(rand() * 2000) },
        cosign: [someone()],
      }),
    ],
    ["pledge", () => ({ signer: likely(b?.holder), args: { id, bank: pick(rand, ["bank-a", "bank-b", "ent-c"]) }, cosign: [someone()] })],
    ["release", () => ({ signer: likely(b?.pledgee), args: { id }, cosign: [] })],
    ["pay", () => ({ signer: likely(b?.holder), args: { id }, cosign: [likely(b?.acceptor)] })],
    ["dishonour", () => ({ signer: likely(b?.holder), args: { id }, cosign: [] })],
    ["recourse", () => ({ signer: likely(b?.holder), args: { id, from: likely(b?.endorsements[0]?.from) }, cosign: [someone()] })],
  ];
  // Half the time, an act that fits the bill's state, so that the walk reaches the end of bills' lives.
  const fitting: Partial<Record<string, readonly string[]>> = {
    issued: ["accept", "void"],
    accepted: ["endorse", "split", "discount", "pledge", "pay", "dishonour"],
    pledged: ["release"],
    dishonoured: ["recourse"],
  };
  const fits = b === undefined ? undefined : fitting[b.state];
  const wanted = fits !== undefined && rand() < 0.5 ? pick(rand, fits) : undefined;
  const [action, make] = wanted === undefined ? pick(rand, acts) : (acts.find(([a]) => a === wanted) ?? pick(rand, acts));
  const { signer, args, cosign } = make();
  // A co-signer is usually the party the act names.
  const named = [args.bank, args.from].filter((x): x is string => typeof x === "string");
  const cosigners = rand() < 0.7 ? [...named, ...cosign] : cosign;
  return { action, signer, args, signers: [signer, ...cosigners.filter((c) => c !== signer)] };
}

function runSeed(seed: number, accepted: Map<string, number>): void {
  const rand = mulberry32(seed);
  const state = new Map(givenBill(FUNDING).state);
  const cash = cashTotal(state);
  let now = T0;
  for (let step = 0; step < STEPS; step++) {
    now += Math.floor(rand() * 0.5 * DAY_MS);
    const c = randomCommand(rand, state, now, step);
    const ctx = testContext(c.signer, { blockTimeMs: now, signers: c.signers, txId: step.toString(16).padStart(64, "0") });
    const prepared = prepareCommand(CONTRACTS, "bill", c.action, c.args, ctx);
    if (isRejection(prepared)) continue;
    const slice = new Map<string, JsonValue>();
    for (const k of prepared.keys) {
      const v = state.get(k);
      if (v !== undefined) slice.set(k, v);
    }
    const outcome = runCommand(prepared, slice, ctx);
    if (isRejection(outcome)) continue;
    accepted.set(c.action, (accepted.get(c.action) ?? 0) + 1);
    for (const [k, v] of outcome.updates) {
      if (v === null) state.delete(k);
      else state.set(k, v);
    }
    checkInvariants(state, cash, `seed ${seed} step ${step} ${c.signer} ${c.action} ${JSON.stringify(c.args)}`);
  }
}

test("random bill histories keep cash conserved, splits summed and the portfolio index true", () => {
  const accepted = new Map<string, number>();
  for (const seed of [1, 2, 3, 42, 1337, 20240601, 7, 99]) runSeed(seed, accepted);
  // The walk reaches every act, so the invariants were checked after each kind.
  for (const action of ["issue", "accept", "void", "endorse", "split", "discount", "pledge", "release", "pay", "dishonour", "recourse"]) {
    assert.ok((accepted.get(action) ?? 0) > 0, `${action} was never accepted: ${JSON.stringify([...accepted])}`);
  }
});
