// Issue 8's tamper test, end to end: single bytes of one node's PostgreSQL are changed directly —
// in a block, a transaction, an event, a state (projection) row and the checkpoint — and
// `tally audit --node` catches every one, naming the row, and exits non-zero; once the bytes are put
// back it passes again. A tampered checkpoint also makes the node's next receipt diverge.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { sql } from "kysely";
import { ExecutorQueryServiceClient, type GetCheckpointResponse } from "@tally/proto/executor";
import { openDb } from "@tally/db";
import { toHex } from "@tally/ledger";
import { unary } from "@tally/rpc";
import type { TallyClient } from "@tally/sdk";
import { repoRoot, startTestNetwork, waitFor, type ConsortiumPlan, type TestNetwork } from "@tally/testkit";

const cli = join(repoRoot, "packages/cli/dist/main.js");
const PLAN: ConsortiumPlan = {
  chainId: "tally-audit",
  institutions: [
    { id: "clearing", name: "Clearing House", roles: ["clearing"], node: "node-clearing" },
    { id: "bank-a", name: "Bank A", roles: ["bank"], node: "node-bank-a" },
    { id: "enterprise-a", name: "Enterprise A", roles: ["enterprise"], node: "node-bank-a" },
    { id: "regulator", name: "Regulator", roles: ["regulator"], node: "node-regulator" },
  ],
  nodes: [
    { id: "node-clearing", institution: "clearing" },
    { id: "node-bank-a", institution: "bank-a" },
    { id: "node-regulator", institution: "regulator" },
  ],
  sequencers: [{ id: "seq-1", institution: "clearing" }],
};

interface Finding {
  table: string;
  row: string;
  check: string;
}

describe("tally audit catches single-byte tampering", () => {
  let tn: TestNetwork;
  let net: TestNetwork["net"];
  let networkFile: string;
  let clearing: TallyClient;
  let bankA: TallyClient;
  let db: ReturnType<typeof openDb>;
  let transferHeight = 0n;
  let transferId = "";

  before(async () => {
    tn = await startTestNetwork(PLAN, { prefix: "aud" });
    net = tn.net;
    networkFile = net.writeNetworkFile();
    clearing = tn.client("clearing");
    bankA = tn.client("bank-a");
    await clearing.submitAndWait(clearing.build("cash", "issue", { to: "bank-a", amount: "1000" }), { until: "final" });
    const t = bankA.build("cash", "transfer", { to: "enterprise-a", amount: "250" });
    const u = await bankA.submitAndWait(t, { until: "final" });
    transferHeight = u.height;
    transferId = toHex(t.id);
    await bankA.submitAndWait(bankA.build("notary", "register", { hash: "ab".repeat(32), title: "contract" }), { until: "final" });
    db = openDb(net.endpoints.nodes.find((n) => n.id === "node-bank-a")!.database, { poolMax: 2 });
  });

  after(async () => {
    await db?.destroy();
    await tn?.close();
  });

  const audit = (): { code: number | null; findings: Finding[]; out: string } => {
    const r = spawnSync(process.execPath, [cli, "audit", "--node", "node-bank-a", "--network", networkFile, "--json"], {
      encoding: "utf8",
    });
    const line = r.stdout.trim().split("\n").at(-1) ?? "{}";
    const parsed = JSON.parse(line.startsWith("{") ? line : "{}") as { findings?: Finding[] };
    return { code: r.status, findings: parsed.findings ?? [], out: r.stdout + r.stderr };
  };

  /** Runs the change, audits, puts the bytes back, and audits clean again. */
  async function caught(
    what: string,
    change: () => Promise<void>,
    undo: () => Promise<void>,
    expect: { table: string; row: RegExp },
  ): Promise<void> {
    await change();
    let r;
    try {
      r = audit();
    } finally {
      await undo();
    }
    assert.equal(r.code, 1, `${what}: audit must fail\n${r.out}`);
    const first = r.findings[0];
    assert.ok(first !== undefined, `${what}: a finding`);
    assert.equal(first.table, expect.table, `${what}: ${JSON.stringify(r.findings)}`);
    assert.match(first.row, expect.row, `${what}: ${JSON.stringify(first)}`);
  }

  test("a clean node passes", () => {
    const r = audit();
    assert.equal(r.code, 0, r.out);
  });

  test("a byte of a block", async () => {
    const h = transferHeight;
    const row = await db.selectFrom("blocks").select("raw").where("height", "=", h).executeTakeFirstOrThrow();
    const at = row.raw.length - 5;
    await caught(
      "block",
      () =>
        sql`update blocks set raw = set_byte(raw, ${at}, get_byte(raw, ${at}) # 1) where height = ${h}`.execute(db).then(() => undefined),
      () =>
        db
          .updateTable("blocks")
          .set({ raw: row.raw })
          .where("height", "=", h)
          .execute()
          .then(() => undefined),
      { table: "blocks", row: new RegExp(`^height=${h}$`) },
    );
  });

  test("a byte of a transaction", async () => {
    const id = Buffer.from(transferId, "hex");
    const row = await db.selectFrom("transactions").select("raw").where("tx_id", "=", id).executeTakeFirstOrThrow();
    await caught(
      "transaction",
      () =>
        sql`update transactions set raw = set_byte(raw, 10, get_byte(raw, 10) # 1) where tx_id = ${id}`.execute(db).then(() => undefined),
      () =>
        db
          .updateTable("transactions")
          .set({ raw: row.raw })
          .where("tx_id", "=", id)
          .execute()
          .then(() => undefined),
      { table: "transactions", row: new RegExp(transferId) },
    );
  });

  test("a byte of an event", async () => {
    const h = transferHeight;
    const row = await db.selectFrom("events").select(["tx_index", "event_index", "data"]).where("height", "=", h).executeTakeFirstOrThrow();
    const text = JSON.stringify(row.data);
    const changed = text.replace('"250"', '"251"');
    assert.notEqual(changed, text);
    const key = (q: ReturnType<typeof db.updateTable<"events">>) =>
      q.where("height", "=", h).where("tx_index", "=", row.tx_index).where("event_index", "=", row.event_index);
    await caught(
      "event",
      () =>
        key(db.updateTable("events").set({ data: changed }))
          .execute()
          .then(() => undefined),
      () =>
        key(db.updateTable("events").set({ data: text }))
          .execute()
          .then(() => undefined),
      { table: "events", row: new RegExp(`^height=${h} tx_index=${row.tx_index} event_index=${row.event_index}$`) },
    );
  });

  test("a byte of a projection row (contract_state)", async () => {
    const row = await db
      .selectFrom("contract_state")
      .select("value")
      .where("contract", "=", "cash")
      .where("key", "=", "acct/bank-a")
      .executeTakeFirstOrThrow();
    const text = JSON.stringify(row.value);
    const changed = text.replace('"750"', '"751"');
    assert.notEqual(changed, text);
    await caught(
      "contract_state",
      () =>
        db
          .updateTable("contract_state")
          .set({ value: changed })
          .where("contract", "=", "cash")
          .where("key", "=", "acct/bank-a")
          .execute()
          .then(() => undefined),
      () =>
        db
          .updateTable("contract_state")
          .set({ value: text })
          .where("contract", "=", "cash")
          .where("key", "=", "acct/bank-a")
          .execute()
          .then(() => undefined),
      { table: "contract_state", row: /^contract=cash key=acct\/bank-a$/ },
    );
  });

  test("the executor killed with SIGKILL in the middle of blocks 5 times never applies a block twice nor skips one", async () => {
    const executorName = "node-bank-a/executor";
    const perRound = 80;
    for (let round = 0; round < 5; round++) {
      const burst = Array.from({ length: perRound }, () =>
        clearing.submit(clearing.build("cash", "issue", { to: "enterprise-a", amount: "1" })),
      );
      // Somewhere inside the burst's blocks: while they are being applied and committed.
      await new Promise((r) => setTimeout(r, 40 + Math.floor(Math.random() * 200)));
      await net.processes.get(executorName)!.stop("SIGKILL");
      await Promise.all(burst);
      await net.startOne(executorName);
    }
    const executor = (id: string) => net.endpoints.nodes.find((n) => n.id === id)!.executor;
    const heightOf = async (id: string): Promise<bigint> => {
      const c = new ExecutorQueryServiceClient(executor(id), credentials.createInsecure());
      return (await unary<GetCheckpointResponse>((md, o, cb) => c.getCheckpoint({}, md, o, cb)).finally(() => c.close())).height;
    };
    const target = await waitFor(
      "every burst included",
      async () => {
        const r = await db
          .selectFrom("transactions")
          .select((eb) => eb.fn.countAll<string>().as("n"))
          .where("signer", "=", "clearing")
          .executeTakeFirstOrThrow();
        return Number(r.n) >= 1 + 5 * perRound ? await heightOf("node-clearing") : undefined;
      },
      60_000,
    );
    await waitFor("the restarted executor to catch up", async () => ((await heightOf("node-bank-a")) >= target ? true : undefined), 60_000);
    const blocks = await db
      .selectFrom("blocks")
      .select(["height", "tx_count"])
      .where("height", ">", 0n)
      .where("height", "<=", target)
      .execute();
    const results = await db
      .selectFrom("tx_results")
      .select(["height", (eb) => eb.fn.countAll<string>().as("n")])
      .groupBy("height")
      .execute();
    const applied = new Map(results.map((r) => [r.height, Number(r.n)]));
    for (const b of blocks) assert.equal(applied.get(b.height), b.tx_count, `height ${b.height}: every tx has exactly one result`);
    const acct = await db
      .selectFrom("contract_state")
      .select("value")
      .where("contract", "=", "cash")
      .where("key", "=", "acct/enterprise-a")
      .executeTakeFirstOrThrow();
    assert.deepEqual(acct.value, { balance: String(250 + 5 * perRound) });
    // And the replay of the whole chain agrees with every row the five restarts left.
    const r = audit();
    assert.equal(r.code, 0, r.out);
  });

  test("a byte of the checkpoint; and then the node's next receipt diverges", async () => {
    const row = await db.selectFrom("checkpoint").select("state_root").where("id", "=", 1).executeTakeFirstOrThrow();
    const flip = () =>
      sql`update checkpoint set state_root = set_byte(state_root, 0, get_byte(state_root, 0) # 1) where id = 1`
        .execute(db)
        .then(() => undefined);
    await caught(
      "checkpoint",
      flip,
      () =>
        db
          .updateTable("checkpoint")
          .set({ state_root: row.state_root })
          .where("id", "=", 1)
          .execute()
          .then(() => undefined),
      {
        table: "checkpoint",
        row: /^id=1$/,
      },
    );
    assert.equal(audit().code, 0, "clean again after every change was put back");

    // The executor reads its checkpoint when it starts: with a flipped byte, its next state root differs from everyone's.
    await net.processes.get("node-bank-a/executor")!.stop("SIGKILL");
    await flip();
    await net.startOne("node-bank-a/executor");
    await clearing.submitAndWait(clearing.build("cash", "issue", { to: "enterprise-a", amount: "1" }));
    const executor = net.endpoints.nodes.find((n) => n.id === "node-bank-a")!.executor;
    const cp = await waitFor("node-bank-a to see its receipt diverge", async () => {
      const c = new ExecutorQueryServiceClient(executor, credentials.createInsecure());
      const r = await unary<GetCheckpointResponse>((md, o, cb) => c.getCheckpoint({}, md, o, cb)).finally(() => c.close());
      return r.diverged ? r : undefined;
    });
    assert.equal(cp.diverged, true);
    const r = audit();
    assert.equal(r.code, 1);
  });
});
