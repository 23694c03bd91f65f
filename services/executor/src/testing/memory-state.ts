// An in-memory implementation of the executor's StateReader port, plus the seen-tx-id set,
// for unit tests. It passes the same contract suite (state-reader-contract.ts) as DbStateReader.
import { toHex, type JsonValue } from "@tally/ledger";
import type { BlockEffects } from "../block-executor.js";
import type { StateReader } from "../state-reader.js";

/** Contract state and tx results held in maps, updated the way EffectsStore.commit updates the tables. */
export class MemoryState implements StateReader {
  private readonly state = new Map<string, Map<string, JsonValue>>();
  private readonly seenIds = new Set<string>();

  /** A deep, independent copy. */
  clone(): MemoryState {
    const c = new MemoryState();
    for (const [contract, kv] of this.state) c.state.set(contract, new Map(kv));
    for (const id of this.seenIds) c.seenIds.add(id);
    return c;
  }

  /** Applies a block's effects: state upserts and deletes, and its tx ids as seen. */
  apply(e: BlockEffects): void {
    for (const [contract, changes] of e.updates) {
      let kv = this.state.get(contract);
      if (kv === undefined) this.state.set(contract, (kv = new Map()));
      for (const [k, v] of changes) {
        if (v === null) kv.delete(k);
        else kv.set(k, structuredClone(v));
      }
    }
    for (const r of e.results) if (r.authenticated) this.seenIds.add(toHex(r.txId));
  }

  /** Sets one entry directly (to give a test a prior state). */
  set(contract: string, key: string, value: JsonValue): void {
    let kv = this.state.get(contract);
    if (kv === undefined) this.state.set(contract, (kv = new Map()));
    kv.set(key, value);
  }

  get(contract: string, key: string): JsonValue | undefined {
    return this.state.get(contract)?.get(key);
  }

  load(contract: string, keys: readonly string[]): Promise<Map<string, JsonValue>> {
    const kv = this.state.get(contract);
    const out = new Map<string, JsonValue>();
    for (const k of keys) {
      const v = kv?.get(k);
      if (v !== undefined) out.set(k, structuredClone(v));
    }
    return Promise.resolve(out);
  }

  loadAll(contract: string): Promise<Map<string, JsonValue>> {
    const kv = this.state.get(contract) ?? new Map<string, JsonValue>();
    const keys = [...kv.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return Promise.resolve(new Map(keys.map((k) => [k, structuredClone(kv.get(k) as JsonValue)])));
  }

  async scan(contract: string, prefix: string, limit: number): Promise<Map<string, JsonValue>> {
    const all = await this.loadAll(contract);
    return new Map([...all].filter(([k]) => k.startsWith(prefix)).slice(0, limit));
  }

  /** The SeenTxIds port over the results applied so far. */
  readonly seen = (ids: readonly Uint8Array[]): Promise<Set<string>> =>
    Promise.resolve(new Set(ids.map(toHex).filter((h) => this.seenIds.has(h))));
}
