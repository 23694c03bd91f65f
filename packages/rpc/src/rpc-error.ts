import { Metadata, status, type ServiceError } from "@grpc/grpc-js";

/** An error meant for a gRPC caller: a status code, a reason, and optional metadata (e.g. retry-after). */
export class RpcError extends Error {
  override readonly name = "RpcError";
  constructor(
    readonly code: status,
    message: string,
    readonly reason: string = status[code] ?? "UNKNOWN",
    readonly metadata: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Maps any thrown value to what grpc-js sends: RpcErrors keep their status; anything else is INTERNAL. */
export function toServiceError(e: unknown): Partial<ServiceError> {
  const md = new Metadata();
  if (e instanceof RpcError) {
    md.set("tally-reason", e.reason);
    for (const [k, v] of Object.entries(e.metadata)) md.set(k, v);
    return { code: e.code, details: e.message, metadata: md };
  }
  md.set("tally-reason", "INTERNAL");
  return { code: status.INTERNAL, details: e instanceof Error ? e.message : String(e), metadata: md };
}
