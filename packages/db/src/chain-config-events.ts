// The chain-config events a node recorded, for the verifiers that judge a block's signer by the
// sequencer set in force without executing the chain (the regulator feed's VerifyChain, the chaos
// audit): contracts' SequencersByHeight folds them.
import type { Kysely } from "kysely";
import { changesChainConfig, CHAIN_CONFIG_KEY, MEMBERSHIP_CONTRACT, type RecordedEvent } from "@tally/contracts";
import type { JsonValue } from "@tally/ledger";
import type { Database } from "./schema.js";

/** Every event that changed the chain config in blocks below `belowHeight`, in commit order. Rare: a handful per chain. */
export async function readChainConfigEvents(db: Kysely<Database>, belowHeight: bigint): Promise<RecordedEvent[]> {
  const rows = await db
    .selectFrom("events")
    .select(["height", "contract", "type", "asset_id", "data"])
    .where("contract", "=", MEMBERSHIP_CONTRACT)
    .where("asset_id", "=", CHAIN_CONFIG_KEY)
    .where("height", "<", belowHeight)
    .orderBy("height")
    .orderBy("tx_index")
    .orderBy("event_index")
    .execute();
  return rows
    .map((r) => ({ height: r.height, contract: r.contract, type: r.type, assetId: r.asset_id, data: r.data as JsonValue }))
    .filter(changesChainConfig);
}
