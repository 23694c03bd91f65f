// The rewrite of a contract's code (rewrite.ts) and the prelude's helpers: what is rewritten and
// what is refused, and that the rewritten operators give what the native ones give (the same
// expressions run natively in Node and rewritten in the sandbox) below the BigInt cap.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isRejection } from "@tally/contracts";
import { SandboxEngine } from "./engine.js";
import { rewriteContract } from "./rewrite.js";

const LIMITS = { stepLimit: 1000, memoryLimitBytes: 8 * 1024 * 1024, maxBigIntBits: 512 };

function rewritten(code: string, bits = 512): string {
  const r = rewriteContract(code, bits);
  assert.equal(typeof r, "string", isRejection(r) ? r.message : "");
  // (A list heavier than the free weight starts with its charge.)
  return (r as string).replace(/^"use strict";\n/, "").replace(/^__tallySpend\(\d+\); /, "");
}

function refused(code: string, bits = 512): string {
  const r = rewriteContract(code, bits);
  assert.ok(isRejection(r), `accepted: ${typeof r === "string" ? r : ""}`);
  assert.equal(r.code, "BAD_CONTRACT");
  return r.message;
}

describe("rewrite", () => {
  test("BigInt-capable operators and their compound assignments call the helpers", () => {
    assert.equal(rewritten("x = a * b;"), "x = __tallyMul(a, b);");
    assert.equal(rewritten("x = (a) ** (b) << c >> d;"), "x = __tallyShr(__tallyShl(__tallyPow((a), (b)), c), d);");
    assert.equal(
      rewritten("if (a < b && c == d) x = a - b % c / d;"),
      "if (__tallyLt(a, b) && __tallyEq(c, d)) x = __tallySub(a, __tallyDiv(__tallyMod(b, c), d));",
    );
    assert.equal(rewritten("x *= y;"), "x = __tallyMul(x, y);");
    assert.equal(rewritten("this.n **= 2n;"), "this.n = __tallyPow(this.n, 2n);");
    assert.equal(rewritten("o['k'] <<= 1n;"), "o['k'] = __tallyShl(o['k'], 1n);");
    assert.equal(
      rewritten("f().g[h()] -= 1n;"),
      "__tallyWith(f().g, __tallyKey(h()), (__tallyO, __tallyK) => __tallyO[__tallyK] = __tallySub(__tallyO[__tallyK], 1n));",
    );
  });

  test("operators that cannot make or parse a BigInt stay native", () => {
    const plain = [
      'k = "acct/" + id + "/" + n;',
      "k = `a${b}` + c;",
      "i = i + 1; j = 2 * j; m = n << 2;",
      "if (i < 10 && s == 'short') x = a === b;",
      "x = a & b | c ^ d; y = a >>> 1; z = a in b;",
      's += "x"; n -= 1;',
    ];
    for (const code of plain) assert.equal(rewritten(code), code);
  });

  test("long straight-line code charges its weight once per run of its list", () => {
    const body = "q = o.a; ".repeat(20);
    assert.match(rewritten(`for (;;) { ${body}}`), /^for \(;;\) \{ __tallySpend\(\d+\); q = o\.a;/);
    assert.match(rewritten(`function f() { "use strict"; ${body}}`), /^function f\(\) \{ "use strict"; __tallySpend\(\d+\); q/);
    assert.match(rewritten(`const f = (o) => ${"o.a.b + ".repeat(20)}1;`), /^const f = \(o\) => \(__tallySpend\(\d+\), __tallyAdd\(/);
    // A short body charges nothing of its own: QuickJS's poll points cover it.
    assert.equal(rewritten("for (;;) { q = o.a; }"), "for (;;) { q = o.a; }");
  });

  test("refused: syntax errors (with the code's own line), reserved names, import(), BigInt literals above the cap", () => {
    assert.match(refused("const a = 1;\nconst = 2;"), /SyntaxError: .*\(line 2, column 6\)/);
    assert.match(refused("let __tallyAdd = 1;"), /reserved/);
    assert.match(refused("const o = { __tallyX() {} }; o.__tallyX();"), /reserved/);
    assert.match(refused("import('fs');"), /import\(\)/);
    assert.match(refused(`x = ${(1n << 512n).toString()}n;`), /513 bits .* maxBigIntBits \(512\)/);
    assert.equal(typeof rewriteContract(`x = ${((1n << 512n) - 1n).toString()}n;`, 512), "string");
    assert.equal(typeof rewriteContract(`x = ${(1n << 512n).toString()}n;`, 1024), "string");
  });

  test("nesting past the bound is refused the same way whatever the machine's stack, well before it overflows", () => {
    const deep = {
      parens: (n: number) => `x = ${"(".repeat(n)}a${")".repeat(n)};`,
      operators: (n: number) => `x = a${" + a".repeat(n)};`,
      blocks: (n: number) => `${"{".repeat(n)}${"}".repeat(n)}`,
      functions: (n: number) => `${"function f() {".repeat(n)}${"}".repeat(n)}`,
      "new chains": (n: number) => `x = ${"new ".repeat(n)}A;`,
      "regex groups": (n: number) => `x = /${"(".repeat(n)}a${")".repeat(n)}/;`,
      patterns: (n: number) => `const ${"[".repeat(n)}a${"]".repeat(n)} = x;`,
    };
    for (const [what, make] of Object.entries(deep)) {
      for (const n of [1_000, 20_000]) assert.match(refused(make(n)), /nests deeper than 400 levels/, `${what} ${n}`);
      assert.equal(typeof rewriteContract(make(30), 512), "string", `${what} 30`);
    }
  });
});

// Expressions run natively in Node and rewritten in the sandbox: each gives its value (BigInts
// with an n, strings quoted) or the name of the error it throws, and what it logged.
const CASES: readonly string[] = [
  "1 + 2",
  '"a" + 1',
  "1n + 2n",
  '1n + "a"',
  '"a" + 1n',
  "({ valueOf() { return 2n; } }) + 1n",
  "[1, 2] + 3",
  "null + 1",
  "undefined + 1",
  "true + 1n",
  "1 + 1n",
  "({ [Symbol.toPrimitive](h) { log.push(h); return 'p'; } }) + 1",
  "5 - 2",
  '"5" - 2',
  "5n - 2n",
  "5n - 2",
  "3 * 4",
  '"3" * "4"',
  "3n * 4n",
  "({ valueOf() { log.push('v'); return 3n; } }) * ({ valueOf() { log.push('w'); return 2n; } })",
  "({ [Symbol.toPrimitive](h) { log.push(h); return 3n; } }) * 2n",
  "7 / 2",
  "7n / 2n",
  "-7n / 2n",
  "7n / 0n",
  "7n % -2n",
  "-7 % 2",
  "2 ** 10",
  "2n ** 10n",
  "(-2n) ** 3n",
  "2n ** -1n",
  "0n ** 0n",
  "1n ** 1000000n",
  "(-1n) ** 1000001n",
  "(2n ** 200n) ** 2n",
  "1 << 3",
  "1n << 3n",
  "-5n >> 1n",
  "5n << -1n",
  "5n >> -2n",
  "-1n >> 1000n",
  "-3n << -100000000000n",
  "0n << 100000000000n",
  "1 < 2",
  '"a" < "b"',
  "1n < 2",
  "2 < 1n",
  '1n < "2"',
  '"10" < 9n',
  '1n < "x"',
  "({ valueOf() { return 1n; } }) < 2n",
  "[2] > 1",
  "({ valueOf() { log.push('a'); return 1; } }) > ({ valueOf() { log.push('b'); return 0; } })",
  "({ valueOf() { log.push('a'); return 1; } }) <= ({ valueOf() { log.push('b'); return 0; } })",
  "3n >= 3",
  '1 == "1"',
  '1n == "1"',
  '"1" == 1n',
  '0n == ""',
  "1n == true",
  "null == undefined",
  "null == 0",
  'undefined == ""',
  '({}) == "[object Object]"',
  "({ valueOf() { return 1n; } }) == 1n",
  "({ [Symbol.toPrimitive](h) { log.push(h); return 1; } }) == 1n",
  "NaN == NaN",
  "1n != 2n",
  '"x" != 1n',
  "Symbol.iterator == Symbol.iterator",
  "(() => { let x = 2n; x *= 3n; x **= 2n; x <<= 2n; x >>= 1n; x -= 1n; x += 1n; x /= 2n; x %= 5n; return x; })()",
  "(() => { let s = 'a'; s += 1; s += 2n; let n = 1; n *= 3; n **= 2; n <<= 1; n >>= 1; n -= 1; n /= 2; n %= 3; return s + n; })()",
  "(() => { const o = { get p() { log.push('get'); return 1n; }, set p(v) { log.push('set ' + v); } }; o.p += (log.push('rhs'), 2n); return 0; })()",
  "(() => { const o = { p: 2n }; const f = () => (log.push('obj'), o); const k = () => (log.push('key'), { toString() { log.push('toString'); return 'p'; } }); f()[k()] *= (log.push('rhs'), 5n); return o.p; })()",
  "(() => { const o = { q: { p: 3n } }; const f = () => (log.push('obj'), o.q); f().p **= (log.push('rhs'), 2n); return o.q.p; })()",
  "(() => { class A { #p = 2n; go(o) { this.#p *= 3n; (log.push('obj'), o).#p += 1n; return this.#p + o.#p; } } return new A().go(new A()); })()",
  "(() => { let x = 1n; const a = [x]; a[0] += a[0]; return a[0]; })()",
  "BigInt.asUintN(64, -1n)",
  "BigInt.asIntN(8, 255n)",
  "BigInt.asUintN(2 ** 40, 5n)",
  "BigInt.asIntN(2 ** 40, -5n)",
  'BigInt.asUintN(1000, "123")',
  'BigInt.asIntN(3, "7")',
  "BigInt.asUintN(64, 1)",
  "BigInt.asUintN(-1, 1n)",
  "BigInt.asIntN(NaN, 5n)",
  "BigInt.asUintN(2 ** 60, ({ valueOf() { log.push('v'); return 7n; } }))",
  'BigInt(" 12 ")',
  'BigInt("0x1f")',
  "BigInt(1e20)",
  "BigInt(1.5)",
  'BigInt("1.5")',
  "BigInt({ valueOf() { return '42'; } })",
  "BigInt(true)",
  "(123n).toString(16)",
  "(2n ** 100n).toString()",
  "`${2n ** 100n}`",
  "[1n, 2n, 3n].join('-')",
  "[1, null, undefined, 'x'].join()",
  "[[1, 2], [3]].toString()",
  "[3n, 1n, 2n].sort().join()",
  '["b", undefined, "a", , "c"].sort().length',
  "[10, 9, 1].sort().join()",
  "[10, 9, 1].toSorted((a, b) => a - b).join()",
  '"a".concat(1n, null, undefined)',
  "String.prototype.concat.call(5, 6)",
  "String(12n) + String() + String(Symbol('s')) + String(null)",
  "new String(5).length",
  "(() => { class S extends String {} const s = new S('ab'); return s.length + (s instanceof String) + s.toUpperCase(); })()",
  '"abc".constructor === String',
  "parseInt(123n) + Number.parseInt('12', 3) + parseFloat('1.5')",
  "Number.parseInt === parseInt",
  "'a1n2'.split(1n).join('|')",
  "(function () {}) instanceof Function",
  "typeof Function",
];

// Where QuickJS itself differs from V8 (run without the rewrite, it gives the same as with it).
const QUICKJS: { readonly [c: string]: string } = {
  // V8 converts a computed key once for the read and again for the write; QuickJS once.
  [CASES.find((c) => c.includes("f()[k()] *="))!]: "10n obj,key,toString,rhs",
};

const RUN = `
  const show = (v) => (typeof v === "bigint" ? v + "n" : typeof v === "string" ? JSON.stringify(v) : typeof v === "symbol" ? "symbol" : String(v));
  const out = [];
  for (const f of CASES) {
    const log = [];
    let r;
    try { r = show(f(log)); } catch (e) { r = "throws " + e.constructor.name; }
    out.push(log.length === 0 ? r : r + " " + log.join(","));
  }
  return out;`;

function casesSource(): string {
  return `const CASES = [${CASES.map((c) => `(log) => (${c})`).join(",\n")}];`;
}

describe("rewritten operators give what the native ones give", () => {
  test("the same values, errors and conversion order in Node and in the sandbox", async () => {
    // The reference: the same source run natively by Node.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const native = new Function(`"use strict"; ${casesSource()} ${RUN}`)() as string[];
    const engine = await SandboxEngine.create();
    const code = `${casesSource()}
      module.exports = { actions: { go: { roles: ["bank"] } }, keys() { ${RUN} } };`;
    const loaded = engine.load(code, LIMITS);
    assert.ok(!isRejection(loaded), isRejection(loaded) ? loaded.message : "");
    try {
      const r = loaded.call("keys", [{ action: "go", args: {} }, {}], { steps: 1000 });
      assert.ok(r.ok, r.ok ? "" : `${r.code}: ${r.message}`);
      const sandboxed = r.value as string[];
      for (let i = 0; i < CASES.length; i++) assert.equal(sandboxed[i], QUICKJS[CASES[i]!] ?? native[i], CASES[i]);
    } finally {
      loaded.dispose();
    }
  });
});
