// The bond contract's commands and their argument checks. Everything here is about the args
// alone: rules that need the state or the block time are decide's.
import { isRejection, rejection, type Rejection } from "../contract.js";
import { BALANCE_MAX } from "../cash/cash.js";
import {
  arrayOf,
  hex32,
  identifier,
  integer,
  optionalString,
  parseArgs,
  positiveAmount,
  timeMs,
  type Args,
  type Field,
} from "../schema.js";

/** Most coupon dates a bond may have (ten years of quarterly coupons). */
export const COUPON_DATES_MAX = 40;

/** Most holders a bond may have at once, and most investors that may subscribe to it. */
export const HOLDERS_MAX = 200;

/** Most institutions that may ever be party to one bond: bounds its state as holders come and go. */
export const BOND_PARTIES_MAX = 1000;

/** Highest coupon rate, in basis points a year (100%). */
export const COUPON_RATE_BP_MAX = 10_000;

/** Most coupons a year (monthly). */
export const COUPONS_PER_YEAR_MAX = 12;

/** Longest reason a regulator may give for a freeze, in UTF-16 code units. */
export const FREEZE_REASON_LENGTH_MAX = 200;

/** A bond command after its args are checked. Amounts and units are bigint. */
export type BondCommand =
  | {
      readonly action: "register";
      readonly bond: string;
      readonly regulator: string;
      readonly faceValue: bigint;
      readonly couponRateBp: number;
      readonly couponsPerYear: number;
      readonly couponDatesMs: readonly number[];
      readonly maturityMs: number;
      readonly sizeUnits: bigint;
      readonly subscriptionEndMs: number;
      readonly prospectusHash: string | undefined;
    }
  | { readonly action: "subscribe"; readonly bond: string; readonly units: bigint }
  | { readonly action: "allot"; readonly bond: string; readonly subscribers: readonly string[] }
  | {
      readonly action: "transfer";
      readonly bond: string;
      readonly seller: string;
      readonly buyer: string;
      readonly units: bigint;
      readonly price: bigint;
    }
  | { readonly action: "coupon"; readonly bond: string; readonly couponDateMs: number; readonly holders: readonly string[] }
  | { readonly action: "redeem"; readonly bond: string; readonly holders: readonly string[] }
  | { readonly action: "freeze"; readonly bond: string; readonly holder: string; readonly reason: string | undefined }
  | { readonly action: "unfreeze"; readonly bond: string; readonly holder: string };

function badArgs(message: string): Rejection {
  return rejection("BAD_ARGS", message);
}

/**
 * A required array of 0 to maxItems distinct identifiers: the holder or subscriber list a command
 * names so that keys() can load each one's entries (keys cannot read state).
 */
export function identifierSet(maxItems: number): Field<string[]> {
  return (args, name) => {
    const v = Object.hasOwn(args, name) ? args[name] : undefined;
    if (v === undefined) return badArgs(`${name} is required`);
    if (!Array.isArray(v)) return badArgs(`${name} must be an array`);
    if (v.length > maxItems) return badArgs(`${name} must have at most ${maxItems} elements`);
    const out: string[] = [];
    for (let i = 0; i < v.length; i++) {
      const item = `${name}[${i}]`;
      const r = identifier({ [item]: v[i] as unknown }, item);
      if (isRejection(r)) return r;
      if (out.includes(r)) return badArgs(`${item} repeats ${r}`);
      out.push(r);
    }
    return out;
  };
}

/** An optional 64-hex digest: absent gives undefined. */
const optionalHex32: Field<string | undefined> = (args, name) => (Object.hasOwn(args, name) ? hex32(args, name) : undefined);

function parseRegister(args: Args): BondCommand | Rejection {
  const a = parseArgs(args, {
    bond: identifier,
    regulator: identifier,
    faceValue: positiveAmount,
    couponRateBp: integer(0, COUPON_RATE_BP_MAX),
    couponsPerYear: integer(1, COUPONS_PER_YEAR_MAX),
    couponDatesMs: arrayOf(timeMs, COUPON_DATES_MAX),
    maturityMs: timeMs,
    sizeUnits: positiveAmount,
    subscriptionEndMs: timeMs,
    prospectusHash: optionalHex32,
  });
  if (isRejection(a)) return a;
  const dates = a.couponDatesMs;
  for (let i = 1; i < dates.length; i++) {
    if (dates[i]! <= dates[i - 1]!) return badArgs(`couponDatesMs must be strictly increasing: [${i}] ${dates[i]} follows ${dates[i - 1]}`);
  }
  if (dates[0]! <= a.subscriptionEndMs) {
    return badArgs(`couponDatesMs[0] ${dates[0]} must come after subscriptionEndMs ${a.subscriptionEndMs}`);
  }
  if (dates[dates.length - 1]! > a.maturityMs) {
    return badArgs(`couponDatesMs[${dates.length - 1}] ${dates[dates.length - 1]} must not come after maturityMs ${a.maturityMs}`);
  }
  // Every allotment, coupon and redemption payment is then within what one cash account may hold.
  if (a.faceValue * a.sizeUnits > BALANCE_MAX) {
    return badArgs(`faceValue ${a.faceValue} × sizeUnits ${a.sizeUnits} must be at most ${BALANCE_MAX}`);
  }
  return {
    action: "register",
    bond: a.bond,
    regulator: a.regulator,
    faceValue: a.faceValue,
    couponRateBp: a.couponRateBp,
    couponsPerYear: a.couponsPerYear,
    couponDatesMs: dates,
    maturityMs: a.maturityMs,
    sizeUnits: a.sizeUnits,
    subscriptionEndMs: a.subscriptionEndMs,
    prospectusHash: a.prospectusHash,
  };
}

function parseSubscribe(args: Args): BondCommand | Rejection {
  const a = parseArgs(args, { bond: identifier, units: positiveAmount });
  return isRejection(a) ? a : { action: "subscribe", bond: a.bond, units: a.units };
}

function parseAllot(args: Args): BondCommand | Rejection {
  const a = parseArgs(args, { bond: identifier, subscribers: identifierSet(HOLDERS_MAX) });
  return isRejection(a) ? a : { action: "allot", bond: a.bond, subscribers: a.subscribers };
}

function parseTransfer(args: Args): BondCommand | Rejection {
  const a = parseArgs(args, { bond: identifier, seller: identifier, buyer: identifier, units: positiveAmount, price: positiveAmount });
  return isRejection(a) ? a : { action: "transfer", bond: a.bond, seller: a.seller, buyer: a.buyer, units: a.units, price: a.price };
}

function parseCoupon(args: Args): BondCommand | Rejection {
  const a = parseArgs(args, { bond: identifier, couponDateMs: timeMs, holders: identifierSet(HOLDERS_MAX) });
  return isRejection(a) ? a : { action: "coupon", bond: a.bond, couponDateMs: a.couponDateMs, holders: a.holders };
}

function parseRedeem(args: Args): BondCommand | Rejection {
  const a = parseArgs(args, { bond: identifier, holders: identifierSet(HOLDERS_MAX) });
  return isRejection(a) ? a : { action: "redeem", bond: a.bond, holders: a.holders };
}

function parseFreeze(args: Args): BondCommand | Rejection {
  const a = parseArgs(args, { bond: identifier, holder: identifier, reason: optionalString(FREEZE_REASON_LENGTH_MAX) });
  return isRejection(a) ? a : { action: "freeze", bond: a.bond, holder: a.holder, reason: a.reason };
}

function parseUnfreeze(args: Args): BondCommand | Rejection {
  const a = parseArgs(args, { bond: identifier, holder: identifier });
  return isRejection(a) ? a : { action: "unfreeze", bond: a.bond, holder: a.holder };
}

/** The parse function of each action, by action name. */
export const bondParsers: { readonly [A in BondCommand["action"]]: (args: Args) => BondCommand | Rejection } = {
  register: parseRegister,
  subscribe: parseSubscribe,
  allot: parseAllot,
  transfer: parseTransfer,
  coupon: parseCoupon,
  redeem: parseRedeem,
  freeze: parseFreeze,
  unfreeze: parseUnfreeze,
};
