// The receivable contract's state: the record of one receivable (a root or a child of a split),
// the portfolio index and the invoice index, with their keys and bounds. Shared by decide, evolve
// and the queries so that all three read and write the same shape.
import { InvariantError, sha256, toHex, utf8, type JsonValue } from "@tally/ledger";
import {
  readBoolean,
  readDecimal,
  readNullableString,
  readObject,
  readString,
  readStringArray,
  type JsonObject,
  readInteger,
} from "../state-read.js";

/** The receivable contract's name in transactions and the registry. */
export const RECEIVABLE_CONTRACT = "receivable";

/** Longest root id: leaves room for DEPTH_MAX levels of `.<n>` within an identifier's 64 characters. */
export const ROOT_ID_LENGTH_MAX = 32;

/** Longest invoice reference, in UTF-16 code units. */
export const INVOICE_REF_LENGTH_MAX = 100;

/** Fewest children a split makes: a split into one is a transfer. */
export const SPLIT_PARTS_MIN = 2;

/** Most children one split makes. */
export const SPLIT_PARTS_MAX = 16;

/** Deepest a child may be (a root is depth 0): 32 + 8 × 3 characters of id stay under 64. */
export const DEPTH_MAX = 8;

/**
 * Most live leaves one tree may have. Settling pays every leaf in one transaction, so this bounds
 * that transaction (3 keys per leaf). Every split makes at least 2 children, so a tree has fewer
 * than 2 × LEAVES_MAX nodes, well under the lineage scan's 1000.
 */
export const LEAVES_MAX = 64;

/** Highest financing rate in basis points: below 100 %, so an advance is always at least 1. */
export const RATE_BP_MAX = 9999;

/** Basis points in one whole. */
export const BP_PER_UNIT = 10_000n;

/** Most entries the lineage and portfolio queries load. */
export const QUERY_SCAN_MAX = 1000;

/** Where a receivable stands. Only a root is ever `registered`; children are born `confirmed`. */
export type ReceivableStatus = "registered" | "confirmed" | "split" | "settled";

const STATUSES: readonly string[] = ["registered", "confirmed", "split", "settled"];

/** One receivable as the contract reads it. */
export interface ReceivableRecord {
  readonly id: string;
  /** The root's id: the part of the id before the first `.`. */
  readonly root: string;
  readonly parent: string | null;
  readonly children: readonly string[];
  /** 0 for a root, parent's depth + 1 for a child. */
  readonly depth: number;
  /** The enterprise that registered the root. */
  readonly supplier: string;
  /** The core enterprise that owes it. */
  readonly debtor: string;
  /** The current holder; null once split (its children are held instead). A settled leaf keeps the holder that was paid. */
  readonly holder: string | null;
  readonly amount: bigint;
  readonly dueMs: number;
  readonly invoiceRef: string;
  readonly status: ReceivableStatus;
  /** True once it or an ancestor was financed: children inherit it, so a piece of a factored receivable is not factored again. */
  readonly financed: boolean;
  /** The bank that financed it or its ancestor, or null. */
  readonly financedBy: string | null;
  /** Root only: the ids of the tree's live (unsettled) leaves, in tree order; null on a child. */
  readonly leaves: readonly string[] | null;
  /** Block time the root's tree or this leaf was settled, or null. */
  readonly settledAtMs: number | null;
  /** Sorted: every institution that is or was party to it. */
  readonly parties: readonly string[];
}

/** The state key of a receivable. */
export function receivableKey(id: string): string {
  return `recv/${id}`;
}

/** The portfolio index entry of a holding: `held/<holder>/recv/<id>` → {amount, debtor, dueMs}. */
export function heldKey(holder: string, id: string): string {
  return `${heldPrefix(holder)}${receivableKey(id)}`;
}

/** The prefix of every portfolio index entry of one holder. */
export function heldPrefix(holder: string): string {
  return `held/${holder}/`;
}

/**
 * The invoice index entry: `invoice/<debtor>/<sha256 of supplier and reference>` → {id}. One
 * invoice is registered once, so it cannot be factored twice under two receivable ids. Hashed
 * because an invoice reference is free text and keys are identifiers.
 */
export function invoiceKey(debtor: string, supplier: string, invoiceRef: string): string {
  // An identifier holds no newline, so supplier and reference are told apart unambiguously.
  return `invoice/${debtor}/${toHex(sha256(utf8(`${supplier}\n${invoiceRef}`)))}`;
}

/** The root id of any receivable id: the part before the first `.`. */
export function rootOf(id: string): string {
  const dot = id.indexOf(".");
  return dot < 0 ? id : id.slice(0, dot);
}

/** The id of a split's n-th child (n from 1). */
export function childId(parent: string, n: number): string {
  return `${parent}.${n}`;
}

/** The sorted union of party lists, without duplicates. */
export function unionParties(...lists: readonly (readonly string[])[]): string[] {
  return [...new Set(lists.flat())].sort();
}

function broken(what: string, message: string): never {
  throw new InvariantError(`${what}: ${message}`, "CONTRACT_STATE");
}

/** See state-read.ts. */
export { readInteger };

function readNullableInteger(o: JsonObject, field: string, what: string): number | null {
  return o[field] === null ? null : readInteger(o, field, what);
}

/** Reads a receivable's state value; throws InvariantError when it is malformed (our own bug). */
export function readRecord(v: JsonValue | undefined, what: string): ReceivableRecord {
  const o = readObject(v, what);
  const status = readString(o, "status", what);
  if (!STATUSES.includes(status)) broken(what, `status ${status} is unknown`);
  const leaves = o.leaves === null ? null : readStringArray(o.leaves, `${what} leaves`);
  return {
    id: readString(o, "id", what),
    root: readString(o, "root", what),
    parent: readNullableString(o, "parent", what),
    children: readStringArray(o.children, `${what} children`),
    depth: readInteger(o, "depth", what),
    supplier: readString(o, "supplier", what),
    debtor: readString(o, "debtor", what),
    holder: readNullableString(o, "holder", what),
    amount: readDecimal(o, "amount", what),
    dueMs: readInteger(o, "dueMs", what),
    invoiceRef: readString(o, "invoiceRef", what),
    status: status as ReceivableStatus,
    financed: readBoolean(o, "financed", what),
    financedBy: readNullableString(o, "financedBy", what),
    leaves,
    settledAtMs: readNullableInteger(o, "settledAtMs", what),
    parties: readStringArray(o.parties, `${what} parties`),
  };
}

/** A receivable's state value: amounts as decimal strings. */
export function recordValue(r: ReceivableRecord): JsonValue {
  return {
    id: r.id,
    root: r.root,
    parent: r.parent,
    children: [...r.children],
    depth: r.depth,
    supplier: r.supplier,
    debtor: r.debtor,
    holder: r.holder,
    amount: r.amount.toString(),
    dueMs: r.dueMs,
    invoiceRef: r.invoiceRef,
    status: r.status,
    financed: r.financed,
    financedBy: r.financedBy,
    leaves: r.leaves === null ? null : [...r.leaves],
    settledAtMs: r.settledAtMs,
    parties: [...r.parties],
  };
}

/** A portfolio index entry's value. */
export function heldValue(r: ReceivableRecord): JsonValue {
  return { amount: r.amount.toString(), debtor: r.debtor, dueMs: r.dueMs };
}
