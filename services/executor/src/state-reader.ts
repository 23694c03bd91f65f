import type { Kysely } from "kysely";
import type { Database } from "@tally/db";
import type { JsonValue } from "@tally/ledger";

/** Reads contract state entries by key. The executor's only read port during a block. */
export interface StateReader {
  load(contract: string, keys: readonly string[]): Promise<Map<string, JsonValue>>;
  loadAll(contract: string): Promise<Map<string, JsonValue>>;
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
