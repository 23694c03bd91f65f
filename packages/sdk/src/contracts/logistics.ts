// Typed builders for the logistics contract's actions (packages/contracts/src/supply/logistics.ts).
import type { SignedTransaction, TxOptions } from "../transaction.js";
import { signAction, wireAmount, type ActionSigner } from "./action-builder.js";

/** logistics.open: a buyer opens a purchase on a shipment; its price moves into escrow. */
export interface LogisticsOpenArgs {
  readonly id: string;
  readonly shipment: string;
  readonly seller: string;
  readonly amount: bigint;
  /** After this, Unix milliseconds, the buyer alone may refund an undelivered purchase. */
  readonly expiresAtMs: number;
  /** Oracles whose `delivered` releases the escrow: 1 to 8 distinct ones; absent trusts any oracle. */
  readonly oracles?: readonly string[];
}

/** What an oracle attests about a shipment. */
export type AttestationKind = "received" | "shipped" | "delivered" | "temperature-breach";

/** logistics.attest: an oracle's signed statement about a shipment. */
export interface LogisticsAttestArgs {
  readonly shipment: string;
  readonly kind: AttestationKind;
  /** The shipment's purchase and its seller, named together (both or neither). */
  readonly purchase?: string;
  readonly seller?: string;
  /** A sensor reading as text ("9.4C"), at most 64 characters. */
  readonly reading?: string;
  /** At most 200 characters. */
  readonly note?: string;
}

/** logistics.release: the buyer releases the escrow to the seller (without waiting for an oracle). */
export interface LogisticsReleaseArgs {
  readonly id: string;
  readonly seller: string;
}

/** logistics.refund: returns the escrow to the buyer. */
export interface LogisticsRefundArgs {
  readonly id: string;
  readonly buyer: string;
}

/** The logistics contract's actions. */
export class LogisticsActions {
  constructor(private readonly signer: ActionSigner) {}

  /** Opens a purchase (writer roles: the buyer). Co-signer: `seller`. */
  open(a: LogisticsOpenArgs, o?: TxOptions): SignedTransaction {
    const args = {
      id: a.id,
      shipment: a.shipment,
      seller: a.seller,
      amount: wireAmount(a.amount),
      expiresAtMs: a.expiresAtMs,
      oracles: a.oracles === undefined ? undefined : [...a.oracles],
    };
    return signAction(this.signer, "logistics", "open", args, o);
  }

  /** Attests a shipment event (oracle). */
  attest(a: LogisticsAttestArgs, o?: TxOptions): SignedTransaction {
    const args = { shipment: a.shipment, kind: a.kind, purchase: a.purchase, seller: a.seller, reading: a.reading, note: a.note };
    return signAction(this.signer, "logistics", "attest", args, o);
  }

  /** Releases the escrow to the seller (writer roles: the buyer). */
  release(a: LogisticsReleaseArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "logistics", "release", { id: a.id, seller: a.seller }, o);
  }

  /** Refunds the escrow (writer roles: the buyer). Co-signer: the seller, before the purchase expires. */
  refund(a: LogisticsRefundArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "logistics", "refund", { id: a.id, buyer: a.buyer }, o);
  }
}
