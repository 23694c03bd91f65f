// What one sequencer instance knows of the sequencer set in force (docs/architecture.md, "The
// sequencer set in force"), without executing the chain: the set a quorum of validators last
// confirmed in their receipts for some height r (in force at r + 1), and which later blocks may
// have changed it (they call the membership contract). The set in force at h is known when no
// block in r+1..h-1 may have changed it. Pure: the caller feeds blocks and confirmations.
import { bytesEqual, toHex, type Genesis, type ReceiptSequencer, type SequencerSetConfirmation } from "@tally/ledger";

/** The set in force at a height, or the lowest height a quorum's confirmation must be at to learn it. */
export type InForce =
  | { readonly known: true; readonly sequencers: readonly ReceiptSequencer[] }
  | { readonly known: false; readonly confirmFrom: bigint; readonly why: string };

/** What this instance has learned, for status and logs. */
export interface ConfirmedSet {
  /** The height whose receipts confirmed the set (0 for genesis's, confirmed by nobody). */
  readonly height: bigint;
  /** The set in force at height + 1. */
  readonly sequencers: readonly ReceiptSequencer[];
  /** The validators who signed it (none for genesis's). */
  readonly signers: readonly string[];
}

/** Most heights remembered as possibly changing the set: past it, the oldest become one "unknown" mark. */
const CHANGES_MAX = 1024;

/** See the file comment. */
export class SetKnowledge {
  private confirmed: ConfirmedSet;
  /** Heights above confirmed.height whose blocks may change the set, with their hash when seen. */
  private readonly changes = new Map<bigint, Uint8Array | undefined>();
  /** Every block at or below this height was examined (or is covered by the confirmation). */
  private examined = 0n;

  constructor(genesis: Genesis) {
    // Block 0 holds no transactions and writes genesis's chain config: genesis's set is in force at 1.
    this.confirmed = {
      height: 0n,
      sequencers: genesis.sequencers.map((s) => ({ id: s.id, publicKey: s.publicKey.toLowerCase() })),
      signers: [],
    };
  }

  /** The latest confirmed set (genesis's until a quorum confirmed a later one). */
  latest(): ConfirmedSet {
    return this.confirmed;
  }

  /** The next height whose block this instance has not examined. */
  nextToExamine(): bigint {
    return this.examined + 1n;
  }

  /**
   * A block seen on BLOCKS (cut by this instance, or read while catching up), in height order
   * from nextToExamine(). mayChange: it calls the membership contract.
   */
  noteBlock(height: bigint, hash: Uint8Array | undefined, mayChange: boolean): void {
    if (height <= this.examined) return;
    if (height !== this.examined + 1n) throw new RangeError(`block ${height} noted before block ${this.examined + 1n}`);
    this.examined = height;
    if (mayChange && height > this.confirmed.height) this.mark(height, hash);
  }

  /** Blocks up to `through` that will not be examined (too many to read): any of them may have changed the set. */
  skipThrough(through: bigint): void {
    if (through <= this.examined) return;
    this.examined = through;
    if (through > this.confirmed.height) this.mark(through, undefined);
  }

  /**
   * A quorum's confirmation of the set in force after height c.height. Taken when it is newer
   * than what is known, and its block is the one this instance saw at that height (when it saw
   * one that may change the set).
   */
  confirm(c: SequencerSetConfirmation): "taken" | "older" | "other-block" {
    if (c.height <= this.confirmed.height) return "older";
    const seen = this.changes.get(c.height);
    if (seen !== undefined && !bytesEqual(seen, c.blockHash)) return "other-block";
    this.confirmed = { height: c.height, sequencers: c.sequencers, signers: c.signers };
    for (const h of [...this.changes.keys()]) if (h <= c.height) this.changes.delete(h);
    if (this.examined < c.height) this.examined = c.height;
    return "taken";
  }

  /** The set in force at height h, or what must be confirmed to learn it. */
  inForceAt(h: bigint): InForce {
    const r = this.confirmed.height;
    if (h <= r) return { known: false, confirmFrom: h - 1n, why: `the last confirmation is for height ${r}, past ${h - 1n}` };
    if (this.examined < h - 1n) return { known: false, confirmFrom: h - 1n, why: `blocks ${this.examined + 1n}..${h - 1n} not examined` };
    let last: bigint | undefined;
    for (const c of this.changes.keys()) if (c < h && (last === undefined || c > last)) last = c;
    if (last === undefined) return { known: true, sequencers: this.confirmed.sequencers };
    return { known: false, confirmFrom: last, why: `block ${last} may have changed the sequencer set` };
  }

  private mark(height: bigint, hash: Uint8Array | undefined): void {
    this.changes.set(height, hash);
    if (this.changes.size <= CHANGES_MAX) return;
    // Bounded: fold the oldest marks into the newest unknown one (any confirmation above it covers them).
    const oldest = [...this.changes.keys()].sort((a, b) => (a < b ? -1 : 1)).slice(0, this.changes.size - CHANGES_MAX);
    for (const h of oldest) this.changes.delete(h);
  }
}

/** Whether `id` with public key `publicKey` (raw) is in the set: same id and same key. */
export function inSet(set: readonly ReceiptSequencer[], id: string, publicKey: Uint8Array): boolean {
  const hex = toHex(publicKey);
  return set.some((s) => s.id === id && s.publicKey === hex);
}
