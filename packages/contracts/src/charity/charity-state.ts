// The state of the charity contract (SCENARIOS.md §11): projects with their milestones, each
// donation, and the cash the project holds in its own escrow account. Donations and disbursements
// are laid end to end in the order they happened (a donation covers [start, start + amount) of
// everything the project raised; a milestone paid out covers [from, from + amount) of everything
// it disbursed), so money goes out first-in first-out, and a donation is traced to beneficiaries
// by overlapping the two: no entry but the project is written when a milestone is paid.
import { InvariantError, type JsonValue } from "@tally/ledger";
import type { StateSlice } from "../contract.js";
import { cashAccountKey } from "../cash/cash.js";
import { readArray, readDecimal, readInteger, readNullableString, readObject, readString, type JsonObject } from "../state-read.js";

/** The charity contract's name in transactions and the registry. */
export const CHARITY_CONTRACT = "charity";

/** Longest project title or milestone description, in UTF-16 code units. */
export const TITLE_LENGTH_MAX = 200;

/** Most milestones one project has. */
export const MILESTONES_MAX = 32;

/** One milestone: the amount its beneficiary is paid once the auditor attests it. */
export interface Milestone {
  readonly description: string;
  readonly amount: bigint;
  readonly beneficiary: string;
  readonly attestedAtMs: number | null;
  /** The auditor's evidence: a sha256 hash of its report, kept off the chain. */
  readonly evidence: string | null;
  readonly disbursedAtMs: number | null;
  /** Where its payment starts in everything the project disbursed, once paid. */
  readonly disbursedFrom: bigint | null;
}

/** A charity project. */
export interface Project {
  readonly id: string;
  readonly title: string;
  readonly organiser: string;
  readonly auditor: string;
  readonly milestones: readonly Milestone[];
  /** The sum of the milestones: the most it may raise. */
  readonly target: bigint;
  readonly raised: bigint;
  readonly disbursed: bigint;
  readonly donations: number;
  readonly openedAtMs: number;
  readonly parties: readonly string[];
}

/** One donation to a project. */
export interface Donation {
  readonly project: string;
  readonly id: string;
  readonly donor: string;
  readonly amount: bigint;
  /** Where it starts in everything the project raised. */
  readonly start: bigint;
  readonly atMs: number;
  readonly parties: readonly string[];
}

/** The state key of a project. */
export function projectKey(id: string): string {
  return `project/${id}`;
}

/** The state key of a donation to a project. */
export function donationKey(project: string, id: string): string {
  return `donation/${project}/${id}`;
}

/**
 * The cash account that holds a project's undisbursed donations. Its name contains '/', which no
 * institution id may, so it is never a member's; only this contract moves cash in or out of it,
 * and its balance is always the project's raised − disbursed.
 */
export function escrowHolder(project: string): string {
  return `${CHARITY_CONTRACT}/project/${project}`;
}

/** The project's escrow account as this contract names it in its keys. */
export function escrowAccountKey(project: string): string {
  return cashAccountKey(escrowHolder(project));
}

function broken(what: string, message: string): never {
  throw new InvariantError(`${what}: ${message}`, "CONTRACT_STATE");
}

function readNullableInteger(o: JsonObject, field: string, what: string): number | null {
  return o[field] === null ? null : readInteger(o, field, what);
}

function readParties(o: JsonObject, what: string): string[] {
  return readArray(o, "parties", what).map((p) => (typeof p === "string" ? p : broken(what, "parties are not strings")));
}

/** A project from its state value; throws InvariantError when it is malformed. */
export function readProject(v: JsonValue | undefined, what: string): Project {
  const o = readObject(v, what);
  const milestones = readArray(o, "milestones", what).map((m) => {
    const mo = readObject(m, `${what} milestone`);
    const w = `${what} milestone`;
    return {
      description: readString(mo, "description", w),
      amount: readDecimal(mo, "amount", w),
      beneficiary: readString(mo, "beneficiary", w),
      attestedAtMs: readNullableInteger(mo, "attestedAtMs", w),
      evidence: readNullableString(mo, "evidence", w),
      disbursedAtMs: readNullableInteger(mo, "disbursedAtMs", w),
      disbursedFrom: readNullableString(mo, "disbursedFrom", w) === null ? null : readDecimal(mo, "disbursedFrom", w),
    };
  });
  return {
    id: readString(o, "id", what),
    title: readString(o, "title", what),
    organiser: readString(o, "organiser", what),
    auditor: readString(o, "auditor", what),
    milestones,
    target: readDecimal(o, "target", what),
    raised: readDecimal(o, "raised", what),
    disbursed: readDecimal(o, "disbursed", what),
    donations: readInteger(o, "donations", what),
    openedAtMs: readInteger(o, "openedAtMs", what),
    parties: readParties(o, what),
  };
}

/** A project as its state value. */
export function projectValue(p: Project): JsonValue {
  return {
    id: p.id,
    title: p.title,
    organiser: p.organiser,
    auditor: p.auditor,
    milestones: p.milestones.map((m) => ({
      description: m.description,
      amount: m.amount.toString(),
      beneficiary: m.beneficiary,
      attestedAtMs: m.attestedAtMs,
      evidence: m.evidence,
      disbursedAtMs: m.disbursedAtMs,
      disbursedFrom: m.disbursedFrom === null ? null : m.disbursedFrom.toString(),
    })),
    target: p.target.toString(),
    raised: p.raised.toString(),
    disbursed: p.disbursed.toString(),
    donations: p.donations,
    openedAtMs: p.openedAtMs,
    parties: [...p.parties],
  };
}

/** A donation from its state value; throws InvariantError when it is malformed. */
export function readDonation(v: JsonValue | undefined, what: string): Donation {
  const o = readObject(v, what);
  return {
    project: readString(o, "project", what),
    id: readString(o, "id", what),
    donor: readString(o, "donor", what),
    amount: readDecimal(o, "amount", what),
    start: readDecimal(o, "start", what),
    atMs: readInteger(o, "atMs", what),
    parties: readParties(o, what),
  };
}

/** A donation as its state value. */
export function donationValue(d: Donation): JsonValue {
  return {
    project: d.project,
    id: d.id,
    donor: d.donor,
    amount: d.amount.toString(),
    start: d.start.toString(),
    atMs: d.atMs,
    parties: [...d.parties],
  };
}

/** The project in the slice, or undefined. */
export function projectIn(state: StateSlice, id: string): Project | undefined {
  const v = state.get(projectKey(id));
  return v === undefined ? undefined : readProject(v, `project ${id}`);
}

/** The donation in the slice, or undefined. */
export function donationIn(state: StateSlice, project: string, id: string): Donation | undefined {
  const v = state.get(donationKey(project, id));
  return v === undefined ? undefined : readDonation(v, `donation ${id} to ${project}`);
}

/** Where one donation went: to which milestone's beneficiary, how much, when. */
export interface Allocation {
  readonly milestone: number;
  readonly beneficiary: string;
  readonly amount: bigint;
  readonly atMs: number;
}

function overlap(aStart: bigint, aEnd: bigint, bStart: bigint, bEnd: bigint): bigint {
  const lo = aStart > bStart ? aStart : bStart;
  const hi = aEnd < bEnd ? aEnd : bEnd;
  return hi > lo ? hi - lo : 0n;
}

/**
 * A donation traced: the part of it each paid milestone's beneficiary received (in the order they
 * were paid), and the part the project still holds. They sum to the donation.
 */
export function trace(p: Project, d: Donation): { readonly to: readonly Allocation[]; readonly held: bigint } {
  const end = d.start + d.amount;
  const paid: (Allocation & { readonly from: bigint })[] = [];
  p.milestones.forEach((m, i) => {
    if (m.disbursedFrom === null || m.disbursedAtMs === null) return;
    const part = overlap(d.start, end, m.disbursedFrom, m.disbursedFrom + m.amount);
    if (part > 0n) paid.push({ milestone: i + 1, beneficiary: m.beneficiary, amount: part, atMs: m.disbursedAtMs, from: m.disbursedFrom });
  });
  paid.sort((a, b) => (a.from < b.from ? -1 : 1));
  const to = paid.map(({ milestone, beneficiary, amount, atMs }) => ({ milestone, beneficiary, amount, atMs }));
  return { to, held: overlap(d.start, end, p.disbursed, p.raised) };
}
