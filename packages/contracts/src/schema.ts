import { isValidId } from "@tally/ledger";
import { isRejection, rejection, type Rejection } from "./contract.js";

/** Raw JSON args as a command or query receives them. */
export type Args = Readonly<Record<string, unknown>>;

/** Reads and checks one named field of raw args: the value, or a BAD_ARGS rejection naming the field. */
export type Field<T> = (args: Args, name: string) => T | Rejection;

/** The value type a Field yields. */
export type FieldValue<F> = F extends Field<infer T> ? T : never;

/** Most decimal digits an amount may have: bounded so that balances and JSON stay bounded. */
export const AMOUNT_DIGITS_MAX = 30;

const AMOUNT_RE = /^[1-9][0-9]*$/;
const HEX32_RE = /^[0-9a-f]{64}$/;

function badArgs(name: string, message: string): Rejection {
  return rejection("BAD_ARGS", `${name} ${message}`);
}

// Own properties only: a field named "constructor" or "toString" must not be found on the prototype.
function own(args: Args, name: string): unknown {
  return Object.hasOwn(args, name) ? args[name] : undefined;
}

function checkString(v: unknown, name: string, maxLength: number): string | Rejection {
  if (typeof v !== "string") return badArgs(name, "must be a string");
  if (v.length === 0) return badArgs(name, "must not be empty");
  if (v.length > maxLength) return badArgs(name, `must be at most ${maxLength} characters`);
  return v;
}

/** A required, non-empty string of at most maxLength UTF-16 code units. */
export function requiredString(maxLength: number): Field<string> {
  return (args, name) => {
    const v = own(args, name);
    if (v === undefined) return badArgs(name, "is required");
    return checkString(v, name, maxLength);
  };
}

/** An optional string: absent gives undefined; present must be non-empty (omit it instead) and at most maxLength. */
export function optionalString(maxLength: number): Field<string | undefined> {
  return (args, name) => {
    const v = own(args, name);
    if (v === undefined) return undefined;
    return checkString(v, name, maxLength);
  };
}

/** A Tally identifier (institution, key): lowercase letters, digits, '.', '_' and '-'. Membership is checked in decide. */
export const identifier: Field<string> = (args, name) => {
  const v = own(args, name);
  if (v === undefined) return badArgs(name, "is required");
  if (typeof v !== "string" || !isValidId(v)) return badArgs(name, "must be an identifier (lowercase letters, digits, '.', '_', '-')");
  return v;
};

/** A positive amount in minor units: a decimal string without sign, point or leading zeros, at most 30 digits. */
export const positiveAmount: Field<bigint> = (args, name) => {
  const v = own(args, name);
  if (v === undefined) return badArgs(name, "is required");
  if (typeof v !== "string") return badArgs(name, "must be a decimal string of minor units, not a " + (v === null ? "null" : typeof v));
  if (v.length > AMOUNT_DIGITS_MAX) return badArgs(name, `must have at most ${AMOUNT_DIGITS_MAX} digits`);
  if (!AMOUNT_RE.test(v))
    return badArgs(name, "must be a positive integer of minor units in decimal, without sign, point or leading zeros");
  return BigInt(v);
};

/** 32 bytes as 64 lowercase hex characters (a sha256 digest or an Ed25519 public key). */
export const hex32: Field<string> = (args, name) => {
  const v = own(args, name);
  if (v === undefined) return badArgs(name, "is required");
  if (typeof v !== "string" || !HEX32_RE.test(v)) return badArgs(name, "must be 64 lowercase hex characters");
  return v;
};

/** Parses args against a shape of fields; any field the shape does not name is refused. */
export function parseArgs<S extends { readonly [name: string]: Field<unknown> }>(
  args: Args,
  shape: S,
): { readonly [K in keyof S]: FieldValue<S[K]> } | Rejection {
  // Sorted, so the same args give the same rejection whatever order their fields came in.
  const unexpected = Object.keys(args)
    .filter((k) => !Object.hasOwn(shape, k))
    .sort();
  if (unexpected[0] !== undefined) return rejection("BAD_ARGS", `unexpected field ${unexpected[0]}`);
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(shape).sort()) {
    const field = shape[name];
    if (field === undefined) continue;
    const v = field(args, name);
    if (isRejection(v)) return v;
    out[name] = v;
  }
  return out as { readonly [K in keyof S]: FieldValue<S[K]> };
}

function checkInteger(v: unknown, name: string, min: number, max: number): number | Rejection {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) return badArgs(name, "must be an integer");
  if (v < min || v > max) return badArgs(name, `must be between ${min} and ${max}`);
  return v;
}

/** A required integer in [min, max] (a JSON number; Unix milliseconds, basis points, counts). */
export function integer(min: number, max: number): Field<number> {
  return (args, name) => {
    const v = own(args, name);
    if (v === undefined) return badArgs(name, "is required");
    return checkInteger(v, name, min, max);
  };
}

/** An optional integer in [min, max]: absent gives undefined. */
export function optionalInteger(min: number, max: number): Field<number | undefined> {
  return (args, name) => {
    const v = own(args, name);
    if (v === undefined) return undefined;
    return checkInteger(v, name, min, max);
  };
}

/** An optional Tally identifier: absent gives undefined. */
export const optionalIdentifier: Field<string | undefined> = (args, name) =>
  own(args, name) === undefined ? undefined : identifier(args, name);

/** An optional positive amount: absent gives undefined. */
export const optionalAmount: Field<bigint | undefined> = (args, name) =>
  own(args, name) === undefined ? undefined : positiveAmount(args, name);

/** A Unix time in milliseconds, as a block timestamp is: an integer from 0 to year 9999. */
export const timeMs: Field<number> = integer(0, 253_402_300_799_999);

/**
 * A required array of at least 1 and at most maxItems elements, each checked by item (named
 * `name[i]` in rejections).
 */
export function arrayOf<T>(item: Field<T>, maxItems: number): Field<T[]> {
  return (args, name) => {
    const v = own(args, name);
    if (v === undefined) return badArgs(name, "is required");
    if (!Array.isArray(v)) return badArgs(name, "must be an array");
    if (v.length === 0) return badArgs(name, "must not be empty");
    if (v.length > maxItems) return badArgs(name, `must have at most ${maxItems} elements`);
    const out: T[] = [];
    for (let i = 0; i < v.length; i++) {
      const r = item({ [`${name}[${i}]`]: v[i] as unknown }, `${name}[${i}]`);
      if (isRejection(r)) return r;
      out.push(r);
    }
    return out;
  };
}

/** A required JSON object whose fields are checked against a shape (nested args). */
export function objectOf<S extends { readonly [name: string]: Field<unknown> }>(
  shape: S,
): Field<{ readonly [K in keyof S]: FieldValue<S[K]> }> {
  return (args, name) => {
    const v = own(args, name);
    if (v === undefined) return badArgs(name, "is required");
    if (typeof v !== "object" || v === null || Array.isArray(v)) return badArgs(name, "must be an object");
    const r = parseArgs(v as Args, shape);
    return isRejection(r) ? rejection("BAD_ARGS", `${name}: ${r.message}`) : r;
  };
}
