#!/usr/bin/env node
// The sequencer's imperative shell: reads config, builds connections, starts.
import { SequencerAdminServiceService, SequencerRole } from "@tally/proto/sequencer";
import { descriptorSetPath } from "@tally/proto/descriptor";
import { busNames, connectBus, ensureLeaseBucket, ensureStreams } from "@tally/bus";
import { Env, loadGenesis, loadKeyFile } from "@tally/config";
import { startServer, wrapService } from "@tally/rpc";
import { createLogger } from "@tally/telemetry";
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
  const replicas = env.int("STREAM_REPLICAS", 1, 1, 5);
  await ensureStreams(bus.jsm, names, { replicas });
  await ensureLeaseBucket(bus, names, { leaseTtlMs: env.int("LEASE_TTL_MS", 1500, 100, 60_000), replicas });
  const seq = new Sequencer(
    {
      sequencerId,
      blockTxsMax: env.int("BLOCK_TXS_MAX", 1000, 1, 10_000),
      blockBytesMax: env.int("BLOCK_BYTES_MAX", 900 * 1024, 1024, 8 * 1024 * 1024),
      cutWaitMs: env.int("CUT_WAIT_MS", 5, 1, 10_000),
      fetchTxsMax: env.int("FETCH_TXS_MAX", 2000, 1, 100_000),
      publishTimeoutMs: env.int("PUBLISH_TIMEOUT_MS", 2000, 100, 60_000),
    },
    { bus, names, genesis, key: key.key, nowMs: () => Date.now(), log },
  );
  const server = await startServer({
    host: admin.host,
    port: admin.port,
    healthNames: ["tally.v1.SequencerAdminService"],
    descriptorSetPath,
    services: [
      wrapService(SequencerAdminServiceService, {
        getStatus: () => {
          const s = seq.status();
          return Promise.resolve({
            sequencerId,
            role: s.master ? SequencerRole.SEQUENCER_ROLE_MASTER : SequencerRole.SEQUENCER_ROLE_BACKUP,
            epoch: s.epoch,
            height: s.height,
            lastTxsSeq: s.lastTxsSeq,
          });
        },
      }),
    ],
  });
  log.info({ admin: server.address }, "sequencer admin listening");
  let stopping = false;
  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down");
    await seq.stop();
    await server.stop(1000);
    await bus.nc.drain().catch(() => undefined);
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown());
  process.on("SIGINT", () => void shutdown());
  await seq.run(1n);
}

main().catch((e: unknown) => {
  log.fatal({ err: e }, "sequencer failed");
  process.exit(1);
});
