// The contracts the query service answers for: the built-ins and the user contracts this node's
// committed membership state holds. Queries run in a sandbox of their own (never the one blocks
// run in), and the membership state is read again only after a block changed it.
import type { Kysely } from "kysely";
import type { Database } from "@tally/db";
import { MEMBERSHIP_CONTRACT, type Contract } from "@tally/contracts";
import type { JsonValue } from "@tally/ledger";
import type { UserContractRegistry } from "@tally/user-contracts";
import type { BlockEffects } from "./block-executor.js";

/** Tracks the query service's contracts; `applied` is told of every committed block. */
export interface QueryContracts {
  readonly current: () => Promise<ReadonlyMap<string, Contract>>;
  readonly applied: (e: BlockEffects) => void;
}

export function queryContracts(
  db: Kysely<Database>,
  builtins: ReadonlyMap<string, Contract>,
  registry: UserContractRegistry,
): QueryContracts {
  let stale = true;
  let cached: Promise<ReadonlyMap<string, Contract>> | undefined;
  const load = async (): Promise<ReadonlyMap<string, Contract>> => {
    const rows = await db.selectFrom("contract_state").select(["key", "value"]).where("contract", "=", MEMBERSHIP_CONTRACT).execute();
    return registry.contractsFor(new Map(rows.map((r) => [r.key, r.value as JsonValue])), builtins);
  };
  return {
    current: () => {
      if (stale || cached === undefined) {
        stale = false;
        cached = load().catch((e: unknown) => {
          stale = true;
          throw e;
        });
      }
      return cached;
    },
    applied: (e) => {
      if (e.updates.has(MEMBERSHIP_CONTRACT)) stale = true;
    },
  };
}
