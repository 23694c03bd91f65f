// Medical records (SCENARIOS.md §10). A hospital anchors a record's hash for a patient: the record
// itself never goes on the chain. The patient grants named institutions access to its records
// (optionally until a block time) and revokes it. Every access is an act on the chain, signed by
// the institution that reads: it names the record and its patient, is checked against the grant
// (the record's hospital and the patient need none) and is logged with its height and tx id; the
// accessor then becomes a party to the record and may read its hash. An access without a grant,
// after revocation or after the grant's end is refused, and the refusal is recorded in the block.
import { InvariantError, type JsonValue } from "@tally/ledger";
import { isRejection, rejection, type Contract, type ContractEvent, type Rejection, type StateSlice, type TxContext } from "../contract.js";
import { eraseContract, eraseQuery } from "../erase-contract.js";
import { WRITER_ROLES } from "../roles.js";
import { QUERY_SCAN_LIMIT_MAX } from "../run.js";
import { hex32, identifier, optionalInteger, parseArgs, requiredString, type Args } from "../schema.js";
import { readInteger, readObject, readString } from "../state-read.js";
import {
  MEDICAL_CONTRACT,
  accessKey,
  accessPrefix,
  grantHolds,
  grantIn,
  grantKey,
  grantPrefix,
  grantValue,
  recordIn,
  recordKey,
  recordValue,
} from "./medical-state.js";

export { MEDICAL_CONTRACT } from "./medical-state.js";

/** Longest purpose an access states, in UTF-16 code units. */
export const PURPOSE_LENGTH_MAX = 200;

/** Most entries one `accesses` or `grants` query returns: the bound of its prefix scan. */
export const MEDICAL_SCAN_LIMIT = QUERY_SCAN_LIMIT_MAX;

const TIME_MS_MAX = 253_402_300_799_999;

type MedicalCommand =
  | { readonly action: "anchor"; readonly id: string; readonly patient: string; readonly hash: string }
  | { readonly action: "grant"; readonly to: string; readonly untilMs: number | undefined }
  | { readonly action: "revoke"; readonly to: string }
  | { readonly action: "access"; readonly record: string; readonly patient: string; readonly purpose: string };

const parsers = {
  anchor: (args: Args): MedicalCommand | Rejection => {
    const a = parseArgs(args, { id: identifier, patient: identifier, hash: hex32 });
    return isRejection(a) ? a : { action: "anchor", ...a };
  },
  grant: (args: Args): MedicalCommand | Rejection => {
    const a = parseArgs(args, { to: identifier, untilMs: optionalInteger(0, TIME_MS_MAX) });
    return isRejection(a) ? a : { action: "grant", to: a.to, untilMs: a.untilMs };
  },
  revoke: (args: Args): MedicalCommand | Rejection => {
    const a = parseArgs(args, { to: identifier });
    return isRejection(a) ? a : { action: "revoke", to: a.to };
  },
  access: (args: Args): MedicalCommand | Rejection => {
    const a = parseArgs(args, { record: identifier, patient: identifier, purpose: requiredString(PURPOSE_LENGTH_MAX) });
    return isRejection(a) ? a : { action: "access", ...a };
  },
};

function decide(cmd: MedicalCommand, state: StateSlice, ctx: TxContext): readonly ContractEvent[] | Rejection {
  const at = { height: ctx.height.toString(), blockTimeMs: ctx.blockTimeMs, txId: ctx.txId };
  switch (cmd.action) {
    case "anchor": {
      if (state.has(recordKey(cmd.id))) return rejection("RECORD_EXISTS", `record ${cmd.id} is already anchored`);
      const roles = ctx.members.get(cmd.patient)?.roles;
      if (roles === undefined) return rejection("UNKNOWN_MEMBER", `${cmd.patient} is not a member`);
      if (!roles.includes("patient")) return rejection("NOT_PATIENT", `${cmd.patient} does not hold the patient role`);
      const parties = [...new Set([ctx.signer, cmd.patient])].sort();
      const data = { id: cmd.id, hospital: ctx.signer, patient: cmd.patient, hash: cmd.hash, ...at };
      return [{ type: "RecordAnchored", assetId: recordKey(cmd.id), parties, data }];
    }
    case "grant": {
      if (cmd.to === ctx.signer) return rejection("SELF_GRANT", `${ctx.signer} needs no grant to its own records`);
      if (!ctx.members.has(cmd.to)) return rejection("UNKNOWN_MEMBER", `${cmd.to} is not a member`);
      if (cmd.untilMs !== undefined && cmd.untilMs <= ctx.blockTimeMs)
        return rejection("GRANT_ENDED", `the grant would end at ${cmd.untilMs}, not after the block time ${ctx.blockTimeMs}`);
      const g = grantIn(state, ctx.signer, cmd.to);
      if (g !== undefined && grantHolds(g, ctx.blockTimeMs))
        return rejection("ALREADY_GRANTED", `${cmd.to} already has access to ${ctx.signer}'s records`);
      const data = { patient: ctx.signer, grantee: cmd.to, untilMs: cmd.untilMs ?? null, ...at };
      return [{ type: "AccessGranted", assetId: grantKey(ctx.signer, cmd.to), parties: [ctx.signer, cmd.to], data }];
    }
    case "revoke": {
      const g = grantIn(state, ctx.signer, cmd.to);
      if (g === undefined) return rejection("NOT_GRANTED", `${ctx.signer} never granted ${cmd.to} access`);
      if (g.revokedHeight !== null)
        return rejection("ALREADY_REVOKED", `${ctx.signer}'s grant to ${cmd.to} was revoked at height ${g.revokedHeight}`);
      const data = { patient: ctx.signer, grantee: cmd.to, ...at };
      return [{ type: "AccessRevoked", assetId: grantKey(ctx.signer, cmd.to), parties: [ctx.signer, cmd.to], data }];
    }
    case "access": {
      const rec = recordIn(state, cmd.record);
      if (rec === undefined) return rejection("UNKNOWN_RECORD", `no record ${cmd.record}`);
      if (rec.patient !== cmd.patient) return rejection("PATIENT_MISMATCH", `record ${cmd.record} is not ${cmd.patient}'s`);
      const by = ctx.signer;
      if (by !== rec.hospital && by !== rec.patient) {
        const g = grantIn(state, rec.patient, by);
        if (g === undefined) return rejection("ACCESS_NOT_GRANTED", `${rec.patient} has not granted ${by} access to its records`);
        if (g.revokedHeight !== null)
          return rejection("ACCESS_REVOKED", `${rec.patient} revoked ${by}'s access at height ${g.revokedHeight}`);
        if (!grantHolds(g, ctx.blockTimeMs)) return rejection("GRANT_EXPIRED", `${rec.patient}'s grant to ${by} ended at ${g.untilMs}`);
      }
      const parties = [...new Set([rec.hospital, rec.patient, by])].sort();
      const data = { record: rec.id, patient: rec.patient, hospital: rec.hospital, by, purpose: cmd.purpose, ...at };
      return [{ type: "RecordAccessed", assetId: recordKey(rec.id), parties, data }];
    }
    default: {
      const never: never = cmd;
      throw new InvariantError(`unknown medical command ${(never as { action: string }).action}`, "CONTRACT_STATE");
    }
  }
}

function evolve(state: StateSlice, event: ContractEvent): ReadonlyMap<string, JsonValue | null> {
  const what = `medical ${event.type}`;
  const data = readObject(event.data, what);
  switch (event.type) {
    case "RecordAnchored": {
      const id = readString(data, "id", what);
      if (state.has(recordKey(id))) throw new InvariantError(`record ${id} anchored twice`, "CONTRACT_STATE");
      return new Map([[recordKey(id), { ...data, accesses: 0, parties: [...event.parties].sort() }]]);
    }
    case "AccessGranted": {
      const patient = readString(data, "patient", what);
      const grantee = readString(data, "grantee", what);
      const grant = {
        patient,
        grantee,
        grantedHeight: readString(data, "height", what),
        grantedMs: readInteger(data, "blockTimeMs", what),
        untilMs: data.untilMs === null ? null : readInteger(data, "untilMs", what),
        revokedHeight: null,
        parties: [patient, grantee].sort(),
      };
      return new Map([[grantKey(patient, grantee), grantValue(grant)]]);
    }
    case "AccessRevoked": {
      const patient = readString(data, "patient", what);
      const grantee = readString(data, "grantee", what);
      const g = grantIn(state, patient, grantee);
      if (g === undefined) throw new InvariantError(`${what}: no grant ${patient}/${grantee}`, "CONTRACT_STATE");
      return new Map([[grantKey(patient, grantee), grantValue({ ...g, revokedHeight: readString(data, "height", what) })]]);
    }
    case "RecordAccessed": {
      const id = readString(data, "record", what);
      const rec = recordIn(state, id);
      if (rec === undefined) throw new InvariantError(`${what}: no record ${id}`, "CONTRACT_STATE");
      const by = readString(data, "by", what);
      const height = readString(data, "height", what);
      const txId = readString(data, "txId", what);
      const entry = {
        by,
        purpose: readString(data, "purpose", what),
        height,
        blockTimeMs: readInteger(data, "blockTimeMs", what),
        txId,
        parties: [...event.parties],
      };
      return new Map([
        [recordKey(id), recordValue({ ...rec, accesses: rec.accesses + 1, parties: [...new Set([...rec.parties, by])].sort() })],
        [accessKey(id, BigInt(height), txId), entry],
      ]);
    }
    default:
      throw new InvariantError(`medical cannot fold event ${event.type}`, "CONTRACT_STATE");
  }
}

function listOf(state: StateSlice, prefix: string): JsonValue[] {
  return [...state.keys()]
    .filter((k) => k.startsWith(prefix))
    .sort()
    .map((k) => state.get(k)!);
}

/**
 * The medical contract. State: `record/<id>` → {id, hospital, patient, hash, height, blockTimeMs,
 * txId, accesses, parties}; `grant/<patient>/<grantee>` → {patient, grantee, grantedHeight,
 * grantedMs, untilMs, revokedHeight, parties}; `access/<record>/<height>/<txId>` → {by, purpose,
 * height, blockTimeMs, txId, parties}.
 */
export const medical: Contract = eraseContract<MedicalCommand>({
  name: MEDICAL_CONTRACT,
  actions: {
    anchor: { roles: ["hospital"], parse: parsers.anchor },
    grant: { roles: ["patient"], parse: parsers.grant },
    revoke: { roles: ["patient"], parse: parsers.revoke },
    access: { roles: WRITER_ROLES, parse: parsers.access },
  },
  keys: (cmd, ctx) => {
    switch (cmd.action) {
      case "anchor":
        return [recordKey(cmd.id)];
      case "grant":
      case "revoke":
        return [grantKey(ctx.signer, cmd.to)];
      case "access":
        return [recordKey(cmd.record), grantKey(cmd.patient, ctx.signer), accessKey(cmd.record, ctx.height, ctx.txId)];
      default: {
        const never: never = cmd;
        throw new InvariantError(`unknown medical command ${(never as { action: string }).action}`, "CONTRACT_STATE");
      }
    }
  },
  decide,
  evolve,
  queries: {
    /** `record {id}`: the anchored record (its hash, never its content), for its parties. */
    record: eraseQuery<{ readonly id: string }>({
      parse: (args) => parseArgs(args, { id: identifier }),
      keys: (q) => [recordKey(q.id)],
      run: (q, state) => state.get(recordKey(q.id)) ?? null,
    }),
    /** `grant {patient, to}`: the grant, revoked or not, or null; for the patient and the grantee. */
    grant: eraseQuery<{ readonly patient: string; readonly to: string }>({
      parse: (args) => parseArgs(args, { patient: identifier, to: identifier }),
      keys: (q) => [grantKey(q.patient, q.to)],
      run: (q, state) => state.get(grantKey(q.patient, q.to)) ?? null,
    }),
    /** `grants {patient}`: every grant the patient made, in grantee order; the patient's own books. */
    grants: eraseQuery<{ readonly patient: string }>({
      parse: (args) => parseArgs(args, { patient: identifier }),
      keys: () => [],
      scan: (q) => ({ prefix: grantPrefix(q.patient), limit: MEDICAL_SCAN_LIMIT }),
      owner: (q) => q.patient,
      run: (q, state) => listOf(state, grantPrefix(q.patient)),
    }),
    /** `accesses {record}`: the record's access log in chain order (each caller sees the entries it is party to). */
    accesses: eraseQuery<{ readonly record: string }>({
      parse: (args) => parseArgs(args, { record: identifier }),
      keys: () => [],
      scan: (q) => ({ prefix: accessPrefix(q.record), limit: MEDICAL_SCAN_LIMIT }),
      run: (q, state) => listOf(state, accessPrefix(q.record)),
    }),
  },
});
