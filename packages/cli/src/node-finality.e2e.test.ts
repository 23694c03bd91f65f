// Issue 8, end to end on real processes, NATS and PostgreSQL: transactions become FINAL once every
// validator's receipt agrees; a node whose database is tampered with signs a different state root,
// marks itself diverged (executor NOT_SERVING, its gateway refuses queries with NODE_DIVERGED);
// wiped while the network runs, it rebuilds by replay from BLOCKS to the same state root as its peers.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Client, credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { ExecutorQueryServiceClient, type GetCheckpointResponse } from "@tally/proto/executor";
import { TxStatus, type TxStatusUpdate } from "@tally/proto/gateway";
import { createDatabaseIfMissing, dropDatabase, openDb } from "@tally/db";
import { toHex } from "@tally/ledger";
import { unary } from "@tally/rpc";
import type { TallyClient, TallyError } from "@tally/sdk";
import { startTestNetwork, testPgAdminUrl, waitFor, type ConsortiumPlan, type LocalNetwork, type TestNetwork } from "@tally/testkit";

const PLAN: ConsortiumPlan = {
  chainId: "tally-finality",
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

// grpc.health.v1 Check, encoded by hand: HealthCheckRequest{service = 1}, HealthCheckResponse{status = 1}.
const SERVING = 1;
const NOT_SERVING = 2;

describe("finality, divergence and recovery by replay", () => {
  let t: TestNetwork;
  let net: LocalNetwork;
  let clearing: TallyClient;
  let bankA: TallyClient;
  const dbName = (id: string): string => t.databaseOf(id);

  before(async () => {
    t = await startTestNetwork(PLAN, { prefix: "fin" });
    net = t.net;
    clearing = t.client("clearing");
    bankA = t.client("bank-a");
  });

  after(() => t?.close());

  const node = (id: string) => net.endpoints.nodes.find((n) => n.id === id)!;
  function checkpointOf(nodeId: string): Promise<GetCheckpointResponse> {
    const c = new ExecutorQueryServiceClient(node(nodeId).executor, credentials.createInsecure());
    return unary<GetCheckpointResponse>((md, o, cb) => c.getCheckpoint({}, md, o, cb)).finally(() => c.close());
  }
  function healthOf(nodeId: string): Promise<number> {
    const c = new Client(node(nodeId).executor, credentials.createInsecure());
    return new Promise<number>((resolve, reject) =>
      c.makeUnaryRequest(
        "/grpc.health.v1.Health/Check",
        (s: string) => Buffer.concat([Buffer.from([0x0a, Buffer.byteLength(s)]), Buffer.from(s)]),
        (b: Buffer) => (b.length >= 2 && b[0] === 0x08 ? b[1]! : 0),
        "tally.v1.ExecutorQueryService",
        new Metadata(),
        { deadline: Date.now() + 5000 },
        (e: ServiceError | null, r?: number) => (e ? reject(e) : resolve(r ?? 0)),
      ),
    ).finally(() => c.close());
  }

  test("SubmitAndWait until FINAL; GetTxStatus shows FINAL; GetCheckpoint reports the final height and the lag", async () => {
    const issued = await clearing.submitAndWait(clearing.build("cash", "issue", { to: "bank-a", amount: "1000" }), { until: "final" });
    assert.equal(issued.status, TxStatus.TX_STATUS_FINAL);
    const updates: TxStatusUpdate[] = [];
    const tx = bankA.build("cash", "transfer", { to: "enterprise-a", amount: "10" });
    const last = await bankA.submitAndWait(tx, { until: "final", onUpdate: (u) => updates.push(u), timeoutMs: 20_000 });
    assert.equal(last.status, TxStatus.TX_STATUS_FINAL);
    // In order, each step once, from ACCEPTED to FINAL. SEQUENCED and COMMITTED may be passed over
    // when the node has already moved past them by the time it answers (fast finality).
    const steps = updates.map((u) => u.status);
    assert.equal(steps[0], TxStatus.TX_STATUS_ACCEPTED, `steps ${steps.join(",")}`);
    assert.equal(steps.at(-1), TxStatus.TX_STATUS_FINAL, `steps ${steps.join(",")}`);
    for (let i = 1; i < steps.length; i++) assert.ok(steps[i]! > steps[i - 1]!, `steps ${steps.join(",")}`);
    assert.equal((await bankA.status(tx.id)).status, TxStatus.TX_STATUS_FINAL);
    for (const n of PLAN.nodes) {
      const cp = await waitFor(`${n.id} to see height ${last.height} final`, async () => {
        const c = await checkpointOf(n.id);
        return c.finalHeight >= last.height ? c : undefined;
      });
      assert.equal(cp.diverged, false);
      assert.ok(cp.finalityLagMs > 0n && cp.finalityLagMs < 30_000n, `lag ${cp.finalityLagMs} ms`);
      assert.ok(cp.chainHeight >= cp.height);
      assert.equal(await healthOf(n.id), SERVING);
    }
  });

  test("a tampered node signs a different state root: it is diverged, NOT_SERVING, and its gateway refuses queries", async () => {
    // bank-a's balance on node-bank-a only is set to zero, so its transfer is rejected there and committed elsewhere.
    const db = openDb(node("node-bank-a").database, { poolMax: 1 });
    try {
      await db
        .updateTable("contract_state")
        .set({ value: JSON.stringify({ balance: "0" }) })
        .where("contract", "=", "cash")
        .where("key", "=", "acct/bank-a")
        .execute();
    } finally {
      await db.destroy();
    }
    const tx = bankA.build("cash", "transfer", { to: "enterprise-a", amount: "5" });
    // bank-a's gateway is on the tampered node, so ask the clearing house's for the outcome.
    await bankA.submit(tx);
    const committed = await waitFor("the transfer committed on node-clearing", async () => {
      const u = await clearing.status(tx.id).catch(() => undefined);
      return u !== undefined && u.status >= TxStatus.TX_STATUS_COMMITTED ? u : undefined;
    });
    const cp = await waitFor("node-bank-a to record its divergence", async () => {
      const c = await checkpointOf("node-bank-a");
      return c.diverged ? c : undefined;
    });
    assert.ok(cp.height >= committed.height);
    assert.equal(await healthOf("node-bank-a"), NOT_SERVING);
    assert.equal(await healthOf("node-clearing"), SERVING);
    const direct = new ExecutorQueryServiceClient(node("node-bank-a").executor, credentials.createInsecure());
    await assert.rejects(
      unary((md, o, cb) => direct.query({ contract: "cash", query: "balance", args: Buffer.from('{"account":"bank-a"}') }, md, o, cb)),
      (e: ServiceError) => e.code === status.FAILED_PRECONDITION && e.metadata.get("tally-reason")[0] === "NODE_DIVERGED",
    );
    direct.close();
    await assert.rejects(
      bankA.query("cash", "balance", { account: "bank-a" }),
      (e: TallyError) => e.code === status.FAILED_PRECONDITION && e.reason === "NODE_DIVERGED",
    );
    // The gateway looks at the divergence records at most once a second.
    const refused = await waitFor("node-bank-a's gateway to refuse GetTxStatus", () =>
      bankA.status(tx.id).then(
        () => undefined,
        (e: unknown) => e as TallyError,
      ),
    );
    assert.equal(refused.code, status.FAILED_PRECONDITION);
    assert.equal(refused.reason, "NODE_DIVERGED");
    const rows = await (async () => {
      const d = openDb(node("node-bank-a").database, { poolMax: 1 });
      try {
        return await d.selectFrom("divergence").selectAll().execute();
      } finally {
        await d.destroy();
      }
    })();
    assert.ok(rows.length >= 1);
    assert.equal(rows[0]!.node_id, "node-bank-a");
    assert.ok(rows[0]!.quorum_signers.includes("node-clearing"));
  });

  test("wiped while the network runs, the node rebuilds by replay from BLOCKS and reaches its peers' state root", async () => {
    const services = ["gateway", "executor", "blockstore"].map((s) => `node-bank-a/${s}`);
    for (const s of services) await net.processes.get(s)!.stop("SIGKILL");
    await dropDatabase(testPgAdminUrl(), dbName("node-bank-a"));
    await createDatabaseIfMissing(testPgAdminUrl(), dbName("node-bank-a"));
    // The network runs on meanwhile.
    const during = await clearing.submitAndWait(clearing.build("cash", "issue", { to: "enterprise-a", amount: "7" }));
    for (const s of [...services].reverse()) await net.startOne(s);
    const target = (await checkpointOf("node-clearing")).height;
    assert.ok(target >= during.height);
    const rebuilt = await waitFor(
      `node-bank-a to replay to height ${target}`,
      async () => {
        const c = await checkpointOf("node-bank-a");
        return c.height >= target ? c : undefined;
      },
      60_000,
    );
    const peer = await checkpointOf("node-clearing");
    if (peer.height === rebuilt.height) assert.equal(toHex(rebuilt.stateRoot), toHex(peer.stateRoot));
    const ref = await waitFor("a common height", async () => {
      const [a, b] = await Promise.all([checkpointOf("node-bank-a"), checkpointOf("node-regulator")]);
      return a.height === b.height ? ([a, b] as const) : undefined;
    });
    assert.equal(toHex(ref[0].stateRoot), toHex(ref[1].stateRoot));
    assert.equal(ref[0].diverged, false);
    assert.equal(await healthOf("node-bank-a"), SERVING);
    const r = await bankA.query<{ balance: string }>("cash", "balance", { account: "bank-a" });
    assert.equal(r.result.balance, "985");
    // New transactions become final again on every node.
    const next = await bankA.submitAndWait(bankA.build("cash", "transfer", { to: "enterprise-a", amount: "1" }), {
      until: "final",
      timeoutMs: 20_000,
    });
    assert.equal(next.status, TxStatus.TX_STATUS_FINAL);
  });
});
