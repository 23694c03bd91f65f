// The offline checks fail on broken manifests, and say where: a misspelt field (minAvaliable)
// names the field and its path, through kustomize as CI runs it; a wrong type fails the schema;
// each project rule, broken on purpose in a copy of the dev overlay, is reported by name.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "@tally/testkit";
import { checkOverlay, objectProblems } from "./check.js";
import { render, type K8sObject } from "./render.js";
import { projectViolations } from "./rules.js";
import { unknownCnpgFields, unknownFields } from "./unknown-fields.js";

let dev: K8sObject[];
before(() => {
  dev = render(join(repoRoot, "k8s/overlays/dev"));
});
const copy = (): any[] => structuredClone(dev) as any[];
const one = (objs: any[], kind: string, ns: string, name: string): any =>
  objs.find((o) => o.kind === kind && o.metadata.namespace === ns && o.metadata.name === name);

test("a PodDisruptionBudget with minAvaliable fails, naming the field", async () => {
  const pdb: K8sObject = {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "gateway", namespace: "tally-node-bank-a" },
    spec: { minAvaliable: 1, selector: { matchLabels: { "app.kubernetes.io/name": "gateway" } } },
  };
  assert.deepEqual(unknownFields(pdb), [{ path: "spec.minAvaliable", field: "minAvaliable" }]);
  assert.deepEqual(await objectProblems([pdb]), ["PodDisruptionBudget tally-node-bank-a/gateway: unknown field spec.minAvaliable"]);
  // The correct spelling passes.
  const good = structuredClone(pdb) as any;
  good.spec = { minAvailable: 1, selector: good.spec.selector };
  assert.deepEqual(await objectProblems([good]), []);
});

test("a typo deep in a pod template is found with its path", () => {
  const objs = copy();
  const gw = one(objs, "Deployment", "tally-node-clearing", "gateway");
  const probe = gw.spec.template.spec.containers[0].readinessProbe;
  probe.grcp = probe.grpc;
  delete probe.grpc;
  gw.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem = true;
  assert.deepEqual(
    unknownFields(gw).map((u) => u.path),
    ["spec.template.spec.containers[0].readinessProbe.grcp", "spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem"],
  );
});

test("through kustomize, as CI runs it: a misspelt field in a base file fails the overlay and names the field", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tally-k8s-typo-"));
  try {
    cpSync(join(repoRoot, "k8s"), join(dir, "k8s"), { recursive: true });
    const file = join(dir, "k8s/base/ordering/nats.yaml");
    const text = readFileSync(file, "utf8");
    assert.ok(text.includes("  maxUnavailable: 1\n"));
    writeFileSync(file, text.replace("  maxUnavailable: 1\n", "  maxUnavialable: 1\n"));
    const { problems } = await checkOverlay(join(dir, "k8s/overlays/prod"));
    assert.ok(
      problems.includes("PodDisruptionBudget tally-ordering/nats: unknown field spec.maxUnavialable"),
      `problems:\n${problems.join("\n")}`,
    );
    // The PDB now sets neither bound, which the rules report too.
    assert.ok(problems.some((p) => p.startsWith("PodDisruptionBudget tally-ordering/nats: must set exactly one of")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a value of the wrong type fails the kubernetes-models schema", async () => {
  const objs = copy();
  const d = one(objs, "Deployment", "tally-ordering", "seq-exchange");
  d.spec.replicas = "one";
  const problems = await objectProblems([d]);
  assert.equal(problems.length, 1, problems.join("\n"));
  assert.match(problems[0]!, /Deployment tally-ordering\/seq-exchange: .*replicas must be integer/);
});

test("a CloudNativePG Cluster without the node's managed roles fails, naming what is missing", () => {
  const prod = render(join(repoRoot, "k8s/overlays/prod"));
  assert.deepEqual(projectViolations(prod), []);
  const broken = structuredClone(prod) as any[];
  const cluster = one(broken, "Cluster", "tally-node-bank-a", "tally-db");
  cluster.spec.managed.roles = cluster.spec.managed.roles.filter((r: any) => r.name !== "app_r");
  cluster.spec.managed.roles[0].superuser = true;
  delete cluster.spec.enableSuperuserAccess;
  const v = projectViolations(broken);
  for (const m of [
    "Cluster tally-node-bank-a/tally-db: no managed role with passwordSecret tally-db-reader",
    "Cluster tally-node-bank-a/tally-db: managed role app_w must log in and be neither superuser, createrole nor createdb",
    "Cluster tally-node-bank-a/tally-db: enableSuperuserAccess is needed by the roles Job (tally-db-superuser)",
  ])
    assert.ok(v.includes(m), `expected ${m}, got:\n${v.join("\n")}`);
  // A typo in a managed role's field is an unknown field.
  cluster.spec.managed.roles[0].passwordSecrt = { name: "x" };
  assert.deepEqual(
    unknownCnpgFields(cluster).map((u) => u.path),
    ["spec.managed.roles[0].passwordSecrt"],
  );
});

test("a CloudNativePG Cluster with an unknown field fails, naming it", () => {
  const cluster: K8sObject = {
    apiVersion: "postgresql.cnpg.io/v1",
    kind: "Cluster",
    metadata: { name: "tally-db", namespace: "tally-node-bank-a" },
    spec: { instances: 2, storage: { size: "1Gi", storageClas: "fast" }, instnces: 3 },
  };
  assert.deepEqual(
    unknownCnpgFields(cluster).map((u) => u.path),
    ["spec.storage.storageClas", "spec.instnces"],
  );
});

test("each project rule, broken on purpose, is reported", () => {
  assert.deepEqual(projectViolations(dev), [], "the dev overlay itself keeps the rules");
  const cases: [string, (objs: any[]) => void, RegExp][] = [
    [
      "no preStop",
      (o) => delete one(o, "Deployment", "tally-node-clearing", "gateway").spec.template.spec.containers[0].lifecycle,
      /Deployment tally-node-clearing\/gateway container gateway: no preStop hook/,
    ],
    [
      "writable root fs",
      (o) =>
        (one(
          o,
          "Deployment",
          "tally-node-clearing",
          "executor",
        ).spec.template.spec.initContainers[0].securityContext.readOnlyRootFilesystem = false),
      /Deployment tally-node-clearing\/executor initContainer key: readOnlyRootFilesystem is not true/,
    ],
    [
      "capabilities kept",
      (o) => (one(o, "StatefulSet", "tally-ordering", "nats").spec.template.spec.containers[0].securityContext.capabilities.drop = []),
      /StatefulSet tally-ordering\/nats container nats: capabilities.drop does not include ALL/,
    ],
    [
      "root",
      (o) => (one(o, "Deployment", "tally-regulator", "regfeed").spec.template.spec.securityContext.runAsUser = 0),
      /Deployment tally-regulator\/regfeed: pod securityContext.runAsUser is 0/,
    ],
    [
      "no limits",
      (o) => delete one(o, "Deployment", "tally-node-bank-a", "blockstore").spec.template.spec.containers[0].resources.limits,
      /Deployment tally-node-bank-a\/blockstore container blockstore: no resources.limits.memory/,
    ],
    [
      "probe on the mTLS port",
      (o) => (one(o, "Deployment", "tally-node-bank-a", "gateway").spec.template.spec.containers[0].livenessProbe.grpc.port = 50051),
      /gateway container gateway: livenessProbe checks port 50051, not the health port 8081/,
    ],
    [
      "HTTP probe on a Tally service",
      (o) =>
        (one(o, "Deployment", "tally-node-bank-a", "executor").spec.template.spec.containers[0].readinessProbe = {
          tcpSocket: { port: 8081 },
        }),
      /executor container executor: readinessProbe is not a gRPC probe/,
    ],
    [
      "grace too short",
      (o) => (one(o, "Deployment", "tally-ordering", "seq-clearing").spec.template.spec.terminationGracePeriodSeconds = 15),
      /seq-clearing container sequencer: terminationGracePeriodSeconds 15 is not longer than preStop \(5 s\) \+ DRAIN_TIMEOUT_MS \(15000 ms\)/,
    ],
    [
      "no topology spread",
      (o) => delete one(o, "Deployment", "tally-node-exchange", "executor").spec.template.spec.topologySpreadConstraints,
      /Deployment tally-node-exchange\/executor: no topologySpreadConstraints/,
    ],
    [
      "no PDB",
      (o) => o.splice(o.indexOf(one(o, "PodDisruptionBudget", "tally-node-exchange", "blockstore")), 1),
      /Deployment tally-node-exchange\/blockstore: no PodDisruptionBudget selects its pods/,
    ],
    [
      "a password in a ConfigMap",
      (o) =>
        (one(
          o,
          "ConfigMap",
          "tally-regulator",
          o.find((x: any) => x.kind === "ConfigMap" && x.metadata.namespace === "tally-regulator").metadata.name,
        ).data.DB_PASSWORD = "x"),
      /ConfigMap tally-regulator\/tally-node-\w+: key DB_PASSWORD looks like a secret/,
    ],
    [
      "a database URL as a literal",
      (o) => {
        const env = one(o, "Deployment", "tally-node-clearing", "blockstore").spec.template.spec.containers[0].env;
        env.find((e: any) => e.name === "DATABASE_URL").valueFrom = undefined;
        env.find((e: any) => e.name === "DATABASE_URL").value = "postgres://app:pw@db/app";
      },
      /blockstore container blockstore env DATABASE_URL: a secret as a literal value/,
    ],
    [
      "regulator without default deny",
      (o) => o.splice(o.indexOf(one(o, "NetworkPolicy", "tally-regulator", "default-deny")), 1),
      /tally-regulator: no default-deny NetworkPolicy/,
    ],
    [
      "regulator egress to a gateway",
      (o) => one(o, "NetworkPolicy", "tally-regulator", "allow-nats-client").spec.egress[0].ports.push({ protocol: "TCP", port: 50051 }),
      /NetworkPolicy tally-regulator\/allow-nats-client: allows egress to port 50051/,
    ],
    [
      "a gateway in the regulator's namespace",
      (o) => {
        const gw = structuredClone(one(o, "Deployment", "tally-node-bank-a", "gateway"));
        gw.metadata.namespace = "tally-regulator";
        o.push(gw);
      },
      /Deployment tally-regulator\/gateway: runs the gateway; the regulator's namespace may only read/,
    ],
    [
      "sequencers may share a node",
      (o) => delete one(o, "Deployment", "tally-ordering", "seq-exchange").spec.template.spec.affinity,
      /seq-exchange: no required anti-affinity on kubernetes.io\/hostname against the other sequencers/,
    ],
    [
      "an old NATS",
      (o) => (one(o, "StatefulSet", "tally-ordering", "nats").spec.template.spec.containers[0].image = "nats:2.9.10-alpine"),
      /NATS image nats:2.9.10-alpine is older than 2.11/,
    ],
    [
      "a node without its database",
      (o) => o.splice(o.indexOf(one(o, "StatefulSet", "tally-node-bank-a", "tally-db")), 1),
      /namespace tally-node-bank-a: no PostgreSQL/,
    ],
    // Least privilege (issue 13).
    [
      "a plaintext NATS URL",
      (o) => {
        const sec = one(o, "Secret", "tally-node-bank-a", "tally-nats-client");
        sec.stringData.node = sec.stringData.node.replace(/tls:\/\//g, "nats://");
      },
      /Deployment tally-node-bank-a\/blockstore container blockstore: NATS_URL has servers that are not tls:\/\//,
    ],
    [
      "a gateway connecting as the admin",
      (o) => {
        const e = one(o, "Deployment", "tally-node-clearing", "gateway").spec.template.spec.containers[0].env;
        e.find((x: any) => x.name === "NATS_URL").valueFrom.secretKeyRef = { name: "tally-nats-admin", key: "url" };
      },
      /gateway container gateway: env NATS_URL reads the NATS admin's Secret; only the setup Job may/,
    ],
    [
      "a node's services with another node's NATS user",
      (o) => {
        const mine = one(o, "Secret", "tally-node-bank-a", "tally-nats-client");
        mine.stringData.node = one(o, "Secret", "tally-node-clearing", "tally-nats-client").stringData.node;
      },
      /tally-node-bank-a\/executor container executor: NATS_URL connects as node-node-clearing, not as its own user node-node-bank-a/,
    ],
    [
      "a sequencer reading another sequencer's key",
      (o) => {
        const e = one(o, "Deployment", "tally-ordering", "seq-exchange").spec.template.spec.containers[0].env;
        e.find((x: any) => x.name === "NATS_URL").valueFrom.secretKeyRef.key = "seq-clearing";
      },
      /seq-exchange container sequencer: NATS_URL must come from Secret tally-nats-client key seq-exchange \(user sequencer-seq-exchange\)/,
    ],
    [
      "no NATS_CA_FILE",
      (o) => {
        const c = one(o, "Deployment", "tally-regulator", "regfeed").spec.template.spec.containers[0];
        c.env = c.env.filter((x: any) => x.name !== "NATS_CA_FILE");
      },
      /tally-regulator\/regfeed container regfeed: no NATS_CA_FILE/,
    ],
    [
      "services that manage streams",
      (o) =>
        (o.find((x: any) => x.kind === "ConfigMap" && x.metadata.namespace === "tally-node-exchange").data.NATS_ENSURE_STREAMS = "true"),
      /tally-node-exchange\/executor container executor: NATS_ENSURE_STREAMS is not false/,
    ],
    [
      "no setup Job",
      (o) => o.splice(o.indexOf(one(o, "Job", "tally-ordering", "tally-bus-setup")), 1),
      /expected one Job that runs `tally bus setup` as the NATS admin, found 0/,
    ],
    [
      "plaintext routes",
      (o) => {
        const cm = o.find((x: any) => x.kind === "ConfigMap" && /^nats-config/.test(x.metadata.name));
        cm.data["nats.conf"] = cm.data["nats.conf"].replace(/\n {2}tls \{[^}]*\}\n/, "\n");
      },
      /StatefulSet tally-ordering\/nats: cluster has no tls block: the routes between servers must use TLS/,
    ],
    [
      "routes that do not verify",
      (o) => {
        const cm = o.find((x: any) => x.kind === "ConfigMap" && /^nats-config/.test(x.metadata.name));
        cm.data["nats.conf"] = cm.data["nats.conf"].replace("verify: true", "verify: false");
      },
      /cluster tls must verify the other servers' certificates/,
    ],
    [
      "plaintext clients",
      (o) => {
        const cm = o.find((x: any) => x.kind === "ConfigMap" && /^nats-config/.test(x.metadata.name));
        cm.data["nats.conf"] = cm.data["nats.conf"].replace(/\ntls \{[^}]*\}\n/, "\n");
      },
      /StatefulSet tally-ordering\/nats: no tls block: NATS must accept TLS clients only/,
    ],
    [
      "the NATS key from a ConfigMap",
      (o) => {
        const v = one(o, "StatefulSet", "tally-ordering", "nats").spec.template.spec.volumes;
        v.find((x: any) => x.name === "tls").secret = undefined;
        v.find((x: any) => x.name === "tls").configMap = { name: "nats-tls" };
      },
      /the client TLS key \/etc\/nats-tls\/tls.key does not come from a Secret volume/,
    ],
    [
      "a NATS password written in the config",
      (o) => {
        const cm = o.find((x: any) => x.kind === "ConfigMap" && /^nats-config/.test(x.metadata.name));
        cm.data["nats-authorization.conf"] = cm.data["nats-authorization.conf"].replace(
          "$TALLY_NATS_PASSWORD_REGULATOR",
          '"hunter2hunter2"',
        );
      },
      /the password of NATS user regulator is written in the config; use a \$VARIABLE from a Secret/,
    ],
    [
      "a NATS user's password missing from the server's Secret",
      (o) => delete one(o, "Secret", "tally-ordering", "tally-nats-server").stringData.TALLY_NATS_PASSWORD_ADMIN,
      /the password of NATS user admin \(\$TALLY_NATS_PASSWORD_ADMIN\) is in none of the Secrets tally-nats-server/,
    ],
    [
      "no authorization block",
      (o) => {
        const cm = o.find((x: any) => x.kind === "ConfigMap" && /^nats-config/.test(x.metadata.name));
        cm.data["nats.conf"] = cm.data["nats.conf"].replace('include "nats-authorization.conf"', "");
      },
      /StatefulSet tally-ordering\/nats: no authorization block/,
    ],
    [
      "the gateway as the database writer",
      (o) => {
        const e = one(o, "Deployment", "tally-node-exchange", "gateway").spec.template.spec.containers[0].env;
        e.find((x: any) => x.name === "DATABASE_URL").valueFrom.secretKeyRef.name = "tally-db-writer";
      },
      /tally-node-exchange\/gateway container gateway: DATABASE_URL must come from Secret tally-db-reader key uri \(the read-only role\)/,
    ],
    [
      "an executor as the database admin",
      (o) => {
        const e = one(o, "Deployment", "tally-node-exchange", "executor").spec.template.spec.containers[0].env;
        e.find((x: any) => x.name === "DATABASE_URL").valueFrom.secretKeyRef = { name: "tally-db-superuser", key: "uri" };
      },
      /tally-node-exchange\/executor container executor: env DATABASE_URL reads the database admin's Secret; only the roles Job may/,
    ],
    [
      "the reader's URL logging in as the writer",
      (o) => {
        const s = one(o, "Secret", "tally-node-bank-a", "tally-db-reader");
        s.data.uri = Buffer.from("postgresql://app_w:dev-only-writer@tally-db-rw.tally-node-bank-a.svc:5432/app").toString("base64");
      },
      /Secret tally-node-bank-a\/tally-db-reader: uri logs in as app_w, not as its username app_r/,
    ],
    [
      "no roles Job",
      (o) => o.splice(o.indexOf(one(o, "Job", "tally-regulator", "tally-db-roles")), 1),
      /namespace tally-regulator: expected one Job that runs `tally db roles --apply`, found 0/,
    ],
    [
      "a Job as root, retrying forever",
      (o) => {
        const j = one(o, "Job", "tally-ordering", "tally-bus-setup");
        j.spec.template.spec.securityContext.runAsUser = 0;
        delete j.spec.backoffLimit;
      },
      /Job tally-ordering\/tally-bus-setup: pod securityContext.runAsUser is 0 \(root\)/,
    ],
    [
      "a Job with a writable root filesystem",
      (o) =>
        (one(o, "Job", "tally-node-clearing", "tally-db-roles").spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem =
          false),
      /Job tally-node-clearing\/tally-db-roles container roles: readOnlyRootFilesystem is not true/,
    ],
  ];
  for (const [what, breakIt, expected] of cases) {
    const objs = copy();
    breakIt(objs);
    const v = projectViolations(objs);
    assert.ok(
      v.some((m) => expected.test(m)),
      `${what}: expected a violation matching ${expected}, got:\n${v.join("\n")}`,
    );
  }
});
