// Typed builders for the data contract's actions (packages/contracts/src/data/data.ts).
import type { SignedTransaction, TxOptions } from "../transaction.js";
import { signAction, wireAmount, type ActionSigner } from "./action-builder.js";

/** data.register: lists a data asset by its content hash, with the terms of its licenses. */
export interface DataRegisterArgs {
  /** sha256 of the data, 64 lowercase hex characters; the data stays off the chain. */
  readonly hash: string;
  /** At most 500 characters. */
  readonly description: string;
  /** The price of a license, in minor units of cash. */
  readonly price: bigint;
  /** Whether a license may be resold. */
  readonly resale: "allowed" | "forbidden";
  /** How long a license runs from its purchase, in milliseconds (at most ten years). */
  readonly durationMs: number;
}

/** data.buy: pays the price to the owner and takes a license, in one act. */
export interface DataBuyArgs {
  /** The asset's content hash. */
  readonly asset: string;
  /** The new license's id, chosen by the buyer. */
  readonly license: string;
  /** The asset's owner, who is paid (checked against the asset). */
  readonly owner: string;
}

/** data.resell: the holder sells its license on. */
export interface DataResellArgs {
  readonly asset: string;
  readonly license: string;
  readonly to: string;
  /** What `to` pays the holder; absent for none. */
  readonly price?: bigint;
}

/** data.access: the holder logs one use of the data against its license. */
export interface DataAccessArgs {
  readonly asset: string;
  readonly license: string;
  /** At most 200 characters. */
  readonly purpose?: string;
}

/** The data contract's actions. */
export class DataActions {
  constructor(private readonly signer: ActionSigner) {}

  /** Registers a data asset (writer roles). */
  register(a: DataRegisterArgs, o?: TxOptions): SignedTransaction {
    const args = { hash: a.hash, description: a.description, price: wireAmount(a.price), resale: a.resale, durationMs: a.durationMs };
    return signAction(this.signer, "data", "register", args, o);
  }

  /** Buys a license (writer roles): the price moves in cash in the same transaction. */
  buy(a: DataBuyArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "data", "buy", { asset: a.asset, license: a.license, owner: a.owner }, o);
  }

  /** Resells a license (writer roles). Co-signer: `to`, which pays. */
  resell(a: DataResellArgs, o?: TxOptions): SignedTransaction {
    const args = { asset: a.asset, license: a.license, to: a.to, price: a.price === undefined ? undefined : wireAmount(a.price) };
    return signAction(this.signer, "data", "resell", args, o);
  }

  /** Logs an access (writer roles; the holder). */
  access(a: DataAccessArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "data", "access", { asset: a.asset, license: a.license, purpose: a.purpose }, o);
  }
}
