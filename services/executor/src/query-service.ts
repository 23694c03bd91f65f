import { status } from "@grpc/grpc-js";
import {
  ExecutorQueryServiceService,
  type ExecutorQueryServiceGetHistoryRequest,
  type ExecutorQueryServiceQueryRequest,
  type GetTxResultRequest,
} from "@tally/proto/executor";
import { TxOutcome } from "@tally/proto/types";
import { isRejection, prepareQuery, runQuery, type Contract } from "@tally/contracts";
import { canonicalJson, fromUtf8 } from "@tally/ledger";
import { RpcError, wrapService } from "@tally/rpc";
import type { Kysely } from "kysely";
import { HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX, type Database } from "@tally/db";
import { EffectsStore } from "./effects-store.js";
import { DbStateReader, type StateReader } from "./state-reader.js";

const QUERY_ARGS_BYTES_MAX = 16 * 1024;

/** Parses query args: UTF-8 JSON object, bounded. Throws INVALID_ARGUMENT otherwise. */
export function parseArgs(bytes: Uint8Array): unknown {
  if (bytes.byteLength > QUERY_ARGS_BYTES_MAX)
    throw new RpcError(status.INVALID_ARGUMENT, `args exceed ${QUERY_ARGS_BYTES_MAX} bytes`, "TOO_LARGE");
  if (bytes.byteLength === 0) return {};
  try {
    return JSON.parse(fromUtf8(bytes));
  } catch {
    throw new RpcError(status.INVALID_ARGUMENT, "args are not UTF-8 JSON", "BAD_ARGS");
  }
}

const NAME_LENGTH_MAX = 64;
const ASSET_ID_LENGTH_MAX = 256;

/** Checks a history request; throws INVALID_ARGUMENT naming the field. Returns the page size. */
export function checkHistoryRequest(req: ExecutorQueryServiceGetHistoryRequest): number {
  if (req.contract.length === 0 || req.contract.length > NAME_LENGTH_MAX)
    throw new RpcError(status.INVALID_ARGUMENT, `contract must be 1 to ${NAME_LENGTH_MAX} characters`, "BAD_ARGS");
  if (req.assetId.length === 0 || req.assetId.length > ASSET_ID_LENGTH_MAX)
    throw new RpcError(status.INVALID_ARGUMENT, `asset_id must be 1 to ${ASSET_ID_LENGTH_MAX} characters`, "BAD_ARGS");
  if (req.limit > HISTORY_PAGE_MAX) throw new RpcError(status.INVALID_ARGUMENT, `limit must be at most ${HISTORY_PAGE_MAX}`, "BAD_ARGS");
  return req.limit === 0 ? HISTORY_PAGE_DEFAULT : req.limit;
}

/** Runs reads against one consistent view of the node's state. */
export type Snapshot = <T>(read: (reader: StateReader, store: EffectsStore) => Promise<T>) => Promise<T>;

/**
 * Reads in one REPEATABLE READ transaction, so a query's answer and the height it reports come
 * from the same committed block.
 */
export function dbSnapshot(db: Kysely<Database>): Snapshot {
  return (read) =>
    db
      .transaction()
      .setIsolationLevel("repeatable read")
      .execute((trx) => read(new DbStateReader(trx), new EffectsStore(trx)));
}

/** What GetCheckpoint adds about finality and catching up (issue 8). */
export interface NodeProgress {
  readonly finalHeight: bigint;
  readonly lagMs: bigint;
  readonly lagMsMedian: bigint;
  readonly diverged: boolean;
  /** The last height on BLOCKS, when known. */
  readonly chainHeight: bigint | undefined;
}

/** Optional parts of the query service: a guard run before every read (divergence), and finality progress. */
export interface QueryServiceOptions {
  readonly guard?: () => void;
  readonly progress?: () => Promise<NodeProgress>;
}

/** The gRPC ExecutorQueryService: read-only contract queries, tx results and the checkpoint. */
export function queryService(
  contracts: ReadonlyMap<string, Contract> | (() => Promise<ReadonlyMap<string, Contract>>),
  snapshot: Snapshot,
  opts: QueryServiceOptions = {},
) {
  const guard = opts.guard ?? (() => undefined);
  // A function gives the contracts of the node's current state (user contracts come and go by vote).
  const current = typeof contracts === "function" ? contracts : () => Promise.resolve(contracts);
  return wrapService(ExecutorQueryServiceService, {
    query: async (req: ExecutorQueryServiceQueryRequest) => {
      guard();
      const prepared = prepareQuery(await current(), req.contract, req.query, parseArgs(req.args));
      if (isRejection(prepared)) throw new RpcError(status.INVALID_ARGUMENT, prepared.message, prepared.code);
      return snapshot(async (reader, store) => {
        const cp = await store.checkpoint();
        const state = await reader.load(prepared.contract.name, prepared.keys);
        if (prepared.scan !== undefined) {
          for (const [k, v] of await reader.scan(prepared.contract.name, prepared.scan.prefix, prepared.scan.limit)) state.set(k, v);
        }
        return { result: new TextEncoder().encode(canonicalJson(runQuery(prepared, state))), height: cp?.height ?? 0n };
      });
    },
    getTxResult: async (req: GetTxResultRequest) => {
      guard();
      if (req.txId.byteLength !== 32) throw new RpcError(status.INVALID_ARGUMENT, "tx_id must be 32 bytes", "BAD_TX_ID");
      const r = await snapshot((_reader, store) => store.resultOf(req.txId));
      if (r === undefined) return { found: false, height: 0n, result: undefined };
      return {
        found: true,
        height: r.height,
        result: {
          index: r.tx_index,
          txId: req.txId,
          outcome: r.committed ? TxOutcome.TX_OUTCOME_COMMITTED : TxOutcome.TX_OUTCOME_REJECTED,
          reasonCode: r.reason_code,
          message: r.message,
        },
      };
    },
    getHistory: async (req: ExecutorQueryServiceGetHistoryRequest) => {
      guard();
      const limit = checkHistoryRequest(req);
      return snapshot(async (_reader, store) => {
        const cp = await store.checkpoint();
        const page = await store.history(req.contract, req.assetId, req.after, limit);
        return { entries: page.entries, more: page.more, height: cp?.height ?? 0n };
      });
    },
    getCheckpoint: async () => {
      // Not guarded: a diverged or lagging node still says where it stands.
      const [cp, p] = await Promise.all([snapshot((_reader, store) => store.checkpoint()), opts.progress?.()]);
      const height = cp?.height ?? 0n;
      const chainHeight = p?.chainHeight ?? 0n;
      return {
        height,
        stateRoot: cp?.stateRoot ?? new Uint8Array(0),
        blockHash: cp?.blockHash ?? new Uint8Array(0),
        finalHeight: p?.finalHeight ?? 0n,
        finalityLagMs: p?.lagMs ?? 0n,
        finalityLagMsMedian: p?.lagMsMedian ?? 0n,
        diverged: p?.diverged ?? false,
        chainHeight,
        blocksBehind: chainHeight > height ? chainHeight - height : 0n,
      };
    },
  });
}
