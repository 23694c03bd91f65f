import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, freemem, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { DeliverPolicy } from "@nats-io/jetstream";
import { Receipt, ReceiptBody, TxOutcome } from "@tally/proto/types";
import { busNames, connectBus } from "@tally/bus";
import { dropDatabase, openDb } from "@tally/db";
import { toHex } from "@tally/ledger";
import { signerFromKeyFile, TallyClient } from "@tally/sdk";
import type { TlsFiles } from "@tally/rpc";
import { gatewayCredentials, LocalNetwork, startNatsServer, writeConsortium, type ConsortiumPlan } from "@tally/testkit";
import { measureCeilings, type Ceilings } from "./ceilings.js";
import type { FeedConfig, FeedReport } from "./feed-subscriber.js";
import { percentilesOf, type Percentiles } from "./histogram.js";
import type { ClientConfig, ClientRecord } from "./load-client.js";
import { RssSampler, sampleProcess } from "./process-stats.js";
import { onInterrupt } from "../interrupt.js";

/** Bench options (see `tally bench --help`). */
export interface BenchOptions {
  readonly workload: "transfer" | "notarize" | "query" | "mixed" | "bill-lifecycle";
  readonly submitMode: "stream" | "unary";
  readonly durationSec: number;
  /** Offered tx/s in total; 0 for the open-loop maximum. */
  readonly rate: number;
  readonly nodes: number;
  readonly clients: number;
  readonly accounts: number;
  readonly json: boolean;
  readonly pgAdminUrl: string;
  /** gRPC subscribers on node-1's regulator feed during the load (0: no feed measured). */
  readonly feedSubscribers: number;
  /** Events per StreamEvents response for those subscribers (0: one per response). */
  readonly feedBatchMax?: number;
}

/** One run's results. The JSON line carries these keys. */
export interface BenchResult {
  workload: string;
  submit_mode: string;
  nodes: number;
  duration_s: number;
  offered_tps: number | "max";
  submitted: number;
  accepted: number;
  refused: number;
  refused_by_reason: Record<string, number>;
  client_overloaded: number;
  committed: number;
  rejected: number;
  lost: number;
  accepted_tps: number;
  committed_tps: number;
  p50_accept_ms: number;
  p95_accept_ms: number;
  p99_accept_ms: number;
  max_accept_ms: number;
  p50_commit_ms: number;
  p95_commit_ms: number;
  p99_commit_ms: number;
  max_commit_ms: number;
  /** Submit → FINAL: the height's receipts from more than 2/3 of the validator nodes agree (the default quorum). */
  p50_final_ms: number;
  p95_final_ms: number;
  p99_final_ms: number;
  max_final_ms: number;
  verifies_per_tx: number;
  verify_1core_per_s: number;
  verify_2core_per_s: number;
  verify_ceiling_tps: number;
  efficiency: number;
  jetstream_publish_per_s: number;
  pg_insert_rows_per_s: number;
  services: Record<string, { cpu_pct: number; rss_mb: number }>;
  /** RSS per service sampled every 2 s: after the warm-up (first fifth, at least 10 s) and at the end. */
  memory?: Record<string, { after_warmup_mb: number; end_mb: number; growth_pct: number }>;
  /** The largest of those growths, % (the target: under 10 over a 5-minute run). */
  max_rss_growth_pct?: number;
  machine: string;
  /** With --feed N: COMMITTED → event at a gRPC subscriber, and each subscriber's lag over the run. */
  feed?: {
    subscribers: number;
    events: number;
    p50_feed_ms: number;
    p95_feed_ms: number;
    p99_feed_ms: number;
    max_feed_ms: number;
    /** The worst subscriber's least-squares lag slope, heights per second (0: no growth). */
    max_lag_slope_heights_per_s: number;
    max_lag_heights: number;
    /** Mean lag in the first and last thirds of the run, worst subscriber. */
    lag_first_third_heights: number;
    lag_last_third_heights: number;
    errors: string[];
  };
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

function planFor(o: BenchOptions): ConsortiumPlan {
  const banks = Array.from({ length: o.accounts }, (_, i) => `bank-${i + 1}`);
  return {
    chainId: "tally-bench",
    institutions: [
      { id: "clearing", name: "Clearing House", roles: ["clearing"], node: "node-1" },
      // Banks that also act as enterprises, so the mixed workload can draw bills and register receivables.
      ...banks.map((id) => ({ id, name: id, roles: ["bank", "enterprise"], node: "node-1" })),
      ...Array.from({ length: o.nodes - 1 }, (_, i) => ({
        id: `validator-${i + 2}`,
        name: `Validator ${i + 2}`,
        roles: ["bank"],
        node: `node-${i + 2}`,
      })),
    ],
    nodes: Array.from({ length: o.nodes }, (_, i) => ({
      id: `node-${i + 1}`,
      institution: i === 0 ? "clearing" : `validator-${i + 1}`,
      // With --feed, node-1 also runs the regulator feed (and announces events on NATS).
      ...(i === 0 && o.feedSubscribers > 0 ? { regfeed: true } : {}),
    })),
    // A master and a hot backup, as in production.
    sequencers: [
      { id: "seq-1", institution: "clearing" },
      { id: "seq-2", institution: "clearing" },
    ],
  };
}

/**
 * Runs one benchmark: measures the machine's ceilings, starts a real network (its own
 * nats-server, PostgreSQL, every service as a process), funds the accounts, drives signed
 * load from client processes, and follows node-1's receipts to time each commit.
 */
export async function runBench(o: BenchOptions, log: (s: string) => void): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "tally-bench-"));
  const plan = planFor(o);
  const files = writeConsortium(dir, plan, Date.now());
  const nats = await startNatsServer(join(dir, "nats"));
  const dbPrefix = `tally_bench_${Date.now() % 1_000_000}`;
  let net: LocalNetwork | undefined;
  // Ctrl-C or SIGTERM: stop every process this run started before leaving.
  const offInterrupt = onInterrupt(async () => {
    await net?.stop();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    log("measuring the machine's ceilings (Ed25519 verify, JetStream publish, PostgreSQL insert)...");
    const ceilings = await measureCeilings({ natsUrl: nats.url, pgAdminUrl: o.pgAdminUrl, msgBytes: 300 });
    log(`starting a network: ${o.nodes} validator node(s), 2 sequencers (master and backup), ${o.accounts} accounts...`);
    net = await LocalNetwork.start({
      dir,
      plan,
      files,
      natsUrl: nats.url,
      pgAdminUrl: o.pgAdminUrl,
      namespace: "tally",
      databasePrefix: dbPrefix,
    });
    const gateway = net.endpoints.nodes[0]!.gateway;
    const accounts = plan.institutions.filter((i) => i.id.startsWith("bank-")).map((i) => i.id);
    const clearing = new TallyClient(
      gateway,
      plan.chainId,
      signerFromKeyFile(files.keyFiles.get("clearing")!),
      gatewayCredentials(files, "clearing"),
    );
    await Promise.all(accounts.map((a) => clearing.submitAndWait(clearing.build("cash", "issue", { to: a, amount: "1000000000000" }))));
    clearing.close();

    const commits = await followCommits(
      nats.url,
      "node-1",
      plan.nodes.map((n) => n.id),
    );
    const feed = o.feedSubscribers > 0 ? await startFeedSubscribers(net, o.feedSubscribers, o.feedBatchMax ?? 0) : undefined;
    const clients = await startClients(
      o,
      gateway,
      plan.chainId,
      accounts,
      (id) => files.keyFiles.get(id)!,
      (id) => files.tls?.clients.get(id),
    );
    const pids = new Map([...net.processes].map(([name, p]) => [name, p.pid]));
    const before = new Map([...pids].map(([name, pid]) => [name, sampleProcess(pid)]));
    const rss = new RssSampler(pids, 2000);
    const t0 = performance.timeOrigin + performance.now();
    log(
      `load: ${o.workload} at ${o.rate === 0 ? "the open-loop maximum" : `${o.rate} tx/s`} for ${o.durationSec} s from ${o.clients} client processes...`,
    );
    const outcome = await clients.run();
    const t1 = performance.timeOrigin + performance.now();
    const after = new Map([...pids].map(([name, pid]) => [name, sampleProcess(pid)]));
    // Warm-up: the first fifth of the run, at least 10 s (connections, JIT, pools, caches).
    const memory = rss.stop(Math.max(10_000, (o.durationSec * 1000) / 5));

    const accepted = outcome.records.filter((r) => r.error === "" && r.id !== "");
    // Wait (bounded) for every accepted tx to commit before counting anything as lost.
    if (o.workload !== "query") {
      const drainUntil = Date.now() + 30_000;
      while (Date.now() < drainUntil && accepted.some((r) => !commits.seen.has(r.id))) await new Promise((r) => setTimeout(r, 100));
      // And (bounded) for the last heights to become final.
      let lastHeight = 0;
      for (const c of commits.seen.values()) if (c.height > lastHeight) lastHeight = c.height;
      while (Date.now() < drainUntil + 10_000 && !commits.finalAt.has(lastHeight)) await new Promise((r) => setTimeout(r, 100));
    }
    await commits.close();
    const feedReport = await feed?.stop();

    const commitLat: number[] = [];
    const finalLat: number[] = [];
    let committed = 0;
    let rejected = 0;
    let lastCommitMs = t0;
    for (const r of accepted) {
      const c = commits.seen.get(r.id);
      if (c === undefined) continue;
      if (c.ok) committed++;
      else rejected++;
      commitLat.push(c.atMs - r.submitMs);
      const f = commits.finalAt.get(c.height);
      if (f !== undefined) finalLat.push(f - r.submitMs);
      lastCommitMs = Math.max(lastCommitMs, c.atMs);
    }
    const ok = outcome.records.filter((r) => r.error === "");
    const acceptP = percentilesOf(ok.map((r) => r.acceptMs - r.submitMs));
    const commitP: Percentiles = percentilesOf(commitLat);
    const finalP: Percentiles = percentilesOf(finalLat);
    const spanS = (lastCommitMs - outcome.startMs) / 1000;
    const verifiesPerTx = o.workload === "query" ? 0 : 1 + o.nodes;
    const verifyCeiling = verifiesPerTx === 0 ? 0 : ceilings.verify2CoresPerSec / verifiesPerTx;
    const committedTps = o.workload === "query" ? ok.length / ((t1 - t0) / 1000) : (committed + rejected) / Math.max(spanS, 0.001);
    const services: BenchResult["services"] = {};
    for (const [name] of pids) {
      const b = before.get(name);
      const a = after.get(name);
      if (b !== undefined && a !== undefined)
        services[name] = {
          cpu_pct: round(((a.cpuSeconds - b.cpuSeconds) * 100) / ((t1 - t0) / 1000)),
          rss_mb: round(a.rssBytes / 2 ** 20),
        };
    }
    const r = result(
      o,
      outcome,
      accepted.length,
      committed,
      rejected,
      acceptP,
      commitP,
      finalP,
      committedTps,
      verifiesPerTx,
      verifyCeiling,
      ceilings,
      services,
    );
    if (feedReport !== undefined) r.feed = feedSummary(o.feedSubscribers, feedReport);
    r.memory = memory;
    r.max_rss_growth_pct = Math.max(0, ...Object.values(memory).map((m) => m.growth_pct));
    return r;
  } finally {
    offInterrupt();
    await net?.stop();
    await nats.stop();
    for (let i = 1; i <= o.nodes; i++) await dropDatabase(o.pgAdminUrl, `${dbPrefix}_node_${i}`).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

function result(
  o: BenchOptions,
  outcome: ClientsOutcome,
  acceptedCount: number,
  committed: number,
  rejected: number,
  acceptP: Percentiles,
  commitP: Percentiles,
  finalP: Percentiles,
  committedTps: number,
  verifiesPerTx: number,
  verifyCeiling: number,
  c: Ceilings,
  services: BenchResult["services"],
): BenchResult {
  const refused = outcome.records.filter((r) => r.error !== "").length;
  const refusedByReason: Record<string, number> = {};
  for (const r of outcome.records) if (r.error !== "") refusedByReason[r.error] = (refusedByReason[r.error] ?? 0) + 1;
  return {
    workload: o.workload,
    submit_mode: o.workload === "query" ? "query" : o.submitMode,
    nodes: o.nodes,
    duration_s: o.durationSec,
    offered_tps: o.rate === 0 ? "max" : o.rate,
    submitted: outcome.records.length + outcome.overloaded,
    accepted: o.workload === "query" ? 0 : acceptedCount,
    refused,
    refused_by_reason: refusedByReason,
    client_overloaded: outcome.overloaded,
    committed,
    rejected,
    lost: o.workload === "query" ? 0 : acceptedCount - committed - rejected,
    accepted_tps: round(acceptedCount / o.durationSec),
    committed_tps: round(committedTps),
    p50_accept_ms: round(acceptP.p50, 2),
    p95_accept_ms: round(acceptP.p95, 2),
    p99_accept_ms: round(acceptP.p99, 2),
    max_accept_ms: round(acceptP.max, 2),
    p50_commit_ms: round(commitP.p50, 2),
    p95_commit_ms: round(commitP.p95, 2),
    p99_commit_ms: round(commitP.p99, 2),
    max_commit_ms: round(commitP.max, 2),
    p50_final_ms: round(finalP.p50, 2),
    p95_final_ms: round(finalP.p95, 2),
    p99_final_ms: round(finalP.p99, 2),
    max_final_ms: round(finalP.max, 2),
    verifies_per_tx: verifiesPerTx,
    verify_1core_per_s: Math.round(c.verify1CorePerSec),
    verify_2core_per_s: Math.round(c.verify2CoresPerSec),
    verify_ceiling_tps: Math.round(verifyCeiling),
    efficiency: verifyCeiling === 0 ? 0 : round(committedTps / verifyCeiling, 3),
    jetstream_publish_per_s: Math.round(c.jetstreamPublishPerSec),
    pg_insert_rows_per_s: Math.round(c.pgInsertRowsPerSec),
    services,
    machine: `${cpus().length} cpu ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB (${Math.round(freemem() / 2 ** 30)} free), node ${process.version}`,
  };
}

/** Starts the feed subscriber process on node-1's regfeed, from node-1's committed height. */
async function startFeedSubscribers(net: LocalNetwork, subscribers: number, batchMax: number): Promise<{ stop(): Promise<FeedReport> }> {
  const node = net.endpoints.nodes[0]!;
  const db = openDb(node.database, { poolMax: 1 });
  const cp = await db.selectFrom("checkpoint").select("height").where("id", "=", 1).executeTakeFirst();
  await db.destroy();
  const cfg: FeedConfig = {
    regfeed: net.endpoints.regfeed,
    databaseUrl: node.database,
    subscribers,
    afterHeight: (cp?.height ?? 0n).toString(),
    sampleMs: 1000,
    batchMax,
  };
  const p = fork(new URL("./feed-subscriber.js", import.meta.url), [], {
    env: { ...process.env, BENCH_FEED_CONFIG: JSON.stringify(cfg) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  await new Promise<void>((resolve, reject) => {
    p.once("message", () => resolve());
    p.once("exit", (code) => reject(new Error(`feed subscriber process exited with ${code}`)));
  });
  p.send({ type: "measure", afterHeight: cfg.afterHeight });
  return {
    stop: () =>
      new Promise<FeedReport>((resolve, reject) => {
        p.on("message", (m: { type: string; report?: FeedReport }) => m.type === "report" && m.report !== undefined && resolve(m.report));
        p.once("exit", (code) => code !== 0 && reject(new Error(`feed subscriber process exited with ${code}`)));
        p.send({ type: "stop" });
      }),
  };
}

function feedSummary(subscribers: number, f: FeedReport): NonNullable<BenchResult["feed"]> {
  const worst = [...f.subscribers].sort((a, b) => b.slopeHeightsPerS - a.slopeHeightsPerS)[0];
  return {
    subscribers,
    events: f.subscribers.reduce((a, s) => a + s.events, 0),
    p50_feed_ms: round(f.latency.p50, 2),
    p95_feed_ms: round(f.latency.p95, 2),
    p99_feed_ms: round(f.latency.p99, 2),
    max_feed_ms: round(f.latency.max, 2),
    max_lag_slope_heights_per_s: round(worst?.slopeHeightsPerS ?? 0, 3),
    max_lag_heights: Math.max(0, ...f.subscribers.map((s) => s.maxLag)),
    lag_first_third_heights: round(Math.max(0, ...f.subscribers.map((s) => s.meanFirstThird)), 2),
    lag_last_third_heights: round(Math.max(0, ...f.subscribers.map((s) => s.meanLastThird)), 2),
    errors: f.errors,
  };
}

/**
 * Follows every validator's receipts: when each tx id committed on `nodeId` (and whether its
 * contract accepted it), and when each height became final, i.e. when receipts from more than
 * 2/3 of the validators agreed on its block hash and state root (the default quorum).
 */
async function followCommits(
  natsUrl: string,
  nodeId: string,
  validators: readonly string[],
): Promise<{ seen: Map<string, { atMs: number; ok: boolean; height: number }>; finalAt: Map<number, number>; close(): Promise<void> }> {
  const bus = await connectBus({ url: natsUrl, name: "bench-receipts" });
  const names = busNames("tally");
  const seen = new Map<string, { atMs: number; ok: boolean; height: number }>();
  const finalAt = new Map<number, number>();
  // Per height not yet final: votes per (block hash, state root).
  const votes = new Map<number, Map<string, number>>();
  const consumer = await bus.js.consumers.get(names.receiptsStream, {
    deliver_policy: DeliverPolicy.New,
    filter_subjects: names.receiptsSubjects,
  });
  const messages = await consumer.consume({ max_messages: 256 });
  const done = (async () => {
    for await (const m of messages) {
      const atMs = performance.timeOrigin + performance.now();
      const body = ReceiptBody.decode(Receipt.decode(m.data).body);
      const height = Number(body.height);
      if (body.nodeId === nodeId)
        for (const r of body.results) seen.set(toHex(r.txId), { atMs, ok: r.outcome === TxOutcome.TX_OUTCOME_COMMITTED, height });
      if (finalAt.has(height) || !validators.includes(body.nodeId)) continue;
      const key = `${toHex(body.blockHash)}:${toHex(body.stateRoot)}`;
      const forHeight = votes.get(height) ?? new Map<string, number>();
      const n = (forHeight.get(key) ?? 0) + 1;
      forHeight.set(key, n);
      votes.set(height, forHeight);
      if (n * 3 > validators.length * 2) {
        finalAt.set(height, atMs);
        votes.delete(height);
      }
    }
  })();
  return {
    seen,
    finalAt,
    close: async () => {
      await messages.close();
      await done;
      await bus.nc.close();
    },
  };
}

interface ClientsOutcome {
  readonly records: ClientRecord[];
  readonly overloaded: number;
  readonly startMs: number;
}

/** Forks the load-client processes (ready, not yet driving load); run() starts them and collects their records. */
export async function startClients(
  o: Pick<BenchOptions, "clients" | "workload" | "submitMode" | "rate" | "durationSec">,
  gateway: string,
  chainId: string,
  accounts: readonly string[],
  keyFile: (id: string) => string,
  tlsFiles: (id: string) => TlsFiles | undefined,
): Promise<{ run(): Promise<ClientsOutcome> }> {
  const entry = new URL("./load-client.js", import.meta.url);
  const procs = Array.from({ length: o.clients }, (_, i) => {
    const mine = accounts.filter((_, j) => j % o.clients === i);
    const cfg: ClientConfig = {
      gateway,
      chainId,
      keyFiles: mine.map(keyFile),
      tlsFiles: mine.map((id) => tlsFiles(id) ?? null),
      accounts,
      workload: o.workload,
      submitMode: o.submitMode,
      ratePerSec: o.rate / o.clients,
      inFlightMax: o.rate === 0 ? 256 : 4096,
      durationMs: o.durationSec * 1000,
    };
    return fork(entry, [], {
      env: { ...process.env, BENCH_CLIENT_CONFIG: JSON.stringify(cfg) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
  });
  await Promise.all(procs.map((p) => new Promise<void>((r) => p.once("message", () => r()))));
  return {
    run: async () => {
      const records: ClientRecord[] = [];
      let overloaded = 0;
      let startMs = Infinity;
      await Promise.all(
        procs.map(
          (p) =>
            new Promise<void>((resolve, reject) => {
              p.on("message", (m: { type: string; records?: ClientRecord[]; overloaded?: number; startMs?: number }) => {
                if (m.type === "records") records.push(...(m.records ?? []));
                if (m.type === "done") {
                  overloaded += m.overloaded ?? 0;
                  startMs = Math.min(startMs, m.startMs ?? Infinity);
                  resolve();
                }
              });
              p.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`load client exited with ${code}`))));
              p.send({ type: "go" });
            }),
        ),
      );
      return { records, overloaded, startMs };
    },
  };
}
