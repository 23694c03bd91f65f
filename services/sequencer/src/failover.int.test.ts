// Master/backup failover with two real sequencer processes on a real nats-server: SIGKILL the
// master under load, three times; a graceful SIGTERM handover; a second instance with the same
// id refused. Timings are printed, never asserted (they belong to the benchmark).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blockSeqOf, type Bus, busNames, type BusNames, connectBus, deleteNamespace, ensureStreams } from "@tally/bus";
import { loadKeyFile } from "@tally/config";
import { decodeBlock, signTx, toHex, utf8, verifyChain, type SealedBlock, type SigningKey } from "@tally/ledger";
import { status as grpcStatus } from "@grpc/grpc-js";
import { SequencerAdminServiceClient, SequencerRole, type GetStatusResponse, type StepDownResponse } from "@tally/proto/sequencer";
import { insecure, unary } from "@tally/rpc";
import {
  freePort,
  ServiceProcess,
  serviceEntry,
  testNatsUrl,
  uniqueNamespace,
  waitFor,
  writeConsortium,
  type ConsortiumFiles,
  type ConsortiumPlan,
} from "@tally/testkit";

const CHAIN = "failover-int-test";
const WAIT_MS = 20_000;
const PLAN: ConsortiumPlan = {
  chainId: CHAIN,
  institutions: [{ id: "bank-a", name: "Bank A", roles: ["bank"], node: "node-a" }],
  nodes: [{ id: "node-a", institution: "bank-a" }],
  sequencers: [
    { id: "seq-a", institution: "bank-a" },
    { id: "seq-b", institution: "bank-a" },
  ],
};

let bus: Bus;
let dir: string;
let files: ConsortiumFiles;
let bankKey: SigningKey;
const namespaces: BusNames[] = [];
const procs: ServiceProcess[] = [];

before(async () => {
  bus = await connectBus({ url: testNatsUrl(), name: "failover-int-test" });
  dir = mkdtempSync(join(tmpdir(), "tally-failover-"));
  files = writeConsortium(dir, PLAN, Date.now());
  bankKey = loadKeyFile(files.keyFiles.get("bank-a")!).key;
});

after(async () => {
  for (const p of procs) await p.stop("SIGKILL");
  for (const n of namespaces) await deleteNamespace(bus.jsm, n);
  await bus.nc.drain();
  rmSync(dir, { recursive: true, force: true });
});

async function newChain(): Promise<BusNames> {
  const names = busNames(uniqueNamespace("fo"));
  namespaces.push(names);
  await ensureStreams(bus.jsm, names);
  return names;
}

/** A running sequencer process and its admin client. */
interface Seq {
  readonly id: string;
  readonly proc: ServiceProcess;
  readonly admin: InstanceType<typeof SequencerAdminServiceClient>;
}

async function spawnSequencer(names: BusNames, id: string, opts: { waitReady?: boolean } = {}): Promise<Seq> {
  const port = await freePort();
  const proc = new ServiceProcess(id, serviceEntry("sequencer"), {
    SEQUENCER_ID: id,
    SEQUENCER_KEY_FILE: files.keyFiles.get(id)!,
    GENESIS_FILE: files.genesisFile,
    NATS_URL: testNatsUrl(),
    TALLY_NAMESPACE: names.namespace,
    ADMIN_GRPC_ADDR: `127.0.0.1:${port}`,
    LEASE_TTL_MS: "1500",
    LEASE_RENEW_MS: "300",
    LEASE_POLL_MS: "100",
    CUT_WAIT_MS: "5",
    BLOCK_TXS_MAX: "50",
  });
  procs.push(proc);
  if (opts.waitReady !== false) await proc.waitForLine(/sequencer admin listening/, WAIT_MS);
  return { id, proc, admin: new SequencerAdminServiceClient(`127.0.0.1:${port}`, insecure()) };
}

function status(s: Seq): Promise<GetStatusResponse> {
  return unary<GetStatusResponse>((md, o, cb) => s.admin.getStatus({}, md, o, cb), 2000);
}

/** The one master among the running sequencers (the others must report BACKUP). */
async function masterOf(seqs: Seq[]): Promise<{ master: Seq; st: GetStatusResponse }> {
  return waitFor(
    "exactly one master",
    async () => {
      const sts = await Promise.all(seqs.map((s) => status(s)));
      const masters = sts.map((st, i) => ({ st, s: seqs[i]! })).filter((x) => x.st.role === SequencerRole.SEQUENCER_ROLE_MASTER);
      if (masters.length !== 1) return undefined;
      for (const st of sts) assert.ok(st.role === SequencerRole.SEQUENCER_ROLE_MASTER || st.role === SequencerRole.SEQUENCER_ROLE_BACKUP);
      return { master: masters[0]!.s, st: masters[0]!.st };
    },
    WAIT_MS,
    50,
  );
}

let nonce = 0;
function makeTx(): { raw: Uint8Array; id: Uint8Array } {
  const n = nonce++;
  return signTx(
    {
      chainId: CHAIN,
      contract: "payments",
      action: "transfer",
      args: utf8(JSON.stringify({ n })),
      signer: { institutionId: "bank-a", keyId: "k1" },
      nonce: 2_000_000n + BigInt(n),
      validUntilMs: BigInt(Date.now() + 3_600_000),
    },
    [{ institutionId: "bank-a", keyId: "k1", key: bankKey }],
  );
}

/** Publishes txs continuously (a few ms apart) until stop(); every acknowledged TXS sequence is kept. */
function startLoad(names: BusNames): { acked: number[]; stop(): Promise<void> } {
  const acked: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const tx = makeTx();
      const ack = await bus.js.publish(names.txSubject("bank-a"), tx.raw, { msgID: toHex(tx.id) });
      acked.push(ack.seq);
      await new Promise((r) => setTimeout(r, 3));
    }
  })();
  return {
    acked,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Two sequencer processes on a fresh chain under steady load; stops all of it afterwards. */
async function underLoad(run: (names: BusNames, seqs: Seq[], load: ReturnType<typeof startLoad>) => Promise<void>): Promise<void> {
  const names = await newChain();
  const seqs: Seq[] = [await spawnSequencer(names, "seq-a"), await spawnSequencer(names, "seq-b")];
  const load = startLoad(names);
  try {
    await run(names, seqs, load);
  } finally {
    await load.stop();
    for (const s of seqs) {
      s.admin.close();
      await s.proc.stop("SIGTERM");
    }
  }
}

/** Stops the load, waits until every acknowledged tx is in a block, then audits the whole chain. */
async function stopLoadAndAudit(names: BusNames, load: { stop(): Promise<void>; acked: number[] }): Promise<SealedBlock[]> {
  await load.stop();
  const lastAcked = load.acked.at(-1)!;
  await waitFor(
    "every acknowledged tx to be included",
    async () => (await lastBlock(names))!.header.lastTxsSeq >= BigInt(lastAcked),
    WAIT_MS,
    10,
  );
  return audit(names, load.acked);
}

async function lastBlock(names: BusNames): Promise<SealedBlock | undefined> {
  const info = await bus.jsm.streams.info(names.blocksStream);
  if (info.state.last_seq === 0) return undefined;
  const m = await bus.jsm.streams.getMessage(names.blocksStream, { seq: info.state.last_seq });
  return m === null ? undefined : decodeBlock(m.data);
}

async function readBlocks(names: BusNames): Promise<SealedBlock[]> {
  const info = await bus.jsm.streams.info(names.blocksStream);
  const out: SealedBlock[] = [];
  for (let s = 1; s <= info.state.last_seq; s++) {
    const m = await bus.jsm.streams.getMessage(names.blocksStream, { seq: s });
    assert.ok(m !== null, `BLOCKS sequence ${s} is missing`);
    const b = decodeBlock(m.data);
    assert.equal(blockSeqOf(b.header.height), s);
    out.push(b);
  }
  return out;
}

/** Waits for a block cut in an epoch above `epoch` (a new master's), returning it. */
async function waitNewEpochBlock(names: BusNames, epoch: bigint, timeoutMs = WAIT_MS): Promise<SealedBlock> {
  return waitFor(
    `a block in an epoch above ${epoch}`,
    async () => {
      const b = await lastBlock(names);
      return b !== undefined && b.header.height > 0n && b.header.epoch > epoch ? b : undefined;
    },
    timeoutMs,
    5,
  );
}

/**
 * The audit: the chain verifies from genesis (one chain, no fork), every acknowledged TXS
 * sequence is in exactly one block, in order, and epochs never go back (and rise at each change
 * of sequencer). Returns the blocks after genesis.
 */
async function audit(names: BusNames, acked: number[]): Promise<SealedBlock[]> {
  const all = await readBlocks(names);
  verifyChain(all, files.genesis);
  const counts = new Map<bigint, number>();
  let next = 1n;
  let prev: SealedBlock | undefined;
  for (const b of all.slice(1)) {
    const h = b.header;
    assert.equal(h.firstTxsSeq, next, `block ${h.height} starts at TXS ${h.firstTxsSeq}, expected ${next}`);
    assert.equal(h.lastTxsSeq, h.firstTxsSeq + BigInt(h.txCount) - 1n);
    for (let s = h.firstTxsSeq; s <= h.lastTxsSeq; s++) counts.set(s, (counts.get(s) ?? 0) + 1);
    if (prev !== undefined) {
      assert.ok(h.epoch >= prev.header.epoch, `epoch went back at height ${h.height}`);
      if (h.sequencerId !== prev.header.sequencerId)
        assert.ok(h.epoch > prev.header.epoch, `a new sequencer kept epoch ${h.epoch} at height ${h.height}`);
    }
    prev = b;
    next = h.lastTxsSeq + 1n;
  }
  for (const s of acked) assert.equal(counts.get(BigInt(s)), 1, `TXS ${s} is included ${counts.get(BigInt(s)) ?? 0} times`);
  return all.slice(1);
}

describe("Sequencer failover (two processes)", () => {
  test(
    "SIGKILL the master under load, 3 times: the backup takes over, blocks resume, nothing lost or twice, no fork",
    { timeout: 180_000 },
    async () => {
      const names = await newChain();
      const seqs: Seq[] = [await spawnSequencer(names, "seq-a"), await spawnSequencer(names, "seq-b")];
      const load = startLoad(names);
      const takeovers: number[] = [];
      try {
        let { master, st } = await masterOf(seqs);
        await waitNewEpochBlock(names, 0n);
        for (let kill = 1; kill <= 3; kill++) {
          // Let the master cut a few blocks of its own first.
          const before = (await lastBlock(names))!.header.height;
          await waitFor("blocks to flow", async () => (await lastBlock(names))!.header.height > before + 2n, WAIT_MS, 10);
          const killedAt = Date.now();
          await master.proc.stop("SIGKILL");
          const b = await waitNewEpochBlock(names, st.epoch);
          const ms = Date.now() - killedAt;
          takeovers.push(ms);
          assert.notEqual(b.header.sequencerId, master.id, "the killed master's id signed the new block");
          console.log(
            `kill ${kill}: ${master.id} (epoch ${st.epoch}) SIGKILLed; first block of epoch ${b.header.epoch} by ${b.header.sequencerId} after ${ms} ms`,
          );
          // Restart the killed one: it waits for its old presence key to lapse, then joins as a backup.
          const i = seqs.indexOf(master);
          seqs[i] = await spawnSequencer(names, master.id);
          ({ master, st } = await masterOf(seqs));
          assert.equal(st.epoch, b.header.epoch);
          assert.notEqual(master.id, seqs[i].id, "the restarted instance took the lease from a live master");
          // The failover metrics of GetStatus: the new master counts a takeover and the time without a leader.
          assert.ok(st.failovers >= 1, `failovers ${st.failovers}`);
          assert.ok(st.leaderlessMsLast > 0n && st.leaderlessMsTotal >= st.leaderlessMsLast, `leaderless ${st.leaderlessMsLast} ms`);
          assert.ok(st.blocksCut >= 1n, `blocks cut ${st.blocksCut}`);
          console.log(`kill ${kill}: ${master.id} reports failovers ${st.failovers}, leaderless ${st.leaderlessMsLast} ms`);
        }
        const m = master;
        const last = await waitFor(
          "the master to cut two blocks",
          async () => ((await status(m)).blocksCut >= 2n ? status(m) : undefined),
          WAIT_MS,
          20,
        );
        assert.ok(last.blockIntervalMsMean > 0n, `mean block interval ${last.blockIntervalMsMean} ms over ${last.blocksCut} blocks`);
        const blocks = await stopLoadAndAudit(names, load);
        const epochs = new Set(blocks.map((b) => b.header.epoch));
        assert.ok(epochs.size >= 4, `only ${epochs.size} epochs in ${blocks.length} blocks`);
        console.log(
          `takeover after SIGKILL (kill to first new block), ms: ${takeovers.join(", ")}; ${load.acked.length} txs in ${blocks.length} blocks, epochs ${[...epochs].join(", ")}`,
        );
      } finally {
        await load.stop();
        for (const s of seqs) {
          s.admin.close();
          await s.proc.stop("SIGTERM");
        }
      }
    },
  );

  test(
    "SIGTERM on the master: it finishes its block, releases the lease, and the backup takes over at once",
    { timeout: 120_000 },
    async () => {
      await underLoad(async (names, seqs, load) => {
        const { master, st } = await masterOf(seqs);
        await waitNewEpochBlock(names, 0n);
        const t0 = Date.now();
        await master.proc.stop("SIGTERM", 10_000);
        const b = await waitNewEpochBlock(names, st.epoch);
        console.log(
          `graceful handover: ${master.id} SIGTERMed; first block of epoch ${b.header.epoch} by ${b.header.sequencerId} after ${Date.now() - t0} ms (incl. the old master's shutdown)`,
        );
        assert.equal(await master.proc.exited, 0);
        assert.ok(master.proc.lines.some((l) => l.includes("lease released")));
        await stopLoadAndAudit(names, load);
      });
    },
  );

  test(
    "StepDown on the master moves the lead to the backup, which keeps the chain going; garbage is refused",
    { timeout: 120_000 },
    async () => {
      await underLoad(async (names, seqs, load) => {
        const { master, st } = await masterOf(seqs);
        const other = seqs.find((x) => x !== master)!;
        await waitNewEpochBlock(names, 0n);
        const bad = await unary<StepDownResponse>((md, o, cb) => master.admin.stepDown({ holdOffMs: 10_000_000 }, md, o, cb), 2000).catch(
          (e: { code?: number }) => e,
        );
        assert.equal((bad as { code?: number }).code, grpcStatus.INVALID_ARGUMENT);
        assert.equal((await status(master)).role, SequencerRole.SEQUENCER_ROLE_MASTER, "a refused StepDown changes nothing");
        const notMaster = await unary<StepDownResponse>((md, o, cb) => other.admin.stepDown({ holdOffMs: 0 }, md, o, cb), 2000);
        assert.equal(notMaster.wasMaster, false);
        const r = await unary<StepDownResponse>((md, o, cb) => master.admin.stepDown({ holdOffMs: 0 }, md, o, cb), 2000);
        assert.equal(r.wasMaster, true);
        const b = await waitNewEpochBlock(names, st.epoch);
        assert.equal(b.header.sequencerId, other.id, "the backup, not the stepped-down master, cuts the next epoch");
        assert.equal((await status(other)).role, SequencerRole.SEQUENCER_ROLE_MASTER);
        await stopLoadAndAudit(names, load);
      });
    },
  );

  test("a second sequencer started with the same id refuses to start; the first carries on", { timeout: 60_000 }, async () => {
    const names = await newChain();
    const first = await spawnSequencer(names, "seq-a");
    try {
      await masterOf([first]);
      const twin = await spawnSequencer(names, "seq-a", { waitReady: false });
      const code = await waitFor(
        "the twin to exit",
        async () => (twin.proc.running ? undefined : { code: await twin.proc.exited }),
        WAIT_MS,
        20,
      );
      twin.admin.close();
      assert.equal(code.code, 2);
      assert.ok(twin.proc.lines.some((l) => l.includes("refusing to start")));
      assert.equal(first.proc.running, true);
      const st = await status(first);
      assert.equal(st.role, SequencerRole.SEQUENCER_ROLE_MASTER);
    } finally {
      first.admin.close();
      await first.proc.stop("SIGTERM");
    }
  });
});
