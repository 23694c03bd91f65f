// How checks travel to a verify worker: packed into one transferable buffer, so a chunk of
// hundreds of checks is one message and no structured clone of many small arrays.
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES } from "@tally/ledger";
import type { SignatureCheck } from "./signature-check.js";

/** A chunk of checks for a worker. */
export interface VerifyRequest {
  readonly id: number;
  readonly count: number;
  /** count × (public key 32 B, signature 64 B, message length u32 LE, message). */
  readonly packed: ArrayBuffer;
}

/** A worker's answer: one byte per check, 1 when valid. */
export interface VerifyResponse {
  readonly id: number;
  readonly valid: Uint8Array;
}

const HEADER_BYTES = ED25519_PUBLIC_KEY_BYTES + ED25519_SIGNATURE_BYTES + 4;

/** Packs well-sized checks (32-byte keys, 64-byte signatures) into one buffer. */
export function packChecks(checks: readonly SignatureCheck[]): ArrayBuffer {
  let bytes = 0;
  for (const c of checks) bytes += HEADER_BYTES + c.message.byteLength;
  const buf = new ArrayBuffer(bytes);
  const out = new Uint8Array(buf);
  const view = new DataView(buf);
  let o = 0;
  for (const c of checks) {
    out.set(c.publicKey, o);
    out.set(c.signature, o + ED25519_PUBLIC_KEY_BYTES);
    view.setUint32(o + ED25519_PUBLIC_KEY_BYTES + ED25519_SIGNATURE_BYTES, c.message.byteLength, true);
    out.set(c.message, o + HEADER_BYTES);
    o += HEADER_BYTES + c.message.byteLength;
  }
  return buf;
}

/** Calls each with views into the packed buffer (no copies), in order. */
export function unpackChecks(
  packed: ArrayBuffer,
  count: number,
  each: (i: number, publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array) => void,
): void {
  const view = new DataView(packed);
  let o = 0;
  for (let i = 0; i < count; i++) {
    const len = view.getUint32(o + ED25519_PUBLIC_KEY_BYTES + ED25519_SIGNATURE_BYTES, true);
    each(
      i,
      new Uint8Array(packed, o, ED25519_PUBLIC_KEY_BYTES),
      new Uint8Array(packed, o + ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES),
      new Uint8Array(packed, o + HEADER_BYTES, len),
    );
    o += HEADER_BYTES + len;
  }
}
