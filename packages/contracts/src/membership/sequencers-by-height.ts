// The sequencer set in force, height by height, for everything that judges a block's signer: the
// executor and `tally audit` (from membership state after each block), the regulator feed's
// VerifyChain and the chaos audit (from the chain-config events a node recorded). One rule,
// sequencersInForce; these are its two ways in. Pure.
import { decodeSignedTx, InvariantError, sequencerKeysFrom, type Genesis, type JsonValue, type SequencerKeys } from "@tally/ledger";
import { CHAIN_CONFIG_KEY, sequencersInForce } from "./chain-config.js";
import { MEMBERSHIP_CONTRACT } from "./institution-entry.js";
import { evolveMembership } from "./membership-evolve.js";

/**
 * The keys of the sequencers in force given the chain-config value membership state holds after
 * the previous block (undefined before block 0 wrote one: genesis's). Recomputed only when the
 * value changes (compared by identity), so a verifier may call it for every block.
 */
export function sequencerKeysInForce(genesis: Genesis): (chainConfig: JsonValue | undefined) => SequencerKeys {
  let last: { readonly config: JsonValue | undefined; readonly keys: SequencerKeys } | undefined;
  return (config) => {
    if (last === undefined || last.config !== config) last = { config, keys: sequencerKeysFrom(sequencersInForce(config, genesis)) };
    return last.keys;
  };
}

/** One event as a node recorded it (its `events` table), with the height of its block. */
export interface RecordedEvent {
  readonly height: bigint;
  readonly contract: string;
  readonly type: string;
  readonly assetId: string;
  readonly data: JsonValue;
}

/** Whether a recorded event changes the chain config: membership's events about `chain-config`. */
export function changesChainConfig(e: { readonly contract: string; readonly assetId: string }): boolean {
  return e.contract === MEMBERSHIP_CONTRACT && e.assetId === CHAIN_CONFIG_KEY;
}

/**
 * The sequencer set in force at each height, followed from a chain's recorded chain-config events
 * (changesChainConfig; others are ignored) in commit order: the set at h is the chain config after
 * folding the events of every height below h with membership's own evolve. For verifiers that
 * read what a node recorded instead of executing the chain. A malformed event throws
 * InvariantError, as it would in membership.
 */
export class SequencersByHeight {
  private config: JsonValue | undefined;
  private next = 0;
  private lastHeight = -1n;
  private readonly keysOf: (config: JsonValue | undefined) => SequencerKeys;
  private readonly events: readonly RecordedEvent[];

  /** events: in commit order (height, tx index, event index). */
  constructor(genesis: Genesis, events: readonly RecordedEvent[]) {
    this.keysOf = sequencerKeysInForce(genesis);
    this.events = events.filter(changesChainConfig);
  }

  /** The keys in force at height h. Heights must not decrease from one call to the next. */
  keysAt(h: bigint): SequencerKeys {
    if (h < this.lastHeight) throw new RangeError(`SequencersByHeight: height ${h} after ${this.lastHeight}`);
    this.lastHeight = h;
    while (this.next < this.events.length && this.events[this.next]!.height < h) {
      const e = this.events[this.next++]!;
      const state = new Map<string, JsonValue>(this.config === undefined ? [] : [[CHAIN_CONFIG_KEY, this.config]]);
      if (typeof e.data !== "object" || e.data === null || Array.isArray(e.data))
        throw new InvariantError(`membership ${e.type} at height ${e.height}: data is not an object`, "CONTRACT_STATE");
      const changed = evolveMembership(state, { type: e.type, assetId: e.assetId, parties: [], data: e.data }).get(CHAIN_CONFIG_KEY);
      if (changed !== undefined && changed !== null) this.config = changed;
    }
    return this.keysOf(this.config);
  }
}

/**
 * Whether a block's transactions may change the chain config, read without executing them: one
 * of them calls the membership contract (governance's only way to change the sequencer set). A
 * transaction that does not decode cannot change anything (every executor rejects it). A cheap
 * byte search skips the decoding of the rest, so a sequencer can ask this of every block it cuts.
 */
export function touchesMembership(txs: readonly Uint8Array[]): boolean {
  for (const raw of txs) {
    const b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    if (b.indexOf(MEMBERSHIP_NEEDLE) < 0) continue;
    const d = decodeSignedTx(raw);
    if (d.ok && d.tx.body.contract === MEMBERSHIP_CONTRACT) return true;
  }
  return false;
}

const MEMBERSHIP_NEEDLE = Buffer.from(MEMBERSHIP_CONTRACT);
