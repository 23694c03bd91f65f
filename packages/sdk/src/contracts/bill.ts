// Typed builders for the bill contract's actions (packages/contracts/src/bill/bill-args.ts).
import type { SignedTransaction, TxOptions } from "../transaction.js";
import { signAction, wireAmount, type ActionSigner } from "./action-builder.js";

/** bill.issue: the drawer (an enterprise) draws a bill; it is the first holder. */
export interface BillIssueArgs {
  /** A new root id: an identifier without '.', at most 48 characters. */
  readonly id: string;
  readonly payee: string;
  readonly acceptor: string;
  readonly amount: bigint;
  /** Maturity, Unix milliseconds. */
  readonly dueMs: number;
}

/** Acts that name only the bill. */
export interface BillIdArgs {
  readonly id: string;
}

/** bill.endorse: the holder transfers the bill (the drawer's first endorsement delivers it to the payee). */
export interface BillEndorseArgs {
  readonly id: string;
  readonly to: string;
}

/** bill.split: 2 to 16 children whose amounts sum to the bill's. */
export interface BillSplitArgs {
  readonly id: string;
  readonly amounts: readonly bigint[];
}

/** bill.discount: the holder sells the bill to a bank at rateBp a year. */
export interface BillDiscountArgs {
  readonly id: string;
  readonly bank: string;
  /** Basis points a year, 0 to 10,000. */
  readonly rateBp: number;
}

/** bill.pledge: the holder pledges the bill to a bank. */
export interface BillPledgeArgs {
  readonly id: string;
  readonly bank: string;
}

/** bill.recourse: the holder of a dishonoured bill claims the face amount from an earlier transferor. */
export interface BillRecourseArgs {
  readonly id: string;
  readonly from: string;
}

/** The bill contract's actions. */
export class BillActions {
  constructor(private readonly signer: ActionSigner) {}

  /** Draws a bill (enterprise). */
  issue(a: BillIssueArgs, o?: TxOptions): SignedTransaction {
    const args = { id: a.id, payee: a.payee, acceptor: a.acceptor, amount: wireAmount(a.amount), dueMs: a.dueMs };
    return signAction(this.signer, "bill", "issue", args, o);
  }

  /** The acceptor accepts the bill (enterprise, bank). */
  accept(a: BillIdArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "bill", "accept", { id: a.id }, o);
  }

  /** The drawer voids a bill not yet accepted (enterprise). */
  void(a: BillIdArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "bill", "void", { id: a.id }, o);
  }

  /** The holder endorses the bill to another member (writer roles). */
  endorse(a: BillEndorseArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "bill", "endorse", { id: a.id, to: a.to }, o);
  }

  /** The holder splits the bill into children `<id>.1..n` (writer roles). */
  split(a: BillSplitArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "bill", "split", { id: a.id, amounts: a.amounts.map(wireAmount) }, o);
  }

  /** The holder discounts the bill with a bank (writer roles). Co-signer: `bank`, which pays. */
  discount(a: BillDiscountArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "bill", "discount", { id: a.id, bank: a.bank, rateBp: a.rateBp }, o);
  }

  /** The holder pledges the bill (writer roles). Co-signer: `bank`. */
  pledge(a: BillPledgeArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "bill", "pledge", { id: a.id, bank: a.bank }, o);
  }

  /** The pledgee releases a pledged bill (bank). */
  release(a: BillIdArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "bill", "release", { id: a.id }, o);
  }

  /** The holder presents the bill at maturity (writer roles). Co-signer: the acceptor, which pays. */
  pay(a: BillIdArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "bill", "pay", { id: a.id }, o);
  }

  /** The holder records non-payment, from one day after maturity (writer roles). */
  dishonour(a: BillIdArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "bill", "dishonour", { id: a.id }, o);
  }

  /** The holder claims on an earlier transferor (writer roles). Co-signer: `from`, which pays. */
  recourse(a: BillRecourseArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "bill", "recourse", { id: a.id, from: a.from }, o);
  }
}
