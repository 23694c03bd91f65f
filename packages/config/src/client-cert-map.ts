import { readFileSync } from "node:fs";
import { ConfigError } from "./env.js";

/**
 * Which institution each client certificate belongs to, on one node's gateway. A certificate
 * matches by the sha256 of its SubjectPublicKeyInfo (pinned to one key) or by its subject CN
 * (any certificate the node's client CA issues with that CN); the SPKI pin wins when both match.
 */
export interface ClientCertMap {
  readonly byCommonName: ReadonlyMap<string, string>;
  readonly bySpkiSha256: ReadonlyMap<string, string>;
}

const ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * Parses `{"clients": [{"institution": "bank-a", "commonName": "bank-a"}, {"institution":
 * "enterprise-a", "spkiSha256": "<64 hex>"}]}`: each entry names one institution and exactly
 * one of commonName or spkiSha256; a CN or pin may map to one institution only.
 */
export function parseClientCertMap(json: unknown, source: string): ClientCertMap {
  const clients = (json as { clients?: unknown } | null)?.clients;
  if (!Array.isArray(clients)) throw new ConfigError(`${source}: expected {"clients": [...]}`);
  const byCommonName = new Map<string, string>();
  const bySpkiSha256 = new Map<string, string>();
  clients.forEach((c: unknown, i) => {
    const e = (c ?? {}) as { institution?: unknown; commonName?: unknown; spkiSha256?: unknown };
    const where = `${source}: clients[${i}]`;
    if (typeof e.institution !== "string" || !ID.test(e.institution))
      throw new ConfigError(`${where}.institution must be an institution id`);
    const cn = e.commonName;
    const spki = e.spkiSha256;
    if ((cn === undefined) === (spki === undefined)) throw new ConfigError(`${where} must have exactly one of commonName or spkiSha256`);
    if (cn !== undefined) {
      if (typeof cn !== "string" || cn === "") throw new ConfigError(`${where}.commonName must be a non-empty string`);
      if (byCommonName.has(cn)) throw new ConfigError(`${where}: commonName ${cn} is mapped twice`);
      byCommonName.set(cn, e.institution);
    } else {
      if (typeof spki !== "string" || !/^[0-9a-f]{64}$/.test(spki))
        throw new ConfigError(`${where}.spkiSha256 must be 64 lowercase hex digits`);
      if (bySpkiSha256.has(spki)) throw new ConfigError(`${where}: spkiSha256 ${spki} is mapped twice`);
      bySpkiSha256.set(spki, e.institution);
    }
  });
  return { byCommonName, bySpkiSha256 };
}

/** Reads and validates a client certificate map file (see parseClientCertMap). */
export function loadClientCertMap(path: string): ClientCertMap {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ConfigError(`cannot read client certificate map ${path}: ${(e as Error).message}`);
  }
  return parseClientCertMap(json, path);
}
