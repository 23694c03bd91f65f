// The membership system contract. Today an institution manages its own keys with a single
// signature; admitting institutions, changing roles and governed key rotation take votes with the
// threshold in chain config, and arrive in a later issue (SCENARIOS.md §12).
import { InvariantError, type JsonValue } from "@tally/ledger";
import { isRejection, rejection, type Contract, type ContractEvent, type Rejection, type StateSlice, type TxContext } from "../contract.js";
import { eraseContract, eraseQuery } from "../erase-contract.js";
import { ANY_ROLE } from "../roles.js";
import { hex32, identifier, parseArgs, type Args } from "../schema.js";
import { readArray, readObject, readString, readStringArray } from "../state-read.js";
import {
  MEMBERSHIP_CONTRACT,
  MEMBERSHIP_INDEX_KEY,
  institutionEntryJson,
  institutionKey,
  parseInstitutionEntry,
  type InstitutionEntry,
  type KeyEntry,
} from "./institution-entry.js";

/** Most keys an institution may hold, revoked ones included (their ids are never reused). */
export const KEYS_PER_INSTITUTION_MAX = 64;

type MembershipCommand =
  | { readonly action: "revoke-key"; readonly keyId: string }
  | { readonly action: "add-key"; readonly keyId: string; readonly publicKey: string };

function parseRevokeKey(args: Args): MembershipCommand | Rejection {
  const a = parseArgs(args, { keyId: identifier });
  return isRejection(a) ? a : { action: "revoke-key", keyId: a.keyId };
}

function parseAddKey(args: Args): MembershipCommand | Rejection {
  const a = parseArgs(args, { keyId: identifier, publicKey: hex32 });
  return isRejection(a) ? a : { action: "add-key", keyId: a.keyId, publicKey: a.publicKey };
}

function entryOf(state: StateSlice, id: string): InstitutionEntry | undefined {
  const v = state.get(institutionKey(id));
  return v === undefined ? undefined : parseInstitutionEntry(v);
}

function keyEvent(type: string, institution: string, data: { readonly [k: string]: JsonValue }): ContractEvent {
  return { type, assetId: institutionKey(institution), parties: [institution], data: { institution, ...data } };
}

function decide(cmd: MembershipCommand, state: StateSlice, ctx: TxContext): readonly ContractEvent[] | Rejection {
  const self = ctx.signer;
  // The signer passed the role check, so it is a member, and members come from this state.
  const keys = mustEntry(state, self, cmd.action).keys;
  switch (cmd.action) {
    case "revoke-key": {
      const key = keys.find((k) => k.keyId === cmd.keyId);
      if (key === undefined) return rejection("KEY_NOT_FOUND", `institution ${self} has no key ${cmd.keyId}`);
      if (!key.active) return rejection("KEY_ALREADY_REVOKED", `key ${self}/${cmd.keyId} is already revoked`);
      if (keys.filter((k) => k.active).length === 1) {
        return rejection("LAST_ACTIVE_KEY", `key ${self}/${cmd.keyId} is the institution's last active key; add another first`);
      }
      return [keyEvent("KeyRevoked", self, { keyId: cmd.keyId })];
    }
    case "add-key": {
      if (keys.some((k) => k.keyId === cmd.keyId)) return rejection("KEY_EXISTS", `institution ${self} already has a key ${cmd.keyId}`);
      const same = keys.find((k) => k.publicKey === cmd.publicKey);
      if (same !== undefined) return rejection("KEY_EXISTS", `public key is already registered as ${self}/${same.keyId}`);
      if (keys.length >= KEYS_PER_INSTITUTION_MAX) {
        return rejection("TOO_MANY_KEYS", `institution ${self} already holds ${KEYS_PER_INSTITUTION_MAX} keys, revoked ones included`);
      }
      return [keyEvent("KeyAdded", self, { keyId: cmd.keyId, publicKey: cmd.publicKey })];
    }
    default: {
      const never: never = cmd;
      throw new InvariantError(`unknown membership command ${(never as { action: string }).action}`, "CONTRACT_STATE");
    }
  }
}

function withKeys(entry: InstitutionEntry, keys: readonly KeyEntry[]): Map<string, JsonValue | null> {
  return new Map([[institutionKey(entry.id), institutionEntryJson({ ...entry, keys })]]);
}

function mustEntry(state: StateSlice, id: string, during: string): InstitutionEntry {
  const entry = entryOf(state, id);
  if (entry === undefined) throw new InvariantError(`${during} for unknown institution ${id}`, "CONTRACT_STATE");
  return entry;
}

function evolve(state: StateSlice, event: ContractEvent): ReadonlyMap<string, JsonValue | null> {
  const what = `membership ${event.type}`;
  const data = readObject(event.data, what);
  switch (event.type) {
    case "InstitutionAdmitted": {
      const id = readString(data, "id", what);
      if (state.has(institutionKey(id))) throw new InvariantError(`institution ${id} admitted twice`, "CONTRACT_STATE");
      const keys = readArray(data, "keys", what).map((k) => {
        const ko = readObject(k, what);
        return { keyId: readString(ko, "keyId", what), publicKey: readString(ko, "publicKey", what), active: true };
      });
      const entry: InstitutionEntry = { id, name: readString(data, "name", what), roles: readStringArray(data.roles, what), keys };
      const index = readStringArray(state.get(MEMBERSHIP_INDEX_KEY) ?? [], "membership index");
      // Sorted by code unit, like canonical JSON keys, so every node holds the same array.
      const nextIndex = [...index, id].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return new Map<string, JsonValue | null>([
        [institutionKey(id), institutionEntryJson(entry)],
        [MEMBERSHIP_INDEX_KEY, nextIndex],
      ]);
    }
    case "KeyRevoked": {
      const entry = mustEntry(state, readString(data, "institution", what), event.type);
      const keyId = readString(data, "keyId", what);
      if (!entry.keys.some((k) => k.keyId === keyId && k.active))
        throw new InvariantError(`KeyRevoked for no active key ${entry.id}/${keyId}`, "CONTRACT_STATE");
      return withKeys(
        entry,
        entry.keys.map((k) => (k.keyId === keyId ? { ...k, active: false } : k)),
      );
    }
    case "KeyAdded": {
      const entry = mustEntry(state, readString(data, "institution", what), event.type);
      return withKeys(entry, [
        ...entry.keys,
        { keyId: readString(data, "keyId", what), publicKey: readString(data, "publicKey", what), active: true },
      ]);
    }
    default:
      throw new InvariantError(`membership cannot fold event ${event.type}`, "CONTRACT_STATE");
  }
}

/**
 * The membership contract. State: `inst/<id>` → {id, name, roles, keys: [{keyId, publicKey, active}]},
 * `index` → the sorted member ids.
 */
export const membership: Contract = eraseContract<MembershipCommand>({
  name: MEMBERSHIP_CONTRACT,
  actions: {
    // Any member manages its own keys; ANY_ROLE admits every member holding a role.
    "revoke-key": { roles: ANY_ROLE, parse: parseRevokeKey },
    "add-key": { roles: ANY_ROLE, parse: parseAddKey },
  },
  keys: (_cmd, ctx) => [institutionKey(ctx.signer)],
  decide,
  evolve,
  queries: {
    institution: eraseQuery<{ readonly id: string }>({
      parse: (args) => parseArgs(args, { id: identifier }),
      keys: (q) => [institutionKey(q.id)],
      run: (q, state) => state.get(institutionKey(q.id)) ?? null,
    }),
    // A query sees only the keys it names before reading, so `members` reads the index alone and
    // returns the sorted member ids; call `institution` for an entry's name, roles and keys.
    members: eraseQuery<Record<string, never>>({
      parse: (args) => parseArgs(args, {}),
      keys: () => [MEMBERSHIP_INDEX_KEY],
      run: (_q, state) => state.get(MEMBERSHIP_INDEX_KEY) ?? [],
    }),
  },
});
