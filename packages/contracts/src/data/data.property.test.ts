// Random sequences of data acts by random signers at random times (many refused), folding what is
// accepted, and checking after every step that cash is conserved and never negative, that every
// license's chain of holders is contiguous and ends at its holder, that only a resellable license
// ever changed hands, and that each asset counts the licenses sold on it.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { JsonValue } from "@tally/ledger";
import { isRejection } from "../contract.js";
import { builtinContracts } from "../registry.js";
import { prepareCommand, runCommand } from "../run.js";
import { given, testContext } from "../testing/given-when-then.js";
import { mulberry32 } from "../testing/prng.js";
import { SCENARIO_MEMBERS, T0, cashIssued } from "../testing/scenario-fixtures.js";
import { readAsset, readLicense } from "./data-state.js";

const PEOPLE = ["ent-a", "ent-b", "ent-c", "bank-a", "bank-b", "reg"];
const HASHES = ["a1", "b2", "c3", "d4"].map((h) => h.repeat(32));
const STEPS = 250;
const HOUR = 3_600_000;

function pick<T>(rand: () => number, xs: readonly T[]): T {
  const x = xs[Math.floor(rand() * xs.length)];
  if (x === undefined) throw new Error("pick from nothing");
  return x;
}

function checkInvariants(state: ReadonlyMap<string, JsonValue>, total: bigint, where: string): void {
  let sum = 0n;
  for (const [k, v] of state) {
    if (!k.startsWith("cash:acct/")) continue;
    const b = BigInt((v as { balance: string }).balance);
    assert.ok(b >= 0n, `${where}: ${k} is negative`);
    sum += b;
  }
  assert.equal(sum, total, `${where}: cash is conserved`);
  const licenses = [...state].filter(([k]) => k.startsWith("license/")).map(([k, v]) => readLicense(v, k));
  for (const [k, v] of state) {
    if (!k.startsWith("asset/")) continue;
    const a = readAsset(v, k);
    const mine = licenses.filter((l) => l.asset === a.hash);
    assert.equal(a.licenses, mine.length, `${where}: ${a.hash} counts its licenses`);
    for (const l of mine) {
      assert.equal(l.owner, a.owner, `${where}: ${l.id} names its asset's owner`);
      assert.equal(l.resale, a.resale, `${where}: ${l.id} carries its asset's terms`);
      assert.equal(l.expiresAtMs, l.grantedAtMs + a.durationMs, `${where}: ${l.id} runs the asset's term`);
    }
  }
  for (const l of licenses) {
    assert.equal(l.holders.at(-1)?.holder, l.holder, `${where}: ${l.id}'s chain ends at its holder`);
    assert.ok(l.resale === "allowed" || l.holders.length === 1, `${where}: ${l.id} changed hands against its terms`);
    l.holders.forEach((t, i) => {
      const next = l.holders[i + 1];
      assert.equal(t.toMs, next === undefined ? null : next.fromMs, `${where}: ${l.id}'s tenures are contiguous`);
      assert.ok(t.fromMs < l.expiresAtMs, `${where}: ${l.id} changed hands after it expired`);
    });
    assert.notEqual(l.holders[0]?.holder, l.owner, `${where}: the owner never bought a license on its own data`);
  }
}

function randomCommand(rand: () => number, state: ReadonlyMap<string, JsonValue>, n: number) {
  const licenses = [...state].filter(([k]) => k.startsWith("license/")).map(([k, v]) => readLicense(v, k));
  const l = licenses.length > 0 && rand() < 0.8 ? pick(rand, licenses) : undefined;
  const hash = l?.asset ?? pick(rand, HASHES);
  const owner = (state.get(`asset/${hash}`) as { owner?: string } | undefined)?.owner;
  const license = l?.id ?? `l-${n}`;
  const likely = (who: string | undefined) => (who !== undefined && rand() < 0.7 ? who : pick(rand, PEOPLE));
  const acts: [string, () => { signer: string; args: Record<string, unknown>; cosign: string[] }][] = [
    [
      "register",
      () => ({
        signer: pick(rand, PEOPLE),
        args: {
          hash: pick(rand, HASHES),
          description: `set ${n}`,
          price: String(1 + Math.floor(rand() * 3000)),
          resale: pick(rand, ["allowed", "forbidden"]),
          durationMs: 1 + Math.floor(rand() * 10 * HOUR),
        },
        cosign: [],
      }),
    ],
    ["buy", () => ({ signer: pick(rand, PEOPLE), args: { asset: hash, license: `l-${n}`, owner: likely(owner) }, cosign: [] })],
    [
      "resell",
      () => {
        const to = pick(rand, PEOPLE);
        const price = rand() < 0.7 ? { price: String(1 + Math.floor(rand() * 3000)) } : {};
        return { signer: likely(l?.holder), args: { asset: hash, license, to, ...price }, cosign: rand() < 0.85 ? [to] : [] };
      },
    ],
    ["access", () => ({ signer: likely(l?.holder), args: { asset: hash, license }, cosign: [] })],
  ];
  const [action, make] = pick(rand, acts);
  const { signer, args, cosign } = make();
  return { action, signer, args, signers: [signer, ...cosign.filter((c) => c !== signer)] };
}

function runSeed(seed: number, accepted: Map<string, number>): void {
  const rand = mulberry32(seed);
  const state = new Map(
    given(
      "data",
      ["ent-a", "ent-b", "ent-c", "bank-a"].map((to) => cashIssued(to, "20000")),
    ).state,
  );
  let total = 0n;
  for (const [k, v] of state) if (k.startsWith("cash:acct/")) total += BigInt((v as { balance: string }).balance);
  let now = T0;
  for (let step = 0; step < STEPS; step++) {
    now += Math.floor(rand() * HOUR);
    const c = randomCommand(rand, state, step);
    const ctx = testContext(c.signer, { blockTimeMs: now, signers: c.signers, members: SCENARIO_MEMBERS });
    const prepared = prepareCommand(builtinContracts, "data", c.action, c.args, ctx);
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
    checkInvariants(state, total, `seed ${seed} step ${step} ${c.signer} ${c.action} ${JSON.stringify(c.args)}`);
  }
}

test("random data histories conserve cash and keep every license's chain of holders true to its terms", () => {
  const accepted = new Map<string, number>();
  for (const seed of [1, 2, 3, 42, 1337, 20240601, 7, 99]) runSeed(seed, accepted);
  for (const action of ["register", "buy", "resell", "access"]) {
    assert.ok((accepted.get(action) ?? 0) > 0, `${action} was never accepted: ${JSON.stringify([...accepted])}`);
  }
});
