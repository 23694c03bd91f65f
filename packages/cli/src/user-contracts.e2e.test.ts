// Issue 12, end to end: a user contract deployed with `tally contract deploy` and a vote runs on
// three nodes, a hostile one is rejected while the next transactions commit, queries answer through
// the gateway to the parties only, every node reaches the same state root, and a wiped node that
// replays from genesis reaches it too.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { credentials, status } from "@grpc/grpc-js";
import { ExecutorQueryServiceClient, type GetCheckpointResponse } from "@tally/proto/executor";
import { TxOutcome } from "@tally/proto/types";
import { createDatabaseIfMissing, dropDatabase } from "@tally/db";
import { toHex, type JsonValue } from "@tally/ledger";
import { unary } from "@tally/rpc";
import type { TallyClient } from "@tally/sdk";
import { repoRoot, startTestNetwork, testPgAdminUrl, waitFor, type ConsortiumPlan, type TestNetwork } from "@tally/testkit";

const cli = join(repoRoot, "packages/cli/dist/main.js");
const LC_FILE = join(repoRoot, "examples/contracts/letter-of-credit.js");
const SPIN = `module.exports = {
  actions: { go: { roles: ["bank"] } },
  keys() { return ["k"]; },
  decide() { for (;;) {} },
  evolve() { return {}; },
};`;

const PLAN: ConsortiumPlan = {
  chainId: "tally-user-contracts",
  institutions: [
    { id: "clearing", name: "Clearing House", roles: ["clearing"], node: "node-clearing" },
    { id: "bank-a", name: "Bank A", roles: ["bank"], node: "node-bank-a" },
    { id: "enterprise-a", name: "Enterprise A", roles: ["enterprise"], node: "node-bank-a" },
    { id: "bank-b", name: "Bank B", roles: ["bank"], node: "node-bank-b" },
  ],
  nodes: [
    { id: "node-clearing", institution: "clearing" },
    { id: "node-bank-a", institution: "bank-a" },
    { id: "node-bank-b", institution: "bank-b" },
  ],
  sequencers: [{ id: "seq-1", institution: "clearing" }],
};

describe("user contracts on a three-node network", () => {
  let tn: TestNetwork;
  let net: TestNetwork["net"];
  let dir: string;
  const dbName = (id: string): string => tn.databaseOf(id);
  let networkFile: string;
  const clients = new Map<string, TallyClient>();
  const client = (id: string) => clients.get(id)!;

  before(async () => {
    tn = await startTestNetwork(PLAN, { prefix: "uc" });
    ({ net, dir } = tn);
    networkFile = net.writeNetworkFile();
    for (const i of PLAN.institutions) clients.set(i.id, tn.client(i.id));
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
  async function act(as: string, contract: string, action: string, args: JsonValue): Promise<string> {
    const c = client(as);
    const u = await c.submitAndWait(c.build(contract, action, args));
    return u.result?.outcome === TxOutcome.TX_OUTCOME_COMMITTED ? "OK" : (u.result?.reasonCode ?? "?");
  }
  async function sameRoots(ids: readonly string[]): Promise<GetCheckpointResponse[]> {
    const cps = await waitFor(
      `${ids.join(", ")} at one height`,
      async () => {
        const all = await Promise.all(ids.map(checkpointOf));
        return all.every((c) => c.height === all[0]!.height) ? all : undefined;
      },
      60_000,
    );
    for (let i = 1; i < cps.length; i++)
      assert.equal(toHex(cps[i]!.stateRoot), toHex(cps[0]!.stateRoot), `${ids[i]} and ${ids[0]} at ${cps[0]!.height}`);
    return cps;
  }

  test("tally contract deploy proposes, two more votes apply it, and membership lists it", async () => {
    const deployed = tally("contract", "deploy", "--as", "bank-a", "--name", "loc", LC_FILE);
    assert.equal(deployed.code, 0, deployed.out);
    assert.match(deployed.out, /proposal deploy-loc-v1/);
    const spinFile = join(dir, "spin.js");
    writeFileSync(spinFile, SPIN);
    const spin = tally("contract", "deploy", "--as", "bank-a", "--name", "spin", spinFile);
    assert.equal(spin.code, 0, spin.out);
    // Not callable before the vote passes.
    assert.equal(await act("bank-a", "loc", "pay", { id: "x" }).catch((e: { reason?: string }) => e.reason), "UNKNOWN_CONTRACT");
    for (const p of ["deploy-loc-v1", "deploy-spin-v1"]) {
      for (const voter of ["bank-b", "clearing"]) assert.equal(await act(voter, "membership", "vote", { proposal: p, vote: "yes" }), "OK");
    }
    const index = await client("bank-a").query<{ contracts: Record<string, { version: number }[]> }>("membership", "user-contracts", {});
    assert.deepEqual(
      Object.entries(index.result.contracts).map(([n, v]) => [n, v.map((x) => x.version)]),
      [
        ["loc", [1]],
        ["spin", [1]],
      ],
    );
  });

  test("a letter of credit runs its course; a looping contract is OUT_OF_GAS and the next transactions commit", async () => {
    const expiresAtMs = Date.now() + 86_400_000;
    const issue = {
      id: "lc-1",
      applicant: "enterprise-a",
      beneficiary: "bank-b",
      amount: "250000",
      currency: "EUR",
      documents: "invoice,bill-of-lading",
      expiresAtMs,
    };
    assert.equal(await act("bank-a", "loc", "issue", issue), "OK");
    assert.equal(await act("bank-a", "spin", "go", {}), "OUT_OF_GAS");
    assert.equal(await act("bank-b", "loc", "present", { id: "lc-1", document: "invoice", hash: "a".repeat(64) }), "OK");
    assert.equal(await act("bank-a", "spin", "go", {}), "OUT_OF_GAS");
    assert.equal(await act("bank-a", "loc", "pay", { id: "lc-1" }), "DOCUMENTS_MISSING");
    assert.equal(await act("bank-b", "loc", "present", { id: "lc-1", document: "bill-of-lading", hash: "b".repeat(64) }), "OK");
    assert.equal(await act("bank-a", "loc", "pay", { id: "lc-1" }), "OK");
  });

  test("queries answer through the gateway, to the letter's parties only", async () => {
    const r = await client("enterprise-a").query<{ status: string }>("loc", "letter", { id: "lc-1" });
    assert.equal(r.result.status, "paid");
    await assert.rejects(client("clearing").query("loc", "letter", { id: "lc-1" }), (e: { code?: number }) => e.code === status.NOT_FOUND);
  });

  test("the three nodes reach the same state root; a wiped node replays from genesis to it", async () => {
    await sameRoots(PLAN.nodes.map((n) => n.id));
    for (const s of ["gateway", "executor", "blockstore"]) await net.processes.get(`node-bank-b/${s}`)!.stop("SIGKILL");
    await dropDatabase(testPgAdminUrl(), dbName("node-bank-b"));
    await createDatabaseIfMissing(testPgAdminUrl(), dbName("node-bank-b"));
    for (const s of ["blockstore", "executor", "gateway"]) await net.startOne(`node-bank-b/${s}`);
    // The network moves on meanwhile.
    assert.equal(
      await act("bank-a", "loc", "issue", {
        id: "lc-2",
        applicant: "enterprise-a",
        beneficiary: "bank-a",
        amount: "1",
        currency: "EUR",
        documents: "invoice",
        expiresAtMs: Date.now() + 86_400_000,
      }),
      "OK",
    );
    await sameRoots(PLAN.nodes.map((n) => n.id));
    const replayed = await waitFor("node-bank-b's gateway answering", () =>
      client("bank-b")
        .query<{ status: string }>("loc", "letter", { id: "lc-1" })
        .catch(() => undefined),
    );
    assert.equal(replayed.result.status, "paid");
  });
});
