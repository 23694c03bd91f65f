import { DeliverPolicy, type ConsumerMessages } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";
import type { Bus } from "./connect.js";
import { FOLLOW_EXPIRES_MS, FOLLOW_HEARTBEAT_MS, FOLLOW_STALL_MS } from "./names.js";

/** One stream message, in stream order. */
export interface OrderedMessage {
  readonly seq: number;
  readonly data: Uint8Array;
  /** The message's headers, only when the follower was asked for them (withHeaders). */
  readonly headers?: MsgHdrs;
}

export interface OrderedFollowOptions {
  /** How many messages the consumer may hold in flight. */
  readonly maxMessages: number;
  /** Pull expiry (FOLLOW_EXPIRES_MS). */
  readonly expiresMs?: number;
  /** The server's idle heartbeat on each pull (FOLLOW_HEARTBEAT_MS). */
  readonly heartbeatMs?: number;
  /** No message nor heartbeat for this long while waiting for one: the consumer is dead, recreate it (FOLLOW_STALL_MS). */
  readonly stallMs?: number;
  /** Yield each message's headers too (e.g. its trace context); off, they are never parsed. */
  readonly withHeaders?: boolean;
  /** Told of every recreation, with why. */
  readonly onRestart?: (why: string, fromSeq: number) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** JetStream err_code 10059: the stream itself does not exist. Not a fault to wait out. */
function isStreamNotFound(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  return err?.code === 10059 || (typeof err?.message === "string" && /stream not found/i.test(err.message));
}

/**
 * Reads a stream in order from a sequence with an ordered consumer, and keeps reading through
 * the loss of the server that hosts that consumer.
 *
 * An ordered consumer is an R1 consumer on one server (the stream leader's, in practice). When
 * that server dies, nats.js notices the missed heartbeats but only asks for the consumer's info,
 * which times out again and again for as long as the dead server stays down (it recreates the
 * consumer only on "consumer not found", i.e. once the server is back). Here a stall — no message
 * and no heartbeat for stallMs while waiting for the next message — closes that consumer and
 * creates a new one from the last yielded sequence + 1, retrying with backoff until the stream
 * has a leader again. So nothing is skipped or repeated, and recovery follows the stream's new
 * leader within about a heartbeat period instead of waiting for the dead server to return.
 */
export class OrderedFollower {
  private current: ConsumerMessages | undefined;
  private closed = false;
  private wakeClosed: (() => void) | undefined;
  /** How many times the consumer was recreated after a stall or a failure. */
  restarts = 0;

  constructor(
    private readonly bus: Bus,
    private readonly stream: string,
    private readonly opts: OrderedFollowOptions,
  ) {}

  /** Yields the stream's messages from fromSeq on, until close(). Throws only if the stream does not exist. */
  async *follow(fromSeq: number): AsyncGenerator<OrderedMessage> {
    const expires = this.opts.expiresMs ?? FOLLOW_EXPIRES_MS;
    const heartbeat = Math.min(this.opts.heartbeatMs ?? FOLLOW_HEARTBEAT_MS, Math.floor(expires / 2));
    const stallMs = this.opts.stallMs ?? FOLLOW_STALL_MS;
    let next = fromSeq;
    let failures = 0;
    const withHeaders = this.opts.withHeaders === true;
    while (!this.closed) {
      let messages: ConsumerMessages;
      let consumer: Awaited<ReturnType<Bus["js"]["consumers"]["get"]>>;
      try {
        consumer = await this.bus.js.consumers.get(this.stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: next });
        messages = await consumer.consume({ max_messages: this.opts.maxMessages, expires, idle_heartbeat: heartbeat });
      } catch (e) {
        if (this.closed) return;
        if (isStreamNotFound(e)) throw e;
        // No stream leader yet (timeouts, 503s) or no connection: try again soon.
        failures++;
        if (failures === 1) this.opts.onRestart?.(`cannot create the consumer: ${(e as Error).message}`, next);
        await this.pause(Math.min(100 * failures, 500));
        continue;
      }
      this.current = messages;
      if (this.closed) {
        // Not awaited: close() settles only once the iteration has seen it.
        void messages.close();
        return;
      }
      // Proof of life: a message, or anything the server sent on the pull (heartbeat, expiry).
      let aliveAt = Date.now();
      let waiting = true;
      let stalled = false;
      void (async () => {
        for await (const s of messages.status()) {
          if (s.type === "heartbeat" || s.type === "discard" || s.type === "debug") aliveAt = Date.now();
        }
      })().catch(() => undefined);
      let tickAt = Date.now();
      const tickMs = Math.max(50, Math.floor(stallMs / 5));
      const watchdog = setInterval(() => {
        const now = Date.now();
        // This process was not listening (a blocked event loop): do not blame the server for that.
        if (now - tickAt > 2 * tickMs) aliveAt = Math.max(aliveAt, now - tickMs);
        tickAt = now;
        if (waiting && !stalled && now - aliveAt > stallMs) {
          stalled = true;
          void messages.close();
        }
      }, tickMs);
      try {
        for await (const m of messages) {
          failures = 0;
          next = m.seq + 1;
          waiting = false;
          yield withHeaders && m.headers !== undefined ? { seq: m.seq, data: m.data, headers: m.headers } : { seq: m.seq, data: m.data };
          aliveAt = Date.now();
          waiting = true;
        }
      } catch (e) {
        if (this.closed) return;
        if (isStreamNotFound(e)) throw e;
        stalled = true;
        this.opts.onRestart?.(`consumer failed: ${(e as Error).message}`, next);
      } finally {
        clearInterval(watchdog);
      }
      if (this.closed) return;
      if (!stalled) {
        // nats.js ended the iteration by itself (e.g. it gave up recreating): start again.
        this.opts.onRestart?.("consumer ended", next);
      } else this.opts.onRestart?.(`no message or heartbeat for ${stallMs} ms`, next);
      this.restarts++;
      void messages.close();
      // The old consumer is R1, on a server that may be gone: deleting it may time out; unused, it expires anyway.
      consumer.delete().catch(() => undefined);
      await this.pause(failures === 0 ? 0 : 100);
    }
  }

  /**
   * Stops following: the consumer's subscription ends at once and follow() returns. Not waiting
   * for nats.js's close() to settle: that happens only once its iterator is read again, which
   * never comes if follow() was not being read (or had not started reading it).
   */
  close(): Promise<void> {
    this.closed = true;
    this.wakeClosed?.();
    void this.current?.close();
    return Promise.resolve();
  }

  /** Sleeps ms, or less if closed meanwhile. */
  private async pause(ms: number): Promise<void> {
    if (ms <= 0 || this.closed) return;
    await Promise.race([sleep(ms), new Promise<void>((r) => (this.wakeClosed = r))]);
    this.wakeClosed = undefined;
  }
}
