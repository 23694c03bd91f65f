// The shared in-memory tail answers exactly as the database does: same events, same order, same
// filters, for every cursor it covers; it refuses (undefined) cursors older than what it holds;
// and readers racing with commits never see a gap.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Kysely } from "kysely";
import type { EventFilter } from "@tally/proto/regfeed";
import type { Event } from "@tally/proto/types";
import { migrateToLatest, openDb, type Database } from "@tally/db";
import { sha256 } from "@tally/ledger";
import { createTestDatabase } from "@tally/testkit";
import { EventFeed } from "./event-feed.js";
import { EventTail } from "./event-tail.js";

const f = (x: Partial<EventFilter>): EventFilter => ({ contracts: [], types: [], parties: [], assetIds: [], minAmount: "", ...x });
const key = (e: Event): string => `${e.cursor!.height}:${e.cursor!.txIndex}:${e.cursor!.eventIndex}`;

async function commitHeight(db: Kysely<Database>, h: number): Promise<void> {
  const rows = [];
  for (let t = 0; t < 1 + (h % 3); t++) {
    for (let e = 0; e < 1 + ((h + t) % 2); e++) {
      const kind = (h + t + e) % 4;
      rows.push({
        height: BigInt(h),
        tx_index: t,
        event_index: e,
        tx_id: sha256(new TextEncoder().encode(`${h}/${t}`)),
        contract: ["cash", "bond", "notary", "bill"][kind]!,
        type: ["CashTransferred", "BondTraded", "DocumentRegistered", "BillIssued"][kind]!,
        asset_id: `a/${h % 5}`,
        parties: [`p${h % 3}`, `p${(h + 1) % 3}`],
        data: JSON.stringify(kind === 1 ? { price: `${h * 10}`, units: "5" } : kind === 2 ? { title: "t" } : { amount: `${h * 7}` }),
        block_time_ms: BigInt(h),
        signer: "s",
      });
    }
  }
  await db.insertInto("events").values(rows).execute();
}

describe("the shared event tail", () => {
  let drop: () => Promise<void>;
  let db: Kysely<Database>;
  before(async () => {
    const t = await createTestDatabase("regfeed_tail");
    drop = () => t.drop();
    db = openDb(t.url);
    await migrateToLatest(db);
    for (let h = 1; h <= 10; h++) await commitHeight(db, h);
  });
  after(async () => {
    await db?.destroy();
    await drop?.();
  });

  test("answers as the database does for every covered cursor and filter; older cursors go to the database", async () => {
    const tail = new EventTail(db, 40);
    const viaTail = new EventFeed(db, tail);
    const direct = new EventFeed(db);
    // The tail starts at the newest event: nothing before it is served from memory.
    assert.equal(await tail.read(undefined, undefined, 10), undefined);
    for (let h = 11; h <= 60; h++) await commitHeight(db, h);
    await tail.refresh();
    const all = await direct.pageFromDb(undefined, undefined, 10_000);
    const filters = [
      undefined,
      f({ contracts: ["cash", "bill"] }),
      f({ types: ["BondTraded"] }),
      f({ parties: ["p1"] }),
      f({ assetIds: ["a/2", "a/4"] }),
      f({ minAmount: "200" }),
      f({ contracts: ["bond"], minAmount: "300", parties: ["p0"] }),
    ];
    let servedFromTail = 0;
    for (const c of [undefined, ...all.map((e) => e.cursor)]) {
      const covered = (await tail.read(c, undefined, 1)) !== undefined;
      if (covered) servedFromTail++;
      for (const filter of filters) {
        for (const limit of [1, 7, 500]) {
          const a = await viaTail.page(c, filter, limit);
          const b = await direct.pageFromDb(c, filter, limit);
          assert.deepEqual(
            a.map(key),
            b.map(key),
            `after ${c === undefined ? "start" : key({ cursor: c } as Event)} ${JSON.stringify(filter)} ${limit}`,
          );
          assert.deepEqual(a, b);
        }
      }
    }
    // It kept at most 40 events, so most cursors were answered by the database.
    assert.ok(servedFromTail > 30 && servedFromTail < all.length - 30, `${servedFromTail} of ${all.length}`);
  });

  test("many readers racing with commits each see every event once, in order", async () => {
    const tail = new EventTail(db, 10_000);
    const feed = new EventFeed(db, tail);
    const start = (await feed.pageFromDb(undefined, undefined, 100_000)).at(-1)!.cursor;
    const got: string[][] = Array.from({ length: 8 }, () => []);
    let done = false;
    const readers = got.map(async (out) => {
      let c = start;
      while (!done || out.length < 1) {
        const page = await feed.page(c, undefined, 50);
        for (const e of page) out.push(key(e));
        if (page.length > 0) c = page.at(-1)!.cursor;
        else if (done) break;
        else await new Promise((r) => setTimeout(r, 1));
      }
      // Drain what is left after the last commit.
      for (;;) {
        const page = await feed.page(c, undefined, 500);
        if (page.length === 0) break;
        for (const e of page) out.push(key(e));
        c = page.at(-1)!.cursor;
      }
    });
    for (let h = 61; h <= 140; h++) await commitHeight(db, h);
    done = true;
    await Promise.all(readers);
    const want = (await new EventFeed(db).pageFromDb(start, undefined, 100_000)).map(key);
    for (const out of got) assert.deepEqual(out, want);
  });
});
