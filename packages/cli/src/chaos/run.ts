// The chaos run of issue 3 (single nats-server slice): a real network with two sequencers under
// steady signed load; the master is SIGKILLed again and again, each time timing kill → first
// block from the new master, and restarted as a backup. At the end every ACCEPTED tx id is held
// to "committed exactly once" and the whole BLOCKS stream to "one chain".
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blockSeqOf, BlockFollower, busNames, connectBus, type Bus } from "@tally/bus";
import { dropDatabase, openDb } from "@tally/db";
import { toHex, type SealedBlock } from "@tally/ledger";
import { SequencerAdminServiceClient, SequencerRole, type GetStatusResponse } from "@tally/proto/sequencer";
import { insecure, unary } from "@tally/rpc";
import { signerFromKeyFile, TallyClient } from "@tally/sdk";
import { LocalNetwork, startNatsServer, writeConsortium, type ConsortiumPlan } from "@tally/testkit";
import { auditChain, auditCommits, percentile, type ResultRow } from "./audit.js";
import { startLoad } from "./load.js";

export interface ChaosOptions {
  readonly kills: number;
  readonly intervalMs: number;
  readonly ratePerSec: number;
  readonly accounts: number;
  /** Where the per-kill rows go (JSON lines); the file is truncated first. */
  readonly rowsFile: string;
  readonly pgAdminUrl: string;
  /** Longest wait for a new master's first block before the kill is reported as a finding. */
  readonly failoverTimeoutMs: number;
}

/** One kill. */
export interface KillRow {
  kill: number;
  at: string;
  killed: string;
  killed_pid: number;
  old_epoch: string;
  /** Kill (signal sent) → first block of a higher epoch seen on BLOCKS; null when none came in time. */
  failover_ms: number | null;
  new_master: string | null;
  new_epoch: string | null;
  first_new_height: string | null;
  /** Restart of the killed sequencer until it reports BACKUP; null if it did not. */
  restart_ms: number | null;
  finding: string | null;
}

/** The run's results: the JSON line's keys. */
export interface ChaosResult {
  kills: number;
  failover_ms_p50: number | null;
  failover_ms_p99: number | null;
  failover_ms_max: number | null;
  failovers_timed_out: number;
  nats_kill_recovery_ms_max: null;
  acked: number;
  committed: number;
  lost: number;
  rejected: number;
  duplicated: number;
  forks: number;
  txs_included_twice: number;
  txs_gaps: number;
  blocks: number;
  epochs: number;
  submitted: number;
  refused_by_reason: Record<string, number>;
  offered_tps: number;
  tps_during_run: number;
  run_s: number;
  rows_file: string;
  findings: string[];
  note: string;
}

const STATUS_TIMEOUT_MS = 1000;
const STEP_TIMEOUT_MS = 30_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function planFor(accounts: number): ConsortiumPlan {
  const banks = Array.from({ length: accounts }, (_, i) => `bank-${i + 1}`);
  return {
    chainId: "tally-chaos",
    institutions: [
      { id: "clearing", name: "Clearing House", roles: ["clearing"], node: "node-1" },
      ...banks.map((id) => ({ id, name: id, roles: ["bank"], node: "node-1" })),
    ],
    nodes: [{ id: "node-1", institution: "clearing" }],
    sequencers: [
      { id: "seq-1", institution: "clearing" },
      { id: "seq-2", institution: "clearing" },
    ],
  };
}

/** Every block on BLOCKS as it lands, with the time it was seen. */
class BlockWatch {
  readonly blocks: SealedBlock[] = [];
  readonly seenAtMs: number[] = [];
  private readonly follower: BlockFollower;
  private readonly done: Promise<void>;
  failure: Error | undefined;

  constructor(bus: Bus) {
    const follower = new BlockFollower(bus, busNames("tally"));
    this.follower = follower;
    this.done = (async () => {
      try {
        for await (const b of follower.follow(0n)) {
          this.blocks.push(b);
          this.seenAtMs.push(Date.now());
        }
      } catch (e) {
        this.failure = e as Error;
      }
    })();
  }

  /** The first block at or after index `from` matching pred, waiting at most timeoutMs. */
  async waitFor(
    pred: (b: SealedBlock) => boolean,
    from: number,
    timeoutMs: number,
  ): Promise<{ block: SealedBlock; atMs: number } | undefined> {
    const until = Date.now() + timeoutMs;
    let i = from;
    for (;;) {
      for (; i < this.blocks.length; i++) if (pred(this.blocks[i]!)) return { block: this.blocks[i]!, atMs: this.seenAtMs[i]! };
      if (Date.now() > until || this.failure !== undefined) return undefined;
      await sleep(2);
    }
  }

  async close(): Promise<void> {
    await this.follower.close();
    await Promise.race([this.done, sleep(2000)]);
  }
}

interface Seq {
  readonly name: string;
  readonly admin: InstanceType<typeof SequencerAdminServiceClient>;
}

async function statusOf(s: Seq): Promise<GetStatusResponse | undefined> {
  try {
    return await unary<GetStatusResponse>((md, o, cb) => s.admin.getStatus({}, md, o, cb), STATUS_TIMEOUT_MS);
  } catch {
    return undefined;
  }
}

/** The one running sequencer reporting MASTER (polling, bounded); undefined if none within timeoutMs. */
async function findMaster(seqs: readonly Seq[], timeoutMs: number): Promise<{ seq: Seq; st: GetStatusResponse } | undefined> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const sts = await Promise.all(seqs.map((s) => statusOf(s)));
    const masters = seqs.flatMap((s, i) => (sts[i]?.role === SequencerRole.SEQUENCER_ROLE_MASTER ? [{ seq: s, st: sts[i] }] : []));
    if (masters.length === 1) return masters[0];
    await sleep(50);
  }
  return undefined;
}

export async function runChaos(o: ChaosOptions, log: (s: string) => void): Promise<ChaosResult> {
  const dir = mkdtempSync(join(tmpdir(), "tally-chaos-"));
  const plan = planFor(o.accounts);
  const files = writeConsortium(dir, plan, Date.now());
  const nats = await startNatsServer(join(dir, "nats"));
  const dbPrefix = `tally_chaos_${Date.now() % 1_000_000}`;
  writeFileSync(o.rowsFile, "");
  let net: LocalNetwork | undefined;
  let bus: Bus | undefined;
  const onSignal = (): void => {
    void (async () => {
      await net?.stop();
      await nats.stop();
      rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    })();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const seqs: Seq[] = [];
  try {
    log(`starting a network: 1 validator node, 2 sequencers, ${o.accounts} accounts, one nats-server (${nats.url})...`);
    net = await LocalNetwork.start({
      dir,
      plan,
      files,
      natsUrl: nats.url,
      pgAdminUrl: o.pgAdminUrl,
      namespace: "tally",
      databasePrefix: dbPrefix,
    });
    const network = net;
    for (const s of network.endpoints.sequencers) seqs.push({ name: s.id, admin: new SequencerAdminServiceClient(s.admin, insecure()) });
    const gateway = network.endpoints.nodes[0]!.gateway;
    const banks = plan.institutions.filter((i) => i.id.startsWith("bank-")).map((i) => i.id);
    const clearing = new TallyClient(gateway, plan.chainId, signerFromKeyFile(files.keyFiles.get("clearing")!));
    await Promise.all(banks.map((a) => clearing.submitAndWait(clearing.build("cash", "issue", { to: a, amount: "1000000000000" }))));
    clearing.close();

    bus = await connectBus({ url: nats.url, name: "chaos-audit" });
    const watch = new BlockWatch(bus);
    const load = startLoad({
      gateway,
      chainId: plan.chainId,
      keyFiles: new Map(banks.map((b) => [b, files.keyFiles.get(b)!])),
      ratePerSec: o.ratePerSec,
      streams: Math.min(4, banks.length),
    });
    log(
      `load: transfers at ${o.ratePerSec} tx/s over SubmitStreams from ${banks.length} institutions; ${o.kills} master kills, ${o.intervalMs} ms apart`,
    );
    const rows: KillRow[] = [];
    const findings: string[] = [];
    let loadWindow: { startMs: number; stopMs: number } | undefined;
    try {
      for (let k = 1; k <= o.kills; k++) {
        const found = await findMaster(seqs, STEP_TIMEOUT_MS);
        if (found === undefined) {
          findings.push(`kill ${k}: no single master among ${seqs.map((s) => s.name).join(", ")} within ${STEP_TIMEOUT_MS} ms; stopping`);
          break;
        }
        const { seq: master, st } = found;
        // The master must be cutting before it is killed: wait for one of its blocks.
        const mine = await watch.waitFor((b) => b.header.epoch === st.epoch && b.header.height > 0n, 0, STEP_TIMEOUT_MS);
        if (mine === undefined) findings.push(`kill ${k}: ${master.name} reported MASTER in epoch ${st.epoch} but cut no block`);
        const proc = network.processes.get(master.name)!;
        const pid = proc.pid;
        const from = watch.blocks.length;
        const killedAt = Date.now();
        await proc.stop("SIGKILL");
        const next = await watch.waitFor((b) => b.header.epoch > st.epoch, from, o.failoverTimeoutMs);
        const row: KillRow = {
          kill: k,
          at: new Date(killedAt).toISOString(),
          killed: master.name,
          killed_pid: pid,
          old_epoch: String(st.epoch),
          failover_ms: next === undefined ? null : next.atMs - killedAt,
          new_master: next?.block.header.sequencerId ?? null,
          new_epoch: next === undefined ? null : String(next.block.header.epoch),
          first_new_height: next === undefined ? null : String(next.block.header.height),
          restart_ms: null,
          finding: null,
        };
        if (next === undefined) row.finding = `no block from a new master within ${o.failoverTimeoutMs} ms of the kill`;
        else if (next.block.header.sequencerId === master.name)
          row.finding = `the first block of epoch ${next.block.header.epoch} was signed by the killed id`;
        // Restart the killed one; it must come back as a backup.
        const restartAt = Date.now();
        try {
          await network.startOne(master.name);
          const until = Date.now() + STEP_TIMEOUT_MS;
          for (;;) {
            const s = await statusOf(master);
            if (s?.role === SequencerRole.SEQUENCER_ROLE_BACKUP) {
              row.restart_ms = Date.now() - restartAt;
              break;
            }
            if (s?.role === SequencerRole.SEQUENCER_ROLE_MASTER && next !== undefined) {
              row.finding = [row.finding, "the restarted sequencer came back as MASTER while the other led"].filter((x) => x).join("; ");
              break;
            }
            if (Date.now() > until) {
              row.finding = [row.finding, `restarted ${master.name} did not report BACKUP within ${STEP_TIMEOUT_MS} ms`]
                .filter((x) => x)
                .join("; ");
              break;
            }
            await sleep(50);
          }
        } catch (e) {
          row.finding = [row.finding, `restart failed: ${(e as Error).message.split("\n")[0]}`].filter((x) => x).join("; ");
        }
        rows.push(row);
        appendFileSync(o.rowsFile, JSON.stringify(row) + "\n");
        if (row.finding !== null) findings.push(`kill ${k}: ${row.finding}`);
        log(
          `kill ${String(k).padStart(2)}: ${master.name} (pid ${pid}, epoch ${st.epoch}) → ${
            next === undefined ? "NO NEW BLOCK" : `${row.new_master} epoch ${row.new_epoch} after ${row.failover_ms} ms`
          }; restarted as backup in ${row.restart_ms ?? "?"} ms${row.finding === null ? "" : ` [${row.finding}]`}`,
        );
        if (k < o.kills) await sleep(o.intervalMs);
      }
    } finally {
      loadWindow = await load.stop();
    }
    log(`load stopped: ${load.submitted()} submitted, ${load.acked.size} ACCEPTED; waiting for the network to drain...`);

    // Drain (bounded): every TXS message included in a block, and node-1 executed up to the tip.
    const names = busNames("tally");
    const db = openDb(network.endpoints.nodes[0]!.database, { poolMax: 2 });
    try {
      const drainUntil = Date.now() + 60_000;
      for (;;) {
        const txsLast = BigInt((await bus.jsm.streams.info(names.txsStream)).state.last_seq);
        const tip = watch.blocks.at(-1);
        const cp = await db.selectFrom("checkpoint").select(["height"]).executeTakeFirst();
        if (tip !== undefined && tip.header.lastTxsSeq >= txsLast && cp !== undefined && BigInt(cp.height) >= tip.header.height) break;
        if (Date.now() > drainUntil) {
          findings.push(
            `drain: not complete after 60 s (TXS last ${txsLast}, BLOCKS tip TXS ${tip?.header.lastTxsSeq ?? "-"}, executed height ${cp?.height ?? "-"} of ${tip?.header.height ?? "-"})`,
          );
          break;
        }
        await sleep(100);
      }
      // The audit reads the stream's full length, not just what the watch saw.
      const blocksLast = (await bus.jsm.streams.info(names.blocksStream)).state.last_seq;
      const caught = await watch.waitFor(() => true, Math.max(0, blocksLast - 1), 10_000);
      if (caught === undefined || watch.blocks.length < blocksLast)
        findings.push(`audit: read ${watch.blocks.length} of ${blocksLast} BLOCKS messages`);
      await watch.close();
      const all = watch.blocks.slice(0, blocksLast);
      all.forEach((b, i) => {
        if (blockSeqOf(b.header.height) !== i + 1) findings.push(`audit: BLOCKS sequence ${i + 1} holds height ${b.header.height}`);
      });
      const chain = auditChain(all, files.genesis);
      findings.push(...chain.forkDetails.slice(0, 10));
      const rs = await db.selectFrom("tx_results").select(["tx_id", "committed"]).execute();
      const results: ResultRow[] = rs.map((r) => ({ txId: toHex(r.tx_id), committed: r.committed }));
      const commits = auditCommits(load.acked, results);
      if (commits.lost > 0) findings.push(`lost (acked, never executed), e.g. ${commits.examples.lost.join(", ")}`);
      if (commits.rejected > 0) findings.push(`acked but not committed, e.g. ${commits.examples.rejected.join(", ")}`);
      if (commits.duplicated > 0) findings.push(`committed more than once, e.g. ${commits.examples.duplicated.join(", ")}`);

      const fo = rows.flatMap((r) => (r.failover_ms === null ? [] : [r.failover_ms]));
      const runMs = loadWindow.stopMs - loadWindow.startMs;
      let txsInWindow = 0;
      watch.seenAtMs.forEach((t, i) => {
        if (t >= loadWindow.startMs && t <= loadWindow.stopMs) txsInWindow += watch.blocks[i]!.header.txCount;
      });
      return {
        kills: rows.length,
        failover_ms_p50: fo.length === 0 ? null : percentile(fo, 50),
        failover_ms_p99: fo.length === 0 ? null : percentile(fo, 99),
        failover_ms_max: fo.length === 0 ? null : Math.max(...fo),
        failovers_timed_out: rows.filter((r) => r.failover_ms === null).length,
        nats_kill_recovery_ms_max: null,
        acked: commits.acked,
        committed: commits.committed,
        lost: commits.lost,
        rejected: commits.rejected,
        duplicated: commits.duplicated,
        forks: chain.forks,
        txs_included_twice: chain.txsIncludedTwice,
        txs_gaps: chain.txsGaps,
        blocks: chain.blocks,
        epochs: chain.epochs.length,
        submitted: load.submitted(),
        refused_by_reason: Object.fromEntries(load.refusedByReason),
        offered_tps: o.ratePerSec,
        tps_during_run: Math.round((txsInWindow * 10_000) / runMs) / 10,
        run_s: Math.round(runMs / 100) / 10,
        rows_file: o.rowsFile,
        findings,
        note: "single nats-server: no NATS kills yet (nats_kill_recovery_ms_max is null); the 3-node NATS cluster and its kills are a later slice",
      };
    } finally {
      await db.destroy();
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    for (const s of seqs) s.admin.close();
    await bus?.nc.close();
    await net?.stop();
    await nats.stop();
    await dropDatabase(o.pgAdminUrl, `${dbPrefix}_node_1`).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
