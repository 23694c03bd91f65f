// The node's finality tracker. It runs inside the executor process (the executor already knows
// the node's key, database and gRPC health), follows RECEIPTS, verifies every receipt against the
// validators' keys, and records per height what a quorum of validators signed. When this node's
// own receipt disagrees with a quorum's, it records a divergence and tells the executor, which
// marks itself NOT_SERVING until an operator resolves the record (`tally node resolve`).
import { MEMBERSHIP_CONTRACT, CHAIN_CONFIG_KEY, parseChainConfig } from "@tally/contracts";
import { OrderedFollower, type Bus, type BusNames } from "@tally/bus";
import type { Database } from "@tally/db";
import { bytesEqual, ed25519Verify, fromHex, toHex, type Genesis, type JsonValue } from "@tally/ledger";
import { Receipt, ReceiptBody } from "@tally/proto/types";
import type { Logger } from "@tally/telemetry";
import type { Kysely } from "kysely";
import { FinalityTally, type Agreement, type Quorum, type VerifiedReceipt } from "./finality-tally.js";
import { FinalityStore, type DivergenceRecord } from "./finality-store.js";

/** Why a receipt was not counted, or "ok". */
export type ReceiptCheck = "ok" | "malformed" | "wrong-chain" | "unknown-node" | "bad-signature";

/** Decodes and verifies one encoded Receipt against the known node keys. */
export function verifyReceipt(
  bytes: Uint8Array,
  chainId: string,
  keys: ReadonlyMap<string, Uint8Array>,
): { check: Exclude<ReceiptCheck, "ok"> } | { check: "ok"; receipt: VerifiedReceipt } {
  let r: Receipt;
  let body: ReceiptBody;
  try {
    r = Receipt.decode(bytes);
    body = ReceiptBody.decode(r.body);
  } catch {
    return { check: "malformed" };
  }
  if (body.chainId !== chainId) return { check: "wrong-chain" };
  const key = keys.get(body.nodeId);
  if (key === undefined) return { check: "unknown-node" };
  if (!ed25519Verify(key, r.body, r.signature)) return { check: "bad-signature" };
  return {
    check: "ok",
    receipt: {
      nodeId: body.nodeId,
      height: body.height,
      blockHash: body.blockHash,
      stateRoot: body.stateRoot,
      body: r.body,
      signature: r.signature,
    },
  };
}

/** The finality tracker's dependencies. Divergence is judged on the results the executor reports with noteOwn. */
export interface FinalityTrackerDeps {
  readonly db: Kysely<Database>;
  readonly genesis: Genesis;
  /** This node, and its receipt-signing public key (it may not be a validator). */
  readonly nodeId: string;
  readonly nodePublicKey: Uint8Array;
  readonly log: Logger;
  readonly nowMs: () => number;
  /** Told of each divergence recorded against this node. */
  readonly onDivergence: (d: DivergenceRecord) => void;
  /** Told of each height that became final. */
  readonly onFinal?: (a: Agreement) => void;
  /** Most receipts handled per database transaction. */
  readonly batchMax?: number;
}

/** Recent final heights kept in memory, for receipts that arrive after their height became final. */
const RECENT_FINALS_MAX = 4096;
/** Own results kept while their height is not decided. */
const OWN_ROOTS_MAX = 100_000;
/** How long the quorum read from chain-config is reused. */
const QUORUM_CACHE_MS = 1000;

/** Follows receipts and decides finality; see the file comment. */
export class FinalityTracker {
  readonly store: FinalityStore;
  private readonly keys: Map<string, Uint8Array>;
  private readonly tally: FinalityTally;
  private readonly recentFinals = new Map<bigint, Agreement>();
  /** Heights every validator reported without a quorum, with the strictly largest group. */
  private readonly recentStuck = new Map<bigint, Agreement>();
  /** This node's own results not judged yet (their height is not decided). */
  private readonly ownRoots = new Map<bigint, { blockHash: Uint8Array; stateRoot: Uint8Array }>();
  private ownDirty = false;
  /** Block timestamps of the blocks this node applied, for the finality lag. */
  private readonly blockTimes = new Map<bigint, bigint>();
  private chain: Promise<void> = Promise.resolve();
  private quorumCache: { q: Quorum; atMs: number } | undefined;
  private follower: OrderedFollower | undefined;
  private closed = false;
  /** Receipts refused since start, by reason. */
  readonly refused = new Map<string, number>();

  constructor(private readonly d: FinalityTrackerDeps) {
    this.store = new FinalityStore(d.db);
    this.keys = new Map(d.genesis.validators.map((v) => [v.nodeId, fromHex(v.publicKey)]));
    if (!this.keys.has(d.nodeId)) this.keys.set(d.nodeId, d.nodePublicKey);
    this.tally = new FinalityTally(new Set(d.genesis.validators.map((v) => v.nodeId)));
  }

  /** The finality quorum: chain-config's as governance last set it (genesis's until the executor wrote chain-config). */
  async quorum(): Promise<Quorum> {
    const now = this.d.nowMs();
    if (this.quorumCache !== undefined && now - this.quorumCache.atMs < QUORUM_CACHE_MS) return this.quorumCache.q;
    const row = await this.d.db
      .selectFrom("contract_state")
      .select("value")
      .where("contract", "=", MEMBERSHIP_CONTRACT)
      .where("key", "=", CHAIN_CONFIG_KEY)
      .executeTakeFirst();
    const q = row === undefined ? this.d.genesis.finality : parseChainConfig(row.value as JsonValue).finality;
    this.quorumCache = { q, atMs: now };
    return q;
  }

  /** Reloads the pending receipts of the database into the tally; returns the next RECEIPTS sequence to read. */
  async restore(): Promise<number> {
    const q = await this.quorum();
    const pending = await this.store.pendingReceipts();
    // Re-adding may finish heights (a quorum change, or a crash between the stream and the write).
    await this.handle(pending, q, undefined);
    return this.store.nextReceiptsSeq();
  }

  /** Handles encoded receipts read from RECEIPTS up to stream sequence lastSeq. */
  async process(messages: readonly Uint8Array[], lastSeq: number): Promise<void> {
    const verified: VerifiedReceipt[] = [];
    for (const m of messages) {
      const v = verifyReceipt(m, this.d.genesis.chainId, this.keys);
      if (v.check === "ok") verified.push(v.receipt);
      else {
        this.refused.set(v.check, (this.refused.get(v.check) ?? 0) + 1);
        this.d.log.warn({ reason: v.check }, "receipt refused");
      }
    }
    await this.handle(verified, await this.quorum(), lastSeq + 1);
  }

  /**
   * This node's own result at a height, told by the executor right after it committed the block.
   * Divergence is judged on these, not on this node's receipts read back from RECEIPTS: after a
   * wipe, the stream still holds the receipts a previous copy of this node signed (and the new
   * copy's receipts for the same heights are dropped by the stream's dedup window).
   */
  noteOwn(height: bigint, blockHash: Uint8Array, stateRoot: Uint8Array, blockTimeMs?: bigint): void {
    this.ownRoots.set(height, { blockHash, stateRoot });
    if (blockTimeMs !== undefined) {
      this.blockTimes.set(height, blockTimeMs);
      if (this.blockTimes.size > OWN_ROOTS_MAX) {
        const oldest = this.blockTimes.keys().next().value;
        if (oldest !== undefined) this.blockTimes.delete(oldest);
      }
    }
    if (this.ownRoots.size > OWN_ROOTS_MAX) {
      const oldest = this.ownRoots.keys().next().value;
      if (oldest !== undefined) this.ownRoots.delete(oldest);
    }
    this.ownDirty = true;
  }

  /** Judges the own results whose height is decided (final, or stuck with a strict majority). */
  async judgeOwn(): Promise<void> {
    await this.serial(async () => {
      if (!this.ownDirty || this.ownRoots.size === 0) return;
      this.ownDirty = false;
      const heights = [...this.ownRoots.keys()];
      const unknown = heights.filter((h) => !this.recentFinals.has(h) && !this.recentStuck.has(h));
      const stored = await this.store.finalsAt(unknown);
      const divergences: DivergenceRecord[] = [];
      for (const h of heights) {
        const decided = this.recentFinals.get(h) ?? this.recentStuck.get(h) ?? stored.get(h);
        if (decided === undefined) continue;
        const own = this.ownRoots.get(h)!;
        this.ownRoots.delete(h);
        if (bytesEqual(own.blockHash, decided.blockHash) && bytesEqual(own.stateRoot, decided.stateRoot)) continue;
        divergences.push({ height: h, nodeId: this.d.nodeId, quorum: decided, own });
      }
      if (divergences.length === 0) return;
      await this.store.write({ receipts: [], finals: [], divergences, nextReceiptsSeq: undefined, nowMs: this.d.nowMs() });
      for (const dv of divergences) {
        this.d.log.error(
          { height: dv.height.toString(), own: toHex(dv.own.stateRoot), quorum: toHex(dv.quorum.stateRoot), signers: dv.quorum.signers },
          "DIVERGED: this node's state root differs from the quorum's",
        );
        this.d.onDivergence(dv);
      }
    });
  }

  private async handle(receipts: readonly VerifiedReceipt[], q: Quorum, nextSeq: number | undefined): Promise<void> {
    await this.serial(async () => {
      const unknownHeights = [...new Set(receipts.map((r) => r.height))].filter((h) => !this.recentFinals.has(h));
      // Heights final before this process started (or long ago) are in the database.
      for (const a of (await this.store.finalsAt(unknownHeights)).values()) this.remember(this.recentFinals, a);
      const finals: Agreement[] = [];
      for (const r of receipts) {
        if (this.recentFinals.has(r.height)) continue;
        const out = this.tally.add(r, q);
        if (out.kind === "final") {
          finals.push(out.agreement);
          this.remember(this.recentFinals, out.agreement);
          this.ownDirty = true;
          this.d.onFinal?.(out.agreement);
        } else if (out.kind === "stuck") {
          this.d.log.error(
            { height: r.height.toString(), receipts: out.receipts.map((x) => `${x.nodeId}:${toHex(x.stateRoot).slice(0, 12)}`) },
            "no quorum possible at this height: every validator reported and too few agree",
          );
          if (out.largest !== undefined) {
            this.remember(this.recentStuck, out.largest);
            this.ownDirty = true;
          }
        }
      }
      if (nextSeq !== undefined || finals.length > 0) {
        const blockTimesMs = new Map<bigint, bigint>();
        for (const f of finals) {
          const t = this.blockTimes.get(f.height);
          if (t !== undefined) blockTimesMs.set(f.height, t);
          this.blockTimes.delete(f.height);
        }
        await this.store.write({ receipts, finals, divergences: [], nextReceiptsSeq: nextSeq, nowMs: this.d.nowMs(), blockTimesMs });
      }
    });
    await this.judgeOwn();
  }

  // One batch at a time: handle and judgeOwn share the in-memory tally.
  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.chain.then(f, f);
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private remember(m: Map<bigint, Agreement>, a: Agreement): void {
    m.set(a.height, a);
    if (m.size > RECENT_FINALS_MAX) {
      const oldest = m.keys().next().value;
      if (oldest !== undefined) m.delete(oldest);
    }
  }

  /** Follows RECEIPTS from the stored cursor until close(), handling what has arrived in batches. */
  async run(bus: Bus, names: BusNames): Promise<void> {
    const from = await this.restore();
    const batchMax = this.d.batchMax ?? 512;
    const follower = new OrderedFollower(bus, names.receiptsStream, {
      maxMessages: batchMax,
      onRestart: (why, seq) => this.d.log.warn({ why, seq }, "RECEIPTS follower restarted"),
    });
    this.follower = follower;
    if (this.closed) return;
    // Own results of heights decided earlier (a node replaying behind the others) are judged on a timer.
    const judging = setInterval(() => {
      this.judgeOwn().catch((e: unknown) => this.d.log.warn({ err: e }, "judging own results failed"));
    }, 200);
    const queue: { seq: number; data: Uint8Array }[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    let failure: Error | undefined;
    const pump = (async () => {
      try {
        for await (const m of follower.follow(from)) {
          queue.push(m);
          wake?.();
          wake = undefined;
          while (queue.length >= batchMax * 4 && !this.closed) await new Promise((r) => setTimeout(r, 5));
        }
      } catch (e) {
        failure = e instanceof Error ? e : new Error(String(e));
      } finally {
        done = true;
        wake?.();
      }
    })();
    while (!this.closed) {
      if (queue.length === 0) {
        if (done) break;
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      const batch = queue.splice(0, batchMax);
      await this.process(
        batch.map((m) => m.data),
        batch.at(-1)!.seq,
      );
    }
    clearInterval(judging);
    await pump;
    if (failure !== undefined && !this.closed) throw failure;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.follower?.close();
  }
}
