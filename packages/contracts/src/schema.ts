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
