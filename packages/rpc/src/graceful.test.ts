import { test } from "node:test";
import assert from "node:assert/strict";
import { onTerminate, within } from "./graceful.js";

function recorder() {
  const lines: string[] = [];
  const log = {
    info: (_o: object, m: string) => lines.push(`info ${m}`),
    warn: (_o: object, m: string) => lines.push(`warn ${m}`),
    error: (_o: object, m: string) => lines.push(`error ${m}`),
  };
  return { lines, log };
}

test("the steps run once, in order, a failing one does not stop the rest, and the exit is 0", async () => {
  const { lines, log } = recorder();
  const ran: string[] = [];
  const exits: number[] = [];
  const t = onTerminate(
    {
      log,
      drainTimeoutMs: 5000,
      steps: () => [
        { name: "a", run: () => void ran.push("a") },
        {
          name: "b",
          run: () => {
            ran.push("b");
            throw new Error("b broke");
          },
        },
        { name: "c", run: async (left) => (ran.push(`c ${left > 0 && left <= 5000}`), await Promise.resolve()) },
      ],
    },
    (c) => exits.push(c),
  );
  await Promise.all([t.shutdown(), t.shutdown()]);
  assert.deepEqual(ran, ["a", "b", "c true"]);
  assert.deepEqual(exits, [0]);
  assert.equal(t.stopping, true);
  assert.ok(lines.includes("warn shutdown step failed; going on"));
  assert.ok(lines.includes("info shutdown complete"));
});

test("a shutdown that overruns its drain timeout exits 1 anyway", async () => {
  const { lines, log } = recorder();
  const exits: number[] = [];
  const t = onTerminate({ log, drainTimeoutMs: 50, steps: () => [{ name: "stuck", run: () => new Promise(() => undefined) }] }, (c) =>
    exits.push(c),
  );
  void t.shutdown();
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(exits, [1]);
  assert.ok(lines.some((l) => l.startsWith("error shutdown did not finish within DRAIN_TIMEOUT_MS")));
});

test("within resolves at the first of the promise or the bound, and never rejects", async () => {
  const t0 = Date.now();
  await within(new Promise(() => undefined), 30);
  assert.ok(Date.now() - t0 >= 25);
  await within(Promise.reject(new Error("x")), 10_000);
});
