import { createRequire } from "node:module";

// Verification is libsodium's (sodium-native, pinned, with its prebuilt binary): about twice
// node:crypto's rate here, and stricter. It refuses small-order R and A, which OpenSSL accepts
// (e.g. a signature whose R is the identity, S = H(R‖A‖M)·a, made by the key's holder). Every
// node must give every signature the same verdict, so there is one implementation and no
// fallback: a node that cannot load it does not start.
// Signing is libsodium's too (about 1.8x node:crypto here); Ed25519 signatures are deterministic
// (RFC 8032), so they are the same bytes either way.
const sodium = createRequire(import.meta.url)("sodium-native") as {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  crypto_sign_detached(signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void;
  crypto_sign_seed_keypair(publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void;
};

/** Length of raw Ed25519 public keys, seeds and signatures, in bytes. */
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SEED_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

/** A private signing key, expanded once from its 32-byte seed. */
export interface SigningKey {
  readonly publicKey: Uint8Array;
  /** libsodium's 64-byte secret key: the seed, then the public key. */
  readonly secretKey: Uint8Array;
}

/** Builds a signing key from a raw 32-byte Ed25519 seed (RFC 8032 "secret key"). */
export function signingKeyFromSeed(seed: Uint8Array): SigningKey {
  if (seed.byteLength !== ED25519_SEED_BYTES) throw new TypeError(`Ed25519 seed must be 32 bytes, got ${seed.byteLength}`);
  const publicKey = new Uint8Array(ED25519_PUBLIC_KEY_BYTES);
  const secretKey = new Uint8Array(64);
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed);
  return { publicKey, secretKey };
}

/** Ed25519 signature of msg (64 bytes). Deterministic per RFC 8032. */
export function ed25519Sign(key: SigningKey, msg: Uint8Array): Uint8Array {
  const signature = new Uint8Array(ED25519_SIGNATURE_BYTES);
  sodium.crypto_sign_detached(signature, msg, key.secretKey);
  return signature;
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
