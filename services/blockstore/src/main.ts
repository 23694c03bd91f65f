#!/usr/bin/env node
// The blockstore's imperative shell: reads config, builds connections, starts.
import { descriptorSetPath } from "@tally/proto/descriptor";
import { BackfillFollower, BlockFollower, blockSeqOf, busNames, connectBus, ensureStreams, streamLastSeq } from "@tally/bus";
import { Env, loadGenesis } from "@tally/config";
import { HeightSignal, listenHeights, migrateToLatest, openDb } from "@tally/db";
import { startServer } from "@tally/rpc";
import { createLogger, observeConsumer, observeHeight, startTelemetry } from "@tally/telemetry";
import { BlockStore } from "./block-store.js";
import { blockstoreService } from "./blockstore-service.js";
import { runBlockstore } from "./blockstore.js";
import { peerBackfill } from "./peer-backfill.js";

const env = new Env();
const nodeId = env.str("NODE_ID");
const log = createLogger("blockstore", { nodeId });

async function main(): Promise<void> {
  const genesis = loadGenesis(env.str("GENESIS_FILE"));
  const names = busNames(env.str("TALLY_NAMESPACE", "tally"));
  const listen = env.addr("GRPC_ADDR", "127.0.0.1:0");
  const dbUrl = env.str("DATABASE_URL");
  // asyncCommit: this database is a projection of the BLOCKS stream, not the record. A crash
  // may lose the last few milliseconds of commits, but each block's effects and the checkpoint
  // commit atomically, so the service restarts from a consistent checkpoint and re-applies
  // what was lost, reaching the identical state. It saves a WAL flush per block.
  const db = openDb(dbUrl, { asyncCommit: true });
  await migrateToLatest(db);
  const bus = await connectBus({ url: env.str("NATS_URL", "nats://127.0.0.1:4222"), name: `blockstore-${nodeId}` });
  // BLOCKS retention (issue 8), and the peers whose blockstores serve what it dropped.
  const blocksMaxMsgs = env.optional("BLOCKS_MAX_MSGS") === undefined ? undefined : env.int("BLOCKS_MAX_MSGS", 0, 1);
  const blocksMaxAgeMs = env.optional("BLOCKS_MAX_AGE_MS") === undefined ? undefined : env.int("BLOCKS_MAX_AGE_MS", 0, 1000);
  const peers = (env.optional("PEER_BLOCKSTORE_ADDRS") ?? "")
    .split(",")
    .map((a) => a.trim())
    .filter((a) => a.length > 0);
  await ensureStreams(bus.jsm, names, {
    replicas: env.int("STREAM_REPLICAS", 1, 1, 5),
    ...(blocksMaxMsgs === undefined ? {} : { blocksMaxMsgs }),
    ...(blocksMaxAgeMs === undefined ? {} : { blocksMaxAgeMs }),
  });
  const store = new BlockStore(db);
  await startTelemetry("blockstore", env, log);
  const storedHeight = async (): Promise<bigint | undefined> => (await store.tip())?.height;
  observeHeight("blockstore", storedHeight);
  observeConsumer("blockstore", names.blocksStream, streamLastSeq(bus, names.blocksStream), async () => {
    const h = await storedHeight();
    return h === undefined ? 0 : blockSeqOf(h);
  });
  const signal = new HeightSignal(500);
  const listener = await listenHeights(dbUrl, (n) => n.source === "blockstore" && signal.notify());
  const server = await startServer({
    host: listen.host,
    port: listen.port,
    healthNames: ["tally.v1.BlockstoreService"],
    descriptorSetPath,
    services: [blockstoreService(store, genesis.chainId, (_h, s) => signal.wait(s))],
  });
  log.info({ grpc: server.address }, "blockstore listening");
  const follower = new BackfillFollower(
    bus,
    names,
    new BlockFollower(bus, names, (why, fromHeight) => log.warn({ why, fromHeight: fromHeight.toString() }, "BLOCKS consumer recreated")),
    peers.length === 0 ? undefined : peerBackfill(peers, log),
    (from, to) =>
      log.info(
        { fromHeight: from.toString(), toHeight: to.toString(), peers },
        "BLOCKS no longer holds these heights: fetching them from peers",
      ),
  );
  const shutdown = async (code: number): Promise<void> => {
    await follower.close().catch(() => undefined);
    await server.stop(1000);
    await listener.close().catch(() => undefined);
    await bus.nc.drain().catch(() => undefined);
    await db.destroy();
    process.exit(code);
  };
  process.on("SIGTERM", () => void shutdown(0));
  process.on("SIGINT", () => void shutdown(0));
  await runBlockstore({ store, follower, genesis, log });
}

main().catch((e: unknown) => {
  log.fatal({ err: e }, "blockstore stopped");
  process.exit(1);
});
