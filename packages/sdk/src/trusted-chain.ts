// What a client checks itself, trusting nothing but its genesis file: that a block header was
// signed by a sequencer in the set in force at its height (genesis's, then as governance changed
// it, learned from a quorum of genesis's validators' receipts), that a transaction is in a block
// under that header's tx root, and that two headers it has seen lie on one chain. A gateway or
// blockstore that lies fails one of these with a ProofError naming what is wrong.
import { status } from "@grpc/grpc-js";
import { BlockHeader, SignedTx } from "@tally/proto/types";
import {
  blockHashOf,
  bytesEqual,
  ed25519Verify,
  fromHex,
  genesisBlock,
  leafHash,
  sequencerKeysFrom,
  sequencerSetFromReceipts,
  sha256,
  toHex,
  verifyInclusion,
  type Genesis,
  type ReceiptSequencer,
  type ReceiptTrust,
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
  | "PROOF_MALFORMED_RECEIPT"
  | "PROOF_NO_RECEIPT_QUORUM";

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

/** Most sequencer sets a TrustedChain holds (one per governance change it was shown). */
export const SEQUENCER_SETS_MAX = 1000;

/** A sequencer set the client accepted, in force from a height on (until the next one it accepted). */
export interface AcceptedSequencerSet {
  readonly fromHeight: bigint;
  readonly sequencers: readonly ReceiptSequencer[];
  /** The validators whose receipts vouched for it (none for genesis's). */
  readonly signers: readonly string[];
}

interface HeldSet extends AcceptedSequencerSet {
  readonly keys: SequencerKeys;
}

/**
 * The chain as one client trusts it: its genesis (chain id, genesis block, validators and quorum)
 * and the headers it has verified so far. A header at height h is judged by the sequencer set
 * the client holds for h: genesis's, or the latest one it accepted from validators' receipts
 * (acceptSequencerSet) at or below h. It is exact at h when the client was shown the receipts of
 * h − 1, or of any height after the last change before h; shown none, a client keeps judging by
 * the last set it learned, so it refuses a voted-in sequencer's blocks (PROOF_UNKNOWN_SEQUENCER)
 * until it is shown the receipts that added it.
 */
export class TrustedChain {
  readonly chainId: string;
  private readonly sets: HeldSet[];
  private readonly trust: ReceiptTrust;
  private readonly genesisHash: Uint8Array;
  private readonly seen = new Map<bigint, VerifiedHeader>();

  constructor(genesis: Genesis) {
    this.chainId = genesis.chainId;
    const sequencers = genesis.sequencers.map((s) => ({ id: s.id, publicKey: s.publicKey.toLowerCase() }));
    this.sets = [{ fromHeight: 1n, sequencers, signers: [], keys: sequencerKeysFrom(sequencers) }];
    this.trust = {
      chainId: genesis.chainId,
      validators: new Map(genesis.validators.map((v) => [v.nodeId, fromHex(v.publicKey)])),
      quorum: genesis.finality,
    };
    this.genesisHash = genesisBlock(genesis).hash;
  }

  /**
   * Follows governance: accepts the sequencer set in force from height + 1 as the validators'
   * receipts for `height` state it (each receipt carries the set in force at the next height),
   * when more than genesis's finality quorum of genesis's validators signed the same block and
   * set. Receipts of other heights or chains, of unknown validators, with bad signatures or
   * tampered are refused and do not count; too few left is PROOF_NO_RECEIPT_QUORUM. A block at
   * `height` the client saw with another hash, or another set accepted for the same height, is
   * PROOF_FORK. Returns the set accepted.
   */
  acceptSequencerSet(height: bigint, receipts: Iterable<Uint8Array>): AcceptedSequencerSet {
    const r = sequencerSetFromReceipts(receipts, this.trust, height);
    if (!r.ok) throw new ProofError("PROOF_NO_RECEIPT_QUORUM", r.message);
    const c = r.confirmation;
    const seen = this.seen.get(height);
    if (seen !== undefined && !bytesEqual(seen.hash, c.blockHash))
      throw new ProofError(
        "PROOF_FORK",
        `the validators signed block ${toHex(c.blockHash)} at height ${height}, but ${toHex(seen.hash)} was seen`,
      );
    const fromHeight = height + 1n;
    const same = this.sets.find((s) => s.fromHeight === fromHeight);
    const key = (x: readonly ReceiptSequencer[]): string => x.map((s) => `${s.id}:${s.publicKey}`).join(",");
    if (same !== undefined) {
      if (key(same.sequencers) !== key(c.sequencers))
        throw new ProofError("PROOF_FORK", `two sequencer sets in force from height ${fromHeight}, both signed by a quorum`);
      return same;
    }
    const held: HeldSet = { fromHeight, sequencers: c.sequencers, signers: c.signers, keys: sequencerKeysFrom(c.sequencers) };
    this.sets.push(held);
    this.sets.sort((a, b) => (a.fromHeight < b.fromHeight ? -1 : a.fromHeight > b.fromHeight ? 1 : 0));
    // Bounded: forget the oldest learned sets (genesis's stays), judging their heights by genesis's.
    if (this.sets.length > SEQUENCER_SETS_MAX) this.sets.splice(1, 1);
    return held;
  }

  /** The sequencer set the client judges a header at `height` by. */
  sequencerSetAt(height: bigint): AcceptedSequencerSet {
    return this.heldAt(height);
  }

  private heldAt(height: bigint): HeldSet {
    let held = this.sets[0]!;
    for (const s of this.sets) if (s.fromHeight <= height) held = s;
    return held;
  }

  /**
   * Checks one header: it decodes, names this chain, and is signed by a sequencer in the set the
   * client holds for its height (height 0: is this chain's genesis block). Remembers it as seen; a second, different header
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
      const set = this.heldAt(header.height);
      const key = set.keys.get(header.sequencerId);
      if (key === undefined)
        throw new ProofError(
          "PROOF_UNKNOWN_SEQUENCER",
          `block ${header.height} is signed by ${header.sequencerId}, not a sequencer in force at that height (${set.sequencers.map((s) => s.id).join(", ")}, from height ${set.fromHeight})`,
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
   * sequencer in force at its height, each naming the previous one's hash, with time and TXS sequence never going
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
