// The medical contract's state (SCENARIOS.md §10): anchored records (their hashes only), the
// patients' grants to named institutions, and the access log. The shapes decide reads and evolve writes.
import type { JsonValue } from "@tally/ledger";
import type { StateSlice } from "../contract.js";
import { readInteger, readNullableString, readObject, readString, readStringArray } from "../state-read.js";

/** The medical contract's name in transactions and the registry. */
export const MEDICAL_CONTRACT = "medical";

/** The state key of an anchored record. */
export function recordKey(id: string): string {
  return `record/${id}`;
}

/** The prefix of every grant a patient made. */
export function grantPrefix(patient: string): string {
  return `grant/${patient}/`;
}

/** The state key of a patient's grant to one institution. */
export function grantKey(patient: string, grantee: string): string {
  return `${grantPrefix(patient)}${grantee}`;
}

/** The prefix of a record's access log. */
export function accessPrefix(record: string): string {
  return `access/${record}/`;
}

/** The access log entry of one access: by height (zero-padded, so keys sort in chain order) and tx id. */
export function accessKey(record: string, height: bigint, txId: string): string {
  return `${accessPrefix(record)}${height.toString().padStart(20, "0")}/${txId}`;
}

/** An anchored record as decide and evolve see it. */
export interface MedicalRecord {
  readonly id: string;
  readonly hospital: string;
  readonly patient: string;
  readonly hash: string;
  readonly height: string;
  readonly blockTimeMs: number;
  readonly txId: string;
  /** How many accesses the log holds. */
  readonly accesses: number;
  /** The hospital, the patient and every institution that accessed the record, sorted. */
  readonly parties: readonly string[];
}

/** A patient's grant to one institution; a revoked grant keeps its entry with the revocation's height. */
export interface Grant {
  readonly patient: string;
  readonly grantee: string;
  readonly grantedHeight: string;
  readonly grantedMs: number;
  /** The block time from which the grant no longer holds, or null for no end. */
  readonly untilMs: number | null;
  readonly revokedHeight: string | null;
  readonly parties: readonly string[];
}

/** The record at id, or undefined. */
export function recordIn(state: StateSlice, id: string): MedicalRecord | undefined {
  const v = state.get(recordKey(id));
  if (v === undefined) return undefined;
  const what = `medical record ${id}`;
  const o = readObject(v, what);
  return {
    id: readString(o, "id", what),
    hospital: readString(o, "hospital", what),
    patient: readString(o, "patient", what),
    hash: readString(o, "hash", what),
    height: readString(o, "height", what),
    blockTimeMs: readInteger(o, "blockTimeMs", what),
    txId: readString(o, "txId", what),
    accesses: readInteger(o, "accesses", what),
    parties: readStringArray(o.parties, `${what} parties`),
  };
}

/** A record as its state value. */
export function recordValue(r: MedicalRecord): JsonValue {
  return { ...r, parties: [...r.parties] };
}

/** The grant from patient to grantee, or undefined when there never was one. */
export function grantIn(state: StateSlice, patient: string, grantee: string): Grant | undefined {
  const v = state.get(grantKey(patient, grantee));
  if (v === undefined) return undefined;
  const what = `medical grant ${patient}/${grantee}`;
  const o = readObject(v, what);
  const until = o.untilMs;
  return {
    patient: readString(o, "patient", what),
    grantee: readString(o, "grantee", what),
    grantedHeight: readString(o, "grantedHeight", what),
    grantedMs: readInteger(o, "grantedMs", what),
    untilMs: until === null ? null : readInteger(o, "untilMs", what),
    revokedHeight: readNullableString(o, "revokedHeight", what),
    parties: readStringArray(o.parties, `${what} parties`),
  };
}

/** A grant as its state value. */
export function grantValue(g: Grant): JsonValue {
  return { ...g, parties: [...g.parties] };
}

/** Whether a grant lets its grantee in at a block time: not revoked, and not past its end. */
export function grantHolds(g: Grant, blockTimeMs: number): boolean {
  return g.revokedHeight === null && (g.untilMs === null || blockTimeMs < g.untilMs);
}
