import { BlockHeader, SignedTx } from "@tally/proto/types";
import { blockHashOf, bytesEqual, ed25519Verify, leafHash, sha256, verifyInclusion, type SequencerKeys } from "@tally/ledger";
import type { InclusionProof } from "./trusted-chain.js";

/**
 * Checks a proof without trusting the node that served it: the header is signed by a
 * sequencer in the set, the tx root in that header covers the transaction at the index,
 * and the transaction is the one expected. Returns the reason when it fails. A client with a
 * genesis file uses TrustedChain.verifyInclusion, which also checks the chain id and throws a
 * ProofError with a reason code.
 */
export function verifyInclusionProof(
  p: InclusionProof,
  expectedTxId: Uint8Array,
  sequencers: SequencerKeys,
): { ok: true; header: BlockHeader } | { ok: false; reason: string } {
  let header: BlockHeader;
  try {
    header = BlockHeader.decode(p.header);
  } catch {
    return { ok: false, reason: "header does not decode" };
  }
  if (header.height !== p.height) return { ok: false, reason: "proof height differs from header height" };
  const key = sequencers.get(header.sequencerId);
  if (key === undefined) return { ok: false, reason: `unknown sequencer ${header.sequencerId}` };
  if (!ed25519Verify(key, blockHashOf(p.header), p.headerSignature)) return { ok: false, reason: "header signature does not verify" };
  if (p.treeSize !== header.txCount) return { ok: false, reason: "tree size differs from the header's tx count" };
  if (!verifyInclusion(leafHash(p.signedTx), p.leafIndex, p.treeSize, p.path, header.txRoot))
    return { ok: false, reason: "Merkle path does not lead to the tx root" };
  const body = signedTxBody(p.signedTx);
  if (body === undefined || !bytesEqual(sha256(body), expectedTxId))
    return { ok: false, reason: "the proven transaction is not the expected one" };
  return { ok: true, header };
}

function signedTxBody(raw: Uint8Array): Uint8Array | undefined {
  try {
    return SignedTx.decode(raw).body;
  } catch {
    return undefined;
  }
}
