// Medical records: given / when / then for every act and rejection, garbage in every field, the
// queries, and determinism.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { canonicalJson } from "@tally/ledger";
import type { ContractEvent } from "../contract.js";
import { expectAccepted, expectRejection, given } from "../testing/given-when-then.js";
import { PURPOSE_LENGTH_MAX } from "./medical.js";

const HASH = "3c".repeat(32);
const T = 1_700_000_123_456;
const TX = "ab".repeat(32);

function anchored(id = "rec-1", patient = "pat-a", hospital = "hosp-a"): ContractEvent {
  return {
    type: "RecordAnchored",
    assetId: `record/${id}`,
    parties: [hospital, patient].sort(),
    data: { id, hospital, patient, hash: HASH, height: "2", blockTimeMs: 1_700_000_000_000, txId: "01".repeat(32) },
  };
}

function granted(to: string, untilMs: number | null = null, patient = "pat-a"): ContractEvent {
  return {
    type: "AccessGranted",
    assetId: `grant/${patient}/${to}`,
    parties: [patient, to],
    data: { patient, grantee: to, untilMs, height: "3", blockTimeMs: 1_700_000_000_100, txId: "02".repeat(32) },
  };
}

function revoked(to: string, patient = "pat-a"): ContractEvent {
  return {
    type: "AccessRevoked",
    assetId: `grant/${patient}/${to}`,
    parties: [patient, to],
    data: { patient, grantee: to, height: "5", blockTimeMs: 1_700_000_000_200, txId: "03".repeat(32) },
  };
}

const ACCESS = { record: "rec-1", patient: "pat-a", purpose: "second opinion" };

describe("medical anchor", () => {
  test("a hospital anchors a record's hash for a patient: the hash only, with height, time and tx", () => {
    const then = expectAccepted(
      given("medical").when({ signer: "hosp-a", action: "anchor", args: { id: "rec-1", patient: "pat-a", hash: HASH } }),
    );
    const data = { id: "rec-1", hospital: "hosp-a", patient: "pat-a", hash: HASH, height: "7", blockTimeMs: T, txId: TX };
    assert.deepEqual(then.events, [{ type: "RecordAnchored", assetId: "record/rec-1", parties: ["hosp-a", "pat-a"], data }]);
    assert.deepEqual(then.state.get("record/rec-1"), { ...data, accesses: 0, parties: ["hosp-a", "pat-a"] });
  });

  test("rejections: the same id twice, a non-member, a member that is no patient, a signer that is no hospital", () => {
    const g = given("medical", [anchored()]);
    const code = (signer: string, args: unknown) => expectRejection(g.when({ signer, action: "anchor", args })).code;
    assert.equal(code("hosp-b", { id: "rec-1", patient: "pat-b", hash: HASH }), "RECORD_EXISTS");
    assert.equal(code("hosp-a", { id: "rec-2", patient: "nobody", hash: HASH }), "UNKNOWN_MEMBER");
    assert.equal(code("hosp-a", { id: "rec-2", patient: "bank-a", hash: HASH }), "NOT_PATIENT");
    assert.equal(code("pat-a", { id: "rec-2", patient: "pat-a", hash: HASH }), "FORBIDDEN_ROLE");
    assert.equal(code("bank-a", { id: "rec-2", patient: "pat-a", hash: HASH }), "FORBIDDEN_ROLE");
  });
});

describe("medical grant and revoke", () => {
  test("the patient grants a named institution access, with an optional end", () => {
    const then = expectAccepted(given("medical").when({ signer: "pat-a", action: "grant", args: { to: "hosp-b", untilMs: T + 60_000 } }));
    assert.deepEqual(then.events, [
      {
        type: "AccessGranted",
        assetId: "grant/pat-a/hosp-b",
        parties: ["pat-a", "hosp-b"],
        data: { patient: "pat-a", grantee: "hosp-b", untilMs: T + 60_000, height: "7", blockTimeMs: T, txId: TX },
      },
    ]);
    assert.deepEqual(then.state.get("grant/pat-a/hosp-b"), {
      patient: "pat-a",
      grantee: "hosp-b",
      grantedHeight: "7",
      grantedMs: T,
      untilMs: T + 60_000,
      revokedHeight: null,
      parties: ["hosp-b", "pat-a"],
    });
  });

  test("the patient revokes: the grant keeps its entry with the revocation's height", () => {
    const then = expectAccepted(given("medical", [granted("hosp-b")]).when({ signer: "pat-a", action: "revoke", args: { to: "hosp-b" } }));
    assert.equal(then.events[0]?.type, "AccessRevoked");
    assert.equal((then.state.get("grant/pat-a/hosp-b") as { revokedHeight: string }).revokedHeight, "7");
  });

  test("a revoked or ended grant may be granted again; a live one may not", () => {
    expectAccepted(
      given("medical", [granted("hosp-b"), revoked("hosp-b")]).when({ signer: "pat-a", action: "grant", args: { to: "hosp-b" } }),
    );
    expectAccepted(given("medical", [granted("hosp-b", T)]).when({ signer: "pat-a", action: "grant", args: { to: "hosp-b" } }));
    assert.equal(
      expectRejection(given("medical", [granted("hosp-b")]).when({ signer: "pat-a", action: "grant", args: { to: "hosp-b" } })).code,
      "ALREADY_GRANTED",
    );
  });

  test("rejections: to itself, a non-member, an end not after the block time, a signer that is no patient", () => {
    const code = (signer: string, args: unknown) => expectRejection(given("medical").when({ signer, action: "grant", args })).code;
    assert.equal(code("pat-a", { to: "pat-a" }), "SELF_GRANT");
    assert.equal(code("pat-a", { to: "nobody" }), "UNKNOWN_MEMBER");
    assert.equal(code("pat-a", { to: "hosp-b", untilMs: T }), "GRANT_ENDED");
    assert.equal(code("hosp-a", { to: "hosp-b" }), "FORBIDDEN_ROLE");
  });

  test("revoke rejections: never granted, already revoked, not a patient; another patient's grant is not touched", () => {
    const g = given("medical", [granted("hosp-b"), revoked("hosp-b"), granted("bank-a")]);
    assert.equal(expectRejection(g.when({ signer: "pat-a", action: "revoke", args: { to: "ent-a" } })).code, "NOT_GRANTED");
    assert.equal(expectRejection(g.when({ signer: "pat-a", action: "revoke", args: { to: "hosp-b" } })).code, "ALREADY_REVOKED");
    assert.equal(expectRejection(g.when({ signer: "pat-b", action: "revoke", args: { to: "bank-a" } })).code, "NOT_GRANTED");
    assert.equal(expectRejection(g.when({ signer: "hosp-a", action: "revoke", args: { to: "bank-a" } })).code, "FORBIDDEN_ROLE");
  });
});

describe("medical access", () => {
  test("a granted institution's access is recorded: log entry, count, and it becomes a party to the record", () => {
    const then = expectAccepted(
      given("medical", [anchored(), granted("hosp-b")]).when({ signer: "hosp-b", action: "access", args: ACCESS }),
    );
    const data = {
      record: "rec-1",
      patient: "pat-a",
      hospital: "hosp-a",
      by: "hosp-b",
      purpose: "second opinion",
      height: "7",
      blockTimeMs: T,
      txId: TX,
    };
    assert.deepEqual(then.events, [{ type: "RecordAccessed", assetId: "record/rec-1", parties: ["hosp-a", "hosp-b", "pat-a"], data }]);
    const rec = then.state.get("record/rec-1") as { accesses: number; parties: string[] };
    assert.equal(rec.accesses, 1);
    assert.deepEqual(rec.parties, ["hosp-a", "hosp-b", "pat-a"]);
    assert.deepEqual(then.state.get(`access/rec-1/${"7".padStart(20, "0")}/${TX}`), {
      by: "hosp-b",
      purpose: "second opinion",
      height: "7",
      blockTimeMs: T,
      txId: TX,
      parties: ["hosp-a", "hosp-b", "pat-a"],
    });
  });

  test("the record's hospital and its patient access without a grant, and are logged too", () => {
    for (const signer of ["hosp-a", "pat-a"]) {
      const then = expectAccepted(given("medical", [anchored()]).when({ signer, action: "access", args: ACCESS }));
      assert.equal((then.state.get("record/rec-1") as { accesses: number }).accesses, 1);
    }
  });

  test("an access after revocation is refused, and nothing is logged", () => {
    const g = given("medical", [anchored(), granted("hosp-b"), revoked("hosp-b")]);
    const r = expectRejection(g.when({ signer: "hosp-b", action: "access", args: ACCESS }));
    assert.equal(r.code, "ACCESS_REVOKED");
    assert.match(r.message, /height 5/);
    assert.equal(g.state.size, 2);
  });

  test("rejections: no grant, grant ended, unknown record, wrong patient, another patient's grant, the regulator", () => {
    const g = given("medical", [anchored(), anchored("rec-2", "pat-b"), granted("hosp-b", T), granted("bank-a", null, "pat-b")]);
    const code = (signer: string, args: unknown) => expectRejection(g.when({ signer, action: "access", args })).code;
    assert.equal(code("bank-b", ACCESS), "ACCESS_NOT_GRANTED");
    assert.equal(code("hosp-b", ACCESS), "GRANT_EXPIRED");
    assert.equal(code("hosp-b", { ...ACCESS, record: "rec-9" }), "UNKNOWN_RECORD");
    assert.equal(code("hosp-b", { ...ACCESS, patient: "pat-b" }), "PATIENT_MISMATCH");
    // pat-b granted bank-a, but rec-1 is pat-a's.
    assert.equal(code("bank-a", ACCESS), "ACCESS_NOT_GRANTED");
    assert.equal(code("reg", ACCESS), "FORBIDDEN_ROLE");
  });

  test("access before the grant's end is allowed", () => {
    expectAccepted(given("medical", [anchored(), granted("hosp-b", T + 1)]).when({ signer: "hosp-b", action: "access", args: ACCESS }));
  });
});

describe("medical garbage args", () => {
  const cases: [string, string, string, unknown][] = [
    ["anchor", "hosp-a", "id", { patient: "pat-a", hash: HASH }],
    ["anchor", "hosp-a", "id", { id: "Rec 1", patient: "pat-a", hash: HASH }],
    ["anchor", "hosp-a", "id", { id: "r/1", patient: "pat-a", hash: HASH }],
    ["anchor", "hosp-a", "patient", { id: "r", hash: HASH }],
    ["anchor", "hosp-a", "patient", { id: "r", patient: 7, hash: HASH }],
    ["anchor", "hosp-a", "hash", { id: "r", patient: "pat-a" }],
    ["anchor", "hosp-a", "hash", { id: "r", patient: "pat-a", hash: HASH.toUpperCase() }],
    ["anchor", "hosp-a", "record", { id: "r", patient: "pat-a", hash: HASH, record: "the whole record" }],
    ["grant", "pat-a", "to", {}],
    ["grant", "pat-a", "to", { to: "" }],
    ["grant", "pat-a", "untilMs", { to: "hosp-b", untilMs: "tomorrow" }],
    ["grant", "pat-a", "untilMs", { to: "hosp-b", untilMs: -5 }],
    ["grant", "pat-a", "records", { to: "hosp-b", records: ["rec-1"] }],
    ["revoke", "pat-a", "to", { to: null }],
    ["revoke", "pat-a", "reason", { to: "hosp-b", reason: "x" }],
    ["access", "hosp-b", "record", { patient: "pat-a", purpose: "p" }],
    ["access", "hosp-b", "patient", { record: "rec-1", purpose: "p" }],
    ["access", "hosp-b", "purpose", { record: "rec-1", patient: "pat-a" }],
    ["access", "hosp-b", "purpose", { record: "rec-1", patient: "pat-a", purpose: "" }],
    ["access", "hosp-b", "purpose", { record: "rec-1", patient: "pat-a", purpose: "p".repeat(PURPOSE_LENGTH_MAX + 1) }],
  ];
  for (const [action, signer, field, args] of cases) {
    test(`${action} refuses ${JSON.stringify(args).slice(0, 90)} naming ${field}`, () => {
      const g = given("medical", [anchored(), granted("hosp-b")]);
      const r = expectRejection(g.when({ signer, action, args }));
      assert.equal(r.code, "BAD_ARGS");
      assert.match(r.message, new RegExp(`\\b${field}\\b`));
      assert.equal(g.state.size, 2);
    });
  }
});

describe("medical queries", () => {
  const g = given("medical", [anchored(), granted("hosp-b"), granted("bank-a"), revoked("bank-a")]);
  const after = expectAccepted(g.when({ signer: "hosp-b", action: "access", args: ACCESS }));
  const g2 = given("medical", [anchored(), granted("hosp-b"), ...after.events]);

  test("record: the hash and its parties, or null", () => {
    assert.equal((g2.query("record", { id: "rec-1" }) as { hash: string }).hash, HASH);
    assert.equal(g2.query("record", { id: "rec-9" }), null);
  });

  test("grant and grants: one grant, and every grant of a patient in grantee order", () => {
    assert.equal((g.query("grant", { patient: "pat-a", to: "bank-a" }) as { revokedHeight: string }).revokedHeight, "5");
    assert.equal(g.query("grant", { patient: "pat-a", to: "ent-a" }), null);
    assert.deepEqual(
      (g.query("grants", { patient: "pat-a" }) as { grantee: string }[]).map((x) => x.grantee),
      ["bank-a", "hosp-b"],
    );
  });

  test("accesses: the log in chain order", () => {
    const log = g2.query("accesses", { record: "rec-1" }) as { by: string; height: string }[];
    assert.deepEqual(
      log.map((e) => [e.by, e.height]),
      [["hosp-b", "7"]],
    );
    assert.deepEqual(g2.query("accesses", { record: "rec-2" }), []);
    assert.equal(expectRejection(g2.query("accesses", { record: "" })).code, "BAD_ARGS");
  });
});

test("medical is deterministic: the same inputs give the same bytes", () => {
  const run = () =>
    expectAccepted(given("medical", [anchored(), granted("hosp-b")]).when({ signer: "hosp-b", action: "access", args: ACCESS }));
  const a = run();
  const b = run();
  assert.equal(canonicalJson([a.events, [...a.updates]]), canonicalJson([b.events, [...b.updates]]));
});
