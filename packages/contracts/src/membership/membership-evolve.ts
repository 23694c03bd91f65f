// How membership folds its events into state: institution entries and the index, the chain config,
// and proposals. Events come from our own decide and genesis, so a malformed one is our bug.
import { InvariantError, type JsonValue } from "@tally/ledger";
import type { ContractEvent, StateSlice } from "../contract.js";
import { readArray, readObject, readString, readStringArray, type JsonObject } from "../state-read.js";
import { CHAIN_CONFIG_KEY, chainConfigJson, parseChainConfig, type ChainConfig } from "./chain-config.js";
import {
  MEMBERSHIP_INDEX_KEY,
  institutionEntryJson,
  institutionKey,
  parseInstitutionEntry,
  type InstitutionEntry,
} from "./institution-entry.js";
import { readChange } from "./proposal-change.js";
import { parseProposal, proposalJson, proposalKey, sortedIds, type ProposalRecord } from "./proposal-record.js";
import { USER_CONTRACTS_KEY, parseUserContractIndex, userCodeJson, userCodeKey, userContractIndexJson } from "./user-contract-records.js";

type Updates = ReadonlyMap<string, JsonValue | null>;

function broken(message: string): never {
  throw new InvariantError(message, "CONTRACT_STATE");
}

function mustEntry(state: StateSlice, id: string, during: string): InstitutionEntry {
  const v = state.get(institutionKey(id));
  if (v === undefined) broken(`${during} for unknown institution ${id}`);
  return parseInstitutionEntry(v);
}

function entryUpdate(entry: InstitutionEntry): Updates {
  return new Map([[institutionKey(entry.id), institutionEntryJson(entry)]]);
}

function readInt(o: JsonObject, field: string, what: string): number {
  const v = o[field];
  if (typeof v !== "number" || !Number.isSafeInteger(v)) broken(`${what}: ${field} is not an integer`);
  return v;
}

function mustConfig(state: StateSlice, during: string): ChainConfig {
  const v = state.get(CHAIN_CONFIG_KEY);
  if (v === undefined) broken(`${during} before the chain config was initialised`);
  return parseChainConfig(v);
}

function configUpdate(c: ChainConfig): Updates {
  return new Map([[CHAIN_CONFIG_KEY, chainConfigJson(c)]]);
}

function mustOpenProposal(state: StateSlice, data: JsonObject, what: string): ProposalRecord {
  const id = readString(data, "proposal", what);
  const v = state.get(proposalKey(id));
  if (v === undefined) broken(`${what} for unknown proposal ${id}`);
  const p = parseProposal(v);
  if (p.status !== "open") broken(`${what} for proposal ${id}, which is ${p.status}`);
  return p;
}

function proposalUpdate(p: ProposalRecord): Updates {
  return new Map([[proposalKey(p.id), proposalJson(p)]]);
}

function admit(state: StateSlice, data: JsonObject, what: string): Updates {
  const id = readString(data, "id", what);
  if (state.has(institutionKey(id))) broken(`institution ${id} admitted twice`);
  const keys = readArray(data, "keys", what).map((k) => {
    const ko = readObject(k, what);
    return { keyId: readString(ko, "keyId", what), publicKey: readString(ko, "publicKey", what), active: true };
  });
  const entry: InstitutionEntry = { id, name: readString(data, "name", what), roles: readStringArray(data.roles, what), keys };
  const index = readStringArray(state.get(MEMBERSHIP_INDEX_KEY) ?? [], "membership index");
  return new Map<string, JsonValue | null>([
    [institutionKey(id), institutionEntryJson(entry)],
    [MEMBERSHIP_INDEX_KEY, sortedIds([...index, id])],
  ]);
}

function closeProposal(state: StateSlice, data: JsonObject, what: string, status: "applied" | "rejected"): Updates {
  const p = mustOpenProposal(state, data, what);
  return proposalUpdate({ ...p, status, closedAtMs: readInt(data, "closedAtMs", what) });
}

/** Folds one membership event; returns the changed entries. Throws InvariantError for a malformed or unknown event. */
export function evolveMembership(state: StateSlice, event: ContractEvent): Updates {
  const what = `membership ${event.type}`;
  const data = readObject(event.data, what);
  switch (event.type) {
    case "InstitutionAdmitted":
      return admit(state, data, what);
    case "KeyRevoked": {
      const entry = mustEntry(state, readString(data, "institution", what), event.type);
      const keyId = readString(data, "keyId", what);
      if (!entry.keys.some((k) => k.keyId === keyId && k.active)) broken(`KeyRevoked for no active key ${entry.id}/${keyId}`);
      return entryUpdate({ ...entry, keys: entry.keys.map((k) => (k.keyId === keyId ? { ...k, active: false } : k)) });
    }
    case "KeyAdded": {
      const entry = mustEntry(state, readString(data, "institution", what), event.type);
      const key = { keyId: readString(data, "keyId", what), publicKey: readString(data, "publicKey", what), active: true };
      return entryUpdate({ ...entry, keys: [...entry.keys, key] });
    }
    case "RolesChanged": {
      const entry = mustEntry(state, readString(data, "institution", what), event.type);
      return entryUpdate({ ...entry, roles: readStringArray(data.roles, what) });
    }
    case "InstitutionSuspended":
    case "InstitutionReinstated": {
      const entry = mustEntry(state, readString(data, "institution", what), event.type);
      const suspend = event.type === "InstitutionSuspended";
      if ((entry.suspended === true) === suspend) broken(`${event.type} for ${entry.id}, which already is`);
      const { suspended: _was, ...rest } = entry;
      return entryUpdate(suspend ? { ...rest, suspended: true } : rest);
    }
    case "ChainConfigInitialised": {
      if (state.has(CHAIN_CONFIG_KEY)) broken("the chain config was initialised twice");
      return configUpdate(parseChainConfig(data));
    }
    case "SequencerAdded": {
      const c = mustConfig(state, what);
      const s = { id: readString(data, "sequencerId", what), publicKey: readString(data, "publicKey", what) };
      if (c.sequencers.some((x) => x.id === s.id)) broken(`sequencer ${s.id} added twice`);
      return configUpdate({ ...c, sequencers: [...c.sequencers, s] });
    }
    case "SequencerRemoved": {
      const c = mustConfig(state, what);
      const id = readString(data, "sequencerId", what);
      if (!c.sequencers.some((x) => x.id === id)) broken(`SequencerRemoved for unknown sequencer ${id}`);
      return configUpdate({ ...c, sequencers: c.sequencers.filter((x) => x.id !== id) });
    }
    case "FinalityChanged": {
      const finality = {
        quorumNumerator: readInt(data, "quorumNumerator", what),
        quorumDenominator: readInt(data, "quorumDenominator", what),
      };
      return configUpdate({ ...mustConfig(state, what), finality });
    }
    case "GovernanceChanged": {
      const governance = {
        thresholdNumerator: readInt(data, "thresholdNumerator", what),
        thresholdDenominator: readInt(data, "thresholdDenominator", what),
      };
      return configUpdate({ ...mustConfig(state, what), governance });
    }
    case "SupervisionChanged":
      return configUpdate({ ...mustConfig(state, what), supervision: readObject(data.supervision, what) });
    case "ProposalCreated": {
      const id = readString(data, "id", what);
      if (state.has(proposalKey(id))) broken(`proposal ${id} created twice`);
      const proposer = readString(data, "proposer", what);
      const institution = data.institution;
      if (institution !== null && typeof institution !== "string") broken(`${what}: institution is not a string or null`);
      const p: ProposalRecord = {
        id,
        proposer,
        change: readChange(data.change, what),
        institution,
        createdAtMs: readInt(data, "createdAtMs", what),
        expiresAtMs: readInt(data, "expiresAtMs", what),
        status: "open",
        yes: [proposer],
        no: [],
        closedAtMs: null,
        parties: sortedIds(event.parties),
      };
      return proposalUpdate(p);
    }
    case "VoteCast": {
      const p = mustOpenProposal(state, data, what);
      const voter = readString(data, "voter", what);
      if (p.yes.includes(voter) || p.no.includes(voter)) broken(`${voter} voted twice on proposal ${p.id}`);
      const vote = readString(data, "vote", what);
      if (vote === "yes") return proposalUpdate({ ...p, yes: sortedIds([...p.yes, voter]) });
      if (vote === "no") return proposalUpdate({ ...p, no: sortedIds([...p.no, voter]) });
      return broken(`${what}: vote ${vote} is neither yes nor no`);
    }
    case "SandboxLimitsChanged": {
      const sandbox = {
        stepLimit: readInt(data, "stepLimit", what),
        memoryLimitBytes: readInt(data, "memoryLimitBytes", what),
        ...(data.maxBigIntBits === undefined ? {} : { maxBigIntBits: readInt(data, "maxBigIntBits", what) }),
      };
      return configUpdate({ ...mustConfig(state, what), sandbox });
    }
    case "CodeStored": {
      const hash = readString(data, "sha256", what);
      // The same code proposed twice is stored once; its key is its hash.
      return new Map([[userCodeKey(hash), userCodeJson(hash, readString(data, "code", what))]]);
    }
    case "ContractDeployed": {
      const index = parseUserContractIndex(state.get(USER_CONTRACTS_KEY));
      const name = readString(data, "name", what);
      const entry = {
        version: readInt(data, "version", what),
        sha256: readString(data, "sha256", what),
        proposal: readString(data, "proposal", what),
        height: readString(data, "height", what),
      };
      const versions = index.get(name) ?? [];
      if (versions.some((v) => v.version === entry.version)) broken(`${name} version ${entry.version} deployed twice`);
      const next = new Map(index);
      next.set(name, [...versions, entry]);
      return new Map([[USER_CONTRACTS_KEY, userContractIndexJson(next)]]);
    }
    case "ProposalApplied":
      return closeProposal(state, data, what, "applied");
    case "ProposalRejected":
      return closeProposal(state, data, what, "rejected");
    default:
      throw new InvariantError(`membership cannot fold event ${event.type}`, "CONTRACT_STATE");
  }
}
