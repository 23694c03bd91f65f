import { credentials, Metadata, type CallOptions, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";

/** Plaintext channel credentials, for loopback development and the insecure mode. */
export const insecure = credentials.createInsecure;

/** A deadline ms from now, for CallOptions. */
export function deadlineIn(ms: number): CallOptions {
  return { deadline: new Date(Date.now() + ms) };
}

type UnaryFn<Req, Res> = (req: Req, md: Metadata, opts: Partial<CallOptions>, cb: (err: ServiceError | null, res: Res) => void) => unknown;

/** Calls a unary method of a ts-proto grpc-js client as a promise, with a deadline. */
export function unary<Req, Res>(fn: UnaryFn<Req, Res>, self: unknown, req: Req, timeoutMs = 10_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn.call(self, req, new Metadata(), deadlineIn(timeoutMs), (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** Collects a server stream's messages into an async iterator. */
export async function* streamOf<T>(s: ClientReadableStream<T>): AsyncGenerator<T> {
  for await (const m of s as AsyncIterable<T>) yield m;
}
