import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from "node:crypto";
import { toHex } from "./bytes.js";

const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/** Length of raw Ed25519 public keys, seeds and signatures, in bytes. */
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SEED_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

// Parsing a key costs about as much as a verify, so KeyObjects are cached by raw key.
// The cache is bounded: a consortium has few keys, an attacker could offer many.
const PUBLIC_KEY_CACHE_MAX = 4096;
const publicKeyCache = new Map<string, KeyObject>();

function publicKeyObject(raw: Uint8Array): KeyObject {
  const hex = toHex(raw);
  let key = publicKeyCache.get(hex);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: "der", type: "spki" });
    if (publicKeyCache.size >= PUBLIC_KEY_CACHE_MAX) {
      const oldest = publicKeyCache.keys().next().value;
      if (oldest !== undefined) publicKeyCache.delete(oldest);
    }
    publicKeyCache.set(hex, key);
  }
  return key;
}

/** A private signing key, parsed once from its 32-byte seed. */
export interface SigningKey {
  readonly publicKey: Uint8Array;
  readonly keyObject: KeyObject;
}

/** Builds a signing key from a raw 32-byte Ed25519 seed (RFC 8032 "secret key"). */
export function signingKeyFromSeed(seed: Uint8Array): SigningKey {
  if (seed.byteLength !== ED25519_SEED_BYTES) throw new TypeError(`Ed25519 seed must be 32 bytes, got ${seed.byteLength}`);
  const keyObject = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
  const jwk = createPublicKey(keyObject).export({ format: "jwk" });
  const publicKey = new Uint8Array(Buffer.from(jwk.x ?? "", "base64url"));
  return { publicKey, keyObject };
}

/** Ed25519 signature of msg (64 bytes). Deterministic per RFC 8032. */
export function ed25519Sign(key: SigningKey, msg: Uint8Array): Uint8Array {
  return new Uint8Array(nodeSign(null, msg, key.keyObject));
}

/** Verifies an Ed25519 signature against a raw 32-byte public key. Never throws on bad input. */
export function ed25519Verify(publicKey: Uint8Array, msg: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.byteLength !== ED25519_PUBLIC_KEY_BYTES || signature.byteLength !== ED25519_SIGNATURE_BYTES) return false;
  try {
    return nodeVerify(null, msg, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}
