// Typed builders for the receivable contract's actions (packages/contracts/src/receivable/receivable-commands.ts).
import type { SignedTransaction, TxOptions } from "../transaction.js";
import { signAction, wireAmount, type ActionSigner } from "./action-builder.js";

/** receivable.register: a supplier registers what a debtor owes it. */
export interface ReceivableRegisterArgs {
  /** A new root id: an identifier without '.', at most 32 characters. */
  readonly id: string;
  readonly debtor: string;
  readonly amount: bigint;
  /** Unix milliseconds. */
  readonly dueMs: number;
  /** The invoice's reference, at most 100 characters; one registration per invoice. */
  readonly invoiceRef: string;
}

/** receivable.confirm: the debtor confirms a registered receivable. */
export interface ReceivableConfirmArgs {
  readonly id: string;
}

/** receivable.transfer: the holder passes the receivable on whole. */
export interface ReceivableTransferArgs {
  readonly id: string;
  readonly to: string;
}

/** One child of a split: who holds it, for how much. */
export interface ReceivableSplitPart {
  readonly to: string;
  readonly amount: bigint;
}

/** receivable.split: 2 to 16 parts summing to the receivable's amount. */
export interface ReceivableSplitArgs {
  readonly id: string;
  readonly parts: readonly ReceivableSplitPart[];
}

/** receivable.finance: the holder factors the receivable with a bank. */
export interface ReceivableFinanceArgs {
  readonly id: string;
  readonly bank: string;
  /** Basis points kept by the bank, 0 to 9,999. */
  readonly rateBp: number;
}

/** One live leaf of a receivable's tree and its current holder, as the `lineage` query shows it. */
export interface ReceivableLeaf {
  readonly id: string;
  readonly holder: string;
}

/** receivable.settle: the debtor pays every live leaf's holder at once (at most 64 leaves). */
export interface ReceivableSettleArgs {
  /** The root receivable. */
  readonly id: string;
  readonly leaves: readonly ReceivableLeaf[];
}

/** The receivable contract's actions. */
export class ReceivableActions {
  constructor(private readonly signer: ActionSigner) {}

  /** Registers a receivable (enterprise: the supplier). */
  register(a: ReceivableRegisterArgs, o?: TxOptions): SignedTransaction {
    const args = { id: a.id, debtor: a.debtor, amount: wireAmount(a.amount), dueMs: a.dueMs, invoiceRef: a.invoiceRef };
    return signAction(this.signer, "receivable", "register", args, o);
  }

  /** Confirms a receivable (enterprise: the debtor). Co-signer: the supplier. */
  confirm(a: ReceivableConfirmArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "receivable", "confirm", { id: a.id }, o);
  }

  /** Transfers a confirmed receivable (enterprise, bank: the holder). */
  transfer(a: ReceivableTransferArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "receivable", "transfer", { id: a.id, to: a.to }, o);
  }

  /** Splits a receivable into children `<id>.1..n` (enterprise, bank: the holder). */
  split(a: ReceivableSplitArgs, o?: TxOptions): SignedTransaction {
    const parts = a.parts.map((p) => ({ to: p.to, amount: wireAmount(p.amount) }));
    return signAction(this.signer, "receivable", "split", { id: a.id, parts }, o);
  }

  /** Factors a receivable (enterprise, bank: the holder). Co-signer: `bank`, which pays the advance. */
  finance(a: ReceivableFinanceArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "receivable", "finance", { id: a.id, bank: a.bank, rateBp: a.rateBp }, o);
  }

  /** Settles a receivable at maturity (enterprise: the debtor). */
  settle(a: ReceivableSettleArgs, o?: TxOptions): SignedTransaction {
    const leaves = a.leaves.map((l) => ({ id: l.id, holder: l.holder }));
    return signAction(this.signer, "receivable", "settle", { id: a.id, leaves }, o);
  }
}
