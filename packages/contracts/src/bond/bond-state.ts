// Bond state (SCENARIOS.md §5): the state keys, the shape of a bond and of a holding, and the
// readers and writers between them and JSON. State is written only by our own evolve, so a
// malformed entry is our bug: the readers throw InvariantError.
import { InvariantError, type JsonValue } from "@tally/ledger";
import {
  readArray,
  readBoolean,
  readDecimal,
  readNullableString,
  readObject,
  readString,
  readStringArray,
  type JsonObject,
  readInteger as readSafeInteger,
} from "../state-read.js";

/** The bond contract's name in transactions and the registry. */
export const BOND_CONTRACT = "bond";

/** The state key of a bond: its prospectus, subscriptions, holder set and coupons paid. */
export function bondKey(bond: string): string {
  return `bond/${bond}`;
}

/** The state key of one holder's position in a bond. */
export function holdingKey(bond: string, holder: string): string {
  return `holding/${bond}/${holder}`;
}

/** The key prefix under which a bond's holdings sit, one per holder. */
export function holdingPrefix(bond: string): string {
  return `holding/${bond}/`;
}

/** The portfolio index entry of a holding: `held/<holder>/bond/<bond>` → {bond, units, holding}. */
export function heldKey(holder: string, bond: string): string {
  return `${heldPrefix(holder)}${bondKey(bond)}`;
}

/** The key prefix of a holder's portfolio index. */
export function heldPrefix(holder: string): string {
  return `held/${holder}/`;
}

/** Where a bond is in its life: taking subscriptions, allotted (trading, paying coupons), redeemed. */
export type BondStatus = "subscribing" | "allotted" | "redeemed";

const STATUSES: readonly BondStatus[] = ["subscribing", "allotted", "redeemed"];

/** One investor's demand: the units it asked for over all its subscriptions. */
export interface Subscription {
  readonly investor: string;
  readonly units: bigint;
}

/** A bond as decide sees it. Amounts are bigint here and decimal strings in state. */
export interface Bond {
  readonly id: string;
  readonly issuer: string;
  /** The supervising regulator: party to every event, and the one institution that may freeze a holding. */
  readonly regulator: string;
  /** Face value of one unit, in cash minor units. */
  readonly faceValue: bigint;
  readonly couponRateBp: number;
  readonly couponsPerYear: number;
  /** Strictly increasing block times at or after which each coupon may be paid. */
  readonly couponDatesMs: readonly number[];
  readonly maturityMs: number;
  /** Units on offer. */
  readonly sizeUnits: bigint;
  /** Subscriptions are taken while the block time is before this; allotment at or after it. */
  readonly subscriptionEndMs: number;
  readonly prospectusHash: string | null;
  readonly registeredAtMs: number;
  readonly status: BondStatus;
  /** In the order of each investor's first subscription: that order breaks allotment ties. */
  readonly subscriptions: readonly Subscription[];
  /** Units issued at allotment (paid for), which the holdings sum to until redemption. */
  readonly unitsAllotted: bigint;
  /** Institutions holding units now, sorted: the holders of record for coupons and redemption. */
  readonly holders: readonly string[];
  /** The coupon dates already paid, ascending. */
  readonly couponsPaidMs: readonly number[];
  /** Every institution that is or was party to the bond, sorted. */
  readonly parties: readonly string[];
}

/** One holder's position in a bond. */
export interface Holding {
  readonly bond: string;
  readonly holder: string;
  /** Always positive: a holding that reaches zero units is deleted. */
  readonly units: bigint;
  readonly frozen: boolean;
  readonly frozenReason: string | null;
  /** The holder, the issuer and the regulator, sorted. */
  readonly parties: readonly string[];
}

function broken(what: string, message: string): never {
  throw new InvariantError(`${what}: ${message}`, "CONTRACT_STATE");
}

/** See state-read.ts. */
export { readSafeInteger };

/** An array of safe integers; throws InvariantError otherwise. */
export function readIntegerArray(o: JsonObject, field: string, what: string): number[] {
  const a = readArray(o, field, what);
  return a.map((v, i) => {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) broken(what, `${field}[${i}] is not a non-negative integer`);
    return v;
  });
}

/** The names, without duplicates, sorted: the parties of a state value or an event. */
export function partySet(...names: readonly string[]): string[] {
  return [...new Set(names)].sort();
}

/** A bond from its state value; throws InvariantError when malformed. */
export function readBond(v: JsonValue | undefined, what: string): Bond {
  const o = readObject(v, what);
  const status = readString(o, "status", what);
  if (!(STATUSES as readonly string[]).includes(status)) broken(what, `status ${status} is unknown`);
  const subscriptions = readArray(o, "subscriptions", what).map((s, i) => {
    const so = readObject(s, `${what} subscriptions[${i}]`);
    return { investor: readString(so, "investor", what), units: readDecimal(so, "units", what) };
  });
  return {
    id: readString(o, "id", what),
    issuer: readString(o, "issuer", what),
    regulator: readString(o, "regulator", what),
    faceValue: readDecimal(o, "faceValue", what),
    couponRateBp: readSafeInteger(o, "couponRateBp", what),
    couponsPerYear: readSafeInteger(o, "couponsPerYear", what),
    couponDatesMs: readIntegerArray(o, "couponDatesMs", what),
    maturityMs: readSafeInteger(o, "maturityMs", what),
    sizeUnits: readDecimal(o, "sizeUnits", what),
    subscriptionEndMs: readSafeInteger(o, "subscriptionEndMs", what),
    prospectusHash: readNullableString(o, "prospectusHash", what),
    registeredAtMs: readSafeInteger(o, "registeredAtMs", what),
    status: status as BondStatus,
    subscriptions,
    unitsAllotted: readDecimal(o, "unitsAllotted", what),
    holders: readStringArray(o.holders, `${what} holders`),
    couponsPaidMs: readIntegerArray(o, "couponsPaidMs", what),
    parties: readStringArray(o.parties, `${what} parties`),
  };
}

/** A bond's state value: amounts as decimal strings. */
export function writeBond(b: Bond): JsonValue {
  return {
    id: b.id,
    issuer: b.issuer,
    regulator: b.regulator,
    faceValue: b.faceValue.toString(),
    couponRateBp: b.couponRateBp,
    couponsPerYear: b.couponsPerYear,
    couponDatesMs: [...b.couponDatesMs],
    maturityMs: b.maturityMs,
    sizeUnits: b.sizeUnits.toString(),
    subscriptionEndMs: b.subscriptionEndMs,
    prospectusHash: b.prospectusHash,
    registeredAtMs: b.registeredAtMs,
    status: b.status,
    subscriptions: b.subscriptions.map((s) => ({ investor: s.investor, units: s.units.toString() })),
    unitsAllotted: b.unitsAllotted.toString(),
    holders: [...b.holders],
    couponsPaidMs: [...b.couponsPaidMs],
    parties: [...b.parties],
  };
}

/** A holding from its state value; throws InvariantError when malformed. */
export function readHolding(v: JsonValue | undefined, what: string): Holding {
  const o = readObject(v, what);
  const units = readDecimal(o, "units", what);
  if (units === 0n) broken(what, "a holding of zero units should have been deleted");
  return {
    bond: readString(o, "bond", what),
    holder: readString(o, "holder", what),
    units,
    frozen: readBoolean(o, "frozen", what),
    frozenReason: readNullableString(o, "frozenReason", what),
    parties: readStringArray(o.parties, `${what} parties`),
  };
}

/** A holding's state value. */
export function writeHolding(h: Holding): JsonValue {
  return {
    bond: h.bond,
    holder: h.holder,
    units: h.units.toString(),
    frozen: h.frozen,
    frozenReason: h.frozenReason,
    parties: [...h.parties],
  };
}

/** A portfolio index entry's value. */
export function writeHeld(bond: string, holder: string, units: bigint): JsonValue {
  return { bond, units: units.toString(), holding: holdingKey(bond, holder) };
}
