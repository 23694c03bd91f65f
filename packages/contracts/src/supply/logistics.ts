// Logistics attestations and escrowed purchases (SCENARIOS.md §3). Oracles (sensors, logistics
// providers) post signed attestations about a shipment: received, shipped, delivered,
// temperature-breach. A buyer and a seller open a purchase on one shipment, and the buyer's cash
// moves into escrow in the same act. Triggers run in the attestation's own transaction: a delivery
// attested by a trusted oracle pays the escrow to the seller; a breach blocks it for good. A blocked
// or undelivered escrow goes back to the buyer when the seller agrees, or to the buyer alone once
// the purchase has expired. One purchase per shipment, ever: the shipment names it, and every
// attestation on that shipment must name it (and its seller), so the keys an attestation touches
// are known before any state is read.
import { InvariantError, type JsonValue } from "@tally/ledger";
import { isRejection, rejection, type Contract, type ContractEvent, type Rejection, type StateSlice, type TxContext } from "../contract.js";
import { cashAccountKey, CASH_CONTRACT } from "../cash/cash.js";
import { eraseContract, eraseQuery } from "../erase-contract.js";
import { WRITER_ROLES } from "../roles.js";
import { identifier, optionalIdentifier, optionalString, parseArgs, positiveAmount, timeMs, type Args } from "../schema.js";
import { readDecimal, readNullableString, readObject, readString, readStringArray } from "../state-read.js";
import { holdsRole, oneOf, optionalDistinctArrayOf, partiesOf, readCount, requireSignature } from "./supply-fields.js";
import {
  ATTESTATION_KINDS,
  emptyShipment,
  escrowAccountKey,
  fundEscrowLeg,
  heldPurchaseKey,
  LOGISTICS_CONTRACT,
  payOutEscrowLeg,
  purchaseIn,
  purchaseJson,
  purchaseKey,
  readAttestation,
  shipmentIn,
  shipmentJson,
  shipmentKey,
  type Attestation,
  type AttestationKind,
  type Purchase,
} from "./logistics-state.js";

/** Most oracles a purchase may name as trusted. */
export const TRUSTED_ORACLES_MAX = 8;

/** Longest sensor reading ("9.4C", "RH 81%"), in UTF-16 code units: a string, so no float is ever parsed. */
export const READING_LENGTH_MAX = 64;

/** Longest free-text note on an attestation, in UTF-16 code units. */
export const NOTE_LENGTH_MAX = 200;

/** Most attestations one shipment keeps: its state value stays bounded. */
export const ATTESTATIONS_MAX = 64;

/** Most entries a portfolio query returns. */
export const LOGISTICS_SCAN_LIMIT = 1000;

type LogisticsCommand =
  | {
      readonly action: "open";
      readonly id: string;
      readonly shipment: string;
      readonly seller: string;
      readonly amount: bigint;
      readonly expiresAtMs: number;
      readonly oracles: readonly string[] | undefined;
    }
  | {
      readonly action: "attest";
      readonly shipment: string;
      readonly kind: AttestationKind;
      readonly purchase: string | undefined;
      readonly seller: string | undefined;
      readonly reading: string | undefined;
      readonly note: string | undefined;
    }
  | { readonly action: "release"; readonly id: string; readonly seller: string }
  | { readonly action: "refund"; readonly id: string; readonly buyer: string };

function parseOpen(args: Args): LogisticsCommand | Rejection {
  const a = parseArgs(args, {
    id: identifier,
    shipment: identifier,
    seller: identifier,
    amount: positiveAmount,
    expiresAtMs: timeMs,
    oracles: optionalDistinctArrayOf(identifier, TRUSTED_ORACLES_MAX),
  });
  return isRejection(a) ? a : { action: "open", ...a };
}

function parseAttest(args: Args): LogisticsCommand | Rejection {
  const a = parseArgs(args, {
    shipment: identifier,
    kind: oneOf(ATTESTATION_KINDS),
    purchase: optionalIdentifier,
    seller: optionalIdentifier,
    reading: optionalString(READING_LENGTH_MAX),
    note: optionalString(NOTE_LENGTH_MAX),
  });
  if (isRejection(a)) return a;
  // The seller is named with the purchase so that its cash account is among the keys.
  if (a.purchase !== undefined && a.seller === undefined) return rejection("BAD_ARGS", "seller is required when purchase is given");
  if (a.purchase === undefined && a.seller !== undefined) return rejection("BAD_ARGS", "purchase is required when seller is given");
  return { action: "attest", ...a };
}

function parseRelease(args: Args): LogisticsCommand | Rejection {
  const a = parseArgs(args, { id: identifier, seller: identifier });
  return isRejection(a) ? a : { action: "release", ...a };
}

function parseRefund(args: Args): LogisticsCommand | Rejection {
  const a = parseArgs(args, { id: identifier, buyer: identifier });
  return isRejection(a) ? a : { action: "refund", ...a };
}

function unknownCommand(cmd: never): never {
  throw new InvariantError(`unknown logistics command ${(cmd as { action: string }).action}`, "CONTRACT_STATE");
}

function keys(cmd: LogisticsCommand, ctx: TxContext): readonly string[] {
  switch (cmd.action) {
    case "open":
      return [
        purchaseKey(cmd.id),
        shipmentKey(cmd.shipment),
        heldPurchaseKey(ctx.signer, cmd.id),
        heldPurchaseKey(cmd.seller, cmd.id),
        cashAccountKey(ctx.signer),
        escrowAccountKey(cmd.id),
      ];
    case "attest":
      if (cmd.purchase === undefined || cmd.seller === undefined) return [shipmentKey(cmd.shipment)];
      return [shipmentKey(cmd.shipment), purchaseKey(cmd.purchase), escrowAccountKey(cmd.purchase), cashAccountKey(cmd.seller)];
    case "release":
      return [purchaseKey(cmd.id), escrowAccountKey(cmd.id), cashAccountKey(cmd.seller)];
    case "refund":
      return [purchaseKey(cmd.id), escrowAccountKey(cmd.id), cashAccountKey(cmd.buyer)];
    default:
      return unknownCommand(cmd);
  }
}

function purchaseEvent(type: string, p: Purchase, data: { readonly [k: string]: JsonValue }): ContractEvent {
  return { type, assetId: purchaseKey(p.id), parties: [...p.parties], data: { id: p.id, ...data } };
}

function knownPurchase(state: StateSlice, id: string): Purchase | Rejection {
  return purchaseIn(state, id) ?? rejection("UNKNOWN_PURCHASE", `no purchase ${id}`);
}

function settled(p: Purchase): Rejection | undefined {
  if (p.status !== "released" && p.status !== "refunded") return undefined;
  return rejection("ALREADY_SETTLED", `purchase ${p.id} was already ${p.status}: its escrow of ${p.amount} is gone`);
}

function partyMismatch(p: Purchase, side: "buyer" | "seller", named: string): Rejection | undefined {
  return p[side] === named ? undefined : rejection("PARTY_MISMATCH", `the ${side} of purchase ${p.id} is ${p[side]}, not ${named}`);
}

function decideOpen(
  cmd: Extract<LogisticsCommand, { action: "open" }>,
  state: StateSlice,
  ctx: TxContext,
): readonly ContractEvent[] | Rejection {
  const buyer = ctx.signer;
  const existing = purchaseIn(state, cmd.id);
  if (existing !== undefined)
    return rejection("PURCHASE_EXISTS", `purchase ${cmd.id} already exists (${existing.buyer} buys from ${existing.seller})`);
  if (cmd.seller === buyer) return rejection("SELF_PURCHASE", `${buyer} cannot buy shipment ${cmd.shipment} from itself`);
  if (!ctx.members.has(cmd.seller)) return rejection("UNKNOWN_MEMBER", `seller ${cmd.seller} is not a member`);
  const notOracle = cmd.oracles?.find((o) => !holdsRole(ctx, o, "oracle"));
  if (notOracle !== undefined)
    return rejection("NOT_AN_ORACLE", `${notOracle} does not hold the oracle role and cannot be trusted by purchase ${cmd.id}`);
  if (cmd.expiresAtMs <= ctx.blockTimeMs) {
    return rejection("EXPIRY_PASSED", `purchase ${cmd.id} would expire at ${cmd.expiresAtMs}, not after the block time ${ctx.blockTimeMs}`);
  }
  const s = shipmentIn(state, cmd.shipment) ?? emptyShipment(cmd.shipment);
  if (s.purchase !== null)
    return rejection("SHIPMENT_TAKEN", `shipment ${s.id} already has purchase ${s.purchase}; one purchase per shipment`);
  if (s.delivered) return rejection("ALREADY_DELIVERED", `shipment ${s.id} was already attested delivered; there is nothing to escrow for`);
  if (s.breached)
    return rejection("SHIPMENT_BREACHED", `shipment ${s.id} already has a temperature breach attested; its escrow could never be released`);
  const unsigned = requireSignature(ctx, cmd.seller, `opening purchase ${cmd.id}`);
  if (unsigned !== undefined) return unsigned;
  const oracles = cmd.oracles === undefined ? null : [...cmd.oracles].sort();
  const p: Purchase = {
    id: cmd.id,
    buyer,
    seller: cmd.seller,
    shipment: cmd.shipment,
    amount: cmd.amount,
    escrow: cmd.amount,
    oracles,
    status: "funded",
    openedAtMs: ctx.blockTimeMs,
    expiresAtMs: cmd.expiresAtMs,
    settledAtMs: null,
    parties: partiesOf(buyer, cmd.seller, ...(oracles ?? [])),
  };
  const leg = fundEscrowLeg(state, p);
  if (isRejection(leg)) return leg;
  const opened = purchaseEvent("PurchaseOpened", p, {
    buyer,
    seller: p.seller,
    shipment: p.shipment,
    amount: p.amount.toString(),
    oracles,
    openedAtMs: p.openedAtMs,
    expiresAtMs: p.expiresAtMs,
  });
  const linked: ContractEvent = {
    type: "ShipmentLinked",
    assetId: shipmentKey(s.id),
    parties: partiesOf(...s.parties, ...p.parties),
    data: { shipment: s.id, purchase: p.id, buyer, seller: p.seller, oracles },
  };
  return [opened, linked, leg];
}

function decideAttest(
  cmd: Extract<LogisticsCommand, { action: "attest" }>,
  state: StateSlice,
  ctx: TxContext,
): readonly ContractEvent[] | Rejection {
  const oracle = ctx.signer;
  const s = shipmentIn(state, cmd.shipment) ?? emptyShipment(cmd.shipment);
  if (s.attestations.length >= ATTESTATIONS_MAX) {
    return rejection("ATTESTATION_LIMIT", `shipment ${s.id} already holds ${s.attestations.length} attestations, the most it keeps`);
  }
  let p: Purchase | undefined;
  if (s.purchase !== null) {
    if (cmd.purchase === undefined) {
      return rejection("PURCHASE_NOT_NAMED", `shipment ${s.id} has purchase ${s.purchase} (seller ${s.seller ?? "?"}) waiting; name them`);
    }
    if (cmd.purchase !== s.purchase)
      return rejection("PURCHASE_MISMATCH", `shipment ${s.id} has purchase ${s.purchase}, not ${cmd.purchase}`);
    p = purchaseIn(state, s.purchase);
    if (p === undefined) throw new InvariantError(`shipment ${s.id} names absent purchase ${s.purchase}`, "CONTRACT_STATE");
    const wrongSeller = partyMismatch(p, "seller", cmd.seller ?? "");
    if (wrongSeller !== undefined) return wrongSeller;
    if (p.oracles !== null && !p.oracles.includes(oracle)) {
      return rejection("UNTRUSTED_ORACLE", `purchase ${p.id} on shipment ${s.id} trusts ${p.oracles.join(", ")}, not ${oracle}`);
    }
  } else if (cmd.purchase !== undefined) {
    return rejection("PURCHASE_MISMATCH", `shipment ${s.id} has no purchase, so none may be named (named ${cmd.purchase})`);
  }
  const attestation: Attestation = {
    seq: s.attestations.length + 1,
    oracle,
    kind: cmd.kind,
    reading: cmd.reading ?? null,
    note: cmd.note ?? null,
    atMs: ctx.blockTimeMs,
    txId: ctx.txId,
  };
  const triggered: ContractEvent[] = [];
  let effect = "none";
  if (p !== undefined && cmd.kind === "delivered" && p.status === "funded") {
    const leg = payOutEscrowLeg(state, ctx, p, p.seller, `purchase ${p.id}: delivery attested by ${oracle}`);
    if (isRejection(leg)) return leg;
    effect = "released";
    triggered.push(
      purchaseEvent("EscrowReleased", p, { to: p.seller, amount: p.escrow.toString(), atMs: ctx.blockTimeMs, trigger: "delivery", oracle }),
      leg,
    );
  } else if (p !== undefined && cmd.kind === "delivered" && p.status === "blocked") {
    effect = "withheld";
  } else if (p !== undefined && cmd.kind === "temperature-breach" && p.status === "funded") {
    effect = "blocked";
    triggered.push(purchaseEvent("EscrowBlocked", p, { oracle, seq: attestation.seq, atMs: ctx.blockTimeMs }));
  }
  const attested: ContractEvent = {
    type: "ShipmentAttested",
    assetId: shipmentKey(s.id),
    parties: partiesOf(...s.parties, oracle),
    data: { shipment: s.id, purchase: p?.id ?? null, effect, ...attestationData(attestation) },
  };
  return [attested, ...triggered];
}

function attestationData(a: Attestation): { readonly [k: string]: JsonValue } {
  return { seq: a.seq, oracle: a.oracle, kind: a.kind, reading: a.reading, note: a.note, atMs: a.atMs, txId: a.txId };
}

function decide(cmd: LogisticsCommand, state: StateSlice, ctx: TxContext): readonly ContractEvent[] | Rejection {
  switch (cmd.action) {
    case "open":
      return decideOpen(cmd, state, ctx);
    case "attest":
      return decideAttest(cmd, state, ctx);
    case "release": {
      const p = knownPurchase(state, cmd.id);
      if (isRejection(p)) return p;
      if (ctx.signer !== p.buyer)
        return rejection("NOT_BUYER", `only the buyer ${p.buyer} may release the escrow of purchase ${p.id}, not ${ctx.signer}`);
      const refused = partyMismatch(p, "seller", cmd.seller) ?? settled(p);
      if (refused !== undefined) return refused;
      if (p.status === "blocked") {
        return rejection(
          "ESCROW_BLOCKED",
          `purchase ${p.id} is blocked by a temperature breach on shipment ${p.shipment}; its escrow of ${p.escrow} can only be refunded`,
        );
      }
      const leg = payOutEscrowLeg(state, ctx, p, p.seller, `purchase ${p.id}: released by the buyer`);
      if (isRejection(leg)) return leg;
      return [
        purchaseEvent("EscrowReleased", p, {
          to: p.seller,
          amount: p.escrow.toString(),
          atMs: ctx.blockTimeMs,
          trigger: "buyer",
          oracle: null,
        }),
        leg,
      ];
    }
    case "refund": {
      const p = knownPurchase(state, cmd.id);
      if (isRejection(p)) return p;
      if (ctx.signer !== p.buyer && ctx.signer !== p.seller) {
        return rejection("NOT_PARTY", `${ctx.signer} is neither the buyer ${p.buyer} nor the seller ${p.seller} of purchase ${p.id}`);
      }
      const refused = partyMismatch(p, "buyer", cmd.buyer) ?? settled(p);
      if (refused !== undefined) return refused;
      // The seller gives up its claim, so its signature suffices; after expiry the buyer needs no one's.
      if (ctx.blockTimeMs < p.expiresAtMs) {
        const unsigned = requireSignature(ctx, p.seller, `refunding purchase ${p.id} before it expires at ${p.expiresAtMs}`);
        if (unsigned !== undefined) return unsigned;
      }
      const leg = payOutEscrowLeg(state, ctx, p, p.buyer, `purchase ${p.id}: refunded`);
      if (isRejection(leg)) return leg;
      return [purchaseEvent("EscrowRefunded", p, { to: p.buyer, amount: p.escrow.toString(), atMs: ctx.blockTimeMs, by: ctx.signer }), leg];
    }
    default:
      return unknownCommand(cmd);
  }
}

function mustPurchase(state: StateSlice, id: string, type: string, from: readonly string[]): Purchase {
  const p = purchaseIn(state, id);
  if (p === undefined || !from.includes(p.status)) {
    throw new InvariantError(`${type} on purchase ${id} in status ${p?.status ?? "absent"}`, "CONTRACT_STATE");
  }
  return p;
}

function settle(p: Purchase, status: "released" | "refunded", data: { readonly [k: string]: JsonValue }, what: string): JsonValue {
  const amount = readDecimal(data, "amount", what);
  if (amount !== p.escrow) throw new InvariantError(`${what} pays ${amount}, not the escrow ${p.escrow}`, "CONTRACT_STATE");
  return purchaseJson({ ...p, status, escrow: 0n, settledAtMs: readCount(data, "atMs", what) });
}

function evolve(state: StateSlice, e: ContractEvent): ReadonlyMap<string, JsonValue | null> {
  const what = `logistics ${e.type}`;
  const data = readObject(e.data, what);
  switch (e.type) {
    case "PurchaseOpened": {
      const id = readString(data, "id", what);
      if (state.has(purchaseKey(id))) throw new InvariantError(`purchase ${id} opened twice`, "CONTRACT_STATE");
      const buyer = readString(data, "buyer", what);
      const seller = readString(data, "seller", what);
      const shipment = readString(data, "shipment", what);
      const amount = readDecimal(data, "amount", what);
      if (amount <= 0n || buyer === seller)
        throw new InvariantError(`purchase ${id} opened with amount ${amount} between ${buyer} and ${seller}`, "CONTRACT_STATE");
      const oracles = data.oracles === null ? null : readStringArray(data.oracles, `${what} oracles`);
      const p: Purchase = {
        id,
        buyer,
        seller,
        shipment,
        amount,
        escrow: amount,
        oracles,
        status: "funded",
        openedAtMs: readCount(data, "openedAtMs", what),
        expiresAtMs: readCount(data, "expiresAtMs", what),
        settledAtMs: null,
        parties: partiesOf(buyer, seller, ...(oracles ?? [])),
      };
      const entry = (side: string, counterparty: string): JsonValue => ({ side, counterparty, shipment, amount: amount.toString() });
      return new Map([
        [purchaseKey(id), purchaseJson(p)],
        [heldPurchaseKey(buyer, id), entry("buyer", seller)],
        [heldPurchaseKey(seller, id), entry("seller", buyer)],
      ]);
    }
    case "ShipmentLinked": {
      const id = readString(data, "shipment", what);
      const s = shipmentIn(state, id) ?? emptyShipment(id);
      if (s.purchase !== null) throw new InvariantError(`shipment ${id} linked to a second purchase`, "CONTRACT_STATE");
      const seller = readString(data, "seller", what);
      const oracles = data.oracles === null ? [] : readStringArray(data.oracles, `${what} oracles`);
      const parties = partiesOf(...s.parties, readString(data, "buyer", what), seller, ...oracles);
      return new Map([[shipmentKey(id), shipmentJson({ ...s, purchase: readString(data, "purchase", what), seller, parties })]]);
    }
    case "ShipmentAttested": {
      const id = readString(data, "shipment", what);
      const s = shipmentIn(state, id) ?? emptyShipment(id);
      const a = readAttestation(data, what);
      if (a.seq !== s.attestations.length + 1)
        throw new InvariantError(`shipment ${id} attestation ${a.seq} out of order`, "CONTRACT_STATE");
      if (readNullableString(data, "purchase", what) !== s.purchase)
        throw new InvariantError(`shipment ${id} attested for another purchase`, "CONTRACT_STATE");
      const next = {
        ...s,
        delivered: s.delivered || a.kind === "delivered",
        breached: s.breached || a.kind === "temperature-breach",
        attestations: [...s.attestations, a],
        parties: partiesOf(...s.parties, a.oracle),
      };
      return new Map([[shipmentKey(id), shipmentJson(next)]]);
    }
    case "EscrowBlocked": {
      const p = mustPurchase(state, readString(data, "id", what), e.type, ["funded"]);
      return new Map([[purchaseKey(p.id), purchaseJson({ ...p, status: "blocked" })]]);
    }
    case "EscrowReleased": {
      const p = mustPurchase(state, readString(data, "id", what), e.type, ["funded"]);
      if (readString(data, "to", what) !== p.seller)
        throw new InvariantError(`${what} pays someone other than the seller`, "CONTRACT_STATE");
      return new Map([[purchaseKey(p.id), settle(p, "released", data, what)]]);
    }
    case "EscrowRefunded": {
      const p = mustPurchase(state, readString(data, "id", what), e.type, ["funded", "blocked"]);
      if (readString(data, "to", what) !== p.buyer) throw new InvariantError(`${what} pays someone other than the buyer`, "CONTRACT_STATE");
      return new Map([[purchaseKey(p.id), settle(p, "refunded", data, what)]]);
    }
    default:
      throw new InvariantError(`logistics cannot fold event ${e.type}`, "CONTRACT_STATE");
  }
}

/**
 * The logistics contract (uses cash for escrow). State:
 * - `shipment/<id>` → {id, purchase (id or null), seller (or null), delivered, breached,
 *   attestations: [{seq, oracle, kind, reading, note, atMs, txId}] (at most ATTESTATIONS_MAX), parties};
 * - `purchase/<id>` → {id, buyer, seller, shipment, amount, escrow, oracles (or null: any oracle),
 *   status ("funded" | "blocked" | "released" | "refunded"), openedAtMs, expiresAtMs, settledAtMs, parties};
 * - `held/<party>/purchase/<id>` → {side ("buyer" | "seller"), counterparty, shipment, amount}.
 * The escrowed cash sits in the cash account `acct/logistics/escrow/<purchase>` (see escrowHolder).
 */
export const logistics: Contract = eraseContract<LogisticsCommand>({
  name: LOGISTICS_CONTRACT,
  uses: [CASH_CONTRACT],
  actions: {
    open: { roles: WRITER_ROLES, parse: parseOpen },
    attest: { roles: ["oracle"], parse: parseAttest },
    release: { roles: WRITER_ROLES, parse: parseRelease },
    refund: { roles: WRITER_ROLES, parse: parseRefund },
  },
  keys,
  decide,
  evolve,
  queries: {
    purchase: eraseQuery<{ readonly id: string }>({
      parse: (args) => parseArgs(args, { id: identifier }),
      keys: (q) => [purchaseKey(q.id)],
      run: (q, state) => state.get(purchaseKey(q.id)) ?? null,
    }),
    shipment: eraseQuery<{ readonly id: string }>({
      parse: (args) => parseArgs(args, { id: identifier }),
      keys: (q) => [shipmentKey(q.id)],
      run: (q, state) => state.get(shipmentKey(q.id)) ?? null,
    }),
    portfolio: eraseQuery<{ readonly holder: string }>({
      parse: (args) => parseArgs(args, { holder: identifier }),
      keys: () => [],
      scan: (q) => ({ prefix: `held/${q.holder}/`, limit: LOGISTICS_SCAN_LIMIT }),
      owner: (q) => q.holder,
      run: (q, state) => {
        const prefix = `held/${q.holder}/`;
        const purchases: JsonValue[] = [];
        for (const k of [...state.keys()].filter((key) => key.startsWith(prefix)).sort()) {
          purchases.push({ assetId: k.slice(prefix.length), ...readObject(state.get(k), `logistics index ${k}`) });
        }
        return { holder: q.holder, purchases };
      },
    }),
  },
});
