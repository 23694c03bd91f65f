// Key custody (issue 13): key files are written 0600, and one that others can read is refused.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signingKeyFromSeed, toHex } from "@tally/ledger";
import { ConfigError } from "./env.js";
import { loadKeyFile, writeKeyFile } from "./files.js";

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
