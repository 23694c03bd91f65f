/** An operating error on the bus: NATS unavailable, a timeout, a refused publish. */
export class BusError extends Error {
  override readonly name = "BusError";
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** JetStream's error code for a publish whose expected last sequence did not match: the fence. */
export const WRONG_LAST_SEQUENCE = 10071;

/** True when a publish was refused because another writer appended first (the fencing check). */
export function isWrongLastSequence(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== "object") return false;
  // nats.js 3.x: JetStreamApiError.code is the JetStream err_code.
  if (e.code === WRONG_LAST_SEQUENCE) return true;
  return typeof e.message === "string" && e.message.includes("wrong last sequence");
}
