// End to end under least privilege (issue 13): the real services run as their per-role NATS users
// (generated from the genesis), on a nats-server with that configuration, after the setup step
// made the streams and the lease bucket as admin. A transaction goes through gateway, sequencer,
// blockstores and executors to every node, and the server logs no permissions violation: the
// services need nothing their role is not given.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TxStatus, type TxStatusUpdate } from "@tally/proto/gateway";
import { TxOutcome } from "@tally/proto/types";
import { busNames, connectBus, natsAuthorizationConf, natsUsers, setupBus, type Bus } from "@tally/bus";
import { dropDatabase, openDb } from "@tally/db";
import { decodeBlock, sealBlock, signingKeyFromSeed, type SealedBlock } from "@tally/ledger";
import { signerFromKeyFile, TallyClient } from "@tally/sdk";
import { gatewayCredentials, gatewayInstitutionsOf, writeConsortium, type ConsortiumFiles, type ConsortiumPlan } from "./consortium.js";
import { LocalNetwork } from "./local-network.js";
import { startNatsServer, type StartedNats } from "./nats-server.js";
import { freePort } from "./ports.js";
import { testPgAdminUrl, uniqueSuffix } from "./test-env.js";
import { waitFor } from "./wait.js";

const PLAN: ConsortiumPlan = {
  chainId: "tally-least-privilege",
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

/** A consortium whose services run as their per-role NATS users, on a nats-server of its own. */
interface LeastPrivilegeNetwork {
  readonly net: LocalNetwork;
  readonly nats: StartedNats;
  /** The server's monitoring port (/connz tells which user each connection authenticated as). */
  readonly monitor: number;
  /** The setup step's admin connection (a compromised operator, in the attacks). */
  readonly admin: Bus;
  readonly files: ConsortiumFiles;
  stop(): Promise<void>;
}

const names = busNames("tally");

async function startLeastPrivilegeNetwork(tag: string): Promise<LeastPrivilegeNetwork> {
  const dir = mkdtempSync(join(tmpdir(), `tally-lp-${tag}-`));
  const dbPrefix = `tally_lp${tag}_${uniqueSuffix()}`;
  const files = writeConsortium(dir, PLAN, Date.now());
  const users = natsUsers(files.genesis, names, { gatewayInstitutions: gatewayInstitutionsOf(PLAN) });
  const passwords = new Map(users.map((u) => [u.user, randomBytes(12).toString("hex")]));
  const monitor = await freePort();
  const nats = await startNatsServer(join(dir, "nats"), {
    extraConf: `http: "127.0.0.1:${monitor}"\n` + natsAuthorizationConf(users, (u) => passwords.get(u)!),
  });
  const urlOf = (user: string): string => `nats://${user}:${passwords.get(user)!}@127.0.0.1:${nats.port}`;
  // The setup step, once, as admin; the lease bucket's TTL is the sequencer's LEASE_TTL_MS (default 1300).
  const admin = await connectBus({ url: urlOf("admin"), name: "setup" });
  await setupBus(admin, names, { leaseTtlMs: 1300 });
  const stop = async (): Promise<void> => {
    await net?.stop();
    await admin.nc.close().catch(() => undefined);
    await nats.stop();
    for (const node of PLAN.nodes)
      await dropDatabase(testPgAdminUrl(), `${dbPrefix}_${node.id.replace(/[^a-z0-9]/g, "_")}`).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  let net: LocalNetwork | undefined;
  try {
    net = await LocalNetwork.start({
      dir,
      plan: PLAN,
      files,
      natsUrl: urlOf("admin"),
      natsUrlOf: urlOf,
      pgAdminUrl: testPgAdminUrl(),
      namespace: names.namespace,
      databasePrefix: dbPrefix,
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { net, nats, monitor, admin, files, stop };
}

function clientOf(lp: LeastPrivilegeNetwork, id: string): TallyClient {
  const inst = lp.net.endpoints.institutions.find((i) => i.id === id)!;
  return new TallyClient(inst.gateway, PLAN.chainId, signerFromKeyFile(lp.files.keyFiles.get(id)!), gatewayCredentials(lp.files, id));
}

/**
 * A compromised admin (the one user that may publish to BLOCKS) appends a bad block after the
 * tip, with the sequencer stopped. Every node's blockstore and executor must stop rather than
 * store or apply it, and their databases stay at the tip. Returns the processes' output.
 */
async function attackWithBlock(lp: LeastPrivilegeNetwork, bad: (tip: SealedBlock, first: SealedBlock) => Uint8Array): Promise<string[]> {
  const { admin, net } = lp;
  await net.processes.get("seq-1")!.stop("SIGTERM", 5000);
  const info = await admin.jsm.streams.info(names.blocksStream);
  const tip = decodeBlock((await admin.jsm.streams.getMessage(names.blocksStream, { seq: info.state.last_seq }))!.data);
  const first = decodeBlock((await admin.jsm.streams.getMessage(names.blocksStream, { seq: 2 }))!.data);
  // The bus lets admin publish it: only verification stands in the way.
  const ack = await admin.js.publish(names.blocksSubject, bad(tip, first), { expect: { lastSequence: info.state.last_seq } });
  assert.equal(ack.seq, info.state.last_seq + 1);
  const outputs: string[] = [];
  for (const n of PLAN.nodes) {
    for (const service of ["blockstore", "executor"]) {
      // It halts at the last good block and stays up, alerting: tally_halted{reason} is 1.
      const p = net.processes.get(`${n.id}/${service}`)!;
      await waitFor(`${n.id}/${service} to halt`, () => p.lines.some((l) => l.includes("halted at the last good block")), 20_000);
      const code = await Promise.race([p.exited, new Promise<"running">((r) => setTimeout(() => r("running"), 500))]);
      assert.equal(code, "running", `${n.id}/${service} exited instead of halting`);
      const metrics = await (await fetch(`http://${net.endpoints.metrics![`${n.id}/${service}`]!}/metrics`)).text();
      assert.match(metrics, /^tally_halted\{[^}]*reason="[A-Z_]+"[^}]*\} 1$/m, `${n.id}/${service} exports tally_halted`);
      outputs.push(p.lines.join("\n"));
    }
    const db = openDb(lp.net.endpoints.nodes.find((x) => x.id === n.id)!.database);
    try {
      const stored = await db
        .selectFrom("blocks")
        .select((eb) => eb.fn.max("height").as("h"))
        .executeTakeFirst();
      assert.equal(BigInt(stored!.h), tip.header.height, `${n.id}'s blockstore stored it`);
      const cp = await db.selectFrom("checkpoint").select("height").executeTakeFirst();
      assert.equal(BigInt(cp!.height), tip.header.height, `${n.id}'s executor applied it`);
    } finally {
      await db.destroy();
    }
  }
  return outputs;
}

describe("the services run as their per-role NATS users", () => {
  let lp: LeastPrivilegeNetwork;
  let nats: StartedNats;
  let monitor: number;
  let admin: Bus;
  const clients: TallyClient[] = [];

  before(async () => {
    lp = await startLeastPrivilegeNetwork("a");
    ({ nats, monitor, admin } = lp);
    clients.push(clientOf(lp, "clearing"), clientOf(lp, "enterprise-a"));
  });

  after(async () => {
    for (const c of clients) c.close();
    await lp?.stop();
  });

  test("a transaction is accepted, sequenced, committed and final, each service connected as its own user, with no permissions violation", async () => {
    const [clearing, enterpriseA] = clients as [TallyClient, TallyClient];
    // FINAL: a quorum of the nodes' receipts (each executor publishes its own, reads everyone's).
    const updates: TxStatusUpdate[] = [];
    const issued = await clearing.submitAndWait(clearing.build("cash", "issue", { to: "bank-a", amount: "500" }), {
      until: "final",
      onUpdate: (u) => updates.push(u),
    });
    // In order, each step once, from ACCEPTED to FINAL; a step the node has already passed by the
    // time it answers (SEQUENCED, COMMITTED) may be skipped.
    const steps = updates.map((u) => u.status);
    assert.equal(steps[0], TxStatus.TX_STATUS_ACCEPTED, `steps ${steps.join(",")}`);
    assert.equal(steps.at(-1), TxStatus.TX_STATUS_FINAL, `steps ${steps.join(",")}`);
    for (let i = 1; i < steps.length; i++) assert.ok(steps[i]! > steps[i - 1]!, `steps ${steps.join(",")}`);
    assert.equal(issued.result?.outcome, TxOutcome.TX_OUTCOME_COMMITTED);
    // node-bank-a's gateway publishes for the other institution it hosts too (enterprise-a's subject).
    // enterprise-a holds no cash: the contract rejects the transfer, but it went through the bus and the chain.
    const moved = await enterpriseA.submitAndWait(enterpriseA.build("cash", "transfer", { to: "bank-a", amount: "1" }));
    assert.ok(moved.height > issued.height);
    // Every node's executor published its receipts (node-<id> may publish tally.receipts.<id>).
    await waitFor("a receipt from every node", async () => {
      const seen = new Set<string>();
      const info = await admin.jsm.streams.info(names.receiptsStream, { subjects_filter: names.receiptsSubjects });
      for (const s of Object.keys(info.state.subjects ?? {})) seen.add(s);
      return PLAN.nodes.every((n) => seen.has(names.receiptSubject(n.id))) ? true : undefined;
    });
    // Each service connected as its own user, none as admin (the test's own setup connection aside).
    const connz = (await (await fetch(`http://127.0.0.1:${monitor}/connz?auth=1&limit=1000`)).json()) as {
      connections: { name?: string; authorized_user?: string }[];
    };
    const userOf = new Map(connz.connections.map((c) => [c.name ?? "", c.authorized_user ?? ""]));
    assert.equal(userOf.get("sequencer-seq-1"), "sequencer-seq-1");
    for (const n of PLAN.nodes) {
      assert.equal(userOf.get(`gateway-${n.id}`), `gateway-${n.id}`);
      assert.equal(userOf.get(`blockstore-${n.id}`), `node-${n.id}`);
      assert.equal(userOf.get(`executor-${n.id}`), `node-${n.id}`);
    }
    assert.equal(userOf.get("regfeed-node-regulator"), "node-node-regulator");
    assert.deepEqual(
      connz.connections.filter((c) => c.authorized_user === "admin").map((c) => c.name),
      ["setup"],
    );
    const violations = nats.process.lines.filter((l) => /Violation/i.test(l));
    assert.deepEqual(violations, []);
  });

  test("attack: a forged block, published by a compromised admin, is stored and applied by no node", async () => {
    const outputs = await attackWithBlock(
      lp,
      (tip) =>
        sealBlock(
          {
            chainId: PLAN.chainId,
            height: tip.header.height + 1n,
            prevHash: tip.hash,
            txs: [],
            firstTxsSeq: 0n,
            lastTxsSeq: tip.header.lastTxsSeq,
            timestampMs: tip.header.timestampMs + 1n,
            sequencerId: "seq-1",
            epoch: tip.header.epoch,
          },
          // Not seq-1's key: admin holds no sequencer's key.
          signingKeyFromSeed(randomBytes(32)),
        ).bytes,
    );
    for (const out of outputs) assert.match(out, /signature by seq-1 does not verify/);
  });
});

describe("attack: a replayed old block", () => {
  let lp: LeastPrivilegeNetwork;
  before(async () => {
    lp = await startLeastPrivilegeNetwork("b");
    const c = clientOf(lp, "clearing");
    try {
      await c.submitAndWait(c.build("cash", "issue", { to: "bank-a", amount: "7" }));
    } finally {
      c.close();
    }
  });
  after(async () => await lp?.stop());

  test("block 1, published again after the tip by a compromised admin, is stored and applied by no node", async () => {
    const outputs = await attackWithBlock(lp, (_tip, first) => first.bytes);
    for (const out of outputs) assert.match(out, /block 1: expected height \d+/);
  });
});
