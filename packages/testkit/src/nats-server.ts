import { accessSync, constants, mkdirSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { freePort } from "./ports.js";
import { ServiceProcess } from "./service-process.js";

/** Where a nats-server binary is: on PATH, or Debian's /usr/sbin. Undefined when there is none. */
export function findNatsServer(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin", "/usr/local/bin"];
  for (const d of dirs) {
    const p = join(d, "nats-server");
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** How to install nats-server when none is found. */
export const NATS_INSTALL_HINT =
  "No nats-server found on PATH or in /usr/sbin. Install one (Debian/Ubuntu: `apt-get install nats-server`; macOS: `brew install nats-server`) or set NATS_URL to a NATS server with JetStream enabled.";

/** A nats-server with JetStream that we started, and how to stop it. */
export interface StartedNats {
  readonly url: string;
  readonly port: number;
  readonly process: ServiceProcess;
  stop(): Promise<void>;
}

/**
 * Starts a nats-server with JetStream on a free loopback port, storing under dir. The max
 * payload is raised to 8 MB so blocks near the block byte limit always fit.
 */
export async function startNatsServer(
  dir: string,
  /** extraConf: more nats-server configuration, e.g. an `authorization { ... }` block (natsAuthorizationConf from @tally/bus). */
  /** env: the server's environment, e.g. the TALLY_NATS_PASSWORD_<USER> variables an included authorization block names. */
  opts: { port?: number; echoLogs?: boolean; extraConf?: string; env?: Record<string, string> } = {},
): Promise<StartedNats> {
  const bin = findNatsServer();
  if (bin === undefined) throw new Error(NATS_INSTALL_HINT);
  mkdirSync(join(dir, "jetstream"), { recursive: true });
  const port = opts.port ?? (await freePort());
  const conf = join(dir, "nats.conf");
  writeFileSync(
    conf,
    `listen: "127.0.0.1:${port}"\nmax_payload: 8MB\njetstream {\n  store_dir: "${join(dir, "jetstream")}"\n}\n${opts.extraConf ?? ""}`,
    { mode: 0o600 },
  );
  const p = new ServiceProcess("nats-server", [bin, "-c", conf], opts.env ?? {}, opts.echoLogs ?? false);
  await p.waitForLine(/Server is ready/, 15_000);
  return { url: `nats://127.0.0.1:${port}`, port, process: p, stop: () => p.stop("SIGTERM", 5000) };
}
