import { writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { createDatabaseIfMissing, databaseUrl, databaseUrlAs, nodeDatabaseRoles, setupNodeDatabaseRoles } from "@tally/db";
import type { ConsortiumFiles, ConsortiumPlan } from "./consortium.js";
import { freePort } from "./ports.js";
import { ServiceProcess, serviceEntry } from "./service-process.js";

/** The endpoints of a running network, as written to network.json. Other tools read this shape. */
export interface NetworkFile {
  chainId: string;
  nats: string;
  namespace: string;
  genesisFile: string;
  institutions: {
    id: string;
    roles: string[];
    node: string;
    gateway: string;
    keyFile: string;
    /** mTLS client material for the gateway (paths relative like keyFile); absent when gateways run insecure. */
    tls?: { caFile: string; certFile: string; keyFile: string };
  }[];
  nodes: {
    id: string;
    database: string;
    gateway: string;
    /** Plaintext grpc.health.v1 of the gateway (for probes). */
    gatewayHealth?: string;
    blockstore: string;
    executor: string;
    keyFile: string;
  }[];
  sequencers: { id: string; admin: string }[];
  regfeed: string;
  /** Each service's Prometheus /metrics endpoint (host:port), by service name, e.g. "node-bank-a/gateway". */
  metrics?: Record<string, string>;
  /** The regulator's supervision console (served by regfeed; docs/console.md); absent without a regfeed node. */
  console?: string;
}

/** Options for starting a local network. */
export interface LocalNetworkOptions {
  readonly dir: string;
  readonly plan: ConsortiumPlan;
  readonly files: ConsortiumFiles;
  readonly natsUrl: string;
  /** A URL with rights to create the nodes' databases. */
  readonly pgAdminUrl: string;
  readonly namespace: string;
  /** Database name prefix; one database per node. */
  readonly databasePrefix: string;
  /** How many sequencers to run, from the plan's first (default: all; the first to start leads). */
  readonly sequencersToRun?: number;
  readonly echoLogs?: boolean;
  readonly env?: Record<string, string>;
  /**
   * Per-role NATS users (issue 13): the NATS_URL of each service by its NATS user
   * (sequencer-<id>, gateway-<node>, node-<node>; see natsUsers). Services then do not manage
   * streams (NATS_ENSURE_STREAMS=false): run setupBus as admin first.
   */
  readonly natsUrlOf?: (user: string) => string;
  /**
   * Per-node PostgreSQL roles (issue 13): each node's database is migrated and handed to its own
   * writer role (blockstore, executor, regfeed), the gateway logs in as a read-only role, and no
   * other role may connect (see setupNodeDatabaseRoles). passwordOf gives a role's password
   * (none: trust auth). The roles outlive the network: drop them with dropNodeDatabaseRoles.
   */
  readonly databaseRoles?: { readonly passwordOf?: (role: string) => string };
}

/** A consortium running as one process per service on this machine. */
export class LocalNetwork {
  readonly processes = new Map<string, ServiceProcess>();
  private readonly envs = new Map<string, { entry: string; env: Record<string, string>; ready: RegExp }>();

  private constructor(
    readonly endpoints: NetworkFile,
    private readonly opts: LocalNetworkOptions,
  ) {}

  /** Creates each node's database and starts every service, node by node, waiting until each listens. */
  static async start(o: LocalNetworkOptions): Promise<LocalNetwork> {
    const common = { NATS_URL: o.natsUrl, TALLY_NAMESPACE: o.namespace, GENESIS_FILE: o.files.genesisFile, LOG_LEVEL: "info", ...o.env };
    const nodes: NetworkFile["nodes"] = [];
    const plans: { name: string; entry: string; env: Record<string, string>; ready: RegExp; node?: string }[] = [];
    let regfeed = "";
    let consoleUrl: string | undefined;
    for (const n of o.plan.nodes) {
      const dbName = `${o.databasePrefix}_${n.id.replace(/[^a-z0-9]/g, "_")}`;
      await createDatabaseIfMissing(o.pgAdminUrl, dbName);
      const db = databaseUrl(o.pgAdminUrl, dbName);
      let [writerDb, readerDb] = [db, db];
      if (o.databaseRoles !== undefined) {
        const roles = nodeDatabaseRoles(dbName);
        const pw = o.databaseRoles.passwordOf;
        const passwords = pw === undefined ? {} : { writer: pw(roles.writer), reader: pw(roles.reader) };
        await setupNodeDatabaseRoles(db, roles, passwords);
        writerDb = databaseUrlAs(db, roles.writer, passwords.writer);
        readerDb = databaseUrlAs(db, roles.reader, passwords.reader);
      }
      const [bs, ex, gw, gwHealth] = [await freePort(), await freePort(), await freePort(), await freePort()];
      // mTLS when the consortium has TLS material (openssl was there), else insecure loopback.
      const server = o.files.tls?.servers.get(n.id);
      const clientMap = o.files.tls?.clientMaps.get(n.id);
      const gatewayIdentity: Record<string, string> =
        server !== undefined && clientMap !== undefined
          ? {
              GATEWAY_TLS_CERT_FILE: server.certFile,
              GATEWAY_TLS_KEY_FILE: server.keyFile,
              GATEWAY_CLIENT_CA_FILE: server.caFile,
              GATEWAY_CLIENT_MAP_FILE: clientMap,
            }
          : { GATEWAY_INSECURE: "true" };
      const nodeEnv = {
        ...common,
        NODE_ID: n.id,
        DATABASE_URL: writerDb,
        NODE_KEY_FILE: o.files.keyFiles.get(n.id)!,
        ...asUser(o, `node-${n.id}`),
      };
      plans.push({
        name: `${n.id}/blockstore`,
        entry: serviceEntry("blockstore"),
        env: { ...nodeEnv, GRPC_ADDR: `127.0.0.1:${bs}` },
        ready: /blockstore listening/,
        node: n.id,
      });
      plans.push({
        name: `${n.id}/executor`,
        entry: serviceEntry("executor"),
        // The regulator's node also announces events on NATS subjects.
        env: { ...nodeEnv, GRPC_ADDR: `127.0.0.1:${ex}`, PUBLISH_EVENTS: n.regfeed === true ? "true" : "false" },
        ready: /executor listening/,
        node: n.id,
      });
      plans.push({
        name: `${n.id}/gateway`,
        entry: serviceEntry("gateway"),
        env: {
          ...nodeEnv,
          GRPC_ADDR: `127.0.0.1:${gw}`,
          HEALTH_ADDR: `127.0.0.1:${gwHealth}`,
          EXECUTOR_ADDR: `127.0.0.1:${ex}`,
          DATABASE_URL: readerDb,
          ...gatewayIdentity,
          ...asUser(o, `gateway-${n.id}`),
        },
        ready: /gateway listening/,
        node: n.id,
      });
      if (n.regfeed === true) {
        const rf = await freePort();
        regfeed = `127.0.0.1:${rf}`;
        const cp = await freePort();
        consoleUrl = `http://127.0.0.1:${cp}/`;
        plans.push({
          name: `${n.id}/regfeed`,
          entry: serviceEntry("regfeed"),
          env: { ...nodeEnv, GRPC_ADDR: regfeed, CONSOLE_ADDR: `127.0.0.1:${cp}` },
          ready: /regfeed listening/,
          node: n.id,
        });
      }
      nodes.push({
        id: n.id,
        database: db,
        gateway: `127.0.0.1:${gw}`,
        gatewayHealth: `127.0.0.1:${gwHealth}`,
        blockstore: `127.0.0.1:${bs}`,
        executor: `127.0.0.1:${ex}`,
        keyFile: rel(o.dir, o.files.keyFiles.get(n.id)!),
      });
    }
    const sequencers: NetworkFile["sequencers"] = [];
    for (const s of o.plan.sequencers.slice(0, o.sequencersToRun ?? o.plan.sequencers.length)) {
      const port = await freePort();
      sequencers.push({ id: s.id, admin: `127.0.0.1:${port}` });
      plans.push({
        name: `${s.id}`,
        entry: serviceEntry("sequencer"),
        env: {
          ...common,
          SEQUENCER_ID: s.id,
          SEQUENCER_KEY_FILE: o.files.keyFiles.get(s.id)!,
          ADMIN_GRPC_ADDR: `127.0.0.1:${port}`,
          ...asUser(o, `sequencer-${s.id}`),
        },
        ready: /sequencer admin listening/,
      });
    }
    // Every service serves /metrics on a port of its own.
    const metrics: Record<string, string> = {};
    for (const p of plans) {
      const port = await freePort();
      p.env = { ...p.env, METRICS_PORT: String(port) };
      metrics[p.name] = `127.0.0.1:${port}`;
    }
    const endpoints: NetworkFile = {
      chainId: o.plan.chainId,
      nats: o.natsUrl,
      namespace: o.namespace,
      genesisFile: rel(o.dir, o.files.genesisFile),
      institutions: o.plan.institutions.map((i) => {
        const t = o.files.tls?.clients.get(i.id);
        return {
          id: i.id,
          roles: i.roles,
          node: i.node,
          gateway: nodes.find((n) => n.id === i.node)?.gateway ?? "",
          keyFile: rel(o.dir, o.files.keyFiles.get(i.id)!),
          ...(t !== undefined
            ? { tls: { caFile: rel(o.dir, t.caFile), certFile: rel(o.dir, t.certFile), keyFile: rel(o.dir, t.keyFile) } }
            : {}),
        };
      }),
      nodes,
      sequencers,
      regfeed,
      metrics,
      ...(consoleUrl !== undefined ? { console: consoleUrl } : {}),
    };
    const net = new LocalNetwork(endpoints, o);
    for (const p of plans) net.envs.set(p.name, { entry: p.entry, env: p.env, ready: p.ready });
    try {
      // Within a node, services start one after another (the first runs the migrations);
      // nodes start side by side.
      const byNode = new Map<string, typeof plans>();
      for (const p of plans) {
        const k = p.node ?? "ordering";
        byNode.set(k, [...(byNode.get(k) ?? []), p]);
      }
      const ordering = byNode.get("ordering") ?? [];
      byNode.delete("ordering");
      await Promise.all(
        [...byNode.values()].map(async (ps) => {
          for (const p of ps) await net.startOne(p.name);
        }),
      );
      for (const p of ordering) await net.startOne(p.name);
    } catch (e) {
      await net.stop();
      throw e;
    }
    return net;
  }

  /**
   * Starts (or restarts) one service by name, e.g. "node-bank-a/executor", and waits until it
   * listens. extraEnv is added to its environment for this start only (e.g. PEER_BLOCKSTORE_ADDRS).
   */
  async startOne(name: string, extraEnv: Record<string, string> = {}): Promise<ServiceProcess> {
    const spec = this.envs.get(name);
    if (spec === undefined) throw new Error(`no service ${name}`);
    const p = new ServiceProcess(name, spec.entry, { ...spec.env, ...extraEnv }, this.opts.echoLogs ?? false);
    this.processes.set(name, p);
    await p.waitForLine(spec.ready, 30_000);
    return p;
  }

  /**
   * Starts a sequencer that is not in the plan (e.g. one governance added with add-sequencer),
   * with its own key file, like the plan's sequencers; it is stopped with the network. Unless
   * waitReady is false, waits until its admin service listens.
   */
  async addSequencer(
    id: string,
    keyFile: string,
    o: { readonly env?: Record<string, string>; readonly waitReady?: boolean } = {},
  ): Promise<ServiceProcess> {
    const port = await freePort();
    const metricsPort = await freePort();
    const env = {
      NATS_URL: this.opts.natsUrl,
      TALLY_NAMESPACE: this.opts.namespace,
      GENESIS_FILE: this.opts.files.genesisFile,
      LOG_LEVEL: "info",
      ...this.opts.env,
      SEQUENCER_ID: id,
      SEQUENCER_KEY_FILE: keyFile,
      ADMIN_GRPC_ADDR: `127.0.0.1:${port}`,
      METRICS_PORT: String(metricsPort),
      ...asUser(this.opts, `sequencer-${id}`),
      ...o.env,
    };
    this.envs.set(id, { entry: serviceEntry("sequencer"), env, ready: /sequencer admin listening/ });
    this.endpoints.sequencers.push({ id, admin: `127.0.0.1:${port}` });
    if (this.endpoints.metrics !== undefined) this.endpoints.metrics[id] = `127.0.0.1:${metricsPort}`;
    if (o.waitReady !== false) return this.startOne(id);
    const p = new ServiceProcess(id, serviceEntry("sequencer"), env, this.opts.echoLogs ?? false);
    this.processes.set(id, p);
    return p;
  }

  /** Writes network.json. Key and genesis paths are relative to the directory holding it. */
  writeNetworkFile(path = join(this.opts.dir, "network.json")): string {
    // The PIDs of the services as they are now (supervisors rewrite the file after a restart).
    const pids = Object.fromEntries([...this.processes].map(([name, p]) => [name, p.pid]));
    writeFileSync(path, JSON.stringify({ ...this.endpoints, pids }, null, 2) + "\n");
    return path;
  }

  /**
   * Writes the services' /metrics endpoints as a Prometheus file_sd target list (see
   * deploy/prometheus/prometheus.yml), each labelled with its service name as tally_process.
   */
  writePrometheusTargets(path = join(this.opts.dir, "prometheus-targets.json")): string {
    const targets = Object.entries(this.endpoints.metrics ?? {}).map(([name, addr]) => ({
      targets: [addr],
      labels: { tally_process: name },
    }));
    writeFileSync(path, JSON.stringify(targets, null, 2) + "\n");
    return path;
  }

  /** Stops every service (SIGTERM, then SIGKILL after a grace period), sequencers first. */
  async stop(): Promise<void> {
    const all = [...this.processes.values()];
    const seqs = all.filter((p) => !p.name.includes("/"));
    await Promise.all(seqs.map((p) => p.stop("SIGTERM", 3000)));
    await Promise.all(all.filter((p) => p.name.includes("/")).map((p) => p.stop("SIGTERM", 3000)));
  }
}

/** The environment that makes a service connect as its own NATS user, when the network runs with per-role users. */
function asUser(o: LocalNetworkOptions, user: string): Record<string, string> {
  return o.natsUrlOf === undefined ? {} : { NATS_URL: o.natsUrlOf(user), NATS_ENSURE_STREAMS: "false" };
}

function rel(dir: string, p: string): string {
  return relative(dir, p) || p;
}
