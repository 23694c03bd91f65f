import { randomBytes } from "node:crypto";
import type { KV } from "@nats-io/kv";
import { isWrongLastSequence } from "@tally/bus";
import type { Logger } from "@tally/telemetry";

/** One value of a key, as the KV store holds it. */
export interface LeaseEntry {
  readonly revision: number;
  readonly value: Uint8Array;
}

/**
 * The few KV operations a lease needs, so that its logic runs without NATS in unit tests.
 * Every write is conditional. A condition that does not hold throws LeaseConflictError;
 * anything else thrown (a 503, a timeout) is transient.
 */
export interface LeaseKv {
  /** The key's current value, or null when it is absent, lapsed (bucket TTL) or deleted. */
  get(key: string): Promise<LeaseEntry | null>;
  /** Writes the key only if it is absent; resolves with the new revision. */
  create(key: string, value: Uint8Array): Promise<number>;
  /** Writes the key only if its revision is still `revision`; resolves with the new one. */
  update(key: string, value: Uint8Array, revision: number): Promise<number>;
  /** Deletes the key only if its revision is still `revision`. */
  delete(key: string, revision: number): Promise<void>;
}

/** A conditional write whose condition did not hold: someone else wrote the key. */
export class LeaseConflictError extends Error {
  override readonly name = "LeaseConflictError";
}

/** Another live instance heartbeats the key this one wanted to claim. */
export class LeaseHeldError extends Error {
  override readonly name = "LeaseHeldError";
}

/** One tenure as holder: the epoch is the lease revision at acquisition (monotonic). */
export interface Term {
  readonly epoch: bigint;
  /** Aborted when the tenure ends (deadline passed, lease taken, stepped down, released). */
  readonly signal: AbortSignal;
  /**
   * A takeover: how long before this term was handed out the previous holder was last seen
   * alive (its last renewal this instance saw). Undefined when no earlier holder was seen.
   */
  readonly leaderlessMs?: number;
}

/** What the sequencer needs from its lease: wait to lead, and give the lead up. */
export interface Leadership {
  /** Resolves with the current term once this instance holds the lease; undefined once stop aborts. */
  nextTerm(stop: AbortSignal): Promise<Term | undefined>;
  /** Ends the current term (if any) and releases the lease so that a backup takes it at once; holdOffMs: keep off it that long. */
  stepDown(reason: string, holdOffMs?: number): Promise<void>;
}

/** A fixed term that never ends: one sequencer leading on its own (tests, single-node runs). */
export function staticLeadership(epoch: bigint): Leadership {
  const term: Term = { epoch, signal: new AbortController().signal };
  return {
    nextTerm: (stop) => Promise.resolve(stop.aborted ? undefined : term),
    stepDown: () => Promise.resolve(),
  };
}

export interface LeaseOptions {
  readonly key: string;
  /** Who holds it (written as the value, for operators). */
  readonly holder: string;
  /** The bucket TTL: a key not renewed for this long vanishes. */
  readonly ttlMs?: number;
  /** How often the holder renews. */
  readonly renewMs?: number;
  /** How often a backup reads the key. */
  readonly pollMs?: number;
  /** The holder stops leading at lastOk + ttl − margin: slack for clock rate and scheduling. */
  readonly marginMs?: number;
  /** False for a key this instance claims once (claim()) and never campaigns for again. */
  readonly campaign?: boolean;
  /**
   * Asked before each attempt to take the key: false keeps this backup off it (a sequencer that
   * is not in the sequencer set in force). It still reads the key.
   */
  readonly mayCampaign?: () => boolean;
}

export type Role = "master" | "backup";

/** Why a term ended. */
export type TermEnd = "expired" | "taken" | "stepdown" | "released";

interface Held {
  readonly role: "master";
  readonly epoch: bigint;
  revision: number;
  /** When the last successful write was SENT (local clock): the server's TTL runs from later. */
  lastOk: number;
  readonly term: AbortController;
  /** When the previous holder was last seen alive, if one was (a takeover). */
  readonly previousSeenAt: number | undefined;
}
interface Watching {
  readonly role: "backup";
  /** The last revision seen, and when this instance first saw it. */
  seen: { revision: number; at: number } | undefined;
}

export const LEASE_DEFAULTS = { ttlMs: 1300, renewMs: 260, pollMs: 100, marginMs: 216 } as const;

/**
 * A lease on one KV key in a bucket with a TTL (nats-server 2.9: no per-key TTL, and a lapsed
 * key vanishes without telling watchers).
 *
 * - The holder renews with update(revision) every renewMs. A conflict means someone else wrote
 *   the key: the term ends at once. Any other failure is transient; the holder keeps trying and
 *   ends its term only at its local deadline lastOk + ttl − margin, where lastOk is the send
 *   time of its last successful write (the server's TTL starts no earlier).
 * - A backup reads the key every pollMs and times the last revision it saw from when it first
 *   saw it. When the key is absent (released or lapsed) or that timer has run out, it tries
 *   create(); only one create can win. A backup whose clock runs fast just gets conflicts until
 *   the key really lapses.
 *
 * The logic is driven by step(), which does at most one KV operation at a time; start() calls
 * it on a timer. Unit tests call step() themselves with an injected clock.
 */
export class Lease implements Leadership {
  readonly ttlMs: number;
  readonly renewMs: number;
  readonly pollMs: number;
  readonly marginMs: number;
  private state: Held | Watching = { role: "backup", seen: undefined };
  private busy: Promise<void> | undefined;
  private lastOpAt = Number.NEGATIVE_INFINITY;
  /** Send time of a create whose outcome is unknown (transient failure): it may have landed. */
  private createdAt: number | undefined;
  private closed = false;
  private holdOffUntil = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private waiters = new Set<() => void>();
  private readonly value: Uint8Array;
  private readonly listeners: ((role: Role, why: TermEnd | "acquired", epoch: bigint) => void)[] = [];

  constructor(
    private readonly kv: LeaseKv,
    private readonly opts: LeaseOptions,
    private readonly now: () => number,
    private readonly log?: Logger,
  ) {
    this.ttlMs = opts.ttlMs ?? LEASE_DEFAULTS.ttlMs;
    this.renewMs = opts.renewMs ?? LEASE_DEFAULTS.renewMs;
    this.pollMs = opts.pollMs ?? LEASE_DEFAULTS.pollMs;
    this.marginMs = opts.marginMs ?? LEASE_DEFAULTS.marginMs;
    if (!(this.renewMs > 0 && this.renewMs + this.marginMs < this.ttlMs))
      throw new RangeError(
        `lease ${opts.key}: need 0 < renewMs (${this.renewMs}) and renewMs + marginMs (${this.marginMs}) < ttlMs (${this.ttlMs})`,
      );
    // A nonce makes each incarnation's value distinct (two writes of one holder are still two revisions).
    this.value = new TextEncoder().encode(JSON.stringify({ holder: opts.holder, nonce: randomBytes(6).toString("hex") }));
  }

  get role(): Role {
    return this.state.role;
  }

  /** The epoch of the current term, or undefined when not holding. */
  get epoch(): bigint | undefined {
    return this.state.role === "master" ? this.state.epoch : undefined;
  }

  /** The local deadline of the current term. */
  get deadline(): number | undefined {
    return this.state.role === "master" ? this.state.lastOk + this.ttlMs - this.marginMs : undefined;
  }

  /** Called on every role change. */
  onChange(f: (role: Role, why: TermEnd | "acquired", epoch: bigint) => void): void {
    this.listeners.push(f);
  }

  /** Drives step() on a timer until release(). */
  start(tickMs = Math.max(5, Math.min(25, Math.floor(this.marginMs / 4)))): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setInterval(() => void this.step(), tickMs);
    void this.step();
  }

  /**
   * A backup's nudge: the key was seen deleted or purged (a master released it), so read it now
   * instead of at the next poll. The read and create follow the usual rules (hold-off included);
   * a holder ignores it.
   */
  poke(): Promise<void> {
    if (this.state.role !== "backup") return Promise.resolve();
    this.lastOpAt = Number.NEGATIVE_INFINITY;
    return this.step();
  }

  /**
   * One step: end the term if its deadline has passed; then, unless an operation is in flight
   * or none is due yet, renew (holder) or read the key and maybe create it (backup). Resolves
   * when the operation it started (if any) has settled.
   */
  step(): Promise<void> {
    this.checkDeadline();
    if (this.closed || this.busy !== undefined) return Promise.resolve();
    if (this.state.role === "backup" && this.opts.campaign === false) return Promise.resolve();
    const now = this.now();
    const every = this.state.role === "master" ? this.renewMs : this.pollMs;
    // A clock that went backwards makes the operation due at once.
    if (now - this.lastOpAt < every && now >= this.lastOpAt) return Promise.resolve();
    this.lastOpAt = now;
    const op = this.state.role === "master" ? this.renew(this.state) : this.observe(this.state);
    this.busy = op.finally(() => {
      this.busy = undefined;
      this.checkDeadline();
    });
    return this.busy;
  }

  /** Ends the term once the local deadline has passed (the lease may lapse on the server any time after). */
  checkDeadline(): void {
    const s = this.state;
    if (s.role === "master" && this.now() >= s.lastOk + this.ttlMs - this.marginMs) this.endTerm(s, "expired");
  }

  async nextTerm(stop: AbortSignal): Promise<Term | undefined> {
    for (;;) {
      if (stop.aborted || this.closed) return undefined;
      const s = this.state;
      if (s.role === "master" && !s.term.signal.aborted)
        return {
          epoch: s.epoch,
          signal: s.term.signal,
          ...(s.previousSeenAt === undefined ? {} : { leaderlessMs: Math.max(0, this.now() - s.previousSeenAt) }),
        };
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.waiters.delete(done);
          stop.removeEventListener("abort", done);
          resolve();
        };
        this.waiters.add(done);
        stop.addEventListener("abort", done, { once: true });
      });
    }
  }

  /**
   * Ends the term now (CAS delete, so a backup takes over at its next poll). With holdOffMs,
   * this instance does not campaign again for that long, so an operator's StepDown really
   * moves the lead elsewhere instead of this instance re-taking the free key.
   */
  async stepDown(reason: string, holdOffMs = 0): Promise<void> {
    if (holdOffMs > 0) this.holdOffUntil = this.now() + holdOffMs;
    await this.giveUp("stepdown", reason);
  }

  /** Stops campaigning and renewing; if holding, deletes the key (CAS) so a backup takes over at once. */
  async release(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.giveUp("released", "release");
    for (const w of [...this.waiters]) w();
  }

  /**
   * Claims a key that no other live instance holds, for a presence check: create it; if it
   * exists, watch it for up to a TTL. A new revision means a live holder heartbeats it:
   * LeaseHeldError. A key that lapses (a dead incarnation's) is created. Then this lease holds
   * it and renews it (with campaign: false it never campaigns again on its own). Waits as long
   * as NATS is unreachable.
   */
  async claim(sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))): Promise<void> {
    let first: number | undefined;
    while (!this.closed) {
      const sentAt = this.now();
      try {
        this.acquire(await this.kv.create(this.opts.key, this.value), sentAt);
        return;
      } catch (e) {
        if (!(e instanceof LeaseConflictError))
          this.log?.warn({ err: (e as Error).message, key: this.opts.key }, "claim: transient KV error");
      }
      const cur = await this.kv.get(this.opts.key).catch(() => undefined);
      if (cur !== undefined && cur !== null) {
        if (this.isOurs(cur)) {
          // Still our own key (renewals failed for a while): nobody else wrote it since.
          const at = this.now();
          const rev = await this.kv.update(this.opts.key, this.value, cur.revision).catch(() => undefined);
          if (rev !== undefined) {
            this.acquire(rev, at);
            return;
          }
        } else if (first === undefined) first = cur.revision;
        else if (cur.revision !== first)
          throw new LeaseHeldError(`key ${this.opts.key} is renewed by a live holder: ${new TextDecoder().decode(cur.value)}`);
      }
      await sleep(Math.min(this.pollMs, this.renewMs / 2));
    }
  }

  private async giveUp(why: TermEnd, reason: string): Promise<void> {
    // Let a renewal in flight settle first, so the delete carries the latest revision.
    await this.busy;
    const s = this.state;
    if (s.role !== "master") return;
    this.endTerm(s, why, reason);
    try {
      await this.kv.delete(this.opts.key, s.revision);
    } catch (e) {
      // Lapsed or taken meanwhile (conflict), or NATS trouble: it lapses on its own.
      this.log?.warn({ err: (e as Error).message, key: this.opts.key }, "lease release failed; it will lapse");
    }
  }

  private async renew(s: Held): Promise<void> {
    const sentAt = this.now();
    try {
      const rev = await this.kv.update(this.opts.key, this.value, s.revision);
      if (this.state !== s) {
        // The deadline passed while this renewal was in flight: we no longer lead, so let go.
        await this.kv.delete(this.opts.key, rev).catch(() => undefined);
        return;
      }
      s.revision = rev;
      s.lastOk = sentAt;
    } catch (e) {
      if (this.state !== s) return;
      if (!(e instanceof LeaseConflictError)) {
        this.log?.warn({ err: (e as Error).message, key: this.opts.key }, "lease renewal failed (transient)");
        return;
      }
      // A renewal whose ack was lost may have landed: then the key holds our own value at a
      // newer revision, and we carry on from it (lastOk stays at the last acknowledged send).
      const cur = await this.kv.get(this.opts.key).catch(() => undefined);
      if (this.state !== s) return;
      if (cur !== undefined && cur !== null && cur.revision > s.revision && this.isOurs(cur)) s.revision = cur.revision;
      else if (cur !== undefined) this.endTerm(s, "taken");
    }
  }

  private isOurs(e: LeaseEntry): boolean {
    return e.value.length === this.value.length && e.value.every((b, i) => b === this.value[i]);
  }

  private async observe(s: Watching): Promise<void> {
    let cur: LeaseEntry | null;
    try {
      cur = await this.kv.get(this.opts.key);
    } catch (e) {
      this.log?.warn({ err: (e as Error).message, key: this.opts.key }, "lease read failed (transient)");
      return;
    }
    const now = this.now();
    // Our own create whose ack was lost: the key is ours since that send.
    if (cur !== null && this.createdAt !== undefined && this.isOurs(cur)) {
      this.acquire(cur.revision, this.createdAt, s.seen?.at);
      return;
    }
    if (cur !== null && cur.revision !== s.seen?.revision) {
      s.seen = { revision: cur.revision, at: now };
      return;
    }
    // Absent, or the revision we have been timing has outlived the TTL by our clock.
    if (cur !== null && s.seen !== undefined && now < s.seen.at + this.ttlMs) return;
    // Told to step down and stay down for a while.
    if (now < this.holdOffUntil) return;
    if (this.opts.mayCampaign?.() === false) return;
    const sentAt = this.now();
    this.createdAt = sentAt;
    try {
      const rev = await this.kv.create(this.opts.key, this.value);
      if (this.state === s && !this.closed) this.acquire(rev, sentAt, s.seen?.at);
      else await this.kv.delete(this.opts.key, rev).catch(() => undefined);
    } catch (e) {
      // A conflict: someone else took it, or it has not lapsed yet. Keep polling.
      if (e instanceof LeaseConflictError) this.createdAt = undefined;
      if (!(e instanceof LeaseConflictError))
        this.log?.warn({ err: (e as Error).message, key: this.opts.key }, "lease create failed (transient)");
    }
  }

  private acquire(revision: number, sentAt: number, previousSeenAt?: number): void {
    this.createdAt = undefined;
    const epoch = BigInt(revision);
    this.state = { role: "master", epoch, revision, lastOk: sentAt, term: new AbortController(), previousSeenAt };
    this.lastOpAt = sentAt;
    this.log?.info({ key: this.opts.key, epoch: epoch.toString() }, "lease acquired");
    for (const f of this.listeners) f("master", "acquired", epoch);
    for (const w of [...this.waiters]) w();
  }

  private endTerm(s: Held, why: TermEnd, reason: string = why): void {
    if (this.state !== s) return;
    // Time the key from the last write we know of: it lapses ttl after it on the server.
    this.state = { role: "backup", seen: { revision: s.revision, at: s.lastOk } };
    s.term.abort(new Error(`lease term ${s.epoch} ended: ${reason}`));
    this.log?.warn({ key: this.opts.key, epoch: s.epoch.toString(), why: reason }, "lease term ended");
    for (const f of this.listeners) f("backup", why, s.epoch);
    for (const w of [...this.waiters]) w();
  }
}

/** The lease port over a NATS KV bucket (@nats-io/kv), with a per-operation timeout. */
export function natsLeaseKv(kv: KV, opTimeoutMs = 500): LeaseKv {
  const conflict = (e: unknown): never => {
    if (isWrongLastSequence(e)) throw new LeaseConflictError((e as Error).message, { cause: e });
    throw e;
  };
  const withTimeout = <T>(p: Promise<T>): Promise<T> => {
    let t: NodeJS.Timeout | undefined;
    return Promise.race([
      p,
      new Promise<never>((_, reject) => {
        t = setTimeout(() => reject(new Error(`KV operation timed out after ${opTimeoutMs} ms`)), opTimeoutMs);
      }),
    ]).finally(() => clearTimeout(t));
  };
  return {
    async get(key) {
      const e = await withTimeout(kv.get(key));
      if (e === null || e.operation !== "PUT") return null;
      return { revision: e.revision, value: e.value };
    },
    create: (key, value) => withTimeout(kv.create(key, value)).catch(conflict),
    update: (key, value, revision) => withTimeout(kv.update(key, value, revision, opTimeoutMs)).catch(conflict),
    delete: (key, revision) => withTimeout(kv.delete(key, { previousSeq: revision })).catch(conflict),
  };
}

/**
 * Calls onRelease whenever the key is deleted or purged (a graceful release), so a backup reacts
 * at once instead of at its next poll. Best effort: polling stays the safety net, and a watch
 * that ends (NATS trouble) is started again until stop is aborted.
 */
export function watchReleases(kv: KV, key: string, onRelease: () => void, stop: AbortSignal, log?: Logger): void {
  void (async () => {
    while (!stop.aborted) {
      try {
        const w = await kv.watch({ key, include: "updates" });
        stop.addEventListener("abort", () => w.stop(), { once: true });
        for await (const e of w) if (e.operation !== "PUT") onRelease();
      } catch (e) {
        log?.debug({ err: (e as Error).message }, `lease watch on ${key} ended; starting it again`);
      }
      if (!stop.aborted) await new Promise((r) => setTimeout(r, 250));
    }
  })();
}
