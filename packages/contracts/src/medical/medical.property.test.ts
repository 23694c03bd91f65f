// Random sequences of medical acts (anchor, grant, revoke, access) by random signers, most of them
// refused, checked against a plain model after every step: an access is accepted exactly when the
// reader is the record's hospital or patient or holds a live grant (not revoked, not past its end
// by block time); each record's access count equals its log; every reader is a party to the record.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { JsonValue } from "@tally/ledger";
import { isRejection } from "../contract.js";
import { builtinContracts } from "../registry.js";
import { mulberry32, pick, step } from "../supply/property-harness.js";
import { accessPrefix, grantIn, recordIn } from "./medical-state.js";

const HOSPITALS = ["hosp-a", "hosp-b"];
const PATIENTS = ["pat-a", "pat-b"];
const READERS = ["hosp-a", "hosp-b", "bank-a", "ent-a", "pat-a", "pat-b", "reg"];
const RECORDS = ["r-1", "r-2", "r-3", "r-4"];
const HASH = "ab".repeat(32);
const STEPS = 400;
const SEEDS = [5, 23, 99, 2024, 65_537];
const START_MS = 1_700_000_000_000;

for (const seed of SEEDS) {
  test(`medical model check, seed ${seed}`, () => {
    const rand = mulberry32(seed);
    const state = new Map<string, JsonValue>();
    // The model: record → its patient and hospital; patient/grantee → grant; record → accesses.
    const records = new Map<string, { patient: string; hospital: string }>();
    const grants = new Map<string, { revoked: boolean; untilMs: number | null }>();
    const accesses = new Map<string, number>();
    let now = START_MS;
    let accepted = 0;
    for (let i = 1; i <= STEPS; i++) {
      now += Math.floor(rand() * 5_000);
      const ctx = { height: BigInt(i), blockTimeMs: now, txId: i.toString(16).padStart(64, "0") };
      const kind = pick(rand, ["anchor", "grant", "grant", "revoke", "access", "access", "access", "access"]);
      if (kind === "anchor") {
        const id = pick(rand, RECORDS);
        const patient = pick(rand, [...PATIENTS, "bank-a"]);
        const hospital = pick(rand, [...HOSPITALS, "pat-a"]);
        const r = step(builtinContracts, "medical", state, hospital, "anchor", { id, patient, hash: HASH }, ctx);
        const ok = !records.has(id) && PATIENTS.includes(patient) && HOSPITALS.includes(hospital);
        assert.equal(!isRejection(r), ok, `step ${i} anchor ${id} by ${hospital} for ${patient}`);
        if (ok) records.set(id, { patient, hospital });
      } else if (kind === "grant") {
        const patient = pick(rand, PATIENTS);
        const to = pick(
          rand,
          READERS.filter((x) => x !== patient),
        );
        const untilMs = rand() < 0.4 ? now + Math.floor(rand() * 20_000) - 2_000 : undefined;
        const g = grants.get(`${patient}/${to}`);
        const live = g !== undefined && !g.revoked && (g.untilMs === null || now < g.untilMs);
        const r = step(builtinContracts, "medical", state, patient, "grant", { to, ...(untilMs === undefined ? {} : { untilMs }) }, ctx);
        const ok = !live && (untilMs === undefined || untilMs > now);
        assert.equal(!isRejection(r), ok, `step ${i} grant ${patient} → ${to}`);
        if (ok) grants.set(`${patient}/${to}`, { revoked: false, untilMs: untilMs ?? null });
      } else if (kind === "revoke") {
        const patient = pick(rand, PATIENTS);
        const to = pick(rand, READERS);
        const g = grants.get(`${patient}/${to}`);
        const r = step(builtinContracts, "medical", state, patient, "revoke", { to }, ctx);
        assert.equal(!isRejection(r), g !== undefined && !g.revoked, `step ${i} revoke ${patient} → ${to}`);
        if (g !== undefined && !g.revoked) g.revoked = true;
      } else {
        const record = pick(rand, RECORDS);
        const by = pick(rand, READERS);
        const rec = records.get(record);
        const patient = rand() < 0.9 && rec !== undefined ? rec.patient : pick(rand, PATIENTS);
        const r = step(builtinContracts, "medical", state, by, "access", { record, patient, purpose: "care" }, ctx);
        let ok = rec !== undefined && rec.patient === patient && by !== "reg";
        if (ok && by !== rec!.hospital && by !== rec!.patient) {
          const g = grants.get(`${rec!.patient}/${by}`);
          ok = g !== undefined && !g.revoked && (g.untilMs === null || now < g.untilMs);
        }
        assert.equal(!isRejection(r), ok, `step ${i} access ${record} by ${by} (${isRejection(r) ? r.code : "OK"})`);
        if (ok) {
          accesses.set(record, (accesses.get(record) ?? 0) + 1);
          accepted++;
        }
      }
      // Invariants over the whole state.
      for (const id of RECORDS) {
        const rec = recordIn(state, id);
        assert.equal(rec !== undefined, records.has(id), `record ${id} exists`);
        if (rec === undefined) continue;
        const log = [...state.keys()].filter((k) => k.startsWith(accessPrefix(id)));
        assert.equal(rec.accesses, log.length, `record ${id} count matches its log`);
        assert.equal(rec.accesses, accesses.get(id) ?? 0, `record ${id} count matches the model`);
        for (const k of log) assert.ok(rec.parties.includes((state.get(k) as { by: string }).by), `${k} reader is a party`);
      }
      for (const [key, g] of grants) {
        const [patient, to] = key.split("/") as [string, string];
        assert.equal(grantIn(state, patient, to)?.revokedHeight !== null, g.revoked, `grant ${key} revoked`);
      }
    }
    assert.ok(accepted > 10, `seed ${seed}: enough accepted accesses to mean something (${accepted})`);
  });
}
