#!/usr/bin/env node
// The gateway's imperative shell: reads config, builds connections, starts.
import { credentials } from "@grpc/grpc-js";
import { UserContractRegistry } from "@tally/user-contracts";
import { ExecutorQueryServiceClient } from "@tally/proto/executor";
import { descriptorSetPath } from "@tally/proto/descriptor";
import { busNames, connectBus, ensureStreams } from "@tally/bus";
import { ConfigError, configOrExit, Env, gatewayConfig } from "@tally/config";
import { listenHeights, migrateToLatest, openDb } from "@tally/db";
import { mtlsServerCredentials, onTerminate, startServer, within } from "@tally/rpc";
import { BatchingVerifier, VerifyPool } from "@tally/crypto-pool";
import { createLogger, gatewayAdmissions, observeHeight, startTelemetry } from "@tally/telemetry";
import { insecureHeaderCaller, mtlsCaller, type CallerIdentity } from "./caller-identity.js";
import { Gateway, gatewayService } from "./gateway-service.js";
import { MembershipCache } from "./membership-cache.js";
import { ChainProofs } from "./chain-proofs.js";
import { TxStatusReader } from "./tx-status-reader.js";
import { TxWatcher } from "./tx-watcher.js";

const cfg = configOrExit("gateway", () => gatewayConfig());
const nodeId = cfg.nodeId;
const log = createLogger("gateway", { nodeId });

async function main(): Promise<void> {
  const genesis = cfg.genesis;
  const names = busNames(cfg.namespace);
  const listen = cfg.listen;
  const insecureMode = cfg.insecure;
  let identify: CallerIdentity;
  let serverCredentials;
  if (insecureMode) {
    identify = insecureHeaderCaller();
    log.warn("GATEWAY_INSECURE: plaintext gRPC on loopback; callers name themselves in the tally-institution header");
  } else {
    try {
      serverCredentials = mtlsServerCredentials(cfg.tls!);
    } catch (e) {
      throw new ConfigError(`GATEWAY_TLS_CERT_FILE / GATEWAY_TLS_KEY_FILE / GATEWAY_CLIENT_CA_FILE: ${(e as Error).message}`);
    }
    identify = mtlsCaller(cfg.clientMap!);
  }
  const healthAddr = cfg.healthAddr;
  const executorAddr = cfg.executorAddr;
  const dbUrl = cfg.databaseUrl;
  const db = openDb(dbUrl);
  await migrateToLatest(db);
  const bus = await connectBus({ url: cfg.natsUrl, name: `gateway-${nodeId}` });
  if (cfg.ensureStreams) await ensureStreams(bus.jsm, names, { replicas: cfg.streamReplicas });
  // User contracts' declarations (their queries' args and visibility); their code never runs here but to read them.
  const membership = new MembershipCache(db, genesis, await UserContractRegistry.create());
  await membership.refresh();
  // A Bloom filter of applied tx ids spares most submissions the database lookup for resubmissions.
  const statuses = new TxStatusReader(db, { seenFilter: true });
  const telemetry = await startTelemetry("gateway", new Env(), log);
  observeHeight("gateway", () => statuses.committedHeight());
  const watcher = new TxWatcher(statuses, cfg.waitersMax);
  const listener = await listenHeights(dbUrl, (n) => {
    watcher.wake();
    if (n.source === "executor") statuses.noteCommitted(n.height);
    if (n.source === "executor" && n.membershipChanged)
      void membership.refresh().catch((e: unknown) => log.warn({ err: e }, "membership refresh failed"));
  });
  const executor = new ExecutorQueryServiceClient(executorAddr, credentials.createInsecure());
  // Ed25519 on worker threads (0: on the event loop); checks of concurrent submissions travel in batches.
  const verifyWorkers = cfg.verifyWorkers;
  const verifier =
    verifyWorkers === 0
      ? undefined
      : new BatchingVerifier(new VerifyPool({ workers: verifyWorkers, chunkChecksMax: 32 }), {
          batchChecksMax: cfg.verifyBatchMax,
        });
  const gw = new Gateway(
    {
      chainId: genesis.chainId,
      inFlightMax: cfg.inFlightMax,
      publishTimeoutMs: cfg.publishTimeoutMs,
      publishRetryMs: cfg.publishRetryMs,
      waitMsDefault: cfg.waitMsDefault,
      waitMsMax: cfg.waitMsMax,
      queryTimeoutMs: cfg.queryTimeoutMs,
      recentAcceptedMax: 100_000,
      streamInFlightMax: cfg.streamInFlightMax,
      institution: cfg.institution,
      callDeadlineMsDefault: cfg.callDeadlineMsDefault,
    },
    {
      bus,
      names,
      membership,
      statuses,
      watcher,
      executor,
      proofs: new ChainProofs(db),
      ...(verifier !== undefined ? { verifier } : {}),
      nowMs: () => Date.now(),
      log,
      admissions: gatewayAdmissions,
    },
  );
  const server = await startServer({
    host: listen.host,
    port: listen.port,
    healthNames: ["tally.v1.GatewayService"],
    descriptorSetPath,
    services: [gatewayService(gw, identify)],
    receiveBytesMax: 256 * 1024,
    ...(serverCredentials !== undefined ? { credentials: serverCredentials } : {}),
    ...(healthAddr !== undefined ? { healthListen: healthAddr } : {}),
  });
  log.info({ grpc: server.address, tls: !insecureMode, health: server.healthAddress }, "gateway listening");
  // SIGTERM: NOT_SERVING; refuse new submissions and end SubmitStreams; finish (publish and
  // answer) those in flight; stop the gRPC server (waits are cut at the grace); close NATS and Postgres.
  onTerminate({
    log,
    drainTimeoutMs: cfg.drainTimeoutMs,
    steps: () => [
      { name: "not serving", run: () => server.notServing() },
      { name: "finish submissions in flight", run: (left) => within(gw.drain(), left / 2) },
      { name: "stop gRPC", run: (left) => server.stop(Math.min(2000, left / 2)) },
      { name: "stop watching", run: () => (watcher.stop(), executor.close()) },
      { name: "close verifier", run: () => verifier?.close() },
      { name: "close Postgres listener", run: () => listener.close() },
      { name: "drain NATS", run: () => bus.nc.drain() },
      { name: "close Postgres", run: () => db.destroy() },
      // Spans still buffered for OTLP are sent before the process exits; /metrics closes.
      { name: "flush telemetry", run: () => telemetry.close() },
    ],
  });
}

main().catch((e: unknown) => {
  log.fatal({ err: e }, "gateway failed");
  process.exit(1);
});
