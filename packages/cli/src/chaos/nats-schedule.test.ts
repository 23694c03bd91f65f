import { strict as assert } from "node:assert";
import { test } from "node:test";
import { natsKillSchedule } from "./nats-schedule.js";

test("NATS kills are spread between master kills", () => {
  assert.deepEqual(natsKillSchedule(10, 2), [0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
  assert.deepEqual(natsKillSchedule(20, 1), [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
});

test("every NATS kill is scheduled, even with fewer master kills", () => {
  for (const [kills, nk] of [
    [1, 3],
    [2, 5],
    [3, 1],
    [7, 7],
  ] as const) {
    const s = natsKillSchedule(kills, nk);
    assert.equal(s.length, kills);
    assert.equal(
      s.reduce((a, b) => a + b, 0),
      nk,
    );
  }
});

test("no NATS kills, or no master kills, schedules nothing", () => {
  assert.deepEqual(natsKillSchedule(3, 0), [0, 0, 0]);
  assert.deepEqual(natsKillSchedule(0, 2), []);
});
