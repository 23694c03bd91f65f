// The block-trade contract's state: keys, bounds, and typed readers and JSON writers for the
// instrument, book, order, trade and position entries. Everything here is pure.
import { InvariantError, type JsonValue } from "@tally/ledger";
import type { StateSlice, TxContext } from "../contract.js";
import { readArray, readBoolean, readDecimal, readObject, readString, readStringArray, type JsonObject } from "../state-read.js";

/** The block-trade contract's name in transactions and the registry. */
export const TRADE_CONTRACT = "trade";

/** Most resting orders one side of a book may hold: bounds the book entry and the matching work. */
export const BOOK_SIDE_MAX = 100;

/** Most resting orders one incoming order may trade against in its transaction (each adds five keys). */
export const HITS_MAX = 20;

/** Most decimal digits of an order quantity, a price, a lot size or an alert threshold: quantity × price stays under 30 digits. */
export const ORDER_DIGITS_MAX = 15;

/** Longest order id: trade ids are `<order id>.<n>` with n ≤ HITS_MAX, and stay identifiers (≤ 64). */
export const ORDER_ID_LENGTH_MAX = 60;

/** Longest instrument name, in UTF-16 code units. */
export const INSTRUMENT_NAME_LENGTH_MAX = 200;

/** Most units one position may hold, free and reserved together: 30 digits, as cash balances. */
export const POSITION_MAX = 10n ** 30n - 1n;

/** The role whose members are among the parties of every trade. */
export const REGULATOR_ROLE = "regulator";

/** A buy or a sell. */
export type Side = "buy" | "sell";

/** The state key of a listed instrument. */
export function instrumentKey(id: string): string {
  return `inst/${id}`;
}

/** The state key of an instrument's order book: its resting orders, both sides. */
export function bookKey(instrument: string): string {
  return `book/${instrument}`;
}

/** The state key of an order, resting or not: its whole life. */
export function orderKey(id: string): string {
  return `order/${id}`;
}

/** The id of the n-th trade (n from 1) an incoming order made in its transaction. */
export function tradeId(orderId: string, n: number): string {
  return `${orderId}.${n}`;
}

/** The state key of a trade. */
export function tradeKey(id: string): string {
  return `trade/${id}`;
}

/**
 * The state key of the cash a clearing bank holds in escrow for resting buy orders it clears
 * (its members' and its own): that much of its cash account is not its to spend.
 */
export function escrowKey(clearing: string): string {
  return `escrow/${clearing}`;
}

/** The escrow a clearing bank holds; absent means 0. */
export function escrowIn(state: StateSlice, clearing: string): bigint {
  const v = state.get(escrowKey(clearing));
  if (v === undefined) return 0n;
  const what = `trade escrow ${clearing}`;
  return readDecimal(readObject(v, what), "amount", what);
}

/** The entry an escrow change writes: removed at 0. */
export function escrowWrite(clearing: string, amount: bigint): [string, JsonValue | null] {
  if (amount < 0n) broken(`trade escrow ${clearing} would go negative`);
  return [escrowKey(clearing), amount === 0n ? null : { clearing, amount: amount.toString(), parties: [clearing] }];
}

/** The state key of a holder's securities position in an instrument. */
export function positionKey(instrument: string, holder: string): string {
  return `pos/${instrument}/${holder}`;
}

/** The portfolio index entry of a position: `held/<holder>/<position key>`. */
export function heldKey(instrument: string, holder: string): string {
  return `held/${holder}/${positionKey(instrument, holder)}`;
}

/** Sorted, without duplicates: the form of every `parties` list. */
export function partiesOf(...lists: readonly (readonly string[])[]): string[] {
  return [...new Set(lists.flat())].sort();
}

/** Every member holding the regulator role, sorted: they are party to every trade. */
export function regulatorsOf(ctx: TxContext): string[] {
  return [...ctx.members]
    .filter(([, m]) => m.roles.includes(REGULATOR_ROLE))
    .map(([id]) => id)
    .sort();
}

function broken(message: string): never {
  throw new InvariantError(message, "CONTRACT_STATE");
}

/** The side field of a state entry or event; throws InvariantError otherwise. */
export function readSide(o: JsonObject, what: string): Side {
  const v = readString(o, "side", what);
  if (v !== "buy" && v !== "sell") broken(`${what}: side is ${v}`);
  return v;
}

/** A listed instrument. */
export interface Instrument {
  readonly id: string;
  readonly name: string;
  readonly lotSize: bigint;
  /** Trades of at least this many units raise a LargeTradeAlert. */
  readonly alertUnits: bigint;
  readonly exchange: string;
}

/** The instrument in the slice, or undefined when it is not listed. */
export function instrumentIn(state: StateSlice, id: string): Instrument | undefined {
  const v = state.get(instrumentKey(id));
  if (v === undefined) return undefined;
  const what = `trade instrument ${id}`;
  const o = readObject(v, what);
  return {
    id,
    name: readString(o, "name", what),
    lotSize: readDecimal(o, "lotSize", what),
    alertUnits: readDecimal(o, "alertUnits", what),
    exchange: readString(o, "exchange", what),
  };
}

/** One resting order as the book keeps it. */
export interface BookEntry {
  readonly order: string;
  readonly owner: string;
  readonly clearing: string;
  readonly price: bigint;
  /** Units still open. */
  readonly units: bigint;
  /** Time priority: lower rested earlier. */
  readonly seq: bigint;
}

/** An instrument's book. Bids: best (highest) price first; asks: best (lowest) first; ties by seq. */
export interface Book {
  readonly instrument: string;
  readonly exchange: string;
  readonly nextSeq: bigint;
  readonly bids: readonly BookEntry[];
  readonly asks: readonly BookEntry[];
}

function readEntry(v: JsonValue, what: string): BookEntry {
  const o = readObject(v, what);
  return {
    order: readString(o, "order", what),
    owner: readString(o, "owner", what),
    clearing: readString(o, "clearing", what),
    price: readDecimal(o, "price", what),
    units: readDecimal(o, "units", what),
    seq: readDecimal(o, "seq", what),
  };
}

/** The instrument's book; throws InvariantError when a listed instrument has none (listing writes both). */
export function bookIn(state: StateSlice, instrument: string): Book {
  const what = `trade book ${instrument}`;
  const v = state.get(bookKey(instrument));
  if (v === undefined) broken(`${what} is missing`);
  const o = readObject(v, what);
  return {
    instrument,
    exchange: readString(o, "exchange", what),
    nextSeq: readDecimal(o, "nextSeq", what),
    bids: readArray(o, "bids", what).map((e) => readEntry(e, what)),
    asks: readArray(o, "asks", what).map((e) => readEntry(e, what)),
  };
}

function entryJson(e: BookEntry): JsonValue {
  return {
    order: e.order,
    owner: e.owner,
    clearing: e.clearing,
    price: e.price.toString(),
    units: e.units.toString(),
    seq: e.seq.toString(),
  };
}

/** The book as its state entry. The book is market data every member reads; parties names the exchange that runs it. */
export function bookJson(b: Book): JsonValue {
  return {
    instrument: b.instrument,
    exchange: b.exchange,
    nextSeq: b.nextSeq.toString(),
    bids: b.bids.map(entryJson),
    asks: b.asks.map(entryJson),
    parties: [b.exchange],
  };
}

/** The side an order of `side` rests on. */
export function restingSide(book: Book, side: Side): readonly BookEntry[] {
  return side === "buy" ? book.bids : book.asks;
}

/** True when entry a has priority over entry b on the given side: better price, then earlier seq. */
export function ahead(side: Side, a: BookEntry, b: BookEntry): boolean {
  if (a.price !== b.price) return side === "buy" ? a.price > b.price : a.price < b.price;
  return a.seq < b.seq;
}

/** An order's whole record. */
export interface Order {
  readonly id: string;
  readonly instrument: string;
  readonly side: Side;
  readonly owner: string;
  readonly clearing: string;
  readonly quantity: bigint;
  readonly price: bigint;
  readonly remaining: bigint;
  readonly status: "open" | "filled" | "cancelled";
  readonly fills: number;
  readonly resting: boolean;
  readonly parties: readonly string[];
  readonly placedAtMs: number;
  readonly txId: string;
}

/** The order in the slice, or undefined when there is none. */
export function orderIn(state: StateSlice, id: string): Order | undefined {
  const v = state.get(orderKey(id));
  if (v === undefined) return undefined;
  const what = `trade order ${id}`;
  const o = readObject(v, what);
  const status = readString(o, "status", what);
  if (status !== "open" && status !== "filled" && status !== "cancelled") broken(`${what}: status is ${status}`);
  const fills = o.fills;
  const placedAtMs = o.placedAtMs;
  if (typeof fills !== "number" || typeof placedAtMs !== "number") broken(`${what}: fills or placedAtMs is not a number`);
  return {
    id,
    instrument: readString(o, "instrument", what),
    side: readSide(o, what),
    owner: readString(o, "owner", what),
    clearing: readString(o, "clearing", what),
    quantity: readDecimal(o, "quantity", what),
    price: readDecimal(o, "price", what),
    remaining: readDecimal(o, "remaining", what),
    status,
    fills,
    resting: readBoolean(o, "resting", what),
    parties: readStringArray(o.parties, what),
    placedAtMs,
    txId: readString(o, "txId", what),
  };
}

/** The order as its state entry. */
export function orderJson(o: Order): JsonValue {
  return {
    id: o.id,
    instrument: o.instrument,
    side: o.side,
    owner: o.owner,
    clearing: o.clearing,
    quantity: o.quantity.toString(),
    price: o.price.toString(),
    remaining: o.remaining.toString(),
    status: o.status,
    fills: o.fills,
    resting: o.resting,
    parties: [...o.parties],
    placedAtMs: o.placedAtMs,
    txId: o.txId,
  };
}

/** A holder's position in one instrument: free units, and units reserved by its resting sell orders. */
export interface Position {
  readonly instrument: string;
  readonly holder: string;
  readonly units: bigint;
  readonly reserved: bigint;
  readonly parties: readonly string[];
}

/** The position in the slice; an absent one is empty. */
export function positionIn(state: StateSlice, instrument: string, holder: string): Position {
  const v = state.get(positionKey(instrument, holder));
  if (v === undefined) return { instrument, holder, units: 0n, reserved: 0n, parties: [holder] };
  const what = `trade position ${instrument}/${holder}`;
  const o = readObject(v, what);
  return {
    instrument,
    holder,
    units: readDecimal(o, "units", what),
    reserved: readDecimal(o, "reserved", what),
    parties: readStringArray(o.parties, what),
  };
}

/**
 * The entries a position change writes: the position, and its portfolio index entry, which is
 * removed when the holder has no units left, free or reserved. The position itself stays, with its
 * parties, so a query still shows who was party to it.
 */
export function positionWrites(p: Position): [string, JsonValue | null][] {
  if (p.units < 0n || p.reserved < 0n) broken(`trade position ${p.instrument}/${p.holder} would go negative`);
  const units = p.units.toString();
  const reserved = p.reserved.toString();
  const held = p.units + p.reserved === 0n ? null : { instrument: p.instrument, units, reserved };
  return [
    [positionKey(p.instrument, p.holder), { instrument: p.instrument, holder: p.holder, units, reserved, parties: partiesOf(p.parties) }],
    [heldKey(p.instrument, p.holder), held],
  ];
}
