import { sql, type Kysely } from "kysely";
import type { Database } from "@tally/db";
import type { JsonValue } from "@tally/ledger";

/** Reads contract state entries by key. The executor's only read port during a block. */
export interface StateReader {
  load(contract: string, keys: readonly string[]): Promise<Map<string, JsonValue>>;
  loadAll(contract: string): Promise<Map<string, JsonValue>>;
  /** The first `limit` entries, in key order, whose keys start with prefix. */
  scan(contract: string, prefix: string, limit: number): Promise<Map<string, JsonValue>>;
}

const KEYS_PER_QUERY_MAX = 1000;

/** StateReader over the node's contract_state table. */
export class DbStateReader implements StateReader {
  constructor(private readonly db: Kysely<Database>) {}

  async load(contract: string, keys: readonly string[]): Promise<Map<string, JsonValue>> {
    const out = new Map<string, JsonValue>();
    for (let i = 0; i < keys.length; i += KEYS_PER_QUERY_MAX) {
      const rows = await this.db
        .selectFrom("contract_state")
        .select(["key", "value"])
        .where("contract", "=", contract)
        .where("key", "in", keys.slice(i, i + KEYS_PER_QUERY_MAX))
        .execute();
      for (const r of rows) out.set(r.key, r.value as JsonValue);
    }
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

  constructor(private readonly base: StateReader) {}

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
