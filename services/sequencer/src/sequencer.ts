import { blockSeqOf, contextFromHeaders, headersWithSpan, type Bus, type BusNames, isWrongLastSequence, OrderedFollower } from "@tally/bus";
import {
  bytesEqual,
  decodeBlock,
  genesisBlock,
  genesisHash,
  InvariantError,
  sealBlock,
  tipOf,
  toHex,
  type ChainTip,
  type Genesis,
  type SealedBlock,
  type SigningKey,
} from "@tally/ledger";
import { ATTR_HEIGHT, ATTR_TX_COUNT, startBlockSpan, TX_ID_HEADER, tracingEnabled, type Logger } from "@tally/telemetry";
import type { MsgHdrs } from "@nats-io/transport-node";
import { performance } from "node:perf_hooks";
import { BlockBuffer, type CutLimits } from "./block-buffer.js";
import { staticLeadership, type Leadership, type Term } from "./lease.js";
import { RetiredError, SequencerSetTracker, SetUnknownError } from "./set-tracker.js";

/** Sequencer settings. */
export interface SequencerConfig extends CutLimits {
  readonly sequencerId: string;
  /** Longest a transaction waits in the buffer before its block is cut. */
  readonly cutWaitMs: number;
  /** How many TXS messages the consumer may hold in flight. */
  readonly fetchTxsMax: number;
  readonly publishTimeoutMs: number;
  /** Longest the master waits for a quorum's receipts to learn the sequencer set in force (default 10 s). */
  readonly setWaitMs?: number;
  /** Most blocks read from BLOCKS to look for membership transactions when it takes over (default 1000). */
  readonly setScanBlocksMax?: number;
}

/** The ports a sequencer runs against. */
export interface SequencerPorts {
  readonly bus: Bus;
  readonly names: BusNames;
  readonly genesis: Genesis;
  readonly key: SigningKey;
  readonly nowMs: () => number;
  readonly log: Logger;
  /** Told of every block this instance appended: its tx count and the cut's duration (take → BLOCKS ack), seconds. */
  readonly onCut?: (txCount: number, seconds: number) => void;
  /**
   * What this instance knows of the sequencer set in force (from validators' receipts). Without
   * one, the sequencer makes its own and starts it in run().
   */
  readonly sequencerSet?: SequencerSetTracker;
}

/** How long a master that could not learn the sequencer set keeps off the lease after stepping down. */
const SET_UNKNOWN_HOLD_OFF_MS = 5000;

/** Thrown when another writer appended to BLOCKS first: this instance is fenced off. */
export class FencedError extends Error {
  override readonly name = "FencedError";
}

/** Thrown inside a term that has ended (lease lost): whatever was being done is abandoned. */
export class TermEndedError extends Error {
  override readonly name = "TermEndedError";
}

/** Snapshot for the admin API and metrics. */
export interface SequencerStatus {
  readonly master: boolean;
  /** Not in the sequencer set in force (as a quorum of validators last confirmed it): it does not lead. */
  readonly retired: boolean;
  /** The latest confirmed sequencer set (ids), in force from sequencerSetHeight + 1. */
  readonly sequencerSet: readonly string[];
  /** The height whose receipts confirmed it (0: genesis's set). */
  readonly sequencerSetHeight: bigint;
  readonly epoch: bigint;
  readonly height: bigint;
  readonly lastTxsSeq: bigint;
  readonly blocksCut: number;
  /** Terms in which this instance took over from an earlier master (it saw that master alive before). */
  readonly failovers: number;
  /** Last takeover: the previous master's last lease renewal seen → this instance leading (tip read, TXS consumer started). */
  readonly leaderlessMsLast: number;
  /** Sum of leaderlessMsLast over this instance's takeovers. */
  readonly leaderlessMsTotal: number;
  /** Between this instance's last two blocks of one term. */
  readonly blockIntervalMsLast: number;
  /** Mean time between consecutive blocks this instance cut within a term. */
  readonly blockIntervalMsMean: number;
}

/**
 * A sequencer leads only while it holds a term of its Leadership (the lease): it then reads TXS in order, cuts blocks by count, bytes or wait, signs
 * headers and appends to BLOCKS with an expected last sequence. That expectation is the
 * fence: a deposed master cannot append. On being fenced it re-reads the chain tip and
 * resumes from the last included TXS sequence + 1, so nothing is included twice or skipped.
 * With a lease, being fenced also gives the lease up (stepDown): the instance becomes a backup
 * and leads again only if it wins the lease anew. When the term ends (the lease lapsed or was
 * taken), it stops cutting, closes its consumer, drops its buffer and waits as a backup.
 */
export class Sequencer {
  private tip: ChainTip | undefined;
  private epoch = 0n;
  private master = false;
  private blocksCut = 0;
  private failovers = 0;
  private leaderlessMsLast = 0;
  private leaderlessMsTotal = 0;
  /** performance.now() of this term's last block; undefined before the term's first block. */
  private lastCutAt: number | undefined;
  private blockIntervalMsLast = 0;
  private blockIntervalsMsSum = 0;
  private blockIntervals = 0;
  private follower: OrderedFollower | undefined;
  private stopped = false;
  private cutChain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private buffer: BlockBuffer;
  private failure: Error | undefined;
  private term: Term | undefined;
  private readonly stopSignal = new AbortController();
  /** What this instance knows of the sequencer set in force: it never cuts block h unless it is in the set at h. */
  readonly sets: SequencerSetTracker;
  private readonly ownsSets: boolean;

  constructor(
    private readonly cfg: SequencerConfig,
    private readonly ports: SequencerPorts,
  ) {
    this.buffer = new BlockBuffer(cfg);
    this.ownsSets = ports.sequencerSet === undefined;
    this.sets =
      ports.sequencerSet ??
      new SequencerSetTracker(
        { bus: ports.bus, names: ports.names, genesis: ports.genesis, log: ports.log },
        {
          sequencerId: cfg.sequencerId,
          publicKey: ports.key.publicKey,
          waitMs: cfg.setWaitMs ?? 10_000,
          scanBlocksMax: cfg.setScanBlocksMax ?? 1000,
        },
      );
  }

  status(): SequencerStatus {
    const set = this.sets.knowledge.latest();
    return {
      master: this.master,
      retired: this.sets.retired,
      sequencerSet: set.sequencers.map((s) => s.id),
      sequencerSetHeight: set.height,
      epoch: this.epoch,
      height: this.tip?.height ?? 0n,
      lastTxsSeq: this.tip?.lastTxsSeq ?? 0n,
      blocksCut: this.blocksCut,
      failovers: this.failovers,
      leaderlessMsLast: this.leaderlessMsLast,
      leaderlessMsTotal: this.leaderlessMsTotal,
      blockIntervalMsLast: this.blockIntervalMsLast,
      blockIntervalMsMean: this.blockIntervals === 0 ? 0 : Math.round(this.blockIntervalsMsSum / this.blockIntervals),
    };
  }

  /**
   * Runs until stop(). Given a lease, it leads only during the lease's terms, with the term's
   * epoch in every header; given a fixed epoch, it leads at once and for good (a single
   * sequencer), and on being fenced re-reads the tip and leads again.
   */
  async run(leadership: Leadership | bigint): Promise<void> {
    const lease = typeof leadership === "bigint" ? staticLeadership(leadership) : leadership;
    await this.sets.start();
    while (!this.stopped) {
      // Retired (not in the set in force): no term until governance puts this instance back.
      if (this.sets.retired) {
        await this.sets.waitUntil(() => !this.sets.retired, this.stopSignal.signal);
        continue;
      }
      const term = await lease.nextTerm(this.stopSignal.signal);
      if (term === undefined || this.stopped) break;
      this.term = term;
      this.epoch = term.epoch;
      const onEnd = (): void => {
        clearTimeout(this.timer);
        void this.follower?.close();
      };
      term.signal.addEventListener("abort", onEnd, { once: true });
      try {
        await this.lead(term);
      } catch (e) {
        // stop() while waiting (e.g. for the sequencer set): nothing more to do.
        if (this.stopped) break;
        if (e instanceof FencedError) {
          this.ports.log.warn(
            { err: e.message, epoch: term.epoch.toString() },
            "fenced off BLOCKS: stepping down, re-reading the chain tip",
          );
          await this.cutChain;
          await lease.stepDown(e.message);
          continue;
        }
        if (e instanceof RetiredError) {
          this.ports.log.warn({ err: e.message, epoch: term.epoch.toString() }, "retired: releasing the lease");
          await this.cutChain;
          await lease.stepDown(e.message);
          continue;
        }
        if (e instanceof SetUnknownError) {
          // Another sequencer may learn it (its NATS, its receipts); this one keeps off for a while.
          this.ports.log.error({ err: e.message, epoch: term.epoch.toString() }, "sequencer set unknown: stepping down");
          await this.cutChain;
          await lease.stepDown(e.message, SET_UNKNOWN_HOLD_OFF_MS);
          continue;
        }
        if (term.signal.aborted || e instanceof TermEndedError) {
          this.ports.log.warn({ err: (e as Error).message, epoch: term.epoch.toString() }, "term ended while leading");
          continue;
        }
        // With a lease, a NATS failure (not a broken invariant) hands the lead to a backup.
        if (typeof leadership !== "bigint" && !(e instanceof InvariantError)) {
          this.ports.log.error({ err: (e as Error).message, epoch: term.epoch.toString() }, "leading failed: stepping down");
          await this.cutChain;
          await lease.stepDown((e as Error).message);
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        throw e;
      } finally {
        term.signal.removeEventListener("abort", onEnd);
        this.master = false;
        clearTimeout(this.timer);
      }
      if (term.signal.aborted) this.ports.log.warn({ epoch: term.epoch.toString() }, "lost the lease: now a backup");
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopSignal.abort();
    clearTimeout(this.timer);
    await this.follower?.close();
    await this.cutChain.catch(() => undefined);
    if (this.ownsSets) await this.sets.stop();
  }

  /** Reads the last block on BLOCKS, publishing genesis when the stream is empty. */
  async readTip(): Promise<ChainTip> {
    const { jsm } = this.ports.bus;
    const n = this.ports.names;
    const info = await jsm.streams.info(n.blocksStream);
    if (info.state.last_seq === 0) {
      const g = genesisBlock(this.ports.genesis);
      await this.publish(g, 0, toHex(genesisHash(this.ports.genesis)));
      return tipOf(g);
    }
    const first = await jsm.streams.getMessage(n.blocksStream, { seq: 1 });
    if (first === null || !bytesEqual(decodeBlock(first.data).hash, genesisBlock(this.ports.genesis).hash)) {
      throw new InvariantError(`stream ${n.blocksStream} holds another chain's genesis`, "GENESIS_MISMATCH");
    }
    const last = await jsm.streams.getMessage(n.blocksStream, { seq: info.state.last_seq });
    if (last === null) throw new InvariantError(`BLOCKS sequence ${info.state.last_seq} is missing`, "HEIGHT_GAP");
    const b = decodeBlock(last.data);
    if (blockSeqOf(b.header.height) !== info.state.last_seq) {
      throw new InvariantError(`block at stream sequence ${info.state.last_seq} has height ${b.header.height}`, "HEIGHT_GAP");
    }
    return tipOf(b);
  }

  private async lead(term: Term): Promise<void> {
    // A term that ended (fenced) may leave txs in the buffer that arrived while its last
    // publish was in flight. They come again from the new tip's last TXS sequence + 1, so
    // drop them once any cut of that term has settled: kept, they would be included twice
    // (and, with no wait timer armed for them, stall the buffer).
    const termAt = performance.now();
    await this.cutChain;
    this.buffer.take();
    this.tip = await this.readTip();
    if (term.signal.aborted || this.stopped) return;
    // Never lead unless in the set in force at the next height: learn it from the validators'
    // receipts and the blocks cut since (another master's, or before this process started).
    this.sets.confirmNow(this.tip.height);
    await this.sets.catchUp(this.tip.height);
    await this.checkInSet(this.tip.height + 1n, term.signal);
    if (term.signal.aborted || this.stopped) return;
    this.master = true;
    this.failure = undefined;
    this.lastCutAt = undefined;
    const from = this.tip.lastTxsSeq + 1n;
    this.ports.log.info({ height: this.tip.height.toString(), fromTxsSeq: from.toString(), epoch: this.epoch.toString() }, "leading");
    // Recreated from the last TXS sequence read + 1 when its server dies (a TXS leader change),
    // so the term goes on through a NATS failover without skipping or repeating a tx.
    const tracing = tracingEnabled();
    const follower = new OrderedFollower(this.ports.bus, this.ports.names.txsStream, {
      maxMessages: this.cfg.fetchTxsMax,
      withHeaders: tracing,
      onRestart: (why, fromSeq) =>
        this.ports.log.warn({ why, fromTxsSeq: fromSeq, epoch: this.epoch.toString() }, "TXS consumer recreated"),
    });
    this.follower = follower;
    if (term.leaderlessMs !== undefined) {
      // A takeover: the chain had no master from the old one's last renewal until now.
      this.failovers++;
      this.leaderlessMsLast = Math.round(term.leaderlessMs + performance.now() - termAt);
      this.leaderlessMsTotal += this.leaderlessMsLast;
    }
    // stop() or the end of the term may have come while we were starting.
    if (this.stopped || term.signal.aborted) void follower.close();
    for await (const m of follower.follow(Number(from))) {
      if (this.failure !== undefined) break;
      const tx =
        tracing && m.headers !== undefined
          ? {
              seq: BigInt(m.seq),
              data: m.data,
              trace: { ctx: contextFromHeaders(m.headers), txId: m.headers.get(TX_ID_HEADER) || undefined },
            }
          : { seq: BigInt(m.seq), data: m.data };
      if (this.buffer.wouldOverflow(tx.data)) await this.cut();
      const full = this.buffer.add(tx);
      if (full) await this.cut();
      else if (this.buffer.size === 1) this.timer = setTimeout(() => void this.cut().catch(() => undefined), this.cfg.cutWaitMs);
      if (this.failure !== undefined) break;
    }
    await follower.close();
    // Set by a timer-driven cut while the loop awaited the next message.
    const failure = this.failure as Error | undefined;
    if (failure !== undefined) throw failure;
  }

  /**
   * Throws RetiredError unless this instance is in the sequencer set in force at height h, waiting
   * (bounded: SetUnknownError) for a quorum's receipts when a block before h may have changed it.
   */
  private async checkInSet(h: bigint, signal: AbortSignal): Promise<void> {
    const set = this.sets.knownAt(h) ?? (await this.sets.inForceAt(h, AbortSignal.any([signal, this.stopSignal.signal])));
    if (!this.sets.includesSelf(set))
      throw new RetiredError(
        `sequencer ${this.cfg.sequencerId} is not in the sequencer set in force at height ${h} (${set.map((s) => s.id).join(", ")})`,
      );
  }

  private termEnded(): boolean {
    return this.term?.signal.aborted === true;
  }

  /** Cuts the buffered transactions into the next block. Serialized: one cut at a time. */
  private cut(): Promise<void> {
    clearTimeout(this.timer);
    const next = this.cutChain.then(async () => {
      if (this.buffer.size === 0 || this.tip === undefined || this.failure !== undefined) return;
      // No block outside a term: the txs come again from TXS to whoever leads next.
      if (this.term?.signal.aborted === true) return;
      const term = this.term;
      try {
        // In the steady state a synchronous look-up; after a membership block, the pause.
        if (term !== undefined) await this.checkInSet(this.tip.height + 1n, term.signal);
      } catch (e) {
        this.failure = e instanceof Error ? e : new Error(String(e));
        void this.follower?.close();
        throw e;
      }
      const startedAt = performance.now();
      const txs = this.buffer.take();
      // The term may have ended while this waited for the sequencer set.
      if (txs.length === 0 || this.termEnded()) return;
      const tip = this.tip;
      // While tracing: a span over the cut, a child of the first tx's trace and linked to every tx's.
      const span = tracingEnabled()
        ? startBlockSpan(
            "tally.block.cut",
            txs.map((t) => t.trace?.ctx),
            { [ATTR_HEIGHT]: Number(tip.height + 1n), [ATTR_TX_COUNT]: txs.length, "tally.epoch": Number(this.epoch) },
            txs.flatMap((t) => (t.trace?.txId === undefined ? [] : [t.trace.txId])),
          )
        : undefined;
      const now = BigInt(this.ports.nowMs());
      const block = sealBlock(
        {
          chainId: this.ports.genesis.chainId,
          height: tip.height + 1n,
          prevHash: tip.hash,
          txs: txs.map((t) => t.data),
          firstTxsSeq: txs[0]!.seq,
          lastTxsSeq: txs[txs.length - 1]!.seq,
          timestampMs: now > tip.timestampMs ? now : tip.timestampMs,
          sequencerId: this.cfg.sequencerId,
          epoch: this.epoch,
        },
        this.ports.key,
      );
      try {
        await this.publish(block, blockSeqOf(tip.height), toHex(block.hash), span === undefined ? undefined : headersWithSpan(span));
      } catch (e) {
        this.failure = e instanceof Error ? e : new Error(String(e));
        void this.follower?.close();
        span?.recordException(this.failure);
        span?.end();
        throw e;
      }
      span?.setAttribute("tally.block_hash", toHex(block.hash));
      span?.end();
      this.tip = tipOf(block);
      const mayChange = this.sets.noteCut(block.header.height, block.hash, block.bytes, block.block.txs);
      this.blocksCut++;
      this.ports.onCut?.(txs.length, (performance.now() - startedAt) / 1000);
      const at = performance.now();
      if (this.lastCutAt !== undefined) {
        this.blockIntervalMsLast = Math.round(at - this.lastCutAt);
        this.blockIntervalsMsSum += at - this.lastCutAt;
        this.blockIntervals++;
      }
      this.lastCutAt = at;
      if (mayChange && term !== undefined) {
        // A membership transaction may have changed the set: cut nothing more until a quorum of
        // validators says what the set in force at the next height is, and lead on only if in it.
        try {
          await this.checkInSet(block.header.height + 1n, term.signal);
        } catch (e) {
          this.failure = e instanceof Error ? e : new Error(String(e));
          void this.follower?.close();
          throw e;
        }
      }
    });
    this.cutChain = next.catch(() => undefined);
    return next;
  }

  /**
   * Appends a block with an expected last sequence. Transient failures (timeouts, 503s)
   * are retried with the same msg id, so a publish that landed but whose ack was lost is
   * acknowledged as a duplicate. A wrong last sequence means someone else appended:
   * unless that someone was this very block, we are fenced.
   */
  private async publish(block: SealedBlock, expectLastSeq: number, msgID: string, headers?: MsgHdrs): Promise<void> {
    const { js, jsm } = this.ports.bus;
    let delayMs = 25;
    for (;;) {
      try {
        await js.publish(this.ports.names.blocksSubject, block.bytes, {
          msgID,
          expect: { lastSequence: expectLastSeq },
          timeout: this.cfg.publishTimeoutMs,
          ...(headers === undefined ? {} : { headers }),
        });
        return;
      } catch (e) {
        if (isWrongLastSequence(e)) {
          const landed = await jsm.streams.getMessage(this.ports.names.blocksStream, { seq: expectLastSeq + 1 }).catch(() => null);
          if (landed !== null && bytesEqual(decodeBlock(landed.data).hash, block.hash)) return;
          throw new FencedError(`BLOCKS moved past sequence ${expectLastSeq}`, { cause: e });
        }
        if (this.stopped) throw e;
        if (this.term?.signal.aborted === true) throw new TermEndedError("the lease term ended during a publish", { cause: e });
        this.ports.log.warn({ err: (e as Error).message, delayMs }, "publish to BLOCKS failed; retrying");
        await new Promise((r) => setTimeout(r, delayMs));
        delayMs = Math.min(delayMs * 2, 1000);
      }
    }
  }
}
