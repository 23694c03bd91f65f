import { status, type ServerWritableStream } from "@grpc/grpc-js";
import { RegFeedServiceService, type EventFilter, type StreamEventsRequest, type StreamEventsResponse } from "@tally/proto/regfeed";
import type { EventCursor } from "@tally/proto/types";
import { drainedOrAborted, RpcError, wrapService } from "@tally/rpc";
import { FILTER_VALUE_LENGTH_MAX, FILTER_VALUES_MAX, type EventFeed } from "./event-feed.js";

const PAGE_EVENTS = 500;

/** Waits for the node's executor to commit more (or a poll interval). */
export type CommitWaiter = (signal: AbortSignal) => Promise<void>;

function checkFilter(f: EventFilter | undefined): void {
  if (f === undefined) return;
  for (const [name, values] of [
    ["contracts", f.contracts],
    ["types", f.types],
    ["parties", f.parties],
    ["asset_ids", f.assetIds],
  ] as const) {
    if (values.length > FILTER_VALUES_MAX)
      throw new RpcError(status.INVALID_ARGUMENT, `filter.${name} has more than ${FILTER_VALUES_MAX} values`, "BAD_FILTER");
    if (values.some((v) => v.length === 0 || v.length > FILTER_VALUE_LENGTH_MAX)) {
      throw new RpcError(status.INVALID_ARGUMENT, `filter.${name} values must be 1..${FILTER_VALUE_LENGTH_MAX} characters`, "BAD_FILTER");
    }
  }
}

/** Heights are int8 in the node's database; a cursor beyond that names no position that can exist. */
const HEIGHT_MAX = 2n ** 63n - 1n;

function checkCursor(c: EventCursor | undefined): void {
  if (c !== undefined && c.height > HEIGHT_MAX)
    throw new RpcError(status.INVALID_ARGUMENT, `after.height must be at most ${HEIGHT_MAX}`, "BAD_CURSOR");
}

/**
 * The regulator's StreamEvents: every event strictly after the cursor, in commit order,
 * then live. Events of a block become visible all at once, with the executor's commit,
 * so reading by cursor never skips one. The stream honours gRPC flow control.
 */
export function regfeedService(feed: EventFeed, waitForCommit: CommitWaiter) {
  return wrapService(RegFeedServiceService, {
    streamEvents: async (req: StreamEventsRequest, call: ServerWritableStream<StreamEventsRequest, StreamEventsResponse>) => {
      checkFilter(req.filter);
      checkCursor(req.after);
      const ac = new AbortController();
      call.on("cancelled", () => ac.abort());
      call.on("close", () => ac.abort());
      let cursor = req.after;
      while (!ac.signal.aborted) {
        const page = await feed.page(cursor, req.filter, PAGE_EVENTS);
        for (const event of page) {
          if (ac.signal.aborted) return;
          const ok = call.write({ event });
          cursor = event.cursor;
          if (!ok) await drainedOrAborted(call, ac.signal);
        }
        // A stream cancelled while its page was read must not start a wait nothing will end early.
        if (page.length < PAGE_EVENTS && !ac.signal.aborted) await waitForCommit(ac.signal);
      }
    },
  });
}
