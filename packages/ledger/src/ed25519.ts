import { createPrivateKey, createPublicKey, sign as nodeSign, type KeyObject } from "node:crypto";
import { createRequire } from "node:module";

// Verification is libsodium's (sodium-native, pinned, with its prebuilt binary): about twice
// node:crypto's rate here, and stricter. It refuses small-order R and A, which OpenSSL accepts
// (e.g. a signature whose R is the identity, S = H(R‖A‖M)·a, made by the key's holder). Every
// node must give every signature the same verdict, so there is one implementation and no
// fallback: a node that cannot load it does not start.
const sodium = createRequire(import.meta.url)("sodium-native") as {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
};

const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/** Length of raw Ed25519 public keys, seeds and signatures, in bytes. */
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SEED_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

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

/**
 * Verifies an Ed25519 signature against a raw 32-byte public key, with libsodium's rules
 * (canonical S, no small-order R or A). Never throws on bad input.
 */
export function ed25519Verify(publicKey: Uint8Array, msg: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.byteLength !== ED25519_PUBLIC_KEY_BYTES || signature.byteLength !== ED25519_SIGNATURE_BYTES) return false;
  try {
    return sodium.crypto_sign_verify_detached(signature, msg, publicKey);
  } catch {
    return false;
  }
}
