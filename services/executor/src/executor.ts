import {
  CHAIN_CONFIG_KEY,
  MEMBERSHIP_CONTRACT,
  membershipView,
  sequencerKeysInForce,
  sequencersInForce,
  type Contract,
} from "@tally/contracts";
import { headersWithSpan, traceContextOfBlock, type BlockFollower } from "@tally/bus";
import type { MsgHdrs } from "@nats-io/transport-node";
import {
  tipOf,
  toHex,
  verifyBlock,
  type ChainTip,
  type Genesis,
  type JsonValue,
  type ReceiptSequencer,
  type SealedBlock,
  type SigningKey,
} from "@tally/ledger";
import { ATTR_HEIGHT, ATTR_TX_COUNT, startBlockSpan, tracingEnabled, type Logger } from "@tally/telemetry";
import type { UserContractRegistry } from "@tally/user-contracts";
import { executeBlock, genesisEffects, sortedByKey, type BlockEffects } from "./block-executor.js";
import { decodeBlockTxs, precomputeSignatures, type DecodedBlock } from "./block-precheck.js";
import type { EffectsStore } from "./effects-store.js";
import { signReceipt, type ReceiptPublisher } from "./receipts.js";
import type { PrecomputedSignatures, SignatureVerifier } from "./signature-verifier.js";
import { LayeredStateReader, type StateReader } from "./state-reader.js";

/** The executor's dependencies. */
export interface ExecutorDeps {
  readonly nodeId: string;
  readonly genesis: Genesis;
  readonly contracts: ReadonlyMap<string, Contract>;
  readonly store: EffectsStore;
  readonly reader: StateReader;
  readonly follower: Pick<BlockFollower, "followBatches">;
  readonly receipts: Pick<ReceiptPublisher, "publish">;
  readonly nodeKey: SigningKey;
  readonly log: Logger;
  readonly onApplied?: (e: BlockEffects) => void;
  /** Most blocks applied and committed together when the executor is behind. */
  readonly batchBlocksMax?: number;
  /**
   * Batches fetched, decoded and signature-verified ahead of the one being executed (default 2).
   * When replaying a backlog, verifying the next batches on the workers while this one executes
   * and commits keeps both cores busy. Keys are looked up as they were when the batch was taken;
   * a key that changed since is simply checked inline by executeBlock.
   */
  readonly prepareAheadMax?: number;
  /**
   * Verifies signatures ahead of execution (a VerifyPool of worker threads). Without one, every
   * signature is verified inline, on this thread, as executeBlock reaches it.
   */
  readonly verifier?: SignatureVerifier;
  /** Deployed user contracts and the sandbox they run in (docs/user-contracts.md); without it, only the built-ins run. */
  readonly userContracts?: UserContractRegistry;
}

/** A batch from the follower, decoded, with its signatures being verified. */
interface PreparedBatch {
  readonly blocks: readonly SealedBlock[];
  readonly decoded: readonly DecodedBlock[];
  /** Per block, in order; undefined without a verifier. */
  readonly signatures: readonly (Promise<PrecomputedSignatures> | undefined)[];
}

/**
 * Takes the next batch from the follower, decodes its blocks and starts verifying their
 * signatures (block by block, so the first block's results come first) against the keys active
 * in `membership`. Keys that change inside the batch only cause inline checks later.
 */
async function prepareNext(
  batches: AsyncIterator<SealedBlock[]>,
  membership: ReadonlyMap<string, JsonValue>,
  d: ExecutorDeps,
): Promise<PreparedBatch | undefined> {
  const next = await batches.next();
  if (next.done === true) return undefined;
  const blocks = next.value;
  const decoded = blocks.map(decodeBlockTxs);
  const verifier = d.verifier;
  const lookup = verifier === undefined ? undefined : membershipView(membership.values()).keyLookup;
  const signatures = decoded.map((b) => {
    if (verifier === undefined || lookup === undefined) return undefined;
    const p = precomputeSignatures(b, lookup, d.genesis.chainId, verifier);
    // Awaited in order by the loop; handled here so a failure is not reported as unhandled first.
    p.catch(() => undefined);
    return p;
  });
  return { blocks, decoded, signatures };
}

/**
 * Applies blocks strictly in height order from the checkpoint on. Each block is verified
 * first; one that fails throws InvariantError and is never applied. A block's effects and
 * the checkpoint commit together, so a crash at any point neither loses nor repeats a block.
 */
export async function runExecutor(d: ExecutorDeps): Promise<void> {
  // The sequencer set in force at the next height: the chain config after the last applied block.
  const keysInForce = sequencerKeysInForce(d.genesis);
  const nextSequencers = nextSequencersOf(d.genesis);
  let cp = await d.store.checkpoint();
  let membership: ReadonlyMap<string, JsonValue> = cp === undefined ? new Map() : sortedByKey(await d.reader.loadAll(MEMBERSHIP_CONTRACT));
  let tip: ChainTip | undefined =
    cp === undefined ? undefined : { height: cp.height, hash: cp.blockHash, timestampMs: cp.timestampMs, lastTxsSeq: cp.lastTxsSeq };
  if (cp !== undefined) {
    // The receipt of the last applied block may not have gone out before a crash: send it again.
    const rows = await d.store.resultsAt(cp.height);
    await publishReceipt(
      d,
      cp.height,
      cp.blockHash,
      cp.stateRoot,
      rows.map((r) => ({ txIndex: r.tx_index, txId: r.tx_id, committed: r.committed, reasonCode: r.reason_code, message: r.message })),
      nextSequencers(membership),
    );
  }
  const from = cp === undefined ? 0n : cp.height + 1n;
  d.log.info({ fromHeight: from.toString() }, "applying blocks");
  // Blocks that have already arrived are applied together and committed in one database
  // transaction: an executor that fell behind catches up in large batches. While a batch
  // executes and commits, the next ones (at most prepareAheadMax) are fetched, decoded and their
  // signatures verified.
  const batches = d.follower.followBatches(from, d.batchBlocksMax ?? 64)[Symbol.asyncIterator]();
  const aheadMax = Math.max(1, d.prepareAheadMax ?? 2);
  const ahead: Promise<PreparedBatch | undefined>[] = [];
  const refill = (): void => {
    while (ahead.length < aheadMax) {
      const p = prepareNext(batches, membership, d);
      p.catch(() => undefined);
      ahead.push(p);
    }
  };
  refill();
  try {
    for (;;) {
      const batch = await ahead.shift();
      if (batch === undefined) break;
      // The next batches are verified on the workers while this one executes and commits.
      refill();
      const tracedFrom = tracingEnabled() ? Date.now() : 0;
      const prevHeight = cp?.height;
      const layered = new LayeredStateReader(d.reader);
      const seenInBatch = new Set<string>();
      const seen = async (ids: readonly Uint8Array[]): Promise<Set<string>> => {
        const s = await d.store.seen(ids);
        if (seenInBatch.size > 0) {
          for (const id of ids) {
            const hex = toHex(id);
            if (seenInBatch.has(hex)) s.add(hex);
          }
        }
        return s;
      };
      const applied: BlockEffects[] = [];
      // Per applied block, the set in force at the next height (its receipt carries it).
      const nextSets: (readonly ReceiptSequencer[])[] = [];
      let failure: Error | undefined;
      try {
        for (let k = 0; k < batch.blocks.length; k++) {
          const b = batch.blocks[k]!;
          // Signed by a sequencer in the set in force at its height (the chain config after the
          // previous block), or refused like a bad signature: UNKNOWN_SEQUENCER, never applied.
          verifyBlock(b, tip, d.genesis, keysInForce(membership.get(CHAIN_CONFIG_KEY)));
          let effects: BlockEffects;
          if (cp === undefined) {
            effects = genesisEffects(d.genesis, d.contracts, b);
            membership = sortedByKey(
              new Map(
                [...(effects.updates.get(MEMBERSHIP_CONTRACT) ?? new Map<string, JsonValue | null>())].filter(
                  (e): e is [string, JsonValue] => e[1] !== null,
                ),
              ),
            );
          } else {
            const signatures = await batch.signatures[k];
            const r = await executeBlock(
              b,
              { stateRoot: cp.stateRoot, membership },
              {
                genesis: d.genesis,
                contracts: d.contracts,
                reader: layered,
                seen,
                ...(d.userContracts === undefined ? {} : { userContracts: d.userContracts }),
              },
              signatures === undefined ? { decoded: batch.decoded[k]! } : { decoded: batch.decoded[k]!, signatures },
            );
            effects = r.effects;
            membership = r.membership;
          }
          layered.apply(effects.updates);
          for (const r of effects.results) if (r.authenticated) seenInBatch.add(toHex(r.txId));
          applied.push(effects);
          nextSets.push(nextSequencers(membership));
          cp = {
            height: effects.height,
            blockHash: effects.blockHash,
            stateRoot: effects.stateRoot,
            timestampMs: effects.blockTimeMs,
            lastTxsSeq: effects.lastTxsSeq,
          };
          tip = tipOf(b);
        }
      } catch (e) {
        // A block that fails verification is never applied; the good ones before it still are.
        failure = e instanceof Error ? e : new Error(String(e));
      }
      // Bounded pipeline: at most prepareAheadMax batches are prepared ahead; after a failure, none.
      if (failure !== undefined) ahead.length = 0;
      await d.store.commitMany(applied, prevHeight);
      for (let k = 0; k < applied.length; k++) {
        const effects = applied[k]!;
        d.onApplied?.(effects);
        // While tracing: a span over the block's apply and commit, a child of its cut span; the
        // receipt carries it on to whoever follows RECEIPTS (the regulator's feed).
        const span = tracedFrom === 0 ? undefined : applySpan(batch.blocks[k]!, effects, tracedFrom);
        await publishReceipt(
          d,
          effects.height,
          effects.blockHash,
          effects.stateRoot,
          effects.results,
          nextSets[k]!,
          span && headersWithSpan(span),
        );
        span?.end();
      }
      if (failure !== undefined) throw failure;
    }
  } finally {
    // Stops the follower. Not awaited: a fetch of the next batch may still be waiting for blocks,
    // and an async generator returns only after it.
    void Promise.resolve(batches.return?.(undefined)).catch(() => undefined);
  }
}

/**
 * The sequencer set in force at the height after the block that left membership state
 * `membership` (what receipts carry as next_sequencers). Recomputed only when the chain-config
 * value changes.
 */
function nextSequencersOf(genesis: Genesis): (membership: ReadonlyMap<string, JsonValue>) => readonly ReceiptSequencer[] {
  let last: { readonly config: JsonValue | undefined; readonly set: readonly ReceiptSequencer[] } | undefined;
  return (membership) => {
    const config = membership.get(CHAIN_CONFIG_KEY);
    if (last === undefined || last.config !== config) last = { config, set: sequencersInForce(config, genesis) };
    return last.set;
  };
}

function publishReceipt(
  d: ExecutorDeps,
  height: bigint,
  blockHash: Uint8Array,
  stateRoot: Uint8Array,
  results: Parameters<typeof signReceipt>[0]["results"],
  nextSequencers: readonly ReceiptSequencer[],
  headers?: MsgHdrs,
): Promise<void> {
  return d.receipts.publish(
    height,
    signReceipt({ chainId: d.genesis.chainId, nodeId: d.nodeId, height, blockHash, stateRoot, results, nextSequencers }, d.nodeKey),
    headers,
  );
}

function applySpan(block: SealedBlock, effects: BlockEffects, startedAt: number): ReturnType<typeof startBlockSpan> {
  const ids = effects.results.map((r) => toHex(r.txId));
  const committed = effects.results.reduce((n, r) => (r.committed ? n + 1 : n), 0);
  const attrs = {
    [ATTR_HEIGHT]: Number(effects.height),
    [ATTR_TX_COUNT]: ids.length,
    "tally.committed": committed,
    "tally.rejected": ids.length - committed,
    "tally.state_root": toHex(effects.stateRoot),
  };
  return startBlockSpan("tally.block.apply", [traceContextOfBlock(block)], attrs, ids, startedAt);
}
