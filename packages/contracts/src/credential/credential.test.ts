// Credentials and identity attestations: given / when / then for every act and rejection, garbage
// in every field, and verification at a height.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { canonicalJson } from "@tally/ledger";
import type { ContractEvent } from "../contract.js";
import { expectAccepted, expectRejection, given } from "../testing/given-when-then.js";
import { REASON_LENGTH_MAX } from "./credential.js";

const SUBJECT = "5a".repeat(32);
const CLAIM = "c1".repeat(32);
const T = 1_700_000_123_456;
const TX = "ab".repeat(32);
const ISSUE = { id: "dip-1", kind: "education", subjectHash: SUBJECT, claimHash: CLAIM };

function issued(id = "dip-1", issuer = "school-a", kind = "education", height = "10"): ContractEvent {
  return {
    type: "CredentialIssued",
    assetId: `cred/${id}`,
    parties: [issuer],
    data: { id, kind, issuer, subjectHash: SUBJECT, claimHash: CLAIM, height, blockTimeMs: 1_700_000_000_000, txId: "01".repeat(32) },
  };
}

function revokedAt(height: string, id = "dip-1", issuer = "school-a"): ContractEvent {
  return {
    type: "CredentialRevoked",
    assetId: `cred/${id}`,
    parties: [issuer],
    data: { id, issuer, reason: "diploma fraud", height, blockTimeMs: 1_700_000_001_000, txId: "02".repeat(32) },
  };
}

describe("credential issue", () => {
  test("a school issues an education credential: digests only, with the issue height kept", () => {
    const then = expectAccepted(given("credential").when({ signer: "school-a", action: "issue", args: ISSUE }));
    const data = { ...ISSUE, issuer: "school-a", height: "7", blockTimeMs: T, txId: TX };
    assert.deepEqual(then.events, [{ type: "CredentialIssued", assetId: "cred/dip-1", parties: ["school-a"], data }]);
    assert.deepEqual(then.state.get("cred/dip-1"), {
      ...ISSUE,
      issuer: "school-a",
      issuedHeight: "7",
      issuedMs: T,
      issueTxId: TX,
      revokedHeight: null,
      revokedMs: null,
      reason: null,
      parties: ["school-a"],
    });
  });

  test("a government issues an identity attestation", () => {
    expectAccepted(given("credential").when({ signer: "gov-a", action: "issue", args: { ...ISSUE, id: "id-1", kind: "identity" } }));
  });

  test("rejections: the wrong kind for the issuer's role, an id issued before, a signer that issues nothing", () => {
    const g = given("credential", [issued()]);
    const code = (signer: string, args: unknown) => expectRejection(g.when({ signer, action: "issue", args })).code;
    assert.equal(code("school-a", { ...ISSUE, id: "x", kind: "identity" }), "KIND_NOT_ALLOWED");
    assert.equal(code("gov-a", { ...ISSUE, id: "x" }), "KIND_NOT_ALLOWED");
    assert.equal(code("gov-a", { ...ISSUE, kind: "identity" }), "CREDENTIAL_EXISTS");
    assert.equal(code("school-a", ISSUE), "CREDENTIAL_EXISTS");
    assert.equal(code("ent-a", { ...ISSUE, id: "x" }), "FORBIDDEN_ROLE");
    assert.equal(code("reg", { ...ISSUE, id: "x" }), "FORBIDDEN_ROLE");
  });
});

describe("credential revoke", () => {
  test("the issuer revokes, with a reason; the revocation height and time are kept", () => {
    const then = expectAccepted(
      given("credential", [issued()]).when({
        signer: "school-a",
        action: "revoke",
        args: { id: "dip-1", reason: "fraud" },
        ctx: { height: 30n },
      }),
    );
    assert.deepEqual(then.events, [
      {
        type: "CredentialRevoked",
        assetId: "cred/dip-1",
        parties: ["school-a"],
        data: { id: "dip-1", issuer: "school-a", reason: "fraud", height: "30", blockTimeMs: T, txId: TX },
      },
    ]);
    const c = then.state.get("cred/dip-1") as { revokedHeight: string; revokedMs: number; reason: string; issuedHeight: string };
    assert.deepEqual([c.issuedHeight, c.revokedHeight, c.revokedMs, c.reason], ["10", "30", T, "fraud"]);
  });

  test("rejections: unknown, not the issuer, already revoked", () => {
    const g = given("credential", [issued(), issued("dip-2"), revokedAt("12", "dip-2")]);
    const code = (signer: string, args: unknown) => expectRejection(g.when({ signer, action: "revoke", args })).code;
    assert.equal(code("school-a", { id: "nope" }), "UNKNOWN_CREDENTIAL");
    assert.equal(code("gov-a", { id: "dip-1" }), "NOT_ISSUER");
    assert.equal(code("school-a", { id: "dip-2" }), "ALREADY_REVOKED");
    assert.equal(code("ent-a", { id: "dip-1" }), "FORBIDDEN_ROLE");
  });
});

describe("credential verify", () => {
  const g = given("credential", [issued("dip-1", "school-a", "education", "10"), revokedAt("20")]);
  const status = (args: Record<string, unknown>) => g.query("verify", { id: "dip-1", ...args }) as { status: string; valid: boolean };

  test("valid from its issue height until the height of its revocation", () => {
    assert.deepEqual([status({ height: 9 }).status, status({ height: 9 }).valid], ["not-yet-issued", false]);
    assert.deepEqual([status({ height: 10 }).status, status({ height: 10 }).valid], ["valid", true]);
    assert.deepEqual([status({ height: 19 }).status, status({ height: 19 }).valid], ["valid", true]);
    assert.deepEqual([status({ height: 20 }).status, status({ height: 20 }).valid], ["revoked", false]);
    assert.deepEqual([status({}).status, status({}).valid], ["revoked", false]);
  });

  test("shows issuer, kind, digests, heights and reason; claimMatches compares the verifier's digest", () => {
    assert.deepEqual(g.query("verify", { id: "dip-1", height: 15, claimHash: CLAIM }), {
      id: "dip-1",
      kind: "education",
      issuer: "school-a",
      subjectHash: SUBJECT,
      claimHash: CLAIM,
      issuedHeight: "10",
      revokedHeight: "20",
      reason: "diploma fraud",
      atHeight: "15",
      status: "valid",
      valid: true,
      claimMatches: true,
    });
    assert.equal((g.query("verify", { id: "dip-1", claimHash: "00".repeat(32) }) as { claimMatches: boolean }).claimMatches, false);
  });

  test("a credential never revoked is valid now and at any height from its issue", () => {
    const h = given("credential", [issued()]);
    assert.equal((h.query("verify", { id: "dip-1" }) as { valid: boolean }).valid, true);
    assert.equal((h.query("verify", { id: "dip-1", height: 1_000_000 }) as { valid: boolean }).valid, true);
  });

  test("unknown: null; bad args: BAD_ARGS naming the field", () => {
    assert.equal(g.query("verify", { id: "nope" }), null);
    for (const [field, args] of [
      ["id", {}],
      ["height", { id: "dip-1", height: -1 }],
      ["height", { id: "dip-1", height: "10" }],
      ["height", { id: "dip-1", height: 1.5 }],
      ["claimHash", { id: "dip-1", claimHash: "zz" }],
      ["extra", { id: "dip-1", extra: 1 }],
    ] as const) {
      const r = expectRejection(g.query("verify", args));
      assert.equal(r.code, "BAD_ARGS");
      assert.match(r.message, new RegExp(`\\b${field}\\b`));
    }
  });

  test("credential: the whole entry, or null", () => {
    assert.equal((g.query("credential", { id: "dip-1" }) as { revokedHeight: string }).revokedHeight, "20");
    assert.equal(g.query("credential", { id: "x" }), null);
  });
});

describe("credential garbage args", () => {
  const cases: [string, string, unknown][] = [
    ["issue", "id", { ...ISSUE, id: undefined }],
    ["issue", "id", { ...ISSUE, id: "Dip 1" }],
    ["issue", "kind", { ...ISSUE, kind: undefined }],
    ["issue", "kind", { ...ISSUE, kind: "medical" }],
    ["issue", "kind", { ...ISSUE, kind: "toString" }],
    ["issue", "kind", { ...ISSUE, kind: 1 }],
    ["issue", "subjectHash", { ...ISSUE, subjectHash: undefined }],
    ["issue", "subjectHash", { ...ISSUE, subjectHash: "Alice Smith" }],
    ["issue", "claimHash", { ...ISSUE, claimHash: CLAIM.slice(1) }],
    ["issue", "name", { ...ISSUE, name: "Alice Smith" }],
    ["revoke", "id", {}],
    ["revoke", "id", { id: 5 }],
    ["revoke", "reason", { id: "dip-1", reason: "" }],
    ["revoke", "reason", { id: "dip-1", reason: "r".repeat(REASON_LENGTH_MAX + 1) }],
    ["revoke", "height", { id: "dip-1", height: 3 }],
  ];
  for (const [action, field, args] of cases) {
    test(`${action} refuses ${JSON.stringify(args).slice(0, 90)} naming ${field}`, () => {
      const g = given("credential", [issued()]);
      const r = expectRejection(g.when({ signer: "school-a", action, args }));
      assert.equal(r.code, "BAD_ARGS");
      assert.match(r.message, new RegExp(`\\b${field}\\b`));
      assert.equal(g.state.size, 1);
    });
  }
});

test("credential is deterministic: the same inputs give the same bytes", () => {
  const run = () => expectAccepted(given("credential", [issued()]).when({ signer: "school-a", action: "revoke", args: { id: "dip-1" } }));
  const a = run();
  const b = run();
  assert.equal(canonicalJson([a.events, [...a.updates]]), canonicalJson([b.events, [...b.updates]]));
});
