// The bill contract's evolve: folds one bill event into the bill and its holders' portfolio index.
import { InvariantError, type JsonValue } from "@tally/ledger";
import type { ContractEvent, StateSlice } from "../contract.js";
import { readArray, readDecimal, readObject, readString } from "../state-read.js";
import {
  HELD_STATES,
  billIn,
  billKey,
  billValue,
  heldKey,
  heldValue,
  readInteger,
  readTransferKind,
  withParties,
  type Bill,
  type BillState,
} from "./bill-state.js";

type Updates = Map<string, JsonValue | null>;

function broken(message: string): never {
  throw new InvariantError(message, "CONTRACT_STATE");
}

function existing(state: StateSlice, id: string, type: string, wanted: readonly BillState[]): Bill {
  const bill = billIn(state, id) ?? broken(`${type} for bill ${id}, which does not exist`);
  if (!wanted.includes(bill.state)) broken(`${type} for bill ${id}, which is ${bill.state}`);
  return bill;
}

// The bill written back, with its index entry moved, added or dropped to match its holder and state.
function put(before: Bill | undefined, after: Bill): Updates {
  const out: Updates = new Map([[billKey(after.id), billValue(after)]]);
  // Only a change of holder or of held-ness touches the index: acts that write neither do not name its key.
  const wasHeld = before !== undefined && HELD_STATES.includes(before.state);
  const isHeld = HELD_STATES.includes(after.state);
  const moved = before === undefined || before.holder !== after.holder;
  if (wasHeld && (moved || !isHeld)) out.set(heldKey(before.holder, before.id), null);
  if (isHeld && (moved || !wasHeld)) out.set(heldKey(after.holder, after.id), heldValue(after));
  return out;
}

function checkHolder(bill: Bill, holder: string, type: string): void {
  if (bill.holder !== holder) broken(`${type} names ${holder} as holder of bill ${bill.id}; ${bill.holder} holds it`);
}

/** Folds one bill event into the slice; returns the changed entries (null deletes). */
export function evolve(state: StateSlice, event: ContractEvent): ReadonlyMap<string, JsonValue | null> {
  const what = `bill ${event.type}`;
  const data = readObject(event.data, what);
  const id = readString(data, "id", what);
  const atMs = readInteger(data, "atMs", what);
  switch (event.type) {
    case "BillIssued": {
      if (state.has(billKey(id))) broken(`bill ${id} issued twice`);
      const drawer = readString(data, "drawer", what);
      const payee = readString(data, "payee", what);
      const acceptor = readString(data, "acceptor", what);
      const bill: Bill = {
        id,
        parent: null,
        children: [],
        drawer,
        payee,
        acceptor,
        amount: readDecimal(data, "amount", what),
        dueMs: readInteger(data, "dueMs", what),
        holder: drawer,
        state: "issued",
        pledgee: null,
        endorsements: [],
        recourseFrom: null,
        parties: withParties([drawer, payee, acceptor]),
      };
      if (bill.amount === 0n) broken(`bill ${id} issued for zero`);
      return put(undefined, bill);
    }
    case "BillAccepted": {
      const bill = existing(state, id, event.type, ["issued"]);
      if (readString(data, "acceptor", what) !== bill.acceptor) broken(`${event.type} by someone other than the acceptor of bill ${id}`);
      return put(bill, { ...bill, state: "accepted" });
    }
    case "BillVoided": {
      const bill = existing(state, id, event.type, ["issued"]);
      return put(bill, { ...bill, state: "voided" });
    }
    case "BillEndorsed":
    case "BillDiscounted": {
      const bill = existing(state, id, event.type, ["accepted"]);
      const from = readString(data, "from", what);
      const to = readString(data, "to", what);
      checkHolder(bill, from, event.type);
      const kind = event.type === "BillDiscounted" ? "discount" : readTransferKind(data, "kind", what);
      const endorsements = [...bill.endorsements, { kind, from, to, atMs }];
      return put(bill, { ...bill, holder: to, endorsements, parties: withParties(bill.parties, to) });
    }
    case "BillSplit": {
      const bill = existing(state, id, event.type, ["accepted"]);
      checkHolder(bill, readString(data, "holder", what), event.type);
      const children = readArray(data, "children", what).map((c) => readObject(c, `${what} child`));
      const sum = children.reduce((a, c) => a + readDecimal(c, "amount", `${what} child`), 0n);
      if (sum !== bill.amount) broken(`${event.type} of bill ${id} into ${sum}, not ${bill.amount}`);
      return put(bill, { ...bill, state: "split", children: children.map((c) => readString(c, "id", `${what} child`)) });
    }
    case "BillSplitOff": {
      if (state.has(billKey(id))) broken(`bill ${id} split off twice`);
      const parentId = readString(data, "parent", what);
      const parent = existing(state, parentId, event.type, ["split"]);
      if (!parent.children.includes(id)) broken(`${event.type}: ${id} is not a child of ${parentId}`);
      const holder = readString(data, "holder", what);
      checkHolder(parent, holder, event.type);
      const amount = readDecimal(data, "amount", what);
      if (amount === 0n) broken(`bill ${id} split off for zero`);
      return put(undefined, { ...parent, id, parent: parentId, children: [], amount, state: "accepted", pledgee: null });
    }
    case "BillPledged": {
      const bill = existing(state, id, event.type, ["accepted"]);
      checkHolder(bill, readString(data, "holder", what), event.type);
      const pledgee = readString(data, "pledgee", what);
      return put(bill, { ...bill, state: "pledged", pledgee, parties: withParties(bill.parties, pledgee) });
    }
    case "BillReleased": {
      const bill = existing(state, id, event.type, ["pledged"]);
      if (readString(data, "pledgee", what) !== bill.pledgee) broken(`${event.type} of bill ${id} by someone other than its pledgee`);
      return put(bill, { ...bill, state: "accepted", pledgee: null });
    }
    case "BillPaid": {
      const bill = existing(state, id, event.type, ["accepted"]);
      checkHolder(bill, readString(data, "holder", what), event.type);
      return put(bill, { ...bill, state: "paid" });
    }
    case "BillDishonoured": {
      const bill = existing(state, id, event.type, ["accepted"]);
      checkHolder(bill, readString(data, "holder", what), event.type);
      return put(bill, { ...bill, state: "dishonoured" });
    }
    case "BillRecourseSettled": {
      const bill = existing(state, id, event.type, ["dishonoured"]);
      checkHolder(bill, readString(data, "holder", what), event.type);
      return put(bill, { ...bill, state: "settled", recourseFrom: readString(data, "from", what) });
    }
    default:
      throw new InvariantError(`bill cannot fold event ${event.type}`, "CONTRACT_STATE");
  }
}
