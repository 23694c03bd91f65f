// Schema fields the governance args need and schema.ts lacks: an enumerated string, a role list,
// a possibly empty bounded list, and fraction terms. Local to membership (see the contract brief).
import { ROLES } from "@tally/ledger";
import { isRejection, rejection, type Rejection } from "../contract.js";
import { integer, type Args, type Field } from "../schema.js";

/** Largest numerator or denominator a proposed fraction may carry, so comparisons stay small. */
export const FRACTION_TERM_MAX = 1_000_000;

// Own properties only, as schema.ts reads them.
function own(args: Args, name: string): unknown {
  return Object.hasOwn(args, name) ? args[name] : undefined;
}

function badArgs(name: string, message: string): Rejection {
  return rejection("BAD_ARGS", `${name} ${message}`);
}

/** A required string that is one of the given values. */
export function oneOf<const T extends string>(values: readonly T[]): Field<T> {
  return (args, name) => {
    const v = own(args, name);
    if (v === undefined) return badArgs(name, "is required");
    if (typeof v !== "string" || !(values as readonly string[]).includes(v)) return badArgs(name, `must be one of ${values.join(", ")}`);
    return v as T;
  };
}

/**
 * A role list: 1 to ROLES.length distinct role names, in the order given. A name that is a
 * string but not a Tally role is UNKNOWN_ROLE, so a typo in a role reads as such.
 */
export const roleList: Field<string[]> = (args, name) => {
  const v = own(args, name);
  if (v === undefined) return badArgs(name, "is required");
  if (!Array.isArray(v)) return badArgs(name, "must be an array");
  if (v.length === 0) return badArgs(name, "must not be empty");
  if (v.length > ROLES.length) return badArgs(name, `must have at most ${ROLES.length} elements`);
  const out: string[] = [];
  for (const r of v as unknown[]) {
    if (typeof r !== "string") return badArgs(name, "must hold role names");
    if (!(ROLES as readonly string[]).includes(r))
      return rejection("UNKNOWN_ROLE", `${name}: ${r.slice(0, 64)} is not a role; roles are ${ROLES.join(", ")}`);
    if (out.includes(r)) return badArgs(name, `names ${r} twice`);
    out.push(r);
  }
  return out;
};

/** An array of 0 to maxItems elements, each checked by item (named `name[i]` in rejections). */
export function listOf<T>(item: Field<T>, maxItems: number): Field<T[]> {
  return (args, name) => {
    const v = own(args, name);
    if (v === undefined) return badArgs(name, "is required");
    if (!Array.isArray(v)) return badArgs(name, "must be an array");
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

/** One term of a proposed fraction (numerator or denominator): an integer from 1 to FRACTION_TERM_MAX. */
export const fractionTerm: Field<number> = integer(1, FRACTION_TERM_MAX);

/** A field that may be absent (undefined); present, it is checked by `field`. */
export function optional<T>(field: Field<T>): Field<T | undefined> {
  return (args, name) => (own(args, name) === undefined ? undefined : field(args, name));
}

/** A JSON boolean. */
export const booleanField: Field<boolean> = (args, name) => {
  const v = own(args, name);
  if (typeof v !== "boolean") return badArgs(name, "must be true or false");
  return v;
};

/** Most reason codes a supervision rule may list. */
export const REASON_CODES_MAX = 32;

const REASON_CODE_RE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** A list of 1..REASON_CODES_MAX distinct rejection reason codes (UPPER_SNAKE_CASE). */
export const reasonCodeList: Field<string[]> = (args, name) => {
  const v = own(args, name);
  if (!Array.isArray(v) || v.length === 0 || v.length > REASON_CODES_MAX) {
    return badArgs(name, `must be a list of 1 to ${REASON_CODES_MAX} reason codes`);
  }
  if (!v.every((c): c is string => typeof c === "string" && REASON_CODE_RE.test(c)))
    return badArgs(name, "must hold UPPER_SNAKE_CASE reason codes");
  if (new Set(v).size !== v.length) return badArgs(name, "must not repeat a reason code");
  return [...v];
};
