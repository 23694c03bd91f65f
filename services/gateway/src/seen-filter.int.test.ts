// The gateway's seen-tx filter on a real node database: it loads every applied tx id at start,
// follows the heights the executor announces, and never says "never applied" of an applied tx.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { sql } from "kysely";
import { migrateToLatest, openDb, type Database } from "@tally/db";
import { sha256 } from "@tally/ledger";
import { createTestDatabase, waitFor } from "@tally/testkit";
import type { Kysely } from "kysely";
import { insertResult } from "./testing/harness.js";
import { TxStatusReader } from "./tx-status-reader.js";

const id = (n: number): Uint8Array => sha256(new TextEncoder().encode(`seen ${n}`));

let db: Kysely<Database>;
let drop: () => Promise<void>;

before(async () => {
  const info = await createTestDatabase("gw_seen");
  drop = () => info.drop();
  db = openDb(info.url);
  await migrateToLatest(db);
  // 45,000 applied txs over 3 heights (more than two pages of the loader), checkpoint at 3.
  for (let h = 1; h <= 3; h++) {
    const rows = Array.from({ length: 15_000 }, (_, i) => ({
      height: BigInt(h),
      tx_index: i,
      tx_id: id(h * 100_000 + i),
      committed: true,
      authenticated: true,
      reason_code: "",
      message: "",
      signer: "bank-a",
      contract: "cash",
      action: "transfer",
    }));
    for (let i = 0; i < rows.length; i += 2000)
      await db
        .insertInto("tx_results")
        .values(rows.slice(i, i + 2000))
        .execute();
  }
  await sql`insert into checkpoint (id, height, block_hash, state_root, timestamp_ms, last_txs_seq)
            values (1, 3, ${new Uint8Array(32)}, ${new Uint8Array(32)}, 0, 0)`.execute(db);
});

after(async () => {
  await db?.destroy();
  await drop?.();
});

test("loads every applied id, then follows announced heights; ids never applied are (almost all) skipped", async () => {
  const r = new TxStatusReader(db, { seenFilter: true });
  // Until the first load ends, every id may have been applied (the database decides).
  assert.equal(r.mayHaveApplied(id(999_999_999)), true);
  const skippedOf1000 = (): number => {
    let skipped = 0;
    for (let n = 0; n < 1000; n++) if (!r.mayHaveApplied(id(900_000 + n))) skipped++;
    return skipped;
  };
  // Loaded: ids never applied are skipped (a Bloom filter: about 1 % may still be asked about).
  await waitFor("the first load", () => skippedOf1000() > 900 || undefined, 20_000);
  for (let h = 1; h <= 3; h++) for (let i = 0; i < 15_000; i += 7) assert.equal(r.mayHaveApplied(id(h * 100_000 + i)), true);

  // Height 4 is applied and announced: its tx is then known to the filter.
  await insertResult(db, id(400_001), 4n);
  assert.equal(r.mayHaveApplied(id(400_001)), false, "not before the executor announced height 4");
  r.noteCommitted(4n);
  await waitFor("height 4 loaded", () => r.mayHaveApplied(id(400_001)) || undefined, 10_000);
});

test("without the filter every id may have been applied", () => {
  const r = new TxStatusReader(db);
  assert.equal(r.mayHaveApplied(id(123_456_789)), true);
});
