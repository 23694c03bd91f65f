// The per-role NATS credentials for Kubernetes (issue 13), generated from a genesis: the
// nats-server authorization include (users and permissions, each password a $VARIABLE) and the
// Secrets that hold the passwords, one set per namespace. Pure: the passwords come from the
// caller (random in production, `dev-only-<user>` for the committed development example).
//
// Where each credential goes (the workloads in k8s/base read these names and keys):
// - ordering namespace: `tally-nats-server` (every TALLY_NATS_PASSWORD_<USER>, for the
//   nats-server's environment), `tally-nats-admin` (key `url`: the admin, for the setup Job only),
//   `tally-nats-client` (key `<sequencer id>`: each sequencer's URL);
// - each node's namespace: `tally-nats-client`, key `node` (blockstore, executor, regfeed) and,
//   except on the regulator's node (it runs no gateway), key `gateway`; on the regulator's node
//   also key `regulator` (the read-only user, for the regulator's own NATS subscriber).
import type { Genesis } from "@tally/ledger";
import { busNames, natsAuthorizationConf, natsPasswordVars, natsUsers, type NatsUser, type NatsUsersOptions } from "@tally/bus";

/** Where the consortium runs in Kubernetes. */
export interface K8sLayout {
  /** The ordering tier's namespace: NATS, the sequencers, the setup Job. */
  readonly orderingNamespace: string;
  /** Each node's namespace, by node id. */
  readonly nodeNamespaces: Readonly<Record<string, string>>;
  /** The NATS servers as the services reach them, host:port each (one URL per server, tls://). */
  readonly servers: readonly string[];
}

/** The NATS servers of k8s/base/ordering (the StatefulSet's pods, through its headless Service). */
export const K8S_NATS_SERVERS: readonly string[] = [0, 1, 2].map((i) => `nats-${i}.nats.tally-ordering.svc.cluster.local:4222`);

/** Secret names and keys the manifests read (k8s/base). */
export const K8S_NATS_SECRETS = {
  server: "tally-nats-server",
  admin: "tally-nats-admin",
  client: "tally-nats-client",
  adminKey: "url",
  nodeKey: "node",
  gatewayKey: "gateway",
  regulatorKey: "regulator",
} as const;

/** A Secret as the generator writes it (stringData: kubectl encodes it). */
export interface GeneratedSecret {
  readonly apiVersion: "v1";
  readonly kind: "Secret";
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
  readonly type: "Opaque";
  readonly stringData: Readonly<Record<string, string>>;
}

export interface K8sNatsOptions extends NatsUsersOptions {
  /** The bus namespace (TALLY_NAMESPACE); default `tally`. */
  readonly namespace?: string;
  /** Each user's password: letters, digits, '-' and '_', starting with a letter (see PASSWORD_RE). */
  readonly passwordOf: (user: string) => string;
  /** Default: k8s/base's (tally-ordering, tally-<node>, the regulator's node in tally-regulator). */
  readonly layout?: Partial<K8sLayout>;
}

export interface K8sNatsCredentials {
  readonly users: readonly NatsUser[];
  /** nats-authorization.conf: every user and its permissions; passwords as $TALLY_NATS_PASSWORD_<USER>. */
  readonly authorizationConf: string;
  readonly secrets: readonly GeneratedSecret[];
}

/**
 * A password nats-server reads from its environment (it parses the value as a configuration value:
 * a leading digit or a quote breaks the whole file) and that sits in a URL unescaped.
 */
export const PASSWORD_RE = /^[A-Za-z][A-Za-z0-9_-]{7,127}$/;
/** A Kubernetes namespace name (an RFC 1123 label). */
const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** host:port, the host a DNS name or an IPv4 address. */
const SERVER_RE = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?:\d{1,5}$/;

/** The regulator's node: the node of the first institution with the regulator role (as natsUsers). */
export function regulatorNodeOf(g: Genesis): string | undefined {
  const regulators = new Set(g.institutions.filter((i) => i.roles.includes("regulator")).map((i) => i.id));
  return g.validators.find((v) => regulators.has(v.institutionId))?.nodeId;
}

/** k8s/base's layout for a genesis: tally-ordering, tally-<node id>, and tally-regulator for the regulator's node. */
export function defaultK8sLayout(g: Genesis, regulatorNode = regulatorNodeOf(g)): K8sLayout {
  const nodes = [...new Set(g.validators.map((v) => v.nodeId))];
  return {
    orderingNamespace: "tally-ordering",
    nodeNamespaces: Object.fromEntries(nodes.map((n) => [n, n === regulatorNode ? "tally-regulator" : `tally-${n}`])),
    servers: K8S_NATS_SERVERS,
  };
}

/** Checks a list of NATS servers (host:port) given by an operator; throws naming the bad one. */
export function parseNatsServers(s: string): string[] {
  const out = s
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "");
  if (out.length === 0) throw new TypeError("no NATS server given (host:port[,host:port...])");
  for (const x of out) {
    const port = Number(x.split(":").at(-1));
    if (!SERVER_RE.test(x) || port < 1 || port > 65535) throw new TypeError(`NATS server "${x}" is not host:port`);
  }
  return out;
}

/** The credentials of a genesis's NATS users for Kubernetes. */
export function k8sNatsCredentials(genesis: Genesis, o: K8sNatsOptions): K8sNatsCredentials {
  const regulatorNode = o.regulatorNode ?? regulatorNodeOf(genesis);
  const users = natsUsers(genesis, busNames(o.namespace ?? "tally"), o);
  const vars = natsPasswordVars(users);
  const layout: K8sLayout = { ...defaultK8sLayout(genesis, regulatorNode), ...o.layout };
  for (const ns of [layout.orderingNamespace, ...Object.values(layout.nodeNamespaces)])
    if (!NAMESPACE_RE.test(ns)) throw new TypeError(`Kubernetes namespace "${ns}" is not a valid name`);
  if (layout.servers.length === 0) throw new TypeError("no NATS server in the layout");
  for (const s of layout.servers) parseNatsServers(s);
  const passwords = new Map<string, string>();
  for (const u of users) {
    const pw = o.passwordOf(u.user);
    if (!PASSWORD_RE.test(pw))
      throw new TypeError(`the password of NATS user ${u.user} must be 8 to 128 letters, digits, '-' or '_', starting with a letter`);
    passwords.set(u.user, pw);
  }
  const url = (user: string): string => layout.servers.map((s) => `tls://${user}:${passwords.get(user)!}@${s}`).join(",");
  const has = (user: string): boolean => passwords.has(user);
  const labels = { "app.kubernetes.io/part-of": "tally" };
  const secret = (namespace: string, name: string, stringData: Record<string, string>): GeneratedSecret => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace, labels },
    type: "Opaque",
    stringData,
  });
  const S = K8S_NATS_SECRETS;
  const ordering = layout.orderingNamespace;
  const secrets: GeneratedSecret[] = [
    secret(ordering, S.server, Object.fromEntries(users.map((u) => [vars.get(u.user)!, passwords.get(u.user)!]))),
    secret(ordering, S.admin, { [S.adminKey]: url("admin") }),
    secret(ordering, S.client, Object.fromEntries(genesis.sequencers.map((s) => [s.id, url(`sequencer-${s.id}`)]))),
  ];
  for (const [node, ns] of Object.entries(layout.nodeNamespaces)) {
    if (!has(`node-${node}`)) throw new TypeError(`node ${node} of the layout is not a validator node of the genesis`);
    const data: Record<string, string> = { [S.nodeKey]: url(`node-${node}`) };
    if (node !== regulatorNode) data[S.gatewayKey] = url(`gateway-${node}`);
    else if (has("regulator")) data[S.regulatorKey] = url("regulator");
    secrets.push(secret(ns, S.client, data));
  }
  const authorizationConf = natsAuthorizationConf(users, (u) => `$${vars.get(u)!}`);
  return { users, authorizationConf, secrets };
}

const q = (s: string): string => JSON.stringify(s);

/** The Secrets as a YAML stream (JSON-quoted scalars, valid YAML), under a comment header. */
export function secretsYaml(secrets: readonly GeneratedSecret[], header: readonly string[]): string {
  const docs = secrets.map((s) =>
    [
      "apiVersion: v1",
      "kind: Secret",
      "metadata:",
      `  name: ${s.metadata.name}`,
      `  namespace: ${s.metadata.namespace}`,
      `  labels: { ${Object.entries(s.metadata.labels)
        .map(([k, v]) => `${k}: ${v}`)
        .join(", ")} }`,
      `type: ${s.type}`,
      "stringData:",
      ...Object.entries(s.stringData).map(([k, v]) => `  ${q(k)}: ${q(v)}`),
    ].join("\n"),
  );
  return header.map((l) => `# ${l}`.trimEnd()).join("\n") + "\n" + docs.join("\n---\n") + "\n";
}

/** The development-only password of a user: public, for the committed dev overlay only. */
export function devOnlyPassword(user: string): string {
  return `dev-only-${user}`;
}

/** The files `tally bus users --k8s <dir>` writes: the authorization include and the Secrets. */
export function k8sNatsFiles(
  genesis: Genesis,
  o: Omit<K8sNatsOptions, "passwordOf"> & { readonly passwordOf?: (user: string) => string; readonly dev?: boolean },
  randomPassword: () => string,
): { readonly "nats-authorization.conf": string; readonly "nats-secrets.yaml": string } {
  const passwordOf = o.passwordOf ?? (o.dev === true ? devOnlyPassword : randomPassword);
  const c = k8sNatsCredentials(genesis, { ...o, passwordOf });
  const conf = [
    `# The NATS users of chain ${genesis.chainId}, one per role, and what each may publish and subscribe`,
    "# (docs/security.md). Generated by `tally bus users --k8s`: do not edit, regenerate. Each password",
    "# is read from the nats-server's environment (Secret tally-nats-server).",
    "",
  ].join("\n");
  const header =
    o.dev === true
      ? [
          "DEVELOPMENT ONLY. The passwords below are public (dev-only-<user>): never use them in production.",
          `The NATS credentials of chain ${genesis.chainId}, per namespace. Generated by`,
          "`tally bus users --k8s <dir> --dev-passwords`: do not edit, regenerate.",
        ]
      : [
          `The NATS credentials of chain ${genesis.chainId}, per namespace. Generated by \`tally bus users --k8s\`.`,
          "These are secrets: `kubectl apply -f` this file, then delete it (docs/operations.md).",
        ];
  return { "nats-authorization.conf": conf + c.authorizationConf, "nats-secrets.yaml": secretsYaml(c.secrets, header) };
}
