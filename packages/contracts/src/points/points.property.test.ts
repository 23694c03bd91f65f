// Random sequences of points acts by random signers at random times (many refused), folding what
// is accepted, and checking after every step that each issuer's points are conserved through
// transfers, red envelopes and exchanges: minted = every balance + every open envelope's unclaimed
// points; that packets sum to their envelope; that no packet is claimed twice nor any member paid
// twice from one envelope; and that nothing is negative.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { JsonValue } from "@tally/ledger";
import { isRejection } from "../contract.js";
import { builtinContracts } from "../registry.js";
import { prepareCommand, runCommand } from "../run.js";
import { testContext } from "../testing/given-when-then.js";
import { mulberry32 } from "../testing/prng.js";
import { SCENARIO_MEMBERS, T0 } from "../testing/scenario-fixtures.js";
import { readEnvelope, unclaimed, type Envelope } from "./points-state.js";

const ISSUERS = ["issuer-a", "issuer-b"];
const PEOPLE = [...ISSUERS, "ent-a", "ent-b", "ent-c", "bank-a", "reg"];
const STEPS = 300;
const HOUR = 3_600_000;

function pick<T>(rand: () => number, xs: readonly T[]): T {
  const x = xs[Math.floor(rand() * xs.length)];
  if (x === undefined) throw new Error("pick from nothing");
  return x;
}

function envelopes(state: ReadonlyMap<string, JsonValue>): Envelope[] {
  return [...state].filter(([k]) => k.startsWith("envelope/")).map(([k, v]) => readEnvelope(v, k));
}

function checkInvariants(state: ReadonlyMap<string, JsonValue>, where: string): void {
  const held = new Map<string, bigint>();
  for (const [k, v] of state) {
    if (!k.startsWith("bal/")) continue;
    const issuer = k.split("/")[1]!;
    const b = BigInt((v as { balance: string }).balance);
    assert.ok(b >= 0n, `${where}: ${k} is negative`);
    held.set(issuer, (held.get(issuer) ?? 0n) + b);
  }
  for (const e of envelopes(state)) {
    assert.equal(
      e.packets.reduce((a, p) => a + p.amount, 0n),
      e.amount,
      `${where}: the packets of ${e.id} sum to it`,
    );
    assert.ok(
      e.packets.every((p) => p.amount >= 1n),
      `${where}: every packet of ${e.id} holds a point`,
    );
    const claimants = e.packets.flatMap((p) => (p.claimedBy === null ? [] : [p.claimedBy]));
    assert.equal(new Set(claimants).size, claimants.length, `${where}: no member claimed twice from ${e.id}`);
    assert.ok(!claimants.includes(e.sender), `${where}: the sender claimed nothing from ${e.id}`);
    if (e.refunded === null) held.set(e.issuer, (held.get(e.issuer) ?? 0n) + unclaimed(e));
    else assert.equal(e.refunded, unclaimed(e), `${where}: ${e.id} refunded exactly its unclaimed points`);
  }
  for (const issuer of ISSUERS) {
    const minted = BigInt((state.get(`supply/${issuer}`) as { minted: string } | undefined)?.minted ?? "0");
    assert.equal(held.get(issuer) ?? 0n, minted, `${where}: ${issuer}'s points are conserved`);
  }
}

function randomCommand(rand: () => number, state: ReadonlyMap<string, JsonValue>, now: number, n: number) {
  const es = envelopes(state);
  const e = es.length > 0 && rand() < 0.85 ? pick(rand, es) : undefined;
  const issuer = e?.issuer ?? pick(rand, ISSUERS);
  const amount = () => String(1 + Math.floor(rand() * (rand() < 0.8 ? 200 : 100_000)));
  const acts: [string, () => { signer: string; args: Record<string, unknown>; cosign: string[] }][] = [
    [
      "mint",
      () => ({ signer: pick(rand, rand() < 0.8 ? ISSUERS : PEOPLE), args: { to: pick(rand, PEOPLE), amount: amount() }, cosign: [] }),
    ],
    ["transfer", () => ({ signer: pick(rand, PEOPLE), args: { issuer, to: pick(rand, PEOPLE), amount: amount() }, cosign: [] })],
    [
      "envelope",
      () => {
        const packets = 1 + Math.floor(rand() * 5);
        const named = rand() < 0.4 ? PEOPLE.filter(() => rand() < 0.6).slice(0, packets) : undefined;
        return {
          signer: pick(rand, PEOPLE),
          args: {
            issuer,
            id: `e-${n}`,
            amount: amount(),
            packets: named !== undefined && named.length > 0 ? named.length : packets,
            ...(named !== undefined && named.length > 0 ? { recipients: named } : {}),
            split: pick(rand, ["even", "lucky"]),
            expiresAtMs: now + Math.floor(rand() * 6 * HOUR),
          },
          cosign: [],
        };
      },
    ],
    ["claim", () => ({ signer: pick(rand, PEOPLE), args: { issuer, id: e?.id ?? `e-${n}` }, cosign: [] })],
    [
      "refund",
      () => ({
        signer: rand() < 0.7 && e !== undefined ? e.sender : pick(rand, PEOPLE),
        args: { issuer, id: e?.id ?? `e-${n}` },
        cosign: [],
      }),
    ],
    [
      "agree-rate",
      () => ({
        signer: pick(rand, ISSUERS),
        args: {
          counterparty: pick(rand, ISSUERS),
          units: String(1 + Math.floor(rand() * 20)),
          counterpartyUnits: String(1 + Math.floor(rand() * 20)),
        },
        cosign: rand() < 0.8 ? ISSUERS : [],
      }),
    ],
    [
      "exchange",
      () => {
        const from = pick(rand, ISSUERS);
        return {
          signer: pick(rand, PEOPLE),
          args: {
            from,
            to: pick(
              rand,
              ISSUERS.filter((i) => rand() < 0.1 || i !== from),
            ),
            amount: amount(),
          },
          cosign: [],
        };
      },
    ],
  ];
  const [action, make] = pick(rand, acts);
  const { signer, args, cosign } = make();
  return { action, signer, args, signers: [signer, ...cosign.filter((c) => c !== signer)] };
}

function runSeed(seed: number, accepted: Map<string, number>): void {
  const rand = mulberry32(seed);
  const state = new Map<string, JsonValue>();
  let now = T0;
  for (let step = 0; step < STEPS; step++) {
    now += Math.floor(rand() * HOUR);
    const c = randomCommand(rand, state, now, step);
    const ctx = testContext(c.signer, {
      blockTimeMs: now,
      signers: c.signers,
      members: SCENARIO_MEMBERS,
      txId: (seed * 1000 + step).toString(16).padStart(64, "0"),
    });
    const prepared = prepareCommand(builtinContracts, "points", c.action, c.args, ctx);
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
    checkInvariants(state, `seed ${seed} step ${step} ${c.signer} ${c.action} ${JSON.stringify(c.args)}`);
  }
}

test("random points histories conserve every issuer's points through transfers, envelopes and exchanges", () => {
  const accepted = new Map<string, number>();
  for (const seed of [1, 2, 3, 42, 1337, 20240601, 7, 99]) runSeed(seed, accepted);
  for (const action of ["mint", "transfer", "envelope", "claim", "refund", "agree-rate", "exchange"]) {
    assert.ok((accepted.get(action) ?? 0) > 0, `${action} was never accepted: ${JSON.stringify([...accepted])}`);
  }
});
