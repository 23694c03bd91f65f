// Who opens the console, and whether they may. Two modes, as the gateway has:
// - mTLS (production): the console listens on HTTPS and requires a client certificate signed by
//   the node's client CA; the certificate is looked up in the same client map as the gateway's
//   (SPKI pin first, then subject CN). Nothing a browser sends can change who it is.
// - loopback (development, `tally up`): plain HTTP on a loopback address only; the caller names its
//   institution in the `tally-institution` header or, for a browser, opens the page as
//   `/?as=<id>` and the server keeps that in the `tally-institution` cookie (HttpOnly, SameSite=Strict). An attribution, not an authentication, like the
//   gateway's insecure mode: anyone who can reach a loopback port can claim any name.
// Either way the institution must be a regulator in genesis: anyone else gets 403.
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import type { ClientCertMap } from "@tally/config";
import { isValidId, type Genesis } from "@tally/ledger";
import { spkiSha256, subjectCommonName } from "@tally/rpc";

/** The header (and cookie) a loopback caller names its institution in. */
export const CONSOLE_IDENTITY_HEADER = "tally-institution";

/** The role the console requires. */
export const CONSOLE_ROLE = "regulator";

/** Who a request comes from: an institution id, or why none could be established. */
export type ConsoleCaller = { ok: true; institution: string } | { ok: false; reason: string; message: string };

/** Says who sends a request. */
export type ConsoleIdentify = (req: IncomingMessage, url: URL) => ConsoleCaller;

function cookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined || header.length > 4096) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return "";
      }
    }
  }
  return undefined;
}

/** Loopback mode: the header, else `?as=` (a page being opened), else the cookie names the institution. */
export function loopbackIdentity(): ConsoleIdentify {
  return (req, url) => {
    const h = req.headers[CONSOLE_IDENTITY_HEADER];
    const v = typeof h === "string" ? h : (url.searchParams.get("as") ?? cookie(req, CONSOLE_IDENTITY_HEADER));
    if (v === undefined || v === "")
      return {
        ok: false,
        reason: "NO_IDENTITY",
        message: `name your institution in the ${CONSOLE_IDENTITY_HEADER} header, or open /?as=<institution>`,
      };
    if (!isValidId(v)) return { ok: false, reason: "BAD_IDENTITY", message: `${CONSOLE_IDENTITY_HEADER} is not an institution id` };
    return { ok: true, institution: v };
  };
}

/** mTLS mode: the verified client certificate, looked up in the node's client map. */
export function mtlsIdentity(map: ClientCertMap): ConsoleIdentify {
  return (req) => {
    const cert = (req.socket as TLSSocket).getPeerX509Certificate?.();
    if (cert === undefined) return { ok: false, reason: "NO_CLIENT_CERT", message: "no client certificate" };
    const id = map.bySpkiSha256.get(spkiSha256(cert)) ?? map.byCommonName.get(subjectCommonName(cert) ?? "");
    if (id === undefined)
      return { ok: false, reason: "UNKNOWN_CLIENT_CERT", message: "the client certificate is not mapped to an institution" };
    return { ok: true, institution: id };
  };
}

/** The institution's genesis roles when it is a regulator, else undefined. */
export function regulatorRoles(genesis: Genesis, institution: string): readonly string[] | undefined {
  const i = genesis.institutions.find((x) => x.id === institution);
  return i !== undefined && i.roles.includes(CONSOLE_ROLE) ? i.roles : undefined;
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
