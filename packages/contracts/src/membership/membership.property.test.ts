// Random proposals, votes and key acts by random signers, most of them rejected. After every step:
// no proposal applies without the threshold of yes votes from current voting members, none applies
// twice, the index equals the set of institution entries, every institution keeps an active key,
// a voting member and a sequencer remain, and the membership view can be built.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ROLES, type Genesis, type JsonValue } from "@tally/ledger";
import { isRejection, type ContractEvent, type MemberView } from "../contract.js";
import { builtinContracts } from "../registry.js";
import { prepareCommand, runCommand } from "../run.js";
import { testContext } from "../testing/given-when-then.js";
import { TEST_GENESIS, fixtureKey } from "../testing/test-genesis.js";
import { membershipGenesisEvents } from "./genesis-events.js";
import { foldEvents } from "../run.js";
import { membersFromMembership, membershipView } from "./membership-view.js";
import { mulberry32 } from "../testing/prng.js";

const GENESIS: Genesis = {
  ...TEST_GENESIS,
  institutions: TEST_GENESIS.institutions.filter((i) => ["bank-a", "bank-b", "clear-a", "ent-a", "ent-b", "reg"].includes(i.id)),
};
const INSTITUTIONS = ["bank-a", "bank-b", "clear-a", "ent-a", "ent-b", "reg", "ent-d", "ent-e"];
const VOTERS = ["bank-a", "bank-b", "clear-a", "ent-a", "ent-b"];
const OTHERS = ["reg", "ent-d", "ent-e", "stranger"];
const KEY_IDS = ["k1", "k2", "k3"];
const SEQUENCERS = ["seq-1", "seq-2", "seq-3"];
const DAY_MS = 24 * 60 * 60 * 1000;
const CLOSING = new Set(["ProposalCreated", "VoteCast", "ProposalApplied", "ProposalRejected"]);

type State = Map<string, JsonValue>;

function obj(v: JsonValue | undefined): Record<string, JsonValue> {
  assert.ok(typeof v === "object" && v !== null && !Array.isArray(v));
  return v;
}

function isVoter(m: MemberView): boolean {
  return m.roles.some((r) => r !== "regulator");
}

function randomChange(pick: <T>(xs: readonly T[]) => T, rnd: () => number): JsonValue {
  const institution = pick(INSTITUTIONS);
  const roles = ROLES.filter(() => rnd() < 0.3);
  const r = roles.length === 0 ? ["bank"] : roles;
  const key = fixtureKey(1 + Math.floor(rnd() * 8));
  switch (pick(["add", "roles", "rotate", "revoke", "suspend", "reinstate", "seq+", "seq-", "fin", "gov", "sup"] as const)) {
    case "add":
      return { kind: "add-institution", institution, name: institution, roles: r, keys: [{ keyId: pick(KEY_IDS), publicKey: key }] };
    case "roles":
      return { kind: "change-roles", institution, roles: r };
    case "rotate":
      return { kind: "rotate-key", institution, oldKeyId: pick(KEY_IDS), keyId: pick(KEY_IDS), publicKey: key };
    case "revoke":
      return { kind: "revoke-key", institution, keyId: pick(KEY_IDS) };
    case "suspend":
      return { kind: "suspend-institution", institution };
    case "reinstate":
      return { kind: "reinstate-institution", institution };
    case "seq+":
      return { kind: "add-sequencer", sequencerId: pick(SEQUENCERS), publicKey: key };
    case "seq-":
      return { kind: "remove-sequencer", sequencerId: pick(SEQUENCERS) };
    case "fin":
      return { kind: "set-finality", quorumNumerator: 1 + Math.floor(rnd() * 3), quorumDenominator: 2 + Math.floor(rnd() * 3) };
    case "gov":
      return { kind: "set-governance", thresholdNumerator: 1 + Math.floor(rnd() * 4), thresholdDenominator: 1 + Math.floor(rnd() * 4) };
    case "sup":
      return { kind: "set-supervision", largeTradeAmount: String(1 + Math.floor(rnd() * 3)), alertRules: [] };
  }
}

// Proposal ids run p-0, p-1...; a new proposal sometimes reuses an old id, and votes go mostly to the latest few.
function randomCommand(
  state: State,
  pick: <T>(xs: readonly T[]) => T,
  rnd: () => number,
  nowMs: number,
  proposals: number,
): { action: string; args: unknown } {
  const roll = rnd();
  if (roll < 0.25) {
    const id = rnd() < 0.9 ? `p-${proposals}` : `p-${Math.floor(rnd() * (proposals + 1))}`;
    return {
      action: "propose",
      args: { id, expiresAtMs: nowMs + Math.floor(rnd() * 2 * DAY_MS) - DAY_MS / 8, change: randomChange(pick, rnd) },
    };
  }
  if (roll < 0.85) {
    const proposal = `p-${Math.max(0, proposals - 1 - Math.floor(rnd() * 5))}`;
    const stored = state.get(`proposal/${proposal}`);
    // Mostly restate the proposal's institution, as a client would; sometimes name a wrong one.
    const subject = stored === undefined || rnd() < 0.1 ? (rnd() < 0.5 ? pick(INSTITUTIONS) : null) : obj(stored).institution;
    return {
      action: "vote",
      args: { proposal, vote: rnd() < 0.75 ? "yes" : "no", ...(typeof subject === "string" ? { institution: subject } : {}) },
    };
  }
  if (roll < 0.93)
    return { action: pick(["add-key", "revoke-key"]), args: { keyId: pick(KEY_IDS), publicKey: fixtureKey(1 + Math.floor(rnd() * 8)) } };
  // Garbage.
  return {
    action: pick(["propose", "vote"]),
    args: pick<unknown>([{}, { id: 1 }, { proposal: "p-1", vote: "maybe" }, { change: null }, []]),
  };
}

function checkInvariants(state: State, seed: number, step: number): void {
  const where = `seed ${seed} step ${step}`;
  const entries = [...state.keys()].filter((k) => k.startsWith("inst/")).map((k) => k.slice("inst/".length));
  assert.deepEqual(state.get("index"), [...entries].sort(), `${where}: the index equals the institution entries`);
  for (const id of entries) {
    const keys = obj(state.get(`inst/${id}`)).keys as { active: boolean }[];
    assert.ok(
      keys.some((k) => k.active),
      `${where}: ${id} keeps an active key`,
    );
  }
  const view = membershipView(state.values());
  assert.ok([...view.members.values()].some(isVoter), `${where}: a voting member remains`);
  const config = obj(state.get("chain-config"));
  assert.ok((config.sequencers as JsonValue[]).length >= 1, `${where}: a sequencer remains`);
  for (const [k, v] of state) {
    if (!k.startsWith("proposal/")) continue;
    const p = obj(v);
    const yes = p.yes as string[];
    const no = p.no as string[];
    assert.ok(!yes.some((x) => no.includes(x)), `${where}: nobody voted both ways on ${k}`);
    assert.deepEqual(yes, [...new Set(yes)].sort(), `${where}: ${k} yes votes are sorted and distinct`);
  }
}

function runSeed(seed: number, steps: number): { applied: number; accepted: number } {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const contract = builtinContracts.get("membership")!;
  const state: State = new Map();
  for (const [k, v] of foldEvents(contract, new Map(), membershipGenesisEvents(GENESIS))) if (v !== null) state.set(k, v);
  let nowMs = GENESIS.genesisTimeMs;
  const appliedIds = new Set<string>();
  let accepted = 0;
  checkInvariants(state, seed, 0);
  for (let step = 1; step <= steps; step++) {
    nowMs += Math.floor(rnd() * (DAY_MS / 24));
    const signer = rnd() < 0.85 ? pick(VOTERS) : pick(OTHERS);
    const proposals = [...state.keys()].filter((k) => k.startsWith("proposal/")).length;
    const { action, args } = randomCommand(state, pick, rnd, nowMs, proposals);
    const members = membersFromMembership(state.values());
    const ctx = testContext(signer, { blockTimeMs: nowMs, members });
    const prepared = prepareCommand(builtinContracts, "membership", action, args, ctx);
    if (isRejection(prepared)) continue;
    const slice = new Map<string, JsonValue>();
    for (const k of prepared.keys) if (state.has(k)) slice.set(k, state.get(k)!);
    const outcome = runCommand(prepared, slice, ctx);
    if (isRejection(outcome)) continue;
    accepted++;
    const governanceBefore = obj(obj(state.get("chain-config")).governance);
    for (const [k, v] of outcome.updates) {
      if (v === null) state.delete(k);
      else state.set(k, v);
    }
    if (action === "propose" || action === "vote")
      checkApplication(outcome.events, state, members, governanceBefore, appliedIds, `seed ${seed} step ${step}`);
    checkInvariants(state, seed, step);
  }
  return { applied: appliedIds.size, accepted };
}

// An applied proposal had, among the members voting when it applied, at least threshold × voters
// yes votes (checked in integers: yes·d ≥ voters·n); a change happens only with ProposalApplied,
// and a proposal applies once.
function checkApplication(
  events: readonly ContractEvent[],
  state: State,
  members: ReadonlyMap<string, MemberView>,
  governance: Record<string, JsonValue>,
  appliedIds: Set<string>,
  where: string,
): void {
  const applied = events.filter((e) => e.type === "ProposalApplied");
  const changes = events.filter((e) => !CLOSING.has(e.type));
  assert.ok(applied.length <= 1, `${where}: at most one proposal applies per command`);
  if (applied.length === 0) {
    assert.equal(changes.length, 0, `${where}: no change without ProposalApplied`);
    return;
  }
  const id = applied[0]!.data.proposal as string;
  assert.ok(!appliedIds.has(id), `${where}: ${id} applies at most once`);
  appliedIds.add(id);
  assert.ok(changes.length >= 1, `${where}: an applied proposal changes something`);
  const p = obj(state.get(`proposal/${id}`));
  assert.equal(p.status, "applied");
  const voters = [...members].filter(([, m]) => isVoter(m)).map(([v]) => v);
  const yes = (p.yes as string[]).filter((v) => voters.includes(v)).length;
  const n = governance.thresholdNumerator as number;
  const d = governance.thresholdDenominator as number;
  assert.ok(yes >= 1 && yes * d >= voters.length * n, `${where}: ${id} applied with ${yes} of ${voters.length} at ${n}/${d}`);
}

test("random governance never applies a proposal without the threshold, and the index matches the entries", () => {
  let applied = 0;
  let accepted = 0;
  for (const seed of [1, 2, 3, 42, 2024, 777, 31337, 9]) {
    const r = runSeed(seed, 400);
    applied += r.applied;
    accepted += r.accepted;
  }
  // The walk must exercise the rules, not only be rejected.
  assert.ok(accepted > 300, `only ${accepted} commands were accepted`);
  assert.ok(applied > 10, `only ${applied} proposals applied`);
});
