// Issue 8, end to end: BLOCKS keeps only the last few blocks (retention), so a wiped node must
// fetch older blocks from a peer's blockstore. A node rebuilds by replay that way; another joins
// from a peer's signed snapshot (`tally node snapshot` / `tally node restore`), continues from the
// snapshot's height, reaches its peers' state root, and proves a transaction from before the snapshot.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { BlockstoreServiceClient, type GetInclusionProofResponse } from "@tally/proto/blockstore";
import { ExecutorQueryServiceClient, type GetCheckpointResponse } from "@tally/proto/executor";
import { TxStatus } from "@tally/proto/gateway";
import { busNames, connectBus } from "@tally/bus";
import { createDatabaseIfMissing, dropDatabase, migrateToLatest, openDb } from "@tally/db";
import { parseGenesis, sequencerKeysOf, toHex } from "@tally/ledger";
import { unary } from "@tally/rpc";
import { verifyInclusionProof, type SignedTransaction, type TallyClient } from "@tally/sdk";
import { repoRoot, startTestNetwork, testNatsUrl, testPgAdminUrl, waitFor, type ConsortiumPlan, type TestNetwork } from "@tally/testkit";

const cli = join(repoRoot, "packages/cli/dist/main.js");
const BLOCKS_KEPT = 6;

const PLAN: ConsortiumPlan = {
  chainId: "tally-recovery",
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

describe("recovery with BLOCKS retention: replay from a peer, and joining from a snapshot", () => {
  let tn: TestNetwork;
  let net: TestNetwork["net"];
  let dir: string;
  let namespace: string;
  const dbName = (id: string): string => tn.databaseOf(id);
  let clearing: TallyClient;
  let early: SignedTransaction;
  let networkFile: string;

  before(async () => {
    tn = await startTestNetwork(PLAN, { prefix: "rec", env: { BLOCKS_MAX_MSGS: String(BLOCKS_KEPT) } });
    ({ net, dir, namespace } = tn);
    networkFile = net.writeNetworkFile();
    clearing = tn.client("clearing");
    // Enough blocks that BLOCKS has dropped the first ones.
    early = clearing.build("cash", "issue", { to: "bank-a", amount: "100" });
    await clearing.submitAndWait(early, { until: "final" });
    for (let i = 0; i < BLOCKS_KEPT + 4; i++)
      await clearing.submitAndWait(clearing.build("cash", "issue", { to: "enterprise-a", amount: String(i + 1) }));
  });

  after(async () => {
    await tn?.close();
  });

  const node = (id: string) => net.endpoints.nodes.find((n) => n.id === id)!;
  function checkpointOf(nodeId: string): Promise<GetCheckpointResponse> {
    const c = new ExecutorQueryServiceClient(node(nodeId).executor, credentials.createInsecure());
    return unary<GetCheckpointResponse>((md, o, cb) => c.getCheckpoint({}, md, o, cb)).finally(() => c.close());
  }
  const tally = (...args: string[]) => {
    const r = spawnSync(process.execPath, [cli, ...args, "--network", networkFile], { encoding: "utf8" });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };
  async function wipe(nodeId: string): Promise<void> {
    for (const s of ["gateway", "executor", "blockstore"]) await net.processes.get(`${nodeId}/${s}`)!.stop("SIGKILL");
    await dropDatabase(testPgAdminUrl(), dbName(nodeId));
    await createDatabaseIfMissing(testPgAdminUrl(), dbName(nodeId));
  }
  async function restart(nodeId: string, peer: string): Promise<void> {
    await net.startOne(`${nodeId}/blockstore`, { PEER_BLOCKSTORE_ADDRS: node(peer).blockstore });
    await net.startOne(`${nodeId}/executor`);
    await net.startOne(`${nodeId}/gateway`);
  }
  async function sameRootAs(nodeId: string, peer: string): Promise<GetCheckpointResponse> {
    const [a, b] = await waitFor(
      `${nodeId} at ${peer}'s height`,
      async () => {
        const [x, y] = await Promise.all([checkpointOf(nodeId), checkpointOf(peer)]);
        return x.height === y.height ? ([x, y] as const) : undefined;
      },
      60_000,
    );
    assert.equal(toHex(a.stateRoot), toHex(b.stateRoot), `${nodeId} and ${peer} at height ${a.height}`);
    return a;
  }

  test("BLOCKS has dropped the first blocks", async () => {
    const bus = await connectBus({ url: testNatsUrl(), name: "rec-info" });
    try {
      const info = await bus.jsm.streams.info(busNames(namespace).blocksStream);
      assert.ok(info.state.first_seq > 2, `first_seq ${info.state.first_seq}`);
      assert.ok(info.state.messages <= BLOCKS_KEPT);
    } finally {
      await bus.nc.close();
    }
  });

  test("a wiped node rebuilds by replay, fetching the blocks BLOCKS dropped from a peer's blockstore", async () => {
    await wipe("node-regulator");
    await restart("node-regulator", "node-clearing");
    const cp = await sameRootAs("node-regulator", "node-clearing");
    assert.equal(cp.diverged, false);
    const log = net.processes.get("node-regulator/blockstore")!.lines.join("\n");
    assert.match(log, /fetching them from peers/);
  });

  test("a node joins from a peer's snapshot, continues from its height, and proves a tx from before it", async () => {
    const snap = join(dir, "clearing.snapshot");
    const made = tally("node", "snapshot", "--node", "node-clearing", "--out", snap);
    assert.equal(made.code, 0, made.out);
    const header = JSON.parse(readFileSync(snap, "utf8").split("\n", 1)[0]!) as {
      header: { height: string; stateRoot: string; receipts: string[] };
    };
    assert.ok(header.header.receipts.length === PLAN.nodes.length);

    await wipe("node-bank-a");
    // The schema first (the services would run the migrations), then the import.
    const db = openDb(node("node-bank-a").database, { poolMax: 1 });
    await migrateToLatest(db);
    await db.destroy();
    const restored = tally("node", "restore", "--node", "node-bank-a", "--from", snap);
    assert.equal(restored.code, 0, restored.out);
    // Restoring twice is refused: the database is no longer empty.
    const again = tally("node", "restore", "--node", "node-bank-a", "--from", snap);
    assert.notEqual(again.code, 0);
    assert.match(again.out, /NOT_EMPTY/);

    await restart("node-bank-a", "node-clearing");
    // The network moves on; the restored node applies the blocks after the snapshot.
    const later = await clearing.submitAndWait(clearing.build("cash", "issue", { to: "bank-a", amount: "5" }), { until: "final" });
    assert.equal(later.status, TxStatus.TX_STATUS_FINAL);
    const cp = await sameRootAs("node-bank-a", "node-clearing");
    assert.ok(cp.height >= later.height && cp.height > BigInt(header.header.height));
    assert.equal(cp.diverged, false);
    const log = net.processes.get("node-bank-a/executor")!.lines.join("\n");
    assert.match(log, new RegExp(`"fromHeight":"${BigInt(header.header.height) + 1n}"`));

    // History before the snapshot stays provable: the restored node's blockstore proves the early tx.
    const bs = new BlockstoreServiceClient(node("node-bank-a").blockstore, credentials.createInsecure());
    const proof = await waitFor("an inclusion proof of the early tx from node-bank-a", () =>
      unary<GetInclusionProofResponse>((md, o, cb) => bs.getInclusionProof({ txId: early.id }, md, o, cb)).catch(() => undefined),
    );
    bs.close();
    const genesis = parseGenesis(JSON.parse(readFileSync(join(dir, "genesis.json"), "utf8")));
    const ok = verifyInclusionProof(proof, early.id, sequencerKeysOf(genesis));
    assert.equal(ok.ok, true, ok.ok ? "" : ok.reason);
    assert.ok(proof.height < BigInt(header.header.height));

    const status = tally("node", "status", "--node", "node-bank-a");
    assert.equal(status.code, 0, status.out);
    assert.match(status.out, /"blocksBehind": "0"/);
  });
});
