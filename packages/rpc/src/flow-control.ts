import type { ServerWritableStream } from "@grpc/grpc-js";

/**
 * Resolves when a server stream has room again ('drain'), or when the signal aborts: a
 * cancelled call never drains, so waiting for 'drain' alone could hang the handler forever.
 */
export function drainedOrAborted(call: Pick<ServerWritableStream<unknown, unknown>, "once" | "off">, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      call.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    call.once("drain", done);
    signal.addEventListener("abort", done, { once: true });
    if (signal.aborted) done();
  });
}
