// The warehouse contract's state: receipts, their holding and collateral indexes, and the loan
// interest rule. Pure reading and writing of JSON values; decide and evolve live in warehouse.ts.
import { InvariantError, type JsonValue } from "@tally/ledger";
import type { StateSlice } from "../contract.js";
import { readDecimal, readObject, readString, readStringArray } from "../state-read.js";
import { readCount } from "./supply-fields.js";

/** The warehouse contract's name in transactions and the registry. */
export const WAREHOUSE_CONTRACT = "warehouse";

/** Milliseconds in a day, for loan interest. */
export const DAY_MS = 86_400_000;

/** Days in the interest year (actual/365). */
export const INTEREST_YEAR_DAYS = 365n;

/** Basis points in one (100%). */
export const BP_PER_UNIT = 10_000n;

/** The state key of a warehouse receipt. */
export function receiptKey(id: string): string {
  return `receipt/${id}`;
}

/** The portfolio index entry of a receipt its holder holds: {warehouse, commodity, quantity, unit}. */
export function heldReceiptKey(holder: string, id: string): string {
  return `held/${holder}/${receiptKey(id)}`;
}

/** The collateral index entry of a receipt pledged to a bank: {holder, principal, rateBp, disbursedAtMs}. */
export function pledgedReceiptKey(bank: string, id: string): string {
  return `pledged/${bank}/${receiptKey(id)}`;
}

/** A loan secured on a receipt: who lent what at which rate, and when it was disbursed. */
export interface Pledge {
  readonly bank: string;
  readonly principal: bigint;
  readonly rateBp: number;
  readonly disbursedAtMs: number;
}

/** A warehouse receipt as kept in state. */
export interface Receipt {
  readonly id: string;
  readonly warehouse: string;
  readonly holder: string;
  readonly commodity: string;
  readonly quantity: bigint;
  readonly unit: string;
  /** `active` while the goods are in the warehouse; `released` once they left (the receipt is closed). */
  readonly status: "active" | "released";
  readonly pledge: Pledge | null;
  readonly issuedAtMs: number;
  readonly releasedAtMs: number | null;
  /** Every institution that is or was party to the receipt, sorted. */
  readonly parties: readonly string[];
}

function broken(what: string, message: string): never {
  throw new InvariantError(`${what}: ${message}`, "CONTRACT_STATE");
}

function readPledge(v: JsonValue | undefined, what: string): Pledge | null {
  if (v === null) return null;
  const o = readObject(v, `${what} pledge`);
  return {
    bank: readString(o, "bank", what),
    principal: readDecimal(o, "principal", what),
    rateBp: readCount(o, "rateBp", what),
    disbursedAtMs: readCount(o, "disbursedAtMs", what),
  };
}

/** The receipt in the slice, or undefined; throws InvariantError when the stored value is malformed. */
export function receiptIn(state: StateSlice, id: string): Receipt | undefined {
  const v = state.get(receiptKey(id));
  if (v === undefined) return undefined;
  const what = `warehouse receipt ${id}`;
  const o = readObject(v, what);
  const status = readString(o, "status", what);
  if (status !== "active" && status !== "released") broken(what, `status ${status} is unknown`);
  const released = o.releasedAtMs;
  return {
    id: readString(o, "id", what),
    warehouse: readString(o, "warehouse", what),
    holder: readString(o, "holder", what),
    commodity: readString(o, "commodity", what),
    quantity: readDecimal(o, "quantity", what),
    unit: readString(o, "unit", what),
    status,
    pledge: readPledge(o.pledge, what),
    issuedAtMs: readCount(o, "issuedAtMs", what),
    releasedAtMs: released === null ? null : readCount(o, "releasedAtMs", what),
    parties: readStringArray(o.parties, `${what} parties`),
  };
}

/** The receipt as its JSON state value: amounts as decimal strings. */
export function receiptJson(r: Receipt): JsonValue {
  return {
    id: r.id,
    warehouse: r.warehouse,
    holder: r.holder,
    commodity: r.commodity,
    quantity: r.quantity.toString(),
    unit: r.unit,
    status: r.status,
    pledge:
      r.pledge === null
        ? null
        : { bank: r.pledge.bank, principal: r.pledge.principal.toString(), rateBp: r.pledge.rateBp, disbursedAtMs: r.pledge.disbursedAtMs },
    issuedAtMs: r.issuedAtMs,
    releasedAtMs: r.releasedAtMs,
    parties: [...r.parties],
  };
}

/** The portfolio index entry of a receipt. */
export function heldEntry(r: Receipt): JsonValue {
  return { warehouse: r.warehouse, commodity: r.commodity, quantity: r.quantity.toString(), unit: r.unit };
}

/** The collateral index entry of a pledged receipt. */
export function pledgedEntry(holder: string, p: Pledge): JsonValue {
  return { holder, principal: p.principal.toString(), rateBp: p.rateBp, disbursedAtMs: p.disbursedAtMs };
}

/** What a loan costs when repaid: whole days charged, and the interest in minor units. */
export interface LoanInterest {
  readonly days: bigint;
  readonly interest: bigint;
}

/**
 * Simple interest, actual/365: principal × rateBp × days / (10000 × 365). The division is integer
 * floor division (the borrower never pays a fraction of a minor unit). Days run from disbursement
 * to repayment, any part of a day counting as a whole one (ceiling); a repayment in the block of
 * disbursement (or a block time before it, which a monotone chain never gives) costs no interest.
 */
export function loanInterest(principal: bigint, rateBp: number, disbursedAtMs: number, repaidAtMs: number): LoanInterest {
  const elapsedMs = BigInt(Math.max(0, repaidAtMs - disbursedAtMs));
  const dayMs = BigInt(DAY_MS);
  // Ceiling division of non-negative integers.
  const days = (elapsedMs + dayMs - 1n) / dayMs;
  const interest = (principal * BigInt(rateBp) * days) / (BP_PER_UNIT * INTEREST_YEAR_DAYS);
  return { days, interest };
}
