// The finality tracker against real NATS and PostgreSQL: receipts signed by four validators are
// published on RECEIPTS; the tracker records what became final, raises a divergence when this
// node's own receipt disagrees with a quorum, resumes from its cursor after a restart, and the
// node's health follows the open divergence records.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { busNames, connectBus, deleteNamespace, ensureStreams, type Bus, type BusNames } from "@tally/bus";
import { migrateToLatest, openDb } from "@tally/db";
import { parseGenesis, toHex, type SigningKey } from "@tally/ledger";
import { createTestDatabase, testNatsUrl, uniqueNamespace, waitFor } from "@tally/testkit";
import { FinalityTracker } from "./finality-tracker.js";
import { resolveDivergences, type DivergenceRecord } from "./finality-store.js";
import { NodeHealth } from "./node-health.js";
import { signReceipt } from "./receipts.js";
import { GENESIS, keyOf } from "./testing/test-chain.js";

const log = pino({ level: "silent" });
const NODES: { id: string; key: SigningKey }[] = [1, 2, 3, 4].map((n) => ({ id: `v${n}`, key: keyOf(40 + n) }));
const genesis = parseGenesis({
  ...GENESIS,
  validators: NODES.map((n) => ({ nodeId: n.id, institutionId: "clearing", publicKey: toHex(n.key.publicKey) })),
});
const OWN = NODES[0]!;
const hash = (n: number): Uint8Array => new Uint8Array(32).fill(n);
let published = 0;

describe("finality tracker", () => {
  let bus: Bus;
  let names: BusNames;
  let t: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: ReturnType<typeof openDb>;

  before(async () => {
    bus = await connectBus({ url: testNatsUrl(), name: "finality-test" });
    names = busNames(uniqueNamespace("fin"));
    await ensureStreams(bus.jsm, names, { replicas: 1 });
    t = await createTestDatabase("tally_fin");
    db = openDb(t.url, { poolMax: 4 });
    await migrateToLatest(db);
  });
  after(async () => {
    await db.destroy();
    await t.drop();
    await deleteNamespace(bus.jsm, names);
    await bus.nc.drain();
  });

  let current: FinalityTracker | undefined;
  const publish = async (
    node: { id: string; key: SigningKey },
    height: bigint,
    root: number,
    opts: { chainId?: string; key?: SigningKey } = {},
  ) => {
    // This node's executor tells its tracker its own result directly.
    if (node === OWN && opts.key === undefined) current?.noteOwn(height, hash(Number(height)), hash(root));
    const r = signReceipt(
      {
        chainId: opts.chainId ?? genesis.chainId,
        nodeId: node.id,
        height,
        blockHash: hash(Number(height)),
        stateRoot: hash(root),
        results: [],
        nextSequencers: [],
      },
      opts.key ?? node.key,
    );
    await bus.js.publish(names.receiptSubject(node.id), r, { msgID: `${node.id}:${height}:${root}:${++published}` });
  };

  const start = (divergences: DivergenceRecord[]) => {
    const tracker = new FinalityTracker({
      db,
      genesis,
      nodeId: OWN.id,
      nodePublicKey: OWN.key.publicKey,
      log,
      nowMs: () => Date.now(),
      onDivergence: (d) => divergences.push(d),
    });
    current = tracker;
    const running = tracker.run(bus, names);
    return { tracker, running };
  };

  test("agreement becomes final; own disagreement raises one divergence; refused receipts are not counted; a restart resumes", async () => {
    const divergences: DivergenceRecord[] = [];
    const { tracker, running } = start(divergences);
    // Heights 1 and 2: everyone agrees. Height 3: this node (v1) disagrees with the other three.
    for (const h of [1n, 2n]) for (const n of NODES) await publish(n, h, 100 + Number(h));
    for (const n of NODES.slice(1)) await publish(n, 3n, 103);
    await publish(OWN, 3n, 66);
    // Height 4: only two agree, plus a forged receipt, one of another chain and one of a stranger: not final.
    await publish(NODES[1]!, 4n, 104);
    await publish(NODES[2]!, 4n, 104);
    await publish(NODES[3]!, 4n, 104, { key: keyOf(99) });
    await publish(NODES[3]!, 4n, 105, { chainId: "other-chain" });
    await publish({ id: "stranger", key: keyOf(98) }, 4n, 104);

    await waitFor("3 final heights", async () => (await db.selectFrom("finality").select("height").execute()).length === 3, 10_000);
    await waitFor("a divergence", () => divergences.length === 1, 10_000);
    const finals = await db.selectFrom("finality").selectAll().orderBy("height").execute();
    assert.deepEqual(
      finals.map((f) => [f.height, f.signers.length]),
      [
        [1n, 3],
        [2n, 3],
        [3n, 3],
      ],
    );
    // The signers that made the quorum; the fourth receipt is stored in validator_receipts.
    assert.deepEqual(finals[0]!.signers, ["v1", "v2", "v3"]);
    assert.deepEqual(finals[2]!.signers, ["v2", "v3", "v4"]);
    assert.deepEqual(new Uint8Array(finals[2]!.state_root), hash(103));
    const div = await db.selectFrom("divergence").selectAll().execute();
    assert.equal(div.length, 1);
    assert.equal(div[0]!.height, 3n);
    assert.equal(div[0]!.node_id, "v1");
    assert.deepEqual(new Uint8Array(div[0]!.own_state_root), hash(66));
    assert.deepEqual(new Uint8Array(div[0]!.quorum_state_root), hash(103));
    assert.equal(div[0]!.resolved_at_ms, null);
    assert.equal(tracker.refused.get("bad-signature"), 1);
    assert.equal(tracker.refused.get("wrong-chain"), 1);
    assert.equal(tracker.refused.get("unknown-node"), 1);
    const stored = await db.selectFrom("validator_receipts").select(["height", "node_id"]).where("height", "=", 4n).execute();
    assert.equal(stored.length, 2);

    // Health follows the open record, and an operator's resolution.
    const serving: boolean[] = [];
    const health = new NodeHealth(
      () => tracker.store.openDivergences(),
      (s) => serving.push(s),
      log,
    );
    await health.refresh();
    assert.equal(health.diverged, true);
    assert.throws(
      () => health.guard(),
      (e: Error & { reason?: string }) => e.reason === "NODE_DIVERGED",
    );
    assert.equal((await tracker.store.status()).diverged, true);
    assert.equal(await resolveDivergences(db, "ops", "rebuilt from a snapshot", Date.now()), 1);
    await health.refresh();
    assert.equal(health.diverged, false);
    assert.deepEqual(serving, [false, true]);

    await tracker.close();
    await running;

    // Restart: the tracker resumes after the last receipt it handled, so height 4's third
    // agreeing receipt (published while it was down) makes it final, and nothing is doubled.
    await publish(NODES[3]!, 4n, 104);
    const again: DivergenceRecord[] = [];
    const second = start(again);
    await waitFor("4 final heights", async () => (await db.selectFrom("finality").select("height").execute()).length === 4, 10_000);
    const f4 = await db.selectFrom("finality").selectAll().where("height", "=", 4n).executeTakeFirstOrThrow();
    assert.deepEqual(f4.signers, ["v2", "v3", "v4"]);
    // The own receipt at 4 arrives late and agrees: no new divergence.
    await publish(OWN, 4n, 104);
    await waitFor(
      "4 receipts at height 4",
      async () => (await db.selectFrom("validator_receipts").select("node_id").where("height", "=", 4n).execute()).length === 4,
      10_000,
    );
    assert.equal(again.length, 0);
    assert.equal((await db.selectFrom("divergence").select("id").execute()).length, 1);
    const st = await second.tracker.store.status();
    assert.equal(st.finalHeight, 4n);
    assert.equal(st.diverged, false);
    await second.tracker.close();
    await second.running;
  });
  test("own results are judged even when they come after their height became final; a stale own receipt on the stream is not", async () => {
    const divergences: DivergenceRecord[] = [];
    const { tracker, running } = start(divergences);
    // Height 5: a receipt this node signed in an earlier life (say, before a wipe) disagrees; the
    // node's executor now reports the agreed root. No divergence.
    await bus.js.publish(
      names.receiptSubject(OWN.id),
      signReceipt(
        { chainId: genesis.chainId, nodeId: OWN.id, height: 5n, blockHash: hash(5), stateRoot: hash(13), results: [], nextSequencers: [] },
        OWN.key,
      ),
      { msgID: `stale:${++published}` },
    );
    for (const n of NODES.slice(1)) await publish(n, 5n, 105);
    await waitFor(
      "height 5 final",
      async () => (await db.selectFrom("finality").select("height").where("height", "=", 5n).execute()).length === 1,
      10_000,
    );
    tracker.noteOwn(5n, hash(5), hash(105));
    // A node replaying behind the others reports height 2 long after it became final, with another root.
    tracker.noteOwn(2n, hash(2), hash(77));
    await waitFor("the late divergence at height 2", () => divergences.length === 1, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(
      divergences.map((d) => d.height),
      [2n],
    );
    await tracker.close();
    await running;
  });
});
