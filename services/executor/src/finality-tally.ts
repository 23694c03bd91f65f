// Counts validator receipts per height and decides finality. Pure: no I/O, no clock.
import { toHex } from "@tally/ledger";

/** A block is final when more than numerator/denominator of the validators signed the same (block hash, state root). */
export interface Quorum {
  readonly quorumNumerator: number;
  readonly quorumDenominator: number;
}

/** A receipt whose signature has been verified. */
export interface VerifiedReceipt {
  readonly nodeId: string;
  readonly height: bigint;
  readonly blockHash: Uint8Array;
  readonly stateRoot: Uint8Array;
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
}

/** What a quorum agreed on at one height. */
export interface Agreement {
  readonly height: bigint;
  readonly blockHash: Uint8Array;
  readonly stateRoot: Uint8Array;
  /** The validators that signed it, sorted. */
  readonly signers: readonly string[];
}

/** True when `signers` of `validators` is more than the quorum fraction. Integer arithmetic only. */
export function meetsQuorum(signers: number, validators: number, q: Quorum): boolean {
  return BigInt(signers) * BigInt(q.quorumDenominator) > BigInt(q.quorumNumerator) * BigInt(validators);
}

const groupKey = (r: { blockHash: Uint8Array; stateRoot: Uint8Array }): string => `${toHex(r.blockHash)}/${toHex(r.stateRoot)}`;

/** The outcome of adding a receipt at a height that is not final yet. */
export type TallyOutcome =
  | { readonly kind: "pending" }
  /** A validator already signed a receipt at this height: the first one counts. */
  | { readonly kind: "repeat" }
  | { readonly kind: "final"; readonly agreement: Agreement; readonly receipts: readonly VerifiedReceipt[] }
  /**
   * Every validator has reported and no (block hash, state root) reached the quorum: the height
   * can never become final. `largest` is the biggest group, when it is strictly the biggest.
   */
  | { readonly kind: "stuck"; readonly largest: Agreement | undefined; readonly receipts: readonly VerifiedReceipt[] };

/** Receipts of heights not final yet, grouped by what they signed. Bounded by pendingHeightsMax. */
export class FinalityTally {
  private readonly pending = new Map<bigint, Map<string, VerifiedReceipt>>();

  constructor(
    private readonly validators: ReadonlySet<string>,
    private readonly pendingHeightsMax = 100_000,
  ) {}

  get pendingHeights(): number {
    return this.pending.size;
  }

  /** The receipts held for a height that is not final. */
  receiptsAt(height: bigint): readonly VerifiedReceipt[] {
    return [...(this.pending.get(height)?.values() ?? [])];
  }

  /** Adds a verified receipt from a validator. Receipts of non-validators are never counted. */
  add(r: VerifiedReceipt, q: Quorum): TallyOutcome {
    if (!this.validators.has(r.nodeId)) return { kind: "pending" };
    let at = this.pending.get(r.height);
    if (at === undefined) {
      if (this.pending.size >= this.pendingHeightsMax) {
        // Bounded memory: drop the lowest pending height (its receipts stay stored; a restart reloads them).
        const lowest = [...this.pending.keys()].reduce((a, b) => (a < b ? a : b));
        this.pending.delete(lowest);
      }
      this.pending.set(r.height, (at = new Map()));
    }
    if (at.has(r.nodeId)) return { kind: "repeat" };
    at.set(r.nodeId, r);
    const groups = new Map<string, VerifiedReceipt[]>();
    for (const x of at.values()) {
      const k = groupKey(x);
      const g = groups.get(k);
      if (g === undefined) groups.set(k, [x]);
      else g.push(x);
    }
    const agreement = (g: readonly VerifiedReceipt[]): Agreement => ({
      height: r.height,
      blockHash: g[0]!.blockHash,
      stateRoot: g[0]!.stateRoot,
      signers: g.map((x) => x.nodeId).sort(),
    });
    const mine = groups.get(groupKey(r))!;
    if (meetsQuorum(mine.length, this.validators.size, q)) {
      const receipts = [...at.values()];
      this.pending.delete(r.height);
      return { kind: "final", agreement: agreement(mine), receipts };
    }
    if (at.size === this.validators.size) {
      const sorted = [...groups.values()].sort((a, b) => b.length - a.length);
      const largest = sorted.length === 1 || sorted[0]!.length > sorted[1]!.length ? agreement(sorted[0]!) : undefined;
      const receipts = [...at.values()];
      this.pending.delete(r.height);
      return { kind: "stuck", largest, receipts };
    }
    return { kind: "pending" };
  }
}
