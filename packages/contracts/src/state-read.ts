import { InvariantError, type JsonValue } from "@tally/ledger";

/** A JSON object as read from state or event data. */
export type JsonObject = { readonly [k: string]: JsonValue };

// State and events are written only by our own evolve and decide, so a malformed one is our bug.
function broken(what: string, message: string): never {
  throw new InvariantError(`${what}: ${message}`, "CONTRACT_STATE");
}

/** The value as a JSON object; throws InvariantError otherwise. */
export function readObject(v: JsonValue | undefined, what: string): JsonObject {
  if (typeof v !== "object" || v === null || Array.isArray(v)) broken(what, "not an object");
  return v;
}

/** A string field; throws InvariantError otherwise. */
export function readString(o: JsonObject, field: string, what: string): string {
  const v = o[field];
  if (typeof v !== "string") broken(what, `${field} is not a string`);
  return v;
}

/** A string field or null; throws InvariantError otherwise. */
export function readNullableString(o: JsonObject, field: string, what: string): string | null {
  const v = o[field];
  if (v !== null && typeof v !== "string") broken(what, `${field} is not a string or null`);
  return v;
}

/** A boolean field; throws InvariantError otherwise. */
export function readBoolean(o: JsonObject, field: string, what: string): boolean {
  const v = o[field];
  if (typeof v !== "boolean") broken(what, `${field} is not a boolean`);
  return v;
}

/** An array field; throws InvariantError otherwise. */
export function readArray(o: JsonObject, field: string, what: string): readonly JsonValue[] {
  const v = o[field];
  if (!Array.isArray(v)) broken(what, `${field} is not an array`);
  return v;
}

/** An array of strings; throws InvariantError otherwise. */
export function readStringArray(v: JsonValue | undefined, what: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) broken(what, "not an array of strings");
  return v as string[];
}

/** A non-negative integer carried as a decimal string; throws InvariantError otherwise. */
export function readDecimal(o: JsonObject, field: string, what: string): bigint {
  const v = readString(o, field, what);
  if (!/^(?:0|[1-9][0-9]*)$/.test(v)) broken(what, `${field} is not a non-negative decimal string`);
  return BigInt(v);
}

/** A non-negative safe integer field (a time in ms, basis points, a count); throws InvariantError otherwise. */
export function readInteger(o: JsonObject, field: string, what: string): number {
  const v = o[field];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) broken(what, `${field} is not a non-negative integer`);
  return v;
}
