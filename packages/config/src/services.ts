// Each service's whole configuration, read from the environment and validated at start, before
// the service connects to anything. A missing or bad value throws a ConfigError naming the
// variable; configOrExit turns that into one line on stderr and exit code 78 (EX_CONFIG).
// docs/configuration.md lists every variable read here (a test holds the two together).
import { availableParallelism } from "node:os";
import type { Genesis } from "@tally/ledger";
import { loadClientCertMap, type ClientCertMap } from "./client-cert-map.js";
import { ConfigError, Env } from "./env.js";
import { keyPassphrase, loadGenesis, loadKeyFile, type LoadedKey } from "./files.js";

/** A host and port to listen on or dial. */
export interface Addr {
  readonly host: string;
  readonly port: number;
}

/** The exit code of a service refused at start for its configuration (sysexits' EX_CONFIG). */
export const EXIT_CONFIG = 78;

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
const NATS_PROTOCOLS = ["nats:", "tls:"];
const PG_PROTOCOLS = ["postgres:", "postgresql:"];

/** Settings every service shares. */
export interface CommonConfig {
  readonly namespace: string;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  /** Plaintext grpc.health.v1 only (Kubernetes probes); absent: health on the main port only. */
  readonly healthAddr?: Addr;
  /** Longest a graceful shutdown may take after SIGTERM before the process exits anyway. */
  readonly drainTimeoutMs: number;
  readonly streamReplicas: number;
  /**
   * Create or update the streams (and the sequencer its lease bucket) at start. False when the
   * services run as per-role NATS users, which may not manage streams: a setup step under the
   * admin user made them (issue 13).
   */
  readonly ensureStreams: boolean;
  /** The CA that signs the NATS server's certificate; set, every NATS connection uses TLS (connectBus reads it too). */
  readonly natsCaFile?: string;
}

function common(env: Env): CommonConfig {
  const healthAddr = env.optionalAddr("HEALTH_ADDR");
  const natsCaFile = env.optional("NATS_CA_FILE") === undefined ? undefined : env.file("NATS_CA_FILE");
  return {
    namespace: env.str("TALLY_NAMESPACE", "tally"),
    logLevel: env.oneOf("LOG_LEVEL", LOG_LEVELS, "info"),
    ...(healthAddr === undefined ? {} : { healthAddr }),
    drainTimeoutMs: env.int("DRAIN_TIMEOUT_MS", 10_000, 100, 600_000),
    streamReplicas: env.int("STREAM_REPLICAS", 1, 1, 5),
    ensureStreams: env.bool("NATS_ENSURE_STREAMS", true),
    ...(natsCaFile === undefined ? {} : { natsCaFile }),
  };
}

function id(env: Env, name: string): string {
  const v = env.str(name);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(v))
    throw new ConfigError(`${name} must be letters, digits, '.', '_' or '-' (at most 128), got "${v}"`);
  return v;
}

function genesisFrom(env: Env): Genesis {
  const path = env.file("GENESIS_FILE");
  return env.load("GENESIS_FILE", () => loadGenesis(path));
}

function keyFrom(env: Env, name: string): LoadedKey {
  const path = env.file(name);
  // An encrypted key file is opened with TALLY_KEY_PASSPHRASE(_FILE); its errors name that variable.
  const passphrase = keyPassphrase((n) => env.optional(n));
  return env.load(name, () => loadKeyFile(path, passphrase));
}

function natsUrl(env: Env): string {
  return env.url("NATS_URL", NATS_PROTOCOLS, "nats://127.0.0.1:4222", true);
}

function databaseUrl(env: Env): string {
  return env.url("DATABASE_URL", PG_PROTOCOLS);
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The gateway's mTLS material (paths; the credentials are built by @tally/rpc). */
export interface GatewayTlsFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface GatewayConfig extends CommonConfig {
  readonly nodeId: string;
  readonly genesis: Genesis;
  readonly listen: Addr;
  /** Plaintext gRPC on loopback for development; else tls and clientMap are set. */
  readonly insecure: boolean;
  readonly tls?: GatewayTlsFiles;
  readonly clientMap?: ClientCertMap;
  readonly executorAddr: string;
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly waitersMax: number;
  readonly verifyWorkers: number;
  readonly verifyBatchMax: number;
  readonly inFlightMax: number;
  readonly publishTimeoutMs: number;
  readonly publishRetryMs: number;
  readonly waitMsDefault: number;
  readonly waitMsMax: number;
  readonly queryTimeoutMs: number;
  readonly streamInFlightMax: number;
  readonly institution: { readonly inFlightMax: number; readonly ratePerSec: number; readonly burst: number };
  readonly callDeadlineMsDefault: number;
}

export function gatewayConfig(env = new Env()): GatewayConfig {
  const nodeId = id(env, "NODE_ID");
  const c = common(env);
  const listen = env.addr("GRPC_ADDR", "127.0.0.1:0");
  // mTLS is the production mode: the client certificate says which institution calls.
  // Plaintext is for development only, only when asked for, and only on loopback.
  const insecure = env.bool("GATEWAY_INSECURE", false);
  let tls: GatewayTlsFiles | undefined;
  let clientMap: ClientCertMap | undefined;
  if (insecure) {
    if (!isLoopback(listen.host))
      throw new ConfigError(`GRPC_ADDR ${listen.host} is not a loopback address; GATEWAY_INSECURE (plaintext gRPC) is refused there`);
  } else {
    tls = {
      caFile: env.file("GATEWAY_CLIENT_CA_FILE"),
      certFile: env.file("GATEWAY_TLS_CERT_FILE"),
      keyFile: env.file("GATEWAY_TLS_KEY_FILE"),
    };
    const mapFile = env.file("GATEWAY_CLIENT_MAP_FILE");
    clientMap = env.load("GATEWAY_CLIENT_MAP_FILE", () => loadClientCertMap(mapFile));
  }
  const executorAddr = env.str("EXECUTOR_ADDR");
  env.addr("EXECUTOR_ADDR");
  const waitMsDefault = env.int("WAIT_MS_DEFAULT", 30_000, 1, 600_000);
  const waitMsMax = env.int("WAIT_MS_MAX", 120_000, 1, 600_000);
  if (waitMsDefault > waitMsMax) throw new ConfigError(`WAIT_MS_DEFAULT (${waitMsDefault}) must not exceed WAIT_MS_MAX (${waitMsMax})`);
  return {
    ...c,
    nodeId,
    genesis: genesisFrom(env),
    listen,
    insecure,
    ...(tls === undefined ? {} : { tls }),
    ...(clientMap === undefined ? {} : { clientMap }),
    executorAddr,
    databaseUrl: databaseUrl(env),
    natsUrl: natsUrl(env),
    waitersMax: env.int("GATEWAY_WAITERS_MAX", 10_000, 1, 1_000_000),
    // Ed25519 on worker threads (0: on the event loop).
    verifyWorkers: env.int("GATEWAY_VERIFY_WORKERS", 0, 0, 64),
    verifyBatchMax: env.int("GATEWAY_VERIFY_BATCH_MAX", 256, 1, 4096),
    inFlightMax: env.int("GATEWAY_IN_FLIGHT_MAX", 4096, 1, 1_000_000),
    publishTimeoutMs: env.int("PUBLISH_TIMEOUT_MS", 5000, 100, 60_000),
    // Longer than a JetStream stream-leader election (5–7 s measured on nats-server 2.9).
    publishRetryMs: env.int("PUBLISH_RETRY_MS", 10_000, 0, 120_000),
    waitMsDefault,
    waitMsMax,
    queryTimeoutMs: env.int("QUERY_TIMEOUT_MS", 5000, 100, 60_000),
    streamInFlightMax: env.int("GATEWAY_STREAM_IN_FLIGHT_MAX", 1024, 1, 100_000),
    institution: {
      inFlightMax: env.int("GATEWAY_INSTITUTION_IN_FLIGHT_MAX", 2048, 1, 1_000_000),
      ratePerSec: env.int("GATEWAY_INSTITUTION_RATE", 10_000, 0, 10_000_000),
      burst: env.int("GATEWAY_INSTITUTION_BURST", 20_000, 1, 10_000_000),
    },
    callDeadlineMsDefault: env.int("CALL_DEADLINE_MS_DEFAULT", 30_000, 100, 600_000),
  };
}

export interface SequencerConfig extends CommonConfig {
  readonly sequencerId: string;
  readonly genesis: Genesis;
  readonly key: LoadedKey;
  readonly admin: Addr;
  readonly natsUrl: string;
  readonly lease: { readonly ttlMs: number; readonly renewMs: number; readonly pollMs: number; readonly marginMs: number };
  readonly leaseOpTimeoutMs: number;
  readonly blockTxsMax: number;
  readonly blockBytesMax: number;
  readonly cutWaitMs: number;
  readonly fetchTxsMax: number;
  readonly publishTimeoutMs: number;
  /** Longest the master waits for a quorum of validators' receipts to learn the sequencer set in force. */
  readonly setWaitMs: number;
  /** Most blocks the sequencer reads from BLOCKS to look for membership transactions when it takes over. */
  readonly setScanBlocksMax: number;
}

export function sequencerConfig(env = new Env()): SequencerConfig {
  const sequencerId = id(env, "SEQUENCER_ID");
  const c = common(env);
  // An id outside genesis's set may be one governance added: the sequencer checks the set in
  // force (from a quorum of validators' receipts) when it starts.
  const genesis = genesisFrom(env);
  const ttlMs = env.int("LEASE_TTL_MS", 1300, 100, 60_000);
  const lease = {
    ttlMs,
    renewMs: env.int("LEASE_RENEW_MS", Math.floor(ttlMs / 5), 10, 60_000),
    pollMs: env.int("LEASE_POLL_MS", Math.min(100, Math.floor(ttlMs / 10)), 5, 60_000),
    marginMs: env.int("LEASE_MARGIN_MS", Math.floor(ttlMs / 6), 1, 60_000),
  };
  if (lease.renewMs >= ttlMs) throw new ConfigError(`LEASE_RENEW_MS (${lease.renewMs}) must be less than LEASE_TTL_MS (${ttlMs})`);
  if (lease.marginMs >= ttlMs) throw new ConfigError(`LEASE_MARGIN_MS (${lease.marginMs}) must be less than LEASE_TTL_MS (${ttlMs})`);
  return {
    ...c,
    sequencerId,
    genesis,
    key: keyFrom(env, "SEQUENCER_KEY_FILE"),
    admin: env.addr("ADMIN_GRPC_ADDR", "127.0.0.1:0"),
    natsUrl: natsUrl(env),
    lease,
    leaseOpTimeoutMs: env.int("LEASE_OP_TIMEOUT_MS", 500, 50, 60_000),
    blockTxsMax: env.int("BLOCK_TXS_MAX", 1000, 1, 10_000),
    blockBytesMax: env.int("BLOCK_BYTES_MAX", 900 * 1024, 1024, 8 * 1024 * 1024),
    cutWaitMs: env.int("CUT_WAIT_MS", 5, 1, 10_000),
    fetchTxsMax: env.int("FETCH_TXS_MAX", 2000, 1, 100_000),
    publishTimeoutMs: env.int("PUBLISH_TIMEOUT_MS", 2000, 100, 60_000),
    setWaitMs: env.int("SEQUENCER_SET_WAIT_MS", 10_000, 100, 600_000),
    setScanBlocksMax: env.int("SEQUENCER_SET_SCAN_BLOCKS_MAX", 1000, 1, 1_000_000),
  };
}

export interface BlockstoreConfig extends CommonConfig {
  readonly nodeId: string;
  readonly genesis: Genesis;
  readonly listen: Addr;
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly blocksMaxMsgs?: number;
  readonly blocksMaxAgeMs?: number;
  readonly peers: string[];
}

export function blockstoreConfig(env = new Env()): BlockstoreConfig {
  const nodeId = id(env, "NODE_ID");
  const c = common(env);
  const blocksMaxMsgs = env.optional("BLOCKS_MAX_MSGS") === undefined ? undefined : env.int("BLOCKS_MAX_MSGS", 0, 1);
  const blocksMaxAgeMs = env.optional("BLOCKS_MAX_AGE_MS") === undefined ? undefined : env.int("BLOCKS_MAX_AGE_MS", 0, 1000);
  return {
    ...c,
    nodeId,
    genesis: genesisFrom(env),
    listen: env.addr("GRPC_ADDR", "127.0.0.1:0"),
    databaseUrl: databaseUrl(env),
    natsUrl: natsUrl(env),
    ...(blocksMaxMsgs === undefined ? {} : { blocksMaxMsgs }),
    ...(blocksMaxAgeMs === undefined ? {} : { blocksMaxAgeMs }),
    peers: env.addrList("PEER_BLOCKSTORE_ADDRS"),
  };
}

export interface ExecutorConfig extends CommonConfig {
  readonly nodeId: string;
  readonly genesis: Genesis;
  readonly nodeKey: LoadedKey;
  readonly listen: Addr;
  readonly verifyWorkers: number;
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly publishEvents: boolean;
}

export function executorConfig(env = new Env()): ExecutorConfig {
  const nodeId = id(env, "NODE_ID");
  const c = common(env);
  return {
    ...c,
    nodeId,
    genesis: genesisFrom(env),
    nodeKey: keyFrom(env, "NODE_KEY_FILE"),
    listen: env.addr("GRPC_ADDR", "127.0.0.1:0"),
    // Signature verify worker threads; 0 verifies inline on the executor's own thread.
    verifyWorkers: env.int("VERIFY_WORKERS", availableParallelism(), 0, 64),
    databaseUrl: databaseUrl(env),
    natsUrl: natsUrl(env),
    publishEvents: env.bool("PUBLISH_EVENTS", false),
  };
}

export interface RegfeedConfig extends CommonConfig {
  readonly nodeId: string;
  readonly listen: Addr;
  readonly databaseUrl: string;
  /** Without it the supervision rules that need the validator set are off. */
  readonly genesis?: Genesis;
  readonly subscriberStallMs: number;
  readonly alertsEnabled: boolean;
  readonly tailEventsMax: number;
  /** Receipts for the divergence rule and VerifyChain come from RECEIPTS; off without it (or without a genesis). */
  readonly natsUrl?: string;
}

export function regfeedConfig(env = new Env(), defaults: { subscriberStallMs: number; tailEventsMax: number }): RegfeedConfig {
  const nodeId = id(env, "NODE_ID");
  const c = common(env);
  const genesis = env.optional("GENESIS_FILE") === undefined ? undefined : genesisFrom(env);
  const nats = env.optional("NATS_URL") === undefined ? undefined : env.url("NATS_URL", NATS_PROTOCOLS, undefined, true);
  return {
    ...c,
    nodeId,
    listen: env.addr("GRPC_ADDR", "127.0.0.1:0"),
    databaseUrl: databaseUrl(env),
    ...(genesis === undefined ? {} : { genesis }),
    // A subscriber whose bounded send buffer stays full this long is cut off (SUBSCRIBER_TOO_SLOW).
    subscriberStallMs: env.int("SUBSCRIBER_STALL_MS", defaults.subscriberStallMs, 100, 3_600_000),
    alertsEnabled: env.bool("ALERTS_ENABLED", true),
    // Newest events kept in memory for live subscribers to share; 0 turns the shared tail off.
    tailEventsMax: env.int("TAIL_EVENTS_MAX", defaults.tailEventsMax, 0, 1_000_000),
    ...(nats === undefined ? {} : { natsUrl: nats }),
  };
}

/**
 * For a service's main.ts: loads its configuration, or writes one line naming the bad variable
 * to stderr and exits with EXIT_CONFIG. Anything else thrown is a bug and propagates.
 */
export function configOrExit<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(
      JSON.stringify({ level: 60, time: Date.now(), service, msg: `configuration refused: ${e.message}`, err: { type: "ConfigError" } }) +
        "\n",
    );
    process.exit(EXIT_CONFIG);
  }
}
