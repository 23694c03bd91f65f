// Where `tally watch` keeps its place: $TALLY_HOME/watch-cursor.json, the last event cursor and
// alert seq it printed. Written atomically (a temp file renamed over the old one), so a crash
// leaves either the old position or the new one, never a torn file.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EventCursor } from "@tally/proto/types";
import { tallyHome } from "../paths.js";

/** What `tally watch` saved. */
export interface WatchPosition {
  readonly events: EventCursor | undefined;
  readonly alertSeq: bigint;
}

/** The file, under TALLY_HOME unless told otherwise. */
export function watchCursorPath(home = tallyHome()): string {
  return join(home, "watch-cursor.json");
}

/** The saved position, or the start when there is none. A malformed file is an error, not a silent restart. */
export function loadPosition(path = watchCursorPath()): WatchPosition {
  if (!existsSync(path)) return { events: undefined, alertSeq: 0n };
  const raw = JSON.parse(readFileSync(path, "utf8")) as { events?: unknown; alertSeq?: unknown };
  const ev = raw.events;
  const m = typeof ev === "string" ? /^(\d+):(\d+):(\d+)$/.exec(ev) : null;
  if (ev !== null && ev !== undefined && m === null) throw new Error(`${path}: events must be "height:tx:event"`);
  if (typeof raw.alertSeq !== "string" || !/^\d+$/.test(raw.alertSeq)) throw new Error(`${path}: alertSeq must be a decimal string`);
  return {
    events: m === null ? undefined : { height: BigInt(m[1]!), txIndex: Number(m[2]), eventIndex: Number(m[3]) },
    alertSeq: BigInt(raw.alertSeq),
  };
}

/** Saves the position. */
export function savePosition(p: WatchPosition, path = watchCursorPath()): void {
  const events = p.events === undefined ? null : `${p.events.height}:${p.events.txIndex}:${p.events.eventIndex}`;
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ events, alertSeq: p.alertSeq.toString() })}\n`);
  renameSync(tmp, path);
}
