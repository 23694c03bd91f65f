// Given / when / then for the example user contract examples/contracts/letter-of-credit.js, run in
// the real sandbox through the executor's pipeline.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isRejection, type CommandOutcome, type Rejection } from "@tally/contracts";
import { NOW_MS, SandboxChain, codeOf } from "../testing/harness.js";

const LC_CODE = readFileSync(join(import.meta.dirname, "../../../../examples/contracts/letter-of-credit.js"), "utf8");
const HASH_1 = "a".repeat(64);
const HASH_2 = "b".repeat(64);

const ISSUE = {
  id: "lc-1",
  applicant: "ent-a",
  beneficiary: "ent-b",
  amount: "1000000",
  currency: "EUR",
  documents: "invoice, bill-of-lading",
  expiresAtMs: NOW_MS + 86_400_000,
};

function accepted(r: CommandOutcome | Rejection): CommandOutcome {
  assert.ok(!isRejection(r), isRejection(r) ? `${r.code}: ${r.message}` : "");
  return r;
}

describe("letter of credit (examples/contracts/letter-of-credit.js)", () => {
  let chain: SandboxChain;
  before(async () => {
    chain = await SandboxChain.start([{ name: "loc", versions: [LC_CODE] }]);
  });
  after(() => chain.dispose());

  test("given no letter, when bank-a issues one, then CreditIssued names the three parties and the letter is issued", () => {
    const then = accepted(chain.act("bank-a", "loc", "issue", ISSUE));
    assert.deepEqual(
      then.events.map((e) => [e.type, e.assetId, e.parties]),
      [["CreditIssued", "lc/lc-1", ["bank-a", "ent-a", "ent-b"]]],
    );
    const lc = chain.query("loc", "letter", { id: "lc-1" }) as Record<string, unknown>;
    assert.equal(lc.status, "issued");
    assert.deepEqual(lc.documents, ["invoice", "bill-of-lading"]);
  });

  test("when the same id is issued again, then LC_EXISTS; an enterprise may not issue (FORBIDDEN_ROLE)", () => {
    assert.equal(codeOf(chain.act("bank-a", "loc", "issue", ISSUE)), "LC_EXISTS");
    assert.equal(codeOf(chain.act("ent-a", "loc", "issue", { ...ISSUE, id: "lc-2" })), "FORBIDDEN_ROLE");
  });

  test("args are checked against the declared schema before any code runs", () => {
    assert.equal(codeOf(chain.act("bank-a", "loc", "issue", { ...ISSUE, id: "lc-3", amount: "-5" })), "BAD_ARGS");
    assert.equal(codeOf(chain.act("bank-a", "loc", "issue", { ...ISSUE, id: "lc-3", extra: 1 })), "BAD_ARGS");
    assert.equal(codeOf(chain.act("bank-a", "loc", "refund", { id: "lc-1" })), "UNKNOWN_ACTION");
  });

  test("when the issuer pays before every document is in, then DOCUMENTS_MISSING", () => {
    assert.equal(codeOf(chain.act("bank-a", "loc", "pay", { id: "lc-1" })), "DOCUMENTS_MISSING");
  });

  test("when someone else than the beneficiary presents, then NOT_BENEFICIARY; an unknown document is DOCUMENT_NOT_REQUIRED", () => {
    assert.equal(codeOf(chain.act("ent-a", "loc", "present", { id: "lc-1", document: "invoice", hash: HASH_1 })), "NOT_BENEFICIARY");
    assert.equal(
      codeOf(chain.act("ent-b", "loc", "present", { id: "lc-1", document: "packing-list", hash: HASH_1 })),
      "DOCUMENT_NOT_REQUIRED",
    );
  });

  test("given both documents presented, when the issuer pays, then CreditPaid and the letter is paid; a second payment is LC_CLOSED", () => {
    accepted(chain.act("ent-b", "loc", "present", { id: "lc-1", document: "invoice", hash: HASH_1 }));
    assert.equal(codeOf(chain.act("ent-b", "loc", "present", { id: "lc-1", document: "invoice", hash: HASH_2 })), "ALREADY_PRESENTED");
    accepted(chain.act("ent-b", "loc", "present", { id: "lc-1", document: "bill-of-lading", hash: HASH_2 }));
    assert.equal(codeOf(chain.act("bank-b", "loc", "pay", { id: "lc-1" })), "NOT_ISSUER");
    const then = accepted(chain.act("bank-a", "loc", "pay", { id: "lc-1" }));
    assert.deepEqual(
      then.events.map((e) => [e.type, e.data]),
      [["CreditPaid", { id: "lc-1", amount: "1000000", currency: "EUR", paidAtMs: NOW_MS }]],
    );
    const lc = chain.query("loc", "letter", { id: "lc-1" }) as Record<string, unknown>;
    assert.equal(lc.status, "paid");
    assert.deepEqual(lc.presented, { invoice: HASH_1, "bill-of-lading": HASH_2 });
    assert.equal(codeOf(chain.act("bank-a", "loc", "pay", { id: "lc-1" })), "LC_CLOSED");
  });

  test("after its expiry a letter takes no documents (LC_EXPIRED): the contract reads the block time, not a clock", () => {
    accepted(chain.act("bank-a", "loc", "issue", { ...ISSUE, id: "lc-9" }));
    const late = ISSUE.expiresAtMs + 1;
    assert.equal(codeOf(chain.act("ent-b", "loc", "present", { id: "lc-9", document: "invoice", hash: HASH_1 }, late)), "LC_EXPIRED");
  });
});
