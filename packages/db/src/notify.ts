import pg from "pg";

/** The Postgres channel a node's services use to say "height h is stored/committed". */
export const HEIGHT_CHANNEL = "tally_height";

/** What a notification says: which service advanced and to which height. */
export interface HeightNotice {
  readonly source: "blockstore" | "executor";
  readonly height: bigint;
  /** The block changed membership (keys or roles): caches of it must reload. */
  readonly membershipChanged: boolean;
}

/** The payload a service sends on HEIGHT_CHANNEL. */
export function heightNoticePayload(n: HeightNotice): string {
  return `${n.source}:${n.height}${n.membershipChanged ? ":membership" : ""}`;
}

/**
 * Listens on the node's height channel with a dedicated connection. Notices are hints:
 * listeners re-read the database, and also poll, so a lost notice only delays them.
 */
export async function listenHeights(url: string, onNotice: (n: HeightNotice) => void): Promise<{ close(): Promise<void> }> {
  const c = new pg.Client({ connectionString: url });
  c.on("error", () => undefined);
  await c.connect();
  c.on("notification", (msg) => {
    const [source, h, flag] = (msg.payload ?? "").split(":");
    if ((source === "blockstore" || source === "executor") && h !== undefined && /^\d+$/.test(h)) {
      onNotice({ source, height: BigInt(h), membershipChanged: flag === "membership" });
    }
  });
  await c.query(`listen ${HEIGHT_CHANNEL}`);
  return { close: () => c.end() };
}

/**
 * Wakes waiters when a node's service advances. Each wait also ends after pollMs, so a
 * lost notice (or a dropped listen connection) costs latency, never correctness.
 */
export class HeightSignal {
  private waiters = new Set<() => void>();

  constructor(private readonly pollMs = 500) {}

  /** Call on every notice. */
  notify(): void {
    const ws = this.waiters;
    this.waiters = new Set();
    for (const w of ws) w();
  }

  /** Resolves at the next notice, after pollMs, or when the signal aborts. */
  wait(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const t = setTimeout(done, this.pollMs);
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
