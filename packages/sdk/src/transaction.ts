// A signed transaction and the ways to sign one: all at once with the keys at hand, or by
// passing it to the counterparty, which adds its signature over the same body bytes.
import { status } from "@grpc/grpc-js";
import { SignedTx, TxBody } from "@tally/proto/types";
import { ed25519Sign, sha256, type TxSigner } from "@tally/ledger";
import { TallyError } from "./tally-error.js";

/** Options for building a transaction. */
export interface TxOptions {
  /** How long the transaction stays valid from now (default 5 minutes; the gateway refuses more than 24 h). */
  readonly validForMs?: number;
  /** Defaults to a value unique per client instance and call. */
  readonly nonce?: bigint;
  /** Co-signers whose keys are at hand, for acts that need two parties in the same transaction (else see cosign). */
  readonly coSigners?: readonly TxSigner[];
}

/** A signed transaction ready to submit: its exact bytes and id (sha256 of the body). */
export interface SignedTransaction {
  readonly raw: Uint8Array;
  readonly id: Uint8Array;
}

/** What a signed transaction says, decoded for reading (the bytes stay as they were signed). */
export interface TransactionView {
  readonly id: Uint8Array;
  readonly body: TxBody;
  /** The institutions that signed, in order, the body's signer first. */
  readonly signers: readonly string[];
}

function decode(tx: SignedTransaction): { signed: SignedTx; body: TxBody } {
  try {
    const signed = SignedTx.decode(tx.raw);
    return { signed, body: TxBody.decode(signed.body) };
  } catch (e) {
    throw new TallyError(status.INVALID_ARGUMENT, "MALFORMED", `not a signed transaction: ${(e as Error).message}`);
  }
}

/** Decodes a signed transaction for reading: what a counterparty looks at before it co-signs. */
export function viewTransaction(tx: SignedTransaction): TransactionView {
  const { signed, body } = decode(tx);
  return { id: sha256(signed.body), body, signers: signed.signatures.map((s) => s.institutionId) };
}

/**
 * Adds a co-signature over the exact body bytes. The tx id does not change (it is the body's
 * hash), so every party refers to the same transaction. Refuses a signer that already signed.
 */
export function cosign(tx: SignedTransaction, signer: TxSigner): SignedTransaction {
  const { signed } = decode(tx);
  if (signed.signatures.some((s) => s.institutionId === signer.institutionId))
    throw new TallyError(status.INVALID_ARGUMENT, "ALREADY_SIGNED", `${signer.institutionId} already signed this transaction`);
  const signatures = [
    ...signed.signatures,
    { institutionId: signer.institutionId, keyId: signer.keyId, signature: ed25519Sign(signer.key, signed.body) },
  ];
  return { raw: SignedTx.encode({ body: signed.body, signatures }).finish(), id: sha256(signed.body) };
}
