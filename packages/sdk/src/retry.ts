// Automatic retries of calls that are safe to repeat. A submission is: the client resends the
// exact signed bytes, so the tx id is the same and the gateway answers a repeat with `duplicate`
// (and JetStream's dedup window catches one racing the first). Only UNAVAILABLE and
// RESOURCE_EXHAUSTED are retried; every other status is the answer.
import { TallyError, toTallyError } from "./tally-error.js";

/** How the client retries UNAVAILABLE and RESOURCE_EXHAUSTED. */
export interface RetryPolicy {
  /** Most attempts in all, the first included (default 5; 1 disables retries). */
  readonly attemptsMax: number;
  /** The first backoff (default 100 ms); it doubles each time, up to backoffMaxMs. */
  readonly backoffInitialMs: number;
  /** The largest backoff (default 5 s). */
  readonly backoffMaxMs: number;
  /** No attempt starts after this much time since the first (default 30 s). */
  readonly totalMs: number;
}

/** The defaults: 5 attempts, backoff 100 ms doubling to at most 5 s, 30 s in all. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { attemptsMax: 5, backoffInitialMs: 100, backoffMaxMs: 5000, totalMs: 30_000 };

/** The clock, sleep and randomness a retry loop uses; tests replace them. */
export interface RetryEnv {
  readonly nowMs: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Uniform in [0, 1). */
  readonly random: () => number;
}

/** Real time and Math.random. */
export const REAL_RETRY_ENV: RetryEnv = {
  nowMs: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/**
 * The wait before retry number `retry` (1 for the first retry): "full jitter" over an
 * exponential ceiling, so clients that failed together do not come back together; never less
 * than the server's retry-after hint.
 */
export function backoffMs(policy: RetryPolicy, retry: number, random: number, retryAfterMs: number | undefined): number {
  const ceiling = Math.min(policy.backoffMaxMs, policy.backoffInitialMs * 2 ** Math.min(retry - 1, 30));
  const jittered = Math.floor(random * ceiling);
  return Math.max(jittered, retryAfterMs ?? 0);
}

/**
 * Runs `attempt` until it succeeds, fails with a status that is not retryable, or the policy's
 * attempts or total time run out; then throws the last TallyError with `attempts` set.
 * `onRetry` sees each retryable failure and the wait that follows it.
 */
export async function withRetry<T>(
  attempt: (n: number) => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  env: RetryEnv = REAL_RETRY_ENV,
  onRetry: (e: TallyError, waitMs: number) => void = () => undefined,
): Promise<T> {
  const started = env.nowMs();
  for (let n = 1; ; n++) {
    let err: unknown;
    try {
      return await attempt(n);
    } catch (e) {
      err = toTallyError(e);
    }
    if (!(err instanceof TallyError) || !err.retryable) throw err;
    const waitMs = backoffMs(policy, n, env.random(), err.details.retryAfterMs);
    const outOfTime = env.nowMs() - started + waitMs > policy.totalMs;
    if (n >= policy.attemptsMax || outOfTime) {
      throw new TallyError(err.code, err.reason, `${err.message} (gave up after ${n} attempt${n === 1 ? "" : "s"})`, {
        ...err.details,
        attempts: n,
        cause: err,
      });
    }
    onRetry(err, waitMs);
    await env.sleep(waitMs);
  }
}
