#!/usr/bin/env node
// The regulator feed's imperative shell: reads config, builds connections, starts.
import { descriptorSetPath } from "@tally/proto/descriptor";
import { busNames, connectBus, ensureStreams, streamLastSeq } from "@tally/bus";
import { ConfigError, configOrExit, Env, regfeedConfig } from "@tally/config";
import { HeightSignal, listenHeights, migrateToLatest, openDb } from "@tally/db";
import { onTerminate, startServer, within } from "@tally/rpc";
import { createLogger, observeConsumer, observeHeight, startTelemetry, tracingEnabled } from "@tally/telemetry";
import { DeliveryTrace } from "./delivery-trace.js";
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

const cfg = configOrExit("regfeed", () =>
  regfeedConfig(undefined, { subscriberStallMs: SUBSCRIBER_STALL_MS_DEFAULT, tailEventsMax: TAIL_EVENTS_DEFAULT }),
);
const nodeId = cfg.nodeId;
const log = createLogger("regfeed", { nodeId });

async function main(): Promise<void> {
  const { listen, genesis, subscriberStallMs, alertsEnabled, tailEventsMax, natsUrl } = cfg;
  const dbUrl = cfg.databaseUrl;
  const db = openDb(dbUrl);
  await migrateToLatest(db);
  const telemetry = await startTelemetry("regfeed", new Env(), log);
  const delivery = tracingEnabled() ? new DeliveryTrace(nodeId) : undefined;
  let servedHeight: bigint | undefined;
  let receiptsSeq = 0;
  observeHeight("regfeed", () => servedHeight);
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
    servedHeight = n.height;
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
        ...(delivery === undefined ? {} : { onDelivered: (events) => delivery.delivered(events) }),
      }),
    ],
    ...(cfg.healthAddr !== undefined ? { healthListen: cfg.healthAddr } : {}),
  });
  // The supervision console (issue 11, docs/console.md): off unless CONSOLE_ADDR is set.
  const consoleCfg = consoleConfig(new Env());
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
  log.info({ grpc: server.address, health: server.healthAddress }, "regfeed listening");

  const stop = new AbortController();
  const bus = natsUrl === undefined || genesis === undefined ? undefined : await connectBus({ url: natsUrl, name: `regfeed-${nodeId}` });
  if (bus !== undefined && genesis !== undefined) {
    const names = busNames(cfg.namespace);
    if (cfg.ensureStreams) await ensureStreams(bus.jsm, names, { replicas: cfg.streamReplicas });
    const receipts = new ReceiptStore(db, genesis, (h) => engine.receiptStored(h));
    observeConsumer("regfeed", names.receiptsStream, streamLastSeq(bus, names.receiptsStream), () => receiptsSeq);
    void followReceipts(bus, names, receipts, log, stop.signal, (seq, headers) => {
      receiptsSeq = seq;
      delivery?.noteReceipt(headers);
    });
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

  // SIGTERM: NOT_SERVING; stop the alert engine and the receipts follower (both resume from what
  // is stored); end the feeds (subscribers resume from their cursors); close NATS and Postgres.
  onTerminate({
    log,
    drainTimeoutMs: cfg.drainTimeoutMs,
    steps: () => [
      { name: "not serving", run: () => server.notServing() },
      { name: "stop the alert engine", run: (left) => (stop.abort(), within(engineLoop, left / 4)) },
      { name: "stop gRPC", run: (left) => server.stop(Math.min(1000, left / 2)) },
      { name: "close the console", run: () => consoleServer?.close() },
      { name: "drain NATS", run: () => bus?.nc.drain() },
      { name: "close Postgres listener", run: () => listener.close() },
      { name: "close Postgres", run: () => db.destroy() },
      // Spans still buffered for OTLP are sent before the process exits; /metrics closes.
      { name: "flush telemetry", run: () => telemetry.close() },
    ],
  });
}

main().catch((e: unknown) => {
  log.fatal({ err: e }, "regfeed failed");
  process.exit(1);
});
