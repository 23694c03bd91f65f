// Verification in the browser, trusting nothing the server says about the result: a transaction's
// RFC 6962 inclusion proof is checked against the tx root read from the block header's own bytes
// (SHA-256 through WebCrypto), the block hash is recomputed from those bytes, and the sequencer's
// Ed25519 signature over that hash is checked with WebCrypto against the sequencer's genesis key.

/** Bytes from lowercase or uppercase hex; throws on anything else. */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new TypeError("not a hex string");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array<ArrayBuffer>> {
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const all = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.byteLength;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", all));
}

const equal = (a: Uint8Array, b: Uint8Array): boolean => a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);

export const leafHash = (data: Uint8Array): Promise<Uint8Array> => sha256(new Uint8Array([0]), data);
const nodeHash = (l: Uint8Array, r: Uint8Array): Promise<Uint8Array> => sha256(new Uint8Array([1]), l, r);

/** RFC 9162 2.1.3.2: the root a leaf hash and its audit path lead to, or undefined when the path does not fit the tree. */
export async function rootFromInclusionProof(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  path: readonly Uint8Array[],
): Promise<Uint8Array | undefined> {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return undefined;
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0 || p.byteLength !== 32) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

/** The fields of a tally.v1.BlockHeader the check needs, read from its protobuf bytes. */
export interface HeaderFields {
  chainId: string;
  height: bigint;
  txRoot: Uint8Array;
  txCount: number;
  sequencerId: string;
  epoch: bigint;
}

/** A minimal protobuf reader for BlockHeader (varints and length-delimited fields); throws on malformed bytes. */
export function decodeHeader(b: Uint8Array): HeaderFields {
  const h: HeaderFields = { chainId: "", height: 0n, txRoot: new Uint8Array(0), txCount: 0, sequencerId: "", epoch: 0n };
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (i >= b.length) throw new RangeError("truncated varint");
      const x = b[i++]!;
      v |= BigInt(x & 0x7f) << shift;
      if ((x & 0x80) === 0) return v;
    }
    throw new RangeError("varint too long");
  };
  const dec = new TextDecoder("utf-8", { fatal: true });
  while (i < b.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) {
      const v = varint();
      if (field === 2) h.height = v;
      else if (field === 5) h.txCount = Number(v);
      else if (field === 10) h.epoch = v;
    } else if (wire === 2) {
      const len = Number(varint());
      if (i + len > b.length) throw new RangeError("truncated field");
      const v = b.subarray(i, i + len);
      i += len;
      if (field === 1) h.chainId = dec.decode(v);
      else if (field === 4) h.txRoot = v.slice();
      else if (field === 9) h.sequencerId = dec.decode(v);
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new RangeError(`unsupported wire type ${wire}`);
  }
  return h;
}

/** The first field (SignedTx.body) of a signed transaction, whose SHA-256 is the tx id. */
function signedTxBody(b: Uint8Array): Uint8Array | undefined {
  if (b[0] !== 0x0a) return undefined;
  let i = 1;
  let len = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    const x = b[i++];
    if (x === undefined) return undefined;
    len += (x & 0x7f) * 2 ** shift;
    if ((x & 0x80) === 0) break;
  }
  return i + len <= b.length ? b.subarray(i, i + len) : undefined;
}

/** What the server sends for a transaction's proof (all bytes as hex). */
export interface ProofJson {
  txId: string;
  height: string;
  leafIndex: number;
  treeSize: number;
  path: string[];
  signedTx: string;
  header: string;
  headerSignature: string;
  sequencerPublicKey: string;
}

export interface ProofCheck {
  /** Every check below passed. */
  ok: boolean;
  txIdMatches: boolean;
  heightMatches: boolean;
  rootMatches: boolean;
  /** true / false, or "unsupported" when this browser's WebCrypto has no Ed25519. */
  signature: boolean | "unsupported";
  blockHash: string;
  computedRoot: string;
  headerRoot: string;
  sequencerId: string;
  epoch: string;
}

/** Ed25519 through WebCrypto; "unsupported" when the browser does not offer it. */
async function ed25519Verify(
  publicKey: Uint8Array<ArrayBuffer>,
  msg: Uint8Array<ArrayBuffer>,
  sig: Uint8Array<ArrayBuffer>,
): Promise<boolean | "unsupported"> {
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  } catch (e) {
    if ((e as Error).name === "NotSupportedError") return "unsupported";
    return false;
  }
  try {
    return await crypto.subtle.verify({ name: "Ed25519" }, key, sig, msg);
  } catch {
    return false;
  }
}

/** Verifies a transaction's inclusion in its block, and the block's signature, from the proof's bytes alone. */
export async function verifyProof(p: ProofJson): Promise<ProofCheck> {
  const raw = fromHex(p.signedTx);
  const headerBytes = fromHex(p.header);
  const header = decodeHeader(headerBytes);
  const body = signedTxBody(raw);
  const txId = body === undefined ? await sha256(raw) : await sha256(body);
  const root = await rootFromInclusionProof(await leafHash(raw), p.leafIndex, p.treeSize, p.path.map(fromHex));
  const blockHash = await sha256(headerBytes);
  const signature = await ed25519Verify(fromHex(p.sequencerPublicKey), blockHash, fromHex(p.headerSignature));
  const txIdMatches = toHex(txId) === p.txId.toLowerCase();
  const heightMatches = header.height.toString() === p.height && header.txCount === p.treeSize;
  const rootMatches = root !== undefined && equal(root, header.txRoot);
  return {
    ok: txIdMatches && heightMatches && rootMatches && signature === true,
    txIdMatches,
    heightMatches,
    rootMatches,
    signature,
    blockHash: toHex(blockHash),
    computedRoot: root === undefined ? "(the path does not fit the tree)" : toHex(root),
    headerRoot: toHex(header.txRoot),
    sequencerId: header.sequencerId,
    epoch: header.epoch.toString(),
  };
}
