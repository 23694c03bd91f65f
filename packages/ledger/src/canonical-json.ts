/** A JSON value as contracts see it. bigint is not JSON: carry amounts as decimal strings. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/**
 * Deterministic JSON: object keys sorted by code unit, no whitespace, no undefined.
 * Every node hashes the same bytes for the same value. Non-finite numbers and
 * non-integer numbers are refused, so money can never travel as a float.
 */
export function canonicalJson(value: unknown): string {
  return write(value, 0);
}

const DEPTH_MAX = 64;

function write(v: unknown, depth: number): string {
  if (depth > DEPTH_MAX) throw new TypeError("canonicalJson: nesting too deep");
  if (v === null) return "null";
  switch (typeof v) {
    case "boolean":
      return v ? "true" : "false";
    case "number":
      if (!Number.isSafeInteger(v)) throw new TypeError(`canonicalJson: number ${v} is not a safe integer`);
      return String(v);
    case "bigint":
      return JSON.stringify(v.toString());
    case "string":
      return JSON.stringify(v);
    case "object": {
      if (Array.isArray(v)) return "[" + v.map((x) => write(x, depth + 1)).join(",") + "]";
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return "{" + keys.map((k) => JSON.stringify(k) + ":" + write(obj[k], depth + 1)).join(",") + "}";
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode ${typeof v}`);
  }
}
