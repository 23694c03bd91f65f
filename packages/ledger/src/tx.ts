import { SignedTx, TxBody, type Signature } from "@tally/proto/types";
import { fromUtf8, toHex } from "./bytes.js";
import { ed25519Sign, ed25519Verify, type SigningKey } from "./ed25519.js";
import { sha256 } from "./hash.js";
import { LIMITS } from "./limits.js";

/** Stable reason codes for a transaction refused before it reaches a contract. */
export type TxRejectCode =
  "MALFORMED" | "TOO_LARGE" | "WRONG_CHAIN" | "MISSING_SIGNATURE" | "BAD_SIGNATURE" | "UNKNOWN_SIGNER" | "KEY_REVOKED" | "EXPIRED";

/** A refusal with a stable code and a human reason. */
export interface TxReject {
  readonly ok: false;
  readonly code: TxRejectCode;
  readonly message: string;
}

/** A signed transaction, decoded once from the exact bytes that were signed. */
export interface DecodedTx {
  /** sha256 of the body bytes. */
  readonly id: Uint8Array;
  readonly idHex: string;
  readonly body: TxBody;
  readonly bodyBytes: Uint8Array;
  readonly signatures: readonly Signature[];
  /** The exact SignedTx encoding: the Merkle leaf. */
  readonly raw: Uint8Array;
  /** Parsed JSON args (an object). */
  readonly args: Record<string, unknown>;
}

/** The state of a key as the chain knows it. */
export interface KnownKey {
  readonly publicKey: Uint8Array;
  readonly active: boolean;
}

/** Finds an institution's key; undefined when the institution or key is unknown. */
export type KeyLookup = (institutionId: string, keyId: string) => KnownKey | undefined;

function reject(code: TxRejectCode, message: string): TxReject {
  return { ok: false, code, message };
}

/** The tx id: sha256 of the signed body bytes. */
export function txIdOf(bodyBytes: Uint8Array): Uint8Array {
  return sha256(bodyBytes);
}

const ID_RE = /^[a-z0-9][a-z0-9._-]*$/;

/** True for identifiers Tally accepts: lowercase, digits, '.', '_' and '-', bounded length. */
export function isValidId(s: string): boolean {
  return s.length > 0 && s.length <= LIMITS.idLengthMax && ID_RE.test(s);
}

/**
 * Decodes a SignedTx from its exact bytes and checks its shape: size, body, ids, args JSON.
 * Signatures are not checked here; see verifyTxSignatures.
 */
export function decodeSignedTx(raw: Uint8Array): { ok: true; tx: DecodedTx } | TxReject {
  if (raw.byteLength > LIMITS.txBytesMax)
    return reject("TOO_LARGE", `transaction is ${raw.byteLength} bytes; the limit is ${LIMITS.txBytesMax}`);
  let signed: SignedTx;
  let body: TxBody;
  try {
    signed = SignedTx.decode(raw);
    body = TxBody.decode(signed.body);
  } catch (e) {
    return reject("MALFORMED", `not a SignedTx protobuf: ${(e as Error).message}`);
  }
  if (signed.body.byteLength === 0) return reject("MALFORMED", "empty body");
  for (const [name, v] of [
    ["chain_id", body.chainId],
    ["contract", body.contract],
    ["action", body.action],
    ["signer.institution_id", body.signer?.institutionId ?? ""],
    ["signer.key_id", body.signer?.keyId ?? ""],
  ] as const) {
    if (!isValidId(v)) return reject("MALFORMED", `${name} is missing or not a valid identifier`);
  }
  if (signed.signatures.length === 0) return reject("MISSING_SIGNATURE", "no signature");
  if (signed.signatures.length > LIMITS.txSignaturesMax) return reject("MALFORMED", `more than ${LIMITS.txSignaturesMax} signatures`);
  let args: unknown;
  try {
    args = JSON.parse(fromUtf8(body.args.byteLength === 0 ? new TextEncoder().encode("{}") : body.args));
  } catch {
    return reject("MALFORMED", "args are not UTF-8 JSON");
  }
  if (typeof args !== "object" || args === null || Array.isArray(args)) return reject("MALFORMED", "args must be a JSON object");
  const id = txIdOf(signed.body);
  return {
    ok: true,
    tx: { id, idHex: toHex(id), body, bodyBytes: signed.body, signatures: signed.signatures, raw, args: args as Record<string, unknown> },
  };
}

/** The raw Ed25519 check of one signature over a transaction's exact body bytes. */
export type TxSignatureCheck = (publicKey: Uint8Array, tx: DecodedTx, signature: Uint8Array) => boolean;

/**
 * Verifies every signature over the exact body bytes against active keys, and that the
 * body's signer is among them. Returns the signing institutions, the body's signer first.
 * `verify` is the raw Ed25519 check over the body bytes; a caller may answer it from results
 * verified ahead of time (the executor's worker threads). Key lookup, the active flag, the order
 * of checks and every reason code stay here.
 */
export function verifyTxSignatures(
  tx: DecodedTx,
  lookup: KeyLookup,
  verify: TxSignatureCheck = (publicKey, t, signature) => ed25519Verify(publicKey, t.bodyBytes, signature),
): { ok: true; signers: string[] } | TxReject {
  const signer = tx.body.signer;
  if (signer === undefined) return reject("MALFORMED", "no signer");
  const institutions: string[] = [];
  let signerSigned = false;
  for (const s of tx.signatures) {
    const key = lookup(s.institutionId, s.keyId);
    if (key === undefined) return reject("UNKNOWN_SIGNER", `unknown key ${s.institutionId}/${s.keyId}`);
    if (!key.active) return reject("KEY_REVOKED", `key ${s.institutionId}/${s.keyId} is revoked`);
    if (!verify(key.publicKey, tx, s.signature)) {
      return reject("BAD_SIGNATURE", `signature by ${s.institutionId}/${s.keyId} does not verify`);
    }
    if (institutions.includes(s.institutionId)) return reject("MALFORMED", `two signatures by ${s.institutionId}`);
    institutions.push(s.institutionId);
    if (s.institutionId === signer.institutionId && s.keyId === signer.keyId) signerSigned = true;
  }
  if (!signerSigned) return reject("MISSING_SIGNATURE", `no signature by the signer ${signer.institutionId}/${signer.keyId}`);
  const others = institutions.filter((i) => i !== signer.institutionId);
  return { ok: true, signers: [signer.institutionId, ...others] };
}

/** Checks chain id and deadline against a reference time (block time, or the gateway's clock). */
export function checkTxContext(tx: DecodedTx, chainId: string, nowMs: number): { ok: true } | TxReject {
  if (tx.body.chainId !== chainId) return reject("WRONG_CHAIN", `chain id ${tx.body.chainId} is not ${chainId}`);
  if (BigInt(nowMs) > tx.body.validUntilMs) return reject("EXPIRED", `valid_until ${tx.body.validUntilMs} has passed`);
  return { ok: true };
}

/** A party that signs: its institution, key id and key. */
export interface TxSigner {
  readonly institutionId: string;
  readonly keyId: string;
  readonly key: SigningKey;
}

/** Encodes a body once and signs those exact bytes with each signer. Returns SignedTx bytes and the tx id. */
export function signTx(body: TxBody, signers: readonly TxSigner[]): { raw: Uint8Array; id: Uint8Array } {
  const bodyBytes = TxBody.encode(body).finish();
  const signatures = signers.map((s) => ({ institutionId: s.institutionId, keyId: s.keyId, signature: ed25519Sign(s.key, bodyBytes) }));
  return { raw: SignedTx.encode({ body: bodyBytes, signatures }).finish(), id: txIdOf(bodyBytes) };
}

/**
 * The id a block leaf is known by: the tx id when the leaf decodes as a SignedTx, else
 * sha256 of the raw leaf, so even garbage that reached the stream has a stable id.
 */
export function leafTxId(raw: Uint8Array): Uint8Array {
  try {
    const body = SignedTx.decode(raw).body;
    if (body.byteLength > 0) return txIdOf(body);
  } catch {
    // fall through: not a SignedTx
  }
  return sha256(raw);
}
