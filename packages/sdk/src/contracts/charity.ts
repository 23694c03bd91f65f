// Typed builders for the charity contract's actions (packages/contracts/src/charity/charity.ts).
import type { SignedTransaction, TxOptions } from "../transaction.js";
import { signAction, wireAmount, type ActionSigner } from "./action-builder.js";

/** One milestone of a charity project. */
export interface CharityMilestone {
  /** At most 200 characters. */
  readonly description: string;
  readonly amount: bigint;
  readonly beneficiary: string;
}

/** charity.open: a project with 1 to 32 milestones and its auditor. */
export interface CharityOpenArgs {
  readonly id: string;
  /** At most 200 characters. */
  readonly title: string;
  /** A member with the auditor role. */
  readonly auditor: string;
  readonly milestones: readonly CharityMilestone[];
}

/** charity.donate: gives cash to a project. */
export interface CharityDonateArgs {
  readonly project: string;
  /** The donation's id, chosen by the donor; the key to trace it by. */
  readonly donation: string;
  readonly amount: bigint;
}

/** charity.attest: the auditor attests a milestone (numbered from 1). */
export interface CharityAttestArgs {
  readonly project: string;
  readonly milestone: number;
  /** sha256 of the auditor's report, 64 lowercase hex characters. */
  readonly evidence: string;
}

/** charity.disburse: the organiser pays an attested milestone to its beneficiary. */
export interface CharityDisburseArgs {
  readonly project: string;
  readonly milestone: number;
  /** The milestone's beneficiary (checked against the project). */
  readonly beneficiary: string;
}

/** The charity contract's actions. */
export class CharityActions {
  constructor(private readonly signer: ActionSigner) {}

  /** Opens a project (writer roles). */
  open(a: CharityOpenArgs, o?: TxOptions): SignedTransaction {
    const milestones = a.milestones.map((m) => ({ description: m.description, amount: wireAmount(m.amount), beneficiary: m.beneficiary }));
    return signAction(this.signer, "charity", "open", { id: a.id, title: a.title, auditor: a.auditor, milestones }, o);
  }

  /** Donates cash to a project (writer roles). */
  donate(a: CharityDonateArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "charity", "donate", { project: a.project, donation: a.donation, amount: wireAmount(a.amount) }, o);
  }

  /** Attests a milestone (auditor). */
  attest(a: CharityAttestArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "charity", "attest", { project: a.project, milestone: a.milestone, evidence: a.evidence }, o);
  }

  /** Pays an attested milestone from the project's escrow (writer roles; the organiser). */
  disburse(a: CharityDisburseArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "charity", "disburse", { project: a.project, milestone: a.milestone, beneficiary: a.beneficiary }, o);
  }
}
