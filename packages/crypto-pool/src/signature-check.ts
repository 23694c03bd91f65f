import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES, ed25519Verify } from "@tally/ledger";

/** One raw Ed25519 check: does signature sign message under publicKey. */
export interface SignatureCheck {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * Verifies signatures in bulk: one boolean per check, in order. It answers only the raw Ed25519
 * question; which key applies and whether it is active is for the caller to decide.
 */
export interface SignatureVerifier {
  verifyAll(checks: readonly SignatureCheck[]): Promise<boolean[]>;
  /** Stops the verifier; pending and later calls reject. */
  close(): Promise<void>;
}

/** A SignatureVerifier on the calling thread: for tests, and for a process configured with no workers. */
export const inlineVerifier: SignatureVerifier = {
  verifyAll: (checks) => Promise.resolve(checks.map((c) => ed25519Verify(c.publicKey, c.message, c.signature))),
  close: () => Promise.resolve(),
};

/** True when a check has the sizes a worker can verify; anything else is false without asking one. */
export function isWellSized(publicKey: Uint8Array, signature: Uint8Array): boolean {
  return publicKey.byteLength === ED25519_PUBLIC_KEY_BYTES && signature.byteLength === ED25519_SIGNATURE_BYTES;
}
