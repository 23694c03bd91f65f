import type { Kysely } from "kysely";
import type { Database } from "@tally/db";
import {
  builtinContracts,
  foldEvents,
  MEMBERSHIP_CONTRACT,
  membershipGenesisEvents,
  membershipView,
  type MembershipView,
} from "@tally/contracts";
import type { Genesis, JsonValue } from "@tally/ledger";

/**
 * The gateway's view of keys and roles, so it can refuse unknown signers and revoked keys
 * before anything reaches the bus. It starts from genesis and follows the node's committed
 * membership state; the executor re-checks everything at the block's height regardless.
 */
export class MembershipCache {
  private current: MembershipView;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    genesis: Genesis,
  ) {
    const contract = builtinContracts.get(MEMBERSHIP_CONTRACT)!;
    const state = foldEvents(contract, new Map(), membershipGenesisEvents(genesis));
    this.current = membershipView([...state.values()].filter((v): v is JsonValue => v !== null));
  }

  get view(): MembershipView {
    return this.current;
  }

  /** Reloads from the node's contract state (after the executor commits a block). Coalesces concurrent calls. */
  refresh(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<void> {
    const rows = await this.db.selectFrom("contract_state").select("value").where("contract", "=", MEMBERSHIP_CONTRACT).execute();
    if (rows.length > 0) this.current = membershipView(rows.map((r) => r.value as JsonValue));
  }
}
