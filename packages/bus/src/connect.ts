import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";

/** A connection with its JetStream client and manager. */
export interface Bus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
}

/** Connects to NATS. The JetStream API timeout is short (1 s) so failures surface quickly. */
export async function connectBus(opts: { url: string; name: string; apiTimeoutMs?: number }): Promise<Bus> {
  const nc = await connect({
    servers: opts.url.split(","),
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    timeout: 5000,
    // nats.js otherwise builds an Error (with a stack) on every request, to decorate a possible
    // failure; measured at ~5 % of the gateway's CPU under load. Errors keep their messages.
    noAsyncTraces: true,
  });
  const timeout = opts.apiTimeoutMs ?? 1000;
  const js = jetstream(nc, { timeout });
  const jsm = await jetstreamManager(nc, { timeout });
  return { nc, js, jsm };
}
