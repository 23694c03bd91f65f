// A scriptable in-process GatewayService for the SDK's tests: it fails the calls a test scripts,
// remembers every transaction by id exactly as the real gateway's idempotency does (a repeat is
// answered `duplicate` with its current status), and records the bytes of every attempt. The
// real gateway's own tests (services/gateway) run the SDK against the real thing.
import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
} from "@grpc/grpc-js";
import {
  GatewayServiceService,
  TxStatus,
  type GetTxStatusRequest,
  type GetTxStatusResponse,
  type QueryRequest,
  type QueryResponse,
  type SubmitAndWaitRequest,
  type SubmitAndWaitResponse,
  type SubmitRequest,
  type SubmitResponse,
  type TxStatusUpdate,
} from "@tally/proto/gateway";
import { SignedTx, TxOutcome } from "@tally/proto/types";
import { sha256, toHex } from "@tally/ledger";

/** A failure the fake answers instead of serving a call. */
export interface ScriptedFailure {
  readonly code: status;
  readonly reason: string;
  readonly retryAfterMs?: number;
  /** Raw google.rpc.Status bytes for grpc-status-details-bin. */
  readonly statusDetails?: Uint8Array;
}

/** The fake gateway, its script and what it saw. */
export interface FakeGateway {
  readonly address: string;
  /** Failures to answer, in order, before serving Submit / SubmitAndWait / Query / GetTxStatus. */
  readonly failures: { submit: ScriptedFailure[]; wait: ScriptedFailure[]; query: ScriptedFailure[]; status: ScriptedFailure[] };
  /** The exact signed bytes of every Submit and SubmitAndWait attempt, failed ones included. */
  readonly attempts: Uint8Array[];
  /** The client certificate's common name on each Submit, under mTLS ("" without one). */
  readonly peers: string[];
  /** The tally-institution header on each Submit ("" without one). */
  readonly namedCallers: string[];
  /** Transactions it holds, by hex id. */
  readonly txs: Map<string, TxStatusUpdate>;
  /** GetTxStatus reports FINAL after this many polls of a committed tx (undefined: never). */
  finalAfterPolls: number | undefined;
  /** The answer to Query. */
  queryResult: (req: QueryRequest) => unknown;
  stop(): Promise<void>;
}

function fail(f: ScriptedFailure): Partial<ServiceError> {
  const md = new Metadata();
  if (f.reason !== "") md.set("tally-reason", f.reason);
  if (f.retryAfterMs !== undefined) md.set("retry-after-ms", String(f.retryAfterMs));
  if (f.statusDetails !== undefined) md.set("grpc-status-details-bin", Buffer.from(f.statusDetails));
  return { code: f.code, details: `scripted ${f.reason}`, metadata: md };
}

/** Starts the fake on 127.0.0.1 (any free port), plaintext unless credentials are given. */
export async function startFakeGateway(creds: ServerCredentials = ServerCredentials.createInsecure()): Promise<FakeGateway> {
  const server = new Server();
  let height = 0n;
  const polls = new Map<string, number>();
  const g: Omit<FakeGateway, "address" | "stop"> = {
    failures: { submit: [], wait: [], query: [], status: [] },
    attempts: [],
    peers: [],
    namedCallers: [],
    txs: new Map(),
    finalAfterPolls: undefined,
    queryResult: () => null,
  };
  const admit = (raw: Uint8Array): { update: TxStatusUpdate; duplicate: boolean } => {
    const id = sha256(SignedTx.decode(raw).body);
    const known = g.txs.get(toHex(id));
    if (known !== undefined) return { update: { ...known, duplicate: true }, duplicate: true };
    const update: TxStatusUpdate = { txId: id, status: TxStatus.TX_STATUS_ACCEPTED, height: 0n, result: undefined, duplicate: false };
    g.txs.set(toHex(id), update);
    return { update, duplicate: false };
  };
  server.addService(GatewayServiceService, {
    submit: (call: ServerUnaryCall<SubmitRequest, SubmitResponse>, cb: sendUnaryData<SubmitResponse>) => {
      g.attempts.push(call.request.signedTx);
      const cn = call.getAuthContext().sslPeerCertificate?.subject.CN;
      g.peers.push(typeof cn === "string" ? cn : "");
      const named = call.metadata.get("tally-institution")[0];
      g.namedCallers.push(typeof named === "string" ? named : "");
      const f = g.failures.submit.shift();
      if (f !== undefined) return cb(fail(f));
      const { update, duplicate } = admit(call.request.signedTx);
      cb(null, { txId: update.txId, status: update.status, duplicate });
    },
    submitAndWait: (call: ServerWritableStream<SubmitAndWaitRequest, SubmitAndWaitResponse>) => {
      g.attempts.push(call.request.signedTx);
      const f = g.failures.wait.shift();
      if (f !== undefined) {
        call.emit("error", fail(f));
        return;
      }
      const { update } = admit(call.request.signedTx);
      const key = toHex(update.txId);
      call.write({ update });
      if (update.status === TxStatus.TX_STATUS_ACCEPTED) {
        height += 1n;
        const sequenced = { ...update, status: TxStatus.TX_STATUS_SEQUENCED, height };
        call.write({ update: sequenced });
        const committed: TxStatusUpdate = {
          ...sequenced,
          status: TxStatus.TX_STATUS_COMMITTED,
          result: { index: 0, txId: update.txId, outcome: TxOutcome.TX_OUTCOME_COMMITTED, reasonCode: "", message: "" },
        };
        g.txs.set(key, committed);
        call.write({ update: committed });
      }
      call.end();
    },
    getTxStatus: (call: ServerUnaryCall<GetTxStatusRequest, GetTxStatusResponse>, cb: sendUnaryData<GetTxStatusResponse>) => {
      const f = g.failures.status.shift();
      if (f !== undefined) return cb(fail(f));
      const key = toHex(call.request.txId);
      const known = g.txs.get(key);
      if (known === undefined) return cb(fail({ code: status.NOT_FOUND, reason: "NO_SUCH_TX" }));
      const n = (polls.get(key) ?? 0) + 1;
      polls.set(key, n);
      if (known.status === TxStatus.TX_STATUS_COMMITTED && g.finalAfterPolls !== undefined && n >= g.finalAfterPolls) {
        const final = { ...known, status: TxStatus.TX_STATUS_FINAL };
        g.txs.set(key, final);
        return cb(null, { update: final });
      }
      cb(null, { update: known });
    },
    query: (call: ServerUnaryCall<QueryRequest, QueryResponse>, cb: sendUnaryData<QueryResponse>) => {
      const f = g.failures.query.shift();
      if (f !== undefined) return cb(fail(f));
      cb(null, { result: new TextEncoder().encode(JSON.stringify(g.queryResult(call.request))), height });
    },
    getHistory: (_call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => cb(null, { entries: [], more: false, height }),
    submitStream: (call: ServerDuplexStream<unknown, unknown>) => call.end(),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", creds, (e, p) => (e ? reject(e) : resolve(p))),
  );
  return Object.assign(g, {
    address: `127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  });
}
