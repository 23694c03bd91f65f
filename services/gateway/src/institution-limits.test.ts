import { test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { RpcError } from "@tally/rpc";
import { InstitutionLimits } from "./institution-limits.js";

function refusal(f: () => unknown): RpcError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof RpcError);
    return e;
  }
  assert.fail("expected a refusal");
}

test("the in-flight bound is per institution, and a release frees the slot (once)", () => {
  const l = new InstitutionLimits({ inFlightMax: 2, ratePerSec: 0, burst: 1 }, () => 0);
  const a1 = l.acquire("bank-a");
  l.acquire("bank-a");
  const e = refusal(() => l.acquire("bank-a"));
  assert.equal(e.code, status.RESOURCE_EXHAUSTED);
  assert.equal(e.reason, "INSTITUTION_BUSY");
  assert.equal(e.metadata["retry-after-ms"], "50");
  // Another institution is not affected.
  l.acquire("bank-b");
  a1();
  a1();
  assert.equal(l.inFlight("bank-a"), 1);
  l.acquire("bank-a");
});

test("the token bucket allows a burst, then the rate, and says when the next token is due", () => {
  let now = 1_000_000;
  const l = new InstitutionLimits({ inFlightMax: 1000, ratePerSec: 10, burst: 3 }, () => now);
  for (let i = 0; i < 3; i++) l.acquire("bank-a")();
  const e = refusal(() => l.acquire("bank-a"));
  assert.equal(e.reason, "RATE_LIMITED");
  assert.equal(e.metadata["retry-after-ms"], "100");
  now += 40;
  assert.equal(refusal(() => l.acquire("bank-a")).metadata["retry-after-ms"], "60");
  now += 60;
  l.acquire("bank-a")();
  // Idle time refills up to the burst, not beyond.
  now += 60_000;
  for (let i = 0; i < 3; i++) l.acquire("bank-a")();
  refusal(() => l.acquire("bank-a"));
  // bank-b has its own bucket.
  l.acquire("bank-b")();
});
