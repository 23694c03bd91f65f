import { createHash, hash } from "node:crypto";

// Inputs up to this size are concatenated and hashed in one call (node:crypto's one-shot hash
// is about twice createHash's rate for the small inputs of Merkle nodes, leaves and tx ids).
const ONE_SHOT_BYTES_MAX = 4096;

/** SHA-256 of the concatenation of the parts. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1 && parts[0]!.byteLength <= ONE_SHOT_BYTES_MAX) return new Uint8Array(hash("sha256", parts[0]!, "buffer"));
  let total = 0;
  for (const p of parts) total += p.byteLength;
  if (total <= ONE_SHOT_BYTES_MAX) return new Uint8Array(hash("sha256", Buffer.concat(parts, total), "buffer"));
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}
