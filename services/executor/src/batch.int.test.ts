// Applying blocks in batches (several blocks, one database transaction) must reach exactly the
// state that applying them one by one reaches: same roots, same rows.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Kysely } from "kysely";
import { builtinContracts } from "@tally/contracts";
import { migrateToLatest, openDb, type Database } from "@tally/db";
import { toHex, type JsonValue, type SealedBlock } from "@tally/ledger";
import { createTestDatabase } from "@tally/testkit";
import { executeBlock, genesisEffects, type BlockEffects } from "./block-executor.js";
import { EffectsStore } from "./effects-store.js";
import { DbStateReader, LayeredStateReader } from "./state-reader.js";
import { BANK_A, BANK_B, ChainBuilder, GENESIS, issue, transfer } from "./testing/test-chain.js";
import { MemoryState } from "./testing/memory-state.js";

async function dump(db: Kysely<Database>) {
  return {
    results: await db
      .selectFrom("tx_results")
      .select(["height", "tx_index", "committed", "reason_code"])
      .orderBy("height")
      .orderBy("tx_index")
      .execute(),
    events: await db.selectFrom("events").select(["height", "tx_index", "event_index", "type", "data"]).orderBy("position").execute(),
    state: await db
      .selectFrom("contract_state")
      .select(["contract", "key", "value", "height"])
      .orderBy("contract")
      .orderBy("key")
      .execute(),
    checkpoint: await db.selectFrom("checkpoint").selectAll().execute(),
  };
}

describe("batched application", () => {
  const dbs: { drop(): Promise<void> }[] = [];
  const handles: Kysely<Database>[] = [];
  const chain = new ChainBuilder();
  // A replay across blocks, a key read after a write in an earlier block of the same batch,
  // and an overdraft that only the earlier block's state makes fail.
  const first = issue("bank-a", "100");
  const blocks: SealedBlock[] = [
    chain.next([first.raw]),
    chain.next([transfer(BANK_A, "bank-b", "60").raw, first.raw]),
    chain.next([transfer(BANK_A, "bank-b", "50").raw, transfer(BANK_B, "bank-a", "10").raw]),
    chain.next([issue("bank-b", "5").raw]),
  ];

  async function freshStore(): Promise<{ db: Kysely<Database>; store: EffectsStore; reader: DbStateReader }> {
    const t = await createTestDatabase("tally_exec_batch");
    dbs.push(t);
    const db = openDb(t.url, { poolMax: 2 });
    handles.push(db);
    await migrateToLatest(db);
    return { db, store: new EffectsStore(db), reader: new DbStateReader(db) };
  }

  after(async () => {
    for (const h of handles) await h.destroy();
    for (const d of dbs) await d.drop();
  });

  let oneByOne: Awaited<ReturnType<typeof dump>>;
  const rootsOneByOne: string[] = [];

  before(async () => {
    const { db, store, reader } = await freshStore();
    const g = genesisEffects(GENESIS, builtinContracts, chain.blocks[0]!);
    await store.commit(g, undefined);
    let state = { stateRoot: g.stateRoot, membership: (await reader.loadAll("membership")) as ReadonlyMap<string, JsonValue> };
    let prev = 0n;
    for (const b of blocks) {
      const r = await executeBlock(b, state, { genesis: GENESIS, contracts: builtinContracts, reader, seen: (ids) => store.seen(ids) });
      await store.commit(r.effects, prev);
      prev = r.effects.height;
      state = { stateRoot: r.effects.stateRoot, membership: r.membership };
      rootsOneByOne.push(toHex(r.effects.stateRoot));
    }
    oneByOne = await dump(db);
  });

  test("one commit for genesis and four blocks gives the same rows and roots as five commits", async () => {
    const { db, store, reader } = await freshStore();
    const layered = new LayeredStateReader(reader);
    const seenInBatch = new Set<string>();
    const g = genesisEffects(GENESIS, builtinContracts, chain.blocks[0]!);
    layered.apply(g.updates);
    let state = { stateRoot: g.stateRoot, membership: (await layered.loadAll("membership")) as ReadonlyMap<string, JsonValue> };
    const applied: BlockEffects[] = [g];
    for (const b of blocks) {
      const r = await executeBlock(b, state, {
        genesis: GENESIS,
        contracts: builtinContracts,
        reader: layered,
        seen: async (ids) => {
          const s = await store.seen(ids);
          for (const id of ids) if (seenInBatch.has(toHex(id))) s.add(toHex(id));
          return s;
        },
      });
      layered.apply(r.effects.updates);
      for (const x of r.effects.results) if (x.authenticated) seenInBatch.add(toHex(x.txId));
      applied.push(r.effects);
      state = { stateRoot: r.effects.stateRoot, membership: r.membership };
    }
    assert.deepEqual(
      applied.slice(1).map((e) => toHex(e.stateRoot)),
      rootsOneByOne,
    );
    assert.deepEqual(
      applied[2]!.results.map((r) => r.reasonCode),
      ["", "DUPLICATE"],
      "the replay is caught across blocks of one batch",
    );
    assert.deepEqual(
      applied[3]!.results.map((r) => r.reasonCode),
      ["INSUFFICIENT_FUNDS", ""],
      "the earlier block's write is read",
    );
    await store.commitMany(applied, undefined);
    assert.deepEqual(await dump(db), oneByOne);
  });

  test("commitMany refuses heights that do not follow each other, and writes nothing", async () => {
    const { db, store } = await freshStore();
    const g = genesisEffects(GENESIS, builtinContracts, chain.blocks[0]!);
    const mem = new MemoryState();
    mem.apply(g);
    const r = await executeBlock(
      blocks[0]!,
      { stateRoot: g.stateRoot, membership: await mem.loadAll("membership") },
      {
        genesis: GENESIS,
        contracts: builtinContracts,
        reader: mem,
        seen: mem.seen,
      },
    );
    await assert.rejects(store.commitMany([g, { ...r.effects, height: 5n }], undefined), /consecutive/);
    assert.equal((await dump(db)).checkpoint.length, 0);
  });
});

describe("LayeredStateReader", () => {
  test("pending writes override the base, and pending deletions hide it", async () => {
    const base = new MemoryState();
    base.apply({
      updates: new Map([
        [
          "cash",
          new Map<string, JsonValue | null>([
            ["a", { balance: "1" }],
            ["b", { balance: "2" }],
          ]),
        ],
      ]),
      results: [],
    } as unknown as BlockEffects);
    const l = new LayeredStateReader(base);
    l.apply(
      new Map([
        [
          "cash",
          new Map<string, JsonValue | null>([
            ["a", { balance: "9" }],
            ["b", null],
            ["c", { balance: "3" }],
          ]),
        ],
      ]),
    );
    assert.deepEqual(
      await l.load("cash", ["a", "b", "c", "d"]),
      new Map([
        ["a", { balance: "9" }],
        ["c", { balance: "3" }],
      ]),
    );
    assert.deepEqual(
      await l.loadAll("cash"),
      new Map([
        ["a", { balance: "9" }],
        ["c", { balance: "3" }],
      ]),
    );
    assert.deepEqual(
      await base.load("cash", ["a", "b"]),
      new Map([
        ["a", { balance: "1" }],
        ["b", { balance: "2" }],
      ]),
      "the base is untouched",
    );
  });
});
