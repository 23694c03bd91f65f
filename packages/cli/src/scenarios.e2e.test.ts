// Issue 5's scenarios end to end over gRPC, on a real local consortium (NATS, PostgreSQL, every
// service as a process): a data license bought (cash and grant in one transaction) and its resale
// refused by the terms; a red envelope claimed by three users, refused a second claim, and refunded
// at expiry by block time; a charity milestone refused until the auditor attests it, then paid,
// and a donation traced to its beneficiary.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { TxOutcome } from "@tally/proto/types";
import { signerFromKeyFile, type SignedTransaction, type TallyClient, type TallyError } from "@tally/sdk";
import { startTestNetwork, waitFor, type ConsortiumPlan, type TestNetwork } from "@tally/testkit";

const PLAN: ConsortiumPlan = {
  chainId: "tally-scenarios",
  institutions: [
    { id: "clearing", name: "Clearing House", roles: ["clearing"], node: "node-clearing" },
    { id: "bank-a", name: "Bank A", roles: ["bank"], node: "node-bank-a" },
    { id: "enterprise-a", name: "Enterprise A", roles: ["enterprise"], node: "node-bank-a" },
    { id: "enterprise-b", name: "Enterprise B", roles: ["enterprise"], node: "node-clearing" },
    { id: "enterprise-c", name: "Enterprise C", roles: ["enterprise"], node: "node-bank-a" },
    { id: "insurer", name: "Insurance Co", roles: ["issuer", "enterprise"], node: "node-clearing" },
    { id: "auditor", name: "Charity Auditor", roles: ["auditor"], node: "node-clearing" },
    { id: "regulator", name: "Regulator", roles: ["regulator"], node: "node-clearing" },
  ],
  nodes: [
    { id: "node-clearing", institution: "clearing" },
    { id: "node-bank-a", institution: "bank-a" },
  ],
  sequencers: [{ id: "seq-1", institution: "clearing" }],
};

const HASH = "d4".repeat(32);

describe("the data, points and charity scenarios over gRPC", () => {
  let t: TestNetwork;
  const clients = new Map<string, TallyClient>();
  const as = (id: string): TallyClient => clients.get(id)!;

  before(async () => {
    t = await startTestNetwork(PLAN, { prefix: "scn" });
    for (const i of PLAN.institutions) clients.set(i.id, t.client(i.id));
    for (const to of ["enterprise-b", "enterprise-c", "bank-a"]) {
      await as("clearing").submitAndWait(as("clearing").cash.issue({ to, amount: 1_000_000n }));
    }
  });

  after(() => t?.close());

  /** Submits through the signer's own gateway; the outcome's reason code, or OK. */
  async function run(who: string, tx: SignedTransaction): Promise<{ code: string; height: bigint }> {
    const last = await as(who).submitAndWait(tx);
    const ok = last.result?.outcome === TxOutcome.TX_OUTCOME_COMMITTED;
    return { code: ok ? "OK" : (last.result?.reasonCode ?? "UNKNOWN"), height: last.height };
  }

  /** A query by one institution, once its node has reached the height. */
  function read<T>(who: string, contract: string, query: string, args: unknown, height: bigint): Promise<T> {
    return waitFor(`${who} reads ${contract}.${query} at ${height}`, async () => {
      const r = await as(who).query<T>(contract, query, args);
      return r.height >= height ? r.result : undefined;
    });
  }

  const cash = async (who: string, height: bigint): Promise<bigint> =>
    BigInt((await read<{ balance: string }>(who, "cash", "balance", { account: who }, height)).balance);

  test("a data license is bought, paid and granted in one transaction; its resale is refused by the terms", async () => {
    const owner = as("enterprise-a");
    const register = owner.data.register({
      hash: HASH,
      description: "port traffic 2025",
      price: 40_000n,
      resale: "forbidden",
      durationMs: 3_600_000,
    });
    assert.equal((await run("enterprise-a", register)).code, "OK");
    const again = as("enterprise-c").data.register({ hash: HASH, description: "mine", price: 1n, resale: "allowed", durationMs: 1000 });
    assert.equal((await run("enterprise-c", again)).code, "ALREADY_REGISTERED");

    const bought = await run("enterprise-b", as("enterprise-b").data.buy({ asset: HASH, license: "lic-1", owner: "enterprise-a" }));
    assert.equal(bought.code, "OK");
    assert.equal(await cash("enterprise-b", bought.height), 960_000n);
    assert.equal(await cash("enterprise-a", bought.height), 40_000n);
    assert.equal(
      (await run("enterprise-b", as("enterprise-b").data.access({ asset: HASH, license: "lic-1", purpose: "berth planning" }))).code,
      "OK",
    );

    const resale = as("enterprise-b").data.resell(
      { asset: HASH, license: "lic-1", to: "enterprise-c", price: 30_000n },
      { coSigners: [signerFromKeyFile(t.files.keyFiles.get("enterprise-c")!)] },
    );
    const refused = await run("enterprise-b", resale);
    assert.equal(refused.code, "RESALE_FORBIDDEN");
    // Nothing moved: the license is still enterprise-b's and enterprise-c kept its cash.
    const license = await read<{ holder: string; accesses: number }>(
      "enterprise-b",
      "data",
      "license",
      { asset: HASH, license: "lic-1" },
      refused.height,
    );
    assert.deepEqual([license.holder, license.accesses], ["enterprise-b", 1]);
    assert.equal(await cash("enterprise-c", refused.height), 1_000_000n);
    const history = await as("enterprise-a").history("data", `license/${HASH}/lic-1`);
    assert.deepEqual(
      history.map((h) => [h.type, h.signers.join("+")]),
      [
        ["LicenseGranted", "enterprise-b"],
        ["DataAccessed", "enterprise-b"],
      ],
    );
  });

  test("a red envelope is claimed by three users, not twice by one, and refunded at expiry by block time", async () => {
    const insurer = as("insurer");
    // Garbage args are refused at the gateway with the contract's reason, naming the field, and it keeps serving.
    for (const args of [
      { issuer: "insurer", id: "red-x", amount: "300", packets: 0, expiresAtMs: Date.now() + 6000 },
      { issuer: "insurer", id: "red-x", amount: "300", packets: 2, recipients: ["enterprise-b"], expiresAtMs: Date.now() + 6000 },
      { issuer: "insurer", id: "red-x", amount: 300, packets: 2, expiresAtMs: Date.now() + 6000 },
    ]) {
      await assert.rejects(as("enterprise-a").submitAndWait(as("enterprise-a").build("points", "envelope", args)), (e: unknown) => {
        assert.equal((e as TallyError).reason, "BAD_ARGS", String(e));
        return true;
      });
    }
    assert.equal((await run("insurer", insurer.points.mint({ to: "enterprise-a", amount: 1000n }))).code, "OK");
    const expiresAtMs = Date.now() + 6000;
    const locked = await run(
      "enterprise-a",
      as("enterprise-a").points.envelope({ issuer: "insurer", id: "red-1", amount: 300n, packets: 4, split: "lucky", expiresAtMs }),
    );
    assert.equal(locked.code, "OK");
    const claimed: bigint[] = [];
    let height = locked.height;
    for (const who of ["enterprise-b", "enterprise-c", "bank-a"]) {
      const r = await run(who, as(who).points.claim({ issuer: "insurer", id: "red-1" }));
      assert.equal(r.code, "OK", who);
      height = r.height;
      claimed.push(
        BigInt((await read<{ balance: string }>(who, "points", "balance", { issuer: "insurer", holder: who }, r.height)).balance),
      );
    }
    assert.equal((await run("enterprise-b", as("enterprise-b").points.claim({ issuer: "insurer", id: "red-1" }))).code, "ALREADY_CLAIMED");
    assert.equal((await run("enterprise-a", as("enterprise-a").points.refund({ issuer: "insurer", id: "red-1" }))).code, "NOT_EXPIRED");

    await new Promise((r) => setTimeout(r, Math.max(0, expiresAtMs - Date.now() + 500)));
    assert.equal((await run("clearing", as("clearing").points.claim({ issuer: "insurer", id: "red-1" }))).code, "ENVELOPE_EXPIRED");
    const refunded = await run("enterprise-a", as("enterprise-a").points.refund({ issuer: "insurer", id: "red-1" }));
    assert.equal(refunded.code, "OK");
    const envelope = await read<{ packets: { amount: string; claimedBy: string | null }[]; refunded: string }>(
      "bank-a",
      "points",
      "envelope",
      { issuer: "insurer", id: "red-1" },
      refunded.height,
    );
    assert.deepEqual(
      envelope.packets.map((p) => p.claimedBy),
      ["enterprise-b", "enterprise-c", "bank-a", null],
    );
    const last = BigInt(envelope.packets[3]!.amount);
    assert.equal(BigInt(envelope.refunded), last);
    assert.equal(claimed.reduce((a, b) => a + b, 0n) + last, 300n, "the packets sum to the envelope");
    const sender = await read<{ balance: string }>(
      "enterprise-a",
      "points",
      "balance",
      { issuer: "insurer", holder: "enterprise-a" },
      refunded.height,
    );
    assert.equal(BigInt(sender.balance), 700n + last);
    assert.ok(height < refunded.height);
    assert.equal(
      (await run("enterprise-a", as("enterprise-a").points.refund({ issuer: "insurer", id: "red-1" }))).code,
      "ALREADY_REFUNDED",
    );
  });

  test("a charity milestone is paid only once the auditor attests it, and a donation is traced to its beneficiary", async () => {
    const org = as("enterprise-a");
    const opened = await run(
      "enterprise-a",
      org.charity.open({
        id: "water",
        title: "Village water",
        auditor: "auditor",
        milestones: [{ description: "well", amount: 50_000n, beneficiary: "enterprise-c" }],
      }),
    );
    assert.equal(opened.code, "OK");
    assert.equal((await run("bank-a", as("bank-a").charity.donate({ project: "water", donation: "gift-1", amount: 30_000n }))).code, "OK");
    assert.equal(
      (await run("enterprise-b", as("enterprise-b").charity.donate({ project: "water", donation: "gift-2", amount: 20_000n }))).code,
      "OK",
    );
    assert.equal(
      (await run("enterprise-a", org.charity.disburse({ project: "water", milestone: 1, beneficiary: "enterprise-c" }))).code,
      "NOT_ATTESTED",
    );
    assert.equal(
      (await run("auditor", as("auditor").charity.attest({ project: "water", milestone: 1, evidence: "ee".repeat(32) }))).code,
      "OK",
    );
    const paid = await run("enterprise-a", org.charity.disburse({ project: "water", milestone: 1, beneficiary: "enterprise-c" }));
    assert.equal(paid.code, "OK");
    const summary = await read<Record<string, unknown>>("enterprise-b", "charity", "summary", { project: "water" }, paid.height);
    assert.deepEqual([summary.raised, summary.disbursed, summary.held], ["50000", "50000", "0"]);
    const t = await read<{ to: unknown[]; held: string }>(
      "bank-a",
      "charity",
      "trace",
      { project: "water", donation: "gift-1" },
      paid.height,
    );
    assert.deepEqual(t.to, [{ milestone: 1, beneficiary: "enterprise-c", amount: "30000", atMs: (t.to[0] as { atMs: number }).atMs }]);
    assert.equal(t.held, "0");
  });
});
