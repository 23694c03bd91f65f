import { InvariantError, fromHex, type JsonValue, type KeyLookup, type KnownKey } from "@tally/ledger";
import type { MemberView } from "../contract.js";
import { CHAIN_CONFIG_RECORD } from "./chain-config.js";
import { RECORD_FIELD, parseInstitutionEntry } from "./institution-entry.js";
import { PROPOSAL_RECORD } from "./proposal-record.js";
import { USER_CODE_RECORD, USER_CONTRACTS_RECORD, parseUserContractIndex } from "./user-contract-records.js";

// True for the values that are not institution entries: the index (an array), the chain config
// and proposals (objects marked with a known record field).
function isOtherRecord(v: JsonValue): boolean {
  if (Array.isArray(v)) return true;
  if (typeof v !== "object" || v === null || !Object.hasOwn(v, RECORD_FIELD)) return false;
  const record = v[RECORD_FIELD];
  if (record === CHAIN_CONFIG_RECORD || record === PROPOSAL_RECORD || record === USER_CONTRACTS_RECORD || record === USER_CODE_RECORD)
    return true;
  throw new InvariantError(`membership state holds an unknown record ${JSON.stringify(record)}`, "CONTRACT_STATE");
}

/** What the executor and gateway need from membership state: signature keys and member roles. */
export interface MembershipView {
  readonly keyLookup: KeyLookup;
  readonly members: ReadonlyMap<string, MemberView>;
  /** The deployed user contracts as transactions call them: `<name>` and `<name>.v<version>`. */
  readonly userContracts: ReadonlySet<string>;
}

/**
 * Builds the key lookup and member map from the membership contract's state values (every
 * `inst/<id>` value). The `index` array, the `chain-config` value and `proposal/<id>` values are
 * skipped, so passing all of the contract's values is fine. A suspended institution is no member
 * and its keys read as inactive, so it can neither sign nor co-sign. A malformed institution
 * entry throws InvariantError.
 */
export function membershipView(values: Iterable<JsonValue>): MembershipView {
  const keys = new Map<string, Map<string, KnownKey>>();
  const members = new Map<string, MemberView>();
  const userContracts = new Set<string>();
  for (const v of values) {
    if (isOtherRecord(v)) {
      if (typeof v === "object" && v !== null && !Array.isArray(v) && v[RECORD_FIELD] === USER_CONTRACTS_RECORD) {
        for (const [name, versions] of parseUserContractIndex(v)) {
          userContracts.add(name);
          for (const e of versions) userContracts.add(`${name}.v${e.version}`);
        }
      }
      continue;
    }
    const e = parseInstitutionEntry(v);
    const suspended = e.suspended === true;
    if (!suspended) members.set(e.id, { roles: [...e.roles] });
    keys.set(e.id, new Map(e.keys.map((k) => [k.keyId, { publicKey: fromHex(k.publicKey), active: k.active && !suspended }])));
  }
  return { keyLookup: (institutionId, keyId) => keys.get(institutionId)?.get(keyId), members, userContracts };
}

/** The KeyLookup for signature checks, from membership state values (see membershipView). */
export function keyLookupFromMembership(values: Iterable<JsonValue>): KeyLookup {
  return membershipView(values).keyLookup;
}

/** The member map (id → roles) a TxContext carries, from membership state values (see membershipView). */
export function membersFromMembership(values: Iterable<JsonValue>): ReadonlyMap<string, MemberView> {
  return membershipView(values).members;
}
