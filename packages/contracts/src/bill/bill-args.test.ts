// BAD_ARGS for garbage in every field of every bill action: wrong type, empty, too long, negative, extra.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { expectAccepted, expectRejection } from "../testing/given-when-then.js";
import { BILL_ROOT_ID_LENGTH_MAX, DAY_MS, RATE_BP_MAX, SPLIT_CHILDREN_MAX } from "./bill-state.js";
import { DELIVERED, DUE, FUNDING, T0, cmd, givenBill } from "./bill-test-fixtures.js";

const ISSUE_OK = { id: "b-2", payee: "ent-b", acceptor: "ent-c", amount: "100", dueMs: DUE };

// [action, signer, the field the rejection must name, args]
const cases: [string, string, string, unknown][] = [
  ["issue", "ent-a", "id", { ...ISSUE_OK, id: undefined }],
  ["issue", "ent-a", "id", { ...ISSUE_OK, id: "" }],
  ["issue", "ent-a", "id", { ...ISSUE_OK, id: 7 }],
  ["issue", "ent-a", "id", { ...ISSUE_OK, id: "B-2" }],
  ["issue", "ent-a", "id", { ...ISSUE_OK, id: "b/2" }],
  ["issue", "ent-a", "id", { ...ISSUE_OK, id: "b-2.1" }],
  ["issue", "ent-a", "id", { ...ISSUE_OK, id: "b".repeat(BILL_ROOT_ID_LENGTH_MAX + 1) }],
  ["issue", "ent-a", "id", { ...ISSUE_OK, id: "b".repeat(65) }],
  ["issue", "ent-a", "payee", { ...ISSUE_OK, payee: undefined }],
  ["issue", "ent-a", "payee", { ...ISSUE_OK, payee: "" }],
  ["issue", "ent-a", "payee", { ...ISSUE_OK, payee: ["ent-b"] }],
  ["issue", "ent-a", "acceptor", { ...ISSUE_OK, acceptor: null }],
  ["issue", "ent-a", "acceptor", { ...ISSUE_OK, acceptor: "x".repeat(65) }],
  ["issue", "ent-a", "amount", { ...ISSUE_OK, amount: undefined }],
  ["issue", "ent-a", "amount", { ...ISSUE_OK, amount: 100 }],
  ["issue", "ent-a", "amount", { ...ISSUE_OK, amount: "" }],
  ["issue", "ent-a", "amount", { ...ISSUE_OK, amount: "0" }],
  ["issue", "ent-a", "amount", { ...ISSUE_OK, amount: "-5" }],
  ["issue", "ent-a", "amount", { ...ISSUE_OK, amount: "1.5" }],
  ["issue", "ent-a", "amount", { ...ISSUE_OK, amount: "007" }],
  ["issue", "ent-a", "amount", { ...ISSUE_OK, amount: "1".repeat(31) }],
  ["issue", "ent-a", "dueMs", { ...ISSUE_OK, dueMs: undefined }],
  ["issue", "ent-a", "dueMs", { ...ISSUE_OK, dueMs: String(DUE) }],
  ["issue", "ent-a", "dueMs", { ...ISSUE_OK, dueMs: -1 }],
  ["issue", "ent-a", "dueMs", { ...ISSUE_OK, dueMs: 1.5 }],
  ["issue", "ent-a", "dueMs", { ...ISSUE_OK, dueMs: 1e20 }],
  ["issue", "ent-a", "memo", { ...ISSUE_OK, memo: "extra" }],
  ["accept", "ent-c", "id", {}],
  ["accept", "ent-c", "id", { id: "" }],
  ["accept", "ent-c", "id", { id: 1 }],
  ["accept", "ent-c", "id", { id: "b".repeat(65) }],
  ["accept", "ent-c", "extra", { id: "b-1", extra: true }],
  ["void", "ent-a", "id", { id: null }],
  ["void", "ent-a", "reason", { id: "b-1", reason: "x" }],
  ["endorse", "ent-b", "to", { id: "b-1" }],
  ["endorse", "ent-b", "to", { id: "b-1", to: "" }],
  ["endorse", "ent-b", "to", { id: "b-1", to: { id: "x" } }],
  ["endorse", "ent-b", "to", { id: "b-1", to: "t".repeat(65) }],
  ["endorse", "ent-b", "id", { to: "ent-c" }],
  ["endorse", "ent-b", "amount", { id: "b-1", to: "ent-c", amount: "1" }],
  ["split", "ent-b", "amounts", { id: "b-1" }],
  ["split", "ent-b", "amounts", { id: "b-1", amounts: "1000000" }],
  ["split", "ent-b", "amounts", { id: "b-1", amounts: [] }],
  ["split", "ent-b", "amounts", { id: "b-1", amounts: ["1000000"] }],
  ["split", "ent-b", "amounts", { id: "b-1", amounts: Array.from({ length: SPLIT_CHILDREN_MAX + 1 }, () => "1") }],
  ["split", "ent-b", "amounts\\[1\\]", { id: "b-1", amounts: ["999999", 1] }],
  ["split", "ent-b", "amounts\\[1\\]", { id: "b-1", amounts: ["1000001", "-1"] }],
  ["split", "ent-b", "amounts\\[0\\]", { id: "b-1", amounts: ["0", "1000000"] }],
  ["split", "ent-b", "amounts\\[0\\]", { id: "b-1", amounts: ["", "1000000"] }],
  ["split", "ent-b", "ids", { id: "b-1", amounts: ["1", "999999"], ids: ["x"] }],
  ["discount", "ent-b", "bank", { id: "b-1", rateBp: 100 }],
  ["discount", "ent-b", "bank", { id: "b-1", bank: "", rateBp: 100 }],
  ["discount", "ent-b", "rateBp", { id: "b-1", bank: "bank-a" }],
  ["discount", "ent-b", "rateBp", { id: "b-1", bank: "bank-a", rateBp: "100" }],
  ["discount", "ent-b", "rateBp", { id: "b-1", bank: "bank-a", rateBp: -1 }],
  ["discount", "ent-b", "rateBp", { id: "b-1", bank: "bank-a", rateBp: 2.5 }],
  ["discount", "ent-b", "rateBp", { id: "b-1", bank: "bank-a", rateBp: RATE_BP_MAX + 1 }],
  ["discount", "ent-b", "discount", { id: "b-1", bank: "bank-a", rateBp: 1, discount: "5" }],
  ["pledge", "ent-b", "bank", { id: "b-1" }],
  ["pledge", "ent-b", "bank", { id: "b-1", bank: 5 }],
  ["pledge", "ent-b", "loan", { id: "b-1", bank: "bank-a", loan: "5" }],
  ["release", "bank-a", "id", { id: "" }],
  ["release", "bank-a", "to", { id: "b-1", to: "ent-b" }],
  ["pay", "ent-b", "id", {}],
  ["pay", "ent-b", "amount", { id: "b-1", amount: "1000000" }],
  ["dishonour", "ent-b", "id", { id: ["b-1"] }],
  ["dishonour", "ent-b", "reason", { id: "b-1", reason: "insolvent" }],
  ["recourse", "ent-b", "from", { id: "b-1" }],
  ["recourse", "ent-b", "from", { id: "b-1", from: "" }],
  ["recourse", "ent-b", "from", { id: "b-1", from: "Ent-A" }],
  ["recourse", "ent-b", "amount", { id: "b-1", from: "ent-a", amount: "5" }],
];

describe("bill args", () => {
  for (const [action, signer, field, args] of cases) {
    test(`${action} refuses ${JSON.stringify(args)?.slice(0, 120)} naming ${field.replaceAll("\\", "")}`, () => {
      const r = expectRejection(givenBill(DELIVERED).when(cmd(signer, action, args, T0 + 3000, "bank-a")));
      assert.equal(r.code, "BAD_ARGS");
      assert.match(r.message, new RegExp(`(^|\\W)${field}(\\W|$)`));
    });
  }

  test("args that are not an object are refused", () => {
    for (const args of [null, [], "b-1", 5]) {
      assert.equal(expectRejection(givenBill(DELIVERED).when(cmd("ent-b", "pay", args, DUE))).code, "BAD_ARGS");
    }
  });

  test("values at the bounds are accepted", () => {
    const id = "b".repeat(BILL_ROOT_ID_LENGTH_MAX);
    const issue = cmd("ent-a", "issue", { ...ISSUE_OK, id, amount: "9".repeat(30) }, T0);
    expectAccepted(givenBill(FUNDING).when(issue));
    const amounts = Array.from({ length: SPLIT_CHILDREN_MAX }, () => "62500");
    expectAccepted(givenBill(DELIVERED).when(cmd("ent-b", "split", { id: "b-1", amounts }, T0 + 3000)));
    expectAccepted(
      givenBill(DELIVERED).when(cmd("ent-b", "discount", { id: "b-1", bank: "bank-a", rateBp: RATE_BP_MAX }, DUE - DAY_MS, "bank-a")),
    );
  });

  test("unknown actions are refused", () => {
    assert.equal(expectRejection(givenBill(DELIVERED).when(cmd("ent-b", "burn", { id: "b-1" }, T0))).code, "UNKNOWN_ACTION");
    assert.equal(expectRejection(givenBill(DELIVERED).when(cmd("ent-b", "toString", { id: "b-1" }, T0))).code, "UNKNOWN_ACTION");
  });
});
