// Property test: random sequences of receivable acts by random signers at random times (most are
// rejected), folding the accepted ones, and checking the invariants after every step: cash is
// conserved, splits sum, each live receivable has one holder and the portfolio index matches,
// every root's list of live leaves matches its tree, no amount is negative.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { JsonValue } from "@tally/ledger";
import { isRejection } from "../contract.js";
import { prepareCommand, runCommand } from "../run.js";
import { testContext } from "../testing/given-when-then.js";
import { TEST_MEMBERS } from "../testing/test-genesis.js";
import { readRecord, type ReceivableRecord } from "./receivable-record.js";
import { T0, cashIssued, contracts, givenRecv } from "./receivable-test-kit.js";
import { mulberry32 } from "../testing/prng.js";

const MEMBERS = [...TEST_MEMBERS.keys()];
const ENTERPRISES = ["ent-a", "ent-b", "ent-c", "issuer-a"];
const BANKS = ["bank-a", "bank-b", "clear-a"];
const HOUR_MS = 3_600_000;
const ROOT_IDS = 40;
const DAY_MS = 24 * HOUR_MS;

type State = Map<string, JsonValue>;

function records(state: State): Map<string, ReceivableRecord> {
  const out = new Map<string, ReceivableRecord>();
  for (const [k, v] of state) if (k.startsWith("recv/")) out.set(k.slice(5), readRecord(v, k));
  return out;
}

function cashTotal(state: State): bigint {
  let total = 0n;
  for (const [k, v] of state) {
    if (!k.startsWith("cash:acct/")) continue;
    const balance = BigInt((v as { balance: string }).balance);
    assert.ok(balance >= 0n, `${k} is negative`);
    total += balance;
  }
  return total;
}

function liveLeaves(recs: Map<string, ReceivableRecord>, id: string): string[] {
  const r = recs.get(id);
  assert.ok(r, `missing ${id}`);
  if (r.status === "split") return r.children.flatMap((c) => liveLeaves(recs, c));
  return r.status === "settled" ? [] : [id];
}

function checkInvariants(state: State, cashBefore: bigint): void {
  assert.equal(cashTotal(state), cashBefore, "cash is conserved");
  const recs = records(state);
  const expectedHeld = new Map<string, string>();
  for (const r of recs.values()) {
    assert.ok(r.amount > 0n, `${r.id} has amount ${r.amount}`);
    if (r.status === "split") {
      assert.equal(r.holder, null, `${r.id} is split but held`);
      const sum = r.children.reduce((s, c) => s + (recs.get(c)?.amount ?? -1n), 0n);
      assert.equal(sum, r.amount, `children of ${r.id} sum`);
      for (const c of r.children) {
        const child = recs.get(c);
        assert.equal(child?.parent, r.id);
        if (r.financed) assert.equal(child?.financed, true, `${c} inherits financed`);
      }
    } else {
      assert.ok(r.holder !== null, `${r.id} has no holder`);
      if (r.status !== "settled") expectedHeld.set(`held/${r.holder}/recv/${r.id}`, r.amount.toString());
    }
    if (r.parent === null) {
      assert.deepEqual(r.leaves, liveLeaves(recs, r.id), `leaves of ${r.id}`);
      assert.equal(r.settledAtMs !== null, r.status !== "registered" && r.leaves?.length === 0, `settled mark of ${r.id}`);
    }
  }
  const held = new Map<string, string>();
  for (const [k, v] of state) if (k.startsWith("held/")) held.set(k, (v as { amount: string }).amount);
  assert.deepEqual(held, expectedHeld, "the portfolio index matches the holders");
}

interface Step {
  readonly signer: string;
  readonly signers: readonly string[];
  readonly action: string;
  readonly args: unknown;
}

function randomStep(rnd: () => number, state: State, now: number): Step {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const recs = [...records(state).values()];
  const known = recs.map((r) => r.id);
  const live = recs.filter((r) => r.status === "confirmed").map((r) => r.id);
  // Mostly a live receivable, so that acts get accepted; sometimes any, or one that does not exist.
  const anyId = () => {
    const x = rnd();
    if (x < 0.7 && live.length > 0) return pick(live);
    return known.length > 0 && x < 0.95 ? pick(known) : `r-${Math.floor(rnd() * ROOT_IDS)}`;
  };
  const amount = () => String(1 + Math.floor(rnd() * 1000));
  // Half the time, the one who should act; the rest, anyone.
  const holderOf = (id: string) => recs.find((r) => r.id === id)?.holder ?? pick(MEMBERS);
  const signerFor = (preferred: string) => (rnd() < 0.6 ? preferred : pick(MEMBERS));
  const cosign = (signer: string, other: string) => (rnd() < 0.8 ? [signer, other] : [signer, pick(MEMBERS)]);
  const kind = pick(["register", "register", "confirm", "transfer", "split", "split", "finance", "settle", "settle"]);
  switch (kind) {
    case "register": {
      const signer = pick(ENTERPRISES);
      const dueMs = now + Math.floor(rnd() * 12 * DAY_MS) - DAY_MS;
      const args = {
        id: `r-${Math.floor(rnd() * ROOT_IDS)}`,
        debtor: pick(ENTERPRISES),
        amount: amount(),
        dueMs,
        invoiceRef: `inv-${Math.floor(rnd() * 40)}`,
      };
      return { signer, signers: [signer], action: kind, args };
    }
    case "confirm": {
      const waiting = recs.filter((r) => r.status === "registered").map((r) => r.id);
      const id = waiting.length > 0 && rnd() < 0.8 ? pick(waiting) : anyId();
      const r = recs.find((x) => x.id === id);
      const signer = signerFor(r?.debtor ?? pick(ENTERPRISES));
      return { signer, signers: cosign(signer, r?.supplier ?? pick(MEMBERS)), action: kind, args: { id: id.split(".")[0] } };
    }
    case "transfer": {
      const id = anyId();
      const signer = signerFor(holderOf(id));
      return { signer, signers: [signer], action: kind, args: { id, to: pick(rnd() < 0.8 ? [...ENTERPRISES, ...BANKS] : MEMBERS) } };
    }
    case "split": {
      const id = anyId();
      const total = recs.find((r) => r.id === id)?.amount ?? 100n;
      const n = 1 + Math.floor(rnd() * 4);
      const cuts = Array.from({ length: n - 1 }, () => BigInt(Math.floor(rnd() * Number(total))));
      const parts = [0n, ...cuts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), total]
        .slice(1)
        .map((end, i, all) => end - (i === 0 ? 0n : all[i - 1]!));
      if (rnd() < 0.2 && parts.length > 0) parts[0] = parts[0]! + 1n;
      const signer = signerFor(holderOf(id));
      return {
        signer,
        signers: [signer],
        action: kind,
        args: { id, parts: parts.map((a) => ({ to: pick([...ENTERPRISES, ...BANKS]), amount: a.toString() })) },
      };
    }
    case "finance": {
      const id = anyId();
      const signer = signerFor(holderOf(id));
      const bank = pick(rnd() < 0.8 ? BANKS : MEMBERS);
      return { signer, signers: cosign(signer, bank), action: kind, args: { id, bank, rateBp: Math.floor(rnd() * 3000) } };
    }
    default: {
      const due = recs.filter((r) => r.parent === null && r.status !== "registered" && r.dueMs <= now && r.settledAtMs === null);
      const roots = due.length > 0 && rnd() < 0.6 ? due : recs.filter((r) => r.parent === null);
      const root = roots.length > 0 ? pick(roots) : undefined;
      let leaves = (root?.leaves ?? []).map((id) => ({ id, holder: holderOf(id) }));
      if (rnd() < 0.2 && leaves.length > 1) leaves = leaves.slice(1);
      if (rnd() < 0.1 && leaves.length > 0) leaves[0] = { id: leaves[0]!.id, holder: pick(MEMBERS) };
      if (leaves.length === 0) leaves = [{ id: root?.id ?? "r-0", holder: pick(MEMBERS) }];
      const signer = signerFor(root?.debtor ?? pick(ENTERPRISES));
      return { signer, signers: [signer], action: kind, args: { id: root?.id ?? "r-0", leaves } };
    }
  }
}

function runSeed(seed: number, steps: number, accepted: Map<string, number>): void {
  const rnd = mulberry32(seed);
  let state: State = new Map(
    givenRecv([...ENTERPRISES, ...BANKS].map((who) => cashIssued(who, String(2000 + Math.floor(rnd() * 5000))))).state,
  );
  const cashBefore = cashTotal(state);
  let now = T0;
  for (let i = 0; i < steps; i++) {
    now += Math.floor(rnd() * 3 * HOUR_MS);
    const step = randomStep(rnd, state, now);
    const ctx = testContext(step.signer, { blockTimeMs: now, signers: [...new Set(step.signers)] });
    const prepared = prepareCommand(contracts, "receivable", step.action, step.args, ctx);
    if (isRejection(prepared)) continue;
    const slice = new Map<string, JsonValue>();
    for (const k of prepared.keys) {
      const v = state.get(k);
      if (v !== undefined) slice.set(k, v);
    }
    const outcome = runCommand(prepared, slice, ctx);
    if (isRejection(outcome)) continue;
    accepted.set(step.action, (accepted.get(step.action) ?? 0) + 1);
    const next = new Map(state);
    for (const [k, v] of outcome.updates) {
      if (v === null) next.delete(k);
      else next.set(k, v);
    }
    if (step.action === "settle") {
      const root = records(state).get((step.args as { id: string }).id);
      const paid = outcome.events.filter((e) => e.contract === "cash").reduce((s, e) => s + BigInt(e.data.amount as string), 0n);
      const toSelf = (root?.leaves ?? []).map((id) => records(state).get(id)!).filter((l) => l.holder === root?.debtor);
      assert.equal(paid + toSelf.reduce((s, l) => s + l.amount, 0n), root?.amount, `settle of ${root?.id} pays its amount`);
    }
    state = next;
    checkInvariants(state, cashBefore);
  }
}

test("random receivable histories keep cash, splits, holders, leaves and the portfolio index consistent", () => {
  const accepted = new Map<string, number>();
  for (const seed of [1, 7, 42, 1234, 99_991, 2_024_001]) runSeed(seed, 300, accepted);
  for (const action of ["register", "confirm", "transfer", "split", "finance", "settle"]) {
    assert.ok((accepted.get(action) ?? 0) > 0, `some ${action} was accepted: ${JSON.stringify([...accepted])}`);
  }
});
