// The sandbox host a node runs user contracts with, and the registry that turns membership state
// (the user-contracts index and the stored codes) into callable contracts.
import {
  CHAIN_CONFIG_KEY,
  MAX_BIGINT_BITS_MAX,
  USER_CONTRACTS_KEY,
  codeHash,
  isRejection,
  parseChainConfig,
  parseUserCode,
  parseUserContractIndex,
  rejection,
  sandboxLimitsOf,
  userCodeKey,
  type Contract,
  type Rejection,
  type SandboxLimits,
} from "@tally/contracts";
import type { JsonValue } from "@tally/ledger";
import { LOAD_STEP_LIMIT, SandboxEngine, type CallOutcome, type LoadedCode } from "./engine.js";
import { parseManifest, type Manifest } from "./manifest.js";
import { brokenContract, userContract, type DeployedVersion, type SandboxCaller } from "./user-contract.js";

/**
 * The limits a code's manifest is read under: fixed, so that a manifest is the same whatever the chain
 * config says (the largest BigInt cap: calls check a code's literals against the chain's own).
 */
export const MANIFEST_LIMITS: SandboxLimits = {
  stepLimit: LOAD_STEP_LIMIT,
  memoryLimitBytes: 32 * 1024 * 1024,
  maxBigIntBits: MAX_BIGINT_BITS_MAX,
};

/**
 * Runs user contract calls. The executor calls beginBlock before every block that names a user
 * contract: each block then runs in a fresh QuickJS instance, so every node makes the same
 * allocations in the same order (see engine.ts). A host for queries or tests may never call it
 * again after create.
 */
export class SandboxHost implements SandboxCaller {
  private loaded = new Map<string, LoadedCode | Rejection>();
  // The next block's instance, made while this block runs: a fresh instance is the same whenever
  // it is made, so making it early changes nothing but the wait. (Codes are loaded into it only
  // when a block calls them, in the block's order.)
  private spare: Promise<SandboxEngine> | undefined;

  private constructor(private engine: SandboxEngine) {}

  static async create(): Promise<SandboxHost> {
    return new SandboxHost(await SandboxEngine.create());
  }

  /** Drops every loaded code and starts a fresh instance. */
  async beginBlock(): Promise<void> {
    const next = await (this.spare ?? SandboxEngine.create());
    this.spare = SandboxEngine.create();
    // An unhandled failure to make the spare would surface at the next beginBlock's await.
    this.spare.catch(() => undefined);
    this.disposeLoaded();
    this.engine = next;
  }

  call(v: DeployedVersion, op: string, args: readonly JsonValue[], steps: number, members?: string): CallOutcome {
    if (steps <= 0) return rejection("OUT_OF_GAS", `the transaction used all ${v.limits.stepLimit} steps`);
    if (this.engine.trapped !== undefined) return rejection("SANDBOX_TRAPPED", `the sandbox instance trapped (${this.engine.trapped})`);
    const key = `${v.sha256}/${v.limits.stepLimit}/${v.limits.memoryLimitBytes}/${v.limits.maxBigIntBits}`;
    let code = this.loaded.get(key);
    if (code !== undefined && !isRejection(code) && code.poisoned) {
      code.dispose();
      code = undefined;
    }
    if (code === undefined) {
      code = this.engine.load(v.code, v.limits);
      this.loaded.set(key, code);
    }
    if (isRejection(code)) return code;
    if (members !== undefined) {
      const r = code.setMembers(members);
      if (r !== undefined) return r;
    }
    return code.call(op, args, { steps });
  }

  /** Frees every loaded code. */
  dispose(): void {
    this.disposeLoaded();
  }

  private disposeLoaded(): void {
    for (const c of this.loaded.values()) if (!isRejection(c)) c.dispose();
    this.loaded.clear();
  }
}

/** Reads a code's manifest in an instance of its own, so that the result never depends on what ran before. */
export async function readManifest(code: string): Promise<Manifest | Rejection> {
  const engine = await SandboxEngine.create();
  const loaded = engine.load(code, MANIFEST_LIMITS);
  if (isRejection(loaded)) return loaded.code === "BAD_CONTRACT" ? loaded : rejection("BAD_CONTRACT", `loading: ${loaded.message}`);
  try {
    const r = loaded.call("manifest", [], { steps: LOAD_STEP_LIMIT });
    if (!r.ok) return rejection("BAD_CONTRACT", `reading the declarations: ${r.code}: ${r.message}`);
    return parseManifest(r.value);
  } finally {
    loaded.dispose();
  }
}

/** The name a transaction calls one version of a user contract by: `<name>.v<version>`. */
export function versionedName(name: string, version: number): string {
  return `${name}.v${version}`;
}

/** Most manifests a registry keeps, by code hash. */
const MANIFESTS_MAX = 256;

/**
 * Builds the contracts a block runs with: the built-ins and, from membership state, every
 * deployed user contract, under `<name>` (its latest version) and `<name>.v<version>` (each one).
 */
export class UserContractRegistry {
  private readonly manifests = new Map<string, Manifest | Rejection>();
  private last:
    { index: JsonValue | undefined; config: JsonValue | undefined; codes: number; result: ReadonlyMap<string, Contract> } | undefined;

  constructor(readonly host: SandboxHost) {}

  static async create(): Promise<UserContractRegistry> {
    return new UserContractRegistry(await SandboxHost.create());
  }

  async contractsFor(
    membership: ReadonlyMap<string, JsonValue>,
    builtins: ReadonlyMap<string, Contract>,
  ): Promise<ReadonlyMap<string, Contract>> {
    const indexValue = membership.get(USER_CONTRACTS_KEY);
    if (indexValue === undefined) return builtins;
    const configValue = membership.get(CHAIN_CONFIG_KEY);
    const last = this.last;
    if (last !== undefined && last.index === indexValue && last.config === configValue && last.codes === membership.size)
      return last.result;
    const limits = sandboxLimitsOf(parseChainConfig(configValue));
    const index = parseUserContractIndex(indexValue);
    const out = new Map(builtins);
    for (const [name, versions] of index) {
      for (const v of versions) {
        const stored = membership.get(userCodeKey(v.sha256));
        const code = stored === undefined ? undefined : parseUserCode(stored).code;
        const contract = await this.build(name, v.version, v.sha256, code, limits);
        out.set(versionedName(name, v.version), contract);
        out.set(name, contract);
      }
    }
    this.last = { index: indexValue, config: configValue, codes: membership.size, result: out };
    return out;
  }

  private async build(name: string, version: number, sha256: string, code: string | undefined, limits: SandboxLimits): Promise<Contract> {
    if (code === undefined)
      return brokenContract(name, rejection("CODE_HASH_MISMATCH", `${name} v${version}: no code is stored under ${sha256}`));
    const actual = codeHash(code);
    if (actual !== sha256) {
      return brokenContract(
        name,
        rejection("CODE_HASH_MISMATCH", `${name} v${version}: the stored code hashes to ${actual}, not the approved ${sha256}`),
      );
    }
    let manifest = this.manifests.get(sha256);
    if (manifest === undefined) {
      manifest = await readManifest(code);
      if (this.manifests.size >= MANIFESTS_MAX) this.manifests.clear();
      this.manifests.set(sha256, manifest);
    }
    if (isRejection(manifest)) return brokenContract(name, rejection(manifest.code, `${name} v${version}: ${manifest.message}`));
    return userContract({ name, version, sha256, code, limits }, manifest, this.host);
  }
}
