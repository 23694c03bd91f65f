// Typed builders for the points contract's actions (packages/contracts/src/points/points.ts).
import type { SignedTransaction, TxOptions } from "../transaction.js";
import { signAction, wireAmount, type ActionSigner } from "./action-builder.js";

/** points.mint: the issuer mints its own points to a member. */
export interface PointsMintArgs {
  readonly to: string;
  readonly amount: bigint;
}

/** points.transfer: moves points of one issuer to another member. */
export interface PointsTransferArgs {
  readonly issuer: string;
  readonly to: string;
  readonly amount: bigint;
  /** At most 200 characters. */
  readonly memo?: string;
}

/** points.envelope: locks `amount` points into `packets` packets until `expiresAtMs`. */
export interface PointsEnvelopeArgs {
  readonly issuer: string;
  readonly id: string;
  readonly amount: bigint;
  /** 1 to 100, at most `amount`. */
  readonly packets: number;
  /** One member per packet; absent for an open envelope anyone may claim from. */
  readonly recipients?: readonly string[];
  /** even (the default) or lucky (amounts drawn from the transaction id). */
  readonly split?: "even" | "lucky";
  /** Unix milliseconds, at most 30 days ahead. */
  readonly expiresAtMs: number;
}

/** points.claim and points.refund: name the envelope. */
export interface PointsEnvelopeRef {
  readonly issuer: string;
  readonly id: string;
}

/** points.agree-rate: `units` of the signer's points exchange for `counterpartyUnits` of the counterparty's. */
export interface PointsAgreeRateArgs {
  readonly counterparty: string;
  readonly units: bigint;
  readonly counterpartyUnits: bigint;
}

/** points.exchange: gives `amount` of `from`'s points for `to`'s at their agreed rate. */
export interface PointsExchangeArgs {
  readonly from: string;
  readonly to: string;
  readonly amount: bigint;
}

/** The points contract's actions. */
export class PointsActions {
  constructor(private readonly signer: ActionSigner) {}

  /** Mints points (issuer). */
  mint(a: PointsMintArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "points", "mint", { to: a.to, amount: wireAmount(a.amount) }, o);
  }

  /** Transfers points (writer roles). */
  transfer(a: PointsTransferArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "points", "transfer", { issuer: a.issuer, to: a.to, amount: wireAmount(a.amount), memo: a.memo }, o);
  }

  /** Locks points into a red envelope (writer roles). */
  envelope(a: PointsEnvelopeArgs, o?: TxOptions): SignedTransaction {
    const args = {
      issuer: a.issuer,
      id: a.id,
      amount: wireAmount(a.amount),
      packets: a.packets,
      recipients: a.recipients === undefined ? undefined : [...a.recipients],
      split: a.split,
      expiresAtMs: a.expiresAtMs,
    };
    return signAction(this.signer, "points", "envelope", args, o);
  }

  /** Claims a packet of a red envelope (writer roles). */
  claim(a: PointsEnvelopeRef, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "points", "claim", { issuer: a.issuer, id: a.id }, o);
  }

  /** Takes back what no one claimed, from expiry (writer roles; the sender). */
  refund(a: PointsEnvelopeRef, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "points", "refund", { issuer: a.issuer, id: a.id }, o);
  }

  /** Agrees an exchange rate (issuer). Co-signer: the counterparty issuer. */
  agreeRate(a: PointsAgreeRateArgs, o?: TxOptions): SignedTransaction {
    const args = { counterparty: a.counterparty, units: wireAmount(a.units), counterpartyUnits: wireAmount(a.counterpartyUnits) };
    return signAction(this.signer, "points", "agree-rate", args, o);
  }

  /** Exchanges points between two issuers at their agreed rate (writer roles). */
  exchange(a: PointsExchangeArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "points", "exchange", { from: a.from, to: a.to, amount: wireAmount(a.amount) }, o);
  }
}
