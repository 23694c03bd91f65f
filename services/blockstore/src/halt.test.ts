// A block that fails verification halts the service (tally_halted, NOT_SERVING, one error log);
// any other failure is not a halt and is rethrown, so the process crashes and restarts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeBlock } from "@tally/ledger";
import { haltOnInvariant, invariantCode, registry } from "@tally/telemetry";

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  assert.fail("did not throw");
}

test("an undecodable block halts with its reason: metric 1, NOT_SERVING, one error log", async () => {
  const e = thrown(() => decodeBlock(new Uint8Array([0xff, 0x01, 0x02, 0x03])));
  assert.equal(invariantCode(e), "MALFORMED_BLOCK");
  const logs: { obj: object; msg: string }[] = [];
  let notServing = 0;
  const reason = haltOnInvariant(e, { log: { error: (obj, msg) => logs.push({ obj, msg }) }, notServing: () => notServing++ });
  assert.equal(reason, "MALFORMED_BLOCK");
  assert.equal(notServing, 1);
  assert.equal(logs.length, 1);
  assert.match(logs[0]!.msg, /halted at the last good block/);
  assert.match(await registry.metrics(), /^tally_halted\{reason="MALFORMED_BLOCK"\} 1$/m);
});

test("any other failure is rethrown as it is, and nothing is marked halted", async () => {
  for (const e of [new Error("connection terminated"), Object.assign(new Error("x"), { code: "ECONNRESET" }), "a string", undefined]) {
    let notServing = 0;
    assert.equal(invariantCode(e), undefined);
    assert.equal(
      thrown(() => haltOnInvariant(e, { log: { error: () => assert.fail("logged") }, notServing: () => notServing++ })),
      e,
    );
    assert.equal(notServing, 0);
  }
  assert.doesNotMatch(await registry.metrics(), /reason="ECONNRESET"/);
});
