// The bond contract's evolve: folds each event into the bond, holding and portfolio-index entries
// it changes. Events come from our own decide, so a malformed or impossible one throws
// InvariantError rather than being skipped.
import { InvariantError, type JsonValue } from "@tally/ledger";
import type { ContractEvent, StateSlice } from "../contract.js";
import { readArray, readBoolean, readDecimal, readNullableString, readObject, readString, type JsonObject } from "../state-read.js";
import {
  bondKey,
  heldKey,
  holdingKey,
  partySet,
  readBond,
  readHolding,
  readIntegerArray,
  readSafeInteger,
  writeBond,
  writeHeld,
  writeHolding,
  type Bond,
  type Holding,
} from "./bond-state.js";

type Updates = Map<string, JsonValue | null>;

function broken(what: string, message: string): never {
  throw new InvariantError(`${what}: ${message}`, "CONTRACT_STATE");
}

function bondIn(state: StateSlice, id: string, what: string): Bond {
  const v = state.get(bondKey(id));
  if (v === undefined) broken(what, `bond ${id} is not registered`);
  return readBond(v, `bond ${id}`);
}

function holdingIn(state: StateSlice, bond: string, holder: string): Holding | undefined {
  const v = state.get(holdingKey(bond, holder));
  return v === undefined ? undefined : readHolding(v, `holding ${bond}/${holder}`);
}

function putBond(bond: Bond): Updates {
  return new Map([[bondKey(bond.id), writeBond(bond)]]);
}

// A holding and its portfolio index entry change together; zero units deletes both.
function putHolding(h: Holding): Updates {
  if (h.units === 0n) {
    return new Map([
      [holdingKey(h.bond, h.holder), null],
      [heldKey(h.holder, h.bond), null],
    ]);
  }
  return new Map([
    [holdingKey(h.bond, h.holder), writeHolding(h)],
    [heldKey(h.holder, h.bond), writeHeld(h.bond, h.holder, h.units)],
  ]);
}

function newHolding(bond: Bond, holder: string, units: bigint): Holding {
  return { bond: bond.id, holder, units, frozen: false, frozenReason: null, parties: partySet(holder, bond.issuer, bond.regulator) };
}

function registered(state: StateSlice, data: JsonObject, what: string): Updates {
  const id = readString(data, "bond", what);
  if (state.has(bondKey(id))) broken(what, `bond ${id} registered twice`);
  const issuer = readString(data, "issuer", what);
  const regulator = readString(data, "regulator", what);
  return putBond({
    id,
    issuer,
    regulator,
    faceValue: readDecimal(data, "faceValue", what),
    couponRateBp: readSafeInteger(data, "couponRateBp", what),
    couponsPerYear: readSafeInteger(data, "couponsPerYear", what),
    couponDatesMs: readIntegerArray(data, "couponDatesMs", what),
    maturityMs: readSafeInteger(data, "maturityMs", what),
    sizeUnits: readDecimal(data, "sizeUnits", what),
    subscriptionEndMs: readSafeInteger(data, "subscriptionEndMs", what),
    prospectusHash: readNullableString(data, "prospectusHash", what),
    registeredAtMs: readSafeInteger(data, "registeredAtMs", what),
    status: "subscribing",
    subscriptions: [],
    unitsAllotted: 0n,
    holders: [],
    couponsPaidMs: [],
    parties: partySet(issuer, regulator),
  });
}

function subscribed(state: StateSlice, data: JsonObject, what: string): Updates {
  const bond = bondIn(state, readString(data, "bond", what), what);
  if (bond.status !== "subscribing") broken(what, `bond ${bond.id} is ${bond.status}`);
  const investor = readString(data, "investor", what);
  const units = readDecimal(data, "units", what);
  const demandUnits = readDecimal(data, "demandUnits", what);
  const before = bond.subscriptions.find((s) => s.investor === investor);
  if ((before?.units ?? 0n) + units !== demandUnits) broken(what, `demand of ${investor} does not add up to ${demandUnits}`);
  const subscriptions =
    before === undefined
      ? [...bond.subscriptions, { investor, units: demandUnits }]
      : bond.subscriptions.map((s) => (s.investor === investor ? { investor, units: demandUnits } : s));
  return putBond({ ...bond, subscriptions, parties: partySet(...bond.parties, investor) });
}

function allotted(state: StateSlice, data: JsonObject, what: string): Updates {
  const bond = bondIn(state, readString(data, "bond", what), what);
  if (bond.status !== "subscribing") broken(what, `bond ${bond.id} is ${bond.status}`);
  const holders: string[] = [];
  let sum = 0n;
  for (const [i, entry] of readArray(data, "allotments", what).entries()) {
    const a = readObject(entry, `${what} allotments[${i}]`);
    const units = readDecimal(a, "units", what);
    const paid = readBoolean(a, "paid", what);
    if (paid !== units > 0n) broken(what, `allotments[${i}] paid ${paid} for ${units} units`);
    if (units > 0n) holders.push(readString(a, "investor", what));
    sum += units;
  }
  if (sum !== readDecimal(data, "unitsAllotted", what)) broken(what, `allotments do not sum to unitsAllotted`);
  if (sum > bond.sizeUnits) broken(what, `${sum} units allotted, more than the size ${bond.sizeUnits}`);
  return putBond({ ...bond, status: "allotted", unitsAllotted: sum, holders: holders.sort() });
}

function unitsAllotted(state: StateSlice, data: JsonObject, what: string): Updates {
  const bond = bondIn(state, readString(data, "bond", what), what);
  const holder = readString(data, "holder", what);
  if (holdingIn(state, bond.id, holder) !== undefined) broken(what, `${holder} already holds bond ${bond.id}`);
  const units = readDecimal(data, "units", what);
  if (units === 0n) broken(what, "zero units allotted");
  return putHolding(newHolding(bond, holder, units));
}

function traded(state: StateSlice, data: JsonObject, what: string): Updates {
  const bond = bondIn(state, readString(data, "bond", what), what);
  if (bond.status !== "allotted") broken(what, `bond ${bond.id} is ${bond.status}`);
  const seller = readString(data, "seller", what);
  const buyer = readString(data, "buyer", what);
  const sellerLeft = readDecimal(data, "sellerUnitsAfter", what);
  if (!bond.holders.includes(seller)) broken(what, `${seller} is not a holder of bond ${bond.id}`);
  const holders = bond.holders.filter((h) => h !== seller || sellerLeft > 0n);
  return putBond({ ...bond, holders: partySet(...holders, buyer), parties: partySet(...bond.parties, buyer) });
}

function delivered(state: StateSlice, data: JsonObject, what: string): Updates {
  const bond = readString(data, "bond", what);
  const seller = readString(data, "seller", what);
  const h = holdingIn(state, bond, seller);
  if (h === undefined) broken(what, `${seller} holds no units of bond ${bond}`);
  const units = h.units - readDecimal(data, "units", what);
  if (units < 0n || units !== readDecimal(data, "sellerUnitsAfter", what))
    broken(what, `delivery does not leave ${seller} the units it says`);
  return putHolding({ ...h, units });
}

function received(state: StateSlice, data: JsonObject, what: string): Updates {
  const bond = bondIn(state, readString(data, "bond", what), what);
  const buyer = readString(data, "buyer", what);
  const h = holdingIn(state, bond.id, buyer) ?? newHolding(bond, buyer, 0n);
  const units = h.units + readDecimal(data, "units", what);
  if (units !== readDecimal(data, "buyerUnitsAfter", what)) broken(what, `receipt does not leave ${buyer} the units it says`);
  return putHolding({ ...h, units });
}

function couponPaid(state: StateSlice, data: JsonObject, what: string): Updates {
  const bond = bondIn(state, readString(data, "bond", what), what);
  const date = readSafeInteger(data, "couponDateMs", what);
  if (!bond.couponDatesMs.includes(date) || bond.couponsPaidMs.includes(date)) broken(what, `coupon ${date} is not due for payment`);
  return putBond({ ...bond, couponsPaidMs: [...bond.couponsPaidMs, date].sort((a, b) => a - b) });
}

function redeemed(state: StateSlice, data: JsonObject, what: string): Updates {
  const bond = bondIn(state, readString(data, "bond", what), what);
  if (bond.status !== "allotted") broken(what, `bond ${bond.id} is ${bond.status}`);
  return putBond({ ...bond, status: "redeemed", holders: [] });
}

function unitsRedeemed(state: StateSlice, data: JsonObject, what: string): Updates {
  const bond = readString(data, "bond", what);
  const holder = readString(data, "holder", what);
  const h = holdingIn(state, bond, holder);
  if (h === undefined || h.units !== readDecimal(data, "units", what)) broken(what, `${holder} does not hold the units redeemed`);
  return putHolding({ ...h, units: 0n });
}

function frozen(state: StateSlice, data: JsonObject, what: string, freeze: boolean): Updates {
  const bond = readString(data, "bond", what);
  const holder = readString(data, "holder", what);
  const h = holdingIn(state, bond, holder);
  if (h === undefined || h.frozen === freeze) broken(what, `the holding of ${holder} in bond ${bond} cannot change to frozen=${freeze}`);
  const reason = freeze ? readNullableString(data, "reason", what) : null;
  return putHolding({ ...h, frozen: freeze, frozenReason: reason });
}

/** Folds one bond event into the entries it changes (null deletes). */
export function evolveBond(state: StateSlice, event: ContractEvent): ReadonlyMap<string, JsonValue | null> {
  const what = `bond ${event.type}`;
  const data = readObject(event.data, what);
  switch (event.type) {
    case "BondRegistered":
      return registered(state, data, what);
    case "BondSubscribed":
      return subscribed(state, data, what);
    case "BondAllotted":
      return allotted(state, data, what);
    case "UnitsAllotted":
      return unitsAllotted(state, data, what);
    case "BondTraded":
      return traded(state, data, what);
    case "UnitsDelivered":
      return delivered(state, data, what);
    case "UnitsReceived":
      return received(state, data, what);
    case "CouponPaid":
      return couponPaid(state, data, what);
    case "BondRedeemed":
      return redeemed(state, data, what);
    case "UnitsRedeemed":
      return unitsRedeemed(state, data, what);
    case "HoldingFrozen":
      return frozen(state, data, what, true);
    case "HoldingUnfrozen":
      return frozen(state, data, what, false);
    default:
      throw new InvariantError(`bond cannot fold event ${event.type}`, "CONTRACT_STATE");
  }
}
