// The sequencer set the node's executor has committed: what the blockstore judges a block's
// signer by (docs/architecture.md, "The sequencer set in force"). The blockstore executes
// nothing; the executor, in the same database, commits its checkpoint and membership state
// together, so one consistent read gives the chain config in force after the checkpoint height.
import type { Kysely } from "kysely";
import type { Database } from "@tally/db";
import { InvariantError } from "@tally/ledger";

/** The executor's checkpoint height and the sequencers of the chain config it had committed then. */
export interface CommittedSequencers {
  readonly height: bigint;
  readonly sequencers: readonly { readonly id: string; readonly publicKey: string }[];
}

/** Reads the membership chain-config's `sequencers` (the executor wrote it; a malformed one is an InvariantError). */
export function sequencersOfChainConfig(value: unknown): CommittedSequencers["sequencers"] {
  const list = typeof value === "object" && value !== null ? (value as { sequencers?: unknown }).sequencers : undefined;
  if (!Array.isArray(list)) throw new InvariantError("membership chain-config has no sequencers array", "CONTRACT_STATE");
  return list.map((s: unknown) => {
    const o = (typeof s === "object" && s !== null ? s : {}) as { id?: unknown; publicKey?: unknown };
    if (typeof o.id !== "string" || typeof o.publicKey !== "string")
      throw new InvariantError("membership chain-config holds a malformed sequencer", "CONTRACT_STATE");
    return { id: o.id, publicKey: o.publicKey };
  });
}

/**
 * The executor's committed sequencer set, or undefined before it applied anything (or before
 * the chain config exists). Read in one repeatable-read transaction, so the height and the
 * chain config belong together.
 */
export function committedSequencersFrom(db: Kysely<Database>): () => Promise<CommittedSequencers | undefined> {
  return () =>
    db
      .transaction()
      .setIsolationLevel("repeatable read")
      .execute(async (t) => {
        const cp = await t.selectFrom("checkpoint").select("height").executeTakeFirst();
        if (cp === undefined) return undefined;
        const row = await t
          .selectFrom("contract_state")
          .select("value")
          .where("contract", "=", "membership")
          .where("key", "=", "chain-config")
          .executeTakeFirst();
        if (row === undefined) return undefined;
        return { height: BigInt(cp.height), sequencers: sequencersOfChainConfig(row.value) };
      });
}
