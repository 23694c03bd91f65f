import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { isRejection, type Rejection } from "./contract.js";
import { hex32, identifier, optionalString, parseArgs, positiveAmount, requiredString, type Args, type Field } from "./schema.js";

function refusal<T>(field: Field<T>, args: Args, name = "f"): Rejection {
  const v = field(args, name);
  if (!isRejection(v)) throw new Error(`expected BAD_ARGS for ${JSON.stringify(args)}, got ${String(v)}`);
  assert.equal(v.code, "BAD_ARGS");
  assert.match(v.message, new RegExp(`^${name} `), "the message names the field");
  return v;
}

describe("positiveAmount", () => {
  test("accepts decimal strings of minor units as bigint", () => {
    assert.equal(positiveAmount({ a: "1" }, "a"), 1n);
    assert.equal(positiveAmount({ a: "1050" }, "a"), 1050n);
    assert.equal(positiveAmount({ a: "9".repeat(30) }, "a"), 10n ** 30n - 1n);
  });

  for (const bad of ["0", "00", "01", "-3", "+3", "1.5", "1e3", " 1", "1 ", "", "0x10", "１", "9".repeat(31)]) {
    test(`refuses ${JSON.stringify(bad)}`, () => {
      refusal(positiveAmount, { amount: bad }, "amount");
    });
  }

  for (const bad of [1, 1.5, 1e30, -3, null, true, [], {}]) {
    test(`refuses the non-string ${JSON.stringify(bad)}`, () => {
      assert.match(refusal(positiveAmount, { amount: bad }, "amount").message, /decimal string/);
    });
  }

  test("refuses a missing amount", () => {
    assert.match(refusal(positiveAmount, {}, "amount").message, /required/);
  });
});

describe("identifier", () => {
  test("accepts Tally identifiers", () => {
    assert.equal(identifier({ to: "bank-a.x_1" }, "to"), "bank-a.x_1");
  });
  for (const bad of ["Bank-A", "", "-a", "a b", "a/b", "a".repeat(65), 5, null]) {
    test(`refuses ${JSON.stringify(bad)}`, () => {
      refusal(identifier, { to: bad }, "to");
    });
  }
  test("reads own fields only, never the prototype", () => {
    refusal(identifier, Object.create({ to: "bank-a" }) as Args, "to");
    refusal(identifier, {}, "constructor");
  });
});

describe("hex32", () => {
  test("accepts 64 lowercase hex characters", () => {
    assert.equal(hex32({ h: "0a".repeat(32) }, "h"), "0a".repeat(32));
  });
  for (const bad of ["0A".repeat(32), "0a".repeat(31) + "0", "0a".repeat(33), "zz".repeat(32), "0x" + "0a".repeat(31), "", 12]) {
    test(`refuses ${JSON.stringify(bad)}`, () => {
      refusal(hex32, { hash: bad }, "hash");
    });
  }
});

describe("strings", () => {
  test("requiredString bounds length and refuses empty and non-strings", () => {
    const f = requiredString(3);
    assert.equal(f({ s: "abc" }, "s"), "abc");
    assert.match(refusal(f, { s: "abcd" }, "s").message, /at most 3/);
    assert.match(refusal(f, { s: "" }, "s").message, /empty/);
    assert.match(refusal(f, {}, "s").message, /required/);
    refusal(f, { s: 3 }, "s");
  });

  test("optionalString gives undefined when absent and checks it when present", () => {
    const f = optionalString(3);
    assert.equal(f({}, "s"), undefined);
    assert.equal(f({ s: "ab" }, "s"), "ab");
    refusal(f, { s: "abcd" }, "s");
    refusal(f, { s: "" }, "s");
    refusal(f, { s: null }, "s");
    refusal(f, { s: 1 }, "s");
  });
});

describe("parseArgs", () => {
  const shape = { to: identifier, amount: positiveAmount, memo: optionalString(10) };

  test("returns every field parsed", () => {
    assert.deepEqual(parseArgs({ to: "bank-a", amount: "5" }, shape), { to: "bank-a", amount: 5n, memo: undefined });
  });

  test("refuses unknown fields, naming the first in sorted order", () => {
    const r = parseArgs({ to: "bank-a", amount: "5", zed: 1, extra: 2 }, shape);
    assert.ok(isRejection(r));
    assert.deepEqual([r.code, r.message], ["BAD_ARGS", "unexpected field extra"]);
  });

  test("refuses a __proto__ field from JSON", () => {
    const r = parseArgs(JSON.parse('{"to":"bank-a","amount":"5","__proto__":{"x":1}}') as Args, shape);
    assert.ok(isRejection(r));
    assert.equal(r.message, "unexpected field __proto__");
  });

  test("reports the same field whatever the order of the args", () => {
    const a = parseArgs({ to: "B", amount: "x" }, shape);
    const b = parseArgs({ amount: "x", to: "B" }, shape);
    assert.deepEqual(a, b);
    assert.ok(isRejection(a));
    assert.match(a.message, /^amount /);
  });
});
