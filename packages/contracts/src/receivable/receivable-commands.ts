// The receivable contract's commands and their argument checks. Every string, array and amount is
// bounded here, before any state is read.
import { isRejection, rejection, type Rejection } from "../contract.js";
import {
  arrayOf,
  identifier,
  integer,
  objectOf,
  parseArgs,
  positiveAmount,
  requiredString,
  timeMs,
  type Args,
  type Field,
} from "../schema.js";
import {
  INVOICE_REF_LENGTH_MAX,
  LEAVES_MAX,
  RATE_BP_MAX,
  ROOT_ID_LENGTH_MAX,
  SPLIT_PARTS_MAX,
  SPLIT_PARTS_MIN,
} from "./receivable-record.js";

/** One child of a split: who will hold it and for how much. */
export interface SplitPart {
  readonly to: string;
  readonly amount: bigint;
}

/** One live leaf a settle names, with the holder it expects to pay. */
export interface SettleLeaf {
  readonly id: string;
  readonly holder: string;
}

/** The receivable contract's commands. */
export type ReceivableCommand =
  | {
      readonly action: "register";
      readonly id: string;
      readonly debtor: string;
      readonly amount: bigint;
      readonly dueMs: number;
      readonly invoiceRef: string;
    }
  | { readonly action: "confirm"; readonly id: string }
  | { readonly action: "transfer"; readonly id: string; readonly to: string }
  | { readonly action: "split"; readonly id: string; readonly parts: readonly SplitPart[] }
  | { readonly action: "finance"; readonly id: string; readonly bank: string; readonly rateBp: number }
  | { readonly action: "settle"; readonly id: string; readonly leaves: readonly SettleLeaf[] };

/**
 * A root receivable's id: an identifier without `.` (a `.` marks a child of a split), at most
 * ROOT_ID_LENGTH_MAX characters so that children's ids stay identifiers.
 */
export const rootId: Field<string> = (args, name) => {
  const v = identifier(args, name);
  if (isRejection(v)) return v;
  if (v.includes(".")) return rejection("BAD_ARGS", `${name} must not contain '.': it is kept for the ids of split children`);
  if (v.length > ROOT_ID_LENGTH_MAX) return rejection("BAD_ARGS", `${name} must be at most ${ROOT_ID_LENGTH_MAX} characters`);
  return v;
};

function parseRegister(args: Args): ReceivableCommand | Rejection {
  const a = parseArgs(args, {
    id: rootId,
    debtor: identifier,
    amount: positiveAmount,
    dueMs: timeMs,
    invoiceRef: requiredString(INVOICE_REF_LENGTH_MAX),
  });
  return isRejection(a) ? a : { action: "register", ...a };
}

function parseConfirm(args: Args): ReceivableCommand | Rejection {
  const a = parseArgs(args, { id: rootId });
  return isRejection(a) ? a : { action: "confirm", id: a.id };
}

function parseTransfer(args: Args): ReceivableCommand | Rejection {
  const a = parseArgs(args, { id: identifier, to: identifier });
  return isRejection(a) ? a : { action: "transfer", id: a.id, to: a.to };
}

function parseSplit(args: Args): ReceivableCommand | Rejection {
  const a = parseArgs(args, { id: identifier, parts: arrayOf(objectOf({ to: identifier, amount: positiveAmount }), SPLIT_PARTS_MAX) });
  if (isRejection(a)) return a;
  if (a.parts.length < SPLIT_PARTS_MIN) return rejection("BAD_ARGS", `parts must have at least ${SPLIT_PARTS_MIN} elements`);
  return { action: "split", id: a.id, parts: a.parts };
}

function parseFinance(args: Args): ReceivableCommand | Rejection {
  const a = parseArgs(args, { id: identifier, bank: identifier, rateBp: integer(0, RATE_BP_MAX) });
  return isRejection(a) ? a : { action: "finance", id: a.id, bank: a.bank, rateBp: a.rateBp };
}

function parseSettle(args: Args): ReceivableCommand | Rejection {
  const a = parseArgs(args, { id: rootId, leaves: arrayOf(objectOf({ id: identifier, holder: identifier }), LEAVES_MAX) });
  if (isRejection(a)) return a;
  const seen = new Set<string>();
  for (const leaf of a.leaves) {
    if (seen.has(leaf.id)) return rejection("BAD_ARGS", `leaves names ${leaf.id} twice`);
    seen.add(leaf.id);
  }
  return { action: "settle", id: a.id, leaves: a.leaves };
}

/** The parser of each action's args. */
export const parsers = {
  register: parseRegister,
  confirm: parseConfirm,
  transfer: parseTransfer,
  split: parseSplit,
  finance: parseFinance,
  settle: parseSettle,
} as const;
