import { status } from "@grpc/grpc-js";
import { builtinContracts, isRejection, prepareCommand, type MembershipView } from "@tally/contracts";
import type { BatchingVerifier } from "@tally/crypto-pool";
import {
  bytesEqual,
  checkTxContext,
  decodeSignedTx,
  ed25519Verify,
  LIMITS,
  verifyTxSignatures,
  type DecodedTx,
  type TxRejectCode,
  type TxSignatureCheck,
} from "@tally/ledger";
import { RpcError } from "@tally/rpc";

/** How far ahead a valid_until may be: bounds how long the gateway must remember a tx. */
export const VALID_UNTIL_AHEAD_MS_MAX = 24 * 3600_000;

const STATUS_OF: Record<TxRejectCode, status> = {
  MALFORMED: status.INVALID_ARGUMENT,
  TOO_LARGE: status.INVALID_ARGUMENT,
  WRONG_CHAIN: status.INVALID_ARGUMENT,
  MISSING_SIGNATURE: status.UNAUTHENTICATED,
  BAD_SIGNATURE: status.UNAUTHENTICATED,
  UNKNOWN_SIGNER: status.PERMISSION_DENIED,
  KEY_REVOKED: status.PERMISSION_DENIED,
  EXPIRED: status.FAILED_PRECONDITION,
};

/**
 * Every check the gateway makes before a transaction may enter the bus: size, shape,
 * chain id, deadline, known and active keys, valid signatures, known contract and action,
 * the signer's role, and the action's args schema. Throws RpcError with the status and a
 * stable reason; nothing is published for a refused transaction.
 */
export function admit(
  raw: Uint8Array,
  chainId: string,
  nowMs: number,
  membership: MembershipView,
  height: bigint,
  decoded?: DecodedTx,
): DecodedTx {
  return admitChecked(precheck(raw, chainId, nowMs, decoded), chainId, nowMs, membership, height);
}

/**
 * admit, with the Ed25519 checks done by a worker pool (through a batcher) while the event loop
 * serves other calls. Key lookup, the active flag and every reason code are decided exactly as
 * in admit, against the same membership view; only the raw verification moves off the thread.
 */
export async function admitVerified(
  raw: Uint8Array,
  chainId: string,
  nowMs: number,
  membership: MembershipView,
  height: bigint,
  verifier: BatchingVerifier,
  decoded?: DecodedTx,
): Promise<DecodedTx> {
  const tx = precheck(raw, chainId, nowMs, decoded);
  const known: { publicKey: Uint8Array; signature: Uint8Array; valid: boolean }[] = [];
  await Promise.all(
    tx.signatures.map(async (sig) => {
      const key = membership.keyLookup(sig.institutionId, sig.keyId);
      if (key === undefined || !key.active) return;
      const valid = await verifier.verify({ publicKey: key.publicKey, message: tx.bodyBytes, signature: sig.signature });
      known.push({ publicKey: key.publicKey, signature: sig.signature, valid });
    }),
  );
  // A check not answered ahead (none should be) is verified here, so results never change an outcome.
  const check: TxSignatureCheck = (publicKey, t, signature) =>
    known.find((k) => bytesEqual(k.publicKey, publicKey) && bytesEqual(k.signature, signature))?.valid ??
    ed25519Verify(publicKey, t.bodyBytes, signature);
  return admitChecked(tx, chainId, nowMs, membership, height, check);
}

// Size, shape, chain id and deadlines: the checks that cost no signature verification.
// `already` is raw as the caller decoded it (decoding twice costs as much as a verify here).
function precheck(raw: Uint8Array, chainId: string, nowMs: number, already?: DecodedTx): DecodedTx {
  if (raw.byteLength > LIMITS.txBytesMax) {
    throw new RpcError(status.INVALID_ARGUMENT, `transaction is ${raw.byteLength} bytes; the limit is ${LIMITS.txBytesMax}`, "TOO_LARGE");
  }
  let tx = already;
  if (tx === undefined) {
    const decoded = decodeSignedTx(raw);
    if (!decoded.ok) throw new RpcError(STATUS_OF[decoded.code], decoded.message, decoded.code);
    tx = decoded.tx;
  }
  const ctxCheck = checkTxContext(tx, chainId, nowMs);
  if (!ctxCheck.ok) throw new RpcError(STATUS_OF[ctxCheck.code], ctxCheck.message, ctxCheck.code);
  if (tx.body.validUntilMs > BigInt(nowMs + VALID_UNTIL_AHEAD_MS_MAX)) {
    throw new RpcError(status.INVALID_ARGUMENT, `valid_until is more than ${VALID_UNTIL_AHEAD_MS_MAX} ms ahead`, "VALID_UNTIL_TOO_FAR");
  }
  return tx;
}

// Keys, signatures, contract, action, role and args.
function admitChecked(
  tx: DecodedTx,
  chainId: string,
  nowMs: number,
  membership: MembershipView,
  height: bigint,
  verify?: TxSignatureCheck,
): DecodedTx {
  const sigs = verifyTxSignatures(tx, membership.keyLookup, verify);
  if (!sigs.ok) throw new RpcError(STATUS_OF[sigs.code], sigs.message, sigs.code);
  // A deployed user contract's roles and args are checked by the executor, against its declarations.
  if (!builtinContracts.has(tx.body.contract) && membership.userContracts.has(tx.body.contract)) return tx;
  const prepared = prepareCommand(builtinContracts, tx.body.contract, tx.body.action, tx.args, {
    chainId,
    txId: tx.idHex,
    height,
    blockTimeMs: nowMs,
    signer: sigs.signers[0]!,
    signers: sigs.signers,
    members: membership.members,
  });
  if (isRejection(prepared)) {
    const code = prepared.code === "FORBIDDEN_ROLE" ? status.PERMISSION_DENIED : status.INVALID_ARGUMENT;
    throw new RpcError(code, prepared.message, prepared.code);
  }
  return tx;
}
