import { readFileSync } from "node:fs";
import { credentials, type ChannelCredentials } from "@grpc/grpc-js";

/** PEM material for mutual TLS: each a file path or the PEM bytes themselves. */
export interface MtlsFiles {
  /** The CA that signed the gateway's server certificate. */
  readonly ca: string | Uint8Array;
  /** The institution's client certificate: the gateway maps it to the institution. */
  readonly cert: string | Uint8Array;
  /** The client certificate's private key. */
  readonly key: string | Uint8Array;
}

function pem(v: string | Uint8Array, what: string): Buffer {
  if (typeof v !== "string") return Buffer.from(v);
  try {
    return readFileSync(v);
  } catch (e) {
    throw new Error(`mtlsCredentials: cannot read the ${what} file ${v}: ${(e as Error).message}`, { cause: e });
  }
}

/** Channel credentials for mutual TLS with the gateway, from a CA certificate, a client certificate and its key. */
export function mtlsCredentials(f: MtlsFiles): ChannelCredentials {
  return credentials.createSsl(pem(f.ca, "CA certificate"), pem(f.key, "client key"), pem(f.cert, "client certificate"));
}
