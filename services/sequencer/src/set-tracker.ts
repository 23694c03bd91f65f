// How a sequencer learns the sequencer set in force without executing the chain: it follows
// RECEIPTS, where every validator signs, with each block's receipt, the set in force at the next
// height (next_sequencers), and it examines the blocks on BLOCKS for transactions that call the
// membership contract (the only way governance changes the set). SetKnowledge (pure) holds what it
// learned; this file does the reading. docs/architecture.md, "The sequencer set in force".
import { blockSeqOf, OrderedFollower, type Bus, type BusNames } from "@tally/bus";
import { MEMBERSHIP_CONTRACT, touchesMembership } from "@tally/contracts";
import { Block, BlockHeader } from "@tally/proto/types";
import {
  blockHashOf,
  fromHex,
  SequencerSetTally,
  type Genesis,
  type ReceiptRefusal,
  type ReceiptSequencer,
  type SequencerSetConfirmation,
} from "@tally/ledger";
import type { Logger } from "@tally/telemetry";
import { inSet, SetKnowledge, type ConfirmedSet } from "./set-knowledge.js";

/** The master could not learn the set in force at the height it is to cut in time: it must not cut. */
export class SetUnknownError extends Error {
  override readonly name = "SetUnknownError";
}

/** This instance is not in the sequencer set in force at the height it is to cut: it must not cut. */
export class RetiredError extends Error {
  override readonly name = "RetiredError";
}

/** Settings of a SequencerSetTracker. */
export interface SetTrackerOptions {
  readonly sequencerId: string;
  /** This instance's raw Ed25519 public key: in the set means this id with this key. */
  readonly publicKey: Uint8Array;
  /** Longest the master waits for a quorum's receipts to learn the set before it gives the lead up. */
  readonly waitMs: number;
  /** Most blocks read from BLOCKS when catching up; past it, the skipped ones count as possible changes. */
  readonly scanBlocksMax: number;
  /** Least time between two confirmations while nobody waits (each checks a quorum's signatures). */
  readonly refreshMs?: number;
  /** Most heights of receipts held unconfirmed. */
  readonly heightsMax?: number;
}

/** The ports of a SequencerSetTracker. */
export interface SetTrackerPorts {
  readonly bus: Bus;
  readonly names: BusNames;
  readonly genesis: Genesis;
  readonly log: Logger;
}

const REFUSAL_LOG_EVERY_MS = 60_000;
const MEMBERSHIP_BYTES = Buffer.from(MEMBERSHIP_CONTRACT);

/** See the file comment. */
export class SequencerSetTracker {
  readonly knowledge: SetKnowledge;
  private readonly tally: SequencerSetTally;
  private readonly validators: ReadonlyMap<string, Uint8Array>;
  private follower: OrderedFollower | undefined;
  private following: Promise<void> | undefined;
  private blocksFollower: OrderedFollower | undefined;
  private followingBlocks: Promise<void> | undefined;
  private started = false;
  private closed = false;
  private lastConfirmAt = Number.NEGATIVE_INFINITY;
  private readonly waiters = new Set<() => void>();
  /** Masters waiting in inForceAt: while there are any, every receipt is a chance to confirm. */
  private urgent = 0;
  private readonly listeners: ((retired: boolean, set: ConfirmedSet) => void)[] = [];
  private readonly refusalLoggedAt = new Map<ReceiptRefusal, number>();
  private wasRetired: boolean;

  constructor(
    private readonly ports: SetTrackerPorts,
    private readonly opts: SetTrackerOptions,
  ) {
    this.knowledge = new SetKnowledge(ports.genesis);
    this.validators = new Map(ports.genesis.validators.map((v) => [v.nodeId, fromHex(v.publicKey)]));
    this.tally = new SequencerSetTally(
      { chainId: ports.genesis.chainId, validators: this.validators, quorum: ports.genesis.finality },
      opts.heightsMax ?? 64,
    );
    this.wasRetired = this.retired;
  }

  /** Not in the latest confirmed set (genesis's until validators confirmed another): this instance may not lead. */
  get retired(): boolean {
    return !this.includesSelf(this.knowledge.latest().sequencers);
  }

  /** Receipts refused so far, by reason. */
  get refused(): ReadonlyMap<ReceiptRefusal, number> {
    return this.tally.refused;
  }

  /** Whether this instance (its id and key) is in `set`. */
  includesSelf(set: readonly ReceiptSequencer[]): boolean {
    return inSet(set, this.opts.sequencerId, this.opts.publicKey);
  }

  /** Called whenever the latest confirmed set changes, with whether this instance is now retired. */
  onChange(f: (retired: boolean, set: ConfirmedSet) => void): void {
    this.listeners.push(f);
  }

  /**
   * Reads each validator's latest receipt (so a set confirmed before this process started is
   * known at once when the validators agree), confirms what it can, then follows RECEIPTS from the
   * stream's end in the background until stop(). Also follows BLOCKS (from at most scanBlocksMax
   * blocks back) to examine every block as it comes, so that a takeover need not read them.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { jsm } = this.ports.bus;
    const stream = this.ports.names.receiptsStream;
    let from = 1;
    try {
      from = (await jsm.streams.info(stream)).state.last_seq + 1;
      for (const node of this.validators.keys()) {
        const m = await jsm.streams.getMessage(stream, { last_by_subj: this.ports.names.receiptSubject(node) }).catch(() => null);
        if (m !== null) this.add(m.data);
      }
    } catch (e) {
      this.ports.log.warn(
        { err: (e as Error).message },
        "sequencer set: cannot read the latest receipts; following RECEIPTS from its start",
      );
    }
    this.confirmNow();
    this.following = this.follow(from);
    let tip = -1n;
    try {
      tip = BigInt((await jsm.streams.info(this.ports.names.blocksStream)).state.last_seq) - 1n;
    } catch (e) {
      this.ports.log.warn({ err: (e as Error).message }, "sequencer set: cannot read BLOCKS' tip; examining from its start");
    }
    const first = tip - BigInt(this.opts.scanBlocksMax) + 1n;
    if (first > 1n) this.knowledge.skipThrough(first - 1n);
    this.followingBlocks = this.followBlocks();
  }

  async stop(): Promise<void> {
    this.closed = true;
    for (const w of [...this.waiters]) w();
    await Promise.all([this.follower?.close(), this.blocksFollower?.close()]);
    await Promise.all([this.following, this.followingBlocks]);
  }

  /**
   * Examines blocks as BLOCKS receives them. The height is the stream sequence − 1, and a block is
   * decoded only when its bytes contain the membership contract's name, so a backup pays little.
   */
  private async followBlocks(): Promise<void> {
    while (!this.closed) {
      const follower = new OrderedFollower(this.ports.bus, this.ports.names.blocksStream, {
        maxMessages: 64,
        onRestart: (why, seq) => this.ports.log.warn({ why, seq }, "sequencer set: BLOCKS follower restarted"),
      });
      this.blocksFollower = follower;
      if (this.closed) break;
      try {
        for await (const m of follower.follow(blockSeqOf(this.knowledge.nextToExamine()))) this.examine(m.seq, m.data);
      } catch (e) {
        if (!this.closed) this.ports.log.warn({ err: (e as Error).message }, "sequencer set: cannot follow BLOCKS; retrying");
      }
      if (!this.closed) await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** Notes the block at BLOCKS sequence seq (height seq − 1), read in stream order. */
  private examine(seq: number, data: Uint8Array): void {
    const h = BigInt(seq) - 1n;
    const next = this.knowledge.nextToExamine();
    if (h < next) return;
    // Older blocks are gone from the stream (retention): any of them may have changed the set.
    if (h > next) this.knowledge.skipThrough(h - 1n);
    const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (raw.indexOf(MEMBERSHIP_BYTES) < 0) {
      this.knowledge.noteBlock(h, undefined, false);
      return;
    }
    let block: Block;
    try {
      block = Block.decode(data);
      if (BlockHeader.decode(block.header).height !== h) throw new Error(`BLOCKS sequence ${seq} does not hold height ${h}`);
    } catch (e) {
      // Every verifier stops at such a block; mark it, so that nothing is cut after it unconfirmed.
      this.ports.log.error({ err: (e as Error).message, seq }, "sequencer set: a block on BLOCKS does not decode");
      this.knowledge.noteBlock(h, undefined, true);
      return;
    }
    this.knowledge.noteBlock(h, blockHashOf(block.header), touchesMembership(block.txs));
  }

  private async follow(from: number): Promise<void> {
    while (!this.closed) {
      const follower = new OrderedFollower(this.ports.bus, this.ports.names.receiptsStream, {
        maxMessages: 256,
        onRestart: (why, seq) => this.ports.log.warn({ why, seq }, "sequencer set: RECEIPTS follower restarted"),
      });
      this.follower = follower;
      if (this.closed) break;
      try {
        for await (const m of follower.follow(from)) {
          from = m.seq + 1;
          this.add(m.data);
          if (this.urgent > 0 || performance.now() - this.lastConfirmAt >= (this.opts.refreshMs ?? 1000)) this.confirmNow();
        }
      } catch (e) {
        // Only a missing stream ends a follow: it is created by the setup step or a node; look again soon.
        if (!this.closed) this.ports.log.warn({ err: (e as Error).message }, "sequencer set: cannot follow RECEIPTS; retrying");
      }
      if (!this.closed) await new Promise((r) => setTimeout(r, 1000));
    }
  }

  private add(data: Uint8Array): void {
    const r = this.tally.add(data);
    if (r === "ok" || r === "old") return;
    this.logRefusal(r);
  }

  private logRefusal(r: ReceiptRefusal): void {
    const now = performance.now();
    if (now - (this.refusalLoggedAt.get(r) ?? Number.NEGATIVE_INFINITY) < REFUSAL_LOG_EVERY_MS) return;
    this.refusalLoggedAt.set(r, now);
    this.ports.log.warn({ reason: r, refused: this.tally.refused.get(r) }, "sequencer set: receipt ignored");
  }

  /**
   * Confirms, from the receipts held, the highest height at which more than a quorum of the
   * validators signed the same block and set (at most `max`), checking their signatures.
   */
  confirmNow(max?: bigint): void {
    this.lastConfirmAt = performance.now();
    const latest = this.knowledge.latest();
    const before = this.tally.refused.get("bad-signature") ?? 0;
    const c = this.tally.confirm({ min: latest.height + 1n, ...(max === undefined ? {} : { max }) });
    if ((this.tally.refused.get("bad-signature") ?? 0) > before) this.logRefusal("bad-signature");
    if (c !== undefined) this.take(c);
    for (const w of [...this.waiters]) w();
  }

  private take(c: SequencerSetConfirmation): void {
    const previous = this.knowledge.latest();
    const r = this.knowledge.confirm(c);
    if (r === "other-block") {
      this.ports.log.error(
        { height: c.height.toString(), signers: c.signers },
        "sequencer set: a quorum signed another block at a height this sequencer saw; ignored",
      );
      return;
    }
    if (r !== "taken") return;
    this.tally.forgetThrough(c.height);
    const same =
      previous.sequencers.length === c.sequencers.length &&
      previous.sequencers.every((s, i) => s.id === c.sequencers[i]!.id && s.publicKey === c.sequencers[i]!.publicKey);
    if (same) return;
    const retired = this.retired;
    this.ports.log.info(
      { height: c.height.toString(), sequencers: c.sequencers.map((s) => s.id), signers: c.signers, retired },
      `sequencer set in force from height ${c.height + 1n} confirmed by a quorum of validators`,
    );
    if (retired !== this.wasRetired) {
      this.wasRetired = retired;
      if (retired)
        this.ports.log.warn({ height: (c.height + 1n).toString() }, "retired: this sequencer is not in the sequencer set in force");
      else this.ports.log.info({ height: (c.height + 1n).toString() }, "this sequencer is in the sequencer set in force again");
    }
    for (const f of this.listeners) f(retired, this.knowledge.latest());
  }

  /**
   * Examines the blocks from the next unexamined height through `tip` on BLOCKS (at most
   * scanBlocksMax of them; older ones count as possible changes), so that the set in force at
   * tip + 1 is known unless one of them called membership.
   */
  async catchUp(tip: bigint): Promise<void> {
    let h = this.knowledge.nextToExamine();
    if (h > tip) return;
    if (tip - h + 1n > BigInt(this.opts.scanBlocksMax)) {
      this.knowledge.skipThrough(tip - BigInt(this.opts.scanBlocksMax));
      h = this.knowledge.nextToExamine();
    }
    // Usually none or a few: the BLOCKS follower has seen the rest.
    const { jsm } = this.ports.bus;
    for (h = this.knowledge.nextToExamine(); h <= tip; h = this.knowledge.nextToExamine()) {
      const m = await jsm.streams.getMessage(this.ports.names.blocksStream, { seq: blockSeqOf(h) }).catch((e: unknown) => {
        this.ports.log.warn(
          { err: (e as Error).message, height: h.toString() },
          "sequencer set: cannot read a block; counting it as a change",
        );
        return null;
      });
      if (m === null) {
        // Unread (gone from the stream, or NATS trouble): only a quorum's receipts can settle it.
        this.knowledge.skipThrough(h);
        continue;
      }
      this.examine(blockSeqOf(h), m.data);
    }
  }

  /**
   * A block this instance appended (its encoded bytes and transactions): examined; returns whether
   * it may change the set (it calls membership). One byte search over the block (about 70 µs for
   * 1,000 transfers) spares the per-transaction look in all but blocks that name the contract.
   */
  noteCut(height: bigint, hash: Uint8Array, bytes: Uint8Array, txs: readonly Uint8Array[]): boolean {
    const raw = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const mayChange = raw.indexOf(MEMBERSHIP_BYTES) >= 0 && touchesMembership(txs);
    this.knowledge.noteBlock(height, hash, mayChange);
    return mayChange;
  }

  /** The set in force at h when it is known now, else undefined. */
  knownAt(h: bigint): readonly ReceiptSequencer[] | undefined {
    const f = this.knowledge.inForceAt(h);
    return f.known ? f.sequencers : undefined;
  }

  /**
   * The set in force at h, waiting (at most waitMs) for a quorum's receipts when a block before h
   * may have changed it. Throws SetUnknownError when it is still unknown at the deadline, and the
   * signal's reason when it aborts first.
   */
  async inForceAt(h: bigint, signal: AbortSignal): Promise<readonly ReceiptSequencer[]> {
    let f = this.knowledge.inForceAt(h);
    if (f.known) return f.sequencers;
    const startedAt = performance.now();
    this.ports.log.info({ height: h.toString(), why: f.why }, "waiting for a quorum of validators' receipts to learn the sequencer set");
    this.confirmNow(h - 1n);
    this.urgent++;
    try {
      for (;;) {
        f = this.knowledge.inForceAt(h);
        if (f.known) {
          this.ports.log.info({ height: h.toString(), waitedMs: Math.round(performance.now() - startedAt) }, "sequencer set learned");
          return f.sequencers;
        }
        if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error("aborted");
        const left = this.opts.waitMs - (performance.now() - startedAt);
        if (left <= 0 || this.closed)
          throw new SetUnknownError(
            `the sequencer set in force at height ${h} is not known after ${this.opts.waitMs} ms: ${f.why}, and no quorum of validators has confirmed it`,
          );
        await this.changed(signal, left);
      }
    } finally {
      this.urgent--;
    }
  }

  /** Waits until pred() holds, checking at every confirmation; false when timeoutMs passes or the signal aborts first. */
  async waitUntil(pred: () => boolean, signal: AbortSignal, timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    const startedAt = performance.now();
    for (;;) {
      if (pred()) return true;
      const left = timeoutMs - (performance.now() - startedAt);
      if (signal.aborted || left <= 0 || this.closed) return false;
      await this.changed(signal, Math.min(left, 2 ** 31 - 1));
    }
  }

  /** Resolves at the next confirmation attempt, or after ms, or when the signal aborts. */
  private changed(signal: AbortSignal, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
