import { sql, type Kysely } from "kysely";
import { preparedQuery, type Database } from "@tally/db";
import type { JsonValue } from "@tally/ledger";

/** Reads contract state entries by key. The executor's only read port during a block. */
export interface StateReader {
  load(contract: string, keys: readonly string[]): Promise<Map<string, JsonValue>>;
  loadAll(contract: string): Promise<Map<string, JsonValue>>;
  /** The first `limit` entries, in key order, whose keys start with prefix. */
  scan(contract: string, prefix: string, limit: number): Promise<Map<string, JsonValue>>;
}

/**
 * The committed contract state entries the executor read or wrote last, absent ones included (as
 * null), bounded (the oldest entry goes first). The executor alone writes contract_state, and it
 * writes through this cache after each commit (EffectsStore), so an entry here is the entry in
 * the table. Values are shared, as LayeredStateReader shares a batch's uncommitted writes: state
 * values are never mutated in place.
 */
export class StateCache {
  private readonly entries = new Map<string, JsonValue | null>();

  constructor(readonly maxEntries = 100_000) {}

  get size(): number {
    return this.entries.size;
  }

  /** The cached value (null: known absent), or undefined when not cached. */
  get(contract: string, key: string): JsonValue | null | undefined {
    return this.entries.get(`${contract}\u0000${key}`);
  }

  set(contract: string, key: string, value: JsonValue | null): void {
    const k = `${contract}\u0000${key}`;
    this.entries.delete(k);
    this.entries.set(k, value);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}

/** StateReader over the node's contract_state table (through a StateCache of it, when given one). */
export class DbStateReader implements StateReader {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly cache?: StateCache,
  ) {}

  async load(contract: string, keys: readonly string[]): Promise<Map<string, JsonValue>> {
    const cache = this.cache;
    if (cache === undefined) return this.loadFromDb(contract, keys);
    const out = new Map<string, JsonValue>();
    const missing: string[] = [];
    for (const k of keys) {
      const v = cache.get(contract, k);
      if (v === undefined) missing.push(k);
      else if (v !== null) out.set(k, v);
    }
    if (missing.length === 0) return out;
    const loaded = await this.loadFromDb(contract, missing);
    for (const k of missing) {
      const v = loaded.get(k);
      cache.set(contract, k, v ?? null);
      if (v !== undefined) out.set(k, v);
    }
    return out;
  }

  private async loadFromDb(contract: string, keys: readonly string[]): Promise<Map<string, JsonValue>> {
    const out = new Map<string, JsonValue>();
    if (keys.length === 0) return out;
    // One prepared statement whatever the number of keys (an array parameter).
    const rows = await preparedQuery<{ key: string; value: JsonValue }>(
      this.db,
      "tally_state_load",
      "select key, value from contract_state where contract = $1::text and key = any($2::text[])",
      [contract, keys],
    );
    for (const r of rows) out.set(r.key, r.value);
    return out;
  }

  async scan(contract: string, prefix: string, limit: number): Promise<Map<string, JsonValue>> {
    // Key order is byte order (COLLATE "C"), as contracts and JavaScript compare ASCII keys.
    const rows = await this.db
      .selectFrom("contract_state")
      .select(["key", "value"])
      .where("contract", "=", contract)
      .where(sql<boolean>`starts_with(key, ${prefix})`)
      .orderBy(sql`key COLLATE "C"`)
      .limit(limit)
      .execute();
    return new Map(rows.map((r) => [r.key, r.value as JsonValue]));
  }

  async loadAll(contract: string): Promise<Map<string, JsonValue>> {
    const rows = await this.db
      .selectFrom("contract_state")
      .select(["key", "value"])
      .where("contract", "=", contract)
      .orderBy("key")
      .execute();
    return new Map(rows.map((r) => [r.key, r.value as JsonValue]));
  }
}

/**
 * A StateReader that sees writes not yet committed (earlier blocks of the same batch) over
 * another reader. Pending deletions hide the base's value.
 */
export class LayeredStateReader implements StateReader {
  private readonly pending = new Map<string, Map<string, JsonValue | null>>();

  constructor(private base: StateReader) {}

  /** Reads through another base from now on (the one below was committed into it). */
  rebase(base: StateReader): void {
    this.base = base;
  }

  /** Records a block's changes: contract → key → value (null deletes). */
  apply(updates: ReadonlyMap<string, ReadonlyMap<string, JsonValue | null>>): void {
    for (const [contract, changes] of updates) {
      let m = this.pending.get(contract);
      if (m === undefined) this.pending.set(contract, (m = new Map()));
      for (const [k, v] of changes) m.set(k, v);
    }
  }

  async load(contract: string, keys: readonly string[]): Promise<Map<string, JsonValue>> {
    const mine = this.pending.get(contract);
    const rest = mine === undefined ? keys : keys.filter((k) => !mine.has(k));
    const out = rest.length > 0 ? await this.base.load(contract, rest) : new Map<string, JsonValue>();
    if (mine !== undefined) {
      for (const k of keys) {
        const v = mine.get(k);
        if (v !== undefined && v !== null) out.set(k, v);
      }
    }
    return out;
  }

  async scan(contract: string, prefix: string, limit: number): Promise<Map<string, JsonValue>> {
    // Pending entries under the prefix are merged over the base's, then cut back to the limit.
    const out = await this.base.scan(contract, prefix, limit + (this.pending.get(contract)?.size ?? 0));
    for (const [k, v] of this.pending.get(contract) ?? []) {
      if (!k.startsWith(prefix)) continue;
      if (v === null) out.delete(k);
      else out.set(k, v);
    }
    return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, limit));
  }

  async loadAll(contract: string): Promise<Map<string, JsonValue>> {
    const out = await this.base.loadAll(contract);
    for (const [k, v] of this.pending.get(contract) ?? []) {
      if (v === null) out.delete(k);
      else out.set(k, v);
    }
    return out;
  }
}
