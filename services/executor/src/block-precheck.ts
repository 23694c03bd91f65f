import { checkTxContext, decodeSignedTx, leafTxId, type KeyLookup, type SealedBlock } from "@tally/ledger";
import { isWellSized, PrecomputedSignatures, type SignatureCheck, type SignatureVerifier } from "./signature-verifier.js";

/** What decodeSignedTx answers for one leaf. */
export type DecodedLeaf = ReturnType<typeof decodeSignedTx>;

/** A block with each leaf decoded once, for every stage that reads it. */
export interface DecodedBlock {
  readonly block: SealedBlock;
  /** decodeSignedTx of each leaf, in order. */
  readonly txs: readonly DecodedLeaf[];
  /** Each leaf's id, as leafTxId gives it. */
  readonly ids: readonly Uint8Array[];
}

/** Decodes each leaf of the block once. */
export function decodeBlockTxs(block: SealedBlock): DecodedBlock {
  const txs = block.block.txs.map(decodeSignedTx);
  // A leaf that decodes has a non-empty body, and leafTxId is then the tx id; only others need it.
  const ids = txs.map((d, i) => (d.ok ? d.tx.id : leafTxId(block.block.txs[i]!)));
  return { block, txs, ids };
}

/**
 * Verifies, on the verifier (worker threads), every signature of the block's well-formed,
 * in-context txs whose key is active in `lookup` (the membership as it is before the block).
 * Only a cache of raw Ed25519 results: executeBlock still looks keys up in order, and verifies
 * inline whatever is missing here (a key added earlier in the same block).
 */
export async function precomputeSignatures(
  decoded: DecodedBlock,
  lookup: KeyLookup,
  chainId: string,
  verifier: SignatureVerifier,
): Promise<PrecomputedSignatures> {
  const blockTimeMs = Number(decoded.block.header.timestampMs);
  const checks: SignatureCheck[] = [];
  const owners: { idHex: string; publicKey: Uint8Array; signature: Uint8Array }[] = [];
  for (const d of decoded.txs) {
    if (!d.ok || !checkTxContext(d.tx, chainId, blockTimeMs).ok) continue;
    for (const s of d.tx.signatures) {
      const key = lookup(s.institutionId, s.keyId);
      if (key === undefined || !key.active || !isWellSized(key.publicKey, s.signature)) continue;
      checks.push({ publicKey: key.publicKey, message: d.tx.bodyBytes, signature: s.signature });
      owners.push({ idHex: d.tx.idHex, publicKey: key.publicKey, signature: s.signature });
    }
  }
  const valid = await verifier.verifyAll(checks);
  const out = new PrecomputedSignatures();
  owners.forEach((o, i) => out.add(o.idHex, o.publicKey, o.signature, valid[i] === true));
  return out;
}
