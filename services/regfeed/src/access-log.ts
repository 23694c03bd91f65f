// The regulator feed's access log: every call is recorded (who, which RPC, with what request)
// before it is served. A call whose record cannot be written is refused, so nothing is read
// unlogged.
import { status } from "@grpc/grpc-js";
import type { Kysely } from "kysely";
import type { Database } from "@tally/db";
import { canonicalJson, type JsonValue } from "@tally/ledger";
import type { AccessLogEntry } from "@tally/proto/regfeed";
import { RpcError } from "@tally/rpc";

/** Most entries one QueryAccessLog answer holds. */
export const ACCESS_LOG_PAGE_MAX = 1000;

/** Entries when the caller does not say. */
export const ACCESS_LOG_PAGE_DEFAULT = 100;

/** Writes and reads the node's access_log table. */
export class AccessLog {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Records one call; throws UNAVAILABLE (ACCESS_LOG_UNAVAILABLE) when the log cannot be written. */
  async record(caller: string, rpc: string, request: JsonValue): Promise<void> {
    try {
      await this.db
        .insertInto("access_log")
        .values({ at_ms: BigInt(this.nowMs()), caller, rpc, request: canonicalJson(request) })
        .execute();
    } catch (e) {
      throw new RpcError(status.UNAVAILABLE, `the access log cannot be written: ${(e as Error).message}`, "ACCESS_LOG_UNAVAILABLE");
    }
  }

  /** Entries after an id, oldest first, optionally one caller's only. */
  async query(afterId: bigint, limit: number, caller: string | undefined): Promise<AccessLogEntry[]> {
    let q = this.db.selectFrom("access_log").selectAll().where("id", ">", afterId);
    if (caller !== undefined) q = q.where("caller", "=", caller);
    const rows = await q.orderBy("id").limit(limit).execute();
    const enc = new TextEncoder();
    return rows.map((r) => ({
      id: r.id,
      atMs: r.at_ms,
      caller: r.caller,
      rpc: r.rpc,
      request: enc.encode(canonicalJson(r.request as JsonValue)),
    }));
  }
}
