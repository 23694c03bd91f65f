#!/usr/bin/env node
// The executor's imperative shell: reads config, builds connections, starts.
import { descriptorSetPath } from "@tally/proto/descriptor";
import { BackfillFollower, BlockFollower, blockSeqOf, busNames, connectBus, ensureStreams, streamLastSeq } from "@tally/bus";
import { configOrExit, Env, executorConfig } from "@tally/config";
import { builtinContracts } from "@tally/contracts";
import { UserContractRegistry } from "@tally/user-contracts";
import { migrateToLatest, openDb } from "@tally/db";
import { onTerminate, startServer, within, type GracefulShutdown } from "@tally/rpc";
import {
  countOutcomes,
  createLogger,
  haltOnInvariant,
  observeConsumer,
  observeFinality,
  observeHeight,
  startTelemetry,
} from "@tally/telemetry";
import { EffectsStore } from "./effects-store.js";
import { FinalityTracker } from "./finality-tracker.js";
import { localBackfill } from "./local-backfill.js";
import { NodeHealth } from "./node-health.js";
import { eventAnnouncer } from "./event-announcer.js";
import { runExecutor } from "./executor.js";
import { queryContracts } from "./query-contracts.js";
import { dbSnapshot, queryService } from "./query-service.js";
import { ReceiptPublisher } from "./receipts.js";
import { DbStateReader } from "./state-reader.js";
import { VerifyPool } from "./verify-pool.js";

const cfg = configOrExit("executor", () => executorConfig());
const nodeId = cfg.nodeId;
const log = createLogger("executor", { nodeId });

let terminate: GracefulShutdown = { shutdown: () => Promise.resolve(), stopping: false };

async function main(): Promise<void> {
  const genesis = cfg.genesis;
  const nodeKey = cfg.nodeKey;
  const names = busNames(cfg.namespace);
  const listen = cfg.listen;
  // Signature verify worker threads; 0 verifies inline on the executor's own thread.
  const verifyWorkers = cfg.verifyWorkers;
  // asyncCommit: this database is a projection of the BLOCKS stream, not the record. A crash
  // may lose the last few milliseconds of commits, but each block's effects and the checkpoint
  // commit atomically, so the service restarts from a consistent checkpoint and re-applies
  // what was lost, reaching the identical state. It saves a WAL flush per block.
  const db = openDb(cfg.databaseUrl, { asyncCommit: true });
  await migrateToLatest(db);
  const bus = await connectBus({ url: cfg.natsUrl, name: `executor-${nodeId}` });
  if (cfg.ensureStreams) await ensureStreams(bus.jsm, names, { replicas: cfg.streamReplicas });
  const store = new EffectsStore(db);
  const telemetry = await startTelemetry("executor", new Env(), log);
  let appliedHeight = (await store.checkpoint())?.height;
  observeHeight("executor", () => appliedHeight);
  observeConsumer("executor", names.blocksStream, streamLastSeq(bus, names.blocksStream), () =>
    appliedHeight === undefined ? 0 : blockSeqOf(appliedHeight),
  );
  observeFinality(
    () => appliedHeight,
    () => tracker.store.status(),
  );
  const reader = new DbStateReader(db);
  // Finality (issue 8): the tracker follows RECEIPTS; a divergence makes the query service NOT_SERVING.
  let setServing: (serving: boolean) => void = () => undefined;
  const health = new NodeHealth(
    () => tracker.store.openDivergences(),
    (serving) => setServing(serving),
    log,
  );
  const tracker = new FinalityTracker({
    db,
    genesis,
    nodeId,
    nodePublicKey: nodeKey.key.publicKey,
    log,
    nowMs: () => Date.now(),
    onDivergence: () => health.noteDivergence(),
  });
  let chainTip: { height: bigint | undefined; atMs: number } = { height: undefined, atMs: 0 };
  // User contracts' queries run in a sandbox of their own, apart from the one blocks run in.
  const forQueries = queryContracts(db, builtinContracts, await UserContractRegistry.create());
  const chainHeight = async (): Promise<bigint | undefined> => {
    if (Date.now() - chainTip.atMs < 500) return chainTip.height;
    const info = await bus.jsm.streams.info(names.blocksStream).catch(() => undefined);
    chainTip = { height: info === undefined || info.state.last_seq === 0 ? undefined : BigInt(info.state.last_seq - 1), atMs: Date.now() };
    return chainTip.height;
  };
  const server = await startServer({
    host: listen.host,
    port: listen.port,
    healthNames: ["tally.v1.ExecutorQueryService"],
    descriptorSetPath,
    services: [
      queryService(forQueries.current, dbSnapshot(db), {
        guard: () => health.guard(),
        progress: async () => ({ ...(await tracker.store.status()), chainHeight: await chainHeight() }),
      }),
    ],
    ...(cfg.healthAddr !== undefined ? { healthListen: cfg.healthAddr } : {}),
  });
  setServing = (serving) => server.health.setStatus("tally.v1.ExecutorQueryService", serving ? "SERVING" : "NOT_SERVING");
  await health.refresh();
  health.start();
  tracker.run(bus, names).catch((e: unknown) => {
    if (terminate.stopping) return;
    log.fatal({ err: e }, "finality tracker stopped");
    process.exit(1);
  });
  log.info({ grpc: server.address, health: server.healthAddress }, "executor listening");
  // Heights BLOCKS no longer keeps come from this node's blockstore tables (it fetches them from peers).
  const follower = new BackfillFollower(bus, names, new BlockFollower(bus, names), localBackfill(db), (from, to) =>
    log.info(
      { fromHeight: from.toString(), toHeight: to.toString() },
      "BLOCKS no longer holds these heights: reading them from the blockstore's tables",
    ),
  );
  const receipts = new ReceiptPublisher(bus, names, nodeId, log);
  const announce = cfg.publishEvents ? eventAnnouncer(bus, names, nodeId) : undefined;
  const verifier = verifyWorkers === 0 ? undefined : new VerifyPool({ workers: verifyWorkers });
  const running = runExecutor({
    nodeId,
    genesis,
    contracts: builtinContracts,
    userContracts: await UserContractRegistry.create(),
    store,
    reader,
    follower,
    receipts,
    nodeKey: nodeKey.key,
    log,
    ...(verifier === undefined ? {} : { verifier }),
    onApplied: (e) => {
      appliedHeight = e.height;
      countOutcomes(e.results);
      announce?.(e);
      forQueries.applied(e);
      tracker.noteOwn(e.height, e.blockHash, e.stateRoot, e.blockTimeMs);
      log.debug({ height: e.height.toString(), txs: e.results.length }, "applied");
    },
  });
  // SIGTERM: NOT_SERVING; stop reading BLOCKS and RECEIPTS; finish the batch in hand (commit and
  // send its receipts: what is not committed is applied again from the checkpoint on restart);
  // stop gRPC; close NATS, the verify workers and Postgres.
  terminate = onTerminate({
    log,
    drainTimeoutMs: cfg.drainTimeoutMs,
    steps: () => [
      { name: "not serving", run: () => (health.stop(), server.notServing()) },
      { name: "stop following", run: (left) => within(Promise.all([follower.close(), tracker.close()]), left / 4) },
      { name: "finish the batch in hand", run: (left) => within(running, left / 2) },
      { name: "send receipts", run: () => receipts.flush() },
      { name: "stop gRPC", run: (left) => server.stop(Math.min(1000, left / 2)) },
      { name: "drain NATS", run: () => bus.nc.drain() },
      // Its workers would keep the process alive.
      { name: "close verify workers", run: () => verifier?.close() },
      { name: "close Postgres", run: () => db.destroy() },
      // Spans still buffered for OTLP are sent before the process exits; /metrics closes.
      { name: "flush telemetry", run: () => telemetry.close() },
    ],
  });
  // A failure while shutting down (a connection closed under it) is the shutdown's, not a crash.
  // A block that fails verification halts the executor at its last good block, up and alerting
  // (tally_halted), until an operator restarts it; any other failure crashes it. Its state up to
  // that block is right, so queries keep answering from it (the query service's health is the
  // divergence guard's to set).
  await running.catch((e: unknown) => {
    if (terminate.stopping) return;
    haltOnInvariant(e, { log, notServing: () => undefined });
  });
}

main().catch((e: unknown) => {
  log.fatal({ err: e }, "executor stopped");
  process.exit(1);
});
