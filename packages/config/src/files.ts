import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { fromHex, parseGenesis, signingKeyFromSeed, toHex, type Genesis, type SigningKey } from "@tally/ledger";
import { ConfigError } from "./env.js";

/** Reads and validates a genesis JSON file. */
export function loadGenesis(path: string): Genesis {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ConfigError(`cannot read genesis file ${path}: ${(e as Error).message}`);
  }
  try {
    return parseGenesis(json);
  } catch (e) {
    throw new ConfigError(`${path}: ${(e as Error).message}`);
  }
}

/** A private key file: who it belongs to and its Ed25519 seed. */
export interface KeyFile {
  /** Institution, sequencer or node id. */
  readonly owner: string;
  readonly keyId: string;
  readonly publicKey: string;
  readonly seed: string;
}

/** A loaded key file with its parsed signing key. */
export interface LoadedKey {
  readonly owner: string;
  readonly keyId: string;
  readonly key: SigningKey;
}

/** Reads a key file, refusing one that others can read. */
export function loadKeyFile(path: string): LoadedKey {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new ConfigError(`cannot read key file ${path}: ${(e as Error).message}`);
  }
  if ((st.mode & 0o077) !== 0)
    throw new ConfigError(`key file ${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
  const f = JSON.parse(readFileSync(path, "utf8")) as Partial<KeyFile>;
  if (typeof f.owner !== "string" || typeof f.keyId !== "string" || typeof f.seed !== "string")
    throw new ConfigError(`key file ${path} lacks owner, keyId or seed`);
  const key = signingKeyFromSeed(fromHex(f.seed));
  if (f.publicKey !== undefined && f.publicKey !== toHex(key.publicKey))
    throw new ConfigError(`key file ${path}: publicKey does not match the seed`);
  return { owner: f.owner, keyId: f.keyId, key };
}

/** Writes a key file with mode 0600. */
export function writeKeyFile(path: string, f: KeyFile): void {
  writeFileSync(path, JSON.stringify(f, null, 2) + "\n", { mode: 0o600 });
  chmodSync(path, 0o600);
}
