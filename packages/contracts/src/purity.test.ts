// Contracts must replay identically on every node: no I/O, no clock, no randomness.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith(".js") && !name.endsWith(".test.js")) out.push(p);
  }
  return out;
}

test("compiled contract code imports only @tally/ledger and its own files, and reads no clock or randomness", () => {
  const files = sources(import.meta.dirname);
  assert.ok(files.length >= 10, `found only ${files.length} compiled files`);
  for (const f of files) {
    const js = readFileSync(f, "utf8");
    for (const m of js.matchAll(/\bfrom\s+"([^"]+)"|\bimport\s*\(\s*"([^"]+)"/g)) {
      const spec = m[1] ?? m[2] ?? "";
      assert.ok(spec === "@tally/ledger" || spec.startsWith("./") || spec.startsWith("../"), `${f} imports ${spec}`);
    }
    for (const banned of [/\bDate\b/, /Math\.random/, /\bprocess\./, /\brequire\(/, /\bglobalThis\b/, /\bperformance\./, /\bcrypto\./]) {
      assert.doesNotMatch(js, banned, `${f} uses ${banned.source}`);
    }
  }
});
