import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { sql, type Kysely } from "kysely";
import { builtinContracts, MEMBERSHIP_INDEX_KEY } from "@tally/contracts";
import { listenHeights, migrateToLatest, openDb, type Database, type HeightNotice } from "@tally/db";
import { bytesEqual, InvariantError, sha256, toHex, type SealedBlock } from "@tally/ledger";
import { createTestDatabase, waitFor } from "@tally/testkit";
import { executeBlock, genesisEffects, type BlockEffects, type ExecutorState } from "./block-executor.js";
import { EffectsStore } from "./effects-store.js";
import { DbStateReader } from "./state-reader.js";
import { BANK_A, BANK_B, ChainBuilder, GENESIS, issue, transfer } from "./testing/test-chain.js";

function isRace(e: unknown): boolean {
  return e instanceof InvariantError && e.code === "CHECKPOINT_RACE";
}

/** Everything the executor writes, to compare before and after a failed commit. */
async function snapshot(db: Kysely<Database>) {
  const [results, events, state, checkpoint] = await Promise.all([
    db.selectFrom("tx_results").selectAll().orderBy("height").orderBy("tx_index").execute(),
    db.selectFrom("events").selectAll().orderBy("position").execute(),
    db.selectFrom("contract_state").selectAll().orderBy("contract").orderBy("key").execute(),
    db.selectFrom("checkpoint").selectAll().execute(),
  ]);
  return { results, events, state, checkpoint };
}

describe("EffectsStore against PostgreSQL", () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Kysely<Database>;
  let store: EffectsStore;
  let reader: DbStateReader;
  const chain = new ChainBuilder();
  let exec: ExecutorState;
  const effects: BlockEffects[] = [];
  const issued = issue("bank-a", "100");
  const garbage = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);

  /** Executes a block on the database's state, as runExecutor does, without committing it. */
  async function execute(block: SealedBlock): Promise<BlockEffects> {
    const r = await executeBlock(block, exec, { genesis: GENESIS, contracts: builtinContracts, reader, seen: (ids) => store.seen(ids) });
    exec = { stateRoot: r.effects.stateRoot, membership: r.membership };
    return r.effects;
  }

  before(async () => {
    testDb = await createTestDatabase("tally_exec_store");
    db = openDb(testDb.url, { poolMax: 4 });
    await migrateToLatest(db);
    store = new EffectsStore(db);
    reader = new DbStateReader(db);
  });

  after(async () => {
    await db?.destroy();
    await testDb?.drop();
  });

  test("an empty database has no checkpoint", async () => {
    assert.equal(await store.checkpoint(), undefined);
  });

  test("genesis commits the membership state, its events and checkpoint 0", async () => {
    const g = genesisEffects(GENESIS, builtinContracts, chain.tip);
    await store.commit(g, undefined);
    effects.push(g);
    const membership = await reader.loadAll("membership");
    exec = { stateRoot: g.stateRoot, membership };
    const cp = await store.checkpoint();
    assert.ok(cp);
    assert.equal(cp.height, 0n);
    assert.ok(bytesEqual(cp.stateRoot, g.stateRoot));
    assert.ok(bytesEqual(cp.blockHash, chain.tip.hash));
    assert.equal(cp.timestampMs, BigInt(GENESIS.genesisTimeMs));
    assert.deepEqual([...membership.keys()], ["chain-config", "index", "inst/bank-a", "inst/bank-b", "inst/clearing", "inst/regulator"]);
    assert.deepEqual(membership.get(MEMBERSHIP_INDEX_KEY), ["bank-a", "bank-b", "clearing", "regulator"]);
    const s = await snapshot(db);
    // One admission per institution, and the chain config.
    assert.equal(s.events.length, 5);
    assert.equal(s.results.length, 0);
  });

  test("a block's results, events, state and checkpoint are all written by one commit", async () => {
    const block = chain.next([issued.raw, transfer(BANK_A, "bank-b", "30").raw, garbage, issued.raw]);
    const e = await execute(block);
    assert.deepEqual(
      e.results.map((r) => r.reasonCode),
      ["", "", "MALFORMED", "DUPLICATE"],
    );
    await store.commit(e, 0n);
    effects.push(e);
    const s = await snapshot(db);
    assert.deepEqual(
      s.results.map((r) => [r.height, r.tx_index, r.committed, r.reason_code, r.signer, r.contract, r.action]),
      [
        [1n, 0, true, "", "clearing", "cash", "issue"],
        [1n, 1, true, "", "bank-a", "cash", "transfer"],
        [1n, 2, false, "MALFORMED", "", "", ""],
        [1n, 3, false, "DUPLICATE", "clearing", "cash", "issue"],
      ],
    );
    assert.ok(bytesEqual(s.results[2]!.tx_id, sha256(garbage)));
    const blockEvents = s.events.filter((ev) => ev.height === 1n);
    assert.deepEqual(
      blockEvents.map((ev) => [
        ev.tx_index,
        ev.event_index,
        ev.contract,
        ev.type,
        ev.asset_id,
        ev.parties,
        ev.data,
        ev.block_time_ms,
        ev.signer,
      ]),
      [
        [
          0,
          0,
          "cash",
          "CashIssued",
          "acct/bank-a",
          ["clearing", "bank-a"],
          { issuer: "clearing", to: "bank-a", amount: "100" },
          block.header.timestampMs,
          "clearing",
        ],
        [
          1,
          0,
          "cash",
          "CashTransferred",
          "acct/bank-a",
          ["bank-a", "bank-b"],
          { from: "bank-a", to: "bank-b", amount: "30", memo: null },
          block.header.timestampMs,
          "bank-a",
        ],
      ],
    );
    // Positions grow in commit order after genesis's.
    assert.ok(blockEvents[0]!.position > s.events[3]!.position);
    assert.deepEqual(
      s.state.filter((r) => r.contract === "cash").map((r) => [r.key, r.value, r.height]),
      [
        ["acct/bank-a", { balance: "70" }, 1n],
        ["acct/bank-b", { balance: "30" }, 1n],
      ],
    );
    const cp = await store.checkpoint();
    assert.ok(cp);
    assert.equal(cp.height, 1n);
    assert.ok(bytesEqual(cp.stateRoot, e.stateRoot));
    assert.ok(bytesEqual(cp.blockHash, block.hash));
    assert.equal(cp.lastTxsSeq, block.header.lastTxsSeq);
    assert.equal(cp.timestampMs, block.header.timestampMs);
  });

  test("a commit from the wrong previous height throws CHECKPOINT_RACE and writes nothing", async () => {
    const block = chain.next([issue("bank-b", "5").raw, transfer(BANK_A, "bank-b", "1").raw]);
    const e2 = await execute(block);
    effects.push(e2);
    const before = await snapshot(db);
    await assert.rejects(store.commit(e2, 0n), isRace);
    await assert.rejects(store.commit(e2, 2n), isRace);
    // Block 1 again, from where it was applied: a block is never applied twice.
    await assert.rejects(store.commit(effects[1]!, 0n), isRace);
    // Genesis again, as a second executor racing on an empty database would.
    await assert.rejects(store.commit(effects[0]!, undefined), isRace);
    assert.deepEqual(await snapshot(db), before);
  });

  test("a commit that fails midway, after the checkpoint and results, rolls back all of it", async () => {
    const e2 = effects[2]!;
    const before = await snapshot(db);
    const first = e2.events[0];
    assert.ok(first);
    // The same (height, tx, event) twice violates the events key after checkpoint and results are written.
    await assert.rejects(store.commit({ ...e2, events: [...e2.events, first] }, 1n));
    assert.deepEqual(await snapshot(db), before);
    assert.equal((await store.checkpoint())?.height, 1n);
    await store.commit(e2, 1n);
    const cp = await store.checkpoint();
    assert.equal(cp?.height, 2n);
    assert.ok(bytesEqual(cp.stateRoot, e2.stateRoot));
    assert.deepEqual(
      await reader.load("cash", ["acct/bank-a", "acct/bank-b"]),
      new Map([
        ["acct/bank-a", { balance: "69" }],
        ["acct/bank-b", { balance: "36" }],
      ]),
    );
  });

  test("seen() finds the ids of earlier authenticated results, rejected ones included, and only those", async () => {
    const ids = effects[1]!.results.map((r) => r.txId);
    const authenticated = effects[1]!.results.filter((r) => r.authenticated).map((r) => r.txId);
    assert.ok(authenticated.length > 0 && authenticated.length < ids.length);
    const unknown = sha256(new Uint8Array([1, 2, 3]));
    const got = await store.seen([...ids, unknown]);
    assert.deepEqual(got, new Set(authenticated.map(toHex)));
    // A leaf that never authenticated (garbage) does not make a later genuine tx a replay.
    assert.equal(got.has(toHex(sha256(garbage))), false);
    assert.equal((await store.seen([])).size, 0);
    // More ids than one query holds.
    const many = Array.from({ length: 2500 }, (_, i) => sha256(new Uint8Array([i & 0xff, i >> 8, 7])));
    many.splice(1800, 0, issued.id);
    assert.deepEqual(await store.seen(many), new Set([toHex(issued.id)]));
  });

  test("a tx included twice in one block reports its first inclusion", async () => {
    const r = await store.resultOf(issued.id);
    assert.ok(r);
    assert.deepEqual([r.height, r.tx_index, r.committed, r.reason_code], [1n, 0, true, ""]);
    const rows = await store.resultsAt(1n);
    assert.deepEqual(
      rows.map((x) => [x.tx_index, x.committed, x.reason_code]),
      [
        [0, true, ""],
        [1, true, ""],
        [2, false, "MALFORMED"],
        [3, false, "DUPLICATE"],
      ],
    );
    assert.equal(await store.resultOf(sha256(new Uint8Array([9]))), undefined);
    assert.deepEqual(await store.resultsAt(99n), []);
  });

  test("a commit announces its height on the node's channel; a failed one announces nothing", async () => {
    const notices: HeightNotice[] = [];
    const listener = await listenHeights(testDb.url, (n) => notices.push(n));
    try {
      const e3 = await execute(chain.next([transfer(BANK_B, "bank-a", "6").raw]));
      await assert.rejects(store.commit(e3, 1n), isRace);
      await store.commit(e3, 2n);
      await waitFor("the height 3 notice", () => notices.some((n) => n.height === 3n), 10_000);
      assert.deepEqual(notices, [{ source: "executor", height: 3n, membershipChanged: false }]);
    } finally {
      await listener.close();
    }
  });

  test("the checkpoint table holds one row", async () => {
    const r = await sql<{ n: string }>`select count(*)::text as n from checkpoint`.execute(db);
    assert.equal(r.rows[0]?.n, "1");
  });
});
