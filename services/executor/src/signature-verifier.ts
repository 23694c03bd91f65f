import { bytesEqual, ed25519Verify, type TxSignatureCheck } from "@tally/ledger";

// The raw checks and the verifier port live in @tally/crypto-pool, shared with the gateway.
export { inlineVerifier, isWellSized, type SignatureCheck, type SignatureVerifier } from "@tally/crypto-pool";

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
