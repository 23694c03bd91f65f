// The state of a digital bill (SCENARIOS.md §1) and of the holders' portfolio index: the shapes
// the bill contract's decide reads and its evolve writes, with their bounds.
import { InvariantError, type JsonValue } from "@tally/ledger";
import type { StateSlice } from "../contract.js";
import {
  readArray,
  readDecimal,
  readNullableString,
  readObject,
  readString,
  readStringArray,
  type JsonObject,
  readInteger,
} from "../state-read.js";

/** The bill contract's name in transactions and the registry. */
export const BILL_CONTRACT = "bill";

/** One day in milliseconds: the unit of a bill's days to maturity. */
export const DAY_MS = 86_400_000;

/** Longest term a bill may have from issue to its due date: a year, leap day included. */
export const BILL_TERM_MAX_MS = 366 * DAY_MS;

/**
 * Longest id of an issued (root) bill. Children add `.<n>` per level (at most `.16.16`), so every
 * id in a tree stays within the 64 characters of a Tally identifier.
 */
export const BILL_ROOT_ID_LENGTH_MAX = 48;

/** Most children one split makes. */
export const SPLIT_CHILDREN_MAX = 16;

/** Deepest level a split child may sit at (a root is level 0): a tree holds at most 1 + 16 + 256 = 273 bills. */
export const SPLIT_DEPTH_MAX = 2;

/** Most transfers (delivery, endorsements, discounts) a bill's chain may record. */
export const ENDORSEMENTS_MAX = 64;

/** Highest discount rate, in basis points a year: 100%. */
export const RATE_BP_MAX = 10_000;

/**
 * How long after the due date the holder must wait before recording non-payment: the acceptor
 * has the whole due day to pay, so a dishonour comes "after the due date".
 */
export const DISHONOUR_GRACE_MS = DAY_MS;

/** Where a bill is in its life. */
export type BillState = "issued" | "accepted" | "pledged" | "split" | "paid" | "voided" | "dishonoured" | "settled";

const BILL_STATES: readonly BillState[] = ["issued", "accepted", "pledged", "split", "paid", "voided", "dishonoured", "settled"];

/** States in which a bill sits in its holder's portfolio: it is held and may still be acted on or claimed on. */
export const HELD_STATES: readonly BillState[] = ["issued", "accepted", "pledged", "dishonoured"];

/** How a bill changed hands: the drawer's delivery to the payee, an endorsement, or a discount to a bank. */
export type TransferKind = "deliver" | "endorse" | "discount";

const TRANSFER_KINDS: readonly TransferKind[] = ["deliver", "endorse", "discount"];

/** One link of the endorsement chain. */
export interface Endorsement {
  readonly kind: TransferKind;
  readonly from: string;
  readonly to: string;
  readonly atMs: number;
}

/** A bill as decide and evolve see it. */
export interface Bill {
  readonly id: string;
  /** The bill this one was split from, or null for an issued bill. */
  readonly parent: string | null;
  /** The ids of the bills this one was split into, in order; empty unless split. */
  readonly children: readonly string[];
  readonly drawer: string;
  readonly payee: string;
  readonly acceptor: string;
  readonly amount: bigint;
  readonly dueMs: number;
  readonly holder: string;
  readonly state: BillState;
  /** The bank the bill is pledged to, while it is pledged. */
  readonly pledgee: string | null;
  /** Every transfer since issue, oldest first; a split child inherits its parent's. */
  readonly endorsements: readonly Endorsement[];
  /** The earlier endorser who paid the holder's recourse claim, once settled. */
  readonly recourseFrom: string | null;
  /** Every institution that is or was party to the bill, sorted. */
  readonly parties: readonly string[];
}

/** The state key of a bill. */
export function billKey(id: string): string {
  return `bill/${id}`;
}

/** The prefix of every portfolio index entry of a holder. */
export function heldPrefix(holder: string): string {
  return `held/${holder}/`;
}

/** The portfolio index entry of a bill its holder holds: `held/<holder>/bill/<id>` → {amount, dueMs}. */
export function heldKey(holder: string, id: string): string {
  return `${heldPrefix(holder)}${billKey(id)}`;
}

/** The id of a bill's root (the issued bill its tree grew from): the part before the first '.'. */
export function rootOf(id: string): string {
  const dot = id.indexOf(".");
  return dot < 0 ? id : id.slice(0, dot);
}

/** How many splits deep a bill sits: the number of '.' in its id. */
export function depthOf(id: string): number {
  return id.split(".").length - 1;
}

/** The id of the n-th child (from 1) of a split bill. */
export function childId(parent: string, n: number): string {
  return `${parent}.${n}`;
}

/** The parties with more added: sorted, each once. */
export function withParties(parties: readonly string[], ...more: readonly string[]): string[] {
  return [...new Set([...parties, ...more])].sort();
}

function broken(what: string, message: string): never {
  throw new InvariantError(`${what}: ${message}`, "CONTRACT_STATE");
}

/** See state-read.ts. */
export { readInteger };

function readOneOf<T extends string>(o: JsonObject, field: string, allowed: readonly T[], what: string): T {
  const v = readString(o, field, what);
  if (!(allowed as readonly string[]).includes(v)) broken(what, `${field} ${v} is not one of ${allowed.join(", ")}`);
  return v as T;
}

/** A transfer kind from event data; throws InvariantError otherwise. */
export function readTransferKind(o: JsonObject, field: string, what: string): TransferKind {
  return readOneOf(o, field, TRANSFER_KINDS, what);
}

function readEndorsement(v: JsonValue, what: string): Endorsement {
  const o = readObject(v, what);
  return {
    kind: readTransferKind(o, "kind", what),
    from: readString(o, "from", what),
    to: readString(o, "to", what),
    atMs: readInteger(o, "atMs", what),
  };
}

/** A bill from its state value; throws InvariantError when it is malformed. */
export function readBill(v: JsonValue | undefined, what: string): Bill {
  const o = readObject(v, what);
  const amount = readDecimal(o, "amount", what);
  if (amount === 0n) broken(what, "amount is zero");
  return {
    id: readString(o, "id", what),
    parent: readNullableString(o, "parent", what),
    children: readStringArray(o.children, `${what} children`),
    drawer: readString(o, "drawer", what),
    payee: readString(o, "payee", what),
    acceptor: readString(o, "acceptor", what),
    amount,
    dueMs: readInteger(o, "dueMs", what),
    holder: readString(o, "holder", what),
    state: readOneOf(o, "state", BILL_STATES, what),
    pledgee: readNullableString(o, "pledgee", what),
    endorsements: readArray(o, "endorsements", what).map((e) => readEndorsement(e, `${what} endorsement`)),
    recourseFrom: readNullableString(o, "recourseFrom", what),
    parties: readStringArray(o.parties, `${what} parties`),
  };
}

/** A bill as its state value. */
export function billValue(b: Bill): JsonValue {
  return {
    id: b.id,
    parent: b.parent,
    children: [...b.children],
    drawer: b.drawer,
    payee: b.payee,
    acceptor: b.acceptor,
    amount: b.amount.toString(),
    dueMs: b.dueMs,
    holder: b.holder,
    state: b.state,
    pledgee: b.pledgee,
    endorsements: b.endorsements.map((e) => ({ kind: e.kind, from: e.from, to: e.to, atMs: e.atMs })),
    recourseFrom: b.recourseFrom,
    parties: [...b.parties],
  };
}

/** The bill with that id in the slice, or undefined when there is none. */
export function billIn(state: StateSlice, id: string): Bill | undefined {
  const v = state.get(billKey(id));
  return v === undefined ? undefined : readBill(v, `bill ${id}`);
}

/** The portfolio index value of a held bill. */
export function heldValue(b: Bill): JsonValue {
  return { amount: b.amount.toString(), dueMs: b.dueMs };
}

/**
 * The institutions a holder may claim recourse against: whoever transferred the bill before the
 * holder first received it (the drawer's delivery included). A holder that endorsed the bill and
 * got it back has no claim on those who came after its own endorsement; a drawer holding its own
 * bill has none at all.
 */
export function earlierEndorsers(b: Bill): string[] {
  if (b.holder === b.drawer) return [];
  const out: string[] = [];
  for (const e of b.endorsements) {
    if (!out.includes(e.from)) out.push(e.from);
    if (e.to === b.holder) break;
  }
  return out.filter((p) => p !== b.holder);
}
