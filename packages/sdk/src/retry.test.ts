import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { backoffMs, withRetry, type RetryEnv, type RetryPolicy } from "./retry.js";
import { TallyError } from "./tally-error.js";

const POLICY: RetryPolicy = { attemptsMax: 5, backoffInitialMs: 100, backoffMaxMs: 1000, totalMs: 10_000 };

function fakeEnv(random = 0.999): RetryEnv & { waits: number[] } {
  let now = 0;
  const waits: number[] = [];
  return {
    waits,
    nowMs: () => now,
    sleep: async (ms) => {
      waits.push(ms);
      now += ms;
    },
    random: () => random,
  };
}

const unavailable = (retryAfterMs?: number): TallyError =>
  new TallyError(status.UNAVAILABLE, "BUS_UNAVAILABLE", "down", retryAfterMs === undefined ? {} : { retryAfterMs });

describe("backoff", () => {
  test("full jitter under a doubling ceiling, capped, never below the server's hint", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => backoffMs(POLICY, n, 0.999, undefined)),
      [99, 199, 399, 799, 999, 999],
    );
    assert.equal(backoffMs(POLICY, 3, 0, undefined), 0);
    assert.equal(backoffMs(POLICY, 1, 0.5, 700), 700);
    assert.equal(backoffMs(POLICY, 60, 0.999, undefined), 999, "no overflow at large retry counts");
  });
});

describe("withRetry", () => {
  test("retries UNAVAILABLE and RESOURCE_EXHAUSTED, then returns the success", async () => {
    const env = fakeEnv();
    const seen: number[] = [];
    const r = await withRetry(
      async (n) => {
        seen.push(n);
        if (n === 1) throw unavailable();
        if (n === 2) throw new TallyError(status.RESOURCE_EXHAUSTED, "GATEWAY_BUSY", "full", { retryAfterMs: 300 });
        return "ok";
      },
      POLICY,
      env,
    );
    assert.equal(r, "ok");
    assert.deepEqual(seen, [1, 2, 3]);
    assert.deepEqual(env.waits, [99, 300]);
  });

  test("any other status is thrown at once", async () => {
    const env = fakeEnv();
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls++;
          throw new TallyError(status.DEADLINE_EXCEEDED, "WAIT_TIMEOUT", "late");
        },
        POLICY,
        env,
      ),
      (e: unknown) => e instanceof TallyError && e.reason === "WAIT_TIMEOUT",
    );
    assert.equal(calls, 1);
    assert.deepEqual(env.waits, []);
  });

  test("gives up after attemptsMax, with the last error, its reason and the attempts made", async () => {
    const env = fakeEnv();
    await assert.rejects(
      withRetry(() => Promise.reject(unavailable()), POLICY, env),
      (e: unknown) =>
        e instanceof TallyError && e.code === status.UNAVAILABLE && e.reason === "BUS_UNAVAILABLE" && e.details.attempts === 5,
    );
    assert.equal(env.waits.length, 4);
  });

  test("gives up when the next wait would pass the total time", async () => {
    const env = fakeEnv();
    await assert.rejects(
      withRetry(() => Promise.reject(unavailable(4000)), { ...POLICY, totalMs: 9000 }, env),
      (e: unknown) => e instanceof TallyError && e.details.attempts === 3,
    );
    assert.deepEqual(env.waits, [4000, 4000]);
  });

  test("a grpc-js ServiceError is mapped to a TallyError, its retry-after trailer read", async () => {
    const { Metadata } = await import("@grpc/grpc-js");
    const md = new Metadata();
    md.set("tally-reason", "GATEWAY_BUSY");
    md.set("retry-after-ms", "250");
    const env = fakeEnv();
    let n = 0;
    const r = await withRetry(
      async () => {
        if (n++ === 0) throw Object.assign(new Error("busy"), { code: status.RESOURCE_EXHAUSTED, details: "busy", metadata: md });
        return n;
      },
      POLICY,
      env,
    );
    assert.equal(r, 2);
    assert.deepEqual(env.waits, [250]);
  });
});
