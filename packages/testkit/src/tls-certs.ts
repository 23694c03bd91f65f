import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A certificate authority made with openssl: its certificate and key files. */
export interface CertAuthority {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** A certificate issued by a CertAuthority, with the CA certificate that checks it. */
export interface IssuedCert {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** Whether openssl can be run here. */
export function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function openssl(args: readonly string[]): void {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** Creates (or reuses, if its files exist) a P-256 CA under dir, valid 10 years. */
export function createCertAuthority(dir: string, name = "Tally Test CA"): CertAuthority {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = { dir, certFile: join(dir, "ca.pem"), keyFile: join(dir, "ca.key") };
  if (existsSync(ca.certFile) && existsSync(ca.keyFile)) return ca;
  openssl(
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca.keyFile, "-out", ca.certFile].concat([
      "-days",
      "3650",
      "-subj",
      `/CN=${name}`,
    ]),
  );
  return ca;
}

/**
 * Issues a certificate with CN=commonName: a server certificate (SANs `localhost`, 127.0.0.1,
 * ::1 and any given), a client certificate, or a peer certificate (both: a server that also dials
 * other servers, as NATS routes do). Reuses the files if they exist. validDays < 0
 * makes a certificate that has already expired, for tests.
 */
export function issueCert(
  ca: CertAuthority,
  name: string,
  o: {
    readonly commonName?: string;
    readonly kind: "server" | "client" | "peer";
    readonly validDays?: number;
    readonly sans?: readonly string[];
  },
): IssuedCert {
  const out = { caFile: ca.certFile, certFile: join(ca.dir, `${name}.pem`), keyFile: join(ca.dir, `${name}.key`) };
  if (existsSync(out.certFile) && existsSync(out.keyFile)) return out;
  const csr = join(ca.dir, `${name}.csr`);
  const ext = join(ca.dir, `${name}.ext`);
  const sans = ["DNS:localhost", "IP:127.0.0.1", "IP:::1", ...(o.sans ?? [])];
  writeFileSync(
    ext,
    o.kind === "client"
      ? `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n`
      : `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=${o.kind === "peer" ? "serverAuth,clientAuth" : "serverAuth"}\nsubjectAltName=${sans.join(",")}\n`,
  );
  openssl(
    ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", out.keyFile, "-out", csr].concat([
      "-subj",
      `/CN=${o.commonName ?? name}`,
    ]),
  );
  openssl(
    ["x509", "-req", "-in", csr, "-CA", ca.certFile, "-CAkey", ca.keyFile, "-CAcreateserial", "-out", out.certFile].concat([
      "-days",
      String(o.validDays ?? 825),
      "-extfile",
      ext,
    ]),
  );
  return out;
}
