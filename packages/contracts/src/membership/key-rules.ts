// The rules for adding and revoking an institution's keys, shared by self-service (one signature,
// the institution's own keys) and governance (a vote, any institution's keys).
import { rejection, type Rejection } from "../contract.js";
import type { InstitutionEntry } from "./institution-entry.js";

/** Most keys an institution may hold, revoked ones included (their ids are never reused). */
export const KEYS_PER_INSTITUTION_MAX = 64;

/**
 * Why the institution may not add keyId/publicKey, or undefined when it may: KEY_EXISTS when the
 * id or the public key is already registered (revoked or not, so a revoked key never comes back),
 * TOO_MANY_KEYS at the bound.
 */
export function addKeyRejection(entry: InstitutionEntry, keyId: string, publicKey: string): Rejection | undefined {
  if (entry.keys.some((k) => k.keyId === keyId)) return rejection("KEY_EXISTS", `institution ${entry.id} already has a key ${keyId}`);
  const same = entry.keys.find((k) => k.publicKey === publicKey);
  if (same !== undefined) return rejection("KEY_EXISTS", `public key is already registered as ${entry.id}/${same.keyId}`);
  if (entry.keys.length >= KEYS_PER_INSTITUTION_MAX) {
    return rejection("TOO_MANY_KEYS", `institution ${entry.id} already holds ${KEYS_PER_INSTITUTION_MAX} keys, revoked ones included`);
  }
  return undefined;
}

/**
 * Why the institution may not revoke keyId, or undefined when it may: KEY_NOT_FOUND,
 * KEY_ALREADY_REVOKED, LAST_ACTIVE_KEY (no active key would remain). `replacing` is true when a
 * new key is added in the same step (a rotation), so the last active key may go.
 */
export function revokeKeyRejection(entry: InstitutionEntry, keyId: string, replacing = false): Rejection | undefined {
  const key = entry.keys.find((k) => k.keyId === keyId);
  if (key === undefined) return rejection("KEY_NOT_FOUND", `institution ${entry.id} has no key ${keyId}`);
  if (!key.active) return rejection("KEY_ALREADY_REVOKED", `key ${entry.id}/${keyId} is already revoked`);
  if (!replacing && entry.keys.filter((k) => k.active).length === 1) {
    return rejection("LAST_ACTIVE_KEY", `key ${entry.id}/${keyId} is the institution's last active key; add another first`);
  }
  return undefined;
}
