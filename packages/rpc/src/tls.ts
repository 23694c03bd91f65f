import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { credentials, ServerCredentials, type ChannelCredentials, type ServerUnaryCall } from "@grpc/grpc-js";

/** PEM files of one side of a mutual-TLS connection: the CA that signs the other side, and our own certificate and key. */
export interface TlsFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** Server credentials that require a client certificate signed by caFile. */
export function mtlsServerCredentials(f: TlsFiles): ServerCredentials {
  return ServerCredentials.createSsl(
    readFileSync(f.caFile),
    [{ cert_chain: readFileSync(f.certFile), private_key: readFileSync(f.keyFile) }],
    true,
  );
}

/** Channel credentials presenting certFile, trusting servers signed by caFile. */
export function mtlsChannelCredentials(f: TlsFiles): ChannelCredentials {
  return credentials.createSsl(readFileSync(f.caFile), readFileSync(f.keyFile), readFileSync(f.certFile));
}

/** The verified client certificate of a call on an mTLS server, or undefined (plaintext, or none sent). */
export function peerCertificate(call: Pick<ServerUnaryCall<unknown, unknown>, "getAuthContext">): X509Certificate | undefined {
  const raw = call.getAuthContext().sslPeerCertificate?.raw;
  return raw === undefined || raw.length === 0 ? undefined : new X509Certificate(raw);
}

/** sha256 of a certificate's DER SubjectPublicKeyInfo, lowercase hex (`openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum`). */
export function spkiSha256(cert: X509Certificate): string {
  return createHash("sha256")
    .update(cert.publicKey.export({ type: "spki", format: "der" }))
    .digest("hex");
}

/** The subject's common name (CN), or undefined. */
export function subjectCommonName(cert: X509Certificate): string | undefined {
  for (const line of cert.subject.split("\n")) if (line.startsWith("CN=")) return line.slice(3);
  return undefined;
}
