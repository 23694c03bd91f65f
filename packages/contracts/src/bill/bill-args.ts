// The bill contract's commands and the checks of their raw args (every field bounded).
import { isRejection, rejection, type Rejection } from "../contract.js";
import { arrayOf, identifier, integer, parseArgs, positiveAmount, timeMs, type Args, type Field } from "../schema.js";
import { BILL_ROOT_ID_LENGTH_MAX, RATE_BP_MAX, SPLIT_CHILDREN_MAX } from "./bill-state.js";

/** A bill command, one per action. */
export type BillCommand =
  | {
      readonly action: "issue";
      readonly id: string;
      readonly payee: string;
      readonly acceptor: string;
      readonly amount: bigint;
      readonly dueMs: number;
    }
  | { readonly action: "accept"; readonly id: string }
  | { readonly action: "void"; readonly id: string }
  | { readonly action: "endorse"; readonly id: string; readonly to: string }
  | { readonly action: "split"; readonly id: string; readonly amounts: readonly bigint[] }
  | { readonly action: "discount"; readonly id: string; readonly bank: string; readonly rateBp: number }
  | { readonly action: "pledge"; readonly id: string; readonly bank: string }
  | { readonly action: "release"; readonly id: string }
  | { readonly action: "pay"; readonly id: string }
  | { readonly action: "dishonour"; readonly id: string }
  | { readonly action: "recourse"; readonly id: string; readonly from: string };

/** The id of a newly issued bill: an identifier without '.' (that marks split children), at most BILL_ROOT_ID_LENGTH_MAX long. */
export const rootBillId: Field<string> = (args, name) => {
  const v = identifier(args, name);
  if (isRejection(v)) return v;
  if (v.includes(".")) return rejection("BAD_ARGS", `${name} must not contain '.': it marks the children of a split`);
  if (v.length > BILL_ROOT_ID_LENGTH_MAX) return rejection("BAD_ARGS", `${name} must be at most ${BILL_ROOT_ID_LENGTH_MAX} characters`);
  return v;
};

const rateBp = integer(0, RATE_BP_MAX);

function parseIssue(args: Args): BillCommand | Rejection {
  const a = parseArgs(args, { id: rootBillId, payee: identifier, acceptor: identifier, amount: positiveAmount, dueMs: timeMs });
  return isRejection(a) ? a : { action: "issue", id: a.id, payee: a.payee, acceptor: a.acceptor, amount: a.amount, dueMs: a.dueMs };
}

function parseIdOnly(action: "accept" | "void" | "release" | "pay" | "dishonour"): (args: Args) => BillCommand | Rejection {
  return (args) => {
    const a = parseArgs(args, { id: identifier });
    return isRejection(a) ? a : { action, id: a.id };
  };
}

function parseEndorse(args: Args): BillCommand | Rejection {
  const a = parseArgs(args, { id: identifier, to: identifier });
  return isRejection(a) ? a : { action: "endorse", id: a.id, to: a.to };
}

function parseSplit(args: Args): BillCommand | Rejection {
  const a = parseArgs(args, { id: identifier, amounts: arrayOf(positiveAmount, SPLIT_CHILDREN_MAX) });
  if (isRejection(a)) return a;
  if (a.amounts.length < 2) return rejection("BAD_ARGS", "amounts must have at least 2 elements: a split makes two bills or more");
  return { action: "split", id: a.id, amounts: a.amounts };
}

function parseDiscount(args: Args): BillCommand | Rejection {
  const a = parseArgs(args, { id: identifier, bank: identifier, rateBp });
  return isRejection(a) ? a : { action: "discount", id: a.id, bank: a.bank, rateBp: a.rateBp };
}

function parsePledge(args: Args): BillCommand | Rejection {
  const a = parseArgs(args, { id: identifier, bank: identifier });
  return isRejection(a) ? a : { action: "pledge", id: a.id, bank: a.bank };
}

function parseRecourse(args: Args): BillCommand | Rejection {
  const a = parseArgs(args, { id: identifier, from: identifier });
  return isRejection(a) ? a : { action: "recourse", id: a.id, from: a.from };
}

/** The parser of each action's args. */
export const billParsers = {
  issue: parseIssue,
  accept: parseIdOnly("accept"),
  void: parseIdOnly("void"),
  endorse: parseEndorse,
  split: parseSplit,
  discount: parseDiscount,
  pledge: parsePledge,
  release: parseIdOnly("release"),
  pay: parseIdOnly("pay"),
  dishonour: parseIdOnly("dishonour"),
  recourse: parseRecourse,
} as const;
