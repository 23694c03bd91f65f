import { bytesEqual, ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES, ed25519Verify, type TxSignatureCheck } from "@tally/ledger";

/** One raw Ed25519 check: does signature sign message under publicKey. */
export interface SignatureCheck {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * The port through which the executor verifies signatures in bulk, ahead of execution: one
 * boolean per check, in order. It answers only the raw Ed25519 question; which key applies and
 * whether it is active is decided later, in order, by executeBlock.
 */
export interface SignatureVerifier {
  verifyAll(checks: readonly SignatureCheck[]): Promise<boolean[]>;
  /** Stops the verifier; pending and later calls reject. */
  close(): Promise<void>;
}

/** A SignatureVerifier on the calling thread: for tests, and for a node configured with no workers. */
export const inlineVerifier: SignatureVerifier = {
  verifyAll: (checks) => Promise.resolve(checks.map((c) => ed25519Verify(c.publicKey, c.message, c.signature))),
  close: () => Promise.resolve(),
};

/** True when a check has the sizes a worker can verify; anything else is false without asking one. */
export function isWellSized(publicKey: Uint8Array, signature: Uint8Array): boolean {
  return publicKey.byteLength === ED25519_PUBLIC_KEY_BYTES && signature.byteLength === ED25519_SIGNATURE_BYTES;
}

/** Answers "does this signature on this tx verify under this key", given the tx as decoded. */
export type Ed25519Check = TxSignatureCheck;

/** Verifies on the calling thread, over the tx's exact body bytes. */
export const verifyInline: Ed25519Check = (publicKey, tx, signature) => ed25519Verify(publicKey, tx.bodyBytes, signature);

interface KnownResult {
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
  readonly valid: boolean;
}

/**
 * Ed25519 results computed ahead of execution, keyed by (tx id, public key, signature). The tx id
 * is sha256 of the body bytes, so a hit answers for exactly the bytes being checked. A miss (a
 * key added earlier in the block, a check never asked) is verified inline, so results only save
 * work and never change an outcome.
 */
export class PrecomputedSignatures {
  private readonly byTx = new Map<string, KnownResult[]>();
  private hitCount = 0;
  private missCount = 0;

  /** Records the result of checking signature over the body of the tx with this id (hex). */
  add(txIdHex: string, publicKey: Uint8Array, signature: Uint8Array, valid: boolean): void {
    let list = this.byTx.get(txIdHex);
    if (list === undefined) this.byTx.set(txIdHex, (list = []));
    list.push({ publicKey, signature, valid });
  }

  /** The recorded result, or undefined when none was recorded. */
  get(txIdHex: string, publicKey: Uint8Array, signature: Uint8Array): boolean | undefined {
    const list = this.byTx.get(txIdHex);
    if (list === undefined) return undefined;
    for (const r of list) if (bytesEqual(r.publicKey, publicKey) && bytesEqual(r.signature, signature)) return r.valid;
    return undefined;
  }

  /** How many checks were answered from here, and how many were verified inline. */
  get stats(): { hits: number; misses: number } {
    return { hits: this.hitCount, misses: this.missCount };
  }

  /** An Ed25519Check that answers from here, and verifies inline on a miss. */
  readonly check: Ed25519Check = (publicKey, tx, signature) => {
    const known = this.get(tx.idHex, publicKey, signature);
    if (known !== undefined) {
      this.hitCount++;
      return known;
    }
    this.missCount++;
    return verifyInline(publicKey, tx, signature);
  };
}
