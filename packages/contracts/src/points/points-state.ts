// The state of the points contract (SCENARIOS.md §8): balances per issuer and holder, each
// issuer's minted supply, red envelopes, and exchange rates two issuers agreed. Pure reading and
// writing of JSON values, and the deterministic packet split; decide and evolve live in points.ts.
import { InvariantError, type JsonValue } from "@tally/ledger";
import type { StateSlice } from "../contract.js";
import { readArray, readDecimal, readInteger, readNullableString, readObject, readString, type JsonObject } from "../state-read.js";
import { partiesOf } from "../supply/supply-fields.js";

/** The points contract's name in transactions and the registry. */
export const POINTS_CONTRACT = "points";

/** Most packets one red envelope holds. */
export const PACKETS_MAX = 100;

/** Longest time a red envelope stays open: 30 days. */
export const ENVELOPE_TERM_MAX_MS = 30 * 86_400_000;

/** Longest transfer memo, in UTF-16 code units. */
export const MEMO_LENGTH_MAX = 200;

/** How an envelope's points are split into packets. */
export const SPLITS = ["even", "lucky"] as const;

/** One of SPLITS. */
export type Split = (typeof SPLITS)[number];

/** One packet of a red envelope. */
export interface Packet {
  readonly amount: bigint;
  /** The member it is for, or null when anyone may claim it. */
  readonly recipient: string | null;
  readonly claimedBy: string | null;
  readonly claimedAtMs: number | null;
}

/** A red envelope: points locked by a sender into packets until claimed or refunded at expiry. */
export interface Envelope {
  readonly issuer: string;
  readonly id: string;
  readonly sender: string;
  readonly amount: bigint;
  readonly split: Split;
  readonly packets: readonly Packet[];
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  /** The unclaimed points returned to the sender at expiry, once refunded. */
  readonly refunded: bigint | null;
  readonly refundedAtMs: number | null;
  readonly parties: readonly string[];
}

/** A rate two issuers agreed: xUnits of x's points exchange for yUnits of y's (x sorts before y). */
export interface Rate {
  readonly x: string;
  readonly y: string;
  readonly xUnits: bigint;
  readonly yUnits: bigint;
  readonly agreedAtMs: number;
  readonly txId: string;
}

/** The state key of a holder's balance of an issuer's points: {balance}. */
export function balanceKey(issuer: string, holder: string): string {
  return `bal/${issuer}/${holder}`;
}

/** The state key of an issuer's supply: {minted}. */
export function supplyKey(issuer: string): string {
  return `supply/${issuer}`;
}

/** The state key of a red envelope of an issuer's points. */
export function envelopeKey(issuer: string, id: string): string {
  return `envelope/${issuer}/${id}`;
}

/** The two issuers of a rate in key order. */
export function ratePair(a: string, b: string): readonly [string, string] {
  return a < b ? [a, b] : [b, a];
}

/** The state key of the rate between two issuers, whichever order they are named in. */
export function rateKey(a: string, b: string): string {
  const [x, y] = ratePair(a, b);
  return `rate/${x}/${y}`;
}

function broken(what: string, message: string): never {
  throw new InvariantError(`${what}: ${message}`, "CONTRACT_STATE");
}

/** A holder's balance of an issuer's points in the slice; absent is 0. */
export function balanceIn(state: StateSlice, issuer: string, holder: string): bigint {
  const v = state.get(balanceKey(issuer, holder));
  const what = `points balance ${issuer}/${holder}`;
  return v === undefined ? 0n : readDecimal(readObject(v, what), "balance", what);
}

/** A balance as its state value. */
export function balanceValue(balance: bigint): JsonValue {
  if (balance < 0n) broken("points balance", `negative ${balance}`);
  return { balance: balance.toString() };
}

/** An issuer's minted supply in the slice; absent is 0. */
export function mintedIn(state: StateSlice, issuer: string): bigint {
  const v = state.get(supplyKey(issuer));
  const what = `points supply ${issuer}`;
  return v === undefined ? 0n : readDecimal(readObject(v, what), "minted", what);
}

function readNullableInteger(o: JsonObject, field: string, what: string): number | null {
  return o[field] === null ? null : readInteger(o, field, what);
}

/** An envelope from its state value; throws InvariantError when it is malformed. */
export function readEnvelope(v: JsonValue | undefined, what: string): Envelope {
  const o = readObject(v, what);
  const split = readString(o, "split", what);
  if (!(SPLITS as readonly string[]).includes(split)) broken(what, `split ${split} is unknown`);
  const packets = readArray(o, "packets", what).map((p) => {
    const po = readObject(p, `${what} packet`);
    return {
      amount: readDecimal(po, "amount", `${what} packet`),
      recipient: readNullableString(po, "recipient", `${what} packet`),
      claimedBy: readNullableString(po, "claimedBy", `${what} packet`),
      claimedAtMs: readNullableInteger(po, "claimedAtMs", `${what} packet`),
    };
  });
  const refunded = readNullableString(o, "refunded", what);
  return {
    issuer: readString(o, "issuer", what),
    id: readString(o, "id", what),
    sender: readString(o, "sender", what),
    amount: readDecimal(o, "amount", what),
    split: split as Split,
    packets,
    createdAtMs: readInteger(o, "createdAtMs", what),
    expiresAtMs: readInteger(o, "expiresAtMs", what),
    refunded: refunded === null ? null : readDecimal(o, "refunded", what),
    refundedAtMs: readNullableInteger(o, "refundedAtMs", what),
    parties: readArray(o, "parties", what).map((p) => (typeof p === "string" ? p : broken(what, "parties are not strings"))),
  };
}

/** An envelope as its state value. */
export function envelopeValue(e: Envelope): JsonValue {
  return {
    issuer: e.issuer,
    id: e.id,
    sender: e.sender,
    amount: e.amount.toString(),
    split: e.split,
    packets: e.packets.map((p) => ({
      amount: p.amount.toString(),
      recipient: p.recipient,
      claimedBy: p.claimedBy,
      claimedAtMs: p.claimedAtMs,
    })),
    createdAtMs: e.createdAtMs,
    expiresAtMs: e.expiresAtMs,
    refunded: e.refunded === null ? null : e.refunded.toString(),
    refundedAtMs: e.refundedAtMs,
    parties: [...e.parties],
  };
}

/** The envelope in the slice, or undefined. */
export function envelopeIn(state: StateSlice, issuer: string, id: string): Envelope | undefined {
  const v = state.get(envelopeKey(issuer, id));
  return v === undefined ? undefined : readEnvelope(v, `envelope ${issuer}/${id}`);
}

/** The points of an envelope no one has claimed yet. */
export function unclaimed(e: Envelope): bigint {
  return e.packets.reduce((a, p) => (p.claimedBy === null ? a + p.amount : a), 0n);
}

/** A rate from its state value; throws InvariantError when it is malformed. */
export function readRate(v: JsonValue | undefined, what: string): Rate {
  const o = readObject(v, what);
  return {
    x: readString(o, "x", what),
    y: readString(o, "y", what),
    xUnits: readDecimal(o, "xUnits", what),
    yUnits: readDecimal(o, "yUnits", what),
    agreedAtMs: readInteger(o, "agreedAtMs", what),
    txId: readString(o, "txId", what),
  };
}

/** A rate as its state value; both issuers are its parties. */
export function rateValue(r: Rate): JsonValue {
  return {
    x: r.x,
    y: r.y,
    xUnits: r.xUnits.toString(),
    yUnits: r.yUnits.toString(),
    agreedAtMs: r.agreedAtMs,
    txId: r.txId,
    parties: partiesOf(r.x, r.y),
  };
}

/** The rate between two issuers in the slice, or undefined. */
export function rateIn(state: StateSlice, a: string, b: string): Rate | undefined {
  const v = state.get(rateKey(a, b));
  return v === undefined ? undefined : readRate(v, `rate ${a}/${b}`);
}

/**
 * What `amount` of from's points fetch of to's at the rate: floor(amount × to's units / from's
 * units). The remainder of the division stays with the exchange (the user gives `amount`).
 */
export function exchanged(rate: Rate, from: string, amount: bigint): bigint {
  const [fromUnits, toUnits] = from === rate.x ? [rate.xUnits, rate.yUnits] : [rate.yUnits, rate.xUnits];
  return (amount * toUnits) / fromUnits;
}

// xorshift32 over a 32-bit seed: the "luck" of a lucky split, from the transaction's id.
function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

// FNV-1a over the id's characters: every character counts, in order.
function seedOf(txId: string): number {
  let seed = 0x811c9dc5;
  for (let i = 0; i < txId.length; i++) seed = Math.imul(seed ^ txId.charCodeAt(i), 0x01000193) >>> 0;
  return seed;
}

/**
 * Splits `amount` into `count` packets of at least 1 each that sum to `amount` exactly.
 * - even: floor(amount / count) each, the remainder one more point to the first packets.
 * - lucky: 1 each, the rest shared in proportion to weights 1..256 drawn from the transaction's id
 *   (the same id gives the same split on every node), floor, the remainder one point each to the
 *   first packets.
 * Needs 1 ≤ count ≤ amount.
 */
export function splitPackets(amount: bigint, count: number, split: Split, txId: string): bigint[] {
  const n = BigInt(count);
  if (count < 1 || amount < n) throw new InvariantError(`cannot split ${amount} into ${count} packets`, "CONTRACT_STATE");
  if (split === "even") {
    const base = amount / n;
    const extra = Number(amount % n);
    return Array.from({ length: count }, (_, i) => base + (i < extra ? 1n : 0n));
  }
  const next = xorshift(seedOf(txId));
  const weights = Array.from({ length: count }, () => BigInt((next() & 0xff) + 1));
  const total = weights.reduce((a, w) => a + w, 0n);
  const rest = amount - n;
  const shares = weights.map((w) => 1n + (rest * w) / total);
  let left = amount - shares.reduce((a, s) => a + s, 0n);
  for (let i = 0; left > 0n; i = (i + 1) % count, left--) shares[i] = shares[i]! + 1n;
  return shares;
}
