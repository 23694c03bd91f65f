// A small chain for user contract tests: membership state holding deployed codes, and commands
// run through the same pipeline the executor uses (prepareCommand, runCommand) with the real
// sandbox. Test-only; not exported from the package index.
import {
  CHAIN_CONFIG_KEY,
  builtinContracts,
  codeHash,
  isRejection,
  prepareCommand,
  prepareQuery,
  resolveKey,
  runCommand,
  runQuery,
  userCodeJson,
  userCodeKey,
  userContractIndexJson,
  USER_CONTRACTS_KEY,
  type CommandOutcome,
  type Contract,
  type MemberView,
  type Rejection,
  type SandboxLimits,
  type TxContext,
  type UserContractVersion,
} from "@tally/contracts";
import type { JsonValue } from "@tally/ledger";
import { UserContractRegistry } from "../host.js";

/** The members every test chain has. */
export const MEMBERS: ReadonlyMap<string, MemberView> = new Map([
  ["bank-a", { roles: ["bank"] }],
  ["bank-b", { roles: ["bank"] }],
  ["ent-a", { roles: ["enterprise"] }],
  ["ent-b", { roles: ["enterprise"] }],
  ["reg", { roles: ["regulator"] }],
]);

/** The block time tests run at. */
export const NOW_MS = 1_700_000_000_000;

/** A code to deploy: name, and its versions' codes in order (v1 first). */
export interface Deployment {
  readonly name: string;
  readonly versions: readonly string[];
}

/** Membership state values holding the deployments, as the executor's membership map would. */
export function membershipWith(deployments: readonly Deployment[], limits?: SandboxLimits): Map<string, JsonValue> {
  const m = new Map<string, JsonValue>();
  const index = new Map<string, UserContractVersion[]>();
  for (const d of deployments) {
    index.set(
      d.name,
      d.versions.map((code, i) => {
        const sha256 = codeHash(code);
        m.set(userCodeKey(sha256), userCodeJson(sha256, code));
        return { version: i + 1, sha256, proposal: `deploy-${d.name}-${i + 1}`, height: String(i + 1) };
      }),
    );
  }
  m.set(USER_CONTRACTS_KEY, userContractIndexJson(index));
  m.set(CHAIN_CONFIG_KEY, {
    record: "chain-config",
    sequencers: [],
    finality: { quorumNumerator: 2, quorumDenominator: 3 },
    governance: { thresholdNumerator: 2, thresholdDenominator: 3 },
    supervision: null,
    ...(limits === undefined
      ? {}
      : { sandbox: { stepLimit: limits.stepLimit, memoryLimitBytes: limits.memoryLimitBytes, maxBigIntBits: limits.maxBigIntBits } }),
  });
  return m;
}

/** A chain of user contract state under test. */
export class SandboxChain {
  /** contract → key → value. */
  readonly state = new Map<string, Map<string, JsonValue>>();
  private txs = 0;

  private constructor(
    readonly registry: UserContractRegistry,
    public contracts: ReadonlyMap<string, Contract>,
  ) {}

  static async start(deployments: readonly Deployment[], limits?: SandboxLimits): Promise<SandboxChain> {
    const registry = await UserContractRegistry.create();
    const contracts = await registry.contractsFor(membershipWith(deployments, limits), builtinContracts);
    return new SandboxChain(registry, contracts);
  }

  /** Swaps in the contracts of other deployments (an upgrade), keeping the state. */
  async redeploy(deployments: readonly Deployment[], limits?: SandboxLimits): Promise<void> {
    this.contracts = await this.registry.contractsFor(membershipWith(deployments, limits), builtinContracts);
  }

  ctx(signer: string, blockTimeMs = NOW_MS): TxContext {
    this.txs++;
    return {
      chainId: "test-chain",
      txId: this.txs.toString(16).padStart(64, "0"),
      height: BigInt(this.txs),
      blockTimeMs,
      signer,
      signers: [signer],
      members: MEMBERS,
    };
  }

  /** Runs one command; an accepted one changes the state. */
  act(
    signer: string,
    contract: string,
    action: string,
    args: unknown,
    blockTimeMs = NOW_MS,
    cosigners: readonly string[] = [],
  ): CommandOutcome | Rejection {
    const ctx = { ...this.ctx(signer, blockTimeMs), signers: [signer, ...cosigners] };
    const prepared = prepareCommand(this.contracts, contract, action, args, ctx);
    if (isRejection(prepared)) return prepared;
    // Keys as the executor resolves them: another contract's (`cash:acct/x`) live under it.
    const slice = new Map<string, JsonValue>();
    for (const k of prepared.keys) {
      const [owner, key] = resolveKey(prepared.contract, k);
      const v = this.state.get(owner)?.get(key);
      if (v !== undefined) slice.set(k, v);
    }
    const outcome = runCommand(prepared, slice, ctx);
    if (isRejection(outcome)) return outcome;
    for (const [named, v] of outcome.updates) {
      const [owner, key] = resolveKey(prepared.contract, named);
      const m = this.state.get(owner) ?? new Map<string, JsonValue>();
      if (v === null) m.delete(key);
      else m.set(key, v);
      this.state.set(owner, m);
    }
    return outcome;
  }

  query(contract: string, name: string, args: unknown): JsonValue | Rejection {
    const prepared = prepareQuery(this.contracts, contract, name, args);
    if (isRejection(prepared)) return prepared;
    const own = this.state.get(prepared.contract.name) ?? new Map<string, JsonValue>();
    const slice = new Map<string, JsonValue>();
    for (const k of prepared.keys) {
      const v = own.get(k);
      if (v !== undefined) slice.set(k, v);
    }
    return runQuery(prepared, slice);
  }

  dispose(): void {
    this.registry.host.dispose();
  }
}

/** The rejection code of an outcome, or "ok". */
export function codeOf(r: CommandOutcome | Rejection): string {
  return isRejection(r) ? r.code : "ok";
}
