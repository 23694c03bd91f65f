// Who is calling the regulator feed. The gateway's mTLS identity is being built (issue 6/13);
// until the regfeed terminates mTLS itself, the caller names itself in a metadata header, and the
// access log records that claim. It is an attribution, not an authentication: see docs/regfeed.md.
import type { Metadata } from "@grpc/grpc-js";
import { isValidId } from "@tally/ledger";

/** The metadata header a caller names itself in. */
export const CALLER_HEADER = "tally-caller";

/** Recorded when no (or no valid) caller header is sent. */
export const ANONYMOUS_CALLER = "anonymous";

/** The caller a request names, or ANONYMOUS_CALLER; a malformed name is recorded as `invalid:<first 64 chars>`. */
export function callerOf(md: Metadata): string {
  const v = md.get(CALLER_HEADER)[0];
  if (typeof v !== "string" || v === "") return ANONYMOUS_CALLER;
  return isValidId(v) ? v : `invalid:${v.slice(0, 64).replace(/[^\x20-\x7e]/g, "?")}`;
}
