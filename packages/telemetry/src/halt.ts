// A service that meets a block it must never apply — forged, replayed, corrupt, or signed by a
// sequencer outside the set in force (ledger's InvariantError) — stops at its last good block.
// It does not crash: a crash loop would hide the reason and take /metrics with it. It stays up
// with its own gRPC service NOT_SERVING (the process's overall health stays SERVING, so a
// liveness probe does not restart it into the same block), tally_halted{reason} at 1 for the
// TallyHalted alert, and one error log naming the block and the reason. An operator acts, then
// restarts it. Any other error is not a halt and is rethrown.
import { Gauge } from "prom-client";
import { registry } from "./metrics.js";

export const halted = new Gauge({
  name: "tally_halted",
  help:
    "1 while this service has stopped at its last good block because a block failed verification " +
    "(forged, replayed, corrupt, or signed outside the sequencer set in force), by reason code.",
  labelNames: ["reason"] as const,
  registers: [registry],
});

/** The reason code of an invariant violation (ledger's InvariantError), else undefined. */
export function invariantCode(e: unknown): string | undefined {
  if (!(e instanceof Error) || e.name !== "InvariantError") return undefined;
  const code = (e as Error & { code?: unknown }).code;
  return typeof code === "string" && code.length > 0 ? code : undefined;
}

/** What haltOnInvariant needs of the service. */
export interface HaltTarget {
  readonly log: { error(obj: object, msg: string): void };
  /** Marks the service's own gRPC service NOT_SERVING (not the overall status). */
  readonly notServing: () => void;
}

/** Halts on an invariant violation (see above) and returns its reason code; rethrows anything else. */
export function haltOnInvariant(e: unknown, t: HaltTarget): string {
  const reason = invariantCode(e);
  if (reason === undefined) throw e;
  halted.set({ reason }, 1);
  t.notServing();
  t.log.error(
    { err: e, reason },
    "halted at the last good block: a block failed verification; nothing after it is stored or applied " +
      "(see the TallyHalted runbook in docs/operations.md)",
  );
  return reason;
}
