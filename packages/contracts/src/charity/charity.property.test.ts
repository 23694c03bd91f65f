// Random sequences of charity acts by random signers (many refused), folding what is accepted, and
// checking after every step that donations are conserved from donor to beneficiary: cash is
// conserved; each project raised the sum of its donations and its escrow holds raised − disbursed;
// every donation traces to beneficiaries plus what is held, summing to the donation; and what the
// traces send to each beneficiary is exactly what its paid milestones paid it.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { JsonValue } from "@tally/ledger";
import { isRejection } from "../contract.js";
import { builtinContracts } from "../registry.js";
import { prepareCommand, runCommand } from "../run.js";
import { given, testContext } from "../testing/given-when-then.js";
import { mulberry32 } from "../testing/prng.js";
import { SCENARIO_MEMBERS, T0, cashIssued } from "../testing/scenario-fixtures.js";
import { readDonation, readProject, trace, type Project } from "./charity-state.js";

const PEOPLE = ["ent-a", "ent-b", "ent-c", "bank-a", "bank-b", "audit-a", "audit-b", "reg"];
const DONORS = ["bank-a", "bank-b", "ent-c", "ent-a"];
const STEPS = 250;

function pick<T>(rand: () => number, xs: readonly T[]): T {
  const x = xs[Math.floor(rand() * xs.length)];
  if (x === undefined) throw new Error("pick from nothing");
  return x;
}

function projects(state: ReadonlyMap<string, JsonValue>): Project[] {
  return [...state].filter(([k]) => k.startsWith("project/")).map(([k, v]) => readProject(v, k));
}

function cashOf(state: ReadonlyMap<string, JsonValue>, holder: string): bigint {
  return BigInt((state.get(`cash:acct/${holder}`) as { balance: string } | undefined)?.balance ?? "0");
}

function checkInvariants(state: ReadonlyMap<string, JsonValue>, total: bigint, where: string): void {
  let sum = 0n;
  for (const [k, v] of state) if (k.startsWith("cash:acct/")) sum += BigInt((v as { balance: string }).balance);
  assert.equal(sum, total, `${where}: cash is conserved`);
  const donations = [...state].filter(([k]) => k.startsWith("donation/")).map(([k, v]) => readDonation(v, k));
  for (const p of projects(state)) {
    const mine = donations.filter((d) => d.project === p.id);
    assert.equal(
      mine.reduce((a, d) => a + d.amount, 0n),
      p.raised,
      `${where}: ${p.id} raised its donations`,
    );
    assert.ok(p.raised <= p.target && p.disbursed <= p.raised, `${where}: ${p.id} within its target and its takings`);
    assert.equal(cashOf(state, `charity/project/${p.id}`), p.raised - p.disbursed, `${where}: ${p.id}'s escrow holds what it holds`);
    const traced = new Map<string, bigint>();
    let heldTraced = 0n;
    for (const d of mine) {
      const t = trace(p, d);
      assert.equal(t.to.reduce((a, x) => a + x.amount, 0n) + t.held, d.amount, `${where}: donation ${d.id} is all accounted for`);
      for (const x of t.to) traced.set(x.beneficiary, (traced.get(x.beneficiary) ?? 0n) + x.amount);
      heldTraced += t.held;
    }
    assert.equal(heldTraced, p.raised - p.disbursed, `${where}: ${p.id}'s held is the donations' held`);
    const paid = new Map<string, bigint>();
    for (const m of p.milestones) if (m.disbursedAtMs !== null) paid.set(m.beneficiary, (paid.get(m.beneficiary) ?? 0n) + m.amount);
    assert.deepEqual(traced, paid, `${where}: ${p.id}'s donations reached exactly the paid beneficiaries`);
  }
}

function randomCommand(rand: () => number, state: ReadonlyMap<string, JsonValue>, now: number, n: number) {
  const ps = projects(state);
  const p = ps.length > 0 && rand() < 0.9 ? pick(rand, ps) : undefined;
  const project = p?.id ?? `p-${n}`;
  const milestone = 1 + Math.floor(rand() * Math.max(1, (p?.milestones.length ?? 1) + (rand() < 0.1 ? 1 : 0)));
  const acts: [string, () => { signer: string; args: Record<string, unknown> }][] = [
    [
      "open",
      () => ({
        signer: pick(rand, PEOPLE),
        args: {
          id: `p-${n}`,
          title: `project ${n}`,
          auditor: pick(rand, ["audit-a", "audit-b", "bank-a"]),
          milestones: Array.from({ length: 1 + Math.floor(rand() * 4) }, (_, i) => ({
            description: `m${i}`,
            amount: String(1 + Math.floor(rand() * 500)),
            beneficiary: pick(rand, PEOPLE),
          })),
        },
      }),
    ],
    ["donate", () => ({ signer: pick(rand, DONORS), args: { project, donation: `d-${n}`, amount: String(1 + Math.floor(rand() * 400)) } })],
    [
      "attest",
      () => ({
        signer: rand() < 0.7 && p !== undefined ? p.auditor : pick(rand, PEOPLE),
        args: { project, milestone, evidence: "ab".repeat(32) },
      }),
    ],
    [
      "disburse",
      () => ({
        signer: rand() < 0.8 && p !== undefined ? p.organiser : pick(rand, PEOPLE),
        args: {
          project,
          milestone,
          beneficiary: (rand() < 0.9 ? p?.milestones[milestone - 1]?.beneficiary : undefined) ?? pick(rand, PEOPLE),
        },
      }),
    ],
  ];
  const [action, make] = pick(rand, acts);
  return { action, ...make() };
}

function runSeed(seed: number, accepted: Map<string, number>): void {
  const rand = mulberry32(seed);
  const state = new Map(
    given(
      "charity",
      DONORS.map((d) => cashIssued(d, "5000")),
    ).state,
  );
  let total = 0n;
  for (const [k, v] of state) if (k.startsWith("cash:acct/")) total += BigInt((v as { balance: string }).balance);
  let now = T0;
  for (let step = 0; step < STEPS; step++) {
    now += 1000;
    const c = randomCommand(rand, state, now, step);
    const ctx = testContext(c.signer, { blockTimeMs: now, members: SCENARIO_MEMBERS });
    const prepared = prepareCommand(builtinContracts, "charity", c.action, c.args, ctx);
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

test("random charity histories conserve donations from donor to beneficiary", () => {
  const accepted = new Map<string, number>();
  for (const seed of [1, 2, 3, 42, 1337, 20240601, 7, 99]) runSeed(seed, accepted);
  for (const action of ["open", "donate", "attest", "disburse"]) {
    assert.ok((accepted.get(action) ?? 0) > 0, `${action} was never accepted: ${JSON.stringify([...accepted])}`);
  }
  assert.ok((accepted.get("disburse") ?? 0) >= 10, `too few disbursements to mean much: ${JSON.stringify([...accepted])}`);
});
