#!/usr/bin/env node
// The regulator feed's imperative shell: reads config, builds connections, starts.
import { descriptorSetPath } from "@tally/proto/descriptor";
import { busNames, connectBus, ensureStreams } from "@tally/bus";
import { ConfigError, Env, loadGenesis } from "@tally/config";
import { HeightSignal, listenHeights, migrateToLatest, openDb } from "@tally/db";
import { startServer } from "@tally/rpc";
import { createLogger } from "@tally/telemetry";
import { AccessLog } from "./access-log.js";
import { AlertEngine } from "./alerts/alert-engine.js";
import { AlertStore } from "./alerts/alert-store.js";
import { consoleConfig } from "./console/console-config.js";
import { startConsole } from "./console/console-server.js";
import { ReceiptStore } from "./alerts/receipt-store.js";
import { EventFeed } from "./event-feed.js";
import { EventTail, TAIL_EVENTS_DEFAULT } from "./event-tail.js";
import { followReceipts } from "./receipt-follower.js";
import { regfeedService, SUBSCRIBER_STALL_MS_DEFAULT } from "./regfeed-service.js";

/** Least time between two alert-engine steps. */
const ALERT_STEP_INTERVAL_MS = 100;

const env = new Env();
const nodeId = env.str("NODE_ID");
const log = createLogger("regfeed", { nodeId });

async function main(): Promise<void> {
  const listen = env.addr("GRPC_ADDR", "127.0.0.1:0");
  const dbUrl = env.str("DATABASE_URL");
  const genesisFile = env.optional("GENESIS_FILE");
  const genesis = genesisFile === undefined ? undefined : loadGenesis(genesisFile);
  // A subscriber whose bounded send buffer stays full this long is cut off (SUBSCRIBER_TOO_SLOW).
  const subscriberStallMs = env.int("SUBSCRIBER_STALL_MS", SUBSCRIBER_STALL_MS_DEFAULT, 100, 3_600_000);
  // Newest events kept in memory for live subscribers to share; 0 turns the shared tail off.
  // The supervision engine; off, the feed serves events only (no new alerts are raised).
  const alertsEnabled = env.bool("ALERTS_ENABLED", true);
  const tailEventsMax = env.int("TAIL_EVENTS_MAX", TAIL_EVENTS_DEFAULT, 0, 1_000_000);
  // Receipts for the divergence rule and VerifyChain come from RECEIPTS; off without NATS_URL.
  const natsUrl = env.optional("NATS_URL");
  const db = openDb(dbUrl);
  await migrateToLatest(db);
  const signal = new HeightSignal(500);
  const alertSignal = new HeightSignal(1000);
  let commits = 0;
  let alertsRaised = 0;
  const engine = new AlertEngine(
    db,
    genesis === undefined
      ? undefined
      : {
          validators: genesis.validators.map((v) => v.nodeId),
          quorumNumerator: genesis.finality.quorumNumerator,
          quorumDenominator: genesis.finality.quorumDenominator,
        },
    () => {
      alertsRaised++;
      alertSignal.notify();
    },
  );
  const listener = await listenHeights(dbUrl, (n) => {
    if (n.source !== "executor") return;
    commits++;
    signal.notify();
  });
  const server = await startServer({
    host: listen.host,
    port: listen.port,
    healthNames: ["tally.v1.RegFeedService"],
    descriptorSetPath,
    services: [
      regfeedService({
        feed: new EventFeed(db, tailEventsMax === 0 ? undefined : new EventTail(db, tailEventsMax)),
        waitForCommit: (s) => signal.wait(s),
        access: new AccessLog(db),
        alerts: new AlertStore(db),
        waitForAlerts: (s) => alertSignal.wait(s),
        db,
        genesis,
        subscriberStallMs,
        commitGeneration: () => commits,
        alertGeneration: () => alertsRaised,
      }),
    ],
  });
  // The supervision console (issue 11, docs/console.md): off unless CONSOLE_ADDR is set.
  const consoleCfg = consoleConfig(env);
  if (consoleCfg !== undefined && genesis === undefined)
    throw new ConfigError("CONSOLE_ADDR needs GENESIS_FILE (roles and sequencer keys)");
  const consoleServer =
    consoleCfg === undefined || genesis === undefined
      ? undefined
      : await startConsole(
          {
            db,
            genesis,
            access: new AccessLog(db),
            alerts: new AlertStore(db),
            identify: consoleCfg.identify,
            waitForCommit: (s) => signal.wait(s),
            waitForAlerts: (s) => alertSignal.wait(s),
            commitGeneration: () => commits,
            alertGeneration: () => alertsRaised,
            staticDir: consoleCfg.staticDir,
          },
          consoleCfg.host,
          consoleCfg.port,
          consoleCfg.tls,
        );
  if (consoleServer !== undefined) log.info({ console: consoleServer.url }, "console listening");
  log.info({ grpc: server.address }, "regfeed listening");

  const stop = new AbortController();
  const bus = natsUrl === undefined || genesis === undefined ? undefined : await connectBus({ url: natsUrl, name: `regfeed-${nodeId}` });
  if (bus !== undefined && genesis !== undefined) {
    const names = busNames(env.str("TALLY_NAMESPACE", "tally"));
    await ensureStreams(bus.jsm, names, { replicas: env.int("STREAM_REPLICAS", 1, 1, 5) });
    const receipts = new ReceiptStore(db, genesis, (h) => engine.receiptStored(h));
    void followReceipts(bus, names, receipts, log, stop.signal);
  }
  // The alert engine: evaluates committed heights in order, woken by the executor's notices. It
  // steps at most every ALERT_STEP_INTERVAL_MS, so under load one step covers many blocks and the
  // engine does not compete with the streams for the event loop on every commit.
  const engineLoop = (async () => {
    while (alertsEnabled && !stop.signal.aborted) {
      try {
        const seen = commits;
        const n = await engine.step();
        await new Promise((r) => setTimeout(r, ALERT_STEP_INTERVAL_MS));
        if (n === 0 && seen === commits) await signal.wait(stop.signal);
      } catch (e) {
        if (stop.signal.aborted) return;
        log.error({ err: e }, "alert engine step failed; retrying");
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  })();

  const shutdown = async (): Promise<void> => {
    stop.abort();
    await server.stop(1000);
    await consoleServer?.close();
    await engineLoop.catch(() => undefined);
    await bus?.nc.drain().catch(() => undefined);
    await listener.close().catch(() => undefined);
    await db.destroy();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown());
  process.on("SIGINT", () => void shutdown());
}

main().catch((e: unknown) => {
  log.fatal({ err: e }, "regfeed failed");
  process.exit(1);
});
