import type { SignatureCheck, SignatureVerifier } from "./signature-check.js";

/** How a BatchingVerifier gathers checks. */
export interface BatchingVerifierOptions {
  /** Most checks sent in one batch; a full batch goes at once. */
  readonly batchChecksMax?: number;
}

interface Waiting {
  readonly check: SignatureCheck;
  readonly resolve: (valid: boolean) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Gathers single checks made during one turn of the event loop into one verifyAll call, so many
 * concurrent callers (a gateway admitting one transaction per request) cost one message to a
 * worker pool per batch instead of one each. Bounded: a full batch is sent at once.
 */
export class BatchingVerifier {
  private batch: Waiting[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private readonly batchChecksMax: number;

  constructor(
    private readonly inner: SignatureVerifier,
    o: BatchingVerifierOptions = {},
  ) {
    this.batchChecksMax = o.batchChecksMax ?? 256;
    if (!Number.isInteger(this.batchChecksMax) || this.batchChecksMax < 1) throw new RangeError("batchChecksMax must be at least 1");
  }

  /** Whether signature signs message under publicKey. */
  verify(check: SignatureCheck): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.batch.push({ check, resolve, reject });
      if (this.batch.length >= this.batchChecksMax) this.flush();
      else this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Every check answered, in order (a convenience over verify). */
  verifyAll(checks: readonly SignatureCheck[]): Promise<boolean[]> {
    return Promise.all(checks.map((c) => this.verify(c)));
  }

  /** Stops the inner verifier. */
  close(): Promise<void> {
    this.flush();
    return this.inner.close();
  }

  private flush(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0) return;
    this.inner.verifyAll(batch.map((w) => w.check)).then(
      (valid) => batch.forEach((w, i) => w.resolve(valid[i] === true)),
      (e: unknown) => batch.forEach((w) => w.reject(e)),
    );
  }
}
