// The lease logic with an injected clock and an in-memory implementation of our own KV port
// (a bucket with a TTL, as nats-server 2.9 keeps it: a lapsed key vanishes).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Lease, LeaseConflictError, LeaseHeldError, type LeaseEntry, type LeaseKv } from "./lease.js";

const TTL = 1500;
const RENEW = 300;
const POLL = 100;
const MARGIN = 250;
const KEY = "master";

/** The "server": its own clock, one revision counter for the bucket, per-key TTL from the last write. */
class FakeBucket {
  t = 0;
  private rev = 0;
  private keys = new Map<string, { revision: number; value: Uint8Array; at: number }>();

  private live(key: string): { revision: number; value: Uint8Array; at: number } | undefined {
    const e = this.keys.get(key);
    if (e !== undefined && this.t >= e.at + TTL) this.keys.delete(key);
    return this.keys.get(key);
  }

  private write(key: string, value: Uint8Array): number {
    this.keys.set(key, { revision: ++this.rev, value, at: this.t });
    return this.rev;
  }

  /** A client of the bucket; `down` makes every call fail like a 503, `ackLost` applies writes then fails. */
  client(): LeaseKv & { down: boolean; ackLost: boolean } {
    const outage = (): Error => Object.assign(new Error("503 no responders"), { code: 503 });
    const c = {
      down: false,
      ackLost: false,
      get: (key: string): Promise<LeaseEntry | null> => {
        if (c.down) return Promise.reject(outage());
        const e = this.live(key);
        return Promise.resolve(e === undefined ? null : { revision: e.revision, value: e.value });
      },
      create: (key: string, value: Uint8Array): Promise<number> => {
        if (c.down) return Promise.reject(outage());
        if (this.live(key) !== undefined) return Promise.reject(new LeaseConflictError("wrong last sequence"));
        const r = this.write(key, value);
        return c.ackLost ? Promise.reject(outage()) : Promise.resolve(r);
      },
      update: (key: string, value: Uint8Array, revision: number): Promise<number> => {
        if (c.down) return Promise.reject(outage());
        if (this.live(key)?.revision !== revision) return Promise.reject(new LeaseConflictError("wrong last sequence"));
        const r = this.write(key, value);
        return c.ackLost ? Promise.reject(outage()) : Promise.resolve(r);
      },
      delete: (key: string, revision: number): Promise<void> => {
        if (c.down) return Promise.reject(outage());
        if (this.live(key)?.revision !== revision) return Promise.reject(new LeaseConflictError("wrong last sequence"));
        this.keys.delete(key);
        this.rev++;
        return Promise.resolve();
      },
    };
    return c;
  }
}

/** An instance: a lease over its own client, with a local clock that is the server's plus a skew. */
function instance(b: FakeBucket, holder: string): { lease: Lease; kv: ReturnType<FakeBucket["client"]>; skew: { ms: number } } {
  const kv = b.client();
  const skew = { ms: 0 };
  const lease = new Lease(kv, { key: KEY, holder, ttlMs: TTL, renewMs: RENEW, pollMs: POLL, marginMs: MARGIN }, () => b.t + skew.ms);
  return { lease, kv, skew };
}

/** Advances the server clock by ms in 10 ms ticks, stepping every lease; checks one master at most at every tick. */
async function run(b: FakeBucket, leases: Lease[], ms: number, onTick?: () => void): Promise<void> {
  for (let i = 0; i < ms; i += 10) {
    b.t += 10;
    for (const l of leases) await l.step();
    onTick?.();
    const masters = leases.filter((l) => l.role === "master");
    assert.ok(masters.length <= 1, `two masters at t=${b.t}`);
  }
}

describe("Lease", () => {
  test("the first instance takes a free lease; its epoch is the revision and grows with each takeover", async () => {
    const b = new FakeBucket();
    const a = instance(b, "a");
    await run(b, [a.lease], 50);
    assert.equal(a.lease.role, "master");
    const e1 = a.lease.epoch!;
    assert.ok(e1 > 0n);
    await a.lease.stepDown("test");
    assert.equal(a.lease.role, "backup");
    await run(b, [a.lease], 200);
    assert.equal(a.lease.role, "master");
    assert.ok(a.lease.epoch! > e1);
  });

  test("a renewal that meets a 503 does not step down before the deadline; a stale master is fenced at its deadline", async () => {
    const b = new FakeBucket();
    const a = instance(b, "a");
    const c = instance(b, "c");
    await run(b, [a.lease, c.lease], 500);
    assert.equal(a.lease.role, "master");
    assert.equal(c.lease.role, "backup");
    const term = await a.lease.nextTerm(new AbortController().signal);
    assert.ok(term !== undefined);
    // The master cannot reach NATS any more; the backup still can.
    a.kv.down = true;
    const deadline = a.lease.deadline!;
    let fencedAt: number | undefined;
    let takenAt: number | undefined;
    await run(b, [a.lease, c.lease], 3000, () => {
      if (fencedAt === undefined && a.lease.role === "backup") fencedAt = b.t;
      if (takenAt === undefined && c.lease.role === "master") takenAt = b.t;
      // Never before the deadline, whatever the errors.
      if (b.t < deadline) assert.equal(a.lease.role, "master", `stepped down at t=${b.t}, before its deadline ${deadline}`);
    });
    assert.ok(fencedAt !== undefined && fencedAt >= deadline && fencedAt < deadline + 20, `fenced at ${fencedAt}, deadline ${deadline}`);
    assert.ok(term.signal.aborted, "the term's signal was not aborted");
    assert.ok(takenAt !== undefined && takenAt > fencedAt, `the backup took over at ${takenAt}`);
    assert.equal(c.lease.role, "master");
  });

  test("a renewal whose transient failure ends before the deadline keeps the term", async () => {
    const b = new FakeBucket();
    const a = instance(b, "a");
    await run(b, [a.lease], 100);
    const epoch = a.lease.epoch;
    a.kv.down = true;
    await run(b, [a.lease], 800);
    a.kv.down = false;
    await run(b, [a.lease], 2000);
    assert.equal(a.lease.role, "master");
    assert.equal(a.lease.epoch, epoch);
  });

  test("a renewal whose ack was lost (it landed) does not end the term", async () => {
    const b = new FakeBucket();
    const a = instance(b, "a");
    await run(b, [a.lease], 100);
    const epoch = a.lease.epoch;
    a.kv.ackLost = true;
    await run(b, [a.lease], 350);
    a.kv.ackLost = false;
    await run(b, [a.lease], 2000);
    assert.equal(a.lease.role, "master");
    assert.equal(a.lease.epoch, epoch);
  });

  test("two would-be masters never both hold it: kills, outages, lost acks and releases at random", async () => {
    const b = new FakeBucket();
    const xs = [instance(b, "a"), instance(b, "b"), instance(b, "c")];
    let seed = 42;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const epochs: bigint[] = [];
    for (const x of xs) x.lease.onChange((role, _why, epoch) => role === "master" && epochs.push(epoch));
    for (let round = 0; round < 60; round++) {
      for (const x of xs) {
        x.kv.down = rnd() < 0.25;
        x.kv.ackLost = !x.kv.down && rnd() < 0.1;
      }
      await run(
        b,
        xs.map((x) => x.lease),
        Math.floor(rnd() * 1500),
      );
      const m = xs.find((x) => x.lease.role === "master");
      if (m !== undefined && rnd() < 0.2) {
        m.kv.down = false;
        await m.lease.stepDown("test");
      }
    }
    for (let i = 1; i < epochs.length; i++) assert.ok(epochs[i]! > epochs[i - 1]!, `epoch went from ${epochs[i - 1]} to ${epochs[i]}`);
    assert.ok(epochs.length > 5, `only ${epochs.length} terms`);
  });

  test("a clock jump forward on the master fences it; the backup takes over once the key lapses; never two masters", async () => {
    const b = new FakeBucket();
    const a = instance(b, "a");
    const c = instance(b, "c");
    await run(b, [a.lease, c.lease], 500);
    assert.equal(a.lease.role, "master");
    a.skew.ms = 60_000;
    await run(b, [a.lease, c.lease], 20);
    assert.equal(a.lease.role, "backup");
    await run(b, [a.lease, c.lease], 3000);
    // Exactly one of them leads again (whoever created first after the lapse).
    assert.equal([a.lease, c.lease].filter((l) => l.role === "master").length, 1);
  });

  test("a clock jump forward on a backup: its create fails while the master renews", async () => {
    const b = new FakeBucket();
    const a = instance(b, "a");
    const c = instance(b, "c");
    await run(b, [a.lease, c.lease], 500);
    assert.equal(a.lease.role, "master");
    const epoch = a.lease.epoch;
    c.skew.ms = 60_000;
    await run(b, [a.lease, c.lease], 3000);
    assert.equal(a.lease.role, "master");
    assert.equal(a.lease.epoch, epoch);
    assert.equal(c.lease.role, "backup");
  });

  test("a StepDown with a hold-off hands the lead to the backup and does not take it back during the hold-off", async () => {
    const b = new FakeBucket();
    const a = instance(b, "a");
    const c = instance(b, "c");
    await run(b, [a.lease, c.lease], 500);
    assert.equal(a.lease.role, "master");
    await a.lease.stepDown("operator", 3 * TTL);
    assert.equal(a.lease.role, "backup");
    await run(b, [a.lease, c.lease], POLL + 20);
    assert.equal(c.lease.role, "master", "the backup takes the freed key at its next poll");
    // Even with the key free again, the stepped-down instance stays out until its hold-off ends.
    await c.lease.stepDown("test");
    await run(b, [a.lease], 2 * TTL);
    assert.equal(a.lease.role, "backup");
    await run(b, [a.lease], TTL + 200);
    assert.equal(a.lease.role, "master", "after the hold-off it campaigns again");
  });

  test("release deletes the key (CAS): a backup takes it at its next poll, not after a TTL", async () => {
    const b = new FakeBucket();
    const a = instance(b, "a");
    const c = instance(b, "c");
    await run(b, [a.lease, c.lease], 500);
    await a.lease.release();
    let takenAfter = 0;
    await run(b, [a.lease, c.lease], 400, () => {
      if (c.lease.role !== "master") takenAfter += 10;
    });
    assert.equal(c.lease.role, "master");
    assert.ok(takenAfter <= POLL + 10, `taken ${takenAfter} ms after the release`);
  });

  test("claim refuses a key that a live holder renews, and takes one whose holder died", async () => {
    const b = new FakeBucket();
    const kvA = b.client();
    const live = new Lease(
      kvA,
      { key: "member.x", holder: "x", ttlMs: TTL, renewMs: RENEW, pollMs: POLL, marginMs: MARGIN, campaign: false },
      () => b.t,
    );
    await live.claim();
    assert.equal(live.role, "master");
    const twin = new Lease(
      b.client(),
      { key: "member.x", holder: "x", ttlMs: TTL, renewMs: RENEW, pollMs: POLL, marginMs: MARGIN, campaign: false },
      () => b.t,
    );
    // The sleep advances the clock and lets the live holder renew.
    const sleep = async (ms: number): Promise<void> => {
      for (let i = 0; i < ms; i += 10) {
        b.t += 10;
        await live.step();
      }
    };
    await assert.rejects(twin.claim(sleep), LeaseHeldError);
    // The holder dies (stops renewing): a new incarnation gets the key once it lapses.
    const next = new Lease(
      b.client(),
      { key: "member.x", holder: "x", ttlMs: TTL, renewMs: RENEW, pollMs: POLL, marginMs: MARGIN, campaign: false },
      () => b.t,
    );
    await next.claim(async (ms) => {
      b.t += ms;
      await Promise.resolve();
    });
    assert.equal(next.role, "master");
  });
});

describe("Lease.poke", () => {
  test("a backup poked after a release takes the lease at once, without waiting for its poll", async () => {
    const b = new FakeBucket();
    const a = instance(b, "a");
    const c = instance(b, "c");
    await run(b, [a.lease, c.lease], 50);
    assert.equal(a.lease.role, "master");
    assert.equal(c.lease.role, "backup");
    await a.lease.release();
    b.t += 1; // well inside c's poll interval
    await c.lease.step();
    assert.equal(c.lease.role, "backup", "a plain step waits for the poll interval");
    await c.lease.poke();
    assert.equal(c.lease.role, "master", "a poke reads and creates at once");
  });

  test("a poke does not take a held key, and a holder ignores it", async () => {
    const b = new FakeBucket();
    const a = instance(b, "a");
    const c = instance(b, "c");
    await run(b, [a.lease, c.lease], 50);
    const epoch = a.lease.epoch;
    await c.lease.poke();
    assert.equal(c.lease.role, "backup");
    await a.lease.poke();
    assert.equal(a.lease.role, "master");
    assert.equal(a.lease.epoch, epoch);
  });

  test("a poke does not break a hold-off: the instance that stepped down does not take the key back", async () => {
    const b = new FakeBucket();
    const a = instance(b, "a");
    await run(b, [a.lease], 50);
    await a.lease.stepDown("test", 10_000);
    b.t += 1;
    await a.lease.poke();
    assert.equal(a.lease.role, "backup");
  });
});
