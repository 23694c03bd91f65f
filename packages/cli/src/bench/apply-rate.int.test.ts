// The apply-rate bench's workloads run through the real executor loop against PostgreSQL: every
// timed transaction commits (a workload that measured rejections would measure the wrong path).
// No timing is asserted here; `npm run bench -- --apply` prints the rates.
import { test } from "node:test";
import assert from "node:assert/strict";
import { measureApply } from "./apply-rate.js";
import { APPLY_WORKLOADS } from "./apply-workloads.js";

for (const w of APPLY_WORKLOADS) {
  test(`apply workload ${w.name}: every timed transaction commits`, { timeout: 60_000 }, async () => {
    const r = await measureApply(w, { txs: 120, blockSize: 50, parties: 8 });
    assert.equal(r.txs, 120);
    assert.equal(r.committed, r.txs);
    assert.ok(r.tx_per_s > 0);
  });
}
