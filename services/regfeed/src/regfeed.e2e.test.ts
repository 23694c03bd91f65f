// End to end: a consortium as real processes. Supervision rules voted in through governance;
// alerts raised by the regulator's regfeed from what its node committed; acknowledged; the asset's
// life read back; the whole chain verified against the node's own replay and every validator's
// receipt; every read in the access log.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { credentials, Metadata } from "@grpc/grpc-js";
import { RegFeedServiceClient, type Alert, type StreamAlertsResponse, type VerifyChainResponse } from "@tally/proto/regfeed";
import { TxOutcome } from "@tally/proto/types";
import { sql } from "kysely";
import { openDb } from "@tally/db";
import { fromUtf8 } from "@tally/ledger";
import type { TallyClient } from "@tally/sdk";
import { startTestNetwork, waitFor, type ConsortiumPlan, type TestNetwork } from "@tally/testkit";

const PLAN: ConsortiumPlan = {
  chainId: "tally-regfeed-e2e",
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

const md = (): Metadata => {
  const m = new Metadata();
  m.set("tally-caller", "supervisor-1");
  return m;
};

function unaryCall<T>(f: (cb: (e: Error | null, r?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => f((e, r) => (e ? reject(e) : resolve(r!))));
}

describe("the regulator's feed on a live consortium", () => {
  let tn: TestNetwork;
  const clients = new Map<string, TallyClient>();
  let feed: RegFeedServiceClient;

  before(async () => {
    tn = await startTestNetwork(PLAN, { prefix: "rf" });
    for (const i of ["clearing", "bank-a", "enterprise-a"]) clients.set(i, tn.client(i));
    feed = new RegFeedServiceClient(tn.net.endpoints.regfeed, credentials.createInsecure());
  });

  after(async () => {
    feed?.close();
    await tn?.close();
  });

  async function run(as: string, contract: string, action: string, args: unknown): Promise<bigint> {
    const c = clients.get(as)!;
    const u = await c.submitAndWait(c.build(contract, action, args));
    assert.equal(
      u.result?.outcome,
      TxOutcome.TX_OUTCOME_COMMITTED,
      `${as} ${contract}.${action}: ${u.result?.reasonCode} ${u.result?.message}`,
    );
    return u.height;
  }

  test("rules voted in raise alerts; alerts are acknowledged; the chain verifies; reads are logged", async () => {
    await run("clearing", "cash", "issue", { to: "bank-a", amount: "1000000" });
    const rules = {
      kind: "set-supervision",
      largeTradeAmount: "1000000",
      alertRules: [{ id: "big-cash", contract: "cash", minAmount: "500000" }],
      roundTrip: { windowBlocks: 50 },
      divergence: true,
    };
    await run("clearing", "membership", "propose", { id: "sup-1", change: rules, expiresAtMs: Date.now() + 3_600_000 });
    await run("bank-a", "membership", "vote", { proposal: "sup-1", vote: "yes" });
    // A near-miss, then a large transfer, then the money straight back.
    await run("bank-a", "cash", "transfer", { to: "enterprise-a", amount: "499999" });
    const big = await run("bank-a", "cash", "transfer", { to: "enterprise-a", amount: "500000" });
    const back = await run("enterprise-a", "cash", "transfer", { to: "bank-a", amount: "10" });

    const alerts: Alert[] = [];
    const call = feed.streamAlerts({ afterSeq: 0n, unackedOnly: false }, md());
    call.on("data", (m: StreamAlertsResponse) => m.alert && alerts.push(m.alert));
    call.on("error", () => undefined);
    await waitFor("the alerts", () => alerts.length >= 2, 30_000, 50);
    call.cancel();
    const shape = alerts.map((a) => [a.rule, a.height]);
    assert.deepEqual(shape, [
      ["large-value", big],
      ["round-trip", back],
    ]);
    assert.deepEqual(JSON.parse(fromUtf8(alerts[1]!.details)).thing, "cash");

    const acked = await unaryCall<{ alert?: Alert; alreadyAcked: boolean }>((cb) =>
      feed.ackAlert({ seq: alerts[0]!.seq, note: "reviewed" }, md(), cb),
    );
    assert.equal(acked.alert?.ackedBy, "supervisor-1");
    assert.equal(acked.alreadyAcked, false);
    const again = await unaryCall<{ alreadyAcked: boolean }>((cb) => feed.ackAlert({ seq: alerts[0]!.seq, note: "twice" }, md(), cb));
    assert.equal(again.alreadyAcked, true);

    const history = await unaryCall<{ entries: { signers: string[]; event?: { type: string } }[] }>((cb) =>
      feed.getAssetHistory({ contract: "cash", assetId: "acct/bank-a", after: undefined, limit: 100 }, md(), cb),
    );
    assert.ok(history.entries.length >= 3);
    assert.ok(history.entries.every((e) => e.signers.length > 0 || e.event?.type === "CashIssued"));

    // Every validator's receipt has reached the regulator's node for the last block; then verify it all.
    let v: VerifyChainResponse | undefined;
    await waitFor(
      "the receipts of every validator",
      async () => {
        v = await unaryCall<VerifyChainResponse>((cb) => feed.verifyChain({ fromHeight: 0n, toHeight: back }, md(), cb));
        return v.receiptsChecked >= BigInt(PLAN.nodes.length) * (back + 1n);
      },
      30_000,
      200,
    );
    assert.deepEqual(v!.mismatches, []);
    assert.equal(v!.blocksChecked, back + 1n);
    assert.ok(v!.txsChecked >= 6n);

    // Tamper with the regulator node's own copy: an event's amount, a block's stored tx root.
    const db = openDb(tn.net.endpoints.nodes.find((n) => n.id === "node-regulator")!.database);
    try {
      await sql`update events set data = jsonb_set(data, '{amount}', '"1"') where height = ${big} and type = 'CashTransferred'`.execute(db);
      await db
        .updateTable("blocks")
        .set({ tx_root: new Uint8Array(32) })
        .where("height", "=", back)
        .execute();
    } finally {
      await db.destroy();
    }
    const tampered = await unaryCall<VerifyChainResponse>((cb) => feed.verifyChain({ fromHeight: big, toHeight: back }, md(), cb));
    const found = new Set(tampered.mismatches.map((m) => `${m.height}/${m.check}`));
    // Every validator signed the true root at the tampered height, so each receipt now disagrees with the replay.
    assert.ok(found.has(`${big}/receipt-state-root`), [...found].join(" "));
    assert.ok(found.has(`${back}/header-columns`), [...found].join(" "));
    assert.equal(tampered.mismatches.filter((m) => m.check === "receipt-state-root" && m.height === big).length, PLAN.nodes.length);

    const log = await unaryCall<{ entries: { rpc: string; caller: string }[] }>((cb) =>
      feed.queryAccessLog({ afterId: 0n, limit: 1000, caller: "supervisor-1" }, md(), cb),
    );
    const rpcs = new Set(log.entries.map((e) => e.rpc));
    for (const r of ["StreamAlerts", "AckAlert", "GetAssetHistory", "VerifyChain"]) assert.ok(rpcs.has(r), r);
  });
});
