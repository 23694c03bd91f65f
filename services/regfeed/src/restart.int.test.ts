// Exactly-once resume across a regfeed crash: the regfeed process is SIGKILLed in the middle of a
// stream while blocks keep committing; the client reconnects to a new process with its last
// cursor. What it received, before and after, must equal the committed events: none missing, none twice.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import type { Kysely } from "kysely";
import { sql } from "kysely";
import { RegFeedServiceClient, type StreamEventsResponse } from "@tally/proto/regfeed";
import type { Event, EventCursor } from "@tally/proto/types";
import { HEIGHT_CHANNEL, migrateToLatest, openDb, type Database } from "@tally/db";
import { sha256 } from "@tally/ledger";
import { createTestDatabase, freePort, ServiceProcess, serviceEntry, waitFor } from "@tally/testkit";

const HEIGHTS = 120;
const key = (c: EventCursor | undefined): string => (c === undefined ? "-" : `${c.height}:${c.txIndex}:${c.eventIndex}`);

describe("regfeed killed mid-stream", () => {
  let drop: () => Promise<void>;
  let url: string;
  let db: Kysely<Database>;
  const procs: ServiceProcess[] = [];

  before(async () => {
    const t = await createTestDatabase("regfeed_restart");
    drop = () => t.drop();
    url = t.url;
    db = openDb(url);
    await migrateToLatest(db);
  });
  after(async () => {
    for (const p of procs) await p.stop("SIGKILL", 1000).catch(() => undefined);
    await db?.destroy();
    await drop?.();
  });

  /** Commits height h as the executor does: its events, then a notice on the node's channel, in one transaction. */
  async function commit(h: number): Promise<void> {
    await db.transaction().execute(async (tx) => {
      const rows = [];
      for (let t = 0; t < 1 + (h % 4); t++) {
        for (let e = 0; e < 1 + ((h + t) % 3); e++) {
          rows.push({
            height: BigInt(h),
            tx_index: t,
            event_index: e,
            tx_id: sha256(new TextEncoder().encode(`${h}/${t}`)),
            contract: "cash",
            type: "CashTransferred",
            asset_id: `acct/bank-${t}`,
            parties: ["bank-a", "bank-b"],
            data: JSON.stringify({ from: "bank-a", to: "bank-b", amount: `${h * 100 + t}`, pad: "p".repeat(300) }),
            block_time_ms: BigInt(1_700_000_000_000 + h),
            signer: "bank-a",
          });
        }
      }
      await tx.insertInto("events").values(rows).execute();
      await sql`select pg_notify(${HEIGHT_CHANNEL}, ${`executor:${h}`})`.execute(tx);
    });
  }

  async function start(port: number): Promise<ServiceProcess> {
    const p = new ServiceProcess("regfeed", serviceEntry("regfeed"), {
      NODE_ID: "regulator",
      DATABASE_URL: url,
      GRPC_ADDR: `127.0.0.1:${port}`,
      LOG_LEVEL: "info",
    });
    procs.push(p);
    await p.waitForLine(/regfeed listening/, 20_000);
    return p;
  }

  test("SIGKILL while streaming live; resume with the last cursor on a new process: exactly the committed events", async () => {
    const port = await freePort();
    const first = await start(port);
    const received: Event[] = [];
    let error: ServiceError | undefined;
    const open = (after: EventCursor | undefined): RegFeedServiceClient => {
      const client = new RegFeedServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
      const call = client.streamEvents({ filter: undefined, after, finalOnly: false, batchMax: 0 }, new Metadata());
      call.on("data", (m: StreamEventsResponse) => m.event && received.push(m.event));
      call.on("error", (e: ServiceError) => (error = e));
      return client;
    };
    // Blocks commit throughout, before, during and after the kill.
    let committed = 0;
    const writer = (async () => {
      for (let h = 1; h <= HEIGHTS; h++) {
        await commit(h);
        committed = h;
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    const c1 = open(undefined);
    await waitFor("some events, live", () => received.length > 50 && committed > 20, 20_000, 5);
    process.kill(first.pid, "SIGKILL");
    await first.exited;
    await waitFor("the stream to fail", () => error !== undefined, 10_000, 10);
    c1.close();
    const before = received.length;
    assert.ok(committed < HEIGHTS, "the kill happened while blocks were still committing");
    await start(port);
    error = undefined;
    const c2 = open(received[received.length - 1]!.cursor);
    await writer;
    const all = await db
      .selectFrom("events")
      .select(["height", "tx_index", "event_index"])
      .orderBy("height")
      .orderBy("tx_index")
      .orderBy("event_index")
      .execute();
    await waitFor("every committed event", () => received.length >= all.length || error !== undefined, 30_000, 10);
    c2.close();
    assert.equal(error, undefined, (error as ServiceError | undefined)?.details);
    assert.ok(before > 0 && before < all.length);
    const got = received.map((e) => key(e.cursor));
    assert.equal(new Set(got).size, got.length, "an event was delivered twice");
    assert.deepEqual(
      got,
      all.map((r) => `${r.height}:${r.tx_index}:${r.event_index}`),
    );
  });
});
