#!/usr/bin/env node
// The sequencer's imperative shell: reads config, builds connections, starts.
import { status } from "@grpc/grpc-js";
import { SequencerAdminServiceService, SequencerRole, type StepDownRequest } from "@tally/proto/sequencer";
import { descriptorSetPath } from "@tally/proto/descriptor";
import { busNames, connectBus, ensureLeaseBucket, ensureStreams, openLeaseBucket, streamLastSeq } from "@tally/bus";
import { configOrExit, Env, EXIT_CONFIG, sequencerConfig } from "@tally/config";
import { onTerminate, RpcError, startServer, within, wrapService } from "@tally/rpc";
import { createLogger, observeSequencer, startTelemetry } from "@tally/telemetry";
import { performance } from "node:perf_hooks";
import { Lease, LeaseHeldError, natsLeaseKv, watchReleases } from "./lease.js";
import { Sequencer } from "./sequencer.js";
import { SequencerSetTracker } from "./set-tracker.js";

const cfg = configOrExit("sequencer", () => sequencerConfig());
const sequencerId = cfg.sequencerId;
const log = createLogger("sequencer", { sequencerId });

async function main(): Promise<void> {
  const genesis = cfg.genesis;
  const key = cfg.key;
  const names = busNames(cfg.namespace);
  const admin = cfg.admin;
  const bus = await connectBus({ url: cfg.natsUrl, name: `sequencer-${sequencerId}` });
  const telemetry = await startTelemetry("sequencer", new Env(), log);
  const replicas = cfg.streamReplicas;
  if (cfg.ensureStreams) await ensureStreams(bus.jsm, names, { replicas });
  const ttlMs = cfg.lease.ttlMs;
  const leaseTimes = cfg.lease;
  // Under a per-role NATS user the setup step made the bucket (its TTL is then the setup's LEASE_TTL_MS).
  const bucket = cfg.ensureStreams
    ? await ensureLeaseBucket(bus, names, { leaseTtlMs: ttlMs, replicas })
    : await openLeaseBucket(bus, names, { leaseTtlMs: ttlMs });
  const kv = natsLeaseKv(bucket, cfg.leaseOpTimeoutMs);
  // The lease's clock is monotonic: a wall-clock jump on this machine cannot move its deadlines.
  const now = (): number => performance.now();
  // One live instance per id: a presence key renewed like the lease. If it exists, watch it for
  // a TTL: renewed means another live instance (refuse to start); lapsed means a dead one.
  const presence = new Lease(kv, { key: `member.${sequencerId}`, holder: sequencerId, campaign: false, ...leaseTimes }, now, log);
  try {
    await presence.claim();
  } catch (e) {
    if (e instanceof LeaseHeldError) {
      log.fatal({ err: e.message }, `another sequencer with id ${sequencerId} is running: refusing to start`);
      await bus.nc.close();
      process.exit(2);
    }
    throw e;
  }
  presence.start();
  // The sequencer set in force, from the validators' receipts: this instance never cuts a block
  // at a height whose set it is not in, and does not campaign while it is not in the latest one.
  const sets = new SequencerSetTracker(
    { bus, names, genesis, log },
    { sequencerId, publicKey: key.key.publicKey, waitMs: cfg.setWaitMs, scanBlocksMax: cfg.setScanBlocksMax },
  );
  await sets.start();
  if (!genesis.sequencers.some((s) => s.id === sequencerId)) {
    // Not a genesis sequencer: start only if governance added it (id and key), as a quorum of validators reports.
    const added = await sets.waitUntil(() => !sets.retired, new AbortController().signal, cfg.setWaitMs);
    if (!added) {
      const latest = sets.knowledge.latest();
      log.fatal(
        { sequencers: latest.sequencers.map((s) => s.id), height: latest.height.toString(), signers: latest.signers },
        `SEQUENCER_ID ${sequencerId} with this key is neither in the genesis sequencer set nor in the set in force that a quorum of validators reports: refusing to start`,
      );
      await sets.stop();
      await presence.release();
      await bus.nc.close();
      process.exit(EXIT_CONFIG);
    }
  }
  const lease = new Lease(kv, { key: "master", holder: sequencerId, ...leaseTimes, mayCampaign: () => !sets.retired }, now, log);
  const onCut = observeSequencer(() => seq.status(), names.txsStream, streamLastSeq(bus, names.txsStream));
  const seq = new Sequencer(
    {
      sequencerId,
      blockTxsMax: cfg.blockTxsMax,
      blockBytesMax: cfg.blockBytesMax,
      cutWaitMs: cfg.cutWaitMs,
      fetchTxsMax: cfg.fetchTxsMax,
      publishTimeoutMs: cfg.publishTimeoutMs,
      setWaitMs: cfg.setWaitMs,
      setScanBlocksMax: cfg.setScanBlocksMax,
    },
    { bus, names, genesis, key: key.key, nowMs: () => Date.now(), log, onCut, sequencerSet: sets },
  );
  const server = await startServer({
    host: admin.host,
    port: admin.port,
    healthNames: ["tally.v1.SequencerAdminService"],
    descriptorSetPath,
    services: [
      wrapService(SequencerAdminServiceService, {
        stepDown: async (req: StepDownRequest) => {
          if (req.holdOffMs > 600_000) throw new RpcError(status.INVALID_ARGUMENT, "hold_off_ms must be at most 600000", "BAD_HOLD_OFF");
          const wasMaster = lease.role === "master";
          if (wasMaster) await lease.stepDown("admin StepDown", req.holdOffMs === 0 ? 2 * ttlMs : req.holdOffMs);
          log.info({ wasMaster, holdOffMs: req.holdOffMs }, "StepDown requested");
          return { wasMaster };
        },
        getStatus: () => {
          const s = seq.status();
          return Promise.resolve({
            sequencerId,
            role: s.master
              ? SequencerRole.SEQUENCER_ROLE_MASTER
              : s.retired
                ? SequencerRole.SEQUENCER_ROLE_RETIRED
                : SequencerRole.SEQUENCER_ROLE_BACKUP,
            epoch: s.epoch,
            height: s.height,
            lastTxsSeq: s.lastTxsSeq,
            blocksCut: BigInt(s.blocksCut),
            failovers: s.failovers,
            leaderlessMsLast: BigInt(s.leaderlessMsLast),
            leaderlessMsTotal: BigInt(s.leaderlessMsTotal),
            blockIntervalMsLast: BigInt(s.blockIntervalMsLast),
            blockIntervalMsMean: BigInt(s.blockIntervalMsMean),
            sequencerSet: [...s.sequencerSet],
            sequencerSetHeight: s.sequencerSetHeight,
          });
        },
      }),
    ],
    ...(cfg.healthAddr !== undefined ? { healthListen: cfg.healthAddr } : {}),
  });
  log.info({ admin: server.address, health: server.healthAddress }, "sequencer admin listening");
  // Retired: not ready (the readiness probe asks for the admin service), still alive (the liveness probe asks for "").
  const readiness = (retired: boolean): void => {
    if (!terminate.stopping) server.health.setStatus("tally.v1.SequencerAdminService", retired ? "NOT_SERVING" : "SERVING");
  };
  const watching = new AbortController();
  // SIGTERM: NOT_SERVING; cut no new block but finish the one in flight; hand the lease over at
  // once (CAS delete: a backup takes it in milliseconds); stop the admin server; drain NATS.
  const terminate = onTerminate({
    log,
    drainTimeoutMs: cfg.drainTimeoutMs,
    steps: () => [
      { name: "not serving", run: () => server.notServing() },
      { name: "finish the block in flight", run: (left) => (watching.abort(), within(seq.stop(), left / 2)) },
      {
        name: "release the lease",
        run: async () => {
          await lease.release();
          await presence.release();
          log.info("lease released");
        },
      },
      { name: "stop following receipts and blocks", run: (left) => within(sets.stop(), left / 2) },
      { name: "stop gRPC", run: (left) => server.stop(Math.min(1000, left / 2)) },
      { name: "drain NATS", run: () => bus.nc.drain() },
      // Spans still buffered for OTLP are sent before the process exits; /metrics closes.
      { name: "flush telemetry", run: () => telemetry.close() },
    ],
  });
  const shutdown = (code: number): Promise<void> => terminate.shutdown(code, "presence lost");
  presence.onChange((role, why) => {
    if (role !== "backup" || terminate.stopping) return;
    if (why === "taken") {
      // Another instance wrote our presence key: a twin with our id. Stop leading and exit.
      log.fatal({ why }, "another sequencer with this id took the presence key: exiting");
      void shutdown(3);
      return;
    }
    // Not renewed in time (NATS trouble): claim it again, unless a twin heartbeats it meanwhile.
    log.warn({ why }, "presence key not renewed in time: claiming it again");
    presence.claim().then(
      () => log.info("presence key claimed again"),
      (e: unknown) => {
        log.fatal({ err: (e as Error).message }, "another sequencer with this id is running: exiting");
        void shutdown(3);
      },
    );
  });
  lease.onChange((role, why, epoch) => log.info({ role, why, epoch: epoch.toString() }, `lease: now ${role}`));
  sets.onChange((retired) => readiness(retired));
  readiness(sets.retired);
  if (sets.retired) log.warn("retired: this sequencer is not in the sequencer set in force; it will not campaign for the lease");
  lease.start();
  // A released lease is taken at once, not at the next poll: graceful handover in milliseconds.
  watchReleases(bucket, "master", () => void lease.poke(), watching.signal, log);
  await seq.run(lease);
}

main().catch((e: unknown) => {
  log.fatal({ err: e }, "sequencer failed");
  process.exit(1);
});
