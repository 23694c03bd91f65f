import { canonicalJson } from "./canonical-json.js";
import { sha256 } from "./hash.js";
import { merkleRoot } from "./merkle.js";

/** What goes into the events root for one event: its position, origin and content. */
export interface EventLeaf {
  readonly txIndex: number;
  readonly eventIndex: number;
  readonly contract: string;
  readonly type: string;
  readonly data: unknown;
}

/** The outcome of one transaction as it enters the events root. */
export interface ResultLeaf {
  readonly txIndex: number;
  readonly committed: boolean;
  readonly reasonCode: string;
}

/**
 * RFC 6962 root over a block's effects: each transaction's outcome, then its events, in
 * order, as canonical JSON. Outcomes are included so two nodes that disagree only on
 * whether a transaction was rejected still get different roots.
 */
export function eventsRoot(results: readonly ResultLeaf[], events: readonly EventLeaf[]): Uint8Array {
  const enc = new TextEncoder();
  const leaves = [
    ...results.map((r) => enc.encode(canonicalJson({ k: "r", o: r.committed, r: r.reasonCode, t: r.txIndex }))),
    ...events.map((e) => enc.encode(canonicalJson({ c: e.contract, d: e.data, e: e.eventIndex, k: "e", t: e.txIndex, y: e.type }))),
  ];
  return merkleRoot(leaves);
}

/** state_root_h = sha256(state_root_{h-1} || block_hash_h || events_root_h). */
export function nextStateRoot(prev: Uint8Array, blockHash: Uint8Array, eventsRootValue: Uint8Array): Uint8Array {
  return sha256(prev, blockHash, eventsRootValue);
}
