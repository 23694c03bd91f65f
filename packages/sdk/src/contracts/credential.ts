// Typed builders for the credential contract's actions (packages/contracts/src/credential/credential.ts).
import type { CredentialKind } from "@tally/contracts";
import type { SignedTransaction, TxOptions } from "../transaction.js";
import { signAction, type ActionSigner } from "./action-builder.js";

/** credential.issue: a school issues an education credential, a government an identity attestation. */
export interface CredentialIssueArgs {
  readonly id: string;
  readonly kind: CredentialKind;
  /** sha256 of the subject's (salted) identifier, 64 lowercase hex characters. */
  readonly subjectHash: string;
  /** sha256 of the credential document, 64 lowercase hex characters. */
  readonly claimHash: string;
}

/** credential.revoke: the issuer revokes a credential. */
export interface CredentialRevokeArgs {
  readonly id: string;
  /** At most 200 characters. */
  readonly reason?: string;
}

/** The credential contract's actions. */
export class CredentialActions {
  constructor(private readonly signer: ActionSigner) {}

  /** Issues a credential (role school for education, government for identity). */
  issue(a: CredentialIssueArgs, o?: TxOptions): SignedTransaction {
    return signAction(
      this.signer,
      "credential",
      "issue",
      { id: a.id, kind: a.kind, subjectHash: a.subjectHash, claimHash: a.claimHash },
      o,
    );
  }

  /** Revokes a credential (its issuer). */
  revoke(a: CredentialRevokeArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "credential", "revoke", { id: a.id, reason: a.reason }, o);
  }
}
