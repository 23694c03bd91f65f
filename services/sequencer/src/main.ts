#!/usr/bin/env node
// The sequencer's imperative shell: reads config, builds connections, starts.
import { status } from "@grpc/grpc-js";
import { SequencerAdminServiceService, SequencerRole, type StepDownRequest } from "@tally/proto/sequencer";
import { descriptorSetPath } from "@tally/proto/descriptor";
import { busNames, connectBus, ensureLeaseBucket, ensureStreams, streamLastSeq } from "@tally/bus";
import { Env, loadGenesis, loadKeyFile } from "@tally/config";
import { RpcError, startServer, wrapService } from "@tally/rpc";
import { createLogger, observeSequencer, startTelemetry } from "@tally/telemetry";
import { performance } from "node:perf_hooks";
import { Lease, LeaseHeldError, natsLeaseKv, watchReleases } from "./lease.js";
import { Sequencer } from "./sequencer.js";

const env = new Env();
const sequencerId = env.str("SEQUENCER_ID");
const log = createLogger("sequencer", { sequencerId });

async function main(): Promise<void> {
  const genesis = loadGenesis(env.str("GENESIS_FILE"));
  const key = loadKeyFile(env.str("SEQUENCER_KEY_FILE"));
  if (!genesis.sequencers.some((s) => s.id === sequencerId))
    throw new Error(`SEQUENCER_ID ${sequencerId} is not in the genesis sequencer set`);
  const names = busNames(env.str("TALLY_NAMESPACE", "tally"));
  const admin = env.addr("ADMIN_GRPC_ADDR", "127.0.0.1:0");
  const bus = await connectBus({ url: env.str("NATS_URL", "nats://127.0.0.1:4222"), name: `sequencer-${sequencerId}` });
  await startTelemetry("sequencer", env, log);
  const replicas = env.int("STREAM_REPLICAS", 1, 1, 5);
  await ensureStreams(bus.jsm, names, { replicas });
  const ttlMs = env.int("LEASE_TTL_MS", 1300, 100, 60_000);
  const leaseTimes = {
    ttlMs,
    renewMs: env.int("LEASE_RENEW_MS", Math.floor(ttlMs / 5), 10, 60_000),
    pollMs: env.int("LEASE_POLL_MS", Math.min(100, Math.floor(ttlMs / 10)), 5, 60_000),
    marginMs: env.int("LEASE_MARGIN_MS", Math.floor(ttlMs / 6), 1, 60_000),
  };
  const bucket = await ensureLeaseBucket(bus, names, { leaseTtlMs: ttlMs, replicas });
  const kv = natsLeaseKv(bucket, env.int("LEASE_OP_TIMEOUT_MS", 500, 50, 60_000));
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
  const lease = new Lease(kv, { key: "master", holder: sequencerId, ...leaseTimes }, now, log);
  const onCut = observeSequencer(() => seq.status(), names.txsStream, streamLastSeq(bus, names.txsStream));
  const seq = new Sequencer(
    {
      sequencerId,
      blockTxsMax: env.int("BLOCK_TXS_MAX", 1000, 1, 10_000),
      blockBytesMax: env.int("BLOCK_BYTES_MAX", 900 * 1024, 1024, 8 * 1024 * 1024),
      cutWaitMs: env.int("CUT_WAIT_MS", 5, 1, 10_000),
      fetchTxsMax: env.int("FETCH_TXS_MAX", 2000, 1, 100_000),
      publishTimeoutMs: env.int("PUBLISH_TIMEOUT_MS", 2000, 100, 60_000),
    },
    { bus, names, genesis, key: key.key, nowMs: () => Date.now(), log, onCut },
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
            role: s.master ? SequencerRole.SEQUENCER_ROLE_MASTER : SequencerRole.SEQUENCER_ROLE_BACKUP,
            epoch: s.epoch,
            height: s.height,
            lastTxsSeq: s.lastTxsSeq,
            blocksCut: BigInt(s.blocksCut),
            failovers: s.failovers,
            leaderlessMsLast: BigInt(s.leaderlessMsLast),
            leaderlessMsTotal: BigInt(s.leaderlessMsTotal),
            blockIntervalMsLast: BigInt(s.blockIntervalMsLast),
            blockIntervalMsMean: BigInt(s.blockIntervalMsMean),
          });
        },
      }),
    ],
  });
  log.info({ admin: server.address }, "sequencer admin listening");
  let stopping = false;
  const watching = new AbortController();
  const shutdown = async (code = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down");
    // Finish the block in flight, then hand the lease over at once (CAS delete).
    watching.abort();
    await seq.stop();
    await lease.release();
    await presence.release();
    log.info("lease released");
    await server.stop(1000);
    await bus.nc.drain().catch(() => undefined);
    process.exit(code);
  };
  process.on("SIGTERM", () => void shutdown());
  process.on("SIGINT", () => void shutdown());
  presence.onChange((role, why) => {
    if (role !== "backup" || stopping) return;
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
  lease.start();
  // A released lease is taken at once, not at the next poll: graceful handover in milliseconds.
  watchReleases(bucket, "master", () => void lease.poke(), watching.signal, log);
  await seq.run(lease);
}

main().catch((e: unknown) => {
  log.fatal({ err: e }, "sequencer failed");
  process.exit(1);
});
