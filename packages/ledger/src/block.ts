import { Block, BlockHeader } from "@tally/proto/types";
import { bytesEqual, fromHex, toHex } from "./bytes.js";
import { ed25519Sign, ed25519Verify, type SigningKey } from "./ed25519.js";
import { InvariantError } from "./errors.js";
import { genesisHash, type Genesis } from "./genesis.js";
import { sha256 } from "./hash.js";
import { leafHash, merkleRootFromLeafHashes } from "./merkle.js";

/** The hash every chain starts from: 32 zero bytes. */
export const ZERO_HASH = new Uint8Array(32);

/** A block with its header decoded and its hash computed from the exact header bytes. */
export interface SealedBlock {
  readonly block: Block;
  /** The encoded Block, as published on BLOCKS. */
  readonly bytes: Uint8Array;
  readonly header: BlockHeader;
  readonly hash: Uint8Array;
  readonly leafHashes: readonly Uint8Array[];
}

/** The hash of a block: sha256 of its header bytes. */
export function blockHashOf(headerBytes: Uint8Array): Uint8Array {
  return sha256(headerBytes);
}

/** What a sequencer puts in a block besides its transactions. */
export interface BlockDraft {
  readonly chainId: string;
  readonly height: bigint;
  readonly prevHash: Uint8Array;
  readonly txs: readonly Uint8Array[];
  readonly firstTxsSeq: bigint;
  readonly lastTxsSeq: bigint;
  readonly timestampMs: bigint;
  readonly sequencerId: string;
  readonly epoch: bigint;
}

/** Builds the header, computes the tx root and signs the header hash. */
export function sealBlock(d: BlockDraft, key: SigningKey): SealedBlock {
  const leafHashes = d.txs.map(leafHash);
  const header: BlockHeader = {
    chainId: d.chainId,
    height: d.height,
    prevHash: d.prevHash,
    txRoot: merkleRootFromLeafHashes(leafHashes),
    txCount: d.txs.length,
    firstTxsSeq: d.firstTxsSeq,
    lastTxsSeq: d.lastTxsSeq,
    timestampMs: d.timestampMs,
    sequencerId: d.sequencerId,
    epoch: d.epoch,
    genesisHash: new Uint8Array(0),
  };
  const headerBytes = BlockHeader.encode(header).finish();
  const hash = blockHashOf(headerBytes);
  const block: Block = { header: headerBytes, signature: ed25519Sign(key, hash), txs: [...d.txs] };
  return { block, bytes: Block.encode(block).finish(), header, hash, leafHashes };
}

/** Block 0, derived from the genesis document alone, so every node computes the same one. Unsigned. */
export function genesisBlock(g: Genesis): SealedBlock {
  const header: BlockHeader = {
    chainId: g.chainId,
    height: 0n,
    prevHash: ZERO_HASH,
    txRoot: merkleRootFromLeafHashes([]),
    txCount: 0,
    firstTxsSeq: 0n,
    lastTxsSeq: 0n,
    timestampMs: BigInt(g.genesisTimeMs),
    sequencerId: "",
    epoch: 0n,
    genesisHash: genesisHash(g),
  };
  const headerBytes = BlockHeader.encode(header).finish();
  const block: Block = { header: headerBytes, signature: new Uint8Array(0), txs: [] };
  return { block, bytes: Block.encode(block).finish(), header, hash: blockHashOf(headerBytes), leafHashes: [] };
}

/** The previous block as a verifier knows it. */
export interface ChainTip {
  readonly height: bigint;
  readonly hash: Uint8Array;
  readonly timestampMs: bigint;
  readonly lastTxsSeq: bigint;
}

/** Who may sign blocks: sequencer id to raw public key. */
export type SequencerKeys = ReadonlyMap<string, Uint8Array>;

/** The sequencer keys of a sequencer list (genesis's, or a chain config's). */
export function sequencerKeysFrom(sequencers: readonly { readonly id: string; readonly publicKey: string }[]): SequencerKeys {
  return new Map(sequencers.map((s) => [s.id, fromHex(s.publicKey)]));
}

/** The sequencer keys named in genesis: the set in force at height 1 (docs/architecture.md, "The sequencer set in force"). */
export function sequencerKeysOf(g: Genesis): SequencerKeys {
  return sequencerKeysFrom(g.sequencers);
}

/** Decodes a published block. Throws InvariantError: an undecodable block on BLOCKS is never skipped. */
export function decodeBlock(bytes: Uint8Array): SealedBlock {
  let block: Block;
  let header: BlockHeader;
  try {
    block = Block.decode(bytes);
    header = BlockHeader.decode(block.header);
  } catch (e) {
    throw new InvariantError(`block does not decode: ${(e as Error).message}`, "MALFORMED_BLOCK");
  }
  return { block, bytes, header, hash: blockHashOf(block.header), leafHashes: block.txs.map(leafHash) };
}

/**
 * Verifies a block against the previous one: chain id, height continuity, previous-hash
 * link, monotonic time and TXS sequences, tx count and root, and the sequencer's signature.
 * For height 0 it must equal the genesis block exactly. Throws InvariantError on any failure.
 */
export function verifyBlock(b: SealedBlock, prev: ChainTip | undefined, genesis: Genesis, sequencers: SequencerKeys): void {
  const h = b.header;
  const fail: (code: string, msg: string) => never = (code, msg) => {
    throw new InvariantError(`block ${h.height}: ${msg}`, code);
  };
  if (h.chainId !== genesis.chainId) fail("WRONG_CHAIN", `chain id ${h.chainId} is not ${genesis.chainId}`);
  if (prev === undefined) {
    // The header hash alone does not cover the txs or the signature: block 0 carries neither.
    if (!bytesEqual(b.hash, genesisBlock(genesis).hash) || b.block.txs.length !== 0 || b.block.signature.byteLength !== 0) {
      fail("GENESIS_MISMATCH", "is not this chain's genesis block");
    }
    return;
  }
  if (h.height !== prev.height + 1n) fail("HEIGHT_GAP", `expected height ${prev.height + 1n}`);
  if (!bytesEqual(h.prevHash, prev.hash)) fail("PREV_HASH_MISMATCH", `prev hash ${toHex(h.prevHash)} is not ${toHex(prev.hash)}`);
  if (h.timestampMs < prev.timestampMs) fail("TIME_REGRESSION", "timestamp goes backwards");
  if (h.txCount !== b.block.txs.length) fail("TX_COUNT_MISMATCH", `header says ${h.txCount} txs, block has ${b.block.txs.length}`);
  if (h.txCount > 0) {
    if (h.firstTxsSeq <= prev.lastTxsSeq || h.lastTxsSeq < h.firstTxsSeq)
      fail("TXS_SEQ_MISMATCH", "TXS sequence range overlaps the previous block");
    // Each TXS message is included at most once, so a block cannot hold more txs than its range.
    if (BigInt(h.txCount) > h.lastTxsSeq - h.firstTxsSeq + 1n)
      fail("TXS_SEQ_MISMATCH", `${h.txCount} txs do not fit TXS sequences ${h.firstTxsSeq}..${h.lastTxsSeq}`);
  } else if (h.lastTxsSeq < prev.lastTxsSeq) {
    fail("TXS_SEQ_MISMATCH", "TXS sequence goes backwards");
  }
  if (!bytesEqual(h.txRoot, merkleRootFromLeafHashes(b.leafHashes))) fail("TX_ROOT_MISMATCH", "tx root does not match the transactions");
  const key = sequencers.get(h.sequencerId);
  if (key === undefined) fail("UNKNOWN_SEQUENCER", `sequencer ${h.sequencerId} is not in the sequencer set`);
  if (!ed25519Verify(key, b.hash, b.block.signature)) fail("BAD_SEQUENCER_SIGNATURE", `signature by ${h.sequencerId} does not verify`);
}

/** The tip a verified block leaves behind. */
export function tipOf(b: SealedBlock): ChainTip {
  return { height: b.header.height, hash: b.hash, timestampMs: b.header.timestampMs, lastTxsSeq: b.header.lastTxsSeq };
}

/** Verifies a whole chain from genesis, in order. Throws InvariantError at the first bad block. */
export function verifyChain(blocks: Iterable<SealedBlock>, genesis: Genesis): ChainTip | undefined {
  const keys = sequencerKeysOf(genesis);
  let tip: ChainTip | undefined;
  for (const b of blocks) {
    verifyBlock(b, tip, genesis, keys);
    tip = tipOf(b);
  }
  return tip;
}
