// Issue 6, idempotency on real processes: resubmitting the same signed transaction returns the
// original tx id and its current status, across a gateway killed with SIGKILL and restarted, while
// the transaction waits unsequenced on TXS (the sequencer is stopped) and after it commits. It is
// published to TXS once, included in one block once, and applied once.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { TxStatus } from "@tally/proto/gateway";
import { TxOutcome } from "@tally/proto/types";
import { busNames, connectBus } from "@tally/bus";
import { openDb } from "@tally/db";
import { toHex } from "@tally/ledger";
import type { TallyClient } from "@tally/sdk";
import { startTestNetwork, testNatsUrl, waitFor, type ConsortiumPlan, type TestNetwork } from "@tally/testkit";

const PLAN: ConsortiumPlan = {
  chainId: "tally-idempotency",
  institutions: [
    { id: "clearing", name: "Clearing House", roles: ["clearing"], node: "node-bank-a" },
    { id: "bank-a", name: "Bank A", roles: ["bank"], node: "node-bank-a" },
    { id: "bank-b", name: "Bank B", roles: ["bank"], node: "node-bank-a" },
  ],
  nodes: [{ id: "node-bank-a", institution: "bank-a" }],
  sequencers: [{ id: "seq-1", institution: "clearing" }],
};
const GATEWAY = "node-bank-a/gateway";

describe("idempotent submission across a gateway restart (real processes)", () => {
  let t: TestNetwork;
  // Clients made since the last gateway restart (a restart closes them: the old process is gone).
  let clients: TallyClient[] = [];
  const client = (id: string): TallyClient => {
    const c = t.client(id);
    clients.push(c);
    return c;
  };
  const closeClients = () => {
    for (const c of clients) c.close();
    clients = [];
  };

  /** How many messages TXS holds on the subject of bank-a's transactions. */
  async function txsMessages(): Promise<number> {
    const bus = await connectBus({ url: testNatsUrl(), name: "idem-probe" });
    try {
      const info = await bus.jsm.streams.info(busNames(t.namespace).txsStream);
      return info.state.messages;
    } finally {
      await bus.nc.close();
    }
  }

  /** Every inclusion of a tx id the executor recorded (a replay is recorded as a rejected row). */
  async function inclusions(txId: Uint8Array): Promise<{ committed: boolean; reason: string }[]> {
    const db = openDb(t.net.endpoints.nodes[0]!.database);
    try {
      const rows = await db.selectFrom("tx_results").select(["committed", "reason_code"]).where("tx_id", "=", txId).execute();
      return rows.map((r) => ({ committed: r.committed, reason: r.reason_code }));
    } finally {
      await db.destroy();
    }
  }

  async function restartGateway(): Promise<void> {
    closeClients();
    await t.net.processes.get(GATEWAY)!.stop("SIGKILL", 1000);
    await t.net.startOne(GATEWAY);
  }

  before(async () => {
    t = await startTestNetwork(PLAN, { prefix: "idem" });
    const issued = await client("clearing").submitAndWait(client("clearing").build("cash", "issue", { to: "bank-a", amount: "100" }));
    assert.equal(issued.result?.outcome, TxOutcome.TX_OUTCOME_COMMITTED, issued.result?.reasonCode);
    closeClients();
  });

  after(async () => {
    closeClients();
    await t?.close();
  });

  test("accepted, gateway SIGKILLed and restarted, resubmitted: the same tx id, a duplicate, on TXS once, applied once", async () => {
    // Nothing is sequenced while the sequencer is down, so the transaction stays ACCEPTED.
    await t.net.processes.get("seq-1")!.stop("SIGTERM", 3000);
    const bankA = client("bank-a");
    const balanceOfB = async () =>
      BigInt((await client("bank-b").query<{ balance: string }>("cash", "balance", { account: "bank-b" })).result.balance);
    const startB = await balanceOfB();
    const tx = bankA.build("cash", "transfer", { to: "bank-b", amount: "7", memo: "idem" });
    const before = await txsMessages();
    const first = await bankA.submit(tx);
    assert.equal(first.status, TxStatus.TX_STATUS_ACCEPTED);
    assert.equal(first.duplicate, false);
    assert.equal(toHex(first.txId), toHex(tx.id));
    assert.equal(await txsMessages(), before + 1);

    await restartGateway();
    const again = await client("bank-a").submit(tx);
    assert.equal(toHex(again.txId), toHex(tx.id), "the original tx id");
    assert.equal(again.duplicate, true, "recognised as a resubmission by the new gateway process");
    assert.equal(again.status, TxStatus.TX_STATUS_ACCEPTED, "its current status");
    assert.equal(await txsMessages(), before + 1, "not published a second time");

    // The sequencer comes back; the transaction commits once.
    await t.net.startOne("seq-1");
    const waited = await client("bank-a").submitAndWait(tx);
    assert.equal(toHex(waited.txId), toHex(tx.id));
    assert.ok(waited.status === TxStatus.TX_STATUS_COMMITTED || waited.status === TxStatus.TX_STATUS_FINAL, `status ${waited.status}`);
    assert.equal(waited.result?.outcome, TxOutcome.TX_OUTCOME_COMMITTED, waited.result?.reasonCode);
    await waitFor("the executor to record the transaction", async () => (await inclusions(tx.id)).length > 0, 20_000);

    // After commit, another restart: the resubmission answers COMMITTED (or FINAL: one validator) from the node's database.
    await restartGateway();
    const late = await client("bank-a").submit(tx);
    assert.equal(toHex(late.txId), toHex(tx.id));
    assert.equal(late.duplicate, true);
    assert.ok(late.status === TxStatus.TX_STATUS_COMMITTED || late.status === TxStatus.TX_STATUS_FINAL, `status ${late.status}`);
    assert.equal(await txsMessages(), before + 1, "still published once");

    // Let a block or two pass (another transfer commits), then count inclusions and balances.
    const next = await client("bank-a").submitAndWait(client("bank-a").build("cash", "transfer", { to: "bank-b", amount: "1" }));
    assert.equal(next.result?.outcome, TxOutcome.TX_OUTCOME_COMMITTED);
    assert.deepEqual(await inclusions(tx.id), [{ committed: true, reason: "" }], "included in one block, once");
    assert.equal(await balanceOfB(), startB + 8n, "bank-b received 7 once, then 1");
  });
});
