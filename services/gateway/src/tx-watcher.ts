import { toHex } from "@tally/ledger";
import type { KnownStatus, TxStatusReader } from "./tx-status-reader.js";

/** A waiter's callback: called each time the known status of its tx changes. */
export type StatusListener = (s: KnownStatus) => void;

interface Waiter {
  readonly id: Uint8Array;
  readonly listener: StatusListener;
  last: string;
}

/**
 * Watches the node's database for the progress of transactions that clients wait on. One
 * batched query per wake-up serves every waiter. Wake-ups come from the node's height
 * notices, and from a poll while anyone waits. The number of waiters is bounded.
 */
export class TxWatcher {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private count = 0;
  private running = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly reader: TxStatusReader,
    private readonly waitersMax: number,
    private readonly pollMs = 250,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Registers a listener; returns an unsubscribe, or undefined when the watcher is full. */
  watch(id: Uint8Array, listener: StatusListener): (() => void) | undefined {
    if (this.count >= this.waitersMax) return undefined;
    const key = toHex(id);
    const w: Waiter = { id, listener, last: "" };
    let set = this.waiters.get(key);
    if (set === undefined) this.waiters.set(key, (set = new Set()));
    set.add(w);
    this.count++;
    this.schedule();
    void this.check();
    return () => {
      if (set.delete(w)) this.count--;
      if (set.size === 0) this.waiters.delete(key);
    };
  }

  /** Call on every height notice from the node's services. */
  wake(): void {
    void this.check();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.count === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.check().finally(() => this.schedule());
    }, this.pollMs);
  }

  private async check(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        if (this.waiters.size === 0) break;
        const ids = [...this.waiters.values()].map((s) => s.values().next().value!.id);
        const statuses = await this.reader.statuses(ids).catch(() => new Map<string, KnownStatus>());
        for (const [key, s] of statuses) {
          const sig = `${s.sequencedAt ?? ""}/${s.result?.height ?? ""}/${s.final === true}`;
          for (const w of this.waiters.get(key) ?? []) {
            if (w.last === sig) continue;
            w.last = sig;
            w.listener(s);
          }
        }
      } while (this.again);
    } finally {
      this.running = false;
    }
  }
}
