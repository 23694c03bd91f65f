#!/usr/bin/env node
// The blockstore's imperative shell: reads config, builds connections, starts.
import { descriptorSetPath } from "@tally/proto/descriptor";
import { BackfillFollower, BlockFollower, blockSeqOf, busNames, connectBus, ensureStreams, streamLastSeq } from "@tally/bus";
import { blockstoreConfig, configOrExit, Env } from "@tally/config";
import { HeightSignal, listenHeights, migrateToLatest, openDb } from "@tally/db";
import { onTerminate, startServer, within } from "@tally/rpc";
import { createLogger, haltOnInvariant, observeConsumer, observeHeight, startTelemetry } from "@tally/telemetry";
import { BlockStore } from "./block-store.js";
import { blockstoreService } from "./blockstore-service.js";
import { runBlockstore } from "./blockstore.js";
import { committedSequencersFrom } from "./committed-sequencers.js";
import { peerBackfill } from "./peer-backfill.js";

const cfg = configOrExit("blockstore", () => blockstoreConfig());
const nodeId = cfg.nodeId;
const log = createLogger("blockstore", { nodeId });

async function main(): Promise<void> {
  const genesis = cfg.genesis;
  const names = busNames(cfg.namespace);
  const listen = cfg.listen;
  const dbUrl = cfg.databaseUrl;
  // asyncCommit: this database is a projection of the BLOCKS stream, not the record. A crash
  // may lose the last few milliseconds of commits, but each block's effects and the checkpoint
  // commit atomically, so the service restarts from a consistent checkpoint and re-applies
  // what was lost, reaching the identical state. It saves a WAL flush per block.
  const db = openDb(dbUrl, { asyncCommit: true });
  await migrateToLatest(db);
  const bus = await connectBus({ url: cfg.natsUrl, name: `blockstore-${nodeId}` });
  // BLOCKS retention (issue 8), and the peers whose blockstores serve what it dropped.
  const { blocksMaxMsgs, blocksMaxAgeMs, peers } = cfg;
  // Off under a per-role NATS user (no stream management): the setup step made the streams.
  if (cfg.ensureStreams)
    await ensureStreams(bus.jsm, names, {
      replicas: cfg.streamReplicas,
      ...(blocksMaxMsgs === undefined ? {} : { blocksMaxMsgs }),
      ...(blocksMaxAgeMs === undefined ? {} : { blocksMaxAgeMs }),
    });
  const store = new BlockStore(db);
  const telemetry = await startTelemetry("blockstore", new Env(), log);
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
    ...(cfg.healthAddr !== undefined ? { healthListen: cfg.healthAddr } : {}),
  });
  log.info({ grpc: server.address, health: server.healthAddress }, "blockstore listening");
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
  // Signers judged by the sequencer set the node's executor committed (docs/architecture.md).
  const running = runBlockstore({ store, follower, genesis, log, committedSequencers: committedSequencersFrom(db) });
  // SIGTERM: NOT_SERVING; stop reading BLOCKS and finish storing the batch in hand (what is not
  // stored is read again from the stored tip on restart); stop gRPC; close NATS and Postgres.
  const terminate = onTerminate({
    log,
    drainTimeoutMs: cfg.drainTimeoutMs,
    steps: () => [
      { name: "not serving", run: () => server.notServing() },
      { name: "stop following BLOCKS", run: (left) => within(follower.close(), left / 4) },
      { name: "finish the batch in hand", run: (left) => within(running, left / 2) },
      { name: "stop gRPC", run: (left) => server.stop(Math.min(1000, left / 2)) },
      { name: "close Postgres listener", run: () => listener.close() },
      { name: "drain NATS", run: () => bus.nc.drain() },
      { name: "close Postgres", run: () => db.destroy() },
      // Spans still buffered for OTLP are sent before the process exits; /metrics closes.
      { name: "flush telemetry", run: () => telemetry.close() },
    ],
  });
  // A failure while shutting down (a connection closed under it) is the shutdown's, not a crash.
  // A block that fails verification halts the blockstore at its last good block, up and alerting
  // (tally_halted), until an operator restarts it; any other failure crashes it.
  await running.catch((e: unknown) => {
    if (terminate.stopping) return;
    haltOnInvariant(e, { log, notServing: () => server.health.setStatus("tally.v1.BlockstoreService", "NOT_SERVING") });
  });
}

main().catch((e: unknown) => {
  log.fatal({ err: e }, "blockstore stopped");
  process.exit(1);
});
