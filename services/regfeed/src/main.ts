#!/usr/bin/env node
// The regulator feed's imperative shell: reads config, builds connections, starts.
import { descriptorSetPath } from "@tally/proto/descriptor";
import { Env } from "@tally/config";
import { HeightSignal, listenHeights, migrateToLatest, openDb } from "@tally/db";
import { startServer } from "@tally/rpc";
import { createLogger } from "@tally/telemetry";
import { EventFeed } from "./event-feed.js";
import { regfeedService } from "./regfeed-service.js";

const env = new Env();
const nodeId = env.str("NODE_ID");
const log = createLogger("regfeed", { nodeId });

async function main(): Promise<void> {
  const listen = env.addr("GRPC_ADDR", "127.0.0.1:0");
  const dbUrl = env.str("DATABASE_URL");
  const db = openDb(dbUrl);
  await migrateToLatest(db);
  const signal = new HeightSignal(500);
  const listener = await listenHeights(dbUrl, (n) => n.source === "executor" && signal.notify());
  const server = await startServer({
    host: listen.host,
    port: listen.port,
    healthNames: ["tally.v1.RegFeedService"],
    descriptorSetPath,
    services: [regfeedService(new EventFeed(db), (s) => signal.wait(s))],
  });
  log.info({ grpc: server.address }, "regfeed listening");
  const shutdown = async (): Promise<void> => {
    await server.stop(1000);
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
