// Typed builders for the cash contract's actions (packages/contracts/src/cash/cash.ts).
import type { SignedTransaction, TxOptions } from "../transaction.js";
import { signAction, wireAmount, type ActionSigner } from "./action-builder.js";

/** cash.issue: a clearing bank issues deposits to a member. */
export interface CashIssueArgs {
  readonly to: string;
  readonly amount: bigint;
}

/** cash.transfer: moves deposits to another member (no overdraft). */
export interface CashTransferArgs {
  readonly to: string;
  readonly amount: bigint;
  /** At most 200 characters. */
  readonly memo?: string;
}

/** cash.redeem: a member redeems deposits with a clearing bank. */
export interface CashRedeemArgs {
  readonly bank: string;
  readonly amount: bigint;
}

/** The cash contract's actions, signed by the client's institution. */
export class CashActions {
  constructor(private readonly signer: ActionSigner) {}

  /** Issues deposits (role clearing). */
  issue(a: CashIssueArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "cash", "issue", { to: a.to, amount: wireAmount(a.amount) }, o);
  }

  /** Transfers deposits (writer roles). */
  transfer(a: CashTransferArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "cash", "transfer", { to: a.to, amount: wireAmount(a.amount), memo: a.memo }, o);
  }

  /** Redeems deposits (writer roles). Co-signer: the clearing `bank`. */
  redeem(a: CashRedeemArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "cash", "redeem", { bank: a.bank, amount: wireAmount(a.amount) }, o);
  }
}
