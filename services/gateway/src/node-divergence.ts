// Whether this gateway's node has diverged (issue 8): its executor's finality tracker recorded
// that the node's state root differs from a quorum of validators', and no operator has resolved
// the record yet. Reads are then refused with FAILED_PRECONDITION / NODE_DIVERGED: the node's
// copy cannot be trusted, so it must not answer from it.
import { status } from "@grpc/grpc-js";
import type { Kysely } from "kysely";
import type { Database } from "@tally/db";
import { RpcError } from "@tally/rpc";

/** How long one look at the divergence table is reused. */
const CHECK_REUSE_MS = 1000;

/** Reads the node's open divergence records, at most once per CHECK_REUSE_MS. */
export class NodeDivergence {
  private last: { diverged: boolean; atMs: number } | undefined;
  private inFlight: Promise<boolean> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** True while an unresolved divergence record exists. */
  async diverged(): Promise<boolean> {
    const now = this.nowMs();
    if (this.last !== undefined && now - this.last.atMs < CHECK_REUSE_MS) return this.last.diverged;
    this.inFlight ??= this.db
      .selectFrom("divergence")
      .select("id")
      .where("resolved_at_ms", "is", null)
      .limit(1)
      .execute()
      .then((rows) => {
        this.last = { diverged: rows.length > 0, atMs: this.nowMs() };
        return rows.length > 0;
      })
      .finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /** Throws FAILED_PRECONDITION / NODE_DIVERGED while diverged. */
  async assertServing(): Promise<void> {
    if (await this.diverged())
      throw new RpcError(
        status.FAILED_PRECONDITION,
        "this node's state root differs from the validators' quorum; it answers no queries until an operator resolves the divergence",
        "NODE_DIVERGED",
      );
  }
}
