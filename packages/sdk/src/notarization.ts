// Proving a notarization without trusting the node that answers (SCENARIOS.md §9). The gateway's
// `notary.registration` answer only says where to look; what is printed comes from the proof:
// the block header signed by a sequencer of the trusted genesis, the RFC 6962 path from the
// transaction to the header's tx root, and the transaction itself — a notary.register of this very
// hash, signed by the registrant with a key genesis names. A gateway that lies about any of it,
// or whose answer disagrees with the proof, fails with a ProofError naming what is wrong.
//
// What the proof does not cover: the header carries no root of the contracts' results, so that
// the registration was accepted (not refused as a duplicate) is the node's word; and a node could
// hide an earlier registration. The proven time is still a true bound: the file existed by then.
import { decodeSignedTx, fromHex, toHex, verifyTxSignatures, type Genesis, type KeyLookup } from "@tally/ledger";
import { ProofError, type InclusionProof, type TrustedChain } from "./trusted-chain.js";

/** What `notary.registration` answers: untrusted until checked against the proof. */
export interface RegistrationClaim {
  readonly hash: string;
  readonly owner: string;
  readonly height: string;
  readonly blockTimeMs: number;
  readonly txId: string;
}

/** A notarization as the proof shows it. */
export interface ProvenNotarization {
  readonly hash: string;
  /** The institution that signed the registration, and its key. */
  readonly registrant: string;
  readonly keyId: string;
  readonly title: string;
  readonly height: bigint;
  /** The block's timestamp (the header's, which the sequencer signed). */
  readonly blockTimeMs: number;
  readonly txId: string;
  readonly sequencerId: string;
  readonly blockHash: string;
  readonly leafIndex: number;
  readonly treeSize: number;
}

/** Looks keys up in genesis: the keys a verifier with only a genesis file can trust. */
export function genesisKeyLookup(genesis: Genesis): KeyLookup {
  const keys = new Map<string, Uint8Array>();
  for (const i of genesis.institutions) for (const k of i.keys) keys.set(`${i.id}/${k.keyId}`, fromHex(k.publicKey));
  return (institutionId, keyId) => {
    const publicKey = keys.get(`${institutionId}/${keyId}`);
    return publicKey === undefined ? undefined : { publicKey, active: true };
  };
}

const TX_ID_RE = /^[0-9a-f]{64}$/;

/**
 * Checks a registration of `hash` against its inclusion proof and the trusted chain; returns what
 * the proof shows. Throws ProofError: the PROOF_* of TrustedChain.verifyInclusion, or
 * PROOF_NOT_REGISTRATION (the proven transaction is not a notary.register of this hash on this
 * chain), PROOF_BAD_TX_SIGNATURE (its signatures do not verify against genesis keys),
 * PROOF_CLAIM_MISMATCH (the gateway's answer disagrees with the proof).
 */
export function checkNotarization(
  trusted: TrustedChain,
  genesis: Genesis,
  hash: string,
  claim: RegistrationClaim,
  proof: InclusionProof,
): ProvenNotarization {
  if (!TX_ID_RE.test(claim.txId))
    throw new ProofError("PROOF_CLAIM_MISMATCH", `the registration names no valid tx id (${claim.txId.slice(0, 80)})`);
  if (claim.hash !== hash) throw new ProofError("PROOF_CLAIM_MISMATCH", `the registration is of ${claim.hash}, not ${hash}`);
  const txId = fromHex(claim.txId);
  const header = trusted.verifyInclusion(proof, txId);
  const d = decodeSignedTx(proof.signedTx);
  if (!d.ok) throw new ProofError("PROOF_NOT_REGISTRATION", `the proven transaction does not decode: ${d.message}`);
  const body = d.tx.body;
  if (body.chainId !== trusted.chainId) throw new ProofError("PROOF_NOT_REGISTRATION", `the transaction is for chain ${body.chainId}`);
  if (body.contract !== "notary" || body.action !== "register")
    throw new ProofError("PROOF_NOT_REGISTRATION", `the proven transaction is ${body.contract}.${body.action}, not notary.register`);
  if (d.tx.args.hash !== hash) throw new ProofError("PROOF_NOT_REGISTRATION", `the proven transaction registers another hash`);
  const signed = verifyTxSignatures(d.tx, genesisKeyLookup(genesis));
  if (!signed.ok)
    throw new ProofError("PROOF_BAD_TX_SIGNATURE", `the registration's signatures do not check against genesis: ${signed.message}`);
  const registrant = body.signer?.institutionId ?? "";
  const blockTimeMs = Number(header.header.timestampMs);
  if (claim.owner !== registrant)
    throw new ProofError("PROOF_CLAIM_MISMATCH", `the gateway says ${claim.owner} registered it; the proof says ${registrant}`);
  if (claim.height !== header.height.toString())
    throw new ProofError("PROOF_CLAIM_MISMATCH", `the gateway says height ${claim.height}; the proof says ${header.height}`);
  if (claim.blockTimeMs !== blockTimeMs)
    throw new ProofError("PROOF_CLAIM_MISMATCH", `the gateway says block time ${claim.blockTimeMs}; the proof says ${blockTimeMs}`);
  const title = typeof d.tx.args.title === "string" ? d.tx.args.title : "";
  return {
    hash,
    registrant,
    keyId: body.signer?.keyId ?? "",
    title,
    height: header.height,
    blockTimeMs,
    txId: claim.txId,
    sequencerId: header.header.sequencerId,
    blockHash: toHex(header.hash),
    leafIndex: proof.leafIndex,
    treeSize: proof.treeSize,
  };
}

/** A notarization receipt: the claim and its proof as JSON, to verify later with only a genesis file. */
export interface NotarizationReceipt {
  readonly chainId: string;
  readonly registration: RegistrationClaim;
  readonly proof: {
    readonly height: string;
    readonly leafIndex: number;
    readonly treeSize: number;
    readonly path: readonly string[];
    readonly signedTx: string;
    readonly header: string;
    readonly headerSignature: string;
  };
}

/** A receipt from a claim and its proof. */
export function notarizationReceipt(chainId: string, registration: RegistrationClaim, p: InclusionProof): NotarizationReceipt {
  return {
    chainId,
    registration,
    proof: {
      height: p.height.toString(),
      leafIndex: p.leafIndex,
      treeSize: p.treeSize,
      path: p.path.map(toHex),
      signedTx: toHex(p.signedTx),
      header: toHex(p.header),
      headerSignature: toHex(p.headerSignature),
    },
  };
}

type Json = Record<string, unknown>;

// Readers of untrusted JSON: each throws a ProofError with the given reason naming the field.
function readers(reason: "PROOF_MALFORMED_RECEIPT" | "PROOF_CLAIM_MISMATCH", source: string) {
  const bad = (what: string): never => {
    throw new ProofError(reason, `${source}'s ${what} is missing or malformed`);
  };
  const obj = (x: unknown, what: string): Json => (typeof x === "object" && x !== null && !Array.isArray(x) ? (x as Json) : bad(what));
  const str = (o: Json, k: string, what: string): string => (typeof o[k] === "string" ? o[k] : bad(`${what}.${k}`));
  const int = (o: Json, k: string, what: string): number =>
    Number.isSafeInteger(o[k]) && (o[k] as number) >= 0 ? (o[k] as number) : bad(`${what}.${k}`);
  const hex = (o: Json, k: string, what: string): Uint8Array => {
    try {
      return fromHex(str(o, k, what));
    } catch {
      return bad(`${what}.${k}`);
    }
  };
  const claim = (v: unknown): RegistrationClaim => {
    const reg = obj(v, "registration");
    const txId = str(reg, "txId", "registration");
    if (!TX_ID_RE.test(txId)) bad("registration.txId");
    return {
      hash: str(reg, "hash", "registration"),
      owner: str(reg, "owner", "registration"),
      height: str(reg, "height", "registration"),
      blockTimeMs: int(reg, "blockTimeMs", "registration"),
      txId,
    };
  };
  return { bad, obj, str, int, hex, claim };
}

/** A gateway's `notary.registration` answer as a claim; a malformed one is a ProofError PROOF_CLAIM_MISMATCH. */
export function readRegistrationClaim(v: unknown): RegistrationClaim {
  return readers("PROOF_CLAIM_MISMATCH", "the gateway's answer").claim(v);
}

/** Reads a receipt back from parsed JSON; a malformed one is a ProofError PROOF_MALFORMED_RECEIPT. */
export function parseNotarizationReceipt(v: unknown): { chainId: string; registration: RegistrationClaim; proof: InclusionProof } {
  const { bad, obj, str, int, hex, claim } = readers("PROOF_MALFORMED_RECEIPT", "the receipt");
  const r = obj(v, "top level");
  const p = obj(r.proof, "proof");
  const height = str(p, "height", "proof");
  if (!/^[0-9]{1,20}$/.test(height)) bad("proof.height");
  if (!Array.isArray(p.path) || p.path.length > 64) bad("proof.path");
  const path = (p.path as unknown[]).map((x, i) => hex({ x }, "x", `proof.path[${i}]`));
  return {
    chainId: str(r, "chainId", "top level"),
    registration: claim(r.registration),
    proof: {
      height: BigInt(height),
      leafIndex: int(p, "leafIndex", "proof"),
      treeSize: int(p, "treeSize", "proof"),
      path,
      signedTx: hex(p, "signedTx", "proof"),
      header: hex(p, "header", "proof"),
      headerSignature: hex(p, "headerSignature", "proof"),
    },
  };
}
