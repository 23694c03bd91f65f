// RFC 6962 (Certificate Transparency) Merkle trees, with the verification
// algorithms of RFC 9162 section 2.1.3 and 2.1.4.
import { bytesEqual } from "./bytes.js";
import { sha256 } from "./hash.js";

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);
const HASH_BYTES = 32;

// Tree sizes and indices may exceed 2^32, so the verifiers halve with arithmetic, not with
// 32-bit shifts (x >>> 1 would silently drop the high bits of a large size).
const half = (x: number): number => Math.floor(x / 2);
const isOdd = (x: number): boolean => x % 2 === 1;

function isPowerOfTwo(x: number): boolean {
  while (x > 1 && !isOdd(x)) x = half(x);
  return x === 1;
}

/** RFC 6962 leaf hash: SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, data);
}

/** RFC 6962 interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE_PREFIX, left, right);
}

/** Largest power of two strictly less than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function mth(hashes: readonly Uint8Array[], lo: number, hi: number): Uint8Array {
  const n = hi - lo;
  if (n === 1) return hashes[lo]!;
  const k = splitPoint(n);
  return nodeHash(mth(hashes, lo, lo + k), mth(hashes, lo + k, hi));
}

/** Merkle tree hash over already-hashed leaves. The empty tree's root is SHA-256 of nothing. */
export function merkleRootFromLeafHashes(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return sha256();
  return mth(hashes, 0, hashes.length);
}

/** RFC 6962 Merkle tree hash (MTH) over raw leaf data. */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  return merkleRootFromLeafHashes(leaves.map(leafHash));
}

function path(m: number, hashes: readonly Uint8Array[], lo: number, hi: number, out: Uint8Array[]): void {
  const n = hi - lo;
  if (n <= 1) return;
  const k = splitPoint(n);
  if (m < k) {
    path(m, hashes, lo, lo + k, out);
    out.push(mth(hashes, lo + k, hi));
  } else {
    path(m - k, hashes, lo + k, hi, out);
    out.push(mth(hashes, lo, lo + k));
  }
}

/** RFC 6962 audit path for the leaf at index, over already-hashed leaves. */
export function inclusionProofFromLeafHashes(hashes: readonly Uint8Array[], index: number): Uint8Array[] {
  if (!Number.isInteger(index) || index < 0 || index >= hashes.length)
    throw new RangeError(`leaf index ${index} out of range for ${hashes.length} leaves`);
  const out: Uint8Array[] = [];
  path(index, hashes, 0, hashes.length, out);
  return out;
}

/** RFC 6962 audit path for the leaf at index. */
export function inclusionProof(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  return inclusionProofFromLeafHashes(leaves.map(leafHash), index);
}

/**
 * RFC 9162 2.1.3.2: verifies that leafHashValue is at index in a tree of treeSize with the given root.
 * The leaf hash and the root must be 32 bytes. Never throws.
 */
export function verifyInclusion(
  leafHashValue: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return false;
  if (leafHashValue.byteLength !== HASH_BYTES || root.byteLength !== HASH_BYTES) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r = leafHashValue;
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && bytesEqual(r, root);
}

function subproof(m: number, hashes: readonly Uint8Array[], lo: number, hi: number, complete: boolean, out: Uint8Array[]): void {
  const n = hi - lo;
  if (m === n) {
    if (!complete) out.push(mth(hashes, lo, hi));
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    subproof(m, hashes, lo, lo + k, complete, out);
    out.push(mth(hashes, lo + k, hi));
  } else {
    subproof(m - k, hashes, lo + k, hi, false, out);
    out.push(mth(hashes, lo, lo + k));
  }
}

/** RFC 6962 consistency proof between the first m leaves and all of them, over already-hashed leaves. */
export function consistencyProofFromLeafHashes(hashes: readonly Uint8Array[], m: number): Uint8Array[] {
  if (!Number.isInteger(m) || m < 0 || m > hashes.length) throw new RangeError(`size ${m} out of range for ${hashes.length} leaves`);
  if (m === 0 || m === hashes.length) return [];
  const out: Uint8Array[] = [];
  subproof(m, hashes, 0, hashes.length, true, out);
  return out;
}

/** RFC 6962 consistency proof between the first m leaves and all of them. */
export function consistencyProof(leaves: readonly Uint8Array[], m: number): Uint8Array[] {
  return consistencyProofFromLeafHashes(leaves.map(leafHash), m);
}

/** RFC 9162 2.1.4.2: verifies that the tree of size `first` with firstRoot is a prefix of the tree of size `second`. Never throws. */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second) return false;
  if (first === second) return proof.length === 0 && bytesEqual(firstRoot, secondRoot);
  // Every tree extends the empty tree; RFC 9162 defines no proof for it.
  if (first === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const c = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = c[0]!;
  let sr = c[0]!;
  for (const p of c.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(p, fr);
      sr = nodeHash(p, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return bytesEqual(fr, firstRoot) && bytesEqual(sr, secondRoot) && sn === 0;
}
