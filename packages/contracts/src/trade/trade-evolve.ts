// Folding the block-trade contract's events into its state. Events come only from decide, so one
// that does not fit the state is our bug and throws InvariantError.
import { InvariantError, type JsonValue } from "@tally/ledger";
import type { ContractEvent, StateSlice } from "../contract.js";
import { readBoolean, readDecimal, readObject, readString, type JsonObject } from "../state-read.js";
import {
  ahead,
  bookIn,
  bookJson,
  bookKey,
  escrowIn,
  escrowWrite,
  instrumentKey,
  orderIn,
  orderJson,
  orderKey,
  partiesOf,
  positionIn,
  positionWrites,
  readSide,
  tradeKey,
  type Book,
  type BookEntry,
  type Order,
  type Side,
} from "./trade-state.js";

function broken(message: string): never {
  throw new InvariantError(message, "CONTRACT_STATE");
}

function readNumber(o: JsonObject, field: string, what: string): number {
  const v = o[field];
  if (typeof v !== "number" || !Number.isSafeInteger(v)) broken(`${what}: ${field} is not an integer`);
  return v;
}

function mustOrder(state: StateSlice, id: string, what: string): Order {
  const o = orderIn(state, id);
  if (o === undefined) broken(`${what}: order ${id} does not exist`);
  return o;
}

function withSide(book: Book, side: Side, entries: readonly BookEntry[]): Book {
  return side === "buy" ? { ...book, bids: entries } : { ...book, asks: entries };
}

function sideOf(book: Book, side: Side): readonly BookEntry[] {
  return side === "buy" ? book.bids : book.asks;
}

/** The book with the order's entry reduced by units, removed when none are left. */
function bookAfterFill(book: Book, order: Order, units: bigint, what: string): Book {
  const entries = sideOf(book, order.side);
  const entry = entries.find((e) => e.order === order.id);
  if (entry === undefined || entry.units < units) broken(`${what}: order ${order.id} does not rest with ${units} units`);
  const left = entry.units - units;
  return withSide(
    book,
    order.side,
    left === 0n ? entries.filter((e) => e !== entry) : entries.map((e) => (e === entry ? { ...e, units: left } : e)),
  );
}

function evolveListed(data: JsonObject, what: string): Map<string, JsonValue | null> {
  const id = readString(data, "id", what);
  const exchange = readString(data, "exchange", what);
  const instrument = {
    id,
    name: readString(data, "name", what),
    lotSize: readDecimal(data, "lotSize", what).toString(),
    alertUnits: readDecimal(data, "alertUnits", what).toString(),
    exchange,
    listedAtMs: readNumber(data, "listedAtMs", what),
    parties: [exchange],
  };
  const book: Book = { instrument: id, exchange, nextSeq: 1n, bids: [], asks: [] };
  return new Map<string, JsonValue | null>([
    [instrumentKey(id), instrument],
    [bookKey(id), bookJson(book)],
  ]);
}

function evolveOrder(state: StateSlice, event: ContractEvent, data: JsonObject, what: string): Map<string, JsonValue | null> {
  const id = readString(data, "order", what);
  switch (event.type) {
    case "OrderPlaced": {
      if (state.has(orderKey(id))) broken(`${what}: order ${id} exists`);
      const owner = readString(data, "owner", what);
      const clearing = readString(data, "clearing", what);
      const quantity = readDecimal(data, "quantity", what);
      const order: Order = {
        id,
        instrument: readString(data, "instrument", what),
        side: readSide(data, what),
        owner,
        clearing,
        quantity,
        price: readDecimal(data, "price", what),
        remaining: quantity,
        status: "open",
        fills: 0,
        resting: false,
        parties: partiesOf([owner, clearing, readString(data, "exchange", what)]),
        placedAtMs: readNumber(data, "placedAtMs", what),
        txId: readString(data, "txId", what),
      };
      return new Map([[orderKey(id), orderJson(order)]]);
    }
    case "OrderFilled": {
      const order = mustOrder(state, id, what);
      const units = readDecimal(data, "units", what);
      const resting = readBoolean(data, "resting", what);
      if (order.status !== "open" || order.remaining < units || units === 0n || resting !== order.resting) {
        broken(`${what}: order ${id} cannot fill ${units} units`);
      }
      const remaining = order.remaining - units;
      const after: Order = {
        ...order,
        remaining,
        fills: order.fills + 1,
        status: remaining === 0n ? "filled" : "open",
        resting: remaining > 0n && order.resting,
      };
      const out = new Map<string, JsonValue | null>([[orderKey(id), orderJson(after)]]);
      if (resting) {
        out.set(bookKey(order.instrument), bookJson(bookAfterFill(bookIn(state, order.instrument), order, units, what)));
        // A resting buy trades at its own limit, which is what its escrow was taken at.
        if (order.side === "buy") out.set(...escrowWrite(order.clearing, escrowIn(state, order.clearing) - units * order.price));
      }
      return out;
    }
    case "OrderRested": {
      const order = mustOrder(state, id, what);
      const units = readDecimal(data, "units", what);
      const seq = readDecimal(data, "seq", what);
      const book = bookIn(state, order.instrument);
      if (order.status !== "open" || order.resting || units !== order.remaining || seq !== book.nextSeq) {
        broken(`${what}: order ${id} cannot rest ${units} units at seq ${seq}`);
      }
      const entry: BookEntry = { order: id, owner: order.owner, clearing: order.clearing, price: order.price, units, seq };
      const entries = [...sideOf(book, order.side)];
      const at = entries.findIndex((e) => ahead(order.side, entry, e));
      entries.splice(at === -1 ? entries.length : at, 0, entry);
      const out = new Map<string, JsonValue | null>([
        [orderKey(id), orderJson({ ...order, resting: true })],
        [bookKey(order.instrument), bookJson({ ...withSide(book, order.side, entries), nextSeq: seq + 1n })],
      ]);
      if (order.side === "buy") out.set(...escrowWrite(order.clearing, escrowIn(state, order.clearing) + units * order.price));
      return out;
    }
    case "OrderCancelled": {
      const order = mustOrder(state, id, what);
      if (order.status !== "open" || !order.resting) broken(`${what}: order ${id} is not resting`);
      const book = bookAfterFill(bookIn(state, order.instrument), order, order.remaining, what);
      const out = new Map<string, JsonValue | null>([
        [orderKey(id), orderJson({ ...order, status: "cancelled", resting: false })],
        [bookKey(order.instrument), bookJson(book)],
      ]);
      if (order.side === "buy") out.set(...escrowWrite(order.clearing, escrowIn(state, order.clearing) - order.remaining * order.price));
      return out;
    }
    default:
      return broken(`trade cannot fold order event ${event.type}`);
  }
}

function evolvePosition(state: StateSlice, event: ContractEvent, data: JsonObject, what: string): Map<string, JsonValue | null> {
  const instrument = readString(data, "instrument", what);
  const holder = readString(data, "holder", what);
  const units = readDecimal(data, "units", what);
  const p = positionIn(state, instrument, holder);
  switch (event.type) {
    case "SecuritiesLodged":
      return new Map(
        positionWrites({ ...p, units: p.units + units, parties: partiesOf(p.parties, [readString(data, "custodian", what)]) }),
      );
    case "SecuritiesWithdrawn":
      return new Map(
        positionWrites({ ...p, units: p.units - units, parties: partiesOf(p.parties, [readString(data, "custodian", what)]) }),
      );
    case "SecuritiesReserved":
      return new Map(positionWrites({ ...p, units: p.units - units, reserved: p.reserved + units }));
    case "SecuritiesReleased":
      return new Map(positionWrites({ ...p, units: p.units + units, reserved: p.reserved - units }));
    case "SecuritiesDelivered":
      return new Map(
        positionWrites(readBoolean(data, "fromReserved", what) ? { ...p, reserved: p.reserved - units } : { ...p, units: p.units - units }),
      );
    case "SecuritiesReceived":
      return new Map(positionWrites({ ...p, units: p.units + units, parties: partiesOf(p.parties, [readString(data, "clearing", what)]) }));
    default:
      return broken(`trade cannot fold position event ${event.type}`);
  }
}

function evolveTrade(state: StateSlice, event: ContractEvent, data: JsonObject, what: string): Map<string, JsonValue | null> {
  const id = readString(data, "trade", what);
  const key = tradeKey(id);
  if (event.type === "TradeExecuted") {
    if (state.has(key)) broken(`${what}: trade ${id} exists`);
    const { trade: _trade, ...rest } = data;
    return new Map([[key, { id, ...rest, largeTrade: false, parties: partiesOf(event.parties) }]]);
  }
  const trade = state.get(key);
  if (trade === undefined) broken(`${what}: trade ${id} does not exist`);
  return new Map([[key, { ...readObject(trade, what), largeTrade: true }]]);
}

/** Folds one block-trade event; returns the changed entries (null deletes). */
export function evolve(state: StateSlice, event: ContractEvent): ReadonlyMap<string, JsonValue | null> {
  const what = `trade ${event.type}`;
  const data = readObject(event.data, what);
  switch (event.type) {
    case "InstrumentListed":
      return evolveListed(data, what);
    case "OrderPlaced":
    case "OrderFilled":
    case "OrderRested":
    case "OrderCancelled":
      return evolveOrder(state, event, data, what);
    case "SecuritiesLodged":
    case "SecuritiesWithdrawn":
    case "SecuritiesReserved":
    case "SecuritiesReleased":
    case "SecuritiesDelivered":
    case "SecuritiesReceived":
      return evolvePosition(state, event, data, what);
    case "TradeExecuted":
    case "LargeTradeAlert":
      return evolveTrade(state, event, data, what);
    default:
      return broken(`trade cannot fold event ${event.type}`);
  }
}
