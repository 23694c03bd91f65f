// End to end: the sequencer set governance keeps is the one every node judges blocks by, and the
// one the sequencers themselves follow (docs/architecture.md, "The sequencer set in force"). Two
// sequencers in genesis, both running, seq-2 the master. Governance votes in seq-3, which then
// starts from scratch (not in genesis); then it votes out seq-2 while seq-2 is the master: seq-2
// steps down by itself (retired), an in-set sequencer takes over, blocks keep flowing and no node
// halts; seq-3 becomes the master and its blocks are applied everywhere. Finally, with every
// sequencer stopped, a block sealed by seq-3's key is stored and applied by every node, and one
// sealed by seq-2's real key is refused by every blockstore and executor, as for a forged block.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Receipt, TxOutcome } from "@tally/proto/types";
import { RegFeedServiceClient, type VerifyChainResponse } from "@tally/proto/regfeed";
import { Client, credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { SequencerAdminServiceClient, SequencerRole, type GetStatusResponse, type StepDownResponse } from "@tally/proto/sequencer";
import { busNames, connectBus, deleteNamespace, type Bus } from "@tally/bus";
import { EXIT_CONFIG, loadKeyFile, writeKeyFile } from "@tally/config";
import { dropDatabase, openDb, readChainConfigEvents } from "@tally/db";
import { SequencersByHeight } from "@tally/contracts";
import {
  decodeBlock,
  sealBlock,
  signingKeyFromSeed,
  tipOf,
  toHex,
  verifyBlock,
  type ChainTip,
  type SealedBlock,
  type SigningKey,
} from "@tally/ledger";
import { insecure, unary } from "@tally/rpc";
import { signerFromKeyFile, TallyClient, TrustedChain } from "@tally/sdk";
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
    { id: "node-regulator", institution: "regulator", regfeed: true },
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
    net = await LocalNetwork.start({
      dir,
      plan: PLAN,
      files,
      natsUrl: testNatsUrl(),
      pgAdminUrl: testPgAdminUrl(),
      namespace,
      databasePrefix: dbPrefix,
      echoLogs: process.env.TALLY_ECHO_LOGS === "1",
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

  /** Proposed by clearing, voted yes by bank-a: 2 of the 3 voting members, the 2/3 threshold. Returns the vote's height. */
  async function pass(id: string, change: unknown): Promise<bigint> {
    await run("clearing", "membership", "propose", { id, change, expiresAtMs: Date.now() + 3_600_000 });
    return run("bank-a", "membership", "vote", { proposal: id, vote: "yes" });
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

  async function status(id: string): Promise<GetStatusResponse> {
    const c = new SequencerAdminServiceClient(net.endpoints.sequencers.find((x) => x.id === id)!.admin, insecure());
    try {
      return await unary<GetStatusResponse>((md, o, cb) => c.getStatus({}, md, o, cb));
    } finally {
      c.close();
    }
  }

  async function stepDown(id: string, holdOffMs: number): Promise<boolean> {
    const c = new SequencerAdminServiceClient(net.endpoints.sequencers.find((x) => x.id === id)!.admin, insecure());
    try {
      return (await unary<StepDownResponse>((md, o, cb) => c.stepDown({ holdOffMs }, md, o, cb))).wasMaster;
    } finally {
      c.close();
    }
  }

  /** grpc.health.v1 Check of a service on a sequencer's admin address, encoded by hand: 1 SERVING, 2 NOT_SERVING. */
  function healthOf(id: string, service: string): Promise<number> {
    const c = new Client(net.endpoints.sequencers.find((x) => x.id === id)!.admin, credentials.createInsecure());
    return new Promise<number>((resolve, reject) =>
      c.makeUnaryRequest(
        "/grpc.health.v1.Health/Check",
        (s: string) => Buffer.concat([Buffer.from([0x0a, Buffer.byteLength(s)]), Buffer.from(s)]),
        (b: Buffer) => (b.length >= 2 && b[0] === 0x08 ? b[1]! : 0),
        service,
        new Metadata(),
        { deadline: Date.now() + 5000 },
        (e: ServiceError | null, r?: number) => (e ? reject(e) : resolve(r ?? 0)),
      ),
    ).finally(() => c.close());
  }

  async function masterOf(ids: readonly string[]): Promise<string | undefined> {
    for (const id of ids) if ((await status(id).catch(() => undefined))?.role === SequencerRole.SEQUENCER_ROLE_MASTER) return id;
    return undefined;
  }

  /** Every block on BLOCKS from height `from` on. */
  async function blocksFrom(from: bigint): Promise<SealedBlock[]> {
    const last = (await admin.jsm.streams.info(names.blocksStream)).state.last_seq;
    const out: SealedBlock[] = [];
    for (let seq = Number(from) + 1; seq <= last; seq++)
      out.push(decodeBlock((await admin.jsm.streams.getMessage(names.blocksStream, { seq }))!.data));
    return out;
  }

  /** Every node's blockstore and executor still running (none refused a block). */
  function noNodeHalted(): void {
    for (const n of PLAN.nodes)
      for (const service of ["blockstore", "executor"]) {
        const p = net.processes.get(`${n.id}/${service}`)!;
        assert.ok(p.running, `${n.id}/${service} stopped:\n${p.lines.slice(-10).join("\n")}`);
      }
  }

  const seq3 = signingKeyFromSeed(randomBytes(32));

  test(
    "a sequencer voted out while it is the master steps down by itself; one voted in starts from scratch and leads",
    { timeout: 240_000 },
    async () => {
      // seq-1 started first and leads; hand the lead to seq-2.
      await waitFor("seq-1 leads", async () => (await masterOf(["seq-1"])) === "seq-1");
      assert.equal(await stepDown("seq-1", 8000), true);
      await waitFor("seq-2 leads", async () => (await masterOf(["seq-2"])) === "seq-2");

      // A sequencer not in any set in force refuses to start, naming why.
      const seq4File = join(dir, "keys", "seq-4.json");
      const seq4 = signingKeyFromSeed(randomBytes(32));
      writeKeyFile(seq4File, {
        owner: "seq-4",
        keyId: "seq",
        publicKey: toHex(seq4.publicKey),
        seed: toHex(seq4.secretKey.subarray(0, 32)),
      });
      const stranger = await net.addSequencer("seq-4", seq4File, { env: { SEQUENCER_SET_WAIT_MS: "2000" }, waitReady: false });
      assert.equal(await stranger.exited, EXIT_CONFIG, stranger.lines.slice(-5).join("\n"));
      assert.match(
        stranger.lines.join("\n"),
        /SEQUENCER_ID seq-4 with this key is neither in the genesis sequencer set nor in the set in force/,
      );

      // Voted in (seq-2 cuts the votes, pausing after each membership block until the validators' receipts say who is in).
      const added = await pass("add-seq-3", { kind: "add-sequencer", sequencerId: "seq-3", publicKey: toHex(seq3.publicKey) });
      const seq3File = join(dir, "keys", "seq-3.json");
      writeKeyFile(seq3File, {
        owner: "seq-3",
        keyId: "seq",
        publicKey: toHex(seq3.publicKey),
        seed: toHex(seq3.secretKey.subarray(0, 32)),
      });
      // seq-3 is not in genesis: it starts because a quorum of validators reports it in the set in force.
      await net.addSequencer("seq-3", seq3File);
      const s3 = await status("seq-3");
      assert.equal(s3.role, SequencerRole.SEQUENCER_ROLE_BACKUP);
      assert.deepEqual(s3.sequencerSet, ["seq-1", "seq-2", "seq-3"]);

      // Voted out while it is the master: the vote's block is seq-2's last.
      assert.equal(await masterOf(["seq-2"]), "seq-2");
      await run("clearing", "membership", "propose", {
        id: "remove-seq-2",
        change: { kind: "remove-sequencer", sequencerId: "seq-2" },
        expiresAtMs: Date.now() + 3_600_000,
      });
      const voted = await run("bank-a", "membership", "vote", { proposal: "remove-seq-2", vote: "yes" });
      await waitFor("seq-2 retired", async () => (await status("seq-2")).role === SequencerRole.SEQUENCER_ROLE_RETIRED, 30_000);
      const s2 = await status("seq-2");
      assert.deepEqual(s2.sequencerSet, ["seq-1", "seq-3"]);
      assert.ok(s2.sequencerSetHeight >= voted, `seq-2 learned the set at height ${s2.sequencerSetHeight}, before the vote at ${voted}`);
      const p2 = net.processes.get("seq-2")!;
      assert.ok(p2.running, "seq-2 keeps running, retired");
      assert.match(p2.lines.join("\n"), /retired: releasing the lease/);
      const metrics = await (await fetch(`http://${net.endpoints.metrics!["seq-2"]!}/metrics`)).text();
      assert.match(metrics, /^tally_sequencer_retired 1$/m);
      assert.match(metrics, /^tally_sequencer_is_leader 0$/m);
      // Not ready (the readiness probe's service), still alive (the liveness probe's "").
      assert.equal(await healthOf("seq-2", "tally.v1.SequencerAdminService"), 2);
      assert.equal(await healthOf("seq-2", ""), 1);
      assert.equal(await healthOf("seq-1", "tally.v1.SequencerAdminService"), 1);

      // Another sequencer in the set takes over; blocks keep flowing; no node halts.
      const next = await waitFor("seq-1 or seq-3 leads", () => masterOf(["seq-1", "seq-3"]), 30_000);
      const after = await run("clearing", "cash", "issue", { to: "bank-a", amount: "5" });
      await waitFor("every node applied the issue", async () => ((await heights()).every((h) => h.applied >= after) ? true : undefined));
      noNodeHalted();
      const since = await blocksFrom(voted + 1n);
      assert.ok(since.length > 0);
      for (const b of since) assert.notEqual(b.header.sequencerId, "seq-2", `block ${b.header.height} cut by seq-2 after its removal`);
      assert.ok(since.some((b) => b.header.sequencerId === next));

      // seq-3, voted in, becomes the master and its blocks are applied by every node.
      if (next !== "seq-3") {
        assert.equal(await stepDown(next, 30_000), true);
        await waitFor("seq-3 leads", async () => (await masterOf(["seq-3"])) === "seq-3", 30_000);
      }
      const byThree = await run("bank-a", "cash", "transfer", { to: "clearing", amount: "1" });
      const [b3] = await blocksFrom(byThree);
      assert.equal(b3?.header.height, byThree);
      assert.equal(b3?.header.sequencerId, "seq-3");
      await waitFor("every node applied seq-3's block", async () =>
        (await heights()).every((h) => h.applied >= byThree) ? true : undefined,
      );
      noNodeHalted();
      assert.equal((await status("seq-2")).role, SequencerRole.SEQUENCER_ROLE_RETIRED);

      // The verifiers that do not execute judge each height by the set in force too.
      // The regulator feed's VerifyChain, over the whole chain:
      const feed = new RegFeedServiceClient(net.endpoints.regfeed, insecure());
      try {
        const md = new Metadata();
        md.set("tally-caller", "seqset-test");
        const v = await unary<VerifyChainResponse>((_, o, cb) => feed.verifyChain({ fromHeight: 0n, toHeight: byThree }, md, o, cb));
        assert.deepEqual(v.mismatches, []);
        assert.equal(v.blocksChecked, byThree + 1n);
      } finally {
        feed.close();
      }
      // The whole of BLOCKS against a node's recorded chain-config events (what the chaos audit does):
      const db = openDb(net.endpoints.nodes[0]!.database);
      try {
        const all = await blocksFrom(0n);
        const sets = new SequencersByHeight(files.genesis, await readChainConfigEvents(db, BigInt(all.length)));
        let prev: ChainTip | undefined;
        for (const b of all) {
          verifyBlock(b, prev, files.genesis, sets.keysAt(b.header.height));
          prev = tipOf(b);
        }
        // A client that trusts only genesis refuses seq-3's block until it is shown the validators' receipts.
        const chain = new TrustedChain(files.genesis);
        assert.throws(() => chain.verifyHeader({ header: b3.block.header, signature: b3.block.signature }), /PROOF_UNKNOWN_SEQUENCER/);
        const receiptsAt = async (h: bigint): Promise<Uint8Array[]> =>
          (await db.selectFrom("validator_receipts").select(["body", "signature"]).where("height", "=", h).execute()).map((r) =>
            Receipt.encode({ body: r.body, signature: r.signature }).finish(),
          );
        assert.deepEqual(
          chain.acceptSequencerSet(added, await receiptsAt(added)).sequencers.map((x) => x.id),
          ["seq-1", "seq-2", "seq-3"],
        );
        assert.deepEqual(
          chain.acceptSequencerSet(voted, await receiptsAt(voted)).sequencers.map((x) => x.id),
          ["seq-1", "seq-3"],
        );
        assert.equal(chain.verifyHeader({ header: b3.block.header, signature: b3.block.signature }).height, byThree);
      } finally {
        await db.destroy();
      }
    },
  );

  test("with the sequencers stopped, a block sealed by the voted-in key is applied everywhere and one by the voted-out key nowhere", async () => {
    for (const id of ["seq-1", "seq-2", "seq-3"]) await net.processes.get(id)!.stop("SIGTERM", 5000);
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
        // It halts at the last good block and stays up, alerting (tally_halted{reason="UNKNOWN_SEQUENCER"}).
        const p = net.processes.get(`${n.id}/${service}`)!;
        await waitFor(`${n.id}/${service} to halt`, () => p.lines.some((l) => l.includes("halted at the last good block")), 20_000);
        assert.equal(p.running, true, `${n.id}/${service} exited instead of halting`);
        assert.match(p.lines.join("\n"), /sequencer seq-2 is not in the sequencer set/, `${n.id}/${service}`);
        const metrics = await (await fetch(`http://${net.endpoints.metrics![`${n.id}/${service}`]!}/metrics`)).text();
        assert.match(metrics, /^tally_halted\{[^}]*reason="UNKNOWN_SEQUENCER"[^}]*\} 1$/m, `${n.id}/${service}`);
      }
    }
    for (const h of await heights()) assert.deepEqual(h, { stored: added.header.height, applied: added.header.height });
  });
});
