// The state of the data contract (SCENARIOS.md §4): registered data assets (a content hash and
// its license terms) and the licenses bought on them, each with the chain of its holders. Pure
// reading and writing of JSON values; decide and evolve live in data.ts.
import { InvariantError, type JsonValue } from "@tally/ledger";
import type { StateSlice } from "../contract.js";
import { readArray, readDecimal, readInteger, readNullableString, readObject, readString, type JsonObject } from "../state-read.js";
import { partiesOf } from "../supply/supply-fields.js";

/** The data contract's name in transactions and the registry. */
export const DATA_CONTRACT = "data";

/** Longest description of a data asset, in UTF-16 code units. */
export const DESCRIPTION_LENGTH_MAX = 500;

/** Longest purpose of an access record, in UTF-16 code units. */
export const PURPOSE_LENGTH_MAX = 200;

/** Longest license term: ten years of 366 days. */
export const LICENSE_TERM_MAX_MS = 10 * 366 * 86_400_000;

/** Most holders one license's chain records (the buyer and every resale after it). */
export const HOLDERS_MAX = 64;

/** Whether a license bought on an asset may be resold. */
export const RESALE_TERMS = ["allowed", "forbidden"] as const;

/** One of RESALE_TERMS. */
export type Resale = (typeof RESALE_TERMS)[number];

/** A registered data asset: the hash of data kept off the chain, and the terms of its licenses. */
export interface DataAsset {
  readonly hash: string;
  readonly owner: string;
  readonly description: string;
  readonly price: bigint;
  readonly resale: Resale;
  readonly durationMs: number;
  readonly registeredAtMs: number;
  readonly height: string;
  readonly txId: string;
  /** How many licenses were sold on it. */
  readonly licenses: number;
  readonly parties: readonly string[];
}

/** One holder of a license: from when, until when (null while it holds it), and what it paid. */
export interface Tenure {
  readonly holder: string;
  readonly fromMs: number;
  readonly toMs: number | null;
  readonly price: bigint | null;
}

/** A license on a data asset. */
export interface License {
  readonly asset: string;
  readonly id: string;
  /** The data asset's owner, who granted it. */
  readonly owner: string;
  readonly holder: string;
  readonly grantedAtMs: number;
  readonly expiresAtMs: number;
  readonly resale: Resale;
  readonly accesses: number;
  readonly lastAccessMs: number | null;
  /** Every holder in order, the current one last. */
  readonly holders: readonly Tenure[];
  readonly parties: readonly string[];
}

/** The state key of a data asset, by its sha256 content hash. */
export function assetKey(hash: string): string {
  return `asset/${hash}`;
}

/** The prefix of every license key on an asset. */
export function licensePrefix(hash: string): string {
  return `license/${hash}/`;
}

/** The state key of a license on an asset. */
export function licenseKey(hash: string, id: string): string {
  return `${licensePrefix(hash)}${id}`;
}

function broken(what: string, message: string): never {
  throw new InvariantError(`${what}: ${message}`, "CONTRACT_STATE");
}

function readResale(o: JsonObject, what: string): Resale {
  const v = readString(o, "resale", what);
  if (!(RESALE_TERMS as readonly string[]).includes(v)) broken(what, `resale ${v} is not one of ${RESALE_TERMS.join(", ")}`);
  return v as Resale;
}

function readParties(o: JsonObject, what: string): string[] {
  return readArray(o, "parties", what).map((p) => (typeof p === "string" ? p : broken(what, "parties are not strings")));
}

function readNullableInteger(o: JsonObject, field: string, what: string): number | null {
  return o[field] === null ? null : readInteger(o, field, what);
}

/** A data asset from its state value; throws InvariantError when it is malformed. */
export function readAsset(v: JsonValue | undefined, what: string): DataAsset {
  const o = readObject(v, what);
  return {
    hash: readString(o, "hash", what),
    owner: readString(o, "owner", what),
    description: readString(o, "description", what),
    price: readDecimal(o, "price", what),
    resale: readResale(o, what),
    durationMs: readInteger(o, "durationMs", what),
    registeredAtMs: readInteger(o, "registeredAtMs", what),
    height: readString(o, "height", what),
    txId: readString(o, "txId", what),
    licenses: readInteger(o, "licenses", what),
    parties: readParties(o, what),
  };
}

/** A data asset as its state value. */
export function assetValue(a: DataAsset): JsonValue {
  return {
    hash: a.hash,
    owner: a.owner,
    description: a.description,
    price: a.price.toString(),
    resale: a.resale,
    durationMs: a.durationMs,
    registeredAtMs: a.registeredAtMs,
    height: a.height,
    txId: a.txId,
    licenses: a.licenses,
    parties: [...a.parties],
  };
}

/** A license from its state value; throws InvariantError when it is malformed. */
export function readLicense(v: JsonValue | undefined, what: string): License {
  const o = readObject(v, what);
  const holders = readArray(o, "holders", what).map((t) => {
    const h = readObject(t, `${what} holder`);
    const price = readNullableString(h, "price", `${what} holder`);
    return {
      holder: readString(h, "holder", `${what} holder`),
      fromMs: readInteger(h, "fromMs", `${what} holder`),
      toMs: readNullableInteger(h, "toMs", `${what} holder`),
      price: price === null ? null : readDecimal(h, "price", `${what} holder`),
    };
  });
  return {
    asset: readString(o, "asset", what),
    id: readString(o, "id", what),
    owner: readString(o, "owner", what),
    holder: readString(o, "holder", what),
    grantedAtMs: readInteger(o, "grantedAtMs", what),
    expiresAtMs: readInteger(o, "expiresAtMs", what),
    resale: readResale(o, what),
    accesses: readInteger(o, "accesses", what),
    lastAccessMs: readNullableInteger(o, "lastAccessMs", what),
    holders,
    parties: readParties(o, what),
  };
}

/** A license as its state value. */
export function licenseValue(l: License): JsonValue {
  return {
    asset: l.asset,
    id: l.id,
    owner: l.owner,
    holder: l.holder,
    grantedAtMs: l.grantedAtMs,
    expiresAtMs: l.expiresAtMs,
    resale: l.resale,
    accesses: l.accesses,
    lastAccessMs: l.lastAccessMs,
    holders: l.holders.map((t) => ({
      holder: t.holder,
      fromMs: t.fromMs,
      toMs: t.toMs,
      price: t.price === null ? null : t.price.toString(),
    })),
    parties: [...l.parties],
  };
}

/** The asset with that hash in the slice, or undefined. */
export function assetIn(state: StateSlice, hash: string): DataAsset | undefined {
  const v = state.get(assetKey(hash));
  return v === undefined ? undefined : readAsset(v, `data asset ${hash}`);
}

/** The license in the slice, or undefined. */
export function licenseIn(state: StateSlice, hash: string, id: string): License | undefined {
  const v = state.get(licenseKey(hash, id));
  return v === undefined ? undefined : readLicense(v, `license ${id} on ${hash}`);
}

/** See supply-fields.ts. */
export { partiesOf };
