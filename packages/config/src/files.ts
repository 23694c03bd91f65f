import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto";
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

/** The passphrase of encrypted key files, and the variable it came from (for error messages). */
export interface KeyPassphrase {
  readonly value: string;
  readonly source: string;
}

export const KEY_PASSPHRASE_VAR = "TALLY_KEY_PASSPHRASE";
export const KEY_PASSPHRASE_FILE_VAR = "TALLY_KEY_PASSPHRASE_FILE";

/**
 * The key passphrase from TALLY_KEY_PASSPHRASE, or from the file TALLY_KEY_PASSPHRASE_FILE names
 * (one trailing newline dropped); undefined when neither is set. Both set, an unreadable file or
 * an empty passphrase is a ConfigError naming the variable.
 */
export function keyPassphrase(get: (name: string) => string | undefined = (n) => process.env[n]): KeyPassphrase | undefined {
  const direct = get(KEY_PASSPHRASE_VAR) || undefined;
  const file = get(KEY_PASSPHRASE_FILE_VAR) || undefined;
  if (direct !== undefined && file !== undefined)
    throw new ConfigError(`set ${KEY_PASSPHRASE_VAR} or ${KEY_PASSPHRASE_FILE_VAR}, not both`);
  if (direct !== undefined) return { value: direct, source: KEY_PASSPHRASE_VAR };
  if (file === undefined) return undefined;
  let value: string;
  try {
    value = readFileSync(file, "utf8").replace(/\r?\n$/, "");
  } catch (e) {
    throw new ConfigError(`${KEY_PASSPHRASE_FILE_VAR}: cannot read ${file}: ${(e as Error).message}`);
  }
  if (value === "") throw new ConfigError(`${KEY_PASSPHRASE_FILE_VAR}: ${file} is empty`);
  return { value, source: KEY_PASSPHRASE_FILE_VAR };
}

// scrypt's cost, fixed: a file may not choose its own (a huge N from a hostile file would hang
// the loader). N = 2^15, r = 8 takes 32 MiB and about a tenth of a second.
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const KDF = "scrypt-n32768-r8-p1";
const CIPHER = "aes-256-gcm";

/** The seed sealed under a passphrase: scrypt derives an AES-256-GCM key; owner, keyId and publicKey are authenticated too. */
interface SealedSeed {
  readonly kdf: typeof KDF;
  readonly cipher: typeof CIPHER;
  readonly salt: string;
  readonly iv: string;
  readonly tag: string;
  readonly ciphertext: string;
}

function aad(owner: string, keyId: string, publicKey: string): Buffer {
  return Buffer.from(`tally-key-file\n${owner}\n${keyId}\n${publicKey}`, "utf8");
}

function sealSeed(f: KeyFile, passphrase: string): SealedSeed {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const c = createCipheriv(CIPHER, scryptSync(passphrase, salt, 32, SCRYPT), iv);
  c.setAAD(aad(f.owner, f.keyId, f.publicKey));
  const ciphertext = Buffer.concat([c.update(Buffer.from(f.seed, "hex")), c.final()]);
  return {
    kdf: KDF,
    cipher: CIPHER,
    salt: salt.toString("hex"),
    iv: iv.toString("hex"),
    tag: c.getAuthTag().toString("hex"),
    ciphertext: ciphertext.toString("hex"),
  };
}

const HEX = /^(?:[0-9a-f]{2})+$/;

function openSeed(
  path: string,
  f: { owner: string; keyId: string; publicKey?: unknown; sealed: Partial<SealedSeed> },
  passphrase: KeyPassphrase | undefined,
): Uint8Array {
  const s = f.sealed;
  if (s.kdf !== KDF || s.cipher !== CIPHER)
    throw new ConfigError(`key file ${path}: unsupported encryption (kdf ${String(s.kdf)}, cipher ${String(s.cipher)})`);
  if (typeof f.publicKey !== "string") throw new ConfigError(`key file ${path}: an encrypted key file needs its publicKey`);
  const field = (name: keyof SealedSeed, bytes: number): Buffer => {
    const v = s[name];
    if (typeof v !== "string" || !HEX.test(v) || v.length !== bytes * 2)
      throw new ConfigError(`key file ${path}: encrypted.${name} must be ${bytes} bytes of hex`);
    return Buffer.from(v, "hex");
  };
  const salt = field("salt", 16);
  const iv = field("iv", 12);
  const tag = field("tag", 16);
  const ciphertext = field("ciphertext", 32);
  if (passphrase === undefined)
    throw new ConfigError(`key file ${path} is encrypted: set ${KEY_PASSPHRASE_VAR} or ${KEY_PASSPHRASE_FILE_VAR} to its passphrase`);
  const d = createDecipheriv(CIPHER, scryptSync(passphrase.value, salt, 32, SCRYPT), iv);
  d.setAAD(aad(f.owner, f.keyId, f.publicKey));
  d.setAuthTag(tag);
  try {
    return new Uint8Array(Buffer.concat([d.update(ciphertext), d.final()]));
  } catch {
    throw new ConfigError(
      `key file ${path}: cannot decrypt with the passphrase from ${passphrase.source} (a wrong passphrase, or the file was altered)`,
    );
  }
}

/**
 * Reads a key file, refusing one that others can read. An encrypted one (see writeKeyFile) is
 * opened with the passphrase, by default from TALLY_KEY_PASSPHRASE(_FILE); a plain one needs none.
 */
export function loadKeyFile(path: string, passphrase: KeyPassphrase | undefined = keyPassphrase()): LoadedKey {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new ConfigError(`cannot read key file ${path}: ${(e as Error).message}`);
  }
  if ((st.mode & 0o077) !== 0)
    throw new ConfigError(`key file ${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
  let f: (Partial<KeyFile> & { encrypted?: Partial<SealedSeed> }) | null;
  try {
    f = JSON.parse(readFileSync(path, "utf8")) as typeof f;
  } catch (e) {
    throw new ConfigError(`key file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (f === null || typeof f !== "object" || typeof f.owner !== "string" || typeof f.keyId !== "string")
    throw new ConfigError(`key file ${path} lacks owner or keyId`);
  let seed: Uint8Array;
  if (f.encrypted !== undefined) {
    if (typeof f.encrypted !== "object" || f.encrypted === null) throw new ConfigError(`key file ${path}: encrypted must be an object`);
    seed = openSeed(path, { owner: f.owner, keyId: f.keyId, publicKey: f.publicKey, sealed: f.encrypted }, passphrase);
  } else {
    if (typeof f.seed !== "string" || !HEX.test(f.seed) || f.seed.length !== 64)
      throw new ConfigError(`key file ${path} lacks a 32-byte hex seed`);
    seed = fromHex(f.seed);
  }
  const key = signingKeyFromSeed(seed);
  if (f.publicKey !== undefined && f.publicKey !== toHex(key.publicKey))
    throw new ConfigError(`key file ${path}: publicKey does not match the seed`);
  return { owner: f.owner, keyId: f.keyId, key };
}

/**
 * Writes a key file with mode 0600. With a passphrase (by default from TALLY_KEY_PASSPHRASE(_FILE),
 * when set) the seed is stored encrypted: scrypt, then AES-256-GCM, in place of `seed`.
 */
export function writeKeyFile(path: string, f: KeyFile, passphrase: KeyPassphrase | undefined = keyPassphrase()): void {
  const body =
    passphrase === undefined ? f : { owner: f.owner, keyId: f.keyId, publicKey: f.publicKey, encrypted: sealSeed(f, passphrase.value) };
  writeFileSync(path, JSON.stringify(body, null, 2) + "\n", { mode: 0o600 });
  chmodSync(path, 0o600);
}
