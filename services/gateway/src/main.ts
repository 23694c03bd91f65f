#!/usr/bin/env node
// The gateway's imperative shell: reads config, builds connections, starts.
import { credentials } from "@grpc/grpc-js";
import { UserContractRegistry } from "@tally/user-contracts";
import { ExecutorQueryServiceClient } from "@tally/proto/executor";
import { descriptorSetPath } from "@tally/proto/descriptor";
import { busNames, connectBus, ensureStreams } from "@tally/bus";
import { ConfigError, Env, loadClientCertMap, loadGenesis } from "@tally/config";
import { listenHeights, migrateToLatest, openDb } from "@tally/db";
import { mtlsServerCredentials, startServer } from "@tally/rpc";
import { BatchingVerifier, VerifyPool } from "@tally/crypto-pool";
import { createLogger, gatewayAdmissions, observeHeight, startTelemetry } from "@tally/telemetry";
import { insecureHeaderCaller, mtlsCaller, type CallerIdentity } from "./caller-identity.js";
import { Gateway, gatewayService } from "./gateway-service.js";
import { MembershipCache } from "./membership-cache.js";
import { ChainProofs } from "./chain-proofs.js";
import { TxStatusReader } from "./tx-status-reader.js";
import { TxWatcher } from "./tx-watcher.js";

const env = new Env();
const nodeId = env.str("NODE_ID");
const log = createLogger("gateway", { nodeId });

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

async function main(): Promise<void> {
  const genesis = loadGenesis(env.str("GENESIS_FILE"));
  const names = busNames(env.str("TALLY_NAMESPACE", "tally"));
  const listen = env.addr("GRPC_ADDR", "127.0.0.1:0");
  // mTLS is the production mode: the client certificate says which institution calls.
  // Plaintext is for development only, only when asked for, and only on loopback.
  const insecureMode = env.bool("GATEWAY_INSECURE", false);
  let identify: CallerIdentity;
  let serverCredentials;
  if (insecureMode) {
    if (!isLoopback(listen.host))
      throw new ConfigError(`GRPC_ADDR ${listen.host} is not a loopback address; GATEWAY_INSECURE (plaintext gRPC) is refused there`);
    identify = insecureHeaderCaller();
    log.warn("GATEWAY_INSECURE: plaintext gRPC on loopback; callers name themselves in the tally-institution header");
  } else {
    const tls = {
      caFile: env.str("GATEWAY_CLIENT_CA_FILE"),
      certFile: env.str("GATEWAY_TLS_CERT_FILE"),
      keyFile: env.str("GATEWAY_TLS_KEY_FILE"),
    };
    try {
      serverCredentials = mtlsServerCredentials(tls);
    } catch (e) {
      throw new ConfigError(`GATEWAY_TLS_CERT_FILE / GATEWAY_TLS_KEY_FILE / GATEWAY_CLIENT_CA_FILE: ${(e as Error).message}`);
    }
    identify = mtlsCaller(loadClientCertMap(env.str("GATEWAY_CLIENT_MAP_FILE")));
  }
  const healthAddr = env.optional("HEALTH_ADDR") !== undefined ? env.addr("HEALTH_ADDR") : undefined;
  const executorAddr = env.str("EXECUTOR_ADDR");
  const dbUrl = env.str("DATABASE_URL");
  const db = openDb(dbUrl);
  await migrateToLatest(db);
  const bus = await connectBus({ url: env.str("NATS_URL", "nats://127.0.0.1:4222"), name: `gateway-${nodeId}` });
  await ensureStreams(bus.jsm, names, { replicas: env.int("STREAM_REPLICAS", 1, 1, 5) });
  // User contracts' declarations (their queries' args and visibility); their code never runs here but to read them.
  const membership = new MembershipCache(db, genesis, await UserContractRegistry.create());
  await membership.refresh();
  // A Bloom filter of applied tx ids spares most submissions the database lookup for resubmissions.
  const statuses = new TxStatusReader(db, { seenFilter: true });
  await startTelemetry("gateway", env, log);
  observeHeight("gateway", () => statuses.committedHeight());
  const watcher = new TxWatcher(statuses, env.int("GATEWAY_WAITERS_MAX", 10_000, 1, 1_000_000));
  const listener = await listenHeights(dbUrl, (n) => {
    watcher.wake();
    if (n.source === "executor") statuses.noteCommitted(n.height);
    if (n.source === "executor" && n.membershipChanged)
      void membership.refresh().catch((e: unknown) => log.warn({ err: e }, "membership refresh failed"));
  });
  const executor = new ExecutorQueryServiceClient(executorAddr, credentials.createInsecure());
  // Ed25519 on worker threads (0: on the event loop); checks of concurrent submissions travel in batches.
  const verifyWorkers = env.int("GATEWAY_VERIFY_WORKERS", 1, 0, 64);
  const verifier =
    verifyWorkers === 0
      ? undefined
      : new BatchingVerifier(new VerifyPool({ workers: verifyWorkers, chunkChecksMax: 32 }), {
          batchChecksMax: env.int("GATEWAY_VERIFY_BATCH_MAX", 256, 1, 4096),
        });
  const gw = new Gateway(
    {
      chainId: genesis.chainId,
      inFlightMax: env.int("GATEWAY_IN_FLIGHT_MAX", 4096, 1, 1_000_000),
      publishTimeoutMs: env.int("PUBLISH_TIMEOUT_MS", 5000, 100, 60_000),
      // Longer than a JetStream stream-leader election (5–7 s measured on nats-server 2.9).
      publishRetryMs: env.int("PUBLISH_RETRY_MS", 10_000, 0, 120_000),
      waitMsDefault: env.int("WAIT_MS_DEFAULT", 30_000, 1, 600_000),
      waitMsMax: env.int("WAIT_MS_MAX", 120_000, 1, 600_000),
      queryTimeoutMs: env.int("QUERY_TIMEOUT_MS", 5000, 100, 60_000),
      recentAcceptedMax: 100_000,
      streamInFlightMax: env.int("GATEWAY_STREAM_IN_FLIGHT_MAX", 1024, 1, 100_000),
      institution: {
        inFlightMax: env.int("GATEWAY_INSTITUTION_IN_FLIGHT_MAX", 2048, 1, 1_000_000),
        ratePerSec: env.int("GATEWAY_INSTITUTION_RATE", 10_000, 0, 10_000_000),
        burst: env.int("GATEWAY_INSTITUTION_BURST", 20_000, 1, 10_000_000),
      },
      callDeadlineMsDefault: env.int("CALL_DEADLINE_MS_DEFAULT", 30_000, 100, 600_000),
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
  const shutdown = async (): Promise<void> => {
    watcher.stop();
    await server.stop(2000);
    await verifier?.close();
    executor.close();
    await listener.close().catch(() => undefined);
    await bus.nc.drain().catch(() => undefined);
    await db.destroy();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown());
  process.on("SIGINT", () => void shutdown());
}

main().catch((e: unknown) => {
  log.fatal({ err: e }, "gateway failed");
  process.exit(1);
});
