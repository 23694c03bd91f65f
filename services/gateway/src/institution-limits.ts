import { status } from "@grpc/grpc-js";
import { RpcError } from "@tally/rpc";

/** Per-institution backpressure settings. */
export interface InstitutionLimitsConfig {
  /** Calls (each submitted tx, each query) one institution may have in progress at once. */
  readonly inFlightMax: number;
  /** Token-bucket refill, per second; 0 disables the rate limit. */
  readonly ratePerSec: number;
  /** Bucket size: the burst allowed above the rate. */
  readonly burst: number;
}

interface Bucket {
  inFlight: number;
  tokens: number;
  refilledAtMs: number;
}

/**
 * Bounded in-flight work and a token-bucket rate per institution, so one busy member cannot
 * starve the others on a shared gateway. Past either, RESOURCE_EXHAUSTED with `retry-after-ms`:
 * when the next token is due, or a short pause for in-flight work to finish.
 */
export class InstitutionLimits {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly cfg: InstitutionLimitsConfig,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Takes an in-flight slot and a token for the institution; call the returned release when done. Throws when over a limit. */
  acquire(institution: string): () => void {
    const now = this.nowMs();
    let b = this.buckets.get(institution);
    if (b === undefined) {
      b = { inFlight: 0, tokens: this.cfg.burst, refilledAtMs: now };
      this.buckets.set(institution, b);
    }
    if (b.inFlight >= this.cfg.inFlightMax) {
      throw new RpcError(
        status.RESOURCE_EXHAUSTED,
        `${institution} has ${this.cfg.inFlightMax} calls in flight, the most allowed; retry shortly`,
        "INSTITUTION_BUSY",
        { "retry-after-ms": "50" },
      );
    }
    if (this.cfg.ratePerSec > 0) {
      b.tokens = Math.min(this.cfg.burst, b.tokens + ((now - b.refilledAtMs) * this.cfg.ratePerSec) / 1000);
      b.refilledAtMs = now;
      if (b.tokens < 1) {
        const retryMs = Math.max(1, Math.ceil(((1 - b.tokens) * 1000) / this.cfg.ratePerSec));
        throw new RpcError(
          status.RESOURCE_EXHAUSTED,
          `${institution} is over its rate of ${this.cfg.ratePerSec} calls/s; retry in ${retryMs} ms`,
          "RATE_LIMITED",
          { "retry-after-ms": String(retryMs) },
        );
      }
      b.tokens -= 1;
    }
    b.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      b.inFlight--;
    };
  }

  /** Calls in flight for an institution (for tests and metrics). */
  inFlight(institution: string): number {
    return this.buckets.get(institution)?.inFlight ?? 0;
  }
}
