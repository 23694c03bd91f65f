import { Metadata, status, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import type { Alert, StreamAlertsResponse, StreamEventsResponse } from "@tally/proto/regfeed";
import type { Event, EventCursor } from "@tally/proto/types";
import { regfeedClient } from "../clients.js";
import { formatAlert, formatEvent } from "../format.js";
import { readNetwork } from "../paths.js";
import { loadPosition, savePosition, watchCursorPath, type WatchPosition } from "./watch-cursor.js";

/** Parses a cursor written as height:txIndex:eventIndex. */
export function parseCursor(s: string | undefined): EventCursor | undefined {
  if (s === undefined) return undefined;
  const m = /^(\d+):(\d+):(\d+)$/.exec(s);
  if (m === null) throw new Error(`cursor must be height:tx:event, got ${s}`);
  return { height: BigInt(m[1]!), txIndex: Number(m[2]), eventIndex: Number(m[3]) };
}

/** A running feed subscription. */
export interface Watch {
  /** Resolves with an exit code when the streams end. */
  readonly done: Promise<number>;
  stop(): void;
}

/** How often the saved position is written while events flow. */
const SAVE_EVERY_MS = 250;

/** Events per response: fewer, larger messages while catching up; live, a response holds what one commit brought. */
const WATCH_BATCH_MAX = 100;

/** The header `tally watch` names itself with in the regulator feed's access log. */
const CALLER = "tally-watch";

export interface WatchOptions {
  after?: EventCursor;
  contracts?: string[];
  minAmount?: string;
  limitMs?: number;
  /** Also follow alerts (after alertSeq). */
  alerts?: boolean;
  alertSeq?: bigint;
  /** Save the position here as it advances (`tally watch` does; the demo does not). */
  savePath?: string;
  onEvent?: (e: Event) => void;
  onAlert?: (a: Alert) => void;
}

/**
 * Follows the regulator feed, printing each event (and alert), until stop(), `limitMs`, or
 * Ctrl-C. A stream cut off as SUBSCRIBER_TOO_SLOW, or broken by a regfeed restart, is
 * reopened after the last cursor printed, so nothing is printed twice or skipped.
 */
export function startWatch(opts: WatchOptions): Watch {
  const net = readNetwork();
  const client = regfeedClient(net);
  const md = new Metadata();
  md.set("tally-caller", CALLER);
  const pos: { events: EventCursor | undefined; alertSeq: bigint } = { events: opts.after, alertSeq: opts.alertSeq ?? 0n };
  let stopped = false;
  let lastSave = 0;
  const save = (force: boolean): void => {
    if (opts.savePath === undefined) return;
    const now = Date.now();
    if (!force && now - lastSave < SAVE_EVERY_MS) return;
    lastSave = now;
    savePosition(pos, opts.savePath);
  };
  const calls = new Set<{ cancel(): void }>();
  const retryable = (e: ServiceError): boolean =>
    e.code === status.UNAVAILABLE || (e.code === status.RESOURCE_EXHAUSTED && e.metadata?.get("tally-reason")[0] === "SUBSCRIBER_TOO_SLOW");

  /** Follows one stream, reopening it after retryable failures; resolves with an exit code. */
  const follow = <M>(open: () => ClientReadableStream<M>, onData: (m: M) => void, what: string) =>
    new Promise<number>((resolve) => {
      const once = (): void => {
        const call = open();
        calls.add(call);
        call.on("data", (m: M) => onData(m));
        call.on("error", (e: ServiceError) => {
          calls.delete(call);
          if (stopped || e.code === status.CANCELLED) return resolve(0);
          if (retryable(e)) {
            console.error(`regfeed ${what}: ${e.details}; resuming from the last position`);
            setTimeout(once, 1000);
            return;
          }
          console.error(`regfeed ${what}: ${e.details ?? "stream failed"}`);
          resolve(1);
        });
        call.on("end", () => {
          calls.delete(call);
          resolve(0);
        });
      };
      once();
    });

  const filter = { contracts: opts.contracts ?? [], types: [], parties: [], assetIds: [], minAmount: opts.minAmount ?? "" };
  const events = follow<StreamEventsResponse>(
    () => client.streamEvents({ filter, after: pos.events, finalOnly: false, batchMax: WATCH_BATCH_MAX }, md),
    (m) => {
      for (const e of m.event === undefined ? m.events : [m.event]) {
        console.log(formatEvent(e));
        pos.events = e.cursor;
        opts.onEvent?.(e);
      }
      save(false);
    },
    "events",
  );
  const alerts =
    opts.alerts === true
      ? follow<StreamAlertsResponse>(
          () => client.streamAlerts({ afterSeq: pos.alertSeq, unackedOnly: false }, md),
          (m) => {
            if (m.alert === undefined) return;
            console.log(formatAlert(m.alert));
            pos.alertSeq = m.alert.seq;
            save(false);
            opts.onAlert?.(m.alert);
          },
          "alerts",
        )
      : Promise.resolve(0);
  const stop = (): void => {
    stopped = true;
    for (const c of calls) c.cancel();
  };
  const t = opts.limitMs === undefined ? undefined : setTimeout(stop, opts.limitMs);
  const done = Promise.all([events, alerts]).then((codes) => {
    clearTimeout(t);
    save(true);
    client.close();
    return Math.max(...codes);
  });
  return { done, stop };
}

/**
 * `tally watch`: the live feed and alerts, resuming from the position saved in
 * $TALLY_HOME/watch-cursor.json (unless --after or --from-start say otherwise).
 */
export function watch(opts: {
  after?: EventCursor;
  fromStart?: boolean;
  contracts?: string[];
  minAmount?: string;
  alerts?: boolean;
}): Promise<number> {
  const path = watchCursorPath();
  const saved: WatchPosition = opts.fromStart === true ? { events: undefined, alertSeq: 0n } : loadPosition(path);
  const after = opts.after ?? saved.events;
  if (after !== undefined)
    console.error(`resuming after ${after.height}:${after.txIndex}:${after.eventIndex} (alerts after #${saved.alertSeq})`);
  const w = startWatch({
    ...opts,
    after,
    alertSeq: saved.alertSeq,
    alerts: opts.alerts ?? true,
    savePath: path,
  });
  process.once("SIGINT", () => w.stop());
  process.once("SIGTERM", () => w.stop());
  return w.done;
}
