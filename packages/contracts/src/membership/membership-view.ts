import { fromHex, type JsonValue, type KeyLookup, type KnownKey } from "@tally/ledger";
import type { MemberView } from "../contract.js";
import { parseInstitutionEntry } from "./institution-entry.js";

/** What the executor and gateway need from membership state: signature keys and member roles. */
export interface MembershipView {
  readonly keyLookup: KeyLookup;
  readonly members: ReadonlyMap<string, MemberView>;
}

/**
 * Builds the key lookup and member map from the membership contract's state values (every
 * `inst/<id>` value). Arrays, such as the `index` value, are skipped, so passing all of the
 * contract's values is fine. A malformed institution entry throws InvariantError.
 */
export function membershipView(values: Iterable<JsonValue>): MembershipView {
  const keys = new Map<string, Map<string, KnownKey>>();
  const members = new Map<string, MemberView>();
  for (const v of values) {
    if (Array.isArray(v)) continue;
    const e = parseInstitutionEntry(v);
    members.set(e.id, { roles: [...e.roles] });
    keys.set(e.id, new Map(e.keys.map((k) => [k.keyId, { publicKey: fromHex(k.publicKey), active: k.active }])));
  }
  return { keyLookup: (institutionId, keyId) => keys.get(institutionId)?.get(keyId), members };
}

/** The KeyLookup for signature checks, from membership state values (see membershipView). */
export function keyLookupFromMembership(values: Iterable<JsonValue>): KeyLookup {
  return membershipView(values).keyLookup;
}

/** The member map (id → roles) a TxContext carries, from membership state values (see membershipView). */
export function membersFromMembership(values: Iterable<JsonValue>): ReadonlyMap<string, MemberView> {
  return membershipView(values).members;
}
