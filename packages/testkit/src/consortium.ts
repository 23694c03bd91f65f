import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { credentials, type ChannelCredentials } from "@grpc/grpc-js";
import { writeKeyFile } from "@tally/config";
import { signingKeyFromSeed, toHex, type Genesis } from "@tally/ledger";
import { mtlsChannelCredentials, type TlsFiles } from "@tally/rpc";
import { createCertAuthority, hasOpenssl, issueCert } from "./tls-certs.js";

/** Who is in a consortium and where they run. */
export interface ConsortiumPlan {
  readonly chainId: string;
  readonly institutions: readonly { id: string; name: string; roles: string[]; node: string }[];
  /** Validator nodes, each owned by an institution; one may host the regulator feed. */
  readonly nodes: readonly { id: string; institution: string; regfeed?: boolean }[];
  /** Sequencers, the first being the master. */
  readonly sequencers: readonly { id: string; institution: string }[];
}

/** The seed's sample consortium: an exchange and a clearing house run the ordering tier, four validator nodes. */
export const SAMPLE_CONSORTIUM: ConsortiumPlan = {
  chainId: "tally-local",
  institutions: [
    { id: "exchange", name: "Consortium Exchange", roles: ["exchange"], node: "node-exchange" },
    { id: "clearing", name: "Clearing House", roles: ["clearing"], node: "node-clearing" },
    { id: "clearing-b", name: "Clearing Bank B", roles: ["clearing"], node: "node-clearing" },
    { id: "bank-a", name: "Bank A", roles: ["bank"], node: "node-bank-a" },
    { id: "bank-b", name: "Bank B", roles: ["bank"], node: "node-clearing" },
    { id: "enterprise-a", name: "Enterprise A", roles: ["enterprise"], node: "node-bank-a" },
    { id: "enterprise-b", name: "Enterprise B", roles: ["enterprise"], node: "node-exchange" },
    { id: "enterprise-c", name: "Enterprise C", roles: ["enterprise"], node: "node-clearing" },
    { id: "enterprise-d", name: "Enterprise D", roles: ["enterprise"], node: "node-exchange" },
    { id: "warehouse", name: "Bonded Warehouse", roles: ["warehouse"], node: "node-bank-a" },
    { id: "logistics", name: "Logistics Provider", roles: ["oracle"], node: "node-bank-a" },
    { id: "issuer", name: "Bond Issuer", roles: ["issuer", "enterprise"], node: "node-exchange" },
    { id: "hospital-a", name: "City Hospital", roles: ["hospital"], node: "node-bank-a" },
    { id: "hospital-b", name: "University Hospital", roles: ["hospital"], node: "node-clearing" },
    { id: "patient-a", name: "Patient A", roles: ["patient"], node: "node-exchange" },
    { id: "school", name: "State University", roles: ["school"], node: "node-clearing" },
    { id: "government", name: "Civil Registry", roles: ["government"], node: "node-exchange" },
    { id: "regulator", name: "Financial Regulator", roles: ["regulator"], node: "node-regulator" },
    { id: "insurer", name: "Insurance Company", roles: ["issuer", "enterprise"], node: "node-bank-a" },
    { id: "charity", name: "Water Foundation", roles: ["enterprise"], node: "node-exchange" },
    { id: "auditor", name: "Charity Auditor", roles: ["auditor"], node: "node-clearing" },
  ],
  nodes: [
    { id: "node-exchange", institution: "exchange" },
    { id: "node-clearing", institution: "clearing" },
    { id: "node-bank-a", institution: "bank-a" },
    { id: "node-regulator", institution: "regulator", regfeed: true },
  ],
  sequencers: [
    { id: "seq-exchange", institution: "exchange" },
    { id: "seq-clearing", institution: "clearing" },
  ],
};

/** The institutions each node's gateway submits for (the plan's `node` of each institution), for natsUsers. */
export function gatewayInstitutionsOf(plan: ConsortiumPlan): Record<string, string[]> {
  return Object.fromEntries(plan.nodes.map((n) => [n.id, plan.institutions.filter((i) => i.node === n.id).map((i) => i.id)]));
}

/** Paths of the files a consortium runs from. */
export interface ConsortiumFiles {
  readonly genesisFile: string;
  readonly genesis: Genesis;
  /** Key file by institution, node or sequencer id. */
  readonly keyFiles: ReadonlyMap<string, string>;
  /** mTLS material for the gateways (absent when openssl is not available: gateways then run insecure on loopback). */
  readonly tls?: ConsortiumTls;
}

/** The consortium's CA, each node gateway's server certificate and client map, and each institution's client certificate. */
export interface ConsortiumTls {
  readonly caFile: string;
  /** Server certificate and key by node id; caFile checks clients. */
  readonly servers: ReadonlyMap<string, TlsFiles>;
  /** The client certificate map file (CN → institution) of each node's gateway: the institutions it hosts. */
  readonly clientMaps: ReadonlyMap<string, string>;
  /** Client certificate and key by institution id; caFile checks the gateway. */
  readonly clients: ReadonlyMap<string, TlsFiles>;
}

/**
 * Makes (or reuses) the consortium's TLS material under dir/tls with openssl: one CA, a server
 * certificate per node gateway, a client certificate per institution (CN = its id), and per node a
 * client map naming the institutions that node hosts. Undefined when openssl is not there.
 */
export function ensureConsortiumTls(dir: string, plan: ConsortiumPlan): ConsortiumTls | undefined {
  if (!hasOpenssl()) return undefined;
  const tlsDir = join(dir, "tls");
  const ca = createCertAuthority(tlsDir, `${plan.chainId} consortium CA`);
  const servers = new Map<string, TlsFiles>();
  const clientMaps = new Map<string, string>();
  for (const n of plan.nodes) {
    const c = issueCert(ca, `gateway-${n.id}`, { commonName: n.id, kind: "server" });
    servers.set(n.id, { caFile: c.caFile, certFile: c.certFile, keyFile: c.keyFile });
    const file = join(tlsDir, `clients-${n.id}.json`);
    const hosted = plan.institutions.filter((i) => i.node === n.id).map((i) => ({ institution: i.id, commonName: i.id }));
    writeFileSync(file, JSON.stringify({ clients: hosted }, null, 2) + "\n");
    clientMaps.set(n.id, file);
  }
  const clients = new Map<string, TlsFiles>();
  for (const i of plan.institutions) {
    const c = issueCert(ca, `client-${i.id}`, { commonName: i.id, kind: "client" });
    clients.set(i.id, { caFile: c.caFile, certFile: c.certFile, keyFile: c.keyFile });
  }
  return { caFile: ca.certFile, servers, clientMaps, clients };
}

/** Channel credentials for an institution calling its gateway: its mTLS client certificate, or plaintext when the consortium has no TLS. */
export function gatewayCredentials(files: ConsortiumFiles, institution: string): ChannelCredentials {
  const f = files.tls?.clients.get(institution);
  return f === undefined ? credentials.createInsecure() : mtlsChannelCredentials(f);
}

function newKey(dir: string, owner: string, keyId: string): { file: string; publicKey: string } {
  const seed = randomBytes(32);
  const publicKey = toHex(signingKeyFromSeed(seed).publicKey);
  const file = join(dir, `${owner}.json`);
  writeKeyFile(file, { owner, keyId, publicKey, seed: toHex(seed) });
  return { file, publicKey };
}

/** Creates fresh keys (mode 0600) and a genesis file for a plan under dir. */
export function writeConsortium(dir: string, plan: ConsortiumPlan, genesisTimeMs: number): ConsortiumFiles {
  const keysDir = join(dir, "keys");
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const keyFiles = new Map<string, string>();
  const institutions = plan.institutions.map((i) => {
    const k = newKey(keysDir, i.id, "k1");
    keyFiles.set(i.id, k.file);
    return { id: i.id, name: i.name, roles: i.roles, keys: [{ keyId: "k1", publicKey: k.publicKey }] };
  });
  const validators = plan.nodes.map((n) => {
    const k = newKey(keysDir, n.id, "node");
    keyFiles.set(n.id, k.file);
    return { nodeId: n.id, institutionId: n.institution, publicKey: k.publicKey };
  });
  const sequencers = plan.sequencers.map((s) => {
    const k = newKey(keysDir, s.id, "seq");
    keyFiles.set(s.id, k.file);
    return { id: s.id, publicKey: k.publicKey };
  });
  const genesis: Genesis = {
    chainId: plan.chainId,
    genesisTimeMs,
    institutions,
    sequencers,
    validators,
    finality: { quorumNumerator: 2, quorumDenominator: 3 },
  };
  const genesisFile = join(dir, "genesis.json");
  writeFileSync(genesisFile, JSON.stringify(genesis, null, 2) + "\n");
  const tls = ensureConsortiumTls(dir, plan);
  return { genesisFile, genesis, keyFiles, ...(tls !== undefined ? { tls } : {}) };
}

/** The files of a consortium already written under dir by writeConsortium. */
export function consortiumFilesIn(dir: string, plan: ConsortiumPlan, genesis: Genesis): ConsortiumFiles {
  const ids = [...plan.institutions.map((i) => i.id), ...plan.nodes.map((n) => n.id), ...plan.sequencers.map((s) => s.id)];
  const tls = ensureConsortiumTls(dir, plan);
  return {
    genesisFile: join(dir, "genesis.json"),
    genesis,
    keyFiles: new Map(ids.map((id) => [id, join(dir, "keys", `${id}.json`)])),
    ...(tls !== undefined ? { tls } : {}),
  };
}
