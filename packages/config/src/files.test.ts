// Key custody (issue 13): key files are written 0600, and one that others can read is refused.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signingKeyFromSeed, toHex } from "@tally/ledger";
import { ConfigError } from "./env.js";
import { keyPassphrase, loadKeyFile, writeKeyFile } from "./files.js";

const dir = mkdtempSync(join(tmpdir(), "tally-keyfiles-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const seed = new Uint8Array(32).fill(7);
const key = { owner: "bank-a", keyId: "k1", publicKey: toHex(signingKeyFromSeed(seed).publicKey), seed: toHex(seed) };

test("writeKeyFile writes mode 0600, even over a file that was world-readable", () => {
  const p = join(dir, "a.json");
  writeFileSync(p, "old", { mode: 0o644 });
  chmodSync(p, 0o644);
  writeKeyFile(p, key);
  assert.equal(statSync(p).mode & 0o777, 0o600);
  assert.equal(loadKeyFile(p).owner, "bank-a");
});

test("loadKeyFile refuses a key file readable or writable by group or others, naming the mode", () => {
  const p = join(dir, "b.json");
  writeKeyFile(p, key);
  for (const mode of [0o644, 0o640, 0o604, 0o620, 0o602, 0o660]) {
    chmodSync(p, mode);
    assert.throws(
      () => loadKeyFile(p),
      (e: unknown) => e instanceof ConfigError && e.message.includes(`mode ${mode.toString(8)}`) && e.message.includes("chmod 600"),
      mode.toString(8),
    );
  }
  for (const mode of [0o600, 0o400]) {
    chmodSync(p, mode);
    assert.equal(loadKeyFile(p).keyId, "k1");
  }
});

test("loadKeyFile refuses a key file whose public key does not match its seed", () => {
  const p = join(dir, "c.json");
  writeKeyFile(p, { ...key, publicKey: "00".repeat(32) });
  assert.throws(() => loadKeyFile(p), /publicKey does not match the seed/);
  assert.equal(JSON.parse(readFileSync(p, "utf8")).owner, "bank-a");
});

// Passphrase-encrypted key files (issue 13): scrypt + AES-256-GCM; garbage fails with a reason.
const pass = { value: "correct horse battery staple", source: "TALLY_KEY_PASSPHRASE" };
const sealedFile = (name: string): string => {
  const p = join(dir, name);
  writeKeyFile(p, key, pass);
  return p;
};
const edit = (p: string, f: (json: { encrypted: Record<string, string> } & Record<string, unknown>) => void): void => {
  const json = JSON.parse(readFileSync(p, "utf8"));
  f(json);
  writeFileSync(p, JSON.stringify(json), { mode: 0o600 });
};
const flipHex = (h: string): string => (h[0] === "0" ? "1" : "0") + h.slice(1);

test("an encrypted key file holds no seed, is 0600, and loads with the passphrase to the same key", () => {
  const p = sealedFile("enc.json");
  const text = readFileSync(p, "utf8");
  assert.ok(!text.includes(key.seed), "the seed is not in the file");
  assert.ok(!text.includes('"seed"'));
  assert.equal(statSync(p).mode & 0o777, 0o600);
  const k = loadKeyFile(p, pass);
  assert.equal(k.owner, "bank-a");
  assert.equal(k.keyId, "k1");
  assert.equal(toHex(k.key.publicKey), key.publicKey);
  // Two writes of the same key differ (fresh salt and IV).
  assert.notEqual(readFileSync(sealedFile("enc2.json"), "utf8"), text);
});

test("an encrypted key file without a passphrase names both variables", () => {
  const p = sealedFile("nopass.json");
  assert.throws(
    () => loadKeyFile(p, undefined),
    (e: unknown) => e instanceof ConfigError && /is encrypted: set TALLY_KEY_PASSPHRASE or TALLY_KEY_PASSPHRASE_FILE/.test(e.message),
  );
});

test("a wrong passphrase fails naming the variable it came from", () => {
  const p = sealedFile("wrong.json");
  for (const source of ["TALLY_KEY_PASSPHRASE", "TALLY_KEY_PASSPHRASE_FILE"]) {
    assert.throws(
      () => loadKeyFile(p, { value: "Correct horse battery staple", source }),
      (e: unknown) => e instanceof ConfigError && e.message.includes(`cannot decrypt with the passphrase from ${source}`),
    );
  }
});

test("tampered ciphertext, tag, IV or salt, or a changed keyId or owner, fails to decrypt", () => {
  for (const field of ["ciphertext", "tag", "iv", "salt"]) {
    const p = sealedFile(`tamper-${field}.json`);
    edit(p, (j) => (j.encrypted[field] = flipHex(j.encrypted[field]!)));
    assert.throws(() => loadKeyFile(p, pass), /cannot decrypt/, field);
  }
  for (const [field, value] of [
    ["keyId", "k2"],
    ["owner", "bank-b"],
  ] as const) {
    const p = sealedFile(`tamper-${field}.json`);
    edit(p, (j) => (j[field] = value));
    assert.throws(() => loadKeyFile(p, pass), /cannot decrypt/, field);
  }
});

test("garbage key files fail with a reason: truncated, not an object, bad fields, unknown kdf", () => {
  const p = sealedFile("trunc.json");
  const text = readFileSync(p, "utf8");
  writeFileSync(p, text.slice(0, text.length / 2), { mode: 0o600 });
  assert.throws(() => loadKeyFile(p, pass), /is not valid JSON/);
  writeFileSync(p, "null", { mode: 0o600 });
  assert.throws(() => loadKeyFile(p, pass), /lacks owner or keyId/);
  const cases: [string, (j: { encrypted: Record<string, string> } & Record<string, unknown>) => void, RegExp][] = [
    ["short ciphertext", (j) => (j.encrypted.ciphertext = j.encrypted.ciphertext!.slice(0, 40)), /encrypted.ciphertext must be 32 bytes/],
    ["non-hex salt", (j) => (j.encrypted.salt = "zz".repeat(16)), /encrypted.salt must be 16 bytes/],
    ["other kdf", (j) => (j.encrypted.kdf = "scrypt-n1073741824-r8-p1"), /unsupported encryption/],
    ["encrypted not an object", (j) => (j.encrypted = "x" as never), /encrypted must be an object/],
    ["no public key", (j) => delete j.publicKey, /needs its publicKey/],
  ];
  for (const [what, f, message] of cases) {
    const q = sealedFile(`garbage.json`);
    edit(q, f);
    assert.throws(
      () => loadKeyFile(q, pass),
      (e: unknown) => e instanceof ConfigError && message.test(e.message),
      what,
    );
  }
  const plain = join(dir, "short-seed.json");
  writeKeyFile(plain, { ...key, seed: "abcd" }, undefined);
  assert.throws(() => loadKeyFile(plain, undefined), /lacks a 32-byte hex seed/);
});

test("a plain key file still loads when a passphrase is set (both forms are read)", () => {
  const p = join(dir, "plain.json");
  writeKeyFile(p, key, undefined);
  assert.equal(loadKeyFile(p, pass).keyId, "k1");
});

test("keyPassphrase: the variable, or the file (one newline dropped); both, an empty or a missing file is refused", () => {
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  assert.equal(keyPassphrase(env({})), undefined);
  assert.deepEqual(keyPassphrase(env({ TALLY_KEY_PASSPHRASE: "s3cret" })), { value: "s3cret", source: "TALLY_KEY_PASSPHRASE" });
  const f = join(dir, "pass.txt");
  writeFileSync(f, "from file\n");
  assert.deepEqual(keyPassphrase(env({ TALLY_KEY_PASSPHRASE_FILE: f })), { value: "from file", source: "TALLY_KEY_PASSPHRASE_FILE" });
  assert.throws(() => keyPassphrase(env({ TALLY_KEY_PASSPHRASE: "a", TALLY_KEY_PASSPHRASE_FILE: f })), /not both/);
  assert.throws(() => keyPassphrase(env({ TALLY_KEY_PASSPHRASE_FILE: join(dir, "none.txt") })), /TALLY_KEY_PASSPHRASE_FILE: cannot read/);
  writeFileSync(f, "\n");
  assert.throws(() => keyPassphrase(env({ TALLY_KEY_PASSPHRASE_FILE: f })), /TALLY_KEY_PASSPHRASE_FILE: .* is empty/);
});
