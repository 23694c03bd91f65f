import { InvariantError, type JsonValue } from "@tally/ledger";
import { readArray, readBoolean, readObject, readString, readStringArray } from "../state-read.js";

/** The membership contract's name in transactions and the registry. */
export const MEMBERSHIP_CONTRACT = "membership";

/** The membership state key holding the sorted array of member institution ids. */
export const MEMBERSHIP_INDEX_KEY = "index";

/** Prefix of the membership state keys holding one institution each. */
export const INSTITUTION_KEY_PREFIX = "inst/";

/** The membership state key of one institution. */
export function institutionKey(id: string): string {
  return INSTITUTION_KEY_PREFIX + id;
}

/** One of an institution's signing keys. Revoked keys stay listed so that their ids are never reused. */
export interface KeyEntry {
  readonly keyId: string;
  /** Raw Ed25519 public key, 64 lowercase hex characters. */
  readonly publicKey: string;
  readonly active: boolean;
}

/** A member institution as membership state holds it under `inst/<id>`. */
export interface InstitutionEntry {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly keys: readonly KeyEntry[];
  /**
   * True while suspended by a governance vote: the institution keeps its entry, roles and keys
   * (reinstating restores them) but is no member to a TxContext and its keys sign nothing.
   * Absent in state, and undefined here, when not suspended.
   */
  readonly suspended?: boolean;
}

/**
 * The field that marks membership state values other than institution entries (the chain config,
 * proposals); institution entries never carry it.
 */
export const RECORD_FIELD = "record";

/** Reads an institution entry from state; throws InvariantError when it is malformed. */
export function parseInstitutionEntry(v: JsonValue | undefined): InstitutionEntry {
  const o = readObject(v, "membership institution");
  const id = readString(o, "id", "membership institution");
  const what = `membership institution ${id}`;
  if (o.suspended !== undefined && o.suspended !== true)
    throw new InvariantError(`${what}: suspended is present but not true`, "CONTRACT_STATE");
  return {
    id,
    name: readString(o, "name", what),
    roles: readStringArray(o.roles, `${what} roles`),
    keys: readArray(o, "keys", what).map((k) => {
      const ko = readObject(k, `${what} key`);
      return {
        keyId: readString(ko, "keyId", `${what} key`),
        publicKey: readString(ko, "publicKey", `${what} key`),
        active: readBoolean(ko, "active", `${what} key`),
      };
    }),
    ...(o.suspended === true ? { suspended: true } : {}),
  };
}

/** An institution entry as the JSON state value. */
export function institutionEntryJson(e: InstitutionEntry): JsonValue {
  return {
    id: e.id,
    name: e.name,
    roles: [...e.roles],
    keys: e.keys.map((k) => ({ keyId: k.keyId, publicKey: k.publicKey, active: k.active })),
    // Written only when true, so the entries of institutions never suspended keep their old bytes.
    ...(e.suspended === true ? { suspended: true } : {}),
  };
}
