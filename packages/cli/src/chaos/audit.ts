// The chaos run's audit, as pure functions over what it collected: every BLOCKS message, node-1's
// tx_results and its chain-config events. Nothing here waits or talks to a server, so it is
// unit-tested directly.
import { SequencersByHeight, type RecordedEvent } from "@tally/contracts";
import { tipOf, verifyBlock, type ChainTip, type Genesis, type SealedBlock } from "@tally/ledger";

/** What the chain itself says: one chain (verifies from genesis), each TXS sequence at most once. */
export interface ChainAudit {
  readonly blocks: number;
  /** 0 when the chain verifies and no two sequencers shared an epoch; else the number of breaks found. */
  readonly forks: number;
  readonly forkDetails: string[];
  /** TXS sequences included in more than one block. */
  readonly txsIncludedTwice: number;
  /** TXS sequences skipped between consecutive blocks (never included). */
  readonly txsGaps: number;
  /** Epochs seen, in order of first appearance. */
  readonly epochs: bigint[];
}

/**
 * Audits the whole BLOCKS stream (genesis first, in stream order): the chain verifies from genesis
 * (hash links, heights, sequencer signatures, each signer judged by the sequencer set in force at
 * its height, followed from the chain-config events a node recorded), each block's TXS range
 * starts right after the previous one, epochs never go back, and a change of sequencer always
 * comes with a higher epoch.
 */
export function auditChain(all: readonly SealedBlock[], genesis: Genesis, chainConfigEvents: readonly RecordedEvent[] = []): ChainAudit {
  const forkDetails: string[] = [];
  const sequencers = new SequencersByHeight(genesis, chainConfigEvents);
  let tip: ChainTip | undefined;
  try {
    for (const b of all) {
      verifyBlock(b, tip, genesis, sequencers.keysAt(b.header.height));
      tip = tipOf(b);
    }
  } catch (e) {
    forkDetails.push(`chain does not verify: ${(e as Error).message}`);
  }
  let txsIncludedTwice = 0;
  let txsGaps = 0;
  const epochs: bigint[] = [];
  let next = 1n;
  let prev: SealedBlock | undefined;
  for (const b of all.slice(1)) {
    const h = b.header;
    // An empty block carries no TXS range (firstTxsSeq 0, lastTxsSeq the previous block's).
    if (h.txCount > 0) {
      if (h.firstTxsSeq < next) txsIncludedTwice += Number((h.lastTxsSeq < next ? h.lastTxsSeq + 1n : next) - h.firstTxsSeq);
      else if (h.firstTxsSeq > next) txsGaps += Number(h.firstTxsSeq - next);
      if (h.lastTxsSeq + 1n > next) next = h.lastTxsSeq + 1n;
    }
    if (prev !== undefined) {
      if (h.epoch < prev.header.epoch) forkDetails.push(`epoch went back at height ${h.height} (${prev.header.epoch} → ${h.epoch})`);
      else if (h.sequencerId !== prev.header.sequencerId && h.epoch === prev.header.epoch)
        forkDetails.push(`height ${h.height}: ${h.sequencerId} cut in epoch ${h.epoch}, which was ${prev.header.sequencerId}'s`);
    }
    if (!epochs.includes(h.epoch)) epochs.push(h.epoch);
    prev = b;
  }
  return { blocks: all.length, forks: forkDetails.length, forkDetails, txsIncludedTwice, txsGaps, epochs };
}

/** One tx_results row, as the audit needs it. */
export interface ResultRow {
  readonly txId: string;
  readonly committed: boolean;
}

/** What the node says about the txs the clients were told were ACCEPTED. */
export interface CommitAudit {
  readonly acked: number;
  /** Acked tx ids committed exactly once. */
  readonly committed: number;
  /** Acked tx ids with no result at all: acknowledged, then never executed. */
  readonly lost: number;
  /** Acked tx ids that have results but none committed (e.g. refused by the contract, or as a replay). */
  readonly rejected: number;
  /** Tx ids (acked or not) committed more than once. */
  readonly duplicated: number;
  /** A few example ids of each failure, for the report. */
  readonly examples: { lost: string[]; rejected: string[]; duplicated: string[] };
}

/** Audits acked tx ids against a node's tx_results. */
export function auditCommits(acked: Iterable<string>, rows: Iterable<ResultRow>): CommitAudit {
  const commits = new Map<string, number>();
  const seen = new Set<string>();
  for (const r of rows) {
    seen.add(r.txId);
    if (r.committed) commits.set(r.txId, (commits.get(r.txId) ?? 0) + 1);
  }
  const examples = { lost: [] as string[], rejected: [] as string[], duplicated: [] as string[] };
  let n = 0;
  let committed = 0;
  let lost = 0;
  let rejected = 0;
  for (const id of acked) {
    n++;
    const c = commits.get(id) ?? 0;
    if (c === 1) committed++;
    else if (c === 0 && !seen.has(id)) {
      lost++;
      if (examples.lost.length < 5) examples.lost.push(id);
    } else if (c === 0) {
      rejected++;
      if (examples.rejected.length < 5) examples.rejected.push(id);
    }
  }
  let duplicated = 0;
  for (const [id, c] of commits)
    if (c > 1) {
      duplicated++;
      if (examples.duplicated.length < 5) examples.duplicated.push(id);
    }
  return { acked: n, committed, lost, rejected, duplicated, examples };
}

/** Nearest-rank percentile of a small sample (0 when empty). */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
