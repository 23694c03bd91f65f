// The console's configuration, read from the regfeed's environment (see docs/console.md).
import { readFileSync } from "node:fs";
import { ConfigError, loadClientCertMap, type Env } from "@tally/config";
import { isLoopback, loopbackIdentity, mtlsIdentity, type ConsoleIdentify } from "./console-identity.js";
import { DEFAULT_STATIC_DIR, type ConsoleTls } from "./console-server.js";

export interface ConsoleConfig {
  readonly host: string;
  readonly port: number;
  readonly identify: ConsoleIdentify;
  readonly tls: ConsoleTls | undefined;
  readonly staticDir: string;
}

/**
 * CONSOLE_ADDR turns the console on. With CONSOLE_TLS_CERT_FILE, CONSOLE_TLS_KEY_FILE,
 * CONSOLE_CLIENT_CA_FILE and CONSOLE_CLIENT_MAP_FILE it serves HTTPS and takes the caller from the
 * client certificate (the gateway's CA and client map); without them it serves plain HTTP, and
 * only on a loopback address.
 */
export function consoleConfig(env: Env): ConsoleConfig | undefined {
  if (env.optional("CONSOLE_ADDR") === undefined) return undefined;
  const { host, port } = env.addr("CONSOLE_ADDR");
  const staticDir = env.str("CONSOLE_STATIC_DIR", DEFAULT_STATIC_DIR);
  const certFile = env.optional("CONSOLE_TLS_CERT_FILE");
  if (certFile === undefined) {
    if (!isLoopback(host))
      throw new ConfigError(
        `CONSOLE_ADDR ${host} is not a loopback address; without CONSOLE_TLS_CERT_FILE (mTLS) the console listens on loopback only`,
      );
    return { host, port, identify: loopbackIdentity(), tls: undefined, staticDir };
  }
  try {
    const tls = {
      cert: readFileSync(certFile),
      key: readFileSync(env.str("CONSOLE_TLS_KEY_FILE")),
      ca: readFileSync(env.str("CONSOLE_CLIENT_CA_FILE")),
    };
    return { host, port, identify: mtlsIdentity(loadClientCertMap(env.str("CONSOLE_CLIENT_MAP_FILE"))), tls, staticDir };
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`CONSOLE_TLS_CERT_FILE / CONSOLE_TLS_KEY_FILE / CONSOLE_CLIENT_CA_FILE: ${(e as Error).message}`);
  }
}
