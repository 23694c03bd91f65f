// Garbage in every field of every bond action is BAD_ARGS, naming the field; bounds hold exactly.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { expectEvents, expectRejection } from "../testing/given-when-then.js";
import { COUPON_DATES_MAX, FREEZE_REASON_LENGTH_MAX, HOLDERS_MAX } from "./bond-commands.js";
import {
  allottedHistory,
  BOND_ID,
  COUPON1_MS,
  COUPON2_MS,
  givenBond,
  MATURITY_MS,
  prospectus,
  REGISTER,
  SUB_END_MS,
  whenOf,
} from "./bond-fixtures.js";

const SIGNERS: Record<string, string> = {
  register: "issuer-a",
  subscribe: "bank-a",
  allot: "issuer-a",
  transfer: "bank-a",
  coupon: "issuer-a",
  redeem: "issuer-a",
  freeze: "reg",
  unfreeze: "reg",
};

const VALID: Record<string, Record<string, unknown>> = {
  register: prospectus(),
  subscribe: { bond: BOND_ID, units: "1" },
  allot: { bond: BOND_ID, subscribers: ["bank-a"] },
  transfer: { bond: BOND_ID, seller: "bank-a", buyer: "bank-b", units: "1", price: "1" },
  coupon: { bond: BOND_ID, couponDateMs: COUPON1_MS, holders: ["bank-a"] },
  redeem: { bond: BOND_ID, holders: ["bank-a"] },
  freeze: { bond: BOND_ID, holder: "bank-a", reason: "why" },
  unfreeze: { bond: BOND_ID, holder: "bank-a" },
};

const many = (n: number): string[] => Array.from({ length: n }, (_, i) => `inv-${i}`);
const dates = (n: number): number[] => Array.from({ length: n }, (_, i) => SUB_END_MS + 1 + i);

// [action, field the rejection must name, change to the valid args (undefined deletes the field)]
const CASES: [string, string, Record<string, unknown>][] = [
  ...Object.keys(VALID).flatMap((action): [string, string, Record<string, unknown>][] => [
    [action, "bond", { bond: undefined }],
    [action, "bond", { bond: "B-1" }],
    [action, "bond", { bond: "" }],
    [action, "bond", { bond: 7 }],
    [action, "bond", { bond: "b".repeat(65) }],
    [action, "extra", { extra: true }],
  ]),
  ["register", "regulator", { regulator: undefined }],
  ["register", "regulator", { regulator: "Reg" }],
  ["register", "faceValue", { faceValue: "0" }],
  ["register", "faceValue", { faceValue: "-1" }],
  ["register", "faceValue", { faceValue: 100 }],
  ["register", "faceValue", { faceValue: "1.5" }],
  ["register", "faceValue", { faceValue: "1".repeat(31) }],
  ["register", "faceValue", { faceValue: "1" + "0".repeat(29), sizeUnits: "10" }],
  ["register", "couponRateBp", { couponRateBp: -1 }],
  ["register", "couponRateBp", { couponRateBp: 10_001 }],
  ["register", "couponRateBp", { couponRateBp: 1.5 }],
  ["register", "couponRateBp", { couponRateBp: "500" }],
  ["register", "couponsPerYear", { couponsPerYear: 0 }],
  ["register", "couponsPerYear", { couponsPerYear: 13 }],
  ["register", "couponsPerYear", { couponsPerYear: undefined }],
  ["register", "couponDatesMs", { couponDatesMs: [] }],
  ["register", "couponDatesMs", { couponDatesMs: COUPON1_MS }],
  ["register", "couponDatesMs", { couponDatesMs: [-1] }],
  ["register", "couponDatesMs", { couponDatesMs: [String(COUPON1_MS)] }],
  ["register", "couponDatesMs", { couponDatesMs: dates(COUPON_DATES_MAX + 1) }],
  ["register", "couponDatesMs", { couponDatesMs: [COUPON2_MS, COUPON1_MS] }],
  ["register", "couponDatesMs", { couponDatesMs: [COUPON1_MS, COUPON1_MS] }],
  ["register", "couponDatesMs", { couponDatesMs: [SUB_END_MS, COUPON2_MS] }],
  ["register", "couponDatesMs", { couponDatesMs: [COUPON1_MS, MATURITY_MS + 1] }],
  ["register", "maturityMs", { maturityMs: undefined }],
  ["register", "maturityMs", { maturityMs: 1.5 }],
  ["register", "maturityMs", { maturityMs: -5 }],
  ["register", "maturityMs", { maturityMs: 253_402_300_800_000 }],
  ["register", "sizeUnits", { sizeUnits: "0" }],
  ["register", "sizeUnits", { sizeUnits: 5 }],
  ["register", "subscriptionEndMs", { subscriptionEndMs: "soon" }],
  ["register", "prospectusHash", { prospectusHash: "zz" }],
  ["register", "prospectusHash", { prospectusHash: "AB".repeat(32) }],
  ["register", "prospectusHash", { prospectusHash: 5 }],
  ["subscribe", "units", { units: undefined }],
  ["subscribe", "units", { units: "0" }],
  ["subscribe", "units", { units: "-2" }],
  ["subscribe", "investor", { investor: "bank-b" }],
  ["allot", "subscribers", { subscribers: undefined }],
  ["allot", "subscribers", { subscribers: "bank-a" }],
  ["allot", "subscribers", { subscribers: [1] }],
  ["allot", "subscribers", { subscribers: ["Bank-A"] }],
  ["allot", "subscribers", { subscribers: ["bank-a", "bank-a"] }],
  ["allot", "subscribers", { subscribers: many(HOLDERS_MAX + 1) }],
  ["transfer", "seller", { seller: undefined }],
  ["transfer", "buyer", { buyer: "B" }],
  ["transfer", "units", { units: "0" }],
  ["transfer", "units", { units: 1 }],
  ["transfer", "price", { price: "0" }],
  ["transfer", "price", { price: "-1" }],
  ["transfer", "price", { price: "9".repeat(31) }],
  ["coupon", "couponDateMs", { couponDateMs: String(COUPON1_MS) }],
  ["coupon", "couponDateMs", { couponDateMs: undefined }],
  ["coupon", "holders", { holders: undefined }],
  ["coupon", "holders", { holders: ["bank-a", "bank-a"] }],
  ["coupon", "holders", { holders: many(HOLDERS_MAX + 1) }],
  ["coupon", "holders", { holders: [null] }],
  ["redeem", "holders", { holders: {} }],
  ["redeem", "couponDateMs", { couponDateMs: COUPON1_MS }],
  ["freeze", "holder", { holder: undefined }],
  ["freeze", "holder", { holder: "" }],
  ["freeze", "reason", { reason: "" }],
  ["freeze", "reason", { reason: 5 }],
  ["freeze", "reason", { reason: "r".repeat(FREEZE_REASON_LENGTH_MAX + 1) }],
  ["unfreeze", "reason", { reason: "done" }],
  ["unfreeze", "holder", { holder: "x/y" }],
];

function argsWith(action: string, change: Record<string, unknown>): Record<string, unknown> {
  const args: Record<string, unknown> = { ...VALID[action] };
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) delete args[k];
    else args[k] = v;
  }
  return args;
}

describe("bond args", () => {
  for (const [action, field, change] of CASES) {
    test(`${action} refuses ${JSON.stringify(change).slice(0, 80)} naming ${field}`, () => {
      const signer = SIGNERS[action]!;
      const r = expectRejection(
        givenBond([]).when({ signer, action, args: argsWith(action, change), ctx: { signers: [signer, "bank-b"] } }),
      );
      assert.equal(r.code, "BAD_ARGS");
      assert.match(r.message, new RegExp(`\\b${field}\\b`));
    });
  }

  test("args that are not an object are refused", () => {
    for (const args of [null, [], "x", 5]) {
      assert.equal(expectRejection(givenBond([]).when({ signer: "issuer-a", action: "register", args })).code, "BAD_ARGS");
    }
  });

  test("an unknown action is refused", () => {
    assert.equal(expectRejection(givenBond([]).when({ signer: "issuer-a", action: "mint", args: {} })).code, "UNKNOWN_ACTION");
  });

  test("the bounds themselves are accepted", () => {
    const atBounds = prospectus({
      couponDatesMs: dates(COUPON_DATES_MAX),
      couponRateBp: 10_000,
      couponsPerYear: 12,
      faceValue: "9".repeat(30),
      sizeUnits: "1",
      prospectusHash: "0f".repeat(32),
    });
    expectEvents(givenBond([]).when(whenOf({ ...REGISTER, args: atBounds })));
    expectEvents(givenBond([]).when(whenOf({ ...REGISTER, args: prospectus({ couponRateBp: 0, couponDatesMs: [MATURITY_MS] }) })));
    const reason = "r".repeat(FREEZE_REASON_LENGTH_MAX);
    const freeze = { signer: "reg", action: "freeze", args: { bond: BOND_ID, holder: "ent-a", reason }, atMs: SUB_END_MS };
    expectEvents(givenBond(allottedHistory()).when(whenOf(freeze)));
  });
});
