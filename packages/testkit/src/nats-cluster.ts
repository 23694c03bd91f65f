import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectBus, type Bus } from "@tally/bus";
import { NATS_INSTALL_HINT, findNatsServer } from "./nats-server.js";
import { freePort } from "./ports.js";
import { ServiceProcess } from "./service-process.js";

/** One member of a cluster we started. `process` is replaced on restart. */
export interface NatsClusterServer {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly clusterPort: number;
  process: ServiceProcess;
}

/** A nats-server JetStream cluster on loopback that we started, and how to stop, kill and restart its members. */
export interface StartedNatsCluster {
  /** Every member's client URL, comma-separated (connectBus and the services' NATS_URL accept this). */
  readonly urls: string;
  readonly servers: readonly NatsClusterServer[];
  /** Stops every member (SIGTERM by PID, SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** SIGKILLs member i by PID and waits for its exit. */
  kill(i: number): Promise<void>;
  /** Starts member i again from its config (same store, ports, name); resolves when it reports ready. */
  restart(i: number, readyTimeoutMs?: number): Promise<ServiceProcess>;
}

/**
 * Starts `size` nats-servers with JetStream as one cluster on free loopback ports, storing under
 * dir/<name>, and waits (bounded by readyTimeoutMs) until the cluster accepts a replicated stream.
 */
export async function startNatsCluster(
  dir: string,
  opts: { size?: number; clusterName?: string; echoLogs?: boolean; readyTimeoutMs?: number } = {},
): Promise<StartedNatsCluster> {
  const bin = findNatsServer();
  if (bin === undefined) throw new Error(NATS_INSTALL_HINT);
  const size = opts.size ?? 3;
  if (!Number.isInteger(size) || size < 1) throw new Error(`cluster size must be a positive integer, got ${size}`);
  const clusterName = opts.clusterName ?? "tally";
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  const specs: { name: string; port: number; clusterPort: number; conf: string }[] = [];
  for (let i = 0; i < size; i++) {
    const name = `${clusterName}-n${i + 1}`;
    specs.push({ name, port: await freePort(), clusterPort: await freePort(), conf: join(dir, name, "nats.conf") });
  }
  for (const s of specs) {
    const store = join(dir, s.name, "jetstream");
    mkdirSync(store, { recursive: true });
    const routes = specs.filter((o) => o !== s).map((o) => `    "nats-route://127.0.0.1:${o.clusterPort}"`);
    writeFileSync(
      s.conf,
      [
        `server_name: "${s.name}"`,
        `listen: "127.0.0.1:${s.port}"`,
        `max_payload: 8MB`,
        `jetstream {`,
        `  store_dir: "${store}"`,
        `}`,
        `cluster {`,
        `  name: "${clusterName}"`,
        `  listen: "127.0.0.1:${s.clusterPort}"`,
        `  routes: [`,
        ...routes,
        `  ]`,
        `}`,
        ``,
      ].join("\n"),
    );
  }
  const spawnOne = (i: number): ServiceProcess =>
    new ServiceProcess(specs[i]!.name, [bin, "-c", specs[i]!.conf], {}, opts.echoLogs ?? false);
  const servers: NatsClusterServer[] = specs.map((s, i) => ({
    name: s.name,
    url: `nats://127.0.0.1:${s.port}`,
    port: s.port,
    clusterPort: s.clusterPort,
    process: spawnOne(i),
  }));
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.process.stop("SIGTERM", 5000)));
  };
  const urls = servers.map((s) => s.url).join(",");
  try {
    await Promise.all(servers.map((s) => s.process.waitForLine(/Server is ready/, 15_000)));
    await waitJetStreamReady(urls, Math.min(size, 3), readyTimeoutMs);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    urls,
    servers,
    stop,
    kill: (i) => member(servers, i).process.stop("SIGKILL"),
    restart: async (i, timeoutMs = 15_000) => {
      const s = member(servers, i);
      if (s.process.running) throw new Error(`${s.name} is still running (pid ${s.process.pid})`);
      s.process = spawnOne(i);
      await s.process.waitForLine(/Server is ready/, timeoutMs);
      return s.process;
    },
  };
}

function member(servers: readonly NatsClusterServer[], i: number): NatsClusterServer {
  const s = servers[i];
  if (s === undefined) throw new Error(`no cluster member ${i} (size ${servers.length})`);
  return s;
}

/** Retries adding (then deleting) a throwaway stream with `replicas` replicas until it succeeds, bounded. */
async function waitJetStreamReady(urls: string, replicas: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const stream = `TESTKIT_READY_${process.pid}_${Date.now()}`;
  const subject = `testkit.ready.${stream}`;
  let bus: Bus | undefined;
  let last: unknown;
  try {
    while (Date.now() < deadline) {
      try {
        // connectBus itself asks JetStream for account info, which times out until a meta leader exists.
        bus ??= await connectBus({ url: urls, name: "testkit-cluster-ready" });
        await bus.jsm.streams.add({ name: stream, subjects: [subject], num_replicas: replicas });
        await bus.jsm.streams.delete(stream);
        return;
      } catch (e) {
        last = e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    throw new Error(`JetStream cluster at ${urls} not ready within ${timeoutMs} ms: ${(last as Error | undefined)?.message ?? "?"}`);
  } finally {
    await bus?.nc.close();
  }
}
