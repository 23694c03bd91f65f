// The chaos run of issue 3 (single nats-server slice): a real network with two sequencers under
// steady signed load; the master is SIGKILLed again and again, each time timing kill → first
// block from the new master, and restarted as a backup. At the end every ACCEPTED tx id is held
// to "committed exactly once" and the whole BLOCKS stream to "one chain". With natsCluster the
// network runs on a 3-node JetStream cluster (R3 streams and KV), and between master kills the
// nats-server leading TXS is SIGKILLed too, timing kill → writes and blocks resuming.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blockSeqOf, BlockFollower, busNames, connectBus, type Bus } from "@tally/bus";
import { dropDatabase, openDb, readChainConfigEvents } from "@tally/db";
import { toHex, type SealedBlock } from "@tally/ledger";
import { SequencerAdminServiceClient, SequencerRole, type GetStatusResponse } from "@tally/proto/sequencer";
import { insecure, unary } from "@tally/rpc";
import { signerFromKeyFile, TallyClient } from "@tally/sdk";
import {
  gatewayCredentials,
  LocalNetwork,
  startNatsCluster,
  startNatsServer,
  writeConsortium,
  type ConsortiumPlan,
  type StartedNatsCluster,
} from "@tally/testkit";
import { auditChain, auditCommits, percentile, type ResultRow } from "./audit.js";
import { startLoad } from "./load.js";
import { natsKillSchedule } from "./nats-schedule.js";
import { onInterrupt } from "../interrupt.js";

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
  /** Run on a 3-node nats-server cluster with STREAM_REPLICAS=3 (default: one nats-server). */
  readonly natsCluster?: boolean;
  /** With natsCluster: how many times to SIGKILL the nats-server leading TXS. */
  readonly natsKills?: number;
  /** Longest wait for each NATS recovery step (new leader, new block, rejoin) before it is a finding. */
  readonly natsTimeoutMs?: number;
}

/** One SIGKILL of the nats-server leading the TXS stream. */
export interface NatsKillRow {
  nats_kill: number;
  /** The master kill it followed. */
  after_master_kill: number;
  at: string;
  killed_server: string;
  killed_pid: number;
  txs_last_seq_at_kill: number;
  /** Kill → TXS reports a new leader (not the killed server) and a last sequence past the one at the kill. */
  txs_write_ms: number | null;
  new_txs_leader: string | null;
  /** Kill → first block holding a TXS message written after the kill: nats_kill_recovery_ms. */
  recovery_ms: number | null;
  /** Whether a block of a higher sequencer epoch appeared while NATS recovered (a sequencer failover). */
  sequencer_epoch_changed: boolean;
  /** Restart of the killed server → it is a current TXS replica again. */
  rejoin_ms: number | null;
  finding: string | null;
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
  nats_kill_recovery_ms_max: number | null;
  /** "one nats-server" or "3-node nats-server cluster (R3)". */
  nats: string;
  nats_kills: NatsKillRow[];
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
  const cluster = o.natsCluster === true ? await startNatsCluster(join(dir, "nats"), { size: 3, clusterName: "chaos" }) : undefined;
  const nats = cluster !== undefined ? { url: cluster.urls, stop: () => cluster.stop() } : await startNatsServer(join(dir, "nats"));
  const natsTimeoutMs = o.natsTimeoutMs ?? 60_000;
  const natsSchedule = natsKillSchedule(o.kills, cluster === undefined ? 0 : (o.natsKills ?? 2));
  const dbPrefix = `tally_chaos_${Date.now() % 1_000_000}`;
  writeFileSync(o.rowsFile, "");
  let net: LocalNetwork | undefined;
  let bus: Bus | undefined;
  // Ctrl-C or SIGTERM: stop every process this run started before leaving.
  const offInterrupt = onInterrupt(async () => {
    await net?.stop();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const seqs: Seq[] = [];
  try {
    log(
      `starting a network: 1 validator node, 2 sequencers, ${o.accounts} accounts, ${
        cluster === undefined ? "one nats-server" : "a 3-node nats-server cluster, STREAM_REPLICAS=3"
      } (${nats.url})...`,
    );
    net = await LocalNetwork.start({
      dir,
      plan,
      files,
      natsUrl: nats.url,
      pgAdminUrl: o.pgAdminUrl,
      namespace: "tally",
      databasePrefix: dbPrefix,
      echoLogs: process.env.TALLY_ECHO_LOGS === "1",
      ...(cluster === undefined ? {} : { env: { STREAM_REPLICAS: "3" } }),
    });
    const network = net;
    for (const s of network.endpoints.sequencers) seqs.push({ name: s.id, admin: new SequencerAdminServiceClient(s.admin, insecure()) });
    const gateway = network.endpoints.nodes[0]!.gateway;
    const banks = plan.institutions.filter((i) => i.id.startsWith("bank-")).map((i) => i.id);
    const clearing = new TallyClient(
      gateway,
      plan.chainId,
      signerFromKeyFile(files.keyFiles.get("clearing")!),
      gatewayCredentials(files, "clearing"),
    );
    await Promise.all(banks.map((a) => clearing.submitAndWait(clearing.build("cash", "issue", { to: a, amount: "1000000000000" }))));
    clearing.close();

    bus = await connectBus({ url: nats.url, name: "chaos-audit" });
    const watch = new BlockWatch(bus);
    const load = startLoad({
      gateway,
      chainId: plan.chainId,
      keyFiles: new Map(banks.map((b) => [b, files.keyFiles.get(b)!])),
      credentialsFor: (id) => gatewayCredentials(files, id),
      ratePerSec: o.ratePerSec,
      streams: Math.min(4, banks.length),
    });
    log(
      `load: transfers at ${o.ratePerSec} tx/s over SubmitStreams from ${banks.length} institutions; ${o.kills} master kills, ${o.intervalMs} ms apart`,
    );
    const rows: KillRow[] = [];
    const natsRows: NatsKillRow[] = [];
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
        for (let n = 0; n < (natsSchedule[k - 1] ?? 0) && cluster !== undefined; n++) {
          if (k < o.kills || n > 0) await sleep(o.intervalMs);
          const nr = await killTxsLeader(natsRows.length + 1, k, cluster, bus, watch, natsTimeoutMs);
          natsRows.push(nr);
          appendFileSync(o.rowsFile, JSON.stringify(nr) + "\n");
          if (nr.finding !== null) findings.push(`NATS kill ${nr.nats_kill}: ${nr.finding}`);
          log(
            `NATS kill ${nr.nats_kill}: ${nr.killed_server} (pid ${nr.killed_pid}, TXS leader) → TXS writes on ${nr.new_txs_leader ?? "?"} after ${
              nr.txs_write_ms ?? "—"
            } ms, first new block after ${nr.recovery_ms ?? "—"} ms${nr.sequencer_epoch_changed ? " (sequencer epoch changed)" : ""}; rejoined in ${
              nr.rejoin_ms ?? "?"
            } ms${nr.finding === null ? "" : ` [${nr.finding}]`}`,
          );
        }
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
        const txsInfo = await streamInfo(bus, names.txsStream);
        const txsLast = txsInfo === undefined ? undefined : BigInt(txsInfo.state.last_seq);
        const tip = watch.blocks.at(-1);
        const cp = await db.selectFrom("checkpoint").select(["height"]).executeTakeFirst();
        if (
          txsLast !== undefined &&
          tip !== undefined &&
          tip.header.lastTxsSeq >= txsLast &&
          cp !== undefined &&
          BigInt(cp.height) >= tip.header.height
        )
          break;
        if (Date.now() > drainUntil) {
          findings.push(
            `drain: not complete after 60 s (TXS last ${txsLast ?? "unknown: no TXS leader"}, BLOCKS tip TXS ${tip?.header.lastTxsSeq ?? "-"}, executed height ${cp?.height ?? "-"} of ${tip?.header.height ?? "-"})`,
          );
          break;
        }
        await sleep(100);
      }
      // The audit reads the stream's full length, not just what the watch saw.
      const blocksInfo = await waitStreamInfo(bus, names.blocksStream, 10_000);
      if (blocksInfo === undefined) findings.push("audit: BLOCKS stream info unavailable (no leader?); auditing the blocks seen");
      const blocksLast = blocksInfo?.state.last_seq ?? watch.blocks.length;
      const caught = await watch.waitFor(() => true, Math.max(0, blocksLast - 1), 10_000);
      if (caught === undefined || watch.blocks.length < blocksLast)
        findings.push(`audit: read ${watch.blocks.length} of ${blocksLast} BLOCKS messages`);
      await watch.close();
      const all = watch.blocks.slice(0, blocksLast);
      all.forEach((b, i) => {
        if (blockSeqOf(b.header.height) !== i + 1) findings.push(`audit: BLOCKS sequence ${i + 1} holds height ${b.header.height}`);
      });
      // Signers are judged by the set in force at each height, from node-1's chain-config events.
      const chain = auditChain(all, files.genesis, await readChainConfigEvents(db, BigInt(all.length)));
      findings.push(...chain.forkDetails.slice(0, 10));
      const rs = await db.selectFrom("tx_results").select(["tx_id", "committed"]).execute();
      const results: ResultRow[] = rs.map((r) => ({ txId: toHex(r.tx_id), committed: r.committed }));
      const commits = auditCommits(load.acked, results);
      if (commits.lost > 0) findings.push(`lost (acked, never executed), e.g. ${commits.examples.lost.join(", ")}`);
      if (commits.rejected > 0) findings.push(`acked but not committed, e.g. ${commits.examples.rejected.join(", ")}`);
      if (commits.duplicated > 0) findings.push(`committed more than once, e.g. ${commits.examples.duplicated.join(", ")}`);

      const natsRecovered = natsRows.flatMap((r) => (r.recovery_ms === null ? [] : [r.recovery_ms]));
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
        nats_kill_recovery_ms_max: natsRecovered.length === 0 ? null : Math.max(...natsRecovered),
        nats: cluster === undefined ? "one nats-server" : "3-node nats-server cluster (R3)",
        nats_kills: natsRows,
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
        note:
          cluster === undefined
            ? "single nats-server: no NATS kills (nats_kill_recovery_ms_max is null); --nats-cluster runs on a 3-node cluster and kills the TXS leader"
            : `3-node nats-server cluster on loopback, R3 streams and KV; ${natsRows.length} SIGKILLs of the TXS stream leader, ${natsRecovered.length} recovered within ${natsTimeoutMs} ms`,
      };
    } finally {
      await db.destroy();
    }
  } finally {
    offInterrupt();
    for (const s of seqs) s.admin.close();
    await bus?.nc.close();
    await net?.stop();
    await nats.stop();
    await dropDatabase(o.pgAdminUrl, `${dbPrefix}_node_1`).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

type StreamInfoOf = Awaited<ReturnType<Bus["jsm"]["streams"]["info"]>>;

/** A stream's info, or undefined when JetStream does not answer (no leader, timeout). */
async function streamInfo(bus: Bus, stream: string): Promise<StreamInfoOf | undefined> {
  try {
    return await bus.jsm.streams.info(stream);
  } catch {
    return undefined;
  }
}

/** streamInfo, retried until it answers, at most timeoutMs. */
async function waitStreamInfo(bus: Bus, stream: string, timeoutMs: number): Promise<StreamInfoOf | undefined> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const i = await streamInfo(bus, stream);
    if (i !== undefined || Date.now() > until) return i;
    await sleep(100);
  }
}

/**
 * SIGKILLs the nats-server leading TXS, then (each wait bounded by timeoutMs) times kill → a new
 * TXS leader with a write past the kill, and kill → the first block holding such a write;
 * restarts the server and waits until it is a current TXS replica again. Never throws for a
 * NATS fault: a wait that runs out is a finding on the row.
 */
async function killTxsLeader(
  n: number,
  afterMasterKill: number,
  cluster: StartedNatsCluster,
  bus: Bus,
  watch: BlockWatch,
  timeoutMs: number,
): Promise<NatsKillRow> {
  const txs = busNames("tally").txsStream;
  const row: NatsKillRow = {
    nats_kill: n,
    after_master_kill: afterMasterKill,
    at: new Date().toISOString(),
    killed_server: "",
    killed_pid: -1,
    txs_last_seq_at_kill: 0,
    txs_write_ms: null,
    new_txs_leader: null,
    recovery_ms: null,
    sequencer_epoch_changed: false,
    rejoin_ms: null,
    finding: null,
  };
  const finding = (f: string): void => {
    row.finding = [row.finding, f].filter((x) => x !== null).join("; ");
  };
  const before = await waitStreamInfo(bus, txs, timeoutMs);
  const leader = before?.cluster?.leader;
  const i = cluster.servers.findIndex((s) => s.name === leader);
  const server = cluster.servers[i];
  if (before === undefined || server === undefined) {
    finding(`no TXS stream leader known among ${cluster.servers.map((s) => s.name).join(", ")} (leader: ${leader ?? "none"}); not killed`);
    return row;
  }
  const epochAtKill = watch.blocks.at(-1)?.header.epoch ?? 0n;
  const from = watch.blocks.length;
  row.killed_server = server.name;
  row.killed_pid = server.process.pid;
  row.txs_last_seq_at_kill = before.state.last_seq;
  const killedAt = Date.now();
  row.at = new Date(killedAt).toISOString();
  await cluster.kill(i);
  const writes = (async () => {
    const until = killedAt + timeoutMs;
    while (Date.now() < until) {
      const inf = await streamInfo(bus, txs);
      const l = inf?.cluster?.leader;
      if (inf !== undefined && l !== undefined && l !== server.name && inf.state.last_seq > before.state.last_seq) {
        row.txs_write_ms = Date.now() - killedAt;
        row.new_txs_leader = l;
        return;
      }
      await sleep(50);
    }
  })();
  const block = watch.waitFor((b) => b.header.lastTxsSeq > BigInt(before.state.last_seq), from, timeoutMs);
  const [, first] = await Promise.all([writes, block]);
  if (first !== undefined) row.recovery_ms = first.atMs - killedAt;
  row.sequencer_epoch_changed = watch.blocks.slice(from).some((b) => b.header.epoch > epochAtKill);
  if (row.txs_write_ms === null) finding(`no new TXS leader taking writes within ${timeoutMs} ms of the kill (stuck election?)`);
  if (row.recovery_ms === null) finding(`no block with a post-kill TXS message within ${timeoutMs} ms of the kill`);
  const restartAt = Date.now();
  try {
    await cluster.restart(i);
    const until = Date.now() + timeoutMs;
    for (;;) {
      const inf = await streamInfo(bus, txs);
      const c = inf?.cluster;
      if (c !== undefined && (c.leader === server.name || (c.replicas ?? []).some((r) => r.name === server.name && r.current))) {
        row.rejoin_ms = Date.now() - restartAt;
        break;
      }
      if (Date.now() > until) {
        finding(`restarted ${server.name} not a current TXS replica within ${timeoutMs} ms`);
        break;
      }
      await sleep(100);
    }
  } catch (e) {
    finding(`restart of ${server.name} failed: ${(e as Error).message.split("\n")[0]}`);
  }
  return row;
}
