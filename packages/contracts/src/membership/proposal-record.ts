// A governance proposal as membership state holds it under `proposal/<id>`.
import { InvariantError, type JsonValue } from "@tally/ledger";
import { readNullableString, readObject, readString, readStringArray, type JsonObject } from "../state-read.js";
import { changeJson, readChange, type Change } from "./proposal-change.js";

/** Prefix of the membership state keys holding one proposal each. */
export const PROPOSAL_KEY_PREFIX = "proposal/";

/** The `record` marker of a proposal value, which tells it from institution entries. */
export const PROPOSAL_RECORD = "proposal";

/** The membership state key of one proposal. */
export function proposalKey(id: string): string {
  return PROPOSAL_KEY_PREFIX + id;
}

/** Where a proposal stands. An open proposal past expiresAtMs is expired: it stays "open" in state but takes no votes. */
export type ProposalStatus = "open" | "applied" | "rejected";

/** A proposal and its votes. Voters are members, so the lists are bounded by MEMBERS_MAX. */
export interface ProposalRecord {
  readonly id: string;
  readonly proposer: string;
  readonly change: Change;
  /** The institution the change is about, or null for a chain-config change. */
  readonly institution: string | null;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  readonly status: ProposalStatus;
  /** Members who voted yes, sorted; the proposer is the first yes. */
  readonly yes: readonly string[];
  /** Members who voted no, sorted. */
  readonly no: readonly string[];
  /** Block time at which the proposal was applied or rejected; null while open. */
  readonly closedAtMs: number | null;
  /** The members when it was proposed, and the institution it is about: everyone who may see it. Sorted. */
  readonly parties: readonly string[];
}

function readTime(o: JsonObject, field: string, what: string): number {
  const v = o[field];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
    throw new InvariantError(`${what}: ${field} is not a time`, "CONTRACT_STATE");
  return v;
}

function readStatus(o: JsonObject, what: string): ProposalStatus {
  const v = readString(o, "status", what);
  if (v !== "open" && v !== "applied" && v !== "rejected") throw new InvariantError(`${what}: status ${v} is unknown`, "CONTRACT_STATE");
  return v;
}

/** Reads a proposal from state; throws InvariantError when it is malformed. */
export function parseProposal(v: JsonValue | undefined): ProposalRecord {
  const o = readObject(v, "membership proposal");
  const id = readString(o, "id", "membership proposal");
  const what = `membership proposal ${id}`;
  if (o.record !== PROPOSAL_RECORD) throw new InvariantError(`${what}: record is not ${PROPOSAL_RECORD}`, "CONTRACT_STATE");
  const closed = o.closedAtMs;
  return {
    id,
    proposer: readString(o, "proposer", what),
    change: readChange(o.change, what),
    institution: readNullableString(o, "institution", what),
    createdAtMs: readTime(o, "createdAtMs", what),
    expiresAtMs: readTime(o, "expiresAtMs", what),
    status: readStatus(o, what),
    yes: readStringArray(o.yes, `${what} yes`),
    no: readStringArray(o.no, `${what} no`),
    closedAtMs: closed === null ? null : readTime(o, "closedAtMs", what),
    parties: readStringArray(o.parties, `${what} parties`),
  };
}

/** A proposal as the JSON state value, marked `record: "proposal"`. */
export function proposalJson(p: ProposalRecord): JsonValue {
  return {
    record: PROPOSAL_RECORD,
    id: p.id,
    proposer: p.proposer,
    change: changeJson(p.change),
    institution: p.institution,
    createdAtMs: p.createdAtMs,
    expiresAtMs: p.expiresAtMs,
    status: p.status,
    yes: [...p.yes],
    no: [...p.no],
    closedAtMs: p.closedAtMs,
    parties: [...p.parties],
  };
}

/** Sorted by code unit, like canonical JSON keys, so every node holds the same array. */
export function sortedIds(ids: Iterable<string>): string[] {
  return [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
