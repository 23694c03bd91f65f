import { status, type ServerDuplexStream, type ServerUnaryCall, type ServerWritableStream } from "@grpc/grpc-js";
import {
  GatewayServiceService,
  TxStatus,
  type GetTxStatusRequest,
  type QueryRequest,
  type GetHistoryRequest,
  type GetHistoryResponse,
  type GetBlockHeadersRequest,
  type GatewayServiceGetInclusionProofRequest,
  type SubmitAndWaitRequest,
  type SubmitAndWaitResponse,
  type SubmitRequest,
  type SubmitResponse,
  type SubmitStreamRequest,
  type SubmitStreamResponse,
  type TxStatusUpdate,
} from "@tally/proto/gateway";
import type {
  ExecutorQueryServiceClient,
  ExecutorQueryServiceGetHistoryResponse,
  ExecutorQueryServiceQueryResponse,
} from "@tally/proto/executor";
import { TxOutcome } from "@tally/proto/types";
import { SpanKind, type Span } from "@opentelemetry/api";
import { headersWithSpan, headersWithTraceContext, JetStreamPublisher, type Bus, type BusNames } from "@tally/bus";
import { decodeSignedTx, fromUtf8, LIMITS, toHex, utf8, type JsonValue } from "@tally/ledger";
import { malformedRequestReason, RpcError, unary, wrapService } from "@tally/rpc";
import { ATTR_TX_ID, tagActiveSpanTx, tracer, tracingEnabled, type Logger } from "@tally/telemetry";
import type { BatchingVerifier } from "@tally/crypto-pool";
import { admit, admitVerified } from "./admission.js";
import { requireMember, type CallerIdentity, type IdentifiableCall } from "./caller-identity.js";
import { InstitutionLimits, type InstitutionLimitsConfig } from "./institution-limits.js";
import { queryAccess, seesEvent, visibleAnswer } from "./visibility.js";
import type { MembershipCache } from "./membership-cache.js";
import type { ChainProofs } from "./chain-proofs.js";
import type { KnownStatus, TxStatusReader } from "./tx-status-reader.js";
import type { TxWatcher } from "./tx-watcher.js";

/** Gateway settings. */
export interface GatewayConfig {
  readonly chainId: string;
  /** Submissions being validated or published at once; past it, RESOURCE_EXHAUSTED. */
  readonly inFlightMax: number;
  readonly publishTimeoutMs: number;
  /** How long a submission keeps retrying a failing publish (bounded by the call's deadline too). */
  readonly publishRetryMs: number;
  readonly waitMsDefault: number;
  readonly waitMsMax: number;
  readonly queryTimeoutMs: number;
  /** Recently accepted tx ids remembered for GetTxStatus before they are sequenced. */
  readonly recentAcceptedMax: number;
  /** Unanswered transactions one SubmitStream may have; past it the server stops reading that stream. */
  readonly streamInFlightMax: number;
  /** Per-institution in-flight bound and rate (each submitted tx and each read costs one token). */
  readonly institution: InstitutionLimitsConfig;
  /** The deadline given to a call that came without one: every call has a deadline. */
  readonly callDeadlineMsDefault: number;
}

/** An authenticated caller: the institution, and its current roles. */
export interface Caller {
  readonly id: string;
  readonly roles: readonly string[];
}

/** The field of a SubmitRequest that a refused transaction's reason points at. */
const FIELD_OF_REASON: Readonly<Record<string, string>> = {
  MALFORMED: "signed_tx",
  TOO_LARGE: "signed_tx",
  WRONG_CHAIN: "signed_tx.body.chain_id",
  EXPIRED: "signed_tx.body.valid_until_ms",
  VALID_UNTIL_TOO_FAR: "signed_tx.body.valid_until_ms",
  MISSING_SIGNATURE: "signed_tx.signatures",
  BAD_SIGNATURE: "signed_tx.signatures",
  UNKNOWN_SIGNER: "signed_tx.body.signer",
  KEY_REVOKED: "signed_tx.body.signer.key_id",
  WRONG_INSTITUTION: "signed_tx.body.signer.institution_id",
  UNKNOWN_CONTRACT: "signed_tx.body.contract",
  UNKNOWN_ACTION: "signed_tx.body.action",
  FORBIDDEN_ROLE: "signed_tx.body.signer.institution_id",
  BAD_ARGS: "signed_tx.body.args",
};

/** The same refusal, with the field it concerns (when the reason names one and none was set). */
function withField(e: unknown): unknown {
  if (!(e instanceof RpcError) || e.field !== undefined) return e;
  const field = FIELD_OF_REASON[e.reason];
  return field === undefined ? e : new RpcError(e.code, e.message, e.reason, e.metadata, field);
}

/** The gateway's ports. */
export interface GatewayPorts {
  readonly bus: Bus;
  readonly names: BusNames;
  readonly membership: MembershipCache;
  readonly statuses: TxStatusReader;
  readonly watcher: TxWatcher;
  readonly executor: ExecutorQueryServiceClient;
  /** Inclusion proofs and signed headers from this node's verified chain. */
  readonly proofs: ChainProofs;
  /** Verifies signatures on worker threads; absent, on the event loop. */
  readonly verifier?: BatchingVerifier;
  readonly nowMs: () => number;
  readonly log: Logger;
  /** Told of every submission accepted (by signing institution) or refused (by reason code). */
  readonly admissions?: { accepted(institution: string): void; rejected(reason: string): void };
}

function update(txId: Uint8Array, s: KnownStatus | undefined, duplicate = false): TxStatusUpdate {
  if (s?.result !== undefined) {
    return {
      txId,
      status: s.final === true ? TxStatus.TX_STATUS_FINAL : TxStatus.TX_STATUS_COMMITTED,
      height: s.result.height,
      duplicate,
      result: {
        index: s.result.txIndex,
        txId,
        outcome: s.result.committed ? TxOutcome.TX_OUTCOME_COMMITTED : TxOutcome.TX_OUTCOME_REJECTED,
        reasonCode: s.result.reasonCode,
        message: s.result.message,
      },
    };
  }
  if (s?.sequencedAt !== undefined)
    return { txId, status: TxStatus.TX_STATUS_SEQUENCED, height: s.sequencedAt, duplicate, result: undefined };
  return { txId, status: TxStatus.TX_STATUS_ACCEPTED, height: 0n, duplicate, result: undefined };
}

/** The gateway's submit path and status lookups, independent of gRPC. */
export class Gateway {
  private inFlight = 0;
  private draining = false;
  private readonly drainListeners = new Set<() => void>();
  private idleWaiters: (() => void)[] = [];
  private readonly recentAccepted = new Set<string>();
  readonly limits: InstitutionLimits;
  /** Publishes to TXS with one shared reply subscription (no per-publish request machinery). */
  private readonly publisher: JetStreamPublisher;

  constructor(
    readonly cfg: GatewayConfig,
    private readonly ports: GatewayPorts,
  ) {
    this.limits = new InstitutionLimits(cfg.institution, ports.nowMs);
    // Every submission in flight publishes at most once at a time.
    this.publisher = new JetStreamPublisher(ports.bus.nc, Math.max(1, cfg.inFlightMax), ports.bus.inboxPrefix);
  }

  /** Stops the publisher's reply subscription (the bus connection stays the caller's). */
  close(): void {
    this.publisher.close();
  }

  /** The caller as a current member with its roles (PERMISSION_DENIED for others). */
  member(id: string): Caller {
    return requireMember(this.ports.membership.view, id);
  }

  /**
   * Admits and publishes one signed transaction for the caller, whose institution must be the
   * body's signer (co-signers may be anyone the contract wants). Answers only after JetStream
   * acknowledged it (so it is durable), or with the original status when it was submitted before.
   */
  async submit(raw: Uint8Array, caller: Caller, deadline?: Date | number): Promise<TxStatusUpdate> {
    if (this.draining)
      throw new RpcError(
        status.UNAVAILABLE,
        "the gateway is shutting down: submit again, here later or to another gateway",
        "GATEWAY_DRAINING",
        {
          "retry-after-ms": "1000",
        },
      );
    if (this.inFlight >= this.cfg.inFlightMax) {
      this.ports.admissions?.rejected("GATEWAY_BUSY");
      throw new RpcError(status.RESOURCE_EXHAUSTED, `more than ${this.cfg.inFlightMax} submissions in flight`, "GATEWAY_BUSY", {
        "retry-after-ms": "100",
      });
    }
    const release = this.limits.acquire(caller.id);
    this.inFlight++;
    try {
      // A replay returns the first submission's id and status, even once its deadline has
      // passed or its key was revoked since: look it up before judging it afresh (but only for
      // the institution that signed it).
      const decoded = raw.byteLength <= LIMITS.txBytesMax ? decodeSignedTx(raw) : undefined;
      if (decoded?.ok === true) {
        const signer = decoded.tx.body.signer?.institutionId ?? "";
        if (signer !== caller.id) {
          throw new RpcError(
            status.PERMISSION_DENIED,
            `${caller.id} may submit only transactions its own institution signs as body signer, not ${signer || "none"}'s`,
            "WRONG_INSTITUTION",
          );
        }
        // The node certainly never applied it (its seen-tx filter says so): no lookup. A tx in
        // flight or sequenced but not yet applied is caught by TXS's duplicate window below.
        if (this.ports.statuses.mayHaveApplied(decoded.tx.id)) {
          const known = await this.ports.statuses.status(decoded.tx.id);
          if (known !== undefined) return update(decoded.tx.id, known, true);
        }
      }
      const height = await this.ports.statuses.committedHeight();
      const view = this.ports.membership.view;
      const pre = decoded?.ok === true ? decoded.tx : undefined;
      const tx =
        this.ports.verifier === undefined
          ? admit(raw, this.cfg.chainId, this.ports.nowMs(), view, height, pre)
          : await admitVerified(raw, this.cfg.chainId, this.ports.nowMs(), view, height, this.ports.verifier, pre);
      const signer = tx.body.signer!.institutionId;
      tagActiveSpanTx(tx.idHex);
      const ack = await this.publishWithRetry(signer, raw, tx.idHex, deadline);
      this.remember(tx.idHex);
      this.ports.admissions?.accepted(signer);
      if (ack.duplicate && !ack.retried) {
        // Submitted before: answer its current status (sequenced, or applied since).
        return update(tx.id, await this.ports.statuses.status(tx.id), true);
      }
      return update(tx.id, undefined, false);
    } catch (e) {
      this.ports.admissions?.rejected(e instanceof RpcError ? e.reason : "INTERNAL");
      throw withField(e);
    } finally {
      this.inFlight--;
      release();
      if (this.draining && this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /**
   * Graceful shutdown: refuses new submissions (UNAVAILABLE, GATEWAY_DRAINING), tells open
   * SubmitStreams to stop reading and end once answered, and resolves when every submission
   * in flight has been published and answered (so nothing ACCEPTED is left half-done).
   */
  drain(): Promise<void> {
    this.draining = true;
    for (const f of this.drainListeners) f();
    this.drainListeners.clear();
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise<void>((r) => this.idleWaiters.push(r));
  }

  /** Calls f once when drain() starts (at once if it has); returns a function that cancels it. */
  onDrain(f: () => void): () => void {
    if (this.draining) {
      f();
      return () => undefined;
    }
    this.drainListeners.add(f);
    return () => this.drainListeners.delete(f);
  }

  /**
   * Publishes to TXS, retrying transient failures (a stream leader being elected answers 503
   * for seconds; a timeout may hide a publish that landed) with backoff until publishRetryMs or
   * the caller's deadline. The msg id makes a retry of a publish that landed a duplicate ack,
   * never a second copy. Only a JetStream ack makes the answer ACCEPTED.
   */
  private async publishWithRetry(
    signer: string,
    raw: Uint8Array,
    idHex: string,
    deadline?: Date | number,
  ): Promise<{ duplicate: boolean; retried: boolean }> {
    const callDeadline =
      deadline instanceof Date ? deadline.getTime() : typeof deadline === "number" && Number.isFinite(deadline) ? deadline : Infinity;
    const giveUpAt = Math.min(Date.now() + this.cfg.publishRetryMs, callDeadline - 50);
    const subject = this.ports.names.txSubject(signer);
    // While tracing: a producer span over the publish; its context goes to TXS in the headers.
    const span = tracingEnabled()
      ? tracer().startSpan("tally.txs.publish", {
          kind: SpanKind.PRODUCER,
          attributes: { [ATTR_TX_ID]: idHex, "messaging.system": "nats", "messaging.destination.name": subject },
        })
      : undefined;
    try {
      return await this.publishAttempts(subject, raw, idHex, giveUpAt, span);
    } finally {
      span?.end();
    }
  }

  private async publishAttempts(
    subject: string,
    raw: Uint8Array,
    idHex: string,
    giveUpAt: number,
    span: Span | undefined,
  ): Promise<{ duplicate: boolean; retried: boolean }> {
    let delayMs = 50;
    for (let attempt = 0; ; attempt++) {
      try {
        const ack = await this.publisher.publish(subject, raw, {
          msgID: idHex,
          timeoutMs: Math.max(100, Math.min(this.cfg.publishTimeoutMs, giveUpAt - Date.now())),
          headers: span === undefined ? headersWithTraceContext({ "tally-tx-id": idHex }) : headersWithSpan(span, { "tally-tx-id": idHex }),
        });
        // A duplicate ack after a retry is most likely our own earlier attempt landing.
        return { duplicate: ack.duplicate, retried: attempt > 0 };
      } catch (e) {
        const message = (e as Error).message;
        if (Date.now() + delayMs >= giveUpAt) {
          this.ports.log.warn({ err: message, txId: idHex, attempts: attempt + 1 }, "publish to TXS failed");
          throw new RpcError(
            status.UNAVAILABLE,
            `the transaction was not accepted: ${message}; it is safe to resubmit`,
            "BUS_UNAVAILABLE",
            {
              "retry-after-ms": "500",
            },
          );
        }
        await new Promise((r) => setTimeout(r, delayMs));
        delayMs = Math.min(delayMs * 2, 1000);
      }
    }
  }

  private remember(idHex: string): void {
    this.recentAccepted.add(idHex);
    if (this.recentAccepted.size > this.cfg.recentAcceptedMax) {
      const oldest = this.recentAccepted.values().next().value;
      if (oldest !== undefined) this.recentAccepted.delete(oldest);
    }
  }

  async status(txId: Uint8Array): Promise<TxStatusUpdate> {
    if (txId.byteLength !== 32) throw new RpcError(status.INVALID_ARGUMENT, "tx_id must be 32 bytes", "BAD_TX_ID");
    await this.ports.statuses.assertNotDiverged();
    const known = await this.ports.statuses.status(txId);
    if (known === undefined && !this.recentAccepted.has(toHex(txId)))
      throw new RpcError(status.NOT_FOUND, "unknown transaction", "NO_SUCH_TX");
    return update(txId, known);
  }

  /**
   * Streams a transaction's progress until it is COMMITTED. Ends with DEADLINE_EXCEEDED
   * when waitMs passes first: the transaction stays accepted and will still commit.
   */
  async wait(txId: Uint8Array, waitMs: number, signal: AbortSignal, emit: (u: TxStatusUpdate) => void, untilFinal = false): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined = undefined;
      let unwatch: (() => void) | undefined = undefined;
      const finish = (err?: RpcError): void => {
        clearTimeout(timer);
        unwatch?.();
        signal.removeEventListener("abort", onAbort);
        if (err) reject(err);
        else resolve();
      };
      const onAbort = (): void => finish();
      unwatch = this.ports.watcher.watch(txId, (s) => {
        const u = update(txId, s);
        emit(u);
        if (u.status === TxStatus.TX_STATUS_FINAL || (u.status === TxStatus.TX_STATUS_COMMITTED && !untilFinal)) finish();
      });
      if (unwatch === undefined) {
        finish(
          new RpcError(status.RESOURCE_EXHAUSTED, "too many waiting clients; poll GetTxStatus", "WAITERS_FULL", {
            "retry-after-ms": "1000",
          }),
        );
        return;
      }
      timer = setTimeout(
        () =>
          finish(
            new RpcError(
              status.DEADLINE_EXCEEDED,
              `not committed within ${waitMs} ms; it is accepted and will commit: poll GetTxStatus`,
              "WAIT_TIMEOUT",
            ),
          ),
        waitMs,
      );
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  waitMsFor(requested: number, deadline: Date | number | undefined): number {
    let ms = requested === 0 ? this.cfg.waitMsDefault : Math.min(requested, this.cfg.waitMsMax);
    if (deadline instanceof Date) ms = Math.min(ms, Math.max(0, deadline.getTime() - Date.now() - 50));
    else if (typeof deadline === "number" && Number.isFinite(deadline)) ms = Math.min(ms, Math.max(0, deadline - Date.now() - 50));
    return ms;
  }

  /**
   * A contract query, answered by this node's executor, showing the caller only what it may see
   * (see visibility.ts): anything else is NOT_FOUND, exactly like an asset that does not exist.
   */
  async query(req: QueryRequest, caller: Caller, deadline?: Date | number): Promise<{ result: Uint8Array; height: bigint }> {
    if (req.args.byteLength > LIMITS.txBytesMax)
      throw new RpcError(status.INVALID_ARGUMENT, "query args too large", "TOO_LARGE", {}, "args");
    const m = this.ports.membership;
    const access = queryAccess(req.contract, req.query, req.args, m.view.userContracts, m.contracts);
    const release = this.limits.acquire(caller.id);
    try {
      const r = await this.forward<ExecutorQueryServiceQueryResponse>(
        (md, o, cb) => this.ports.executor.query({ contract: req.contract, query: req.query, args: req.args }, md, o, cb),
        deadline,
      );
      if (access.kind === "public") return { result: r.result, height: r.height };
      const shown = visibleAnswer(access, JSON.parse(fromUtf8(r.result)) as JsonValue, caller.id, caller.roles);
      if (shown === undefined) throw new RpcError(status.NOT_FOUND, `no ${req.contract} ${req.query} answer for these args`, "NOT_FOUND");
      return { result: utf8(JSON.stringify(shown)), height: r.height };
    } finally {
      release();
    }
  }

  /**
   * An asset's history, a page at a time, from this node's executor (which checks the request),
   * keeping the events the caller is party to. Pages the caller sees nothing of are skipped (a
   * bounded number), so an asset it may not see answers like one that does not exist: no entries.
   */
  async history(req: GetHistoryRequest, caller: Caller, deadline?: Date | number): Promise<GetHistoryResponse> {
    const release = this.limits.acquire(caller.id);
    try {
      let after = req.after;
      for (let page = 0; page < HISTORY_HIDDEN_PAGES_MAX; page++) {
        const r = await this.forward<ExecutorQueryServiceGetHistoryResponse>(
          (md, o, cb) => this.ports.executor.getHistory({ ...req, after }, md, o, cb),
          deadline,
        );
        const entries = r.entries.filter((e) => e.event !== undefined && seesEvent(e.event.parties, caller.id, caller.roles));
        const last = r.entries.at(-1)?.event?.cursor;
        if (entries.length > 0 || !r.more || last === undefined) return { entries, more: entries.length > 0 && r.more, height: r.height };
        after = last;
      }
      return { entries: [], more: false, height: await this.ports.statuses.committedHeight() };
    } finally {
      release();
    }
  }

  /** A transaction's inclusion proof for a caller that may see it (chain-proofs.ts); one token of the caller's rate. */
  async inclusionProof(txId: Uint8Array, caller: Caller) {
    const release = this.limits.acquire(caller.id);
    try {
      return await this.ports.proofs.inclusionProof(txId, caller.id, caller.roles);
    } finally {
      release();
    }
  }

  /** Signed headers of a height range, a bounded page (chain-proofs.ts); one token of the caller's rate. */
  async blockHeaders(fromHeight: bigint, toHeight: bigint, caller: Caller) {
    const release = this.limits.acquire(caller.id);
    try {
      return await this.ports.proofs.headers(fromHeight, toHeight);
    } finally {
      release();
    }
  }

  // Calls the executor within the query timeout and the caller's deadline; its errors keep their code and reason.
  private async forward<T>(invoke: Parameters<typeof unary<T>>[0], deadline?: Date | number): Promise<T> {
    const until =
      deadline instanceof Date ? deadline.getTime() : typeof deadline === "number" && Number.isFinite(deadline) ? deadline : Infinity;
    const timeoutMs = Math.min(this.cfg.queryTimeoutMs, until - Date.now());
    if (timeoutMs <= 0) throw new RpcError(status.DEADLINE_EXCEEDED, "the call's deadline passed", "DEADLINE_EXCEEDED");
    try {
      return await unary<T>(invoke, timeoutMs);
    } catch (e) {
      const err = e as { code?: number; details?: string; metadata?: { get(k: string): unknown[] } };
      if (typeof err.code === "number") {
        const md = err.metadata?.get("tally-reason")[0];
        const reason = typeof md === "string" ? md : (status[err.code] ?? "UNKNOWN");
        throw new RpcError(err.code, err.details ?? "query failed", reason);
      }
      throw e;
    }
  }
}

/**
 * The gRPC GatewayService over a Gateway. `identify` says which institution makes each call
 * (mTLS certificate or, on insecure loopback, the tally-institution header); it must be a
 * current member. A call that came without a deadline gets cfg.callDeadlineMsDefault.
 */
export function gatewayService(gw: Gateway, identify: CallerIdentity) {
  const who = (call: IdentifiableCall): Caller => gw.member(identify(call));
  const deadlineOf = (call: { getDeadline(): Date | number }): number => {
    const d = call.getDeadline();
    const ms = d instanceof Date ? d.getTime() : d;
    return Number.isFinite(ms) ? ms : Date.now() + gw.cfg.callDeadlineMsDefault;
  };
  return wrapService(GatewayServiceService, {
    submit: async (req: SubmitRequest, call: ServerUnaryCall<SubmitRequest, SubmitResponse>) => {
      const u = await gw.submit(req.signedTx, who(call), deadlineOf(call));
      return { txId: u.txId, status: u.status, duplicate: u.duplicate };
    },
    submitAndWait: async (req: SubmitAndWaitRequest, call: ServerWritableStream<SubmitAndWaitRequest, SubmitAndWaitResponse>) => {
      const first = await gw.submit(req.signedTx, who(call), deadlineOf(call));
      call.write({ update: first });
      if (first.status === TxStatus.TX_STATUS_FINAL || (first.status === TxStatus.TX_STATUS_COMMITTED && !req.untilFinal)) return;
      const ac = new AbortController();
      call.on("cancelled", () => ac.abort());
      let lastStatus: TxStatus = first.status;
      await gw.wait(
        first.txId,
        gw.waitMsFor(req.waitMs, call.getDeadline()),
        ac.signal,
        (u) => {
          if (u.status === lastStatus && u.status !== TxStatus.TX_STATUS_COMMITTED) return;
          // A block may be stored and applied between two looks: report SEQUENCED before COMMITTED.
          if (u.status === TxStatus.TX_STATUS_COMMITTED && lastStatus === TxStatus.TX_STATUS_ACCEPTED) {
            call.write({ update: { ...u, status: TxStatus.TX_STATUS_SEQUENCED, result: undefined } });
          }
          lastStatus = u.status;
          call.write({ update: { ...u, duplicate: first.duplicate } });
        },
        req.untilFinal,
      );
    },
    submitStream: async (call: ServerDuplexStream<SubmitStreamRequest, SubmitStreamResponse>) => {
      const id = identify(call);
      return submitStream(gw, call, () => gw.member(id));
    },
    getTxStatus: async (req: GetTxStatusRequest, call: ServerUnaryCall<GetTxStatusRequest, unknown>) => {
      who(call);
      return { update: await gw.status(req.txId) };
    },
    query: async (req: QueryRequest, call: ServerUnaryCall<QueryRequest, unknown>) => gw.query(req, who(call), deadlineOf(call)),
    getHistory: async (req: GetHistoryRequest, call: ServerUnaryCall<GetHistoryRequest, unknown>) =>
      gw.history(req, who(call), deadlineOf(call)),
    getInclusionProof: async (
      req: GatewayServiceGetInclusionProofRequest,
      call: ServerUnaryCall<GatewayServiceGetInclusionProofRequest, unknown>,
    ) => gw.inclusionProof(req.txId, who(call)),
    getBlockHeaders: async (req: GetBlockHeadersRequest, call: ServerUnaryCall<GetBlockHeadersRequest, unknown>) =>
      gw.blockHeaders(req.fromHeight, req.toHeight, who(call)),
  });
}

const NO_TX_ID = new Uint8Array(0);

/** Pages of an asset's history GetHistory reads past when the caller may see none of their events. */
const HISTORY_HIDDEN_PAGES_MAX = 20;

/**
 * Bulk submission: every request is admitted and published like a unary Submit, and answered
 * on the stream with its correlation id. A refusal is an answer, not the end of the stream.
 * While streamInFlightMax of this stream's transactions are unanswered the server stops
 * reading, so HTTP/2 flow control slows the sender down.
 */
function submitStream(
  gw: Gateway,
  call: ServerDuplexStream<SubmitStreamRequest, SubmitStreamResponse>,
  caller: () => Caller,
): Promise<void> {
  const max = gw.cfg.streamInFlightMax;
  let pending = 0;
  let ended = false;
  return new Promise<void>((resolve) => {
    let offDrain = (): void => undefined;
    const done = (): void => {
      offDrain();
      resolve();
    };
    const maybeDone = (): void => {
      if (ended && pending === 0) done();
    };
    // Shutting down: read no more requests; end the stream once those read are answered.
    offDrain = gw.onDrain(() => {
      call.pause();
      ended = true;
      maybeDone();
    });
    const refuse = (correlationId: bigint, e: unknown): SubmitStreamResponse => {
      const r = e instanceof RpcError ? e : new RpcError(status.INTERNAL, e instanceof Error ? e.message : String(e), "INTERNAL");
      const retry = r.metadata["retry-after-ms"];
      return {
        correlationId,
        txId: NO_TX_ID,
        status: TxStatus.TX_STATUS_UNSPECIFIED,
        duplicate: false,
        errorCode: r.code,
        reason: r.reason,
        message: retry !== undefined ? `${r.message} (retry-after-ms ${retry})` : r.message,
      };
    };
    call.on("data", (req: SubmitStreamRequest) => {
      const bad = malformedRequestReason(req);
      if (bad !== undefined) {
        call.write(refuse(0n, new RpcError(status.INVALID_ARGUMENT, `malformed request: ${bad}`, "MALFORMED")));
        return;
      }
      pending++;
      if (pending >= max) call.pause();
      Promise.resolve()
        .then(() => gw.submit(req.signedTx, caller()))
        .then(
          (u) =>
            call.write({
              correlationId: req.correlationId,
              txId: u.txId,
              status: u.status,
              duplicate: u.duplicate,
              errorCode: 0,
              reason: "",
              message: "",
            }),
          (e: unknown) => call.write(refuse(req.correlationId, e)),
        )
        .finally(() => {
          pending--;
          if (pending === max - 1 && !ended) call.resume();
          maybeDone();
        });
    });
    call.on("end", () => {
      ended = true;
      maybeDone();
    });
    call.on("cancelled", () => done());
    call.on("error", () => done());
  });
}
