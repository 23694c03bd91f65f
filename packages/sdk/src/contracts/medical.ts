// Typed builders for the medical contract's actions (packages/contracts/src/medical/medical.ts).
import type { SignedTransaction, TxOptions } from "../transaction.js";
import { signAction, type ActionSigner } from "./action-builder.js";

/** medical.anchor: a hospital anchors a record's sha256 for a patient (never the record). */
export interface MedicalAnchorArgs {
  /** The record's id, an identifier. */
  readonly id: string;
  readonly patient: string;
  /** sha256 of the record, 64 lowercase hex characters. */
  readonly hash: string;
}

/** medical.grant: the patient grants an institution access to its records. */
export interface MedicalGrantArgs {
  readonly to: string;
  /** The block time the grant ends at; none when absent. */
  readonly untilMs?: number;
}

/** medical.revoke: the patient revokes an institution's access. */
export interface MedicalRevokeArgs {
  readonly to: string;
}

/** medical.access: an institution records its access to a record. */
export interface MedicalAccessArgs {
  readonly record: string;
  /** The record's patient (checked against the record). */
  readonly patient: string;
  /** At most 200 characters. */
  readonly purpose: string;
}

/** The medical contract's actions. */
export class MedicalActions {
  constructor(private readonly signer: ActionSigner) {}

  /** Anchors a record's hash (role hospital). */
  anchor(a: MedicalAnchorArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "medical", "anchor", { id: a.id, patient: a.patient, hash: a.hash }, o);
  }

  /** Grants access to the signer's records (role patient). */
  grant(a: MedicalGrantArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "medical", "grant", { to: a.to, untilMs: a.untilMs }, o);
  }

  /** Revokes a grant (role patient). */
  revoke(a: MedicalRevokeArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "medical", "revoke", { to: a.to }, o);
  }

  /** Records an access to a record (writer roles; refused without a live grant). */
  access(a: MedicalAccessArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "medical", "access", { record: a.record, patient: a.patient, purpose: a.purpose }, o);
  }
}
