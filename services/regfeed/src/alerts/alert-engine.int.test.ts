// Each supervision rule fires on a crafted scenario and stays quiet on a near-miss; the engine
// resumes after a restart without raising an alert twice.
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Kysely } from "kysely";
import { migrateToLatest, openDb, type Database } from "@tally/db";
import { sha256 } from "@tally/ledger";
import { createTestDatabase } from "@tally/testkit";
import { AlertEngine } from "./alert-engine.js";

interface E {
  contract: string;
  type: string;
  assetId?: string;
  data: Record<string, unknown>;
  parties?: string[];
}
interface R {
  signer: string;
  action?: string;
  reason?: string;
}

const SUPERVISION = {
  largeTradeAmount: "1000000",
  alertRules: [
    { id: "big-cash", contract: "cash", minAmount: "1000000" },
    { id: "big-bill-discount", contract: "bill", action: "discount", minAmount: "500000" },
  ],
  roundTrip: { windowBlocks: 5 },
  concentration: { maxShareBp: 4000 },
  rejectedAttempts: { count: 3, windowBlocks: 10, reasonCodes: ["ALREADY_FINANCED", "INSUFFICIENT_FUNDS"] },
  dishonouredBills: true,
  divergence: true,
};

describe("supervision rules", () => {
  let drop: () => Promise<void>;
  let db: Kysely<Database>;
  let n = 0;
  let height = 0n;

  before(async () => {
    const t = await createTestDatabase("regfeed_alerts");
    drop = () => t.drop();
    db = openDb(t.url);
    await migrateToLatest(db);
  });
  after(async () => {
    await db?.destroy();
    await drop?.();
  });

  /** A fresh chain whose genesis config holds the rules. */
  beforeEach(async () => {
    for (const t of ["events", "tx_results", "alerts", "alert_checkpoint", "checkpoint", "node_receipts"] as const)
      await db.deleteFrom(t).execute();
    height = -1n;
    await block(
      [{ contract: "membership", type: "ChainConfigInitialised", assetId: "chain-config", data: { supervision: SUPERVISION } }],
      [],
    );
  });

  /** Commits one block: each tx (result) with its events (events[i] belongs to tx i). */
  async function block(events: E[], results: R[], txOf: (i: number) => number = (i) => i): Promise<bigint> {
    height++;
    const h = height;
    const txId = (i: number): Uint8Array => sha256(new TextEncoder().encode(`${n}/${h}/${i}`));
    if (events.length > 0) {
      const perTx = new Map<number, number>();
      await db
        .insertInto("events")
        .values(
          events.map((e, i) => {
            const t = txOf(i);
            const ei = perTx.get(t) ?? 0;
            perTx.set(t, ei + 1);
            return {
              height: h,
              tx_index: t,
              event_index: ei,
              tx_id: txId(t),
              contract: e.contract,
              type: e.type,
              asset_id: e.assetId ?? "x",
              parties: e.parties ?? [],
              data: JSON.stringify(e.data),
              block_time_ms: 1000n * h,
              signer: "s",
            };
          }),
        )
        .execute();
    }
    if (results.length > 0) {
      await db
        .insertInto("tx_results")
        .values(
          results.map((r, i) => ({
            height: h,
            tx_index: i,
            tx_id: txId(i),
            committed: r.reason === undefined,
            authenticated: true,
            reason_code: r.reason ?? "",
            message: "",
            signer: r.signer,
            contract: "c",
            action: r.action ?? "a",
          })),
        )
        .execute();
    }
    const cp = { height: h, block_hash: new Uint8Array(32), state_root: new Uint8Array(32), timestamp_ms: 0n, last_txs_seq: 0n };
    await db
      .insertInto("checkpoint")
      .values({ id: 1, ...cp })
      .onConflict((c) => c.column("id").doUpdateSet(cp))
      .execute();
    n++;
    return h;
  }

  async function alerts(
    engine = new AlertEngine(db, undefined),
  ): Promise<{ rule: string; rule_id: string; height: bigint; subjects: string[] }[]> {
    while ((await engine.step()) > 0);
    return db.selectFrom("alerts").select(["rule", "rule_id", "height", "subjects", "seq"]).orderBy("seq").execute();
  }

  const cash = (from: string, to: string, amount: string): E => ({
    contract: "cash",
    type: "CashTransferred",
    assetId: `acct/${from}`,
    data: { from, to, amount },
    parties: [from, to],
  });

  test("large value per asset type: fires at the threshold, quiet one unit below; an action-scoped rule needs its action", async () => {
    await block([cash("a", "b", "999999")], [{ signer: "a" }]);
    await block([{ contract: "bill", type: "BillDiscounted", data: { amount: "600000" } }], [{ signer: "a", action: "endorse" }]);
    assert.deepEqual(await alerts(), [], "near-misses");
    const h = await block([cash("a", "b", "1000000")], [{ signer: "a" }]);
    const h2 = await block(
      [{ contract: "bill", type: "BillDiscounted", data: { amount: "600000" } }],
      [{ signer: "a", action: "discount" }],
    );
    const got = await alerts();
    assert.deepEqual(
      got.map((a) => [a.rule, a.rule_id, a.height]),
      [
        ["large-value", "big-cash", h],
        ["large-value", "big-bill-discount", h2],
      ],
    );
  });

  test("round trip A→B→A within N blocks fires; after N blocks it does not; a different thing does not", async () => {
    await block([cash("a", "b", "10")], [{ signer: "a" }]);
    for (let i = 0; i < 5; i++) await block([], []);
    await block([cash("b", "a", "10")], [{ signer: "b" }]); // 6 blocks later: outside a 5-block window
    const bond = (s: string, b: string): E => ({
      contract: "bond",
      type: "BondTraded",
      assetId: "bond/x",
      data: { bond: "x", seller: s, buyer: b, units: "1", price: "1", buyerUnitsAfter: "1" },
    });
    await block([bond("c", "d")], [{ signer: "c" }]);
    await block([cash("d", "c", "5")], [{ signer: "d" }]); // cash back, not the bond: not the same thing
    assert.deepEqual(await alerts(), [], "near-misses");
    const back = await block([], []).then(() => block([bond("d", "c")], [{ signer: "d" }]));
    const got = await alerts();
    assert.deepEqual(
      got.map((a) => [a.rule, a.height, a.subjects]),
      [["round-trip", back, ["c", "d"]]],
    );
  });

  test("concentration: a holder crossing X% of a bond's allotted units fires once; exactly X% is quiet", async () => {
    const allot = (units: [string, string][]): E[] => [
      { contract: "bond", type: "BondAllotted", assetId: "bond/z", data: { bond: "z", unitsAllotted: "1000" } },
      ...units.map(([holder, u]) => ({
        contract: "bond",
        type: "UnitsAllotted",
        assetId: `holding/z/${holder}`,
        data: { bond: "z", holder, units: u },
      })),
    ];
    await block(
      allot([
        ["a", "400"],
        ["b", "600"],
      ]),
      [{ signer: "i" }],
      () => 0,
    );
    assert.deepEqual(
      (await alerts()).map((a) => a.subjects),
      [["b"]],
      "b holds 60% at allotment; a exactly 40% is quiet",
    );
    const trade = (units: string, after: string): E => ({
      contract: "bond",
      type: "BondTraded",
      assetId: "bond/z",
      data: { bond: "z", seller: "b", buyer: "a", units, price: "1", buyerUnitsAfter: after },
    });
    await block([trade("0", "400")], [{ signer: "a" }]);
    assert.equal((await alerts()).length, 1, "still exactly 40%: quiet");
    const h = await block([trade("1", "401")], [{ signer: "a" }]);
    const got = await alerts();
    assert.deepEqual(got.map((a) => [a.rule, a.height, a.subjects]).slice(1), [["concentration", h, ["a"]]]);
  });

  test("repeated rejected double-finance/double-spend attempts: K within N blocks fires once; K−1, other codes, or spread out are quiet", async () => {
    const rej = (signer: string, reason: string): R => ({ signer, reason });
    await block([], [rej("x", "ALREADY_FINANCED"), rej("x", "INSUFFICIENT_FUNDS")]);
    await block([], [rej("x", "NOT_HOLDER"), rej("y", "ALREADY_FINANCED")]); // another code; another signer
    for (let i = 0; i < 9; i++) await block([], []);
    await block([], [rej("x", "ALREADY_FINANCED")]); // the first two are now outside a 10-block window
    assert.deepEqual(await alerts(), [], "near-misses");
    const h = await block([], [rej("x", "INSUFFICIENT_FUNDS"), rej("x", "ALREADY_FINANCED")]);
    await block([], [rej("x", "ALREADY_FINANCED")]); // within the same window: no second alert
    const got = await alerts();
    assert.deepEqual(
      got.map((a) => [a.rule, a.rule_id, a.height]),
      [["repeated-rejections", "x", h]],
    );
  });

  test("dishonoured bills fire; a bill paid does not", async () => {
    await block([{ contract: "bill", type: "BillPaid", assetId: "bill/p", data: { amount: "5" } }], [{ signer: "a" }]);
    assert.deepEqual(await alerts(), []);
    const h = await block(
      [{ contract: "bill", type: "BillDishonoured", assetId: "bill/d", data: { holder: "h", acceptor: "acc", amount: "5" } }],
      [{ signer: "h" }],
    );
    assert.deepEqual(
      (await alerts()).map((a) => [a.rule, a.height, a.subjects]),
      [["dishonoured-bill", h, ["acc", "h"]]],
    );
  });

  test("a rule set changed by governance applies from the next block; rules switched off stay quiet", async () => {
    await block(
      [
        {
          contract: "membership",
          type: "SupervisionChanged",
          assetId: "chain-config",
          data: { supervision: { largeTradeAmount: "1", alertRules: [] } },
        },
        cash("a", "b", "5000000"),
      ],
      [{ signer: "g" }, { signer: "a" }],
      (i) => i,
    );
    await block([cash("a", "b", "5000000")], [{ signer: "a" }]);
    const got = await alerts();
    assert.deepEqual(
      got.map((a) => [a.rule, a.height]),
      [["large-value", height - 1n]],
      "the change's own block still ran the old rules",
    );
  });

  test("state-root divergence: a validator off the quorum's root fires; without a quorum nothing does", async () => {
    const quorum = { validators: ["n1", "n2", "n3", "n4"], quorumNumerator: 2, quorumDenominator: 3 };
    const engine = new AlertEngine(db, quorum);
    const h1 = await block([], []);
    const h2 = await block([], []);
    const root = (b: number): Uint8Array => new Uint8Array(32).fill(b);
    const put = async (node: string, h: bigint, r: number): Promise<void> => {
      await db
        .insertInto("node_receipts")
        .values({ node_id: node, height: h, block_hash: root(9), state_root: root(r) })
        .execute();
      engine.receiptStored(h);
    };
    // h1: 2 vs 2, no quorum (needs more than 2/3 of 4, i.e. 3).
    for (const [node, r] of [
      ["n1", 1],
      ["n2", 1],
      ["n3", 2],
      ["n4", 2],
    ] as const)
      await put(node, h1, r);
    // h2: 3 agree, n4 differs.
    for (const [node, r] of [
      ["n1", 1],
      ["n2", 1],
      ["n3", 1],
    ] as const)
      await put(node, h2, r);
    assert.deepEqual(await alerts(engine), [], "no quorum, or everyone agrees");
    await put("n4", h2, 7);
    await put("stranger", h2, 8); // not a validator: ignored
    const got = await alerts(engine);
    assert.deepEqual(
      got.map((a) => [a.rule, a.height, a.subjects]),
      [["state-root-divergence", h2, ["n4"]]],
    );
    engine.receiptStored(h2);
    assert.equal((await alerts(engine)).length, 1, "seen again: no second alert");
  });

  test("a restarted engine resumes from its checkpoint: same alerts, none twice", async () => {
    await block([cash("a", "b", "2000000")], [{ signer: "a" }]);
    const first = new AlertEngine(db, undefined);
    await first.step();
    await block([cash("b", "a", "2000000")], [{ signer: "b" }]);
    const got = await alerts(new AlertEngine(db, undefined));
    assert.deepEqual(
      got.map((a) => [a.rule, Number(a.height)]),
      [
        ["large-value", 1],
        ["large-value", 2],
        ["round-trip", 2],
      ],
    );
    assert.deepEqual(
      got.map((a) => Number((a as unknown as { seq: bigint }).seq)),
      [1, 2, 3],
    );
  });
});
