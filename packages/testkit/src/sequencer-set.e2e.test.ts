// End to end: the sequencer set governance keeps is the one every node judges blocks by
// (docs/architecture.md, "The sequencer set in force"). Two sequencers in genesis, seq-1 leads;
// governance votes in seq-3 and votes out seq-2. With seq-1 stopped, a block sealed by seq-3's key
// is stored and applied by every node, and then one sealed by seq-2's key (a valid signature by a
// genesis sequencer) is stored and applied by none: every blockstore and executor stops, as for
// a forged block, and the nodes stay at seq-3's block.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TxOutcome } from "@tally/proto/types";
import { busNames, connectBus, deleteNamespace, type Bus } from "@tally/bus";
import { loadKeyFile } from "@tally/config";
import { dropDatabase, openDb } from "@tally/db";
import { decodeBlock, sealBlock, signingKeyFromSeed, toHex, type SealedBlock, type SigningKey } from "@tally/ledger";
import { signerFromKeyFile, TallyClient } from "@tally/sdk";
import { gatewayCredentials, writeConsortium, type ConsortiumFiles, type ConsortiumPlan } from "./consortium.js";
import { LocalNetwork } from "./local-network.js";
import { testNatsUrl, testPgAdminUrl, uniqueNamespace, uniqueSuffix } from "./test-env.js";
import { waitFor } from "./wait.js";

const PLAN: ConsortiumPlan = {
  chainId: "tally-sequencer-set",
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
  sequencers: [
    { id: "seq-1", institution: "clearing" },
    { id: "seq-2", institution: "bank-a" },
  ],
};

describe("governance's sequencer set decides whose blocks every node accepts", () => {
  const dir = mkdtempSync(join(tmpdir(), "tally-seqset-"));
  const namespace = uniqueNamespace("q");
  const names = busNames(namespace);
  const dbPrefix = `tally_seqset_${uniqueSuffix()}`;
  let net: LocalNetwork;
  let files: ConsortiumFiles;
  let admin: Bus;
  const clients = new Map<string, TallyClient>();

  before(async () => {
    files = writeConsortium(dir, PLAN, Date.now());
    // Only seq-1 runs: seq-2 is a genesis sequencer whose key the test holds.
    net = await LocalNetwork.start({
      dir,
      plan: PLAN,
      files,
      natsUrl: testNatsUrl(),
      pgAdminUrl: testPgAdminUrl(),
      namespace,
      databasePrefix: dbPrefix,
      sequencersToRun: 1,
    });
    admin = await connectBus({ url: testNatsUrl(), name: "seqset-admin" });
    for (const id of ["clearing", "bank-a", "enterprise-a"]) {
      const inst = net.endpoints.institutions.find((i) => i.id === id)!;
      clients.set(
        id,
        new TallyClient(inst.gateway, PLAN.chainId, signerFromKeyFile(files.keyFiles.get(id)!), gatewayCredentials(files, id)),
      );
    }
  });

  after(async () => {
    for (const c of clients.values()) c.close();
    await net?.stop();
    if (admin !== undefined) {
      await deleteNamespace(admin.jsm, names).catch(() => undefined);
      await admin.nc.close();
    }
    for (const node of PLAN.nodes)
      await dropDatabase(testPgAdminUrl(), `${dbPrefix}_${node.id.replace(/[^a-z0-9]/g, "_")}`).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
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

  /** Proposed by clearing, voted yes by bank-a: 2 of the 3 voting members, the 2/3 threshold. */
  async function pass(id: string, change: unknown): Promise<void> {
    await run("clearing", "membership", "propose", { id, change, expiresAtMs: Date.now() + 3_600_000 });
    await run("bank-a", "membership", "vote", { proposal: id, vote: "yes" });
  }

  async function lastBlock(): Promise<{ seq: number; block: SealedBlock }> {
    const info = await admin.jsm.streams.info(names.blocksStream);
    const seq = info.state.last_seq;
    return { seq, block: decodeBlock((await admin.jsm.streams.getMessage(names.blocksStream, { seq }))!.data) };
  }

  /** Seals the block after tip as sequencerId with key and publishes it to BLOCKS (admin may). */
  async function publishAfter(tip: { seq: number; block: SealedBlock }, sequencerId: string, key: SigningKey): Promise<SealedBlock> {
    const t = tip.block.header;
    const b = sealBlock(
      {
        chainId: PLAN.chainId,
        height: t.height + 1n,
        prevHash: tip.block.hash,
        txs: [],
        firstTxsSeq: 0n,
        lastTxsSeq: t.lastTxsSeq,
        timestampMs: t.timestampMs + 1n,
        sequencerId,
        epoch: t.epoch,
      },
      key,
    );
    const ack = await admin.js.publish(names.blocksSubject, b.bytes, { expect: { lastSequence: tip.seq } });
    assert.equal(ack.seq, tip.seq + 1);
    return b;
  }

  /** Every node's stored tip and executor checkpoint heights. */
  async function heights(): Promise<{ stored: bigint; applied: bigint }[]> {
    const out: { stored: bigint; applied: bigint }[] = [];
    for (const n of net.endpoints.nodes) {
      const db = openDb(n.database);
      try {
        const s = await db
          .selectFrom("blocks")
          .select((eb) => eb.fn.max("height").as("h"))
          .executeTakeFirst();
        const cp = await db.selectFrom("checkpoint").select("height").executeTakeFirst();
        out.push({ stored: BigInt(s!.h), applied: BigInt(cp!.height) });
      } finally {
        await db.destroy();
      }
    }
    return out;
  }

  test("add-sequencer lets the new sequencer's blocks in; remove-sequencer keeps the removed one's out, on every node", async () => {
    const seq3 = signingKeyFromSeed(randomBytes(32));
    await pass("add-seq-3", { kind: "add-sequencer", sequencerId: "seq-3", publicKey: toHex(seq3.publicKey) });
    await pass("remove-seq-2", { kind: "remove-sequencer", sequencerId: "seq-2" });
    // seq-1, still in the set, keeps cutting blocks after the change.
    const after = await run("clearing", "cash", "issue", { to: "bank-a", amount: "5" });
    await waitFor("every node applied the issue", async () => ((await heights()).every((h) => h.applied >= after) ? true : undefined));

    await net.processes.get("seq-1")!.stop("SIGTERM", 5000);
    const tip = await lastBlock();
    // seq-3, voted in (not in genesis): stored and applied by every node.
    const added = await publishAfter(tip, "seq-3", seq3);
    await waitFor("every node stored and applied seq-3's block", async () =>
      (await heights()).every((h) => h.stored === added.header.height && h.applied === added.header.height) ? true : undefined,
    );

    // seq-2, voted out (in genesis, with its real key): refused by every blockstore and executor.
    const seq2 = loadKeyFile(files.keyFiles.get("seq-2")!).key;
    await publishAfter({ seq: tip.seq + 1, block: added }, "seq-2", seq2);
    for (const n of PLAN.nodes) {
      for (const service of ["blockstore", "executor"]) {
        const p = net.processes.get(`${n.id}/${service}`)!;
        const code = await Promise.race([p.exited, new Promise<"running">((r) => setTimeout(() => r("running"), 20_000))]);
        assert.equal(code, 1, `${n.id}/${service} kept running past seq-2's block`);
        assert.match(p.lines.join("\n"), /sequencer seq-2 is not in the sequencer set/, `${n.id}/${service}`);
      }
    }
    for (const h of await heights()) assert.deepEqual(h, { stored: added.header.height, applied: added.header.height });
  });
});
