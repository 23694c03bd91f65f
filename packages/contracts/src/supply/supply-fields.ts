// Schema fields and small pure helpers the supply chain finance contracts (warehouse, logistics)
// share, which schema.ts does not offer.
import { isRejection, rejection, type Rejection, type TxContext } from "../contract.js";
import { arrayOf, type Args, type Field } from "../schema.js";
import { readInteger as readCount } from "../state-read.js";

/** One of a fixed set of strings (an event kind, say); anything else is BAD_ARGS naming the field. */
export function oneOf<const T extends string>(values: readonly T[]): Field<T> {
  return (args, name) => {
    const v = Object.hasOwn(args, name) ? args[name] : undefined;
    if (v === undefined) return rejection("BAD_ARGS", `${name} is required`);
    if (typeof v !== "string" || !(values as readonly string[]).includes(v)) {
      return rejection("BAD_ARGS", `${name} must be one of ${values.join(", ")}`);
    }
    return v as T;
  };
}

/**
 * An optional array of 1 to maxItems distinct elements: absent gives undefined; present must not be
 * empty (omit it instead) nor repeat an element.
 */
export function optionalDistinctArrayOf<T>(item: Field<T>, maxItems: number): Field<T[] | undefined> {
  const required = arrayOf(item, maxItems);
  return (args: Args, name: string): T[] | undefined | Rejection => {
    if (!Object.hasOwn(args, name) || args[name] === undefined) return undefined;
    const v = required(args, name);
    if (isRejection(v)) return v;
    if (new Set(v).size !== v.length) return rejection("BAD_ARGS", `${name} must not repeat an element`);
    return v;
  };
}

/** The institutions, each once, sorted: the `parties` of a state value or event. */
export function partiesOf(...institutions: readonly string[]): string[] {
  return [...new Set(institutions)].sort();
}

/** True when the member holds the role in this transaction's membership. */
export function holdsRole(ctx: TxContext, institution: string, role: string): boolean {
  return ctx.members.get(institution)?.roles.includes(role) ?? false;
}

/** MISSING_SIGNATURE unless the institution signed this transaction; undefined when it did. */
export function requireSignature(ctx: TxContext, institution: string, act: string): Rejection | undefined {
  if (ctx.signers.includes(institution)) return undefined;
  return rejection(
    "MISSING_SIGNATURE",
    `${act} needs the signature of ${institution}, which did not sign (signers: ${ctx.signers.join(", ")})`,
  );
}

/** See state-read.ts. */
export { readCount };
