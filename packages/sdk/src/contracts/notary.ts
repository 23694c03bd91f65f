// Typed builders for the notary contract's actions (packages/contracts/src/notary/notary.ts).
import type { SignedTransaction, TxOptions } from "../transaction.js";
import { signAction, type ActionSigner } from "./action-builder.js";

/** notary.register: records a document's sha256; the first registrant keeps it. */
export interface NotaryRegisterArgs {
  /** sha256 of the content, 64 lowercase hex characters. */
  readonly hash: string;
  /** At most 200 characters. */
  readonly title: string;
  /** At most 500 characters. */
  readonly uri?: string;
}

/** notary.transfer: the rights holder transfers a document's rights to another member. */
export interface NotaryTransferArgs {
  readonly hash: string;
  readonly to: string;
}

/** notary.license: the rights holder grants a license on a document. */
export interface NotaryLicenseArgs {
  readonly hash: string;
  /** The license's id, unique per document. */
  readonly id: string;
  readonly licensee: string;
  /** At most 500 characters. */
  readonly terms: string;
  /** The block time the license ends at; none when absent. */
  readonly untilMs?: number;
}

/** The notary contract's actions. */
export class NotaryActions {
  constructor(private readonly signer: ActionSigner) {}

  /** Registers a document hash (writer roles). */
  register(a: NotaryRegisterArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "notary", "register", { hash: a.hash, title: a.title, uri: a.uri }, o);
  }

  /** Transfers the rights to a document (the current rights holder). */
  transfer(a: NotaryTransferArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "notary", "transfer", { hash: a.hash, to: a.to }, o);
  }

  /** Grants a license on a document (the current rights holder). */
  license(a: NotaryLicenseArgs, o?: TxOptions): SignedTransaction {
    return signAction(
      this.signer,
      "notary",
      "license",
      { hash: a.hash, id: a.id, licensee: a.licensee, terms: a.terms, untilMs: a.untilMs },
      o,
    );
  }
}
