import { status, type Metadata, type ServerUnaryCall } from "@grpc/grpc-js";
import type { ClientCertMap } from "@tally/config";
import type { MembershipView } from "@tally/contracts";
import { INSTITUTION_HEADER, peerCertificate, RpcError, spkiSha256, subjectCommonName } from "@tally/rpc";

/** What the gateway needs of any server call to know who is calling. */
export type IdentifiableCall = Pick<ServerUnaryCall<unknown, unknown>, "getAuthContext"> & { readonly metadata: Metadata };

/** Says which institution makes a call, or throws RpcError UNAUTHENTICATED. */
export type CallerIdentity = (call: IdentifiableCall) => string;

/**
 * mTLS: the client certificate (already verified against the node's client CA by TLS) is looked
 * up in the node's map, by SPKI pin first, then by subject CN. A certificate the map does not
 * name is UNAUTHENTICATED, whatever CA signed it.
 */
export function mtlsCaller(map: ClientCertMap): CallerIdentity {
  return (call) => {
    const cert = peerCertificate(call);
    if (cert === undefined) throw new RpcError(status.UNAUTHENTICATED, "no client certificate", "NO_CLIENT_CERT");
    const id = map.bySpkiSha256.get(spkiSha256(cert)) ?? map.byCommonName.get(subjectCommonName(cert) ?? "");
    if (id === undefined)
      throw new RpcError(
        status.UNAUTHENTICATED,
        `client certificate ${cert.subject.replace(/\n/g, ", ")} is not mapped to an institution`,
        "UNKNOWN_CLIENT_CERT",
      );
    return id;
  };
}

/**
 * Insecure loopback mode (development, `tally up` without openssl): the caller names itself in
 * the `tally-institution` header. Nothing proves it, which is why this mode is refused on any
 * address but loopback. A call without the header is UNAUTHENTICATED.
 */
export function insecureHeaderCaller(): CallerIdentity {
  return (call) => {
    const v = call.metadata.get(INSTITUTION_HEADER)[0];
    if (typeof v !== "string" || v === "")
      throw new RpcError(
        status.UNAUTHENTICATED,
        `insecure mode: name the calling institution in the ${INSTITUTION_HEADER} header`,
        "NO_IDENTITY",
      );
    return v;
  };
}

/** The caller as a current member, or PERMISSION_DENIED (unknown or suspended institutions read and write nothing). */
export function requireMember(view: MembershipView, id: string): { readonly id: string; readonly roles: readonly string[] } {
  const m = view.members.get(id);
  if (m === undefined) throw new RpcError(status.PERMISSION_DENIED, `${id} is not a member of this chain`, "NOT_A_MEMBER");
  return { id, roles: m.roles };
}
