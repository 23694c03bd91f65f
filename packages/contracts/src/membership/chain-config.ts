// The chain-level configuration membership keeps under one state key: the sequencer set, the
// finality quorum, the governance threshold and the supervision rules. Genesis writes it (see
// genesis-events.ts) and only governance proposals change it. Consumers (blockstore, finality)
// read it from state; this file only records it.
import { InvariantError, type Genesis, type JsonValue } from "@tally/ledger";
import type { MemberView } from "../contract.js";
import { WRITER_ROLES } from "../roles.js";
import { readArray, readObject, readString, type JsonObject } from "../state-read.js";

/** The membership state key of the chain config. */
export const CHAIN_CONFIG_KEY = "chain-config";

/** The `record` marker of the chain-config value, which tells it from institution entries. */
export const CHAIN_CONFIG_RECORD = "chain-config";

/** The governance threshold when genesis names none: two thirds of the voting members, at least. */
export const DEFAULT_GOVERNANCE: GovernanceThreshold = { thresholdNumerator: 2, thresholdDenominator: 3 };

/** Most sequencers the chain config may list. */
export const SEQUENCERS_MAX = 16;

/** A sequencer allowed to sign blocks: its id and raw Ed25519 public key, 64 lowercase hex characters. */
export interface SequencerEntry {
  readonly id: string;
  readonly publicKey: string;
}

/** Finality: a block is final when more than quorumNumerator/quorumDenominator of validators agree. */
export interface FinalityQuorum {
  readonly quorumNumerator: number;
  readonly quorumDenominator: number;
}

/** A proposal applies once at least thresholdNumerator/thresholdDenominator of the voting members voted yes. */
export interface GovernanceThreshold {
  readonly thresholdNumerator: number;
  readonly thresholdDenominator: number;
}

/** Highest step limit a user contract call may be given: interrupt ticks of 10,000 QuickJS poll points each. */
export const STEP_LIMIT_MAX = 100_000;

/** Least and most memory a user contract call may be given, in bytes. */
export const MEMORY_LIMIT_BYTES_MIN = 1024 * 1024;
export const MEMORY_LIMIT_BYTES_MAX = 256 * 1024 * 1024;

/**
 * Least and most bits a BigInt of a user contract may have (its magnitude below 2^maxBigIntBits).
 * Every way of making a BigInt checks the cap before doing the work, and implicit conversions of a
 * BigInt to a string are not metered but bounded by it, quadratically: see docs/user-contracts.md.
 */
export const MAX_BIGINT_BITS_MIN = 64;
export const MAX_BIGINT_BITS_MAX = 4096;

/** The BigInt cap when the chain config names none: 512 bits (154 decimal digits). */
export const DEFAULT_MAX_BIGINT_BITS = 512;

/**
 * The metering of user contract calls (docs/user-contracts.md): a call may take stepLimit
 * interrupt ticks (QuickJS calls its interrupt handler once every 10,000 poll points: function
 * entries, jumps, property-enumeration and regex steps), its runtime may hold memoryLimitBytes,
 * and no BigInt it makes may have more than maxBigIntBits bits.
 */
export interface SandboxLimits {
  readonly stepLimit: number;
  readonly memoryLimitBytes: number;
  readonly maxBigIntBits: number;
}

/** The sandbox limits as the chain config holds them: maxBigIntBits only once a proposal named it. */
export interface SandboxLimitsSetting {
  readonly stepLimit: number;
  readonly memoryLimitBytes: number;
  readonly maxBigIntBits?: number;
}

/** The sandbox limits when the chain config names none: 200 ticks (about 2 million poll points), 16 MiB, 512-bit BigInts. */
export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = {
  stepLimit: 200,
  memoryLimitBytes: 16 * 1024 * 1024,
  maxBigIntBits: DEFAULT_MAX_BIGINT_BITS,
};

/** The chain config as membership state holds it under `chain-config`. */
export interface ChainConfig {
  readonly sequencers: readonly SequencerEntry[];
  readonly finality: FinalityQuorum;
  readonly governance: GovernanceThreshold;
  /** The supervision rules ({largeTradeAmount, alertRules}, see proposal-change.ts), or null before any are set. */
  readonly supervision: JsonValue;
  /** The user contract limits, once a set-sandbox-limits proposal applied; absent means DEFAULT_SANDBOX_LIMITS. */
  readonly sandbox?: SandboxLimitsSetting;
}

function broken(message: string): never {
  throw new InvariantError(`membership chain-config: ${message}`, "CONTRACT_STATE");
}

function readInt(o: JsonObject, field: string): number {
  const v = o[field];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) broken(`${field} is not a positive integer`);
  return v;
}

/** The chain config from genesis, the default governance threshold filling in when genesis names none. */
export function chainConfigFromGenesis(g: Genesis): ChainConfig {
  return {
    // parseGenesis accepts either hex case; state holds one spelling so state roots agree.
    sequencers: g.sequencers.map((s) => ({ id: s.id, publicKey: s.publicKey.toLowerCase() })),
    finality: { quorumNumerator: g.finality.quorumNumerator, quorumDenominator: g.finality.quorumDenominator },
    governance:
      g.governance === undefined
        ? DEFAULT_GOVERNANCE
        : { thresholdNumerator: g.governance.thresholdNumerator, thresholdDenominator: g.governance.thresholdDenominator },
    supervision: null,
  };
}

/** Reads the chain-config value (or event data with the same fields); throws InvariantError when it is malformed. */
export function parseChainConfig(v: JsonValue | undefined): ChainConfig {
  const o = readObject(v, "membership chain-config");
  const finality = readObject(o.finality, "membership chain-config finality");
  const governance = readObject(o.governance, "membership chain-config governance");
  const supervision = o.supervision;
  if (supervision === undefined) broken("supervision is missing");
  if (supervision !== null) readObject(supervision, "membership chain-config supervision");
  return {
    sequencers: readArray(o, "sequencers", "membership chain-config").map((s) => {
      const so = readObject(s, "membership chain-config sequencer");
      return { id: readString(so, "id", "membership sequencer"), publicKey: readString(so, "publicKey", "membership sequencer") };
    }),
    finality: { quorumNumerator: readInt(finality, "quorumNumerator"), quorumDenominator: readInt(finality, "quorumDenominator") },
    governance: {
      thresholdNumerator: readInt(governance, "thresholdNumerator"),
      thresholdDenominator: readInt(governance, "thresholdDenominator"),
    },
    supervision,
    ...(o.sandbox === undefined ? {} : { sandbox: readSandbox(o.sandbox) }),
  };
}

function readSandbox(v: JsonValue): SandboxLimitsSetting {
  const sb = readObject(v, "membership chain-config sandbox");
  return {
    stepLimit: readInt(sb, "stepLimit"),
    memoryLimitBytes: readInt(sb, "memoryLimitBytes"),
    ...(sb.maxBigIntBits === undefined ? {} : { maxBigIntBits: readInt(sb, "maxBigIntBits") }),
  };
}

/** The sandbox limits as chain config JSON: maxBigIntBits only when set, so older chains keep their state roots. */
export function sandboxSettingJson(s: SandboxLimitsSetting): { readonly [k: string]: JsonValue } {
  return {
    stepLimit: s.stepLimit,
    memoryLimitBytes: s.memoryLimitBytes,
    ...(s.maxBigIntBits === undefined ? {} : { maxBigIntBits: s.maxBigIntBits }),
  };
}

/**
 * The sequencers in force for a block at height h: those of the chain config membership state
 * holds after block h-1 (`chainConfig`, that state's `chain-config` value), or genesis's while
 * state holds none (before the genesis block is applied). A block signed by anyone else is
 * refused (docs/architecture.md, "The sequencer set in force"). Pure: every node computes the
 * same set from the same state.
 */
export function sequencersInForce(chainConfig: JsonValue | undefined, g: Genesis): readonly SequencerEntry[] {
  return chainConfig === undefined ? chainConfigFromGenesis(g).sequencers : parseChainConfig(chainConfig).sequencers;
}

/** The sandbox limits a chain config sets, or the defaults. */
export function sandboxLimitsOf(c: ChainConfig): SandboxLimits {
  const s = c.sandbox;
  if (s === undefined) return DEFAULT_SANDBOX_LIMITS;
  return { stepLimit: s.stepLimit, memoryLimitBytes: s.memoryLimitBytes, maxBigIntBits: s.maxBigIntBits ?? DEFAULT_MAX_BIGINT_BITS };
}

/** The chain config as its JSON fields, without the record marker (event data carries these). */
export function chainConfigFields(c: ChainConfig): { readonly [k: string]: JsonValue } {
  return {
    sequencers: c.sequencers.map((s) => ({ id: s.id, publicKey: s.publicKey })),
    finality: { quorumNumerator: c.finality.quorumNumerator, quorumDenominator: c.finality.quorumDenominator },
    governance: { thresholdNumerator: c.governance.thresholdNumerator, thresholdDenominator: c.governance.thresholdDenominator },
    supervision: c.supervision,
    // Absent until set, so chains that never set it keep their state roots.
    ...(c.sandbox === undefined ? {} : { sandbox: sandboxSettingJson(c.sandbox) }),
  };
}

/** The chain config as the JSON state value, marked `record: "chain-config"`. */
export function chainConfigJson(c: ChainConfig): JsonValue {
  return { record: CHAIN_CONFIG_RECORD, ...chainConfigFields(c) };
}

/** The members who vote on proposals, sorted: every member holding a writer role. The regulator alone does not vote. */
export function votingMembers(members: ReadonlyMap<string, MemberView>): string[] {
  const out: string[] = [];
  for (const [id, m] of members) if (m.roles.some((r) => WRITER_ROLES.includes(r))) out.push(id);
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Yes votes a proposal needs among `voters` voting members: at least threshold × voters, and at
 * least one. Integer ceiling division: (voters·n + d − 1) / d, floored, is ⌈voters·n / d⌉.
 */
export function votesNeeded(g: GovernanceThreshold, voters: number): number {
  const n = BigInt(g.thresholdNumerator);
  const d = BigInt(g.thresholdDenominator);
  const needed = (BigInt(voters) * n + d - 1n) / d;
  return needed < 1n ? 1 : Number(needed);
}
