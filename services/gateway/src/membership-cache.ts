import type { Kysely } from "kysely";
import type { Database } from "@tally/db";
import {
  builtinContracts,
  foldEvents,
  MEMBERSHIP_CONTRACT,
  membershipGenesisEvents,
  membershipView,
  type Contract,
  type MembershipView,
} from "@tally/contracts";
import type { UserContractRegistry } from "@tally/user-contracts";
import type { Genesis, JsonValue } from "@tally/ledger";

/**
 * The gateway's view of keys and roles, so it can refuse unknown signers and revoked keys
 * before anything reaches the bus. It starts from genesis and follows the node's committed
 * membership state; the executor re-checks everything at the block's height regardless.
 */
export class MembershipCache {
  private current: MembershipView;
  private loading: Promise<void> | undefined;
  private deployed: ReadonlyMap<string, Contract> = builtinContracts;

  constructor(
    private readonly db: Kysely<Database>,
    genesis: Genesis,
    /** Builds the deployed user contracts' declarations (query names, args, public), when given. */
    private readonly userContracts?: UserContractRegistry,
  ) {
    const contract = builtinContracts.get(MEMBERSHIP_CONTRACT)!;
    const state = foldEvents(contract, new Map(), membershipGenesisEvents(genesis));
    this.current = membershipView([...state.values()].filter((v): v is JsonValue => v !== null));
  }

  get view(): MembershipView {
    return this.current;
  }

  /** The built-in contracts and the deployed user contracts, as of the last refresh. */
  get contracts(): ReadonlyMap<string, Contract> {
    return this.deployed;
  }

  /** Reloads from the node's contract state (after the executor commits a block). Coalesces concurrent calls. */
  refresh(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<void> {
    const rows = await this.db.selectFrom("contract_state").select(["key", "value"]).where("contract", "=", MEMBERSHIP_CONTRACT).execute();
    if (rows.length === 0) return;
    this.current = membershipView(rows.map((r) => r.value as JsonValue));
    if (this.userContracts !== undefined) {
      this.deployed = await this.userContracts.contractsFor(new Map(rows.map((r) => [r.key, r.value as JsonValue])), builtinContracts);
    }
  }
}
