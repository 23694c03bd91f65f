#!/usr/bin/env node
// The executor's imperative shell: reads config, builds connections, starts.
import { availableParallelism } from "node:os";
import { descriptorSetPath } from "@tally/proto/descriptor";
import { BlockFollower, busNames, connectBus, ensureStreams } from "@tally/bus";
import { Env, loadGenesis, loadKeyFile } from "@tally/config";
import { builtinContracts } from "@tally/contracts";
import { migrateToLatest, openDb } from "@tally/db";
import { startServer } from "@tally/rpc";
import { createLogger } from "@tally/telemetry";
import { EffectsStore } from "./effects-store.js";
import { eventAnnouncer } from "./event-announcer.js";
import { runExecutor } from "./executor.js";
import { dbSnapshot, queryService } from "./query-service.js";
import { ReceiptPublisher } from "./receipts.js";
import { DbStateReader } from "./state-reader.js";
import { VerifyPool } from "./verify-pool.js";

const env = new Env();
const nodeId = env.str("NODE_ID");
const log = createLogger("executor", { nodeId });

async function main(): Promise<void> {
  const genesis = loadGenesis(env.str("GENESIS_FILE"));
  const nodeKey = loadKeyFile(env.str("NODE_KEY_FILE"));
  const names = busNames(env.str("TALLY_NAMESPACE", "tally"));
  const listen = env.addr("GRPC_ADDR", "127.0.0.1:0");
  // Signature verify worker threads; 0 verifies inline on the executor's own thread.
  const verifyWorkers = env.int("VERIFY_WORKERS", availableParallelism(), 0, 64);
  // asyncCommit: this database is a projection of the BLOCKS stream, not the record. A crash
  // may lose the last few milliseconds of commits, but each block's effects and the checkpoint
  // commit atomically, so the service restarts from a consistent checkpoint and re-applies
  // what was lost, reaching the identical state. It saves a WAL flush per block.
  const db = openDb(env.str("DATABASE_URL"), { asyncCommit: true });
  await migrateToLatest(db);
  const bus = await connectBus({ url: env.str("NATS_URL", "nats://127.0.0.1:4222"), name: `executor-${nodeId}` });
  await ensureStreams(bus.jsm, names, { replicas: env.int("STREAM_REPLICAS", 1, 1, 5) });
  const store = new EffectsStore(db);
  const reader = new DbStateReader(db);
  const server = await startServer({
    host: listen.host,
    port: listen.port,
    healthNames: ["tally.v1.ExecutorQueryService"],
    descriptorSetPath,
    services: [queryService(builtinContracts, dbSnapshot(db))],
  });
  log.info({ grpc: server.address }, "executor listening");
  const follower = new BlockFollower(bus, names);
  const receipts = new ReceiptPublisher(bus, names, nodeId, log);
  const announce = env.bool("PUBLISH_EVENTS", false) ? eventAnnouncer(bus, names, nodeId) : undefined;
  const verifier = verifyWorkers === 0 ? undefined : new VerifyPool({ workers: verifyWorkers });
  const shutdown = async (code: number): Promise<void> => {
    await follower.close().catch(() => undefined);
    await receipts.flush().catch(() => undefined);
    await server.stop(1000);
    await bus.nc.drain().catch(() => undefined);
    // Its workers would keep the process alive, and a block still waiting for them stops here as it would on the database.
    await verifier?.close().catch(() => undefined);
    await db.destroy();
    process.exit(code);
  };
  process.on("SIGTERM", () => void shutdown(0));
  process.on("SIGINT", () => void shutdown(0));
  await runExecutor({
    nodeId,
    genesis,
    contracts: builtinContracts,
    store,
    reader,
    follower,
    receipts,
    nodeKey: nodeKey.key,
    log,
    ...(verifier === undefined ? {} : { verifier }),
    onApplied: (e) => {
      announce?.(e);
      log.debug({ height: e.height.toString(), txs: e.results.length }, "applied");
    },
  });
}

main().catch((e: unknown) => {
  log.fatal({ err: e }, "executor stopped");
  process.exit(1);
});
