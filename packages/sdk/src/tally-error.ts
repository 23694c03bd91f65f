// The SDK's one error type. Every failed call becomes a TallyError with the gRPC status code and
// Tally's stable reason code, read from the `tally-reason` trailer or from a google.rpc.Status in
// `grpc-status-details-bin` (ErrorInfo.reason, BadRequest's first field violation).
import { status, type Metadata, type ServiceError } from "@grpc/grpc-js";
import { decodeStatusDetails, STATUS_DETAILS_KEY } from "@tally/rpc";

/** A failed call or a rejected proof, with the gRPC status and Tally's stable reason code. */
export class TallyError extends Error {
  override readonly name = "TallyError";
  constructor(
    /** A gRPC status code; OK never appears. */
    readonly code: status,
    /** Tally's stable reason code, e.g. INSUFFICIENT_FUNDS, BAD_SIGNATURE, PROOF_BAD_PATH; "" if the server gave none. */
    readonly reason: string,
    message: string,
    /** Extra facts: the wrong field, the server's retry-after hint, the attempts made. */
    readonly details: TallyErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }

  /** True for the statuses the client retries by itself: UNAVAILABLE and RESOURCE_EXHAUSTED. */
  get retryable(): boolean {
    return this.code === status.UNAVAILABLE || this.code === status.RESOURCE_EXHAUSTED;
  }
}

/** What a TallyError may say besides its code and reason. */
export interface TallyErrorDetails {
  /** The request field that is wrong, when the server named one (google.rpc.BadRequest). */
  readonly field?: string;
  /** The server's hint (`retry-after-ms` trailer) of how long to wait before trying again. */
  readonly retryAfterMs?: number;
  /** How many attempts were made, when retries gave up. */
  readonly attempts?: number;
  readonly cause?: unknown;
}

// The google.rpc.Status the gateway sends; undecodable details add nothing (the code and trailers still stand).
function statusDetailsOf(bin: unknown): { reason?: string; field?: string; message?: string; retryAfterMs?: string } {
  if (!(bin instanceof Uint8Array)) return {};
  try {
    const d = decodeStatusDetails(bin);
    return {
      ...(d.reason === "" ? {} : { reason: d.reason }),
      ...(d.field === undefined ? {} : { field: d.field }),
      ...(d.message === "" ? {} : { message: d.message }),
      ...(d.metadata["retry-after-ms"] === undefined ? {} : { retryAfterMs: d.metadata["retry-after-ms"] }),
    };
  } catch {
    return {};
  }
}

function metadataString(md: Metadata | undefined, key: string): string | undefined {
  const v = md?.get(key)[0];
  return v === undefined ? undefined : typeof v === "string" ? v : new TextDecoder().decode(v);
}

/** The server's retry-after-ms hint, if it gave a sane one (0 to 60 s). */
export function retryAfterMsOf(md: Metadata | undefined, fallback?: string): number | undefined {
  const v = metadataString(md, "retry-after-ms") ?? fallback;
  if (v === undefined || !/^[0-9]{1,6}$/.test(v)) return undefined;
  return Math.min(Number(v), 60_000);
}

/** Maps a grpc-js ServiceError to a TallyError; anything else is returned as it is. */
export function toTallyError(e: unknown): unknown {
  if (e instanceof TallyError) return e;
  const se = e as Partial<ServiceError>;
  if (typeof se.code !== "number") return e;
  const fromStatus = statusDetailsOf(se.metadata?.get(STATUS_DETAILS_KEY)[0]);
  const reason = metadataString(se.metadata, "tally-reason") || fromStatus.reason || "";
  const retryAfterMs = retryAfterMsOf(se.metadata, fromStatus.retryAfterMs);
  const text = se.details ?? fromStatus.message ?? se.message ?? "";
  return new TallyError(se.code, reason, `${reason || (status[se.code] ?? se.code)}: ${text}`, {
    ...(fromStatus.field === undefined ? {} : { field: fromStatus.field }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}
