import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { isWellSized, type SignatureCheck, type SignatureVerifier } from "./signature-check.js";
import { packChecks, type VerifyRequest, type VerifyResponse } from "./verify-wire.js";

/** How a VerifyPool is sized and bounded. */
export interface VerifyPoolOptions {
  /** Worker threads; default: the cores available. */
  readonly workers?: number;
  /** Most checks sent to a worker in one message. */
  readonly chunkChecksMax?: number;
  /** Most chunks waiting for a worker; callers beyond it wait for room. */
  readonly queuedChunksMax?: number;
}

/** Raised when a verify worker fails: it is our bug or the process is out of resources, never retried. */
export class VerifyPoolError extends Error {
  override readonly name = "VerifyPoolError";
  readonly retryable = false;
}

interface Chunk {
  readonly request: VerifyRequest;
  readonly resolve: (valid: Uint8Array) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  busy: Chunk | undefined;
}

const WORKERS_MAX = 64;

/**
 * A bounded pool of worker threads that verify Ed25519 signatures: checks are cut into chunks,
 * queued in order, and each idle worker takes the next chunk. It answers only the raw check;
 * the executor still decides, in order, which key applies and whether it is active.
 */
export class VerifyPool implements SignatureVerifier {
  private readonly slots: Slot[];
  private readonly queue: Chunk[] = [];
  private readonly roomWaiters: (() => void)[] = [];
  private readonly chunkChecksMax: number;
  private readonly queuedChunksMax: number;
  private nextId = 0;
  private failure: Error | undefined;

  constructor(o: VerifyPoolOptions = {}) {
    const workers = o.workers ?? availableParallelism();
    if (!Number.isInteger(workers) || workers < 1 || workers > WORKERS_MAX)
      throw new RangeError(`workers must be 1..${WORKERS_MAX}, got ${workers}`);
    this.chunkChecksMax = o.chunkChecksMax ?? 128;
    this.queuedChunksMax = o.queuedChunksMax ?? 1024;
    if (this.chunkChecksMax < 1 || this.queuedChunksMax < 1) throw new RangeError("chunkChecksMax and queuedChunksMax must be at least 1");
    const url = new URL("./verify-worker.js", import.meta.url);
    this.slots = Array.from({ length: workers }, () => {
      const slot: Slot = { worker: new Worker(url), busy: undefined };
      // An idle worker does not keep the process alive; a busy one does, until it answers.
      slot.worker.unref();
      slot.worker.on("message", (res: VerifyResponse) => this.done(slot, res));
      slot.worker.on("error", (e) => this.fail(new VerifyPoolError("a verify worker failed", { cause: e })));
      slot.worker.on("exit", (code) => {
        if (this.failure === undefined) this.fail(new VerifyPoolError(`a verify worker exited with code ${code}`));
      });
      return slot;
    });
  }

  /** The number of worker threads. */
  get size(): number {
    return this.slots.length;
  }

  async verifyAll(checks: readonly SignatureCheck[]): Promise<boolean[]> {
    const out = new Array<boolean>(checks.length).fill(false);
    // Checks of the wrong size are false without a worker (as ed25519Verify answers them).
    const indexes: number[] = [];
    for (let i = 0; i < checks.length; i++) if (isWellSized(checks[i]!.publicKey, checks[i]!.signature)) indexes.push(i);
    const parts: Promise<void>[] = [];
    for (let from = 0; from < indexes.length; from += this.chunkChecksMax) {
      const idx = indexes.slice(from, from + this.chunkChecksMax);
      const packed = packChecks(idx.map((i) => checks[i]!));
      while (this.queue.length >= this.queuedChunksMax && this.failure === undefined) {
        await new Promise<void>((r) => this.roomWaiters.push(r));
      }
      const part = this.submit({ id: this.nextId++, count: idx.length, packed }).then((valid) => {
        for (let k = 0; k < idx.length; k++) out[idx[k]!] = valid[k] === 1;
      });
      // Handled here so that a failure while later chunks wait for room is not an unhandled rejection;
      // Promise.all below still rejects with it.
      part.catch(() => undefined);
      parts.push(part);
    }
    await Promise.all(parts);
    return out;
  }

  /** Terminates the workers; chunks in flight or queued reject with VerifyPoolError. */
  async close(): Promise<void> {
    if (this.failure === undefined) this.fail(new VerifyPoolError("the verify pool is closed"));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private submit(request: VerifyRequest): Promise<Uint8Array> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<Uint8Array>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.busy !== undefined) continue;
      const chunk = this.queue.shift();
      if (chunk === undefined) break;
      slot.busy = chunk;
      slot.worker.ref();
      slot.worker.postMessage(chunk.request, [chunk.request.packed]);
      this.roomWaiters.shift()?.();
    }
  }

  private done(slot: Slot, res: VerifyResponse): void {
    const chunk = slot.busy;
    slot.busy = undefined;
    slot.worker.unref();
    if (chunk === undefined || chunk.request.id !== res.id) {
      this.fail(new VerifyPoolError(`a verify worker answered chunk ${res.id}, which it was not given`));
      return;
    }
    chunk.resolve(res.valid);
    this.pump();
  }

  private fail(e: Error): void {
    if (this.failure !== undefined) return;
    this.failure = e;
    for (const slot of this.slots) {
      slot.busy?.reject(e);
      slot.busy = undefined;
    }
    for (const chunk of this.queue.splice(0)) chunk.reject(e);
    for (const wake of this.roomWaiters.splice(0)) wake();
  }
}
