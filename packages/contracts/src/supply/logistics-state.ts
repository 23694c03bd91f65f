// The logistics contract's state: shipments with their attestations, purchases with their escrow,
// and the cash legs that move escrowed cash. Pure reading and writing of JSON values; decide and
// evolve live in logistics.ts.
import { InvariantError, type JsonValue } from "@tally/ledger";
import { isRejection, rejection, type ContractEvent, type Rejection, type StateSlice, type TxContext } from "../contract.js";
import { accountKey, BALANCE_MAX, cashAccountKey, cashBalanceIn, cashLegs, CASH_CONTRACT } from "../cash/cash.js";
import {
  readArray,
  readBoolean,
  readDecimal,
  readNullableString,
  readObject,
  readString,
  readStringArray,
  type JsonObject,
} from "../state-read.js";
import { partiesOf, readCount } from "./supply-fields.js";

/** The logistics contract's name in transactions and the registry. */
export const LOGISTICS_CONTRACT = "logistics";

/** What an oracle may attest about a shipment. */
export const ATTESTATION_KINDS = ["received", "shipped", "delivered", "temperature-breach"] as const;

/** One of ATTESTATION_KINDS. */
export type AttestationKind = (typeof ATTESTATION_KINDS)[number];

/** Where a purchase stands: its escrow is held while `funded` or `blocked`, and gone once settled. */
export type PurchaseStatus = "funded" | "blocked" | "released" | "refunded";

const STATUSES: readonly string[] = ["funded", "blocked", "released", "refunded"];

/** The state key of a shipment: its attestations and the purchase waiting on it. */
export function shipmentKey(id: string): string {
  return `shipment/${id}`;
}

/** The state key of a purchase contract. */
export function purchaseKey(id: string): string {
  return `purchase/${id}`;
}

/** The portfolio index entry of a purchase for one of its two parties: {side, counterparty, shipment, amount}. */
export function heldPurchaseKey(party: string, id: string): string {
  return `held/${party}/${purchaseKey(id)}`;
}

/**
 * The cash account that holds a purchase's escrow. The cash ledger has no debit-only event, so the
 * escrowed cash moves, by an ordinary transfer, into an account named after the purchase. Its name
 * contains '/', which no institution id may, so it can never be a member's account; only this
 * contract moves cash in or out of it, and its balance always equals the purchase's `escrow`.
 */
export function escrowHolder(purchaseId: string): string {
  return `${LOGISTICS_CONTRACT}/escrow/${purchaseId}`;
}

/** The escrow account of a purchase as this contract names it in its keys. */
export function escrowAccountKey(purchaseId: string): string {
  return cashAccountKey(escrowHolder(purchaseId));
}

/** One attestation, as the shipment keeps it. */
export interface Attestation {
  readonly seq: number;
  readonly oracle: string;
  readonly kind: AttestationKind;
  readonly reading: string | null;
  readonly note: string | null;
  readonly atMs: number;
  readonly txId: string;
}

/** A shipment as kept in state. */
export interface Shipment {
  readonly id: string;
  /** The one purchase waiting on this shipment, ever (null before one is opened). */
  readonly purchase: string | null;
  readonly seller: string | null;
  readonly delivered: boolean;
  readonly breached: boolean;
  readonly attestations: readonly Attestation[];
  readonly parties: readonly string[];
}

/** A purchase as kept in state. */
export interface Purchase {
  readonly id: string;
  readonly buyer: string;
  readonly seller: string;
  readonly shipment: string;
  readonly amount: bigint;
  /** Cash held in escrow now: amount while funded or blocked, 0 once released or refunded. */
  readonly escrow: bigint;
  /** The oracles whose attestations it accepts; null means any oracle. */
  readonly oracles: readonly string[] | null;
  readonly status: PurchaseStatus;
  readonly openedAtMs: number;
  readonly expiresAtMs: number;
  readonly settledAtMs: number | null;
  readonly parties: readonly string[];
}

function broken(what: string, message: string): never {
  throw new InvariantError(`${what}: ${message}`, "CONTRACT_STATE");
}

/** An attestation kind read from state or an event; throws InvariantError otherwise. */
export function readKind(o: JsonObject, what: string): AttestationKind {
  const kind = readString(o, "kind", what);
  const known = ATTESTATION_KINDS.find((k) => k === kind);
  if (known === undefined) broken(what, `attestation kind ${kind} is unknown`);
  return known;
}

/** An attestation read from state or event data. */
export function readAttestation(v: JsonValue | undefined, what: string): Attestation {
  const o = readObject(v, what);
  return {
    seq: readCount(o, "seq", what),
    oracle: readString(o, "oracle", what),
    kind: readKind(o, what),
    reading: readNullableString(o, "reading", what),
    note: readNullableString(o, "note", what),
    atMs: readCount(o, "atMs", what),
    txId: readString(o, "txId", what),
  };
}

/** The attestation as JSON. */
export function attestationJson(a: Attestation): JsonValue {
  return { seq: a.seq, oracle: a.oracle, kind: a.kind, reading: a.reading, note: a.note, atMs: a.atMs, txId: a.txId };
}

/** The shipment in the slice, or undefined. */
export function shipmentIn(state: StateSlice, id: string): Shipment | undefined {
  const v = state.get(shipmentKey(id));
  if (v === undefined) return undefined;
  const what = `logistics shipment ${id}`;
  const o = readObject(v, what);
  return {
    id: readString(o, "id", what),
    purchase: readNullableString(o, "purchase", what),
    seller: readNullableString(o, "seller", what),
    delivered: readBoolean(o, "delivered", what),
    breached: readBoolean(o, "breached", what),
    attestations: readArray(o, "attestations", what).map((a) => readAttestation(a, `${what} attestation`)),
    parties: readStringArray(o.parties, `${what} parties`),
  };
}

/** A shipment nobody has attested yet. */
export function emptyShipment(id: string): Shipment {
  return { id, purchase: null, seller: null, delivered: false, breached: false, attestations: [], parties: [] };
}

/** The shipment as its JSON state value. */
export function shipmentJson(s: Shipment): JsonValue {
  return {
    id: s.id,
    purchase: s.purchase,
    seller: s.seller,
    delivered: s.delivered,
    breached: s.breached,
    attestations: s.attestations.map(attestationJson),
    parties: [...s.parties],
  };
}

/** The purchase in the slice, or undefined. */
export function purchaseIn(state: StateSlice, id: string): Purchase | undefined {
  const v = state.get(purchaseKey(id));
  if (v === undefined) return undefined;
  const what = `logistics purchase ${id}`;
  const o = readObject(v, what);
  const status = readString(o, "status", what);
  if (!STATUSES.includes(status)) broken(what, `status ${status} is unknown`);
  return {
    id: readString(o, "id", what),
    buyer: readString(o, "buyer", what),
    seller: readString(o, "seller", what),
    shipment: readString(o, "shipment", what),
    amount: readDecimal(o, "amount", what),
    escrow: readDecimal(o, "escrow", what),
    oracles: o.oracles === null ? null : readStringArray(o.oracles, `${what} oracles`),
    status: status as PurchaseStatus,
    openedAtMs: readCount(o, "openedAtMs", what),
    expiresAtMs: readCount(o, "expiresAtMs", what),
    settledAtMs: o.settledAtMs === null ? null : readCount(o, "settledAtMs", what),
    parties: readStringArray(o.parties, `${what} parties`),
  };
}

/** The purchase as its JSON state value: amounts as decimal strings. */
export function purchaseJson(p: Purchase): JsonValue {
  return {
    id: p.id,
    buyer: p.buyer,
    seller: p.seller,
    shipment: p.shipment,
    amount: p.amount.toString(),
    escrow: p.escrow.toString(),
    oracles: p.oracles === null ? null : [...p.oracles],
    status: p.status,
    openedAtMs: p.openedAtMs,
    expiresAtMs: p.expiresAtMs,
    settledAtMs: p.settledAtMs,
    parties: [...p.parties],
  };
}

/**
 * The cash event that moves a purchase's amount from the buyer's account into its escrow account,
 * or INSUFFICIENT_FUNDS. Written here rather than with cashLegs, which pays members only.
 */
export function fundEscrowLeg(state: StateSlice, p: Purchase): ContractEvent | Rejection {
  const have = cashBalanceIn(state, p.buyer);
  if (have < p.amount) {
    return rejection("INSUFFICIENT_FUNDS", `funding purchase ${p.id} takes ${p.amount}; buyer ${p.buyer} holds ${have}`);
  }
  const holder = escrowHolder(p.id);
  const after = cashBalanceIn(state, holder) + p.amount;
  if (after > BALANCE_MAX) throw new InvariantError(`escrow of purchase ${p.id} would hold ${after}`, "CONTRACT_STATE");
  return {
    contract: CASH_CONTRACT,
    type: "CashTransferred",
    assetId: accountKey(p.buyer),
    parties: partiesOf(p.buyer, p.seller),
    data: { from: p.buyer, to: holder, amount: p.amount.toString(), memo: `escrow of purchase ${p.id}` },
  };
}

/**
 * The cash event that pays a purchase's whole escrow out to `to` (the seller on release, the buyer
 * on refund), with cash's own checks (BALANCE_MAX on the payee). The event's parties are the buyer
 * and the seller, not the escrow account's name.
 */
export function payOutEscrowLeg(state: StateSlice, ctx: TxContext, p: Purchase, to: string, memo: string): ContractEvent | Rejection {
  if (cashBalanceIn(state, escrowHolder(p.id)) !== p.escrow) {
    throw new InvariantError(`escrow account of purchase ${p.id} does not hold its escrow ${p.escrow}`, "CONTRACT_STATE");
  }
  const legs = cashLegs(state, ctx, [{ from: escrowHolder(p.id), to, amount: p.escrow, memo }]);
  if (isRejection(legs)) return legs;
  const [leg] = legs;
  if (leg === undefined || legs.length !== 1)
    throw new InvariantError(`escrow of purchase ${p.id} paid out in ${legs.length} legs`, "CONTRACT_STATE");
  return { ...leg, parties: partiesOf(p.buyer, p.seller) };
}
