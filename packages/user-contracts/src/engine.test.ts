// The sandbox's metering is a count, not a clock: the same call takes the same steps in any fresh
// instance, and the same allocation fails at the same point.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isRejection } from "@tally/contracts";
import { SandboxEngine, type CallOutcome } from "./engine.js";

const LIMITS = { stepLimit: 1000, memoryLimitBytes: 2 * 1024 * 1024, maxBigIntBits: 512 };

// A contract whose keys() runs `body` and returns its value as the one key's name.
function code(body: string): string {
  return `module.exports = { actions: { go: { roles: ["bank"] } }, keys(command, ctx) { ${body} } };`;
}

async function once(body: string, steps: number, limits = LIMITS): Promise<CallOutcome> {
  const engine = await SandboxEngine.create();
  const loaded = engine.load(code(body), limits);
  assert.ok(!isRejection(loaded));
  try {
    return loaded.call("keys", [{ action: "go", args: {} }, {}], { steps });
  } finally {
    loaded.dispose();
  }
}

describe("sandbox metering", () => {
  // (XOR: a + would call the rewrite's helper, and count that call's poll points too.)
  const LOOP = "let s = 0; for (let i = 0; i < 200000; i++) s ^= i; return [String(s)];";

  test("the same call takes the same steps in every fresh instance, and about one step per 10,000 loop iterations", async () => {
    const runs = [await once(LOOP, 1000), await once(LOOP, 1000), await once(LOOP, 1000)];
    for (const r of runs) assert.ok(!isRejection(r));
    const steps = runs.map((r) => (r.ok ? r.steps : -1));
    assert.equal(new Set(steps).size, 1, `steps differ: ${steps.join(", ")}`);
    assert.ok(steps[0]! >= 20 && steps[0]! <= 60, `steps ${steps[0]}`);
  });

  test("native work and long straight-line code count in the steps, the same in every fresh instance", async () => {
    // Four searches of 7,000 x 3,501 characters: 383,000 poll points charged before they run.
    const search = "const s = 'a'.repeat(7000); const p = 'a'.repeat(3500) + 'b'; for (let i = 0; i < 4; i++) s.indexOf(p); return ['k'];";
    // A body of 500 statements of 6 nodes, 100 times: 300,000 poll points charged by the rewrite
    // (QuickJS itself sees two poll points an iteration).
    const long = `const o = { a: 1 }; let q; for (let i = 0; i < 100; i++) { ${"q = o.a; ".repeat(500)}} return ['k'];`;
    for (const [body, least] of [
      [search, 38],
      [long, 30],
    ] as const) {
      const runs = [await once(body, 1000), await once(body, 1000)];
      const steps = runs.map((r) => (r.ok ? r.steps : -1));
      assert.equal(steps[0], steps[1]);
      assert.ok(steps[0]! >= least && steps[0]! <= least * 2, `steps ${steps[0]}, expected at least ${least}`);
    }
  });

  test("a budget one step short of what the call takes is OUT_OF_GAS; exactly enough passes", async () => {
    const r = await once(LOOP, 1000);
    assert.ok(r.ok);
    const exact = await once(LOOP, r.steps);
    assert.ok(exact.ok, isRejection(exact) ? exact.message : "");
    const short = await once(LOOP, r.steps - 1);
    assert.ok(isRejection(short));
    assert.equal(short.code, "OUT_OF_GAS");
  });

  test("the same allocations fail at the same point in every fresh instance, even when the contract catches the failure", async () => {
    const grow =
      "const a = []; try { for (;;) a.push('x' + a.length); } catch (e) { const n = a.length; a.length = 0; return [String(n), String(e.message)]; }";
    const runs = [await once(grow, 1000), await once(grow, 1000)];
    const values = runs.map((r) => (r.ok ? JSON.stringify(r.value) : r.code));
    assert.equal(values[0], values[1]);
    assert.match(values[0]!, /out of memory/);
  });

  test("the memory limit holds: a 4 MiB string does not fit in 2 MiB", async () => {
    const r = await once("return ['x'.repeat(4 * 1024 * 1024)];", 1000);
    assert.ok(isRejection(r));
    assert.equal(r.code, "OUT_OF_MEMORY");
  });
});

describe("limits from the chain config", () => {
  test("a call that fits the default steps is OUT_OF_GAS once set-sandbox-limits lowers them", async () => {
    const { SandboxChain } = await import("./testing/harness.js");
    const busy = `module.exports = {
      actions: { go: { roles: ["bank"] } },
      keys() { let s = 0; for (let i = 0; i < 50000; i++) s += i; return ["k" + (s % 2)]; },
      decide(command, state, ctx) { return []; },
      evolve() { return {}; },
    };`;
    const roomy = await SandboxChain.start([{ name: "busy", versions: [busy] }]);
    const tight = await SandboxChain.start([{ name: "busy", versions: [busy] }], {
      stepLimit: 2,
      memoryLimitBytes: 4 * 1024 * 1024,
      maxBigIntBits: 512,
    });
    try {
      const ok = roomy.act("bank-a", "busy", "go", {});
      assert.ok(!isRejection(ok), isRejection(ok) ? ok.message : "");
      const r = tight.act("bank-a", "busy", "go", {});
      assert.ok(isRejection(r));
      assert.equal(r.code, "OUT_OF_GAS");
    } finally {
      roomy.dispose();
      tight.dispose();
    }
  });
});
