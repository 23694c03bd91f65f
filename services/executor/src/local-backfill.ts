// Blocks the BLOCKS stream no longer keeps, read from this node's own blockstore tables (the
// blockstore fetched them from a peer). The executor verifies each block again before applying it.
import type { Kysely } from "kysely";
import type { BlockBackfill } from "@tally/bus";
import type { Database } from "@tally/db";
import { decodeBlock, type SealedBlock } from "@tally/ledger";

const PAGE_BLOCKS = 256;

/** Reads heights from..to from the node's blocks table, waiting (polling every pollMs) for the blockstore to store them. */
export function localBackfill(db: Kysely<Database>, pollMs = 200): BlockBackfill {
  return async function* (fromHeight: bigint, toHeight: bigint): AsyncGenerator<SealedBlock> {
    let next = fromHeight;
    while (next <= toHeight) {
      const rows = await db
        .selectFrom("blocks")
        .select(["height", "raw"])
        .where("height", ">=", next)
        .where("height", "<=", toHeight)
        .orderBy("height")
        .limit(PAGE_BLOCKS)
        .execute();
      let progressed = false;
      for (const r of rows) {
        if (r.height !== next) break;
        yield decodeBlock(r.raw);
        next++;
        progressed = true;
      }
      if (!progressed) await new Promise((r) => setTimeout(r, pollMs));
    }
  };
}
