// A JetStream publisher for hot paths. A JetStream publish is a core NATS publish with a reply
// subject; the stream answers with a PubAck. nats.js's js.publish makes each one a full request
// (a timer, a mux entry, and an Error built on every *successful* request when the request is
// cancelled after resolving), which measured ~10 % of the gateway's CPU under load. Here every
// publish shares one wildcard reply subscription, acks are matched by a counter in the reply
// subject, and timeouts are swept by one interval timer. Publishes in flight are bounded.
import {
  createInbox,
  headers as natsHeaders,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from "@nats-io/transport-node";

/** A stream's acknowledgement of one message. */
export interface PubAck {
  readonly stream: string;
  readonly seq: number;
  /** The stream already held a message with this msg id (within its duplicate window). */
  readonly duplicate: boolean;
}

/** A publish the stream refused, or that was not answered in time. */
export class PublishError extends Error {
  constructor(
    message: string,
    /** NATS status or JetStream API error code (503: no responders / not available), 408 on timeout. */
    readonly code: number,
  ) {
    super(message);
    this.name = "PublishError";
  }
}

interface Pending {
  readonly resolve: (a: PubAck) => void;
  readonly reject: (e: Error) => void;
  readonly deadline: number;
}

const SWEEP_MS = 25;
const decoder = new TextDecoder();

/** Publishes to JetStream streams over one connection, with one reply subscription for all. */
export class JetStreamPublisher {
  private readonly prefix: string;
  private readonly sub: Subscription;
  private readonly pending = new Map<number, Pending>();
  private readonly sweeper: NodeJS.Timeout;
  private seq = 0;

  constructor(
    private readonly nc: NatsConnection,
    /** Publishes awaiting their ack at most; past it, publish rejects at once. */
    private readonly inFlightMax = 16_384,
    /** The connection's inbox prefix (Bus.inboxPrefix), which its NATS user may subscribe to. */
    inboxPrefix?: string,
  ) {
    this.prefix = createInbox(inboxPrefix);
    this.sub = nc.subscribe(`${this.prefix}.*`, { callback: (err, m) => (err === null ? this.onReply(m) : undefined) });
    this.sweeper = setInterval(() => this.expire(), SWEEP_MS);
    this.sweeper.unref();
  }

  /** How many publishes await their ack. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Publishes `data` on `subject` and resolves with the stream's ack. `msgID` makes a retry of
   * the same message a duplicate the stream drops (Nats-Msg-Id). Rejects with PublishError.
   */
  publish(subject: string, data: Uint8Array, o: { msgID?: string; headers?: MsgHdrs; timeoutMs: number }): Promise<PubAck> {
    if (this.pending.size >= this.inFlightMax) {
      return Promise.reject(new PublishError(`more than ${this.inFlightMax} publishes await their ack`, 429));
    }
    const id = ++this.seq;
    const h = o.headers ?? natsHeaders();
    if (o.msgID !== undefined) h.set("Nats-Msg-Id", o.msgID);
    return new Promise<PubAck>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, deadline: Date.now() + o.timeoutMs });
      try {
        this.nc.publish(subject, data, { reply: `${this.prefix}.${id}`, headers: h });
      } catch (e) {
        this.pending.delete(id);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  private onReply(m: Msg): void {
    const id = Number(m.subject.slice(this.prefix.length + 1));
    const p = this.pending.get(id);
    if (p === undefined) return; // answered after its timeout: the caller has moved on
    this.pending.delete(id);
    if (m.headers?.hasError === true) {
      p.reject(new PublishError(`${m.headers.code} ${m.headers.description || "error"}`.trim(), m.headers.code));
      return;
    }
    try {
      const j = JSON.parse(decoder.decode(m.data)) as {
        stream?: string;
        seq?: number;
        duplicate?: boolean;
        error?: { code?: number; description?: string };
      };
      if (j.error !== undefined) p.reject(new PublishError(j.error.description ?? "publish refused", j.error.code ?? 500));
      else if (typeof j.stream !== "string" || typeof j.seq !== "number") p.reject(new PublishError("not a PubAck", 500));
      else p.resolve({ stream: j.stream, seq: j.seq, duplicate: j.duplicate === true });
    } catch {
      p.reject(new PublishError("unreadable PubAck", 500));
    }
  }

  private expire(): void {
    if (this.pending.size === 0) return;
    const now = Date.now();
    for (const [id, p] of this.pending) {
      if (p.deadline > now) continue;
      this.pending.delete(id);
      p.reject(new PublishError("timeout waiting for the stream's ack", 408));
    }
  }

  /** Stops the reply subscription; publishes still awaiting an ack are rejected. */
  close(): void {
    clearInterval(this.sweeper);
    this.sub.unsubscribe();
    for (const p of this.pending.values()) p.reject(new PublishError("publisher closed", 503));
    this.pending.clear();
  }
}
