import { connect, type NatsConnection } from "@nats-io/transport-node";
import { inboxPrefixOf, NATS_USER_RE } from "./permissions.js";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";

/** A connection with its JetStream client and manager. */
export interface Bus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** Where replies to this connection's requests come (per NATS user: see inboxPrefixOf). */
  readonly inboxPrefix?: string;
}

/**
 * Splits a NATS_URL (comma-separated servers) into server addresses and the user and password
 * written in them (nats://user:password@host:4222), which nats.js does not read from URLs.
 */
export function natsServers(url: string): { servers: string[]; user?: string; pass?: string } {
  let user: string | undefined;
  let pass: string | undefined;
  const servers = url.split(",").map((s) => {
    const m = /^([a-z]+:\/\/)([^@/]*)@(.*)$/i.exec(s.trim());
    if (m === null) return s.trim();
    const [u, p] = m[2]!.split(":");
    if (user === undefined && u !== undefined && u !== "") {
      user = decodeURIComponent(u);
      pass = p === undefined ? undefined : decodeURIComponent(p);
    }
    return m[1]! + m[3]!;
  });
  return { servers, ...(user === undefined ? {} : { user }), ...(pass === undefined ? {} : { pass }) };
}

/**
 * The TLS options for a NATS_URL: TLS is required when any server is tls:// or a CA file is given
 * (NATS_CA_FILE), verified against that CA (else the system's). nats.js ignores the URL scheme, so
 * without this a tls:// URL would not refuse a plaintext server.
 */
export function natsTlsOptions(url: string, caFile: string | undefined): { caFile?: string } | undefined {
  const wanted = caFile !== undefined || url.split(",").some((s) => s.trim().toLowerCase().startsWith("tls://"));
  return wanted ? (caFile === undefined ? {} : { caFile }) : undefined;
}

/**
 * The `tls { }` block of a TLS-only nats-server: every client connection must use TLS (a
 * plaintext client is refused), with this certificate and key.
 */
export function natsTlsConf(server: { readonly certFile: string; readonly keyFile: string }): string {
  const q = (s: string): string => JSON.stringify(s);
  return `tls {\n  cert_file: ${q(server.certFile)}\n  key_file: ${q(server.keyFile)}\n  timeout: 2\n}\n`;
}

/**
 * Connects to NATS. The JetStream API timeout is short (1 s) so failures surface quickly. A user
 * in the URL gets its own inbox prefix (_INBOX_<user>): the per-role permissions
 * (natsUsers) let each user subscribe to its own replies only.
 */
export async function connectBus(opts: { url: string; name: string; apiTimeoutMs?: number; caFile?: string }): Promise<Bus> {
  const servers = natsServers(opts.url);
  const tls = natsTlsOptions(opts.url, opts.caFile ?? (process.env.NATS_CA_FILE || undefined));
  const inboxPrefix = servers.user !== undefined && NATS_USER_RE.test(servers.user) ? inboxPrefixOf(servers.user) : undefined;
  const nc = await connect({
    ...servers,
    ...(inboxPrefix === undefined ? {} : { inboxPrefix }),
    ...(tls === undefined ? {} : { tls }),
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
  // Until a JetStream cluster has a meta leader this times out: do not leave the connection behind.
  const jsm = await jetstreamManager(nc, { timeout }).catch(async (e: unknown) => {
    await nc.close().catch(() => undefined);
    throw e;
  });
  return { nc, js, jsm, ...(inboxPrefix === undefined ? {} : { inboxPrefix }) };
}
