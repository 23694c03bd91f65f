// Folds the receivable contract's events into its state: the receivable records, the portfolio
// index (`held/<holder>/recv/<id>`) and the invoice index. Events come only from our own decide, so
// one that does not fit the state is our bug: an InvariantError, never a rejection.
import { InvariantError, type JsonValue } from "@tally/ledger";
import type { ContractEvent, StateSlice } from "../contract.js";
import { readBoolean, readDecimal, readNullableString, readObject, readString, readStringArray, type JsonObject } from "../state-read.js";
import {
  heldKey,
  heldValue,
  invoiceKey,
  readInteger,
  readRecord,
  receivableKey,
  recordValue,
  unionParties,
  type ReceivableRecord,
} from "./receivable-record.js";

type Updates = Map<string, JsonValue | null>;

function broken(message: string): never {
  throw new InvariantError(message, "CONTRACT_STATE");
}

function current(state: StateSlice, id: string, what: string): ReceivableRecord {
  const v = state.get(receivableKey(id));
  if (v === undefined) broken(`${what}: receivable ${id} is not in the state`);
  return readRecord(v, `receivable ${id}`);
}

function held(r: ReceivableRecord, what: string): string {
  if (r.status !== "confirmed" || r.holder === null) broken(`${what}: receivable ${r.id} is ${r.status}, not held`);
  return r.holder;
}

// Writes the record and moves its portfolio entry from the old holder (if any) to the new one, if
// the receivable is still held (registered or confirmed; not split or settled).
function put(out: Updates, r: ReceivableRecord, oldHolder: string | null): Updates {
  out.set(receivableKey(r.id), recordValue(r));
  const holds = r.status === "registered" || r.status === "confirmed";
  if (oldHolder !== null && (oldHolder !== r.holder || !holds)) out.set(heldKey(oldHolder, r.id), null);
  if (holds && r.holder !== null) out.set(heldKey(r.holder, r.id), heldValue(r));
  return out;
}

function registered(state: StateSlice, data: JsonObject, what: string): Updates {
  const id = readString(data, "id", what);
  if (state.has(receivableKey(id))) broken(`${what}: receivable ${id} registered twice`);
  const supplier = readString(data, "supplier", what);
  const debtor = readString(data, "debtor", what);
  const invoiceRef = readString(data, "invoiceRef", what);
  const r: ReceivableRecord = {
    id,
    root: id,
    parent: null,
    children: [],
    depth: 0,
    supplier,
    debtor,
    holder: supplier,
    amount: readDecimal(data, "amount", what),
    dueMs: readInteger(data, "dueMs", what),
    invoiceRef,
    status: "registered",
    financed: false,
    financedBy: null,
    leaves: [id],
    settledAtMs: null,
    parties: unionParties([supplier, debtor]),
  };
  const out: Updates = new Map([[receivableKey(id), recordValue(r)]]);
  // Indexed while still unconfirmed, so the supplier's portfolio shows what awaits confirmation.
  out.set(heldKey(supplier, id), heldValue(r));
  out.set(invoiceKey(debtor, supplier, invoiceRef), { id });
  return out;
}

function childCreated(state: StateSlice, data: JsonObject, what: string): Updates {
  const id = readString(data, "id", what);
  if (state.has(receivableKey(id))) broken(`${what}: receivable ${id} created twice`);
  const depth = readInteger(data, "depth", what);
  if (depth < 1) broken(`${what}: depth ${depth} is not a child's`);
  const r: ReceivableRecord = {
    id,
    root: readString(data, "root", what),
    parent: readString(data, "parent", what),
    children: [],
    depth,
    supplier: readString(data, "supplier", what),
    debtor: readString(data, "debtor", what),
    holder: readString(data, "holder", what),
    amount: readDecimal(data, "amount", what),
    dueMs: readInteger(data, "dueMs", what),
    invoiceRef: readString(data, "invoiceRef", what),
    status: "confirmed",
    financed: readBoolean(data, "financed", what),
    financedBy: readNullableString(data, "financedBy", what),
    leaves: null,
    settledAtMs: null,
    parties: readStringArray(data.parties, `${what} parties`),
  };
  return put(new Map(), r, null);
}

function split(state: StateSlice, data: JsonObject, what: string): Updates {
  const r = current(state, readString(data, "id", what), what);
  const holder = held(r, what);
  if (readString(data, "holder", what) !== holder) broken(`${what}: ${r.id} is held by ${holder}`);
  const children = (Array.isArray(data.children) ? data.children : broken(`${what}: children is not an array`)).map((c) =>
    readObject(c, `${what} child`),
  );
  const sum = children.reduce((s, c) => s + readDecimal(c, "amount", what), 0n);
  if (sum !== r.amount) broken(`${what}: children of ${r.id} sum to ${sum}, not ${r.amount}`);
  const next: ReceivableRecord = {
    ...r,
    status: "split",
    holder: null,
    children: children.map((c) => readString(c, "id", what)),
    parties: unionParties(
      r.parties,
      children.map((c) => readString(c, "holder", what)),
    ),
  };
  return put(new Map(), next, holder);
}

function leavesChanged(state: StateSlice, data: JsonObject, what: string): Updates {
  const root = current(state, readString(data, "id", what), what);
  const removed = readString(data, "removed", what);
  const added = readStringArray(data.added, `${what} added`);
  const at = root.leaves?.indexOf(removed) ?? -1;
  if (root.leaves === null || at < 0) broken(`${what}: ${removed} is not a live leaf of ${root.id}`);
  const leaves = [...root.leaves.slice(0, at), ...added, ...root.leaves.slice(at + 1)];
  return new Map([[receivableKey(root.id), recordValue({ ...root, leaves })]]);
}

function moved(state: StateSlice, data: JsonObject, what: string, financed: boolean): Updates {
  const r = current(state, readString(data, "id", what), what);
  const from = held(r, what);
  if (readString(data, "from", what) !== from) broken(`${what}: ${r.id} is held by ${from}`);
  const to = readString(data, financed ? "bank" : "to", what);
  const next: ReceivableRecord = financed
    ? { ...r, holder: to, financed: true, financedBy: to, parties: unionParties(r.parties, [to]) }
    : { ...r, holder: to, parties: unionParties(r.parties, [to]) };
  return put(new Map(), next, from);
}

function paid(state: StateSlice, data: JsonObject, what: string): Updates {
  const r = current(state, readString(data, "id", what), what);
  const holder = held(r, what);
  if (readString(data, "holder", what) !== holder) broken(`${what}: ${r.id} is held by ${holder}`);
  return put(new Map(), { ...r, status: "settled", settledAtMs: readInteger(data, "settledAtMs", what) }, holder);
}

function settled(state: StateSlice, data: JsonObject, what: string): Updates {
  const root = current(state, readString(data, "id", what), what);
  if (root.leaves === null || root.leaves.length === 0) broken(`${what}: ${root.id} is not an unsettled root`);
  return new Map([[receivableKey(root.id), recordValue({ ...root, leaves: [], settledAtMs: readInteger(data, "settledAtMs", what) })]]);
}

/** Folds one receivable event into the slice; returns the changed entries (null deletes). */
export function evolve(state: StateSlice, event: ContractEvent): ReadonlyMap<string, JsonValue | null> {
  const what = `receivable ${event.type}`;
  const data = readObject(event.data, what);
  switch (event.type) {
    case "ReceivableRegistered":
      return registered(state, data, what);
    case "ReceivableConfirmed": {
      const r = current(state, readString(data, "id", what), what);
      if (r.status !== "registered") broken(`${what}: ${r.id} is ${r.status}`);
      // The holder does not change, so neither does the portfolio index.
      return new Map([[receivableKey(r.id), recordValue({ ...r, status: "confirmed" })]]);
    }
    case "ReceivableTransferred":
      return moved(state, data, what, false);
    case "ReceivableFinanced":
      return moved(state, data, what, true);
    case "ReceivableSplit":
      return split(state, data, what);
    case "ReceivableChildCreated":
      return childCreated(state, data, what);
    case "ReceivableLeavesChanged":
      return leavesChanged(state, data, what);
    case "ReceivablePaid":
      return paid(state, data, what);
    case "ReceivableSettled":
      return settled(state, data, what);
    default:
      throw new InvariantError(`receivable cannot fold event ${event.type}`, "CONTRACT_STATE");
  }
}
