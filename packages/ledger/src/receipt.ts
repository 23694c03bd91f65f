// Execution receipts as a verifier reads them: a validator's signed claim about one height (block
// hash, state root) and the sequencer set in force at the next height. A sequencer or a client
// that does not execute the chain learns governance's changes to the sequencer set from a quorum
// of validators signing the same claim (docs/architecture.md, "The sequencer set in force"). Pure.
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { Receipt, ReceiptBody, SequencerKey, TxOutcome, type TxResult } from "@tally/proto/types";
import { bytesEqual, fromHex, toHex } from "./bytes.js";
import { ed25519Sign, ed25519Verify, type SigningKey } from "./ed25519.js";

/** A sequencer as a receipt lists it: its id and raw Ed25519 public key as lowercase hex (the chain config's spelling). */
export interface ReceiptSequencer {
  readonly id: string;
  readonly publicKey: string;
}

/** What a receipt says about one transaction. */
export interface ReceiptResult {
  readonly txIndex: number;
  readonly txId: Uint8Array;
  readonly committed: boolean;
  readonly reasonCode: string;
  readonly message: string;
}

/** What a validator signs after applying a block. */
export interface ReceiptDraft {
  readonly chainId: string;
  readonly nodeId: string;
  readonly height: bigint;
  readonly blockHash: Uint8Array;
  readonly stateRoot: Uint8Array;
  readonly results: readonly ReceiptResult[];
  /** The sequencer set in force at height + 1 (the chain config after this block), in chain-config order. */
  readonly nextSequencers: readonly ReceiptSequencer[];
}

/** Encodes and signs an execution receipt: the encoded Receipt {body, Ed25519 signature over the exact body bytes}. */
export function signReceipt(r: ReceiptDraft, key: SigningKey): Uint8Array {
  const results: TxResult[] = r.results.map((x) => ({
    index: x.txIndex,
    txId: x.txId,
    outcome: x.committed ? TxOutcome.TX_OUTCOME_COMMITTED : TxOutcome.TX_OUTCOME_REJECTED,
    reasonCode: x.reasonCode,
    message: x.message,
  }));
  const body = ReceiptBody.encode({
    chainId: r.chainId,
    nodeId: r.nodeId,
    height: r.height,
    blockHash: r.blockHash,
    stateRoot: r.stateRoot,
    results,
    nextSequencers: r.nextSequencers.map((s) => ({ id: s.id, publicKey: fromHex(s.publicKey) })),
  }).finish();
  return Receipt.encode({ body, signature: ed25519Sign(key, body) }).finish();
}

/** What one receipt claims, with the exact signed bytes. Read by readReceiptClaim; not verified until verifyReceiptClaim. */
export interface ReceiptClaim {
  readonly nodeId: string;
  readonly height: bigint;
  readonly blockHash: Uint8Array;
  readonly stateRoot: Uint8Array;
  /** The sequencer set in force at height + 1, in chain-config order; empty in a receipt of an older executor. */
  readonly nextSequencers: readonly ReceiptSequencer[];
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
}

/** Why a receipt was not counted. */
export type ReceiptRefusal = "malformed" | "wrong-chain" | "unknown-validator" | "bad-signature" | "wrong-height" | "no-sequencer-set";

/** A finality quorum: strictly more than quorumNumerator/quorumDenominator of the validators. */
export interface ReceiptQuorum {
  readonly quorumNumerator: number;
  readonly quorumDenominator: number;
}

/** Whether `signers` of `validators` are strictly more than the quorum fraction (3 of 4 and 3 of 3 at 2/3; 2 of 3 is not). */
export function isQuorum(signers: number, validators: number, q: ReceiptQuorum): boolean {
  return validators > 0 && BigInt(signers) * BigInt(q.quorumDenominator) > BigInt(q.quorumNumerator) * BigInt(validators);
}

/**
 * Reads a receipt's claim. The per-transaction results (field 6, most of a receipt's bytes) are
 * skipped, not decoded: a sequencer reads every validator's receipt of every block. The
 * signature is not checked here (verifyReceiptClaim), so that only the receipts that count pay
 * for it.
 */
export function readReceiptClaim(
  bytes: Uint8Array,
  chainId: string,
): { ok: true; claim: ReceiptClaim } | { ok: false; reason: ReceiptRefusal } {
  try {
    const r = Receipt.decode(bytes);
    const reader = new BinaryReader(r.body);
    let chain = "";
    let nodeId = "";
    let height = 0n;
    let blockHash: Uint8Array = new Uint8Array(0);
    let stateRoot: Uint8Array = new Uint8Array(0);
    const nextSequencers: ReceiptSequencer[] = [];
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      const wire = tag & 7;
      switch (tag >>> 3) {
        case 1:
          if (wire !== 2) return { ok: false, reason: "malformed" };
          chain = reader.string();
          break;
        case 2:
          if (wire !== 2) return { ok: false, reason: "malformed" };
          nodeId = reader.string();
          break;
        case 3:
          if (wire !== 0) return { ok: false, reason: "malformed" };
          height = reader.uint64() as unknown as bigint;
          break;
        case 4:
          if (wire !== 2) return { ok: false, reason: "malformed" };
          blockHash = reader.bytes();
          break;
        case 5:
          if (wire !== 2) return { ok: false, reason: "malformed" };
          stateRoot = reader.bytes();
          break;
        case 7: {
          if (wire !== 2) return { ok: false, reason: "malformed" };
          const s = SequencerKey.decode(reader, reader.uint32());
          if (s.id === "" || s.publicKey.byteLength !== 32) return { ok: false, reason: "malformed" };
          nextSequencers.push({ id: s.id, publicKey: toHex(s.publicKey) });
          break;
        }
        default:
          if (wire === 4 || tag === 0) return { ok: false, reason: "malformed" };
          reader.skip(wire);
      }
    }
    if (chain !== chainId) return { ok: false, reason: "wrong-chain" };
    if (nodeId === "" || blockHash.byteLength !== 32) return { ok: false, reason: "malformed" };
    return {
      ok: true,
      claim: { nodeId, height: BigInt(height), blockHash, stateRoot, nextSequencers, body: r.body, signature: r.signature },
    };
  } catch {
    return { ok: false, reason: "malformed" };
  }
}

/** Whether the claim is signed by the validator it names, with that validator's key in `validators`. */
export function verifyReceiptClaim(c: ReceiptClaim, validators: ReadonlyMap<string, Uint8Array>): boolean {
  const key = validators.get(c.nodeId);
  return key !== undefined && ed25519Verify(key, c.body, c.signature);
}

/** What more than a quorum of validators signed about one height: its block, and the sequencer set in force at the next height. */
export interface SequencerSetConfirmation {
  readonly height: bigint;
  readonly blockHash: Uint8Array;
  /** The set in force at height + 1. */
  readonly sequencers: readonly ReceiptSequencer[];
  /** The validators whose verified receipts agree, sorted. */
  readonly signers: readonly string[];
}

/** Who a verifier trusts to report the sequencer set: the validators (node id → public key) and the quorum. */
export interface ReceiptTrust {
  readonly chainId: string;
  readonly validators: ReadonlyMap<string, Uint8Array>;
  readonly quorum: ReceiptQuorum;
}

interface Held {
  readonly claim: ReceiptClaim;
  verified: boolean;
}

/** The key of what validators must agree on: the block and the set, in order. */
function agreementKey(c: ReceiptClaim): string {
  return `${toHex(c.blockHash)}|${c.nextSequencers.map((s) => `${s.id}:${s.publicKey}`).join(",")}`;
}

/** Most distinct claims kept per validator and height: a forged receipt seen first cannot crowd out the real one. */
const CLAIMS_PER_VALIDATOR_MAX = 2;

/**
 * Counts receipts height by height until more than a quorum of the trusted validators agree on
 * one height's block and next sequencer set. Receipts are added unverified; a group's signatures
 * are checked only when it has enough receipts to count (confirm), and a receipt whose signature
 * fails is dropped. Receipts that cannot count are refused at add: malformed, another chain's,
 * an unknown validator's, or without a sequencer set. Bounded: at most heightsMax heights, the
 * lowest forgotten first, and heights at or below forgetThrough's are dropped.
 */
export class SequencerSetTally {
  private readonly heights = new Map<bigint, Map<string, Held[]>>();
  private floor = -1n;
  /** Receipts refused since construction, by reason. */
  readonly refused = new Map<ReceiptRefusal, number>();

  constructor(
    private readonly trust: ReceiptTrust,
    private readonly heightsMax = 1024,
  ) {}

  /** Adds one encoded Receipt; returns "ok", "old" (at or below the floor) or why it was refused. */
  add(bytes: Uint8Array): "ok" | "old" | ReceiptRefusal {
    const r = readReceiptClaim(bytes, this.trust.chainId);
    if (!r.ok) return this.refuse(r.reason);
    return this.addClaim(r.claim);
  }

  /** Adds a claim already read. */
  addClaim(c: ReceiptClaim): "ok" | "old" | ReceiptRefusal {
    if (!this.trust.validators.has(c.nodeId)) return this.refuse("unknown-validator");
    if (c.nextSequencers.length === 0) return this.refuse("no-sequencer-set");
    if (c.height <= this.floor) return "old";
    let byNode = this.heights.get(c.height);
    if (byNode === undefined) {
      byNode = new Map();
      this.heights.set(c.height, byNode);
      if (this.heights.size > this.heightsMax) this.heights.delete(this.lowest()!);
      if (!this.heights.has(c.height)) return "old";
    }
    const held = byNode.get(c.nodeId) ?? [];
    // The same receipt again (read twice): signatures first, the cheap comparison.
    if (held.some((h) => bytesEqual(h.claim.signature, c.signature) && bytesEqual(h.claim.body, c.body))) return "ok";
    if (held.length >= CLAIMS_PER_VALIDATOR_MAX) return "ok";
    held.push({ claim: c, verified: false });
    byNode.set(c.nodeId, held);
    return "ok";
  }

  /** The highest height with receipts held, if any. */
  highest(): bigint | undefined {
    let best: bigint | undefined;
    for (const h of this.heights.keys()) if (best === undefined || h > best) best = h;
    return best;
  }

  /** Drops every height at or below h: nothing there can matter any more. */
  forgetThrough(h: bigint): void {
    if (h > this.floor) this.floor = h;
    for (const k of [...this.heights.keys()]) if (k <= h) this.heights.delete(k);
  }

  /**
   * The highest height in [min, max] (both optional) at which more than a quorum of the trusted
   * validators signed the same block and sequencer set, checking the signatures of the groups
   * that have enough receipts to count. Undefined when no height has such a quorum (yet).
   */
  confirm(range: { readonly min?: bigint; readonly max?: bigint } = {}): SequencerSetConfirmation | undefined {
    const candidates = [...this.heights.keys()]
      .filter((h) => (range.min === undefined || h >= range.min) && (range.max === undefined || h <= range.max))
      .sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
    for (const h of candidates) {
      const c = this.confirmAt(h);
      if (c !== undefined) return c;
    }
    return undefined;
  }

  private confirmAt(h: bigint): SequencerSetConfirmation | undefined {
    const byNode = this.heights.get(h);
    if (byNode === undefined) return undefined;
    // Per agreement, each validator's claims of it (at most CLAIMS_PER_VALIDATOR_MAX).
    const groups = new Map<string, Map<string, Held[]>>();
    for (const [node, held] of byNode)
      for (const x of held) {
        const k = agreementKey(x.claim);
        const g = groups.get(k) ?? new Map<string, Held[]>();
        g.set(node, [...(g.get(node) ?? []), x]);
        groups.set(k, g);
      }
    const n = this.trust.validators.size;
    for (const g of groups.values()) {
      if (!isQuorum(g.size, n, this.trust.quorum)) continue;
      const signed: Held[] = [];
      for (const [node, claims] of g) {
        const ok = claims.find((x) => x.verified || this.verify(byNode, node, x));
        if (ok !== undefined) signed.push(ok);
      }
      if (!isQuorum(signed.length, n, this.trust.quorum)) continue;
      const first = signed[0]!.claim;
      return { height: h, blockHash: first.blockHash, sequencers: first.nextSequencers, signers: signed.map((x) => x.claim.nodeId).sort() };
    }
    return undefined;
  }

  /** Checks a held claim's signature once: verified, or dropped and counted as refused. */
  private verify(byNode: Map<string, Held[]>, node: string, x: Held): boolean {
    if (verifyReceiptClaim(x.claim, this.trust.validators)) {
      x.verified = true;
      return true;
    }
    this.refuse("bad-signature");
    const held = (byNode.get(node) ?? []).filter((y) => y !== x);
    if (held.length === 0) byNode.delete(node);
    else byNode.set(node, held);
    return false;
  }

  private lowest(): bigint | undefined {
    let low: bigint | undefined;
    for (const h of this.heights.keys()) if (low === undefined || h < low) low = h;
    return low;
  }

  private refuse(reason: ReceiptRefusal): ReceiptRefusal {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
    return reason;
  }
}

/**
 * The sequencer set in force at height + 1 as more than a quorum of the trusted validators
 * signed it in their receipts for `height`. Receipts for other heights, of other chains, of
 * unknown validators, with bad signatures or without a set are refused and do not count; when
 * the rest are not a quorum for one block and set, the answer says so.
 */
export function sequencerSetFromReceipts(
  receipts: Iterable<Uint8Array>,
  trust: ReceiptTrust,
  height: bigint,
): { ok: true; confirmation: SequencerSetConfirmation } | { ok: false; refused: ReadonlyMap<ReceiptRefusal, number>; message: string } {
  const tally = new SequencerSetTally(trust, 1);
  let wrongHeight = 0;
  let count = 0;
  for (const bytes of receipts) {
    count++;
    const r = readReceiptClaim(bytes, trust.chainId);
    if (r.ok && r.claim.height !== height) {
      wrongHeight++;
      continue;
    }
    if (r.ok) tally.addClaim(r.claim);
    else tally.add(bytes);
  }
  const confirmation = tally.confirm({ min: height, max: height });
  if (confirmation !== undefined) return { ok: true, confirmation };
  const refused = new Map(tally.refused);
  if (wrongHeight > 0) refused.set("wrong-height", wrongHeight);
  const why = [...refused].map(([k, v]) => `${v} ${k}`).join(", ");
  return {
    ok: false,
    refused,
    message: `${count} receipts for height ${height} are not more than ${trust.quorum.quorumNumerator}/${trust.quorum.quorumDenominator} of ${trust.validators.size} validators agreeing on one block and sequencer set${why === "" ? "" : ` (refused: ${why})`}`,
  };
}
