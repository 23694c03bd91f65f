import { readFileSync } from "node:fs";
import {
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerDuplexStream,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { loadFileDescriptorSetFromBuffer } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import { grpcServerDuration, metricsService } from "@tally/telemetry";
import { performance } from "node:perf_hooks";
import { RpcError, toServiceError } from "./rpc-error.js";

const MALFORMED = Symbol("malformed");
interface Malformed {
  readonly [MALFORMED]: string;
}
function isMalformed(v: unknown): v is Malformed {
  return typeof v === "object" && v !== null && MALFORMED in v;
}

/** A unary handler: returns the response or throws (RpcError for a chosen status). */
export type UnaryHandler<Req, Res> = (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>;
/** A server-streaming handler: writes to the call, resolves when done, or throws. */
export type StreamHandler<Req, Res> = (req: Req, call: ServerWritableStream<Req, Res>) => Promise<void>;
/**
 * A bidirectional handler: reads requests (a request that did not decode arrives as a value
 * for which isMalformedRequest is true) and writes responses; resolves when done, or throws.
 */
export type BidiHandler<Req, Res> = (call: ServerDuplexStream<Req, Res>) => Promise<void>;

/** For bidi handlers: true when a streamed request did not decode; its text says why. */
export function malformedRequestReason(v: unknown): string | undefined {
  return isMalformed(v) ? v[MALFORMED] : undefined;
}

/** Records one finished call in tally_grpc_server_duration_seconds. */
function observeCall(method: string, startedAt: number, e?: unknown): void {
  const code = e === undefined ? status.OK : e instanceof RpcError ? e.code : status.INTERNAL;
  grpcServerDuration.observe(
    { service: metricsService(), method, code: status[code] ?? String(code) },
    (performance.now() - startedAt) / 1000,
  );
}

/**
 * Wraps a ts-proto service definition and async handlers so that:
 * - a request that does not decode gets INVALID_ARGUMENT (grpc-js would say INTERNAL);
 * - a thrown RpcError becomes its status with a tally-reason; anything else INTERNAL;
 * - a rejected promise never escapes as an unhandled rejection;
 * - every call is timed into tally_grpc_server_duration_seconds{service,method,code}.
 */
export function wrapService(
  definition: ServiceDefinition,
  handlers: Record<string, UnaryHandler<any, any> | StreamHandler<any, any> | BidiHandler<any, any>>,
): { definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
  const def: Record<string, ServiceDefinition[string]> = {};
  const impl: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const handler = handlers[name];
    if (handler === undefined) throw new Error(`no handler for ${method.path}`);
    const methodLabel = method.path.replace(/^\//, "");
    def[name] = {
      ...method,
      requestDeserialize: (b: Buffer) => {
        try {
          return method.requestDeserialize(b);
        } catch (e) {
          return { [MALFORMED]: (e as Error).message } satisfies Malformed;
        }
      },
    };
    if (method.requestStream && method.responseStream) {
      impl[name] = (call: ServerDuplexStream<unknown, unknown>) => {
        const startedAt = performance.now();
        Promise.resolve()
          .then(() => (handler as BidiHandler<unknown, unknown>)(call))
          .then(
            () => (observeCall(methodLabel, startedAt), call.end()),
            (e: unknown) => (observeCall(methodLabel, startedAt, e), call.emit("error", toServiceError(e))),
          );
      };
    } else if (method.requestStream) {
      throw new Error(`${method.path}: client-streaming methods are not supported`);
    } else if (method.responseStream) {
      impl[name] = (call: ServerWritableStream<unknown, unknown>) => {
        const startedAt = performance.now();
        if (isMalformed(call.request)) {
          const e = new RpcError(status.INVALID_ARGUMENT, `malformed request: ${call.request[MALFORMED]}`, "MALFORMED");
          observeCall(methodLabel, startedAt, e);
          call.emit("error", toServiceError(e));
          return;
        }
        Promise.resolve()
          .then(() => (handler as StreamHandler<unknown, unknown>)(call.request, call))
          .then(
            () => (observeCall(methodLabel, startedAt), call.end()),
            (e: unknown) => (observeCall(methodLabel, startedAt, e), call.emit("error", toServiceError(e))),
          );
      };
    } else {
      impl[name] = (call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => {
        const startedAt = performance.now();
        if (isMalformed(call.request)) {
          const e = new RpcError(status.INVALID_ARGUMENT, `malformed request: ${call.request[MALFORMED]}`, "MALFORMED");
          observeCall(methodLabel, startedAt, e);
          cb(toServiceError(e));
          return;
        }
        Promise.resolve()
          .then(() => (handler as UnaryHandler<unknown, unknown>)(call.request, call))
          .then(
            (res) => (observeCall(methodLabel, startedAt), cb(null, res)),
            (e: unknown) => (observeCall(methodLabel, startedAt, e), cb(toServiceError(e))),
          );
      };
    }
  }
  return { definition: def as ServiceDefinition, implementation: impl };
}

/** A running gRPC server with its bound address and health service. */
export interface RunningServer {
  readonly server: Server;
  readonly address: string;
  readonly port: number;
  readonly health: HealthImplementation;
  /** The plaintext health-only address, when healthListen was given. */
  readonly healthAddress?: string;
  /** Reports NOT_SERVING for every served name (the first step of a graceful shutdown). */
  notServing(): void;
  stop(graceMs?: number): Promise<void>;
}

/** Options for startServer. */
export interface ServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly services: readonly { definition: ServiceDefinition; implementation: UntypedServiceImplementation }[];
  /** Fully-qualified names of the services served: reported by grpc.health.v1 and by reflection. */
  readonly healthNames: readonly string[];
  /** A FileDescriptorSet (from `buf build`) to serve reflection from. */
  readonly descriptorSetPath?: string;
  readonly credentials?: ServerCredentials;
  /** Largest request accepted, bytes. */
  readonly receiveBytesMax?: number;
  /**
   * Also serve grpc.health.v1 (only) in plaintext on this address, for Kubernetes gRPC probes,
   * which cannot speak mTLS. It reports the same statuses as the main server.
   */
  readonly healthListen?: { readonly host: string; readonly port: number };
}

/** Starts a gRPC server with health (grpc.health.v1) and, optionally, reflection. */
export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const server = new Server({
    "grpc.max_receive_message_length": o.receiveBytesMax ?? 1024 * 1024,
    "grpc.keepalive_permit_without_calls": 1,
  });
  for (const s of o.services) server.addService(s.definition, s.implementation);
  const health = new HealthImplementation(Object.fromEntries([["", "SERVING"], ...o.healthNames.map((n) => [n, "SERVING"])]));
  health.addToServer(server);
  if (o.descriptorSetPath !== undefined) {
    const pkg = loadFileDescriptorSetFromBuffer(readFileSync(o.descriptorSetPath));
    // Reflection describes only what this server serves, not every service in the descriptor set.
    new ReflectionService(pkg, { services: [...o.healthNames] }).addToServer(server);
  }
  const port = await bind(server, o.host, o.port, o.credentials ?? ServerCredentials.createInsecure());
  let healthServer: Server | undefined;
  let healthAddress: string | undefined;
  if (o.healthListen !== undefined) {
    healthServer = new Server({ "grpc.max_receive_message_length": 4096 });
    health.addToServer(healthServer);
    try {
      const hp = await bind(healthServer, o.healthListen.host, o.healthListen.port, ServerCredentials.createInsecure());
      healthAddress = hostPort(o.healthListen.host, hp);
    } catch (e) {
      server.forceShutdown();
      throw e;
    }
  }
  return {
    server,
    address: hostPort(o.host, port),
    port,
    health,
    ...(healthAddress !== undefined ? { healthAddress } : {}),
    notServing: () => {
      for (const n of ["", ...o.healthNames]) health.setStatus(n, "NOT_SERVING");
    },
    stop: async (graceMs = 2000) => {
      for (const n of ["", ...o.healthNames]) health.setStatus(n, "NOT_SERVING");
      await Promise.all([shutdown(server, graceMs), ...(healthServer !== undefined ? [shutdown(healthServer, graceMs)] : [])]);
    },
  };
}

function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

function bind(server: Server, host: string, port: number, creds: ServerCredentials): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.bindAsync(hostPort(host, port), creds, (err, p) => (err ? reject(err) : resolve(p)));
  });
}

function shutdown(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(t);
      resolve();
    });
  });
}
