// `tally bench --gateway`: the gateway alone, with mTLS on, over its own nats-server and a fresh
// PostgreSQL database; no sequencer or executor (nothing is committed: ACCEPTED is the answer
// measured). Load comes from client processes that sign and submit over SubmitStream (or unary
// Submit). Beside the accept rate it prints the Ed25519 verification rate measured in the same run
// on as many cores as the gateway may use, so the ratio survives a noisy machine.
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { createDatabaseIfMissing, databaseUrl, dropDatabase } from "@tally/db";
import { freePort, ServiceProcess, serviceEntry, startNatsServer, writeConsortium, type ConsortiumPlan } from "@tally/testkit";
import { verifyOn } from "./ceilings.js";
import { percentilesOf } from "./histogram.js";
import { sampleProcess } from "./process-stats.js";
import { startClients } from "./bench.js";
import { onInterrupt } from "../interrupt.js";

/** Options of a gateway-only run. */
export interface GatewayBenchOptions {
  readonly durationSec: number;
  readonly clients: number;
  /** Institutions submitting (each client process signs as some of them). */
  readonly accounts: number;
  /** GATEWAY_VERIFY_WORKERS of the gateway under test (0: verify on its event loop). */
  readonly verifyWorkers: number;
  readonly submitMode: "stream" | "unary";
  readonly pgAdminUrl: string;
}

/** One gateway-only run. */
export interface GatewayBenchResult {
  kind: "gateway";
  submit_mode: string;
  tls: boolean;
  verify_workers: number;
  duration_s: number;
  submitted: number;
  accepted: number;
  refused: number;
  refused_by_reason: Record<string, number>;
  accepted_tps: number;
  p50_accept_ms: number;
  p99_accept_ms: number;
  /** Cores the gateway may use: its event loop plus its verify workers, at most the machine's. */
  gateway_cores: number;
  verify_same_cores_per_s: number;
  ratio_to_verify: number;
  verify_1core_per_s: number;
  gateway_cpu_pct: number;
  gateway_rss_mb: number;
  machine_cores: number;
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

/** Runs the gateway under load for durationSec and reports what it accepted. */
export async function runGatewayBench(o: GatewayBenchOptions, log: (s: string) => void): Promise<GatewayBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "tally-gw-bench-"));
  const banks = Array.from({ length: o.accounts }, (_, i) => `bank-${i + 1}`);
  const plan: ConsortiumPlan = {
    chainId: "tally-gw-bench",
    institutions: [
      { id: "clearing", name: "Clearing House", roles: ["clearing"], node: "node-1" },
      ...banks.map((id) => ({ id, name: id, roles: ["bank"], node: "node-1" })),
    ],
    nodes: [{ id: "node-1", institution: "clearing" }],
    sequencers: [{ id: "seq-1", institution: "clearing" }],
  };
  const files = writeConsortium(dir, plan, Date.now());
  const server = files.tls?.servers.get("node-1");
  const clientMap = files.tls?.clientMaps.get("node-1");
  if (server === undefined || clientMap === undefined) throw new Error("tally bench --gateway measures with mTLS on: it needs openssl");
  const nats = await startNatsServer(join(dir, "nats"));
  const dbName = `tally_gwbench_${Date.now() % 1_000_000}`;
  await createDatabaseIfMissing(o.pgAdminUrl, dbName);
  let gateway: ServiceProcess | undefined;
  const cleanup = async (): Promise<void> => {
    await gateway?.stop();
    await nats.stop();
    await dropDatabase(o.pgAdminUrl, dbName).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  const offInterrupt = onInterrupt(cleanup);
  try {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    gateway = new ServiceProcess("gateway", serviceEntry("gateway"), {
      NODE_ID: "node-1",
      NATS_URL: nats.url,
      TALLY_NAMESPACE: "gwbench",
      GENESIS_FILE: files.genesisFile,
      DATABASE_URL: databaseUrl(o.pgAdminUrl, dbName),
      GRPC_ADDR: address,
      // No executor runs: queries are not part of this bench, and submits never call it.
      EXECUTOR_ADDR: "127.0.0.1:9",
      GATEWAY_TLS_CERT_FILE: server.certFile,
      GATEWAY_TLS_KEY_FILE: server.keyFile,
      GATEWAY_CLIENT_CA_FILE: server.caFile,
      GATEWAY_CLIENT_MAP_FILE: clientMap,
      GATEWAY_VERIFY_WORKERS: String(o.verifyWorkers),
      // The limits under test are the machine's, not the per-institution rate.
      GATEWAY_INSTITUTION_RATE: "0",
      LOG_LEVEL: "info",
    });
    await gateway.waitForLine(/gateway listening/);
    const machineCores = availableParallelism();
    const gatewayCores = Math.min(machineCores, 1 + o.verifyWorkers);
    log(`measuring Ed25519 verification on ${gatewayCores} and 1 core(s)...`);
    const verifySame = await verifyOn(gatewayCores, 2000, 200);
    const verify1 = gatewayCores === 1 ? verifySame : await verifyOn(1, 2000, 200);
    const bo = { workload: "transfer", submitMode: o.submitMode, durationSec: o.durationSec, rate: 0, clients: o.clients } as const;
    const clients = await startClients(
      bo,
      address,
      plan.chainId,
      banks,
      (id) => files.keyFiles.get(id)!,
      (id) => files.tls?.clients.get(id),
    );
    log(`driving ${o.clients} client processes at the open-loop maximum for ${o.durationSec} s (verify workers ${o.verifyWorkers})...`);
    const before = sampleProcess(gateway.pid);
    const t0 = performance.now();
    const outcome = await clients.run();
    const elapsedS = (performance.now() - t0) / 1000;
    const after = sampleProcess(gateway.pid);
    const ok = outcome.records.filter((r) => r.error === "");
    const lat = percentilesOf(ok.map((r) => r.acceptMs - r.submitMs));
    const refusedByReason: Record<string, number> = {};
    for (const r of outcome.records) if (r.error !== "") refusedByReason[r.error] = (refusedByReason[r.error] ?? 0) + 1;
    // Accepted per second over the clients' timed window (their own start to the last answer).
    const lastAccept = ok.reduce((m, r) => Math.max(m, r.acceptMs), outcome.startMs);
    const windowS = Math.max(0.001, (lastAccept - outcome.startMs) / 1000);
    const acceptedTps = ok.length / windowS;
    return {
      kind: "gateway",
      submit_mode: o.submitMode,
      tls: true,
      verify_workers: o.verifyWorkers,
      duration_s: o.durationSec,
      submitted: outcome.records.length,
      accepted: ok.length,
      refused: outcome.records.length - ok.length,
      refused_by_reason: refusedByReason,
      accepted_tps: round(acceptedTps),
      p50_accept_ms: round(lat.p50, 2),
      p99_accept_ms: round(lat.p99, 2),
      gateway_cores: gatewayCores,
      verify_same_cores_per_s: Math.round(verifySame),
      ratio_to_verify: round(acceptedTps / verifySame, 3),
      verify_1core_per_s: Math.round(verify1),
      gateway_cpu_pct: before !== undefined && after !== undefined ? round(((after.cpuSeconds - before.cpuSeconds) / elapsedS) * 100) : 0,
      gateway_rss_mb: after !== undefined ? round(after.rssBytes / 1048576) : 0,
      machine_cores: machineCores,
    };
  } finally {
    offInterrupt();
    await cleanup();
  }
}

/** The human-readable lines of a gateway-only run. */
export function formatGatewayReport(r: GatewayBenchResult): string {
  return [
    `gateway Submit (${r.submit_mode}, mTLS, ${r.verify_workers} verify worker(s)), ${r.duration_s} s:`,
    `  accepted ${r.accepted} of ${r.submitted} (${r.refused} refused${r.refused > 0 ? ` ${JSON.stringify(r.refused_by_reason)}` : ""})`,
    `  ${r.accepted_tps} tx/s accepted   p50 ${r.p50_accept_ms} ms   p99 ${r.p99_accept_ms} ms`,
    `  Ed25519 verify on ${r.gateway_cores} core(s), same run: ${r.verify_same_cores_per_s}/s   ratio ${r.ratio_to_verify}` +
      `   (1 core: ${r.verify_1core_per_s}/s)`,
    `  gateway CPU ${r.gateway_cpu_pct} % of one core, RSS ${r.gateway_rss_mb} MB; machine cores ${r.machine_cores}`,
  ].join("\n");
}
