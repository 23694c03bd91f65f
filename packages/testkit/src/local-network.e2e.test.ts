// End to end: a whole consortium as real processes on real NATS and PostgreSQL.
// One signed transaction travels gateway → sequencer → blockstore → executor → regulator feed;
// two nodes agree on the state root; an executor killed with SIGKILL mid-run recovers
// without applying any block twice or skipping one.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, Metadata } from "@grpc/grpc-js";
import { DeliverPolicy } from "@nats-io/jetstream";
import { BlockstoreServiceClient, type GetInclusionProofResponse } from "@tally/proto/blockstore";
import { ExecutorQueryServiceClient, type GetCheckpointResponse } from "@tally/proto/executor";
import { TxStatus, type TxStatusUpdate } from "@tally/proto/gateway";
import { RegFeedServiceClient } from "@tally/proto/regfeed";
import { Event, Receipt, ReceiptBody, TxOutcome } from "@tally/proto/types";
import { busNames, connectBus, deleteNamespace } from "@tally/bus";
import { dropDatabase, openDb } from "@tally/db";
import { bytesEqual, ed25519Verify, fromHex, fromUtf8, parseGenesis, sequencerKeysOf, toHex, type Genesis } from "@tally/ledger";
import { unary } from "@tally/rpc";
import { signerFromKeyFile, TallyClient, verifyInclusionProof } from "@tally/sdk";
import { gatewayCredentials, writeConsortium, type ConsortiumPlan } from "./consortium.js";
import { LocalNetwork } from "./local-network.js";
import { testNatsUrl, testPgAdminUrl, uniqueNamespace, uniqueSuffix } from "./test-env.js";
import { waitFor } from "./wait.js";

const PLAN: ConsortiumPlan = {
  chainId: "tally-e2e",
  institutions: [
    { id: "clearing", name: "Clearing House", roles: ["clearing"], node: "node-clearing" },
    { id: "bank-a", name: "Bank A", roles: ["bank"], node: "node-bank-a" },
    { id: "enterprise-a", name: "Enterprise A", roles: ["enterprise"], node: "node-bank-a" },
    { id: "regulator", name: "Regulator", roles: ["regulator"], node: "node-regulator" },
  ],
  nodes: [
    { id: "node-clearing", institution: "clearing" },
    { id: "node-bank-a", institution: "bank-a" },
    { id: "node-regulator", institution: "regulator", regfeed: true },
  ],
  sequencers: [{ id: "seq-1", institution: "clearing" }],
};

describe("a local consortium, end to end", () => {
  const dir = mkdtempSync(join(tmpdir(), "tally-e2e-"));
  const namespace = uniqueNamespace("e");
  const dbPrefix = `tally_e2e_${uniqueSuffix()}`;
  let net: LocalNetwork;
  let clearing: TallyClient;
  let bankA: TallyClient;

  before(async () => {
    const files = writeConsortium(dir, PLAN, Date.now());
    net = await LocalNetwork.start({
      dir,
      plan: PLAN,
      files,
      natsUrl: testNatsUrl(),
      pgAdminUrl: testPgAdminUrl(),
      namespace,
      databasePrefix: dbPrefix,
    });
    const inst = (id: string) => net.endpoints.institutions.find((i) => i.id === id)!;
    clearing = new TallyClient(
      inst("clearing").gateway,
      PLAN.chainId,
      signerFromKeyFile(files.keyFiles.get("clearing")!),
      gatewayCredentials(files, "clearing"),
    );
    bankA = new TallyClient(
      inst("bank-a").gateway,
      PLAN.chainId,
      signerFromKeyFile(files.keyFiles.get("bank-a")!),
      gatewayCredentials(files, "bank-a"),
    );
  });

  after(async () => {
    clearing?.close();
    bankA?.close();
    await net?.stop();
    const bus = await connectBus({ url: testNatsUrl(), name: "e2e-cleanup" });
    await deleteNamespace(bus.jsm, busNames(namespace));
    await bus.nc.close();
    for (const node of PLAN.nodes)
      await dropDatabase(testPgAdminUrl(), `${dbPrefix}_${node.id.replace(/[^a-z0-9]/g, "_")}`).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  const node = (id: string) => net.endpoints.nodes.find((n) => n.id === id)!;
  const genesis = (): Genesis => parseGenesis(JSON.parse(readFileSync(join(dir, "genesis.json"), "utf8")));

  function checkpointOf(nodeId: string): Promise<GetCheckpointResponse> {
    const c = new ExecutorQueryServiceClient(node(nodeId).executor, credentials.createInsecure());
    return unary<GetCheckpointResponse>((md, o, cb) => c.getCheckpoint({}, md, o, cb)).finally(() => c.close());
  }

  test("a signed transaction goes ACCEPTED → SEQUENCED → COMMITTED and the regulator feed shows its event", async () => {
    const updates: TxStatusUpdate[] = [];
    const tx = clearing.build("cash", "issue", { to: "bank-a", amount: "1000000" });
    const last = await clearing.submitAndWait(tx, (u) => updates.push(u));
    // In order, each step once, from ACCEPTED to COMMITTED (or FINAL, when the node has already
    // finalized the block by the time it answers); SEQUENCED may be passed over the same way.
    const steps = updates.map((u) => u.status);
    assert.equal(steps[0], TxStatus.TX_STATUS_ACCEPTED, `steps ${steps.join(",")}`);
    assert.ok(steps.at(-1) === TxStatus.TX_STATUS_COMMITTED || steps.at(-1) === TxStatus.TX_STATUS_FINAL, `steps ${steps.join(",")}`);
    for (let i = 1; i < steps.length; i++) assert.ok(steps[i]! > steps[i - 1]!, `steps ${steps.join(",")}`);
    assert.equal(last.result?.outcome, TxOutcome.TX_OUTCOME_COMMITTED);
    assert.ok(bytesEqual(last.txId, tx.id));

    // Another institution, on another node, sees the balance once its node has applied the block.
    const balance = await waitFor("bank-a's node to apply the block", async () => {
      const r = await bankA.query<{ balance: string }>("cash", "balance", { account: "bank-a" });
      return r.height >= last.height ? r.result.balance : undefined;
    });
    assert.equal(balance, "1000000");

    const feed = new RegFeedServiceClient(net.endpoints.regfeed, credentials.createInsecure());
    const events: Event[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = feed.streamEvents(
        {
          filter: { contracts: ["cash"], types: [], parties: [], assetIds: [], minAmount: "" },
          after: undefined,
          finalOnly: false,
          batchMax: 0,
        },
        new Metadata(),
      );
      const t = setTimeout(() => (call.cancel(), reject(new Error("no CashIssued on the regulator feed"))), 15_000);
      call.on("data", (m: { event?: Event }) => {
        if (m.event === undefined) return;
        events.push(m.event);
        if (m.event.type === "CashIssued") {
          clearTimeout(t);
          call.cancel();
          resolve();
        }
      });
      call.on("error", (e: { code?: number }) => (e.code === 1 ? undefined : reject(e as Error)));
    });
    feed.close();
    const issued = events.find((e) => e.type === "CashIssued")!;
    assert.ok(bytesEqual(issued.txId, tx.id));
    assert.deepEqual(JSON.parse(fromUtf8(issued.data)), { amount: "1000000", issuer: "clearing", to: "bank-a" });
  });

  test("the regulator's node announces events on NATS subjects, kept by the EVENTS stream", async () => {
    const bus = await connectBus({ url: testNatsUrl(), name: "e2e-events" });
    const names = busNames(namespace);
    try {
      const consumer = await bus.js.consumers.get(names.eventsStream, {
        deliver_policy: DeliverPolicy.All,
        filter_subjects: names.eventSubject("node-regulator", "cash", "CashIssued"),
      });
      const m = await waitFor("a CashIssued event on EVENTS", () => consumer.next({ expires: 1000 }).then((x) => x ?? undefined));
      const e = Event.decode(m.data);
      assert.equal(e.contract, "cash");
      assert.equal(e.type, "CashIssued");
      assert.deepEqual(JSON.parse(fromUtf8(e.data)), { amount: "1000000", issuer: "clearing", to: "bank-a" });
      // Only the regulator's node announces: the others keep their events in their databases.
      const info = await bus.jsm.streams.info(names.eventsStream, { subjects_filter: ">" });
      const subjects = Object.keys(info.state.subjects ?? {});
      assert.ok(subjects.length > 0 && subjects.every((s) => s.startsWith(`${namespace}.events.node-regulator.`)), subjects.join(","));
    } finally {
      await bus.nc.close();
    }
  });

  test("every validator node reaches the same state root, and signs it in its receipt", async () => {
    const target = (await checkpointOf("node-clearing")).height;
    const cps = await Promise.all(
      PLAN.nodes.map((n) =>
        waitFor(`${n.id} at height ${target}`, async () => {
          const cp = await checkpointOf(n.id);
          return cp.height >= target ? cp : undefined;
        }),
      ),
    );
    // Compare at one height through the receipts every node published.
    const bus = await connectBus({ url: testNatsUrl(), name: "e2e-receipts" });
    const names = busNames(namespace);
    const roots = new Map<string, string>();
    const consumer = await bus.js.consumers.get(names.receiptsStream, { deliver_policy: DeliverPolicy.All });
    const validators = new Set(net.endpoints.nodes.map((n) => n.id));
    const it = await consumer.consume({ max_messages: 100 });
    const keys = new Map(genesis().validators.map((v) => [v.nodeId, fromHex(v.publicKey)]));
    const deadline = setTimeout(() => void it.close(), 15_000);
    for await (const m of it) {
      const r = Receipt.decode(m.data);
      const body = ReceiptBody.decode(r.body);
      assert.ok(validators.has(body.nodeId));
      assert.ok(ed25519Verify(keys.get(body.nodeId)!, r.body, r.signature), `receipt of ${body.nodeId} must verify`);
      if (body.height === target) roots.set(body.nodeId, toHex(body.stateRoot));
      if (roots.size === PLAN.nodes.length) break;
    }
    clearTimeout(deadline);
    await it.close();
    await bus.nc.close();
    assert.equal(roots.size, PLAN.nodes.length, "a receipt at the target height from every node");
    assert.equal(new Set(roots.values()).size, 1, `state roots differ: ${JSON.stringify([...roots])}`);
    assert.ok(cps.every((c) => c.height >= target));
  });

  test("an inclusion proof from a node's blockstore checks out against the sequencer's key", async () => {
    const tx = bankA.build("cash", "transfer", { to: "enterprise-a", amount: "5" });
    await bankA.submitAndWait(tx);
    const bs = new BlockstoreServiceClient(node("node-regulator").blockstore, credentials.createInsecure());
    const proof = await waitFor("the proof on the regulator's node", () =>
      unary<GetInclusionProofResponse>((md, o, cb) => bs.getInclusionProof({ txId: tx.id }, md, o, cb)).catch(() => undefined),
    );
    bs.close();
    const ok = verifyInclusionProof(proof, tx.id, sequencerKeysOf(genesis()));
    assert.equal(ok.ok, true, ok.ok ? "" : ok.reason);
    const tampered = verifyInclusionProof(
      { ...proof, signedTx: new Uint8Array([...proof.signedTx.slice(0, -1), proof.signedTx.at(-1)! ^ 1]) },
      tx.id,
      sequencerKeysOf(genesis()),
    );
    assert.equal(tampered.ok, false);
  });

  test("an executor killed with SIGKILL mid-run recovers: no block applied twice, none skipped", async () => {
    const total = 120;
    const submitted: Promise<unknown>[] = [];
    let killed = false;
    for (let i = 0; i < total; i++) {
      submitted.push(bankA.submit(bankA.build("cash", "transfer", { to: "enterprise-a", amount: "1" })));
      if (i === total / 3) {
        await Promise.all(submitted);
        await net.processes.get("node-bank-a/executor")!.stop("SIGKILL");
        killed = true;
      }
      if (i % 10 === 9) await Promise.all(submitted);
    }
    await Promise.all(submitted);
    assert.ok(killed);
    await net.startOne("node-bank-a/executor");

    const tipOf = async (nodeId: string) => (await checkpointOf(nodeId)).height;
    const target = await waitFor(
      "the sequencer to include every tx",
      async () => {
        const db = openDb(node("node-clearing").database, { poolMax: 1 });
        try {
          const r = await db
            .selectFrom("transactions")
            .select((eb) => eb.fn.countAll<bigint>().as("n"))
            .where("signer", "=", "bank-a")
            .executeTakeFirstOrThrow();
          return BigInt(r.n) >= BigInt(total + 1) ? await tipOf("node-clearing") : undefined;
        } finally {
          await db.destroy();
        }
      },
      30_000,
    );
    await waitFor("the restarted executor to catch up", async () => (await tipOf("node-bank-a")) >= target, 30_000);

    const db = openDb(node("node-bank-a").database, { poolMax: 2 });
    try {
      const blocks = await db.selectFrom("blocks").select(["height", "tx_count"]).where("height", "<=", target).orderBy("height").execute();
      const results = await db
        .selectFrom("tx_results")
        .select(["height", (eb) => eb.fn.countAll<bigint>().as("n")])
        .groupBy("height")
        .execute();
      const applied = new Map(results.map((r) => [r.height, Number(r.n)]));
      assert.equal(blocks.length, Number(target) + 1, "the blockstore holds every height");
      for (const b of blocks) {
        if (b.height === 0n) continue;
        assert.equal(applied.get(b.height), b.tx_count, `height ${b.height}: each tx of the block has exactly one result`);
      }
      // enterprise-a's balance is its own business (bank-a's gateway answers NOT_FOUND): read the node's state.
      const acct = await db
        .selectFrom("contract_state")
        .select("value")
        .where("contract", "=", "cash")
        .where("key", "=", "acct/enterprise-a")
        .executeTakeFirstOrThrow();
      assert.deepEqual(acct.value, { balance: String(5 + total) });
    } finally {
      await db.destroy();
    }
    // With the load over, both nodes settle at the same tip, and must agree there.
    const [a, b] = await waitFor("both nodes at the same tip", async () => {
      const both = await Promise.all([checkpointOf("node-bank-a"), checkpointOf("node-clearing")]);
      return both[0].height === both[1].height ? both : undefined;
    });
    assert.equal(toHex(a.stateRoot), toHex(b.stateRoot), "same height, same state root");
  });
});
