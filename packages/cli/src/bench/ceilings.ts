import { Worker } from "node:worker_threads";
import { sql } from "kysely";
import { busNames, connectBus, deleteNamespace, ensureStreams } from "@tally/bus";
import { createDatabaseIfMissing, databaseUrl, dropDatabase, openDb } from "@tally/db";

/** The machine's ceilings, measured in the same run as the network. */
export interface Ceilings {
  readonly verify1CorePerSec: number;
  readonly verify2CoresPerSec: number;
  readonly jetstreamPublishPerSec: number;
  readonly pgInsertRowsPerSec: number;
}

/** Ed25519 verifications per second on `workers` worker threads, summed. */
export function verifyOn(workers: number, durationMs: number, msgBytes: number): Promise<number> {
  const url = new URL("./verify-worker.js", import.meta.url);
  return Promise.all(
    Array.from(
      { length: workers },
      () =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(url, { workerData: { durationMs, msgBytes } });
          w.once("message", (m: { n: number; elapsedMs: number }) => resolve((m.n * 1000) / m.elapsedMs));
          w.once("error", reject);
        }),
    ),
  ).then((rates) => rates.reduce((a, b) => a + b, 0));
}

/** JetStream publishes per second with `inFlight` unacknowledged at once, to a throwaway R1 stream. */
async function jetstreamRate(natsUrl: string, msgBytes: number, durationMs: number, inFlight = 256): Promise<number> {
  const bus = await connectBus({ url: natsUrl, name: "bench-ceiling" });
  const names = busNames(`ceiling${Date.now() % 1_000_000}`);
  await ensureStreams(bus.jsm, names);
  try {
    const data = new Uint8Array(msgBytes).fill(1);
    const subject = names.txSubject("ceiling");
    let n = 0;
    const end = performance.now() + durationMs;
    const start = performance.now();
    const pending = new Set<Promise<unknown>>();
    while (performance.now() < end) {
      while (pending.size < inFlight) {
        const p = bus.js.publish(subject, data).then(() => n++);
        pending.add(p);
        void p.finally(() => pending.delete(p));
      }
      await Promise.race(pending);
    }
    await Promise.all(pending);
    return (n * 1000) / (performance.now() - start);
  } finally {
    await deleteNamespace(bus.jsm, names);
    await bus.nc.close();
  }
}

/** PostgreSQL rows inserted per second, 500 rows per statement, rows shaped like tx_results. */
async function pgInsertRate(pgAdminUrl: string, durationMs: number): Promise<number> {
  const name = `tally_bench_ceiling_${Date.now() % 1_000_000}`;
  await createDatabaseIfMissing(pgAdminUrl, name);
  const db = openDb(databaseUrl(pgAdminUrl, name), { poolMax: 1 });
  try {
    await sql`create table r (height bigint, tx_index int, tx_id bytea, committed boolean, authenticated boolean, reason_code text, message text, signer text, contract text, action text, primary key (height, tx_index))`.execute(
      db,
    );
    const txId = new Uint8Array(32).fill(9);
    let n = 0;
    let height = 0;
    const end = performance.now() + durationMs;
    const start = performance.now();
    while (performance.now() < end) {
      height++;
      const rows = Array.from({ length: 500 }, (_, i) => sql`(${height}, ${i}, ${txId}, true, true, '', '', 'bank-1', 'cash', 'transfer')`);
      await sql`insert into r values ${sql.join(rows)}`.execute(db);
      n += 500;
    }
    return (n * 1000) / (performance.now() - start);
  } finally {
    await db.destroy();
    await dropDatabase(pgAdminUrl, name);
  }
}

/** Measures every ceiling, one after another, so they do not disturb each other. */
export async function measureCeilings(o: {
  natsUrl: string;
  pgAdminUrl: string;
  msgBytes: number;
  durationMs?: number;
}): Promise<Ceilings> {
  const d = o.durationMs ?? 1500;
  const verify1CorePerSec = await verifyOn(1, d, o.msgBytes);
  const verify2CoresPerSec = await verifyOn(2, d, o.msgBytes);
  const jetstreamPublishPerSec = await jetstreamRate(o.natsUrl, o.msgBytes, d);
  const pgInsertRowsPerSec = await pgInsertRate(o.pgAdminUrl, d);
  return { verify1CorePerSec, verify2CoresPerSec, jetstreamPublishPerSec, pgInsertRowsPerSec };
}
