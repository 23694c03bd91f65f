// Least privilege in k8s/ (issue 13), on both rendered overlays: every credential comes from a
// Secret; every NATS connection is TLS, the routes between the NATS servers too; each service is
// its own NATS user and only the setup Job is admin; each node's services are its own database
// roles, the gateway's read-only. The committed development credentials are what the generator
// makes from the sample consortium's genesis, and the generator's production output fits the
// prod overlay.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gatewayInstitutionsOf, repoRoot, SAMPLE_CONSORTIUM, writeConsortium } from "@tally/testkit";
import { checkOverlay } from "./check.js";
import { devOnlyPassword, k8sNatsCredentials, k8sNatsFiles } from "./generate.js";
import { confBlock, databaseRoleViolations, natsCredentialViolations, natsServerViolations } from "./least-privilege.js";
import { podSpec, podTemplates, secretValue, tallyCli, tallyService } from "./pods.js";
import { parseObjects, type K8sObject } from "./render.js";
import { projectViolations } from "./rules.js";

const k8s = join(repoRoot, "k8s");
let dev: K8sObject[];
let prod: K8sObject[];
const overlays = (): [string, K8sObject[]][] => [
  ["dev", dev],
  ["prod", prod],
];
before(async () => {
  dev = (await checkOverlay(join(k8s, "overlays/dev"))).objects;
  prod = (await checkOverlay(join(k8s, "overlays/prod"))).objects;
});

const containers = (objs: K8sObject[]): { w: K8sObject; c: any; ref: string }[] =>
  podTemplates(objs).flatMap((w) =>
    [...(podSpec(w).containers ?? []), ...(podSpec(w).initContainers ?? [])].map((c: any) => ({
      w,
      c,
      ref: `${w.kind} ${w.metadata.namespace}/${w.metadata.name} ${c.name}`,
    })),
  );
const env = (c: any, name: string): any => (c.env ?? []).find((e: any) => e.name === name);
const natsConf = (objs: K8sObject[]): string => {
  const cm = objs.find(
    (o) => o.kind === "ConfigMap" && o.metadata.namespace === "tally-ordering" && /^nats-config/.test(o.metadata.name),
  ) as any;
  return cm.data["nats.conf"];
};

test("every env var of a Deployment, StatefulSet or Job that holds a password or credential comes from a secretKeyRef", () => {
  const CREDENTIAL = /PASSWORD|SECRET|TOKEN|_URL$|^PGUSER$|^POSTGRES_USER$/;
  for (const [name, objs] of overlays()) {
    let seen = 0;
    for (const { c, ref } of containers(objs))
      for (const e of c.env ?? []) {
        if (!CREDENTIAL.test(e.name)) continue;
        seen++;
        assert.ok(e.valueFrom?.secretKeyRef !== undefined, `${name}: ${ref} env ${e.name} must come from a secretKeyRef`);
        assert.equal(e.value, undefined, `${name}: ${ref} env ${e.name} has a literal value`);
      }
    // NATS_URL and DATABASE_URL of every service, the Jobs' PG* and the servers' passwords.
    assert.ok(seen >= 30, `${name}: ${seen} credentials checked`);
    // envFrom reads Secrets or ConfigMaps; a ConfigMap holds no credential (secretViolations checks its keys).
    for (const { c, ref } of containers(objs))
      for (const f of c.envFrom ?? []) if (f.configMapRef !== undefined) assert.match(f.configMapRef.name, /^tally-(node|ordering)/, ref);
  }
});

test("every NATS connection is TLS: the servers' config, clients' CA from a Secret, every URL tls:// (dev Secrets)", () => {
  for (const [name, objs] of overlays()) {
    const conf = natsConf(objs);
    const clientTls = confBlock(conf, "tls");
    assert.ok(clientTls !== undefined && /cert_file: "\/etc\/nats-tls\/tls.crt"/.test(clientTls), `${name}: client tls block`);
    const cluster = confBlock(conf, "cluster");
    const routeTls = cluster === undefined ? undefined : confBlock(cluster, "tls");
    assert.ok(routeTls !== undefined, `${name}: the routes use TLS`);
    assert.match(routeTls, /verify: true/);
    assert.match(routeTls, /ca_file: "\/etc\/nats-tls\/ca.crt"/);
    const nats = objs.find((o) => o.kind === "StatefulSet" && o.metadata.name === "nats") as any;
    const tlsVolume = nats.spec.template.spec.volumes.find((v: any) => v.name === "tls");
    assert.equal(tlsVolume.secret.secretName, "tally-nats-tls");
    assert.deepEqual(nats.spec.template.spec.containers[0].args, ["-c", "/etc/nats/nats.conf"]);
    // Every container with a NATS_URL checks the servers against the CA of the Secret tally-nats-ca.
    const clients = containers(objs).filter(({ c }) => env(c, "NATS_URL") !== undefined);
    assert.equal(clients.length, 2 + 3 * 3 + 3 + 1, `${name}: sequencers, node services, the regfeed, the setup Job`);
    for (const { w, c, ref } of clients) {
      assert.equal(env(c, "NATS_CA_FILE")?.value, "/etc/nats-ca/ca.crt", ref);
      const mount = c.volumeMounts.find((m: any) => m.mountPath === "/etc/nats-ca");
      assert.equal(podSpec(w).volumes.find((v: any) => v.name === mount?.name)?.secret?.secretName, "tally-nats-ca", ref);
      if (name !== "dev") continue;
      const r = env(c, "NATS_URL").valueFrom.secretKeyRef;
      const url = secretValue(objs, w.metadata.namespace, r.name, r.key);
      assert.ok(url !== undefined, `${ref}: ${r.name}/${r.key} is in the dev Secrets`);
      for (const server of url.split(","))
        assert.match(server, /^tls:\/\/[^:]+:[^@]+@nats-\d\.nats\.tally-ordering\.svc\.cluster\.local:4222$/, ref);
    }
  }
  // The committed development certificate: for the clients' and the routes' names, both uses, signed by the CA.
  const dir = join(k8s, "overlays/dev/nats-tls");
  const cert = new X509Certificate(readFileSync(join(dir, "tls.crt")));
  const ca = new X509Certificate(readFileSync(join(dir, "ca.crt")));
  assert.ok(cert.verify(ca.publicKey), "the CA signed the certificate");
  assert.ok(cert.checkIssued(ca));
  for (const host of [0, 1, 2]
    .map((i) => `nats-${i}.nats.tally-ordering.svc.cluster.local`)
    .concat("nats-client.tally-ordering.svc.cluster.local"))
    assert.notEqual(cert.checkHost(host), undefined, `the certificate names ${host}`);
  assert.deepEqual(
    [...(cert.keyUsage ?? [])].sort(),
    ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"],
    "serverAuth and clientAuth (routes dial out)",
  );
  assert.match(cert.subject, /DEVELOPMENT ONLY/);
});

test("each service is its own NATS user; the setup Job is the admin and nothing else is", () => {
  for (const [name, objs] of overlays()) {
    const byRole = new Map<string, string[]>();
    for (const { c, w, ref } of containers(objs)) {
      const r = env(c, "NATS_URL")?.valueFrom?.secretKeyRef;
      if (r === undefined) continue;
      const key = `${w.metadata.namespace} ${r.name}/${r.key}`;
      byRole.set(key, [...(byRole.get(key) ?? []), ref]);
      if (r.name === "tally-nats-admin")
        assert.equal(tallyCli(c), "bus setup", `${name}: only the setup Job reads the admin's URL, not ${ref}`);
      else assert.equal(r.name, "tally-nats-client", ref);
      if (tallyService(c) === "gateway") assert.equal(r.key, "gateway", ref);
      if (["blockstore", "executor", "regfeed"].includes(tallyService(c) ?? "")) assert.equal(r.key, "node", ref);
      if (tallyService(c) === "sequencer") assert.equal(r.key, env(c, "SEQUENCER_ID").value, ref);
    }
    const admin = [...byRole].filter(([k]) => k.includes("tally-nats-admin/"));
    assert.deepEqual(admin, [["tally-ordering tally-nats-admin/url", ["Job tally-ordering/tally-bus-setup setup"]]], name);
    const job = objs.find((o) => o.kind === "Job" && o.metadata.name === "tally-bus-setup") as any;
    assert.deepEqual(job.spec.template.spec.containers[0].args, ["cli", "bus", "setup"]);
    // The sequencers and the Job agree on the lease bucket's TTL (the sequencer refuses another).
    const ordering = objs.find((o) => o.kind === "ConfigMap" && /^tally-ordering/.test(o.metadata.name)) as any;
    assert.equal(ordering.data.NATS_ENSURE_STREAMS, "false");
    assert.equal(ordering.data.LEASE_TTL_MS, "1300");
    assert.deepEqual(natsCredentialViolations(objs), [], name);
    assert.deepEqual(natsServerViolations(objs), [], name);
  }
  // Dev: resolve each URL to the user it connects as.
  const users = new Set<string>();
  for (const { c, w } of containers(dev)) {
    const r = env(c, "NATS_URL")?.valueFrom?.secretKeyRef;
    if (r === undefined) continue;
    const url = secretValue(dev, w.metadata.namespace, r.name, r.key)!;
    users.add(/^tls:\/\/([^:]+):/.exec(url)![1]!);
  }
  assert.deepEqual([...users].sort(), [
    "admin",
    "gateway-node-bank-a",
    "gateway-node-clearing",
    "gateway-node-exchange",
    "node-node-bank-a",
    "node-node-clearing",
    "node-node-exchange",
    "node-node-regulator",
    "sequencer-seq-clearing",
    "sequencer-seq-exchange",
  ]);
});

test("each node's services log in as its own database roles; the gateway's is read-only; a Job applies the grants as admin", () => {
  const nodes = ["tally-node-exchange", "tally-node-clearing", "tally-node-bank-a", "tally-regulator"];
  for (const [name, objs] of overlays()) {
    for (const ns of nodes) {
      for (const { c, w, ref } of containers(objs.filter((o) => o.metadata.namespace === ns))) {
        const s = tallyService(c);
        if (s === undefined) continue;
        assert.deepEqual(
          env(c, "DATABASE_URL").valueFrom.secretKeyRef,
          { name: s === "gateway" ? "tally-db-reader" : "tally-db-writer", key: "uri" },
          ref,
        );
        assert.equal(w.metadata.namespace, ns);
      }
      const job = objs.find((o) => o.kind === "Job" && o.metadata.namespace === ns && o.metadata.name === "tally-db-roles") as any;
      assert.ok(job !== undefined, `${name} ${ns}: the roles Job`);
      const c = job.spec.template.spec.containers[0];
      assert.deepEqual(c.args, ["cli", "db", "roles", "--apply"]);
      assert.deepEqual(env(c, "PGPASSWORD").valueFrom.secretKeyRef, { name: "tally-db-superuser", key: "password" });
      if (name === "dev") {
        // The dev Job sets the roles' passwords; the URLs use them.
        assert.deepEqual(env(c, "DB_READER_PASSWORD").valueFrom.secretKeyRef, { name: "tally-db-reader", key: "password" });
        assert.equal(new URL(secretValue(objs, ns, "tally-db-reader", "uri")!).username, "app_r");
        assert.equal(new URL(secretValue(objs, ns, "tally-db-writer", "uri")!).username, "app_w");
      } else {
        // CloudNativePG makes both roles from the same Secrets; the Job only grants.
        assert.equal(env(c, "DB_READER_PASSWORD"), undefined);
        const cluster = objs.find((o) => o.kind === "Cluster" && o.metadata.namespace === ns) as any;
        assert.deepEqual(
          cluster.spec.managed.roles.map((r: any) => [r.name, r.login, r.passwordSecret.name]),
          [
            ["app_w", true, "tally-db-writer"],
            ["app_r", true, "tally-db-reader"],
          ],
        );
        assert.equal(cluster.spec.enableSuperuserAccess, true);
      }
    }
    assert.deepEqual(databaseRoleViolations(objs), [], name);
  }
  // The roles in the manifests are the ones `tally db roles` makes for the database app.
  assert.equal(readFileSync(join(k8s, "base/postgres-cnpg/cluster.yaml"), "utf8").includes("database: app"), true);
});

test("the committed NATS users are what `tally bus users --k8s --dev-passwords` makes from the sample consortium's genesis", () => {
  const dir = mkdtempSync(join(tmpdir(), "tally-k8s-genesis-"));
  try {
    // Keys and times differ from chain to chain; the users depend only on the consortium's shape.
    const { genesis } = writeConsortium(dir, SAMPLE_CONSORTIUM, Date.now());
    const files = k8sNatsFiles(genesis, { dev: true, gatewayInstitutions: gatewayInstitutionsOf(SAMPLE_CONSORTIUM) }, () => {
      throw new Error("no random password in dev");
    });
    assert.equal(readFileSync(join(k8s, "base/ordering/nats-authorization.conf"), "utf8"), files["nats-authorization.conf"]);
    assert.equal(readFileSync(join(k8s, "overlays/dev/nats-credentials/nats-secrets.yaml"), "utf8"), files["nats-secrets.yaml"]);
    // Every sequencer and node of the genesis runs in the manifests, under the matching ids.
    const seqIds = containers(dev).flatMap(({ c }) => (tallyService(c) === "sequencer" ? [env(c, "SEQUENCER_ID").value] : []));
    assert.deepEqual(seqIds.sort(), genesis.sequencers.map((s) => s.id).sort());
    const nodeIds = dev.filter((o) => o.kind === "ConfigMap" && /^tally-node/.test(o.metadata.name)).map((o: any) => o.data.NODE_ID);
    assert.deepEqual(nodeIds.sort(), [...new Set(genesis.validators.map((v) => v.nodeId))].sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("prod: the generator's Secrets (random passwords) fit the overlay, and without them nothing is shipped", () => {
  assert.equal(prod.filter((o) => o.kind === "Secret").length, 0);
  const dir = mkdtempSync(join(tmpdir(), "tally-k8s-prod-"));
  try {
    const { genesis } = writeConsortium(dir, SAMPLE_CONSORTIUM, Date.now());
    let n = 0;
    const files = k8sNatsFiles(
      genesis,
      { gatewayInstitutions: gatewayInstitutionsOf(SAMPLE_CONSORTIUM) },
      () => `prod${++n}x${"a".repeat(20)}`,
    );
    assert.doesNotMatch(files["nats-secrets.yaml"], /dev-only/);
    const withSecrets = [...prod, ...parseObjects(files["nats-secrets.yaml"])];
    assert.deepEqual(natsCredentialViolations(withSecrets), []);
    assert.deepEqual(natsServerViolations(withSecrets), []);
    assert.deepEqual(projectViolations(withSecrets), []);
    // One wrong password is found.
    const broken = structuredClone(withSecrets) as any[];
    const server = broken.find((o) => o.kind === "Secret" && o.metadata.name === "tally-nats-server");
    server.stringData.TALLY_NATS_PASSWORD_GATEWAY_NODE_BANK_A = "another-password";
    assert.deepEqual(natsCredentialViolations(broken), [
      "Deployment tally-node-bank-a/gateway container gateway: NATS_URL's password for gateway-node-bank-a is not the one the NATS server has",
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the generator refuses bad input, naming it", () => {
  const dir = mkdtempSync(join(tmpdir(), "tally-k8s-gen-"));
  try {
    const { genesis } = writeConsortium(dir, SAMPLE_CONSORTIUM, Date.now());
    assert.throws(
      () => k8sNatsCredentials(genesis, { passwordOf: () => "1starts-with-a-digit" }),
      /password of NATS user admin must be 8 to 128/,
    );
    assert.throws(() => k8sNatsCredentials(genesis, { passwordOf: () => "short" }), /password of NATS user admin/);
    assert.throws(() => k8sNatsCredentials(genesis, { passwordOf: () => 'has"quote"inside' }), /password of NATS user admin/);
    assert.throws(
      () => k8sNatsCredentials(genesis, { passwordOf: devOnlyPassword, layout: { orderingNamespace: "Tally_Ordering" } }),
      /Kubernetes namespace "Tally_Ordering" is not a valid name/,
    );
    assert.throws(
      () => k8sNatsCredentials(genesis, { passwordOf: devOnlyPassword, layout: { servers: ["nats:notaport"] } }),
      /"nats:notaport" is not host:port/,
    );
    assert.throws(() => k8sNatsCredentials(genesis, { passwordOf: devOnlyPassword, layout: { servers: [] } }), /no NATS server/);
    assert.throws(
      () => k8sNatsCredentials(genesis, { passwordOf: devOnlyPassword, layout: { nodeNamespaces: { "node-nowhere": "tally-nowhere" } } }),
      /node node-nowhere of the layout is not a validator node/,
    );
    assert.throws(() => k8sNatsCredentials(genesis, { passwordOf: devOnlyPassword, namespace: "Bad Namespace" }), /bus namespace/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
