// Typed builders for the bond contract's actions (packages/contracts/src/bond/bond-commands.ts).
import type { SignedTransaction, TxOptions } from "../transaction.js";
import { signAction, wireAmount, type ActionSigner } from "./action-builder.js";

/** bond.register: an issuer registers a bond and opens subscriptions. */
export interface BondRegisterArgs {
  readonly bond: string;
  /** The regulator named in the prospectus: it may freeze holdings. */
  readonly regulator: string;
  readonly faceValue: bigint;
  /** Basis points a year, 0 to 10,000. */
  readonly couponRateBp: number;
  /** 1 to 12. */
  readonly couponsPerYear: number;
  /** 1 to 40 strictly increasing dates after subscriptionEndMs and not after maturityMs, Unix milliseconds. */
  readonly couponDatesMs: readonly number[];
  readonly maturityMs: number;
  readonly sizeUnits: bigint;
  readonly subscriptionEndMs: number;
  /** sha256 of the prospectus, 64 lowercase hex characters. */
  readonly prospectusHash?: string;
}

/** bond.subscribe: an investor records demand for units. */
export interface BondSubscribeArgs {
  readonly bond: string;
  readonly units: bigint;
}

/** bond.allot: the issuer allots pro rata to the subscribers (as the `bond` query lists them). */
export interface BondAllotArgs {
  readonly bond: string;
  /** 0 to 200 distinct subscribers. */
  readonly subscribers: readonly string[];
}

/** bond.transfer: delivery of units against payment between two holders. */
export interface BondTransferArgs {
  readonly bond: string;
  readonly seller: string;
  readonly buyer: string;
  readonly units: bigint;
  /** The total price the buyer pays, in minor units. */
  readonly price: bigint;
}

/** bond.coupon: the issuer pays one coupon date to every holder (as the `holders` query lists them). */
export interface BondCouponArgs {
  readonly bond: string;
  readonly couponDateMs: number;
  readonly holders: readonly string[];
}

/** bond.redeem: the issuer repays every holder at maturity. */
export interface BondRedeemArgs {
  readonly bond: string;
  readonly holders: readonly string[];
}

/** bond.freeze: the bond's regulator freezes a holding. */
export interface BondFreezeArgs {
  readonly bond: string;
  readonly holder: string;
  /** At most 200 characters. */
  readonly reason?: string;
}

/** bond.unfreeze: the bond's regulator lifts a freeze. */
export interface BondUnfreezeArgs {
  readonly bond: string;
  readonly holder: string;
}

/** The bond contract's actions. */
export class BondActions {
  constructor(private readonly signer: ActionSigner) {}

  /** Registers a bond (issuer). */
  register(a: BondRegisterArgs, o?: TxOptions): SignedTransaction {
    const args = {
      bond: a.bond,
      regulator: a.regulator,
      faceValue: wireAmount(a.faceValue),
      couponRateBp: a.couponRateBp,
      couponsPerYear: a.couponsPerYear,
      couponDatesMs: [...a.couponDatesMs],
      maturityMs: a.maturityMs,
      sizeUnits: wireAmount(a.sizeUnits),
      subscriptionEndMs: a.subscriptionEndMs,
      prospectusHash: a.prospectusHash,
    };
    return signAction(this.signer, "bond", "register", args, o);
  }

  /** Subscribes (writer roles). */
  subscribe(a: BondSubscribeArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "bond", "subscribe", { bond: a.bond, units: wireAmount(a.units) }, o);
  }

  /** Allots (issuer). */
  allot(a: BondAllotArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "bond", "allot", { bond: a.bond, subscribers: [...a.subscribers] }, o);
  }

  /** Transfers units (writer roles: seller or buyer). Co-signer: the other of the two. */
  transfer(a: BondTransferArgs, o?: TxOptions): SignedTransaction {
    const args = { bond: a.bond, seller: a.seller, buyer: a.buyer, units: wireAmount(a.units), price: wireAmount(a.price) };
    return signAction(this.signer, "bond", "transfer", args, o);
  }

  /** Pays a coupon (issuer). */
  coupon(a: BondCouponArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "bond", "coupon", { bond: a.bond, couponDateMs: a.couponDateMs, holders: [...a.holders] }, o);
  }

  /** Redeems at maturity (issuer). */
  redeem(a: BondRedeemArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "bond", "redeem", { bond: a.bond, holders: [...a.holders] }, o);
  }

  /** Freezes a holding (regulator). */
  freeze(a: BondFreezeArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "bond", "freeze", { bond: a.bond, holder: a.holder, reason: a.reason }, o);
  }

  /** Unfreezes a holding (regulator). */
  unfreeze(a: BondUnfreezeArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "bond", "unfreeze", { bond: a.bond, holder: a.holder }, o);
  }
}
