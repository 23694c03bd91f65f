import { Metadata } from "@grpc/grpc-js";
import type { Event, EventCursor } from "@tally/proto/types";
import { regfeedClient } from "../clients.js";
import { formatEvent } from "../format.js";
import { readNetwork } from "../paths.js";

/** Parses a cursor written as height:txIndex:eventIndex. */
export function parseCursor(s: string | undefined): EventCursor | undefined {
  if (s === undefined) return undefined;
  const m = /^(\d+):(\d+):(\d+)$/.exec(s);
  if (m === null) throw new Error(`cursor must be height:tx:event, got ${s}`);
  return { height: BigInt(m[1]!), txIndex: Number(m[2]), eventIndex: Number(m[3]) };
}

/** A running feed subscription. */
export interface Watch {
  /** Resolves with an exit code when the stream ends. */
  readonly done: Promise<number>;
  stop(): void;
}

/**
 * Follows the regulator feed, printing each event, until stop(), `limitMs`, or Ctrl-C.
 */
export function startWatch(opts: { after?: EventCursor; contracts?: string[]; limitMs?: number; onEvent?: (e: Event) => void }): Watch {
  const net = readNetwork();
  const client = regfeedClient(net);
  const call = client.streamEvents(
    { filter: { contracts: opts.contracts ?? [], types: [], parties: [], assetIds: [] }, after: opts.after },
    new Metadata(),
  );
  const done = new Promise<number>((resolve) => {
    const t = opts.limitMs === undefined ? undefined : setTimeout(() => call.cancel(), opts.limitMs);
    call.on("data", (m: { event?: Event }) => {
      if (m.event === undefined) return;
      console.log(formatEvent(m.event));
      opts.onEvent?.(m.event);
    });
    call.on("error", (e: { code?: number; details?: string }) => {
      clearTimeout(t);
      client.close();
      // CANCELLED is our own stop.
      if (e.code === 1) resolve(0);
      else {
        console.error(`regfeed: ${e.details ?? "stream failed"}`);
        resolve(1);
      }
    });
    call.on("end", () => {
      clearTimeout(t);
      client.close();
      resolve(0);
    });
  });
  return { done, stop: () => call.cancel() };
}

/** `tally watch`. */
export function watch(opts: { after?: EventCursor; contracts?: string[] }): Promise<number> {
  return startWatch(opts).done;
}
