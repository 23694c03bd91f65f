#!/usr/bin/env node
// The gateway's imperative shell: reads config, builds connections, starts.
import { credentials } from "@grpc/grpc-js";
import { ExecutorQueryServiceClient } from "@tally/proto/executor";
import { descriptorSetPath } from "@tally/proto/descriptor";
import { busNames, connectBus, ensureStreams } from "@tally/bus";
import { ConfigError, Env, loadGenesis } from "@tally/config";
import { listenHeights, migrateToLatest, openDb } from "@tally/db";
import { startServer } from "@tally/rpc";
import { createLogger } from "@tally/telemetry";
import { Gateway, gatewayService } from "./gateway-service.js";
import { MembershipCache } from "./membership-cache.js";
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
  // Plaintext is for development only, and only on loopback. mTLS is the production mode.
  if (!env.bool("GATEWAY_INSECURE", false))
    throw new ConfigError("GATEWAY_INSECURE must be true: this build serves plaintext gRPC only, on loopback");
  if (!isLoopback(listen.host))
    throw new ConfigError(`GRPC_ADDR ${listen.host} is not a loopback address; plaintext gRPC is refused there`);
  const executorAddr = env.str("EXECUTOR_ADDR");
  const dbUrl = env.str("DATABASE_URL");
  const db = openDb(dbUrl);
  await migrateToLatest(db);
  const bus = await connectBus({ url: env.str("NATS_URL", "nats://127.0.0.1:4222"), name: `gateway-${nodeId}` });
  await ensureStreams(bus.jsm, names, { replicas: env.int("STREAM_REPLICAS", 1, 1, 5) });
  const membership = new MembershipCache(db, genesis);
  await membership.refresh();
  const statuses = new TxStatusReader(db);
  const watcher = new TxWatcher(statuses, env.int("GATEWAY_WAITERS_MAX", 10_000, 1, 1_000_000));
  const listener = await listenHeights(dbUrl, (n) => {
    watcher.wake();
    if (n.source === "executor") statuses.noteCommitted(n.height);
    if (n.source === "executor" && n.membershipChanged)
      void membership.refresh().catch((e: unknown) => log.warn({ err: e }, "membership refresh failed"));
  });
  const executor = new ExecutorQueryServiceClient(executorAddr, credentials.createInsecure());
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
    },
    { bus, names, membership, statuses, watcher, executor, nowMs: () => Date.now(), log },
  );
  const server = await startServer({
    host: listen.host,
    port: listen.port,
    healthNames: ["tally.v1.GatewayService"],
    descriptorSetPath,
    services: [gatewayService(gw)],
    receiveBytesMax: 256 * 1024,
  });
  log.info({ grpc: server.address }, "gateway listening");
  const shutdown = async (): Promise<void> => {
    watcher.stop();
    await server.stop(2000);
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
