import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { encodeStatusDetails, STATUS_DETAILS_KEY } from "./status-details.js";

/**
 * An error meant for a gRPC caller: a status code, a stable reason, optional metadata (e.g.
 * retry-after-ms) and, when one request field is wrong, that field's proto path.
 */
export class RpcError extends Error {
  override readonly name = "RpcError";
  constructor(
    readonly code: status,
    message: string,
    readonly reason: string = status[code] ?? "UNKNOWN",
    readonly metadata: Record<string, string> = {},
    readonly field?: string,
  ) {
    super(message);
  }
}

/**
 * Maps any thrown value to what grpc-js sends: RpcErrors keep their status; anything else is
 * INTERNAL. The trailers carry `tally-reason`, any metadata, and a google.rpc.Status in
 * `grpc-status-details-bin` (ErrorInfo with the reason; BadRequest naming the wrong field).
 */
export function toServiceError(e: unknown): Partial<ServiceError> {
  const r = e instanceof RpcError ? e : new RpcError(status.INTERNAL, e instanceof Error ? e.message : String(e), "INTERNAL");
  const md = new Metadata();
  md.set("tally-reason", r.reason);
  for (const [k, v] of Object.entries(r.metadata)) md.set(k, v);
  md.set(
    STATUS_DETAILS_KEY,
    Buffer.from(
      encodeStatusDetails({
        code: r.code,
        message: r.message,
        reason: r.reason,
        metadata: r.metadata,
        ...(r.field !== undefined ? { field: r.field } : {}),
      }),
    ),
  );
  return { code: r.code, details: r.message, metadata: md };
}
