/** A configuration value that failed validation; the message names the variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Reads configuration from an environment, failing with a message that names the variable. */
export class Env {
  constructor(private readonly vars: NodeJS.ProcessEnv = process.env) {}

  /** A required string. */
  str(name: string, fallback?: string): string {
    const v = this.vars[name] ?? fallback;
    if (v === undefined || v === "") throw new ConfigError(`${name} is required`);
    return v;
  }

  /** An optional string. */
  optional(name: string): string | undefined {
    const v = this.vars[name];
    return v === undefined || v === "" ? undefined : v;
  }

  /** An integer within [min, max]. */
  int(name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.vars[name];
    if (raw === undefined || raw === "") return fallback;
    if (!/^-?\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
    const v = Number(raw);
    if (v < min || v > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${v}`);
    return v;
  }

  /** A boolean: true/false/1/0. */
  bool(name: string, fallback: boolean): boolean {
    const raw = this.vars[name];
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
}
