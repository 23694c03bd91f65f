import { test } from "node:test";
import assert from "node:assert/strict";
import { sha256 } from "@tally/ledger";
import { SeenTxFilter } from "./seen-tx-filter.js";

const id = (n: number): Uint8Array => sha256(new TextEncoder().encode(`tx ${n}`));

test("every id added is reported as maybe seen, across the filter's growth (no false negatives)", () => {
  const f = new SeenTxFilter(1_000_000, 1024);
  for (let i = 0; i < 20_000; i++) f.add(id(i));
  assert.equal(f.size, 20_000);
  for (let i = 0; i < 20_000; i++) assert.equal(f.mayContain(id(i)), true, `id ${i}`);
});

test("ids never added are mostly reported as never seen (false positives stay near 1 % per stage)", () => {
  const f = new SeenTxFilter(1_000_000, 1024);
  for (let i = 0; i < 20_000; i++) f.add(id(i));
  let fp = 0;
  for (let i = 1_000_000; i < 1_020_000; i++) if (f.mayContain(id(i))) fp++;
  // 5 stages (1k, 2k, 4k, 8k, 16k capacity) at ~1 % each: well under 10 % in all.
  assert.ok(fp < 2_000, `${fp} false positives of 20,000`);
  assert.ok(fp < 20_000);
});

test("an empty filter has seen nothing; a wrong-sized id may always have been seen", () => {
  const f = new SeenTxFilter();
  assert.equal(f.mayContain(id(1)), false);
  assert.equal(f.mayContain(new Uint8Array(31)), true);
  assert.throws(() => f.add(new Uint8Array(33)), TypeError);
});

test("past its bound the filter frees itself and answers 'maybe' for every id", () => {
  const f = new SeenTxFilter(100, 64);
  for (let i = 0; i < 100; i++) f.add(id(i));
  assert.equal(f.usable, true);
  assert.equal(f.mayContain(id(5_000)), false);
  f.add(id(100));
  assert.equal(f.usable, false);
  assert.equal(f.mayContain(id(5_000)), true);
});
