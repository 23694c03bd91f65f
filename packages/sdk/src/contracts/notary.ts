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

/** The notary contract's actions. */
export class NotaryActions {
  constructor(private readonly signer: ActionSigner) {}

  /** Registers a document hash (writer roles). */
  register(a: NotaryRegisterArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "notary", "register", { hash: a.hash, title: a.title, uri: a.uri }, o);
  }
}
