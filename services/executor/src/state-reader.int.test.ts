import { after, before, describe } from "node:test";
import type { Kysely } from "kysely";
import { migrateToLatest, openDb, type Database } from "@tally/db";
import { createTestDatabase } from "@tally/testkit";
import { DbStateReader } from "./state-reader.js";
import { stateReaderContract, STATE_READER_FIXTURE } from "./testing/state-reader-contract.js";

describe("DbStateReader passes the StateReader contract", () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Kysely<Database>;
  let reader: DbStateReader;

  before(async () => {
    testDb = await createTestDatabase("tally_exec_reader");
    db = openDb(testDb.url, { poolMax: 2 });
    await migrateToLatest(db);
    const rows = [...STATE_READER_FIXTURE].flatMap(([contract, kv]) =>
      [...kv].map(([key, value]) => ({ contract, key, value: JSON.stringify(value), height: 1n })),
    );
    await db.insertInto("contract_state").values(rows).execute();
    reader = new DbStateReader(db);
  });

  after(async () => {
    await db?.destroy();
    await testDb?.drop();
  });

  stateReaderContract(() => reader);
});
