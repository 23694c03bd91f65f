// Hostile user contracts: each is a deterministic rejection with a reason code, the same on every
// run, and the next transaction still runs.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { isRejection, type CommandOutcome, type Rejection } from "@tally/contracts";
import { SandboxChain, codeOf } from "./testing/harness.js";

// A contract whose only action, "go", runs `body` as decide; `keysBody` as keys.
function contract(body: string, keysBody = "return ['k'];", evolveBody = "return { k: event.data };"): string {
  return `module.exports = {
    actions: { go: { roles: ["bank"], args: {} } },
    keys(command, ctx) { ${keysBody} },
    decide(command, state, ctx) { ${body} },
    evolve(state, event) { ${evolveBody} },
  };`;
}

const OK_EVENT = "return [{ type: 'Done', assetId: 'k', parties: [ctx.signer], data: { n: 1 } }];";

const HOSTILE: Record<string, { code: string; reason: string }> = {
  loop: { code: contract("for (;;) {}"), reason: "OUT_OF_GAS" },
  "loop in keys": { code: contract(OK_EVENT, "while (true) {}"), reason: "OUT_OF_GAS" },
  "loop in evolve": { code: contract(OK_EVENT, undefined, "for (;;) {}"), reason: "OUT_OF_GAS" },
  "recursion without end": { code: contract("const f = (n) => f(n + 1) + 1; return f(0);"), reason: "OUT_OF_MEMORY" },
  "catching the interrupt": { code: contract("for (;;) { try { for (;;) {} } catch (e) {} }"), reason: "OUT_OF_GAS" },
  allocation: { code: contract("const a = []; for (;;) a.push(new Uint8Array(10000));"), reason: "OUT_OF_MEMORY" },
  "one huge string": {
    code: contract("return [{ type: 'X', assetId: 'k', parties: [], data: { s: 'x'.repeat(1 << 24) } }];"),
    reason: "OUT_OF_MEMORY",
  },
  throws: { code: contract("throw new Error('no');"), reason: "CONTRACT_THREW" },
  // Native loops that reach no poll point: refused past their bounds rather than run unmetered.
  "a quadratic string search": {
    code: contract(
      "const s = 'a'.repeat(200000); return [{ type: 'X', assetId: 'k', parties: [], data: { i: s.indexOf('a'.repeat(100000) + 'b') } }];",
    ),
    reason: "CONTRACT_THREW",
  },
  "a walk over a sparse array": {
    code: contract("return [{ type: 'X', assetId: 'k', parties: [], data: { i: Array(2 ** 32 - 1).indexOf(1) } }];"),
    reason: "CONTRACT_THREW",
  },
  "a walk over an array-like": { code: contract("[].forEach.call({ length: 2 ** 40 }, () => 0); return [];"), reason: "CONTRACT_THREW" },
  // Native work that outgrows its output: charged by size, so OUT_OF_GAS even when caught.
  "sorting a large array": {
    code: contract("const a = []; for (let i = 0; i < 100000; i++) a.push(i % 977); a.sort(); return [];"),
    reason: "OUT_OF_GAS",
  },
  "sorting a large array, error caught": {
    code: contract("const a = Array.from({ length: 100000 }, (_, i) => i % 977); try { a.sort(); } catch (e) {} " + OK_EVENT),
    reason: "OUT_OF_GAS",
  },
  // Each call's native work is charged, however small: a loop of searches just under the bound
  // used to run for hours on 200 steps.
  "a loop of quadratic string searches, errors caught": {
    code: contract("const s = 'a'.repeat(7000); const p = 'a'.repeat(3500) + 'b'; for (;;) { try { s.indexOf(p); } catch (e) {} }"),
    reason: "OUT_OF_GAS",
  },
  "a loop of walks over a sparse array": { code: contract("const a = Array(3900000); for (;;) a.indexOf(1);"), reason: "OUT_OF_GAS" },
  "a loop sorting a typed array": { code: contract("const t = new Float64Array(400000); for (;;) t.sort();"), reason: "OUT_OF_GAS" },
  "a loop sorting a mid-sized array": {
    code: contract("const a = Array.from({ length: 6000 }, (_, i) => i); for (;;) a.sort();"),
    reason: "OUT_OF_GAS",
  },
  // Straight-line code is charged by its length: a loop whose body is thousands of statements.
  "a loop with a long body": {
    code: contract(`const o = { a: 1 }; let q; for (;;) { ${"q = o.a; ".repeat(3000)} }`),
    reason: "OUT_OF_GAS",
  },
  // A repeat's work is its output's size, which the memory cap bounds.
  "repeat with a huge count": {
    code: contract("return [{ type: 'X', assetId: 'k', parties: [], data: { n: 'ab'.repeat(2 ** 27).length } }];"),
    reason: "OUT_OF_MEMORY",
  },
  "JSON.stringify of a value sharing its parts": {
    code: contract(
      "let o = []; for (let i = 0; i < 40; i++) o = [o, o]; return [{ type: 'X', assetId: 'k', parties: [], data: { n: JSON.stringify(o).length } }];",
    ),
    reason: "OUT_OF_GAS",
  },
  "decide returning a value sharing its parts": {
    code: contract("let o = []; for (let i = 0; i < 40; i++) o = [o, o]; return o;"),
    reason: "OUT_OF_GAS",
  },
  // BigInts: every way of making one checks the chain's cap (maxBigIntBits, 512 here) before the
  // native work, so none runs for long; parsing and printing are charged by their digits.
  "a BigInt squaring loop": { code: contract("let x = 3n; for (;;) x = x * x;"), reason: "BIGINT_TOO_LARGE" },
  "a BigInt squaring loop, compound": { code: contract("let x = 3n; for (;;) x *= x;"), reason: "BIGINT_TOO_LARGE" },
  "a BigInt doubling loop by +": { code: contract("let x = 1n; for (;;) x = x + x;"), reason: "BIGINT_TOO_LARGE" },
  "a BigInt doubling loop by +=, on a property": {
    code: contract("const o = { x: 1n }; for (;;) o.x += o.x;"),
    reason: "BIGINT_TOO_LARGE",
  },
  "a BigInt doubling loop by -=, on a computed key": {
    code: contract("const o = [1n]; let i = 0; for (;;) o[i] -= -o[i];"),
    reason: "BIGINT_TOO_LARGE",
  },
  "a huge BigInt power": {
    code: contract("return [{ type: 'X', assetId: 'k', parties: [], data: { n: String(2n ** 10000000n) } }];"),
    reason: "BIGINT_TOO_LARGE",
  },
  "a huge BigInt power, compound": { code: contract("let x = 2n; x **= 10000000n; return [];"), reason: "BIGINT_TOO_LARGE" },
  "a huge BigInt left shift": { code: contract("const x = 1n << 100000000n; return [];"), reason: "BIGINT_TOO_LARGE" },
  "a huge BigInt left shift, compound": { code: contract("let x = 1n; x <<= 100000000n; return [];"), reason: "BIGINT_TOO_LARGE" },
  "a huge BigInt right shift by a negative count": {
    code: contract("const x = 1n >> -100000000n; return [];"),
    reason: "BIGINT_TOO_LARGE",
  },
  "BigInt.asUintN(2 ** 40, -1n)": { code: contract("const x = BigInt.asUintN(2 ** 40, -1n); return [];"), reason: "BIGINT_TOO_LARGE" },
  "a product through valueOf": {
    code: contract("const o = { valueOf() { return 1n << 500n; } }; const x = o * o; return [];"),
    reason: "BIGINT_TOO_LARGE",
  },
  "printing a BigInt near the size cap": {
    code: contract("const x = (1n << 400000n) - 1n; return [{ type: 'X', assetId: 'k', parties: [], data: { s: x.toString().length } }];"),
    reason: "BIGINT_TOO_LARGE",
  },
  "a BigInt at the cap printed through a template literal, in a loop": {
    code: contract("const x = (1n << 511n) + 1n; let s; for (;;) s = `${x}${x}${x}${x}`;"),
    reason: "OUT_OF_GAS",
  },
  "a BigInt at the cap printed by String() and parseInt(), in a loop": {
    code: contract("const x = (1n << 511n) + 1n; let s; for (;;) s = String(x) + parseInt(x);"),
    reason: "OUT_OF_GAS",
  },
  "parsing a huge decimal BigInt": {
    code: contract("const s = '7'.repeat(90000); return [{ type: 'X', assetId: 'k', parties: [], data: { s: String(BigInt(s) > 0n) } }];"),
    reason: "OUT_OF_GAS",
  },
  "BigInt() of a decimal above the cap": { code: contract("const x = BigInt('9'.repeat(200)); return [];"), reason: "BIGINT_TOO_LARGE" },
  "comparing a BigInt with a huge decimal string, in a loop": {
    code: contract("const s = '9'.repeat(300000); let q; for (;;) q = 1n == s;"),
    reason: "OUT_OF_GAS",
  },
  "ordering a BigInt against a huge decimal string": {
    code: contract("const s = '9'.repeat(300000); return [{ type: 'X', assetId: 'k', parties: [], data: { b: String(1n < s) } }];"),
    reason: "OUT_OF_GAS",
  },
  "a BigInt literal above the cap": { code: contract(`const x = ${"9".repeat(200)}n; return [];`), reason: "BAD_CONTRACT" },
  "BigInt64Array (its writes parse strings natively)": {
    code: contract("new BigInt64Array(1)[0] = '1'; return [];"),
    reason: "FORBIDDEN_GLOBAL",
  },
  "DataView.setBigInt64": {
    code: contract("new DataView(new ArrayBuffer(8)).setBigInt64(0, '9'.repeat(300000)); return [];"),
    reason: "FORBIDDEN_GLOBAL",
  },
  // No code from strings: it would run without the rewrite.
  eval: { code: contract("return eval('1n << 100000000n');"), reason: "FORBIDDEN_GLOBAL" },
  "indirect eval": { code: contract("return (0, globalThis.eval)('[]');"), reason: "FORBIDDEN_GLOBAL" },
  "the Function constructor": { code: contract("return Function('return 1n << 100000000n')();"), reason: "FORBIDDEN_GLOBAL" },
  "new Function": { code: contract("return new Function('return []')();"), reason: "FORBIDDEN_GLOBAL" },
  "a function's constructor": { code: contract("return (function () {}).constructor('return []')();"), reason: "FORBIDDEN_GLOBAL" },
  "an arrow's constructor through its prototype": {
    code: contract("return Object.getPrototypeOf(() => 0).constructor('return []')();"),
    reason: "FORBIDDEN_GLOBAL",
  },
  "Reflect.construct of a function's constructor": {
    code: contract("return Reflect.construct((function () {}).constructor, ['return []'])();"),
    reason: "FORBIDDEN_GLOBAL",
  },
  "an async function's constructor": {
    code: contract("(async function () {}).constructor('return 1'); return [];"),
    reason: "FORBIDDEN_GLOBAL",
  },
  "a generator's constructor": { code: contract("(function* () {}).constructor('yield 1'); return [];"), reason: "FORBIDDEN_GLOBAL" },
  "an async generator's constructor": {
    code: contract("(async function* () {}).constructor('yield 1'); return [];"),
    reason: "FORBIDDEN_GLOBAL",
  },
  "a class's constructor's constructor": { code: contract("class A {} return A.constructor('return []')();"), reason: "FORBIDDEN_GLOBAL" },
  "import()": { code: contract("import('x'); return [];"), reason: "BAD_CONTRACT" },
  "a name of the sandbox's": { code: contract("const __tallyMul = (a, b) => a * b; return [];"), reason: "BAD_CONTRACT" },
  "throws a string": { code: contract("throw 'no';"), reason: "CONTRACT_THREW" },
  "returns no list": { code: contract("return 42;"), reason: "MALFORMED_EVENTS" },
  "event without type": { code: contract("return [{ assetId: 'k', parties: [], data: {} }];"), reason: "MALFORMED_EVENTS" },
  "event with a float": {
    code: contract("return [{ type: 'X', assetId: 'k', parties: [], data: { x: 0.5 } }];"),
    reason: "MALFORMED_EVENTS",
  },
  "event for another contract": {
    code: contract(
      "return [{ contract: 'cash', type: 'CashIssued', assetId: 'acct/bank-a', parties: [], data: { to: 'bank-a', amount: '1' } }];",
    ),
    reason: "MALFORMED_EVENTS",
  },
  "bad reason code": { code: contract("return { reject: { code: 'lower', message: 'x' } };"), reason: "MALFORMED_EVENTS" },
  "evolve writes an unnamed key": { code: contract(OK_EVENT, undefined, "return { other: 1 };"), reason: "UNDECLARED_KEY" },
  "keys that are no list": { code: contract(OK_EVENT, "return 'k';"), reason: "MALFORMED_KEYS" },
  "a BigInt in events": { code: contract("return [{ type: 'X', assetId: 'k', parties: [], data: { n: 1n } }];"), reason: "CONTRACT_THREW" },
  "Date.now": { code: contract("return [{ type: 'X', assetId: 'k', parties: [], data: { t: Date.now() } }];"), reason: "FORBIDDEN_GLOBAL" },
  "Math.random": {
    code: contract("return [{ type: 'X', assetId: 'k', parties: [], data: { r: Math.random() } }];"),
    reason: "FORBIDDEN_GLOBAL",
  },
  "globalThis.process": { code: contract("return globalThis.process.exit(1);"), reason: "FORBIDDEN_GLOBAL" },
  require: { code: contract("require('fs'); return [];"), reason: "FORBIDDEN_GLOBAL" },
  "WeakRef (GC-observable)": { code: contract("new WeakRef({}); return [];"), reason: "FORBIDDEN_GLOBAL" },
  "polluting a prototype": { code: contract("Array.prototype.push = () => 0; return [];"), reason: "CONTRACT_THREW" },
  "a new global": { code: contract("globalThis.leak = 1; return [];"), reason: "CONTRACT_THREW" },
  "unknown global": { code: contract("return fetchSomething();"), reason: "CONTRACT_THREW" },
  "syntax error": { code: "module.exports = {", reason: "BAD_CONTRACT" },
  "no actions": { code: "module.exports = { actions: {} };", reason: "BAD_CONTRACT" },
  "loops at top level": { code: "for (;;) {}", reason: "BAD_CONTRACT" },
};

function outcome(chain: SandboxChain, name: string): CommandOutcome | Rejection {
  return chain.act("bank-a", name, "go", {});
}

describe("hostile user contracts", () => {
  let chain: SandboxChain;
  const names = Object.keys(HOSTILE).map((k, i) => ({ label: k, name: `h${i}` }));
  before(async () => {
    chain = await SandboxChain.start(
      [...names.map(({ label, name }) => ({ name, versions: [HOSTILE[label]!.code] })), { name: "good", versions: [contract(OK_EVENT)] }],
      { stepLimit: 50, memoryLimitBytes: 4 * 1024 * 1024, maxBigIntBits: 512 },
    );
  });
  after(() => chain.dispose());

  for (const { label, name } of names) {
    test(`${label}: ${HOSTILE[label]!.reason}, twice the same, and the next transaction commits`, () => {
      const first = outcome(chain, name);
      assert.ok(isRejection(first), `${label} was accepted`);
      assert.equal(first.code, HOSTILE[label]!.reason, first.message);
      const second = outcome(chain, name);
      assert.deepEqual(second, first);
      assert.equal(codeOf(chain.act("bank-a", "good", "go", {})), "ok");
    });
  }

  test("nothing a rejected call did is left in state", () => {
    for (const { name } of names) assert.equal(chain.state.get(name), undefined, name);
  });

  test("module variables live for one block's instance, and start afresh at the next block", async () => {
    const counter = `let n = 0;
      module.exports = {
        actions: { go: { roles: ["bank"], args: {} } },
        keys() { return ["k"]; },
        decide(command, state, ctx) { n++; return [{ type: "Counted", assetId: "k", parties: [], data: { n } }]; },
        evolve(state, event) { return { k: event.data }; },
      };`;
    const c = await SandboxChain.start([{ name: "counter", versions: [counter] }]);
    try {
      for (let block = 0; block < 2; block++) {
        await c.registry.host.beginBlock();
        for (let i = 1; i <= 3; i++) {
          const r = c.act("bank-a", "counter", "go", {});
          assert.ok(!isRejection(r));
          assert.deepEqual(r.events[0]!.data, { n: i });
        }
      }
    } finally {
      c.dispose();
    }
  });
});

describe("code hash", () => {
  test("a stored code whose hash is not the approved one makes every call CODE_HASH_MISMATCH", async () => {
    const { membershipWith } = await import("./testing/harness.js");
    const { UserContractRegistry } = await import("./host.js");
    const { builtinContracts, userCodeKey, userCodeJson, codeHash } = await import("@tally/contracts");
    const good = contract(OK_EVENT);
    const m = membershipWith([{ name: "tampered", versions: [good] }]);
    // Someone swapped the stored code for another under the approved hash.
    m.set(userCodeKey(codeHash(good)), userCodeJson(codeHash(good), contract("for (;;) {}")));
    const registry = await UserContractRegistry.create();
    try {
      const contracts = await registry.contractsFor(m, builtinContracts);
      const { prepareCommand } = await import("@tally/contracts");
      const { MEMBERS } = await import("./testing/harness.js");
      const ctx = {
        chainId: "c",
        txId: "0".repeat(64),
        height: 1n,
        blockTimeMs: 0,
        signer: "bank-a",
        signers: ["bank-a"],
        members: MEMBERS,
      };
      const r = prepareCommand(contracts, "tampered", "go", {}, ctx);
      assert.ok(isRejection(r));
      assert.equal(r.code, "CODE_HASH_MISMATCH");
    } finally {
      registry.host.dispose();
    }
  });
});

describe("members", () => {
  const code = `module.exports = {
    actions: { go: { roles: ["bank"], args: {} }, grab: { roles: ["bank"], args: {} } },
    keys() { return ["k"]; },
    decide(command, state, ctx) {
      if (command.action === "grab") ctx.members["bank-a"].push("regulator");
      return [{ type: "Seen", assetId: "k", parties: [], data: { n: Object.keys(ctx.members).length, c: "bank-c" in ctx.members } }];
    },
    evolve(state, event) { return { k: event.data }; },
  };`;

  test("ctx.members follows the members map when it changes, and a contract cannot change it", async () => {
    const { prepareCommand, runCommand } = await import("@tally/contracts");
    const { MEMBERS } = await import("./testing/harness.js");
    const c = await SandboxChain.start([{ name: "m", versions: [code] }]);
    try {
      const run = (members: typeof MEMBERS, action = "go"): unknown => {
        const ctx = { ...c.ctx("bank-a"), members };
        const p = prepareCommand(c.contracts, "m", action, {}, ctx);
        assert.ok(!isRejection(p));
        const r = runCommand(p, new Map(), ctx);
        return isRejection(r) ? r.code : r.events[0]!.data;
      };
      assert.deepEqual(run(MEMBERS), { n: MEMBERS.size, c: false });
      const more = new Map([...MEMBERS, ["bank-c", { roles: ["bank"] }]]);
      assert.deepEqual(run(more), { n: MEMBERS.size + 1, c: true });
      // The same content in another map: nothing changes.
      assert.deepEqual(run(new Map(more)), { n: MEMBERS.size + 1, c: true });
      assert.deepEqual(run(MEMBERS), { n: MEMBERS.size, c: false });
      assert.equal(run(MEMBERS, "grab"), "CONTRACT_THREW");
      assert.deepEqual(run(MEMBERS), { n: MEMBERS.size, c: false });
    } finally {
      c.dispose();
    }
  });
});

describe("keys declared as data", () => {
  const declared = (keys: string): string => `module.exports = {
    actions: { pay: { roles: ["bank"], args: { to: "identifier", ref: "string?" }, keys: ${keys} } },
    decide(command, state, ctx) {
      return [{ type: "Paid", assetId: "p", parties: [ctx.signer], data: { keys: Object.keys(state).sort() } }];
    },
    evolve(state, event) { return {}; },
    initialState(key) { return { key }; },
  };`;

  test("the host fills the templates (no keys function), drops an absent optional arg's, and repeats none", async () => {
    const c = await SandboxChain.start([{ name: "p", versions: [declared('["acct/{signer}", "acct/{args.to}", "ref/{args.ref}"]')] }]);
    try {
      const r = c.act("bank-a", "p", "pay", { to: "bank-b" });
      assert.ok(!isRejection(r), isRejection(r) ? r.message : "");
      assert.deepEqual(r.events[0]!.data, { keys: ["acct/bank-a", "acct/bank-b"] });
      const self = c.act("bank-a", "p", "pay", { to: "bank-a", ref: "x-1" });
      assert.ok(!isRejection(self));
      assert.deepEqual(self.events[0]!.data, { keys: ["acct/bank-a", "ref/x-1"] });
    } finally {
      c.dispose();
    }
  });

  test("a template naming an undeclared arg, or no list, makes the code BAD_CONTRACT", async () => {
    const c = await SandboxChain.start([
      { name: "u", versions: [declared('["acct/{args.nope}"]')] },
      { name: "n", versions: [declared('"acct/{signer}"')] },
    ]);
    try {
      assert.equal(codeOf(c.act("bank-a", "u", "pay", { to: "bank-b" })), "BAD_CONTRACT");
      assert.equal(codeOf(c.act("bank-a", "n", "pay", { to: "bank-b" })), "BAD_CONTRACT");
    } finally {
      c.dispose();
    }
  });
});
