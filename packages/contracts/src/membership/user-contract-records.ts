// User contracts (docs/user-contracts.md) as membership state records them. A deploy-contract
// proposal stores the code, content-addressed, under `code/<sha256>` when it is proposed; the vote
// that applies it adds {version, sha256, proposal, height} to the `user-contracts` index. The
// executor builds the callable contracts from these two records; membership itself never runs
// the code (it is pure and has no sandbox).
import { InvariantError, sha256, toHex, utf8, type JsonValue } from "@tally/ledger";
import { readArray, readInteger, readObject, readString } from "../state-read.js";

/** The membership state key of the index of deployed user contracts. */
export const USER_CONTRACTS_KEY = "user-contracts";

/** The `record` marker of the index value. */
export const USER_CONTRACTS_RECORD = "user-contracts";

/** The `record` marker of a stored code value. */
export const USER_CODE_RECORD = "user-contract-code";

/** Prefix of the membership state keys holding one contract code each, by sha256. */
export const USER_CODE_KEY_PREFIX = "code/";

/** Longest user contract code, in UTF-16 code units: it travels in one transaction (LIMITS.txBytesMax is 64 KiB). */
export const USER_CODE_LENGTH_MAX = 40_000;

/** Most versions, of all user contracts together, the index holds: it is one state value. */
export const USER_CONTRACT_VERSIONS_MAX = 64;

/** Highest version number a user contract may have. */
export const USER_CONTRACT_VERSION_MAX = 1_000_000;

/**
 * Names the built-in contracts hold: no user contract may take one (a test checks this list
 * against the registry). Kept here because membership cannot import the registry.
 */
export const BUILTIN_CONTRACT_NAMES: readonly string[] = [
  "membership",
  "cash",
  "notary",
  "bill",
  "receivable",
  "warehouse",
  "logistics",
  "bond",
  "trade",
  "data",
  "points",
  "charity",
  "medical",
  "credential",
];

/** The membership state key of a stored code. */
export function userCodeKey(hash: string): string {
  return USER_CODE_KEY_PREFIX + hash;
}

/** The sha256 of a code's UTF-8 bytes, in lowercase hex: what a deploy proposal names. */
export function codeHash(code: string): string {
  return toHex(sha256(utf8(code)));
}

/** One approved version of a user contract. */
export interface UserContractVersion {
  readonly version: number;
  readonly sha256: string;
  /** The proposal that approved it. */
  readonly proposal: string;
  /** The height of the block whose transaction applied it: the version is callable from the next transaction on. */
  readonly height: string;
}

/** The index: every user contract name and its versions, oldest first. */
export type UserContractIndex = ReadonlyMap<string, readonly UserContractVersion[]>;

function broken(message: string): never {
  throw new InvariantError(`membership ${USER_CONTRACTS_KEY}: ${message}`, "CONTRACT_STATE");
}

/** Reads the index value (absent: no user contract yet); throws InvariantError when it is malformed. */
export function parseUserContractIndex(v: JsonValue | undefined): UserContractIndex {
  if (v === undefined) return new Map();
  const o = readObject(v, USER_CONTRACTS_KEY);
  if (o.record !== USER_CONTRACTS_RECORD) broken("record marker is wrong");
  const contracts = readObject(o.contracts, USER_CONTRACTS_KEY);
  const out = new Map<string, UserContractVersion[]>();
  for (const name of Object.keys(contracts).sort()) {
    const versions = readArray(readObject(contracts, USER_CONTRACTS_KEY), name, USER_CONTRACTS_KEY).map((e) => {
      const eo = readObject(e, `${USER_CONTRACTS_KEY} ${name}`);
      const what = `${USER_CONTRACTS_KEY} ${name}`;
      return {
        version: readInteger(eo, "version", what),
        sha256: readString(eo, "sha256", what),
        proposal: readString(eo, "proposal", what),
        height: readString(eo, "height", what),
      };
    });
    out.set(name, versions);
  }
  return out;
}

/** The index as its state value. Names sorted, versions in the order they were approved. */
export function userContractIndexJson(index: UserContractIndex): JsonValue {
  const contracts: { [name: string]: JsonValue } = {};
  for (const name of [...index.keys()].sort()) {
    contracts[name] = (index.get(name) ?? []).map((e) => ({
      version: e.version,
      sha256: e.sha256,
      proposal: e.proposal,
      height: e.height,
    }));
  }
  return { record: USER_CONTRACTS_RECORD, contracts };
}

/** How many versions the index holds, of every contract. */
export function userContractVersionCount(index: UserContractIndex): number {
  let n = 0;
  for (const v of index.values()) n += v.length;
  return n;
}

/** A stored code value: {record, sha256, code}. */
export function userCodeJson(hash: string, code: string): JsonValue {
  return { record: USER_CODE_RECORD, sha256: hash, code };
}

/** Reads a stored code value; throws InvariantError when it is malformed. The hash is NOT checked here (the loader does). */
export function parseUserCode(v: JsonValue): { readonly sha256: string; readonly code: string } {
  const o = readObject(v, "membership user contract code");
  if (o.record !== USER_CODE_RECORD) throw new InvariantError("membership user contract code: record marker is wrong", "CONTRACT_STATE");
  return { sha256: readString(o, "sha256", "user contract code"), code: readString(o, "code", "user contract code") };
}
