// A gateway wired to a real PostgreSQL database and real NATS streams of the test's own, with a
// fake executor of the test's own behind the Query passthrough. Integration tests only.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, status, type ChannelCredentials, type ServerUnaryCall } from "@grpc/grpc-js";
import { sql, type Kysely } from "kysely";
import { pino } from "pino";
import {
  ExecutorQueryServiceClient,
  ExecutorQueryServiceService,
  type ExecutorQueryServiceGetHistoryRequest,
  type ExecutorQueryServiceQueryRequest,
} from "@tally/proto/executor";
import { descriptorSetPath } from "@tally/proto/descriptor";
import { type Bus, busNames, type BusNames, connectBus, deleteNamespace, ensureStreams } from "@tally/bus";
import { HEIGHT_CHANNEL, listenHeights, migrateToLatest, openDb, type Database } from "@tally/db";
import { leafTxId, sha256, type SealedBlock } from "@tally/ledger";
import { parseClientCertMap } from "@tally/config";
import {
  institutionHeaderInterceptor,
  mtlsChannelCredentials,
  mtlsServerCredentials,
  RpcError,
  startServer,
  wrapService,
  type RunningServer,
  type TlsFiles,
  type UnaryHandler,
} from "@tally/rpc";
import { createCertAuthority, createTestDatabase, issueCert, testNatsUrl, uniqueNamespace, type CertAuthority } from "@tally/testkit";
import { insecureHeaderCaller, mtlsCaller } from "../caller-identity.js";
import { Gateway, gatewayService, type GatewayConfig } from "../gateway-service.js";
import { MembershipCache } from "../membership-cache.js";
import { ChainProofs } from "../chain-proofs.js";
import { TxStatusReader } from "../tx-status-reader.js";
import { TxWatcher } from "../tx-watcher.js";
import { GENESIS } from "./fixtures.js";

/** The fake executor's Query handler; tests swap it. */
export type FakeQuery = UnaryHandler<ExecutorQueryServiceQueryRequest, { result: Uint8Array; height: bigint }>;

export interface GatewayHarness {
  readonly db: Kysely<Database>;
  readonly dbUrl: string;
  readonly bus: Bus;
  readonly names: BusNames;
  readonly membership: MembershipCache;
  readonly statuses: TxStatusReader;
  readonly watcher: TxWatcher;
  readonly gateway: Gateway;
  readonly server: RunningServer;
  readonly executorClient: ExecutorQueryServiceClient;
  /** Every request the fake executor received. */
  readonly executorCalls: ExecutorQueryServiceQueryRequest[];
  /** GetHistory requests the fake executor received. */
  readonly historyCalls: ExecutorQueryServiceGetHistoryRequest[];
  /** Replaces the fake executor's answer. */
  setQuery(q: FakeQuery): void;
  /** Messages in the TXS stream now. */
  txsCount(): Promise<number>;
  /** Whether the gateway serves mTLS (the default) or insecure loopback with the tally-institution header. */
  readonly tls: boolean;
  /** The test's CA, which signed the gateway's certificate and every client certificate (mTLS only). */
  readonly ca?: CertAuthority;
  /** Certificate files of a fixture institution (client CN = its id), for mTLS. */
  tlsFilesFor(institution: string): TlsFiles;
  /** Channel credentials and options for calling the gateway as an institution (mTLS certificate, or the header when insecure). */
  credentialsFor(institution: string): { credentials: ChannelCredentials; options: object };
  close(): Promise<void>;
}

export const GATEWAY_CONFIG: GatewayConfig = {
  chainId: GENESIS.chainId,
  inFlightMax: 64,
  publishTimeoutMs: 2000,
  waitMsDefault: 10_000,
  waitMsMax: 20_000,
  queryTimeoutMs: 3000,
  streamInFlightMax: 64,
  publishRetryMs: 300,
  recentAcceptedMax: 1000,
  institution: { inFlightMax: 64, ratePerSec: 0, burst: 1 },
  callDeadlineMsDefault: 10_000,
};

export const silentLog = pino({ level: "silent" });

/** Starts everything; on failure, stops what had started. */
export async function startGatewayHarness(
  opts: { withReflection?: boolean; tls?: boolean; healthPort?: number; config?: Partial<GatewayConfig> } = {},
): Promise<GatewayHarness> {
  const tls = opts.tls ?? true;
  const cleanups: (() => Promise<unknown>)[] = [];
  const close = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    const dbInfo = await createTestDatabase("gw_test");
    cleanups.push(() => dbInfo.drop());
    const db = openDb(dbInfo.url);
    cleanups.push(() => db.destroy());
    await migrateToLatest(db);

    const names = busNames(uniqueNamespace("gw"));
    const bus = await connectBus({ url: testNatsUrl(), name: `gateway-test-${names.namespace}` });
    cleanups.push(() => bus.nc.close());
    await ensureStreams(bus.jsm, names);
    cleanups.push(async () => {
      await deleteNamespace(bus.jsm, names);
    });

    const membership = new MembershipCache(db, GENESIS);
    await membership.refresh();
    const statuses = new TxStatusReader(db);
    const watcher = new TxWatcher(statuses, 100, 50);
    cleanups.push(async () => watcher.stop());
    const listener = await listenHeights(dbInfo.url, (n) => {
      watcher.wake();
      if (n.source === "executor") void membership.refresh().catch(() => undefined);
    });
    cleanups.push(() => listener.close());

    const executorCalls: ExecutorQueryServiceQueryRequest[] = [];
    const historyCalls: ExecutorQueryServiceGetHistoryRequest[] = [];
    let query: FakeQuery = async () => ({ result: new TextEncoder().encode("null"), height: 0n });
    const executorServer = await startServer({
      host: "127.0.0.1",
      port: 0,
      healthNames: [],
      services: [
        wrapService(ExecutorQueryServiceService, {
          query: (req: ExecutorQueryServiceQueryRequest, call: ServerUnaryCall<ExecutorQueryServiceQueryRequest, unknown>) => {
            executorCalls.push(req);
            return query(req, call);
          },
          getTxResult: async () => ({ found: false, height: 0n, result: undefined }),
          getCheckpoint: async () => ({ height: 0n, stateRoot: new Uint8Array(0), blockHash: new Uint8Array(0) }),
          // Two pages of one event each for any asset, the executor's refusal for asset "bad".
          getHistory: async (req: ExecutorQueryServiceGetHistoryRequest) => {
            historyCalls.push(req);
            if (req.assetId === "bad") throw new RpcError(status.INVALID_ARGUMENT, "asset_id is bad", "BAD_ARGS");
            const height = req.after === undefined ? 1n : req.after.height + 1n;
            const event = {
              cursor: { height, txIndex: 0, eventIndex: 0 },
              txId: new Uint8Array(32).fill(Number(height)),
              contract: req.contract,
              type: `Step${height}`,
              assetId: req.assetId,
              parties: ["bank-a"],
              data: new TextEncoder().encode(`{"n":${height}}`),
              blockTimeMs: 1000n * height,
              signer: "bank-a",
            };
            return { entries: [{ event, signers: ["bank-a", "bank-b"] }], more: height < 2n, height: 2n };
          },
        }),
      ],
    });
    cleanups.push(() => executorServer.stop(500));
    const executorClient = new ExecutorQueryServiceClient(executorServer.address, credentials.createInsecure());
    cleanups.push(async () => executorClient.close());

    // A CA made with openssl for this test: the gateway's server certificate and one client
    // certificate per fixture institution (CN = its id), mapped by CN.
    const certDir = mkdtempSync(join(tmpdir(), "gw-tls-"));
    cleanups.push(async () => rmSync(certDir, { recursive: true, force: true }));
    const ca = tls ? createCertAuthority(certDir) : undefined;
    const clientFiles = new Map<string, TlsFiles>();
    const tlsFilesFor = (institution: string): TlsFiles => {
      if (ca === undefined) throw new Error("the harness runs insecure");
      let f = clientFiles.get(institution);
      if (f === undefined) {
        const c = issueCert(ca, `client-${institution}`, { commonName: institution, kind: "client" });
        f = { caFile: c.caFile, certFile: c.certFile, keyFile: c.keyFile };
        clientFiles.set(institution, f);
      }
      return f;
    };
    const certMap = { clients: ["clear-a", "bank-a", "bank-b", "reg", "ghost"].map((id) => ({ institution: id, commonName: id })) };
    writeFileSync(join(certDir, "clients.json"), JSON.stringify(certMap));

    const gateway = new Gateway(
      { ...GATEWAY_CONFIG, ...opts.config },
      {
        bus,
        names,
        membership,
        statuses,
        watcher,
        executor: executorClient,
        proofs: new ChainProofs(db),
        nowMs: () => Date.now(),
        log: silentLog,
      },
    );
    const server = await startServer({
      host: "127.0.0.1",
      port: 0,
      healthNames: ["tally.v1.GatewayService"],
      services: [
        gatewayService(gateway, ca !== undefined ? mtlsCaller(parseClientCertMap(certMap, "clients.json")) : insecureHeaderCaller()),
      ],
      receiveBytesMax: 256 * 1024,
      ...(opts.withReflection ? { descriptorSetPath } : {}),
      ...(ca !== undefined
        ? {
            credentials: mtlsServerCredentials({
              caFile: ca.certFile,
              ...(() => {
                const s = issueCert(ca, "gateway", { kind: "server" });
                return { certFile: s.certFile, keyFile: s.keyFile };
              })(),
            }),
          }
        : {}),
      ...(opts.healthPort !== undefined ? { healthListen: { host: "127.0.0.1", port: opts.healthPort } } : {}),
    });
    cleanups.push(() => server.stop(500));

    return {
      db,
      dbUrl: dbInfo.url,
      bus,
      names,
      membership,
      statuses,
      watcher,
      gateway,
      server,
      executorClient,
      executorCalls,
      historyCalls,
      setQuery: (q) => (query = q),
      txsCount: async () => (await bus.jsm.streams.info(names.txsStream)).state.messages,
      tls,
      ...(ca !== undefined ? { ca } : {}),
      tlsFilesFor,
      credentialsFor: (institution) =>
        ca !== undefined
          ? { credentials: mtlsChannelCredentials(tlsFilesFor(institution)), options: {} }
          : { credentials: credentials.createInsecure(), options: { interceptors: [institutionHeaderInterceptor(institution)] } },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Writes a block row as the blockstore would (only the columns' shapes matter to the gateway). */
export async function insertBlock(db: Kysely<Database>, height: bigint, txCount = 1): Promise<void> {
  const h = sha256(new TextEncoder().encode(`block ${height}`));
  await db
    .insertInto("blocks")
    .values({
      height,
      hash: h,
      prev_hash: new Uint8Array(32),
      tx_root: new Uint8Array(32),
      tx_count: txCount,
      first_txs_seq: height,
      last_txs_seq: height,
      timestamp_ms: BigInt(Date.now()),
      sequencer_id: "seq-1",
      epoch: 1n,
      header: new Uint8Array([1]),
      signature: new Uint8Array(64),
      raw: new Uint8Array([2]),
    })
    .execute();
}

/** A transaction row as the blockstore writes it when it stores the block that includes the tx. */
export async function insertSequenced(db: Kysely<Database>, txId: Uint8Array, raw: Uint8Array, height: bigint, txIndex = 0): Promise<void> {
  await db
    .insertInto("transactions")
    .values({ tx_id: txId, height, tx_index: txIndex, signer: "bank-a", contract: "cash", action: "transfer", raw })
    .execute();
}

/** A tx result row as the executor writes it when it applies the block. */
export async function insertResult(
  db: Kysely<Database>,
  txId: Uint8Array,
  height: bigint,
  txIndex = 0,
  outcome: { committed: boolean; reasonCode: string; message: string; authenticated?: boolean } = {
    committed: true,
    reasonCode: "",
    message: "",
  },
): Promise<void> {
  await db
    .insertInto("tx_results")
    .values({
      height,
      tx_index: txIndex,
      tx_id: txId,
      committed: outcome.committed,
      // Signatures verified: true for every outcome but a signature failure.
      authenticated: outcome.authenticated ?? true,
      reason_code: outcome.reasonCode,
      message: outcome.message,
      signer: "bank-a",
      contract: "cash",
      action: "transfer",
    })
    .execute();
}

/** Says "source reached height" on the node's height channel, as blockstore and executor do. */
export async function notifyHeight(db: Kysely<Database>, source: "blockstore" | "executor", height: bigint): Promise<void> {
  await sql`select pg_notify(${HEIGHT_CHANNEL}, ${`${source}:${height}`})`.execute(db);
}

/** Stores sealed blocks and their transactions exactly as the blockstore does (rows of `blocks` and `transactions`). */
export async function storeSealedBlocks(db: Kysely<Database>, blocks: readonly SealedBlock[]): Promise<void> {
  const ROWS_MAX = 200;
  for (let i = 0; i < blocks.length; i += ROWS_MAX) {
    const part = blocks.slice(i, i + ROWS_MAX);
    await db
      .insertInto("blocks")
      .values(
        part.map((b) => ({
          height: b.header.height,
          hash: b.hash,
          prev_hash: b.header.prevHash,
          tx_root: b.header.txRoot,
          tx_count: b.header.txCount,
          first_txs_seq: b.header.firstTxsSeq,
          last_txs_seq: b.header.lastTxsSeq,
          timestamp_ms: b.header.timestampMs,
          sequencer_id: b.header.sequencerId,
          epoch: b.header.epoch,
          header: b.block.header,
          signature: b.block.signature,
          raw: b.bytes,
        })),
      )
      .execute();
    const txRows = part.flatMap((b) =>
      b.block.txs.map((raw, index) => ({
        tx_id: leafTxId(raw),
        height: b.header.height,
        tx_index: index,
        signer: "",
        contract: "",
        action: "",
        raw,
      })),
    );
    if (txRows.length > 0) await db.insertInto("transactions").values(txRows).execute();
  }
}
