import {
  credentials,
  InterceptingCall,
  Metadata,
  type CallOptions,
  type ClientReadableStream,
  type Interceptor,
  type ServiceError,
} from "@grpc/grpc-js";

/** Plaintext channel credentials, for loopback development and the insecure mode. */
export const insecure = credentials.createInsecure;

/** A deadline ms from now, for CallOptions. */
export function deadlineIn(ms: number): CallOptions {
  return { deadline: new Date(Date.now() + ms) };
}

/** Invokes one unary call with the given metadata, options and callback. */
export type UnaryInvoker<Res> = (md: Metadata, opts: Partial<CallOptions>, cb: (err: ServiceError | null, res: Res) => void) => unknown;

/** Runs a unary gRPC call as a promise, with a deadline: unary((md, o, cb) => client.submit(req, md, o, cb)). */
export function unary<Res>(invoke: UnaryInvoker<Res>, timeoutMs = 10_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    invoke(new Metadata(), deadlineIn(timeoutMs), (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** Collects a server stream's messages into an async iterator. */
export async function* streamOf<T>(s: ClientReadableStream<T>): AsyncGenerator<T> {
  for await (const m of s as AsyncIterable<T>) yield m;
}

/**
 * The metadata header that names the calling institution on a gateway in insecure loopback
 * mode (GATEWAY_INSECURE=true). A gateway serving mTLS ignores it: there the client
 * certificate says who calls.
 */
export const INSTITUTION_HEADER = "tally-institution";

/** A client interceptor that sends INSTITUTION_HEADER on every call (for an insecure loopback gateway). */
export function institutionHeaderInterceptor(institutionId: string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        metadata.set(INSTITUTION_HEADER, institutionId);
        next(metadata, listener);
      },
    });
}
