import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { Bus } from "./connect.js";
import type { BusNames } from "./names.js";

/** Options for the streams; defaults suit a single local server. */
export interface StreamOptions {
  readonly replicas?: number;
  /** How long JetStream remembers a Nats-Msg-Id to drop duplicates. */
  readonly txsDedupWindowMs?: number;
  /** How long submitted transactions are kept (they must be included well before). */
  readonly txsMaxAgeMs?: number;
  readonly txMsgBytesMax?: number;
  readonly blockMsgBytesMax?: number;
  readonly receiptsMaxAgeMs?: number;
  readonly eventsMaxAgeMs?: number;
  /**
   * BLOCKS retention (issue 8): keep at most this many blocks / blocks this young, dropping the
   * oldest. Unset keeps every block, or whatever retention the stream already has: a service
   * started without these options never undoes the retention another one set. A node that needs
   * blocks the stream dropped fetches them from a peer's blockstore (PEER_BLOCKSTORE_ADDRS).
   */
  readonly blocksMaxMsgs?: number;
  readonly blocksMaxAgeMs?: number;
}

const MS_TO_NS = 1_000_000;

/** The stream configurations, derived from the names and options. */
export function streamConfigs(n: BusNames, o: StreamOptions = {}): (Partial<StreamConfig> & { name: string })[] {
  const replicas = o.replicas ?? 1;
  return [
    {
      name: n.txsStream,
      subjects: [n.txsSubjects],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      num_replicas: replicas,
      duplicate_window: (o.txsDedupWindowMs ?? 5 * 60_000) * MS_TO_NS,
      max_age: (o.txsMaxAgeMs ?? 7 * 24 * 3600_000) * MS_TO_NS,
      max_msg_size: o.txMsgBytesMax ?? 80 * 1024,
    },
    {
      name: n.blocksStream,
      subjects: [n.blocksSubject],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      // Without retention, blocks are never dropped to make room: a full stream refuses new blocks
      // instead. With it, the oldest go; peers' blockstores still serve them.
      discard: o.blocksMaxMsgs !== undefined || o.blocksMaxAgeMs !== undefined ? DiscardPolicy.Old : DiscardPolicy.New,
      num_replicas: replicas,
      max_msg_size: o.blockMsgBytesMax ?? 1000 * 1024,
      ...(o.blocksMaxMsgs !== undefined ? { max_msgs: o.blocksMaxMsgs } : {}),
      ...(o.blocksMaxAgeMs !== undefined ? { max_age: o.blocksMaxAgeMs * MS_TO_NS } : {}),
    },
    {
      // Live contract events, as each node's executor announces them after committing a block.
      name: n.eventsStream,
      subjects: [n.eventsSubjects],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      num_replicas: replicas,
      max_age: (o.eventsMaxAgeMs ?? 7 * 24 * 3600_000) * MS_TO_NS,
    },
    {
      name: n.receiptsStream,
      subjects: [n.receiptsSubjects],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      num_replicas: replicas,
      max_age: (o.receiptsMaxAgeMs ?? 7 * 24 * 3600_000) * MS_TO_NS,
      duplicate_window: 2 * 60_000 * MS_TO_NS,
    },
  ];
}

/**
 * Creates the streams if missing, or updates them to the wanted config. Safe to run from every
 * service at start, unless the service runs as a per-role NATS user: then the bus refuses it,
 * and the error says to run the setup step as admin instead.
 */
export async function ensureStreams(jsm: JetStreamManager, n: BusNames, o: StreamOptions = {}): Promise<void> {
  try {
    await ensureEach(jsm, n, o);
  } catch (e) {
    if (!/permission/i.test((e as Error).message)) throw e;
    throw new Error(
      `${(e as Error).message}: this NATS user may not manage streams; run the setup step as admin (tally bus setup) and start the service with NATS_ENSURE_STREAMS=false`,
      { cause: e },
    );
  }
}

async function ensureEach(jsm: JetStreamManager, n: BusNames, o: StreamOptions): Promise<void> {
  for (const wanted of streamConfigs(n, o)) {
    const name = wanted.name;
    let cfg = wanted;
    try {
      const info = await jsm.streams.info(name);
      if (name === n.blocksStream && o.blocksMaxMsgs === undefined && o.blocksMaxAgeMs === undefined) {
        // Keep the retention someone else configured.
        cfg = { ...wanted, discard: info.config.discard, max_msgs: info.config.max_msgs, max_age: info.config.max_age };
      }
      await jsm.streams.update(name, cfg);
    } catch (e) {
      if (!isStreamNotFound(e)) throw e;
      try {
        await jsm.streams.add(cfg);
      } catch (e2) {
        // Another service created it between our two calls.
        if (!String((e2 as Error).message).includes("already in use")) throw e2;
      }
    }
  }
}

function isStreamNotFound(e: unknown): boolean {
  // nats.js 3.x: JetStreamApiError.code is the JetStream err_code (10059: stream not found).
  const err = e as { code?: unknown; message?: string };
  return err?.code === 10059 || /stream not found/i.test(err?.message ?? "");
}

/**
 * Creates (or opens) the sequencer lease bucket. The bucket TTL is the lease TTL: on
 * nats-server 2.9 a lapsed key simply vanishes, so backups keep their own timers.
 */
export async function ensureLeaseBucket(bus: Bus, n: BusNames, o: { leaseTtlMs: number; replicas?: number }): Promise<KV> {
  return new Kvm(bus.js).create(n.leaseBucket, { ttl: o.leaseTtlMs, history: 1, replicas: o.replicas ?? 1 });
}

/**
 * Opens the lease bucket, which the setup step created (setupBus, under the admin user): a
 * sequencer running as its own NATS user may not create or change it. The bucket's TTL must be
 * the lease TTL: a key that vanishes before its holder's local deadline would let a backup take
 * the lease while the holder still leads. A mismatch throws, naming both.
 */
export async function openLeaseBucket(bus: Bus, n: BusNames, o: { leaseTtlMs: number }): Promise<KV> {
  const kv = await new Kvm(bus.js).open(n.leaseBucket);
  const ttl = (await kv.status()).ttl;
  if (ttl !== o.leaseTtlMs)
    throw new Error(
      `lease bucket ${n.leaseBucket} has a TTL of ${ttl} ms but LEASE_TTL_MS is ${o.leaseTtlMs}: run the setup step with the same LEASE_TTL_MS`,
    );
  return kv;
}

/**
 * The setup step: creates (or updates) the streams and the lease bucket. Run once under the admin
 * NATS user before services that run as their own users (NATS_ENSURE_STREAMS=false) start.
 */
export async function setupBus(bus: Bus, n: BusNames, o: StreamOptions & { leaseTtlMs: number }): Promise<void> {
  await ensureStreams(bus.jsm, n, o);
  await ensureLeaseBucket(bus, n, { leaseTtlMs: o.leaseTtlMs, ...(o.replicas === undefined ? {} : { replicas: o.replicas }) });
}

/** Deletes every stream and bucket of a namespace (tests clean up after themselves). */
export async function deleteNamespace(jsm: JetStreamManager, n: BusNames): Promise<void> {
  for (const s of [n.txsStream, n.blocksStream, n.receiptsStream, n.eventsStream, `KV_${n.leaseBucket}`]) {
    await jsm.streams.delete(s).catch(() => false);
  }
}

/** Reads a stream's last sequence (a JetStream stream info request), e.g. for consumer-lag metrics. */
export function streamLastSeq(bus: Bus, stream: string): () => Promise<number> {
  return async () => (await bus.jsm.streams.info(stream)).state.last_seq;
}
