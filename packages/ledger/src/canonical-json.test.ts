import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { canonicalJson } from "./canonical-json.js";

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { k: v };
  return v;
}

describe("canonicalJson", () => {
  test("scalars", () => {
    assert.equal(canonicalJson(null), "null");
    assert.equal(canonicalJson(true), "true");
    assert.equal(canonicalJson(false), "false");
    assert.equal(canonicalJson(0), "0");
    assert.equal(canonicalJson(-0), "0");
    assert.equal(canonicalJson(-42), "-42");
    assert.equal(canonicalJson(Number.MAX_SAFE_INTEGER), "9007199254740991");
    assert.equal(canonicalJson(Number.MIN_SAFE_INTEGER), "-9007199254740991");
    assert.equal(canonicalJson('a"b\\c\n\u0001é'), '"a\\"b\\\\c\\n\\u0001é"');
  });

  test("no whitespace anywhere", () => {
    assert.equal(canonicalJson({ a: [1, 2, { b: "x y" }], c: null }), '{"a":[1,2,{"b":"x y"}],"c":null}');
  });

  test("object keys are sorted, so insertion order does not matter", () => {
    const a = canonicalJson({ b: 1, a: 2, c: { z: 1, y: [3, { q: 1, p: 2 }] } });
    const b = canonicalJson({ c: { y: [3, { p: 2, q: 1 }], z: 1 }, a: 2, b: 1 });
    assert.equal(a, b);
    assert.equal(a, '{"a":2,"b":1,"c":{"y":[3,{"p":2,"q":1}],"z":1}}');
  });

  test("keys sort by UTF-16 code unit, not locale", () => {
    assert.equal(canonicalJson({ b: 1, B: 2, a: 3, "10": 4, "9": 5, é: 6, "": 7 }), '{"":7,"10":4,"9":5,"B":2,"a":3,"b":1,"é":6}');
    // U+FF61 sorts after the surrogate pair of U+1F600 by code unit (0xD83D < 0xFF61), though its code point is lower.
    assert.equal(canonicalJson({ "\uff61": 1, "\u{1f600}": 2 }), '{"\u{1f600}":2,"\uff61":1}');
  });

  test("array order is kept", () => {
    assert.equal(canonicalJson([3, 1, 2]), "[3,1,2]");
    assert.notEqual(canonicalJson([1, 2]), canonicalJson([2, 1]));
  });

  test("nested objects and arrays", () => {
    assert.equal(canonicalJson({ outer: { inner: { deepest: [[], {}, [{}]] } } }), '{"outer":{"inner":{"deepest":[[],{},[{}]]}}}');
  });

  test("bigint becomes a decimal string", () => {
    assert.equal(canonicalJson(0n), '"0"');
    assert.equal(canonicalJson(-5n), '"-5"');
    assert.equal(canonicalJson(123456789012345678901234567890n), '"123456789012345678901234567890"');
    assert.equal(canonicalJson({ amount: 2n ** 64n }), '{"amount":"18446744073709551616"}');
    assert.equal(canonicalJson([1n, 2]), '["1",2]');
  });

  test("undefined object fields are omitted", () => {
    assert.equal(canonicalJson({ a: undefined, b: 1, c: undefined }), '{"b":1}');
    assert.equal(canonicalJson({ a: undefined }), "{}");
    assert.equal(canonicalJson({ x: { y: undefined, z: null } }), '{"x":{"z":null}}');
    assert.equal(canonicalJson({ a: 1, b: undefined }), canonicalJson({ a: 1 }));
  });

  test("refuses non-integer numbers, NaN and infinities, also when nested", () => {
    for (const bad of [1.5, 0.1, -2.25, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2 ** 53, -(2 ** 53), 1e300]) {
      assert.throws(() => canonicalJson(bad), TypeError, String(bad));
      assert.throws(() => canonicalJson({ amount: bad }), TypeError, String(bad));
      assert.throws(() => canonicalJson([0, [bad]]), TypeError, String(bad));
    }
  });

  test("refuses functions, symbols and undefined values that are not object fields", () => {
    assert.throws(() => canonicalJson(() => 1), TypeError);
    assert.throws(() => canonicalJson({ f: () => 1 }), TypeError);
    assert.throws(() => canonicalJson([function named() {}]), TypeError);
    assert.throws(() => canonicalJson(Symbol("s")), TypeError);
    assert.throws(() => canonicalJson({ s: Symbol("s") }), TypeError);
    assert.throws(() => canonicalJson(undefined), TypeError);
    assert.throws(() => canonicalJson([1, undefined]), TypeError);
  });

  test("refuses too-deep nesting, including cycles", () => {
    assert.doesNotThrow(() => canonicalJson(nested(40)));
    assert.throws(() => canonicalJson(nested(100)), /too deep/);
    assert.throws(() => canonicalJson(nested(10_000)), /too deep/);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    assert.throws(() => canonicalJson(cyclic), /too deep/);
  });

  test("a value may sit 64 levels below the top, not 65", () => {
    let ok: unknown = "leaf";
    for (let i = 0; i < 64; i++) ok = [ok];
    assert.equal(canonicalJson(ok), "[".repeat(64) + '"leaf"' + "]".repeat(64));
    assert.throws(() => canonicalJson([ok]), /too deep/);
    assert.throws(() => canonicalJson({ k: ok }), /too deep/);
  });

  test("output parses back to an equal value", () => {
    const v = { z: [1, "two", { three: true, four: null }], a: { b: { c: -7 } } };
    assert.deepEqual(JSON.parse(canonicalJson(v)), v);
  });

  test("deterministic for equal values", () => {
    const make = (): unknown => ({ id: "tx-1", legs: [{ from: "a", to: "b", amount: 10n }], meta: { note: "x", tags: ["p", "q"] } });
    assert.equal(canonicalJson(make()), canonicalJson(make()));
  });
});
