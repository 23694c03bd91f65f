import { MEMBERSHIP_CONTRACT, type Contract } from "@tally/contracts";
import type { BlockFollower } from "@tally/bus";
import { sequencerKeysOf, tipOf, toHex, verifyBlock, type ChainTip, type Genesis, type JsonValue, type SigningKey } from "@tally/ledger";
import type { Logger } from "@tally/telemetry";
import { executeBlock, genesisEffects, sortedByKey, type BlockEffects } from "./block-executor.js";
import type { EffectsStore } from "./effects-store.js";
import { signReceipt, type ReceiptPublisher } from "./receipts.js";
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
}

/**
 * Applies blocks strictly in height order from the checkpoint on. Each block is verified
 * first; one that fails throws InvariantError and is never applied. A block's effects and
 * the checkpoint commit together, so a crash at any point neither loses nor repeats a block.
 */
export async function runExecutor(d: ExecutorDeps): Promise<void> {
  const keys = sequencerKeysOf(d.genesis);
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
    );
  }
  const from = cp === undefined ? 0n : cp.height + 1n;
  d.log.info({ fromHeight: from.toString() }, "applying blocks");
  // Blocks that have already arrived are applied together and committed in one database
  // transaction: an executor that fell behind catches up in large batches.
  for await (const batch of d.follower.followBatches(from, d.batchBlocksMax ?? 64)) {
    const prevHeight = cp?.height;
    const layered = new LayeredStateReader(d.reader);
    const seenInBatch = new Set<string>();
    const seen = async (ids: readonly Uint8Array[]): Promise<Set<string>> => {
      const s = await d.store.seen(ids);
      for (const id of ids) if (seenInBatch.has(toHex(id))) s.add(toHex(id));
      return s;
    };
    const applied: BlockEffects[] = [];
    let failure: Error | undefined;
    try {
      for (const b of batch) {
        verifyBlock(b, tip, d.genesis, keys);
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
          const r = await executeBlock(
            b,
            { stateRoot: cp.stateRoot, membership },
            { genesis: d.genesis, contracts: d.contracts, reader: layered, seen },
          );
          effects = r.effects;
          membership = r.membership;
        }
        layered.apply(effects.updates);
        for (const r of effects.results) if (r.authenticated) seenInBatch.add(toHex(r.txId));
        applied.push(effects);
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
    await d.store.commitMany(applied, prevHeight);
    for (const effects of applied) {
      d.onApplied?.(effects);
      await publishReceipt(d, effects.height, effects.blockHash, effects.stateRoot, effects.results);
    }
    if (failure !== undefined) throw failure;
  }
}

function publishReceipt(
  d: ExecutorDeps,
  height: bigint,
  blockHash: Uint8Array,
  stateRoot: Uint8Array,
  results: Parameters<typeof signReceipt>[0]["results"],
): Promise<void> {
  return d.receipts.publish(
    height,
    signReceipt({ chainId: d.genesis.chainId, nodeId: d.nodeId, height, blockHash, stateRoot, results }, d.nodeKey),
  );
}
