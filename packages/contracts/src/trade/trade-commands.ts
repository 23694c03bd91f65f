// The block-trade contract's commands and their argument checks. Three fields are local to this
// folder because schema.ts lacks them: a bounded amount, a choice of strings, and an optional list.
import { isRejection, rejection, type Rejection } from "../contract.js";
import { identifier, objectOf, parseArgs, positiveAmount, requiredString, type Args, type Field } from "../schema.js";
import { HITS_MAX, INSTRUMENT_NAME_LENGTH_MAX, ORDER_DIGITS_MAX, ORDER_ID_LENGTH_MAX, type Side } from "./trade-state.js";

/** A resting order an incoming order expects to trade against, with the institutions whose keys settling it touches. */
export interface Hit {
  readonly order: string;
  readonly owner: string;
  readonly clearing: string;
}

/** The block-trade contract's commands. */
export type TradeCommand =
  | {
      readonly action: "list-instrument";
      readonly id: string;
      readonly name: string;
      readonly lotSize: bigint;
      readonly alertUnits: bigint;
    }
  | { readonly action: "lodge"; readonly instrument: string; readonly holder: string; readonly units: bigint }
  | { readonly action: "withdraw"; readonly instrument: string; readonly holder: string; readonly units: bigint }
  | {
      readonly action: "place-order";
      readonly order: string;
      readonly instrument: string;
      readonly side: Side;
      readonly quantity: bigint;
      readonly price: bigint;
      readonly clearing: string;
      readonly hits: readonly Hit[];
    }
  | { readonly action: "cancel-order"; readonly order: string; readonly instrument: string; readonly clearing: string };

function own(args: Args, name: string): unknown {
  return Object.hasOwn(args, name) ? args[name] : undefined;
}

/** A positive amount of at most `digits` decimal digits. */
export function amountUpTo(digits: number): Field<bigint> {
  return (args, name) => {
    const v = positiveAmount(args, name);
    if (isRejection(v)) return v;
    return v.toString().length > digits ? rejection("BAD_ARGS", `${name} must have at most ${digits} digits`) : v;
  };
}

/** An order id: an identifier of at most ORDER_ID_LENGTH_MAX characters. */
export const orderId: Field<string> = (args, name) => {
  const v = identifier(args, name);
  if (isRejection(v)) return v;
  return v.length > ORDER_ID_LENGTH_MAX ? rejection("BAD_ARGS", `${name} must be at most ${ORDER_ID_LENGTH_MAX} characters`) : v;
};

/** "buy" or "sell". */
export const side: Field<Side> = (args, name) => {
  const v = own(args, name);
  if (v === "buy" || v === "sell") return v;
  return rejection("BAD_ARGS", v === undefined ? `${name} is required` : `${name} must be "buy" or "sell"`);
};

/** An optional array of at most maxItems elements: absent or empty gives []. */
export function optionalArrayOf<T>(item: Field<T>, maxItems: number): Field<T[]> {
  return (args, name) => {
    const v = own(args, name);
    if (v === undefined) return [];
    if (!Array.isArray(v)) return rejection("BAD_ARGS", `${name} must be an array`);
    if (v.length > maxItems) return rejection("BAD_ARGS", `${name} must have at most ${maxItems} elements`);
    const out: T[] = [];
    for (let i = 0; i < v.length; i++) {
      const r = item({ [`${name}[${i}]`]: v[i] as unknown }, `${name}[${i}]`);
      if (isRejection(r)) return r;
      out.push(r);
    }
    return out;
  };
}

const hit: Field<Hit> = objectOf({ order: orderId, owner: identifier, clearing: identifier });

const orderDigits = amountUpTo(ORDER_DIGITS_MAX);

function parseList(args: Args): TradeCommand | Rejection {
  const a = parseArgs(args, {
    id: identifier,
    name: requiredString(INSTRUMENT_NAME_LENGTH_MAX),
    lotSize: orderDigits,
    alertUnits: orderDigits,
  });
  return isRejection(a) ? a : { action: "list-instrument", id: a.id, name: a.name, lotSize: a.lotSize, alertUnits: a.alertUnits };
}

function parseLodge(args: Args): TradeCommand | Rejection {
  const a = parseArgs(args, { instrument: identifier, holder: identifier, units: positiveAmount });
  return isRejection(a) ? a : { action: "lodge", instrument: a.instrument, holder: a.holder, units: a.units };
}

function parseWithdraw(args: Args): TradeCommand | Rejection {
  const a = parseArgs(args, { instrument: identifier, holder: identifier, units: positiveAmount });
  return isRejection(a) ? a : { action: "withdraw", instrument: a.instrument, holder: a.holder, units: a.units };
}

function parsePlace(args: Args): TradeCommand | Rejection {
  const a = parseArgs(args, {
    order: orderId,
    instrument: identifier,
    side,
    quantity: orderDigits,
    price: orderDigits,
    clearing: identifier,
    hits: optionalArrayOf(hit, HITS_MAX),
  });
  if (isRejection(a)) return a;
  return {
    action: "place-order",
    order: a.order,
    instrument: a.instrument,
    side: a.side,
    quantity: a.quantity,
    price: a.price,
    clearing: a.clearing,
    hits: a.hits,
  };
}

function parseCancel(args: Args): TradeCommand | Rejection {
  const a = parseArgs(args, { order: orderId, instrument: identifier, clearing: identifier });
  return isRejection(a) ? a : { action: "cancel-order", order: a.order, instrument: a.instrument, clearing: a.clearing };
}

/** The parser of each action's args. */
export const PARSERS = {
  "list-instrument": parseList,
  lodge: parseLodge,
  withdraw: parseWithdraw,
  "place-order": parsePlace,
  "cancel-order": parseCancel,
} as const;
