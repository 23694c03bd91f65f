// Typed builders for the warehouse contract's actions (packages/contracts/src/supply/warehouse.ts).
import type { SignedTransaction, TxOptions } from "../transaction.js";
import { signAction, wireAmount, type ActionSigner } from "./action-builder.js";

/** warehouse.issue: a warehouse issues a receipt for goods it holds. */
export interface WarehouseIssueArgs {
  readonly id: string;
  readonly owner: string;
  /** At most 100 characters. */
  readonly commodity: string;
  readonly quantity: bigint;
  /** At most 16 characters ("t", "bbl"). */
  readonly unit: string;
}

/** warehouse.transfer: the holder passes the receipt on. */
export interface WarehouseTransferArgs {
  readonly id: string;
  readonly to: string;
}

/** warehouse.pledge: the holder pledges the receipt for a loan. */
export interface WarehousePledgeArgs {
  readonly id: string;
  readonly bank: string;
  readonly principal: bigint;
  /** Basis points a year, 0 to 10,000. */
  readonly rateBp: number;
}

/** warehouse.repay: the borrower repays principal and interest, releasing the pledge. */
export interface WarehouseRepayArgs {
  readonly id: string;
  readonly bank: string;
}

/** warehouse.release: the warehouse releases the goods, closing the receipt. */
export interface WarehouseReleaseArgs {
  readonly id: string;
  readonly holder: string;
}

/** The warehouse contract's actions. */
export class WarehouseActions {
  constructor(private readonly signer: ActionSigner) {}

  /** Issues a receipt (warehouse). */
  issue(a: WarehouseIssueArgs, o?: TxOptions): SignedTransaction {
    const args = { id: a.id, owner: a.owner, commodity: a.commodity, quantity: wireAmount(a.quantity), unit: a.unit };
    return signAction(this.signer, "warehouse", "issue", args, o);
  }

  /** Transfers a receipt (writer roles: the holder). */
  transfer(a: WarehouseTransferArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "warehouse", "transfer", { id: a.id, to: a.to }, o);
  }

  /** Pledges a receipt for a loan (writer roles: the holder). Co-signer: `bank`, which pays the principal. */
  pledge(a: WarehousePledgeArgs, o?: TxOptions): SignedTransaction {
    const args = { id: a.id, bank: a.bank, principal: wireAmount(a.principal), rateBp: a.rateBp };
    return signAction(this.signer, "warehouse", "pledge", args, o);
  }

  /** Repays the loan on a receipt (writer roles: the borrower). */
  repay(a: WarehouseRepayArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "warehouse", "repay", { id: a.id, bank: a.bank }, o);
  }

  /** Releases the goods (warehouse). Co-signer: `holder`. */
  release(a: WarehouseReleaseArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "warehouse", "release", { id: a.id, holder: a.holder }, o);
  }
}
