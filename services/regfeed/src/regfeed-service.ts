import { status, type Metadata, type ServerUnaryCall, type ServerWritableStream } from "@grpc/grpc-js";
import type { Kysely } from "kysely";
import { HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX, readHistory, readLineage, type Database } from "@tally/db";
import { isValidId, type Genesis, type JsonValue } from "@tally/ledger";
import {
  RegFeedServiceService,
  type AckAlertRequest,
  type AckAlertResponse,
  type EventFilter,
  type GetAssetHistoryRequest,
  type GetAssetHistoryResponse,
  type QueryAccessLogRequest,
  type QueryAccessLogResponse,
  type StreamAlertsRequest,
  type StreamAlertsResponse,
  type StreamEventsRequest,
  type StreamEventsResponse,
  type VerifyChainRequest,
  type VerifyChainResponse,
} from "@tally/proto/regfeed";
import type { Event, EventCursor } from "@tally/proto/types";
import { RpcError, wrapService } from "@tally/rpc";
import { ACCESS_LOG_PAGE_DEFAULT, ACCESS_LOG_PAGE_MAX, type AccessLog } from "./access-log.js";
import type { AlertStore } from "./alerts/alert-store.js";
import { AMOUNT_DIGITS_MAX, parseAmount } from "./amount.js";
import { callerOf } from "./caller-identity.js";
import { FILTER_VALUE_LENGTH_MAX, FILTER_VALUES_MAX, type EventFeed } from "./event-feed.js";
import { VERIFY_HEIGHTS_MAX, verifyChain } from "./verify-chain.js";

const PAGE_EVENTS = 500;

/** Most events one batched StreamEvents response carries. */
export const BATCH_EVENTS_MAX = 500;
const PAGE_ALERTS = 200;

/** How long a subscriber's bounded send buffer may stay full before it is cut off, when main.ts does not say. */
export const SUBSCRIBER_STALL_MS_DEFAULT = 30_000;

/** Waits for the node's executor to commit more (or a poll interval). */
export type CommitWaiter = (signal: AbortSignal) => Promise<void>;

/** What the regulator feed serves from. */
export interface RegfeedDeps {
  readonly feed: EventFeed;
  readonly waitForCommit: CommitWaiter;
  readonly access: AccessLog;
  readonly alerts: AlertStore;
  /** Waits for the alert engine to raise more (or a poll interval). */
  readonly waitForAlerts: CommitWaiter;
  readonly db: Kysely<Database>;
  /** The chain's genesis, for VerifyChain; without it VerifyChain is FAILED_PRECONDITION. */
  readonly genesis: Genesis | undefined;
  /** A subscriber whose send buffer stays full this long is cut off (SUBSCRIBER_TOO_SLOW). */
  readonly subscriberStallMs?: number;
  /**
   * Counts commit (and alert) notices. A stream reads the count before each page and waits only
   * if it has not moved since: a notice that arrives while a page is being read would otherwise be
   * missed, and the stream would sleep until the next notice or poll.
   */
  readonly commitGeneration?: () => number;
  readonly alertGeneration?: () => number;
  /** Told of the events each StreamEvents write delivered (tracing). */
  readonly onDelivered?: (events: readonly Event[]) => void;
}

function checkFilter(f: EventFilter | undefined): void {
  if (f === undefined) return;
  for (const [name, values] of [
    ["contracts", f.contracts],
    ["types", f.types],
    ["parties", f.parties],
    ["asset_ids", f.assetIds],
  ] as const) {
    if (values.length > FILTER_VALUES_MAX)
      throw new RpcError(status.INVALID_ARGUMENT, `filter.${name} has more than ${FILTER_VALUES_MAX} values`, "BAD_FILTER");
    if (values.some((v) => v.length === 0 || v.length > FILTER_VALUE_LENGTH_MAX)) {
      throw new RpcError(status.INVALID_ARGUMENT, `filter.${name} values must be 1..${FILTER_VALUE_LENGTH_MAX} characters`, "BAD_FILTER");
    }
  }
  if (f.minAmount !== "" && parseAmount(f.minAmount) === undefined) {
    throw new RpcError(
      status.INVALID_ARGUMENT,
      `filter.min_amount must be a decimal number of minor units, at most ${AMOUNT_DIGITS_MAX} digits`,
      "BAD_FILTER",
    );
  }
}

/** Heights are int8 in the node's database; a cursor beyond that names no position that can exist. */
const HEIGHT_MAX = 2n ** 63n - 1n;

function checkCursor(c: EventCursor | undefined): void {
  if (c !== undefined && c.height > HEIGHT_MAX)
    throw new RpcError(status.INVALID_ARGUMENT, `after.height must be at most ${HEIGHT_MAX}`, "BAD_CURSOR");
}

function checkSeq(v: bigint, name: string): void {
  if (v > HEIGHT_MAX) throw new RpcError(status.INVALID_ARGUMENT, `${name} must be at most ${HEIGHT_MAX}`, "BAD_CURSOR");
}

const cursorJson = (c: EventCursor | undefined): JsonValue =>
  c === undefined ? null : { height: c.height.toString(), txIndex: c.txIndex, eventIndex: c.eventIndex };

const filterJson = (f: EventFilter | undefined): JsonValue =>
  f === undefined ? null : { contracts: f.contracts, types: f.types, parties: f.parties, assetIds: f.assetIds, minAmount: f.minAmount };

type Streamish = Pick<ServerWritableStream<unknown, unknown>, "once" | "off" | "write">;

/**
 * Writes items to a server stream with gRPC flow control: when the stream's bounded buffer is
 * full, waits for the client to make room, at most stallMs; then cuts it off with
 * RESOURCE_EXHAUSTED / SUBSCRIBER_TOO_SLOW. The client resumes from the last cursor it received.
 */
async function writeBounded(call: Streamish, msg: unknown, signal: AbortSignal, stallMs: number, resume: string): Promise<void> {
  if (call.write(msg)) return;
  const drained = await new Promise<boolean>((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      call.off("drain", onDrain);
      signal.removeEventListener("abort", onAbort);
      resolve(ok);
    };
    const onDrain = (): void => done(true);
    const onAbort = (): void => done(false);
    const timer = setTimeout(() => done(false), stallMs);
    call.once("drain", onDrain);
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) done(false);
  });
  if (!drained && !signal.aborted) {
    throw new RpcError(
      status.RESOURCE_EXHAUSTED,
      `the subscriber read nothing for ${stallMs} ms while its buffer was full; resume from the last cursor received`,
      "SUBSCRIBER_TOO_SLOW",
      { "tally-resume-after": resume },
    );
  }
}

function abortOn(call: Pick<ServerWritableStream<unknown, unknown>, "on">): AbortController {
  const ac = new AbortController();
  call.on("cancelled", () => ac.abort());
  call.on("close", () => ac.abort());
  return ac;
}

/**
 * The regulator's feed. StreamEvents: every event strictly after the cursor, in commit order,
 * then live. Events of a block become visible all at once, with the executor's commit, so
 * reading by cursor never skips one. Every call is first recorded in the access log.
 */
export function regfeedService(d: RegfeedDeps) {
  const stallMs = d.subscriberStallMs ?? SUBSCRIBER_STALL_MS_DEFAULT;
  const log = (md: Metadata, rpc: string, request: JsonValue): Promise<void> => d.access.record(callerOf(md), rpc, request);
  return wrapService(RegFeedServiceService, {
    streamEvents: async (req: StreamEventsRequest, call: ServerWritableStream<StreamEventsRequest, StreamEventsResponse>) => {
      checkFilter(req.filter);
      checkCursor(req.after);
      if (req.batchMax > BATCH_EVENTS_MAX) {
        throw new RpcError(status.INVALID_ARGUMENT, `batch_max must be at most ${BATCH_EVENTS_MAX}`, "BAD_ARGS");
      }
      await log(call.metadata, "StreamEvents", {
        filter: filterJson(req.filter),
        after: cursorJson(req.after),
        finalOnly: req.finalOnly,
        batchMax: req.batchMax,
      });
      if (req.finalOnly) {
        // Finality from receipts is issue 8. Delivering committed events as "final" would be a lie.
        throw new RpcError(
          status.FAILED_PRECONDITION,
          "final-only delivery needs finality, which this chain does not track yet; ask without final_only for committed events",
          "FINALITY_NOT_AVAILABLE",
        );
      }
      const ac = abortOn(call);
      let cursor = req.after;
      while (!ac.signal.aborted) {
        const gen = d.commitGeneration?.();
        const page = await d.feed.page(cursor, req.filter, PAGE_EVENTS);
        const per = req.batchMax === 0 ? 1 : req.batchMax;
        for (let i = 0; i < page.length; i += per) {
          if (ac.signal.aborted) return;
          const resume = cursor === undefined ? "" : `${cursor.height}:${cursor.txIndex}:${cursor.eventIndex}`;
          const chunk = page.slice(i, i + per);
          await writeBounded(
            call,
            req.batchMax === 0 ? { event: chunk[0], events: [] } : { event: undefined, events: chunk },
            ac.signal,
            stallMs,
            resume,
          );
          d.onDelivered?.(chunk);
          cursor = chunk[chunk.length - 1]!.cursor;
        }
        // A stream cancelled while its page was read must not start a wait nothing will end early.
        if (page.length < PAGE_EVENTS && !ac.signal.aborted && gen === d.commitGeneration?.()) await d.waitForCommit(ac.signal);
      }
    },

    streamAlerts: async (req: StreamAlertsRequest, call: ServerWritableStream<StreamAlertsRequest, StreamAlertsResponse>) => {
      checkSeq(req.afterSeq, "after_seq");
      await log(call.metadata, "StreamAlerts", { afterSeq: req.afterSeq.toString(), unackedOnly: req.unackedOnly });
      const ac = abortOn(call);
      let after = req.afterSeq;
      while (!ac.signal.aborted) {
        const gen = d.alertGeneration?.();
        const page = await d.alerts.page(after, PAGE_ALERTS, req.unackedOnly);
        for (const alert of page) {
          if (ac.signal.aborted) return;
          await writeBounded(call, { alert }, ac.signal, stallMs, after.toString());
          after = alert.seq;
        }
        if (page.length < PAGE_ALERTS && !ac.signal.aborted && gen === d.alertGeneration?.()) await d.waitForAlerts(ac.signal);
      }
    },

    ackAlert: async (req: AckAlertRequest, call: ServerUnaryCall<AckAlertRequest, AckAlertResponse>): Promise<AckAlertResponse> => {
      checkSeq(req.seq, "seq");
      if (req.note.length > 1000) throw new RpcError(status.INVALID_ARGUMENT, "note must be at most 1000 characters", "BAD_ARGS");
      const caller = callerOf(call.metadata);
      await d.access.record(caller, "AckAlert", { seq: req.seq.toString(), note: req.note });
      const r = await d.alerts.ack(req.seq, caller, req.note);
      if (r === undefined) throw new RpcError(status.NOT_FOUND, `no alert ${req.seq}`, "UNKNOWN_ALERT");
      return r;
    },

    getAssetHistory: async (
      req: GetAssetHistoryRequest,
      call: ServerUnaryCall<GetAssetHistoryRequest, GetAssetHistoryResponse>,
    ): Promise<GetAssetHistoryResponse> => {
      if (req.assetId.length === 0 || req.assetId.length > FILTER_VALUE_LENGTH_MAX) {
        throw new RpcError(status.INVALID_ARGUMENT, `asset_id must be 1..${FILTER_VALUE_LENGTH_MAX} characters`, "BAD_ARGS");
      }
      if (req.contract !== "" && !isValidId(req.contract)) throw new RpcError(status.INVALID_ARGUMENT, "contract is not an id", "BAD_ARGS");
      if (req.limit > HISTORY_PAGE_MAX)
        throw new RpcError(status.INVALID_ARGUMENT, `limit must be at most ${HISTORY_PAGE_MAX}`, "BAD_ARGS");
      checkCursor(req.after);
      await log(call.metadata, "GetAssetHistory", {
        contract: req.contract,
        assetId: req.assetId,
        after: cursorJson(req.after),
        limit: req.limit,
      });
      const contract = req.contract === "" ? undefined : req.contract;
      // One snapshot: the page, the lineage and the height belong together.
      return d.db
        .transaction()
        .setIsolationLevel("repeatable read")
        .execute(async (tx) => {
          const page = await readHistory(tx, contract, req.assetId, req.after, req.limit === 0 ? HISTORY_PAGE_DEFAULT : req.limit);
          const lineage = await readLineage(tx, contract, req.assetId);
          const cp = await tx.selectFrom("checkpoint").select("height").where("id", "=", 1).executeTakeFirst();
          return { entries: page.entries, more: page.more, lineage, height: cp?.height ?? 0n };
        });
    },

    verifyChain: async (
      req: VerifyChainRequest,
      call: ServerUnaryCall<VerifyChainRequest, VerifyChainResponse>,
    ): Promise<VerifyChainResponse> => {
      const { fromHeight, toHeight } = req;
      if (toHeight < fromHeight) throw new RpcError(status.INVALID_ARGUMENT, "to_height must be at least from_height", "BAD_RANGE");
      if (toHeight - fromHeight >= VERIFY_HEIGHTS_MAX || toHeight > HEIGHT_MAX) {
        throw new RpcError(status.INVALID_ARGUMENT, `at most ${VERIFY_HEIGHTS_MAX} heights per call`, "BAD_RANGE");
      }
      await log(call.metadata, "VerifyChain", { fromHeight: fromHeight.toString(), toHeight: toHeight.toString() });
      if (d.genesis === undefined)
        throw new RpcError(status.FAILED_PRECONDITION, "this regfeed was started without GENESIS_FILE", "NO_GENESIS");
      return verifyChain(d.db, d.genesis, fromHeight, toHeight);
    },

    queryAccessLog: async (
      req: QueryAccessLogRequest,
      call: ServerUnaryCall<QueryAccessLogRequest, QueryAccessLogResponse>,
    ): Promise<QueryAccessLogResponse> => {
      checkSeq(req.afterId, "after_id");
      if (req.limit > ACCESS_LOG_PAGE_MAX)
        throw new RpcError(status.INVALID_ARGUMENT, `limit must be at most ${ACCESS_LOG_PAGE_MAX}`, "BAD_ARGS");
      if (req.caller.length > 200) throw new RpcError(status.INVALID_ARGUMENT, "caller is too long", "BAD_ARGS");
      // Reading the log is itself a read of the feed.
      await log(call.metadata, "QueryAccessLog", { afterId: req.afterId.toString(), limit: req.limit, caller: req.caller });
      return {
        entries: await d.access.query(
          req.afterId,
          req.limit === 0 ? ACCESS_LOG_PAGE_DEFAULT : req.limit,
          req.caller === "" ? undefined : req.caller,
        ),
      };
    },
  });
}
