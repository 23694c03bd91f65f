import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from "@nats-io/jetstream";
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
      // Blocks are never dropped to make room: a full stream refuses new blocks instead.
      discard: DiscardPolicy.New,
      num_replicas: replicas,
      max_msg_size: o.blockMsgBytesMax ?? 1000 * 1024,
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

/** Creates the streams if missing, or updates them to the wanted config. Safe to run from every service at start. */
export async function ensureStreams(jsm: JetStreamManager, n: BusNames, o: StreamOptions = {}): Promise<void> {
  for (const cfg of streamConfigs(n, o)) {
    const name = cfg.name;
    try {
      await jsm.streams.info(name);
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
  const err = e as { api_error?: { err_code?: number }; message?: string };
  return err?.api_error?.err_code === 10059 || /stream not found/i.test(err?.message ?? "");
}
