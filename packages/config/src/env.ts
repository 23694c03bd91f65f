import { accessSync, constants, statSync } from "node:fs";

/** A configuration value that failed validation; the message names the variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Reads configuration from an environment, failing with a message that names the variable. */
export class Env {
  /** Every variable asked for, in order: what a service reads (docs/configuration.md lists them all). */
  readonly names = new Set<string>();

  constructor(private readonly vars: NodeJS.ProcessEnv = process.env) {}

  private raw(name: string): string | undefined {
    this.names.add(name);
    return this.vars[name];
  }

  /** A required string. */
  str(name: string, fallback?: string): string {
    const v = this.raw(name) ?? fallback;
    if (v === undefined || v === "") throw new ConfigError(`${name} is required`);
    return v;
  }

  /** An optional string. */
  optional(name: string): string | undefined {
    const v = this.raw(name);
    return v === undefined || v === "" ? undefined : v;
  }

  /** An integer within [min, max]. */
  int(name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.raw(name);
    if (raw === undefined || raw === "") return fallback;
    if (!/^-?\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
    const v = Number(raw);
    if (v < min || v > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${v}`);
    return v;
  }

  /** A boolean: true/false/1/0. */
  bool(name: string, fallback: boolean): boolean {
    const raw = this.raw(name);
    if (raw === undefined || raw === "") return fallback;
    if (raw === "true" || raw === "1") return true;
    if (raw === "false" || raw === "0") return false;
    throw new ConfigError(`${name} must be true or false, got "${raw}"`);
  }

  /** host:port to listen on or dial. */
  addr(name: string, fallback?: string): { host: string; port: number } {
    const v = this.str(name, fallback);
    const m = /^(.*):(\d+)$/.exec(v);
    if (m === null || m[1] === undefined || m[2] === undefined || Number(m[2]) > 65535)
      throw new ConfigError(`${name} must be host:port, got "${v}"`);
    return { host: m[1].replace(/^\[|\]$/g, ""), port: Number(m[2]) };
  }

  /** An optional host:port. */
  optionalAddr(name: string): { host: string; port: number } | undefined {
    return this.optional(name) === undefined ? undefined : this.addr(name);
  }

  /** One of a fixed set of words. */
  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const raw = this.raw(name);
    if (raw === undefined || raw === "") return fallback;
    if (!(values as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${values.join(", ")}, got "${raw}"`);
    return raw as T;
  }

  /** A URL (or a comma-separated list of URLs, when list) whose scheme is one of protocols, e.g. ["postgres:", "postgresql:"]. */
  url(name: string, protocols: readonly string[], fallback?: string, list = false): string {
    const v = this.str(name, fallback);
    for (const one of list ? v.split(",").map((u) => u.trim()) : [v]) {
      let u: URL;
      try {
        u = new URL(one);
      } catch {
        throw new ConfigError(`${name} must be a URL (${protocols.join(" or ")}//...), got "${redact(one)}"`);
      }
      if (!protocols.includes(u.protocol) || u.hostname === "")
        throw new ConfigError(`${name} must be a ${protocols.join(" or ")}// URL with a host, got "${redact(one)}"`);
    }
    return v;
  }

  /** A comma-separated list of host:port (empty when unset). */
  addrList(name: string): string[] {
    const raw = this.optional(name);
    if (raw === undefined) return [];
    const parts = raw
      .split(",")
      .map((a) => a.trim())
      .filter((a) => a.length > 0);
    for (const a of parts)
      if (!/^(\[[^\]]+\]|[^:]+):\d{1,5}$/.test(a) || Number(a.slice(a.lastIndexOf(":") + 1)) > 65535)
        throw new ConfigError(`${name} must be a comma-separated list of host:port, got "${a}"`);
    return parts;
  }

  /** A path to a file that exists and can be read. */
  file(name: string): string {
    const p = this.str(name);
    try {
      accessSync(p, constants.R_OK);
      if (!statSync(p).isFile()) throw new Error("not a regular file");
    } catch (e) {
      throw new ConfigError(`${name}: cannot read ${p}: ${(e as Error).message}`);
    }
    return p;
  }

  /** Runs a loader of a value named by name, prefixing its failure with the variable's name. */
  load<T>(name: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      const msg = (e as Error).message;
      throw new ConfigError(msg.startsWith(name) ? msg : `${name}: ${msg}`);
    }
  }
}

/** A URL with its password hidden, for error messages. */
function redact(u: string): string {
  return u.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@");
}
