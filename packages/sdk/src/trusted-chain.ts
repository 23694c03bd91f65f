// What a client checks itself, trusting nothing but its genesis file: that a block header was
// signed by a sequencer genesis names, that a transaction is in a block under that header's tx
// root, and that two headers it has seen lie on one chain. A gateway or blockstore that lies
// fails one of these with a ProofError naming what is wrong.
import { status } from "@grpc/grpc-js";
import { BlockHeader, SignedTx } from "@tally/proto/types";
import {
  blockHashOf,
  bytesEqual,
  ed25519Verify,
  genesisBlock,
  leafHash,
  sequencerKeysOf,
  sha256,
  toHex,
  verifyInclusion,
  type Genesis,
  type SequencerKeys,
} from "@tally/ledger";
import { TallyError } from "./tally-error.js";

/** Why a proof was rejected: the reason codes a ProofError carries. */
export type ProofReason =
  | "PROOF_MALFORMED_HEADER"
  | "PROOF_WRONG_CHAIN"
  | "PROOF_NOT_GENESIS"
  | "PROOF_UNKNOWN_SEQUENCER"
  | "PROOF_BAD_SIGNATURE"
  | "PROOF_HEIGHT_MISMATCH"
  | "PROOF_TREE_SIZE_MISMATCH"
  | "PROOF_BAD_PATH"
  | "PROOF_WRONG_TX"
  | "PROOF_FORK"
  | "PROOF_BROKEN_LINK"
  | "PROOF_RANGE"
  | "PROOF_NOT_REGISTRATION"
  | "PROOF_BAD_TX_SIGNATURE"
  | "PROOF_CLAIM_MISMATCH"
  | "PROOF_MALFORMED_RECEIPT";

/** A proof the client refused. Its gRPC-style code is DATA_LOSS: what the server sent is not the chain. */
export class ProofError extends TallyError {
  constructor(reason: ProofReason, message: string) {
    super(status.DATA_LOSS, reason, `${reason}: ${message}`);
  }
}

/** An inclusion proof as the blockstore serves it (GetInclusionProofResponse). */
export interface InclusionProof {
  readonly height: bigint;
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly path: readonly Uint8Array[];
  readonly signedTx: Uint8Array;
  readonly header: Uint8Array;
  readonly headerSignature: Uint8Array;
}

/** A block header's exact bytes and the sequencer's signature over their sha256. */
export interface SignedHeader {
  readonly header: Uint8Array;
  readonly signature: Uint8Array;
}

/** A header the client has checked: decoded, with its hash. */
export interface VerifiedHeader {
  readonly height: bigint;
  readonly hash: Uint8Array;
  readonly header: BlockHeader;
}

/** Most heights one consistency check walks: it reads every header between the two. */
export const CONSISTENCY_HEIGHTS_MAX = 100_000;

/** Most headers a TrustedChain remembers as seen; the oldest remembered is forgotten first. */
export const SEEN_HEADERS_MAX = 10_000;

/**
 * The chain as one client trusts it: its genesis (chain id, genesis block, sequencer keys) and
 * the headers it has verified so far. Sequencer keys come from genesis only: on-chain
 * add-sequencer proposals are recorded in chain-config but not yet read by verifiers (issue 8).
 */
export class TrustedChain {
  readonly chainId: string;
  private readonly sequencers: SequencerKeys;
  private readonly genesisHash: Uint8Array;
  private readonly seen = new Map<bigint, VerifiedHeader>();

  constructor(genesis: Genesis) {
    this.chainId = genesis.chainId;
    this.sequencers = sequencerKeysOf(genesis);
    this.genesisHash = genesisBlock(genesis).hash;
  }

  /**
   * Checks one header: it decodes, names this chain, and is signed by a sequencer of genesis
   * (height 0: is this chain's genesis block). Remembers it as seen; a second, different header
   * at a height already seen is a fork (PROOF_FORK).
   */
  verifyHeader(h: SignedHeader): VerifiedHeader {
    const v = this.checkHeader(h);
    this.remember(v);
    return v;
  }

  // Checks a header without remembering it: a caller remembers it once every other check passed.
  private checkHeader(h: SignedHeader): VerifiedHeader {
    let header: BlockHeader;
    try {
      header = BlockHeader.decode(h.header);
    } catch (e) {
      throw new ProofError("PROOF_MALFORMED_HEADER", `the header does not decode: ${(e as Error).message}`);
    }
    if (header.chainId !== this.chainId)
      throw new ProofError("PROOF_WRONG_CHAIN", `the header is of chain ${header.chainId}, not ${this.chainId}`);
    const hash = blockHashOf(h.header);
    if (header.height === 0n) {
      if (!bytesEqual(hash, this.genesisHash))
        throw new ProofError("PROOF_NOT_GENESIS", "the header at height 0 is not this chain's genesis block");
    } else {
      const key = this.sequencers.get(header.sequencerId);
      if (key === undefined)
        throw new ProofError(
          "PROOF_UNKNOWN_SEQUENCER",
          `block ${header.height} is signed by ${header.sequencerId}, not a sequencer of genesis`,
        );
      if (!ed25519Verify(key, hash, h.signature))
        throw new ProofError("PROOF_BAD_SIGNATURE", `the signature on block ${header.height} by ${header.sequencerId} does not verify`);
    }
    return { height: header.height, hash, header };
  }

  /**
   * Checks an inclusion proof end to end: the header (verifyHeader), the proof's height and tree
   * size against it, the RFC 6962 path from the transaction's leaf to the header's tx root, and
   * that the proven transaction is the one expected. Returns the verified header.
   */
  verifyInclusion(p: InclusionProof, expectedTxId: Uint8Array): VerifiedHeader {
    const v = this.checkHeader({ header: p.header, signature: p.headerSignature });
    if (v.height !== p.height) throw new ProofError("PROOF_HEIGHT_MISMATCH", `the proof says height ${p.height}, its header ${v.height}`);
    if (p.treeSize !== v.header.txCount)
      throw new ProofError(
        "PROOF_TREE_SIZE_MISMATCH",
        `the proof's tree has ${p.treeSize} leaves, block ${v.height} has ${v.header.txCount} txs`,
      );
    if (!verifyInclusion(leafHash(p.signedTx), p.leafIndex, p.treeSize, p.path, v.header.txRoot))
      throw new ProofError("PROOF_BAD_PATH", `the Merkle path of leaf ${p.leafIndex} does not lead to the tx root of block ${v.height}`);
    const body = bodyOf(p.signedTx);
    if (body === undefined || !bytesEqual(sha256(body), expectedTxId))
      throw new ProofError("PROOF_WRONG_TX", `the proven leaf is not transaction ${toHex(expectedTxId)}`);
    this.remember(v);
    return v;
  }

  /**
   * Checks that `to` extends `from`: `headers` are exactly heights from+1..to, each signed by a
   * genesis sequencer, each naming the previous one's hash, with time and TXS sequence never going
   * backwards, the last being `to`. Both ends must have been verified before (a header the client
   * saw, e.g. in an inclusion proof). Headers may come from a stream: they are checked one by one.
   */
  async verifyConsistency(
    from: VerifiedHeader,
    to: VerifiedHeader,
    headers: Iterable<SignedHeader> | AsyncIterable<SignedHeader>,
  ): Promise<void> {
    const check = this.consistencyCheck(from, to);
    for await (const h of headers) check.push(h);
    check.finish();
  }

  /** The incremental form of verifyConsistency: push each header in order, then finish. */
  consistencyCheck(from: VerifiedHeader, to: VerifiedHeader): { push(h: SignedHeader): void; finish(): void } {
    if (to.height < from.height) throw new ProofError("PROOF_RANGE", `height ${to.height} is below ${from.height}`);
    if (to.height - from.height > BigInt(CONSISTENCY_HEIGHTS_MAX))
      throw new ProofError("PROOF_RANGE", `${to.height - from.height} heights apart; check at most ${CONSISTENCY_HEIGHTS_MAX} at once`);
    if (from.height === to.height && !bytesEqual(from.hash, to.hash))
      throw new ProofError("PROOF_FORK", `two different blocks at height ${from.height}`);
    let prev = from;
    return {
      push: (h) => {
        if (prev.height >= to.height) throw new ProofError("PROOF_RANGE", `a header past height ${to.height}`);
        const v = this.checkHeader(h);
        if (v.height !== prev.height + 1n) throw new ProofError("PROOF_RANGE", `expected height ${prev.height + 1n}, got ${v.height}`);
        if (!bytesEqual(v.header.prevHash, prev.hash))
          throw new ProofError("PROOF_BROKEN_LINK", `block ${v.height} does not name block ${prev.height}'s hash ${toHex(prev.hash)}`);
        if (v.header.timestampMs < prev.header.timestampMs)
          throw new ProofError("PROOF_BROKEN_LINK", `block ${v.height}'s time goes back from block ${prev.height}'s`);
        if (v.header.lastTxsSeq < prev.header.lastTxsSeq)
          throw new ProofError("PROOF_BROKEN_LINK", `block ${v.height}'s TXS sequence goes back from block ${prev.height}'s`);
        this.remember(v);
        prev = v;
      },
      finish: () => {
        if (prev.height !== to.height)
          throw new ProofError("PROOF_RANGE", `the headers stop at height ${prev.height}, before ${to.height}`);
        if (!bytesEqual(prev.hash, to.hash))
          throw new ProofError("PROOF_FORK", `the chain from ${from.height} reaches a different block ${to.height}`);
      },
    };
  }

  /** The header verified at a height, if the client has seen one. */
  seenAt(height: bigint): VerifiedHeader | undefined {
    return this.seen.get(height);
  }

  private remember(v: VerifiedHeader): void {
    const known = this.seen.get(v.height);
    if (known !== undefined) {
      if (!bytesEqual(known.hash, v.hash))
        throw new ProofError("PROOF_FORK", `block ${v.height} is ${toHex(v.hash)}, but ${toHex(known.hash)} was seen before`);
      return;
    }
    if (this.seen.size >= SEEN_HEADERS_MAX) {
      const oldest = this.seen.keys().next();
      if (oldest.done !== true) this.seen.delete(oldest.value);
    }
    this.seen.set(v.height, v);
  }
}

function bodyOf(raw: Uint8Array): Uint8Array | undefined {
  try {
    const body = SignedTx.decode(raw).body;
    return body.byteLength > 0 ? body : undefined;
  } catch {
    return undefined;
  }
}
