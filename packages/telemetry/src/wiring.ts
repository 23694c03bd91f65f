// Small adapters from what the services already keep (status snapshots, hooks they call) to the
// metrics, so that each service's main.ts wires its telemetry in a few lines.
import {
  blockCutSeconds,
  blockSizeTxs,
  consumerLag,
  counterFrom,
  finalityLagBlocks,
  gaugeFrom,
  nodeHeight,
  sequencerEpoch,
  sequencerFailovers,
  sequencerIsLeader,
  sequencerRetired,
  stateRootDivergence,
  txAccepted,
  txCommitted,
  txRejected,
  type Reading,
} from "./metrics.js";

/** The sequencer's status fields the metrics read (its GetStatus snapshot). */
export interface SequencerView {
  readonly master: boolean;
  /** Not in the sequencer set in force. */
  readonly retired?: boolean;
  readonly epoch: bigint;
  readonly height: bigint;
  readonly lastTxsSeq: bigint;
  readonly failovers: number;
}

/** A stream's last sequence (e.g. from jsm.streams.info), read at scrape time. */
export type StreamLastSeq = () => Promise<number>;

/** tally_consumer_lag_messages{service,stream}: the stream's last sequence minus the last one the service handled. */
export function observeConsumer(service: string, stream: string, lastSeq: StreamLastSeq, handledSeq: Reading): void {
  gaugeFrom(consumerLag, { service, stream }, async () => {
    const handled = await handledSeq();
    if (handled === undefined) return undefined;
    return Math.max(0, (await lastSeq()) - Number(handled));
  });
}

/** tally_node_height{service}. */
export function observeHeight(service: string, read: Reading): void {
  gaugeFrom(nodeHeight, { service }, read);
}

/**
 * The sequencer's gauges (leader, epoch, failovers, height, TXS lag while leading) from its
 * status; returns the onCut hook that feeds the block cut and block size histograms.
 */
export function observeSequencer(
  status: () => SequencerView,
  txsStream: string,
  txsLastSeq: StreamLastSeq,
): (txCount: number, seconds: number) => void {
  gaugeFrom(sequencerIsLeader, {}, () => (status().master ? 1 : 0));
  gaugeFrom(sequencerEpoch, {}, () => status().epoch);
  gaugeFrom(sequencerRetired, {}, () => (status().retired === true ? 1 : 0));
  counterFrom(sequencerFailovers, () => status().failovers);
  observeHeight("sequencer", () => status().height);
  // A backup reads nothing from TXS: its lag is 0, the master's is the one that counts.
  gaugeFrom(consumerLag, { service: "sequencer", stream: txsStream }, async () => {
    const s = status();
    return s.master ? Math.max(0, (await txsLastSeq()) - Number(s.lastTxsSeq)) : 0;
  });
  sequencerIsLeader.set(0);
  return (txCount, seconds) => {
    blockSizeTxs.observe(txCount);
    blockCutSeconds.observe(seconds);
  };
}

/** The gateway's admission outcomes. */
export const gatewayAdmissions = {
  accepted(institution: string): void {
    txAccepted.inc({ institution });
  },
  rejected(reason: string): void {
    txRejected.inc({ reason });
  },
};

/** One transaction's outcome as the executor records it. */
export interface OutcomeView {
  readonly committed: boolean;
  readonly contract: string;
  readonly reasonCode: string;
}

/** Counts a block's outcomes: committed by contract, rejected by reason (one increment per label value and block). */
export function countOutcomes(results: readonly OutcomeView[]): void {
  const committed = new Map<string, number>();
  const rejected = new Map<string, number>();
  for (const r of results) {
    if (r.committed) committed.set(r.contract, (committed.get(r.contract) ?? 0) + 1);
    else rejected.set(r.reasonCode, (rejected.get(r.reasonCode) ?? 0) + 1);
  }
  for (const [contract, n] of committed) txCommitted.inc({ contract }, n);
  for (const [reason, n] of rejected) txRejected.inc({ reason }, n);
}

/**
 * The executor's finality gauges: blocks applied but not final yet, and whether this node has
 * an open state-root divergence (the finality tracker's own records).
 */
export function observeFinality(
  appliedHeight: () => bigint | undefined,
  finality: () => Promise<{ readonly finalHeight: bigint; readonly diverged: boolean }>,
): void {
  let last: Promise<{ readonly finalHeight: bigint; readonly diverged: boolean }> | undefined;
  // Both gauges from one read per scrape.
  const read = (): Promise<{ readonly finalHeight: bigint; readonly diverged: boolean }> => {
    last ??= finality().finally(() => setTimeout(() => (last = undefined), 100).unref());
    return last;
  };
  gaugeFrom(finalityLagBlocks, {}, async () => {
    const applied = appliedHeight();
    if (applied === undefined) return undefined;
    const { finalHeight } = await read();
    return applied > finalHeight ? applied - finalHeight : 0;
  });
  gaugeFrom(stateRootDivergence, {}, async () => ((await read()).diverged ? 1 : 0));
}
