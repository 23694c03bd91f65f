// CI's offline check of k8s/ (issue 9): each overlay renders with `kubectl kustomize`, every
// object validates with kubernetes-models and has no field the Kubernetes API does not know,
// and the project's rules hold for every workload. Also: the overlays' patches really applied
// (kustomize exits 0 on a patch that matches nothing), and the NATS config in k8s/ is the one in deploy/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "@tally/testkit";
import { checkOverlay } from "./check.js";
import type { K8sObject } from "./render.js";

const k8s = join(repoRoot, "k8s");
const NODE_NAMESPACES = ["tally-node-exchange", "tally-node-clearing", "tally-node-bank-a", "tally-regulator"];

const find = (objs: K8sObject[], kind: string, ns: string, name: string): any =>
  objs.find((o) => o.kind === kind && o.metadata.namespace === ns && o.metadata.name === name);

for (const overlay of ["dev", "prod"]) {
  test(`k8s/overlays/${overlay} renders, validates, has no unknown field and keeps every project rule`, async () => {
    const { objects, problems } = await checkOverlay(join(k8s, "overlays", overlay));
    assert.deepEqual(problems, []);
    const kinds = new Set(objects.map((o) => o.kind));
    for (const k of ["Namespace", "Deployment", "StatefulSet", "PodDisruptionBudget", "NetworkPolicy", "Service", "ConfigMap"])
      assert.ok(kinds.has(k), `${overlay} renders a ${k}`);
    // One namespace per node plus the ordering tier, each from its own kustomization.
    const namespaces = objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name);
    assert.deepEqual(namespaces.sort(), ["tally-ordering", ...NODE_NAMESPACES].sort());
  });
}

test("dev runs a PostgreSQL StatefulSet per node and prod a CloudNativePG Cluster per node", async () => {
  const dev = (await checkOverlay(join(k8s, "overlays/dev"))).objects;
  const prod = (await checkOverlay(join(k8s, "overlays/prod"))).objects;
  for (const ns of NODE_NAMESPACES) {
    assert.equal(find(dev, "StatefulSet", ns, "tally-db")?.spec.replicas, 1, `dev ${ns}`);
    assert.equal(find(dev, "Cluster", ns, "tally-db"), undefined);
    assert.equal(find(prod, "Cluster", ns, "tally-db")?.apiVersion, "postgresql.cnpg.io/v1", `prod ${ns}`);
    assert.equal(find(prod, "StatefulSet", ns, "tally-db"), undefined);
    // The same Secret and key in both, so the services do not change between overlays.
    const env = find(prod, "Deployment", ns, "executor").spec.template.spec.containers[0].env;
    assert.deepEqual(env.find((e: any) => e.name === "DATABASE_URL").valueFrom.secretKeyRef, { name: "tally-db-app", key: "uri" });
  }
  // Dev ships its development Secrets; prod ships none (they are created out of band).
  assert.ok(dev.some((o) => o.kind === "Secret"));
  assert.equal(prod.filter((o) => o.kind === "Secret").length, 0);
});

test("each overlay's patches took effect (a patch that matches nothing still exits 0)", async () => {
  const dev = (await checkOverlay(join(k8s, "overlays/dev"))).objects;
  const prod = (await checkOverlay(join(k8s, "overlays/prod"))).objects;
  assert.equal(find(dev, "Deployment", "tally-node-clearing", "gateway").spec.replicas, 1);
  assert.equal(find(prod, "Deployment", "tally-node-clearing", "gateway").spec.replicas, 2);
  assert.deepEqual(find(dev, "Deployment", "tally-regulator", "regfeed").spec.template.spec.containers[0].resources.requests, {
    cpu: "50m",
    memory: "128Mi",
  });
  assert.equal(find(dev, "StatefulSet", "tally-ordering", "nats").spec.volumeClaimTemplates[0].spec.resources.requests.storage, "5Gi");
  assert.equal(find(prod, "Deployment", "tally-node-bank-a", "executor").spec.template.spec.containers[0].resources.requests.cpu, "2");
  assert.equal(
    find(prod, "Deployment", "tally-node-bank-a", "gateway").spec.template.spec.topologySpreadConstraints[1].whenUnsatisfiable,
    "DoNotSchedule",
  );
  for (const [objs, image] of [
    [dev, "tally:0.1.0-dev"],
    [prod, "registry.example.com/tally:0.1.0"],
  ] as const)
    assert.equal(find(objs, "Deployment", "tally-ordering", "seq-exchange").spec.template.spec.containers[0].image, image);
});

test("k8s/ runs the NATS configuration of deploy/: the same accounts file, the cluster settings with Kubernetes routes", () => {
  const read = (p: string): string => readFileSync(join(repoRoot, p), "utf8");
  assert.equal(read("k8s/base/ordering/nats-server-accounts.conf"), read("deploy/nats-server-accounts.conf"));
  const settings = (conf: string): string =>
    conf
      .split("\n")
      .filter((l) => !/^\s*#/.test(l) && !/nats-route:\/\//.test(l) && l.trim() !== "")
      .join("\n");
  // The k8s copy also sets a pid file, for the preStop hook's lame-duck signal.
  assert.equal(settings(read("k8s/base/ordering/nats.conf")).replace(/\npid_file: .*/, ""), settings(read("deploy/nats-cluster.conf")));
});

test("prod: NATS accepts TLS only, with its key from a Secret; every service trusts the CA from a Secret (issue 13)", async () => {
  const prod = (await checkOverlay(join(k8s, "overlays/prod"))).objects;
  const nats = find(prod, "StatefulSet", "tally-ordering", "nats").spec.template.spec;
  assert.deepEqual(nats.containers[0].args, ["-c", "/etc/nats/nats-tls.conf"]);
  const sources = nats.volumes.find((v: any) => v.name === "config").projected.sources.map((s: any) => s.configMap.name);
  const tlsConf = prod.find(
    (o) => o.kind === "ConfigMap" && sources.includes(o.metadata.name) && /^nats-tls-config/.test(o.metadata.name),
  ) as any;
  assert.ok(tlsConf !== undefined, `the projected config holds nats-tls-config: ${sources.join(", ")}`);
  const conf: string = tlsConf.data["nats-tls.conf"];
  assert.match(conf, /include "nats.conf"/);
  const tlsVolume = nats.volumes.find((v: any) => v.secret?.secretName === "tally-nats-tls");
  const mount = nats.containers[0].volumeMounts.find((m: any) => m.name === tlsVolume.name).mountPath;
  assert.ok(conf.includes(`cert_file: "${mount}/tls.crt"`) && conf.includes(`key_file: "${mount}/tls.key"`), conf);
  // No ConfigMap carries key material.
  for (const cm of prod.filter((o) => o.kind === "ConfigMap") as any[])
    for (const v of Object.values(cm.data ?? {})) assert.doesNotMatch(String(v), /PRIVATE KEY/, cm.metadata.name);
  const deployments = prod.filter((o) => o.kind === "Deployment") as any[];
  assert.ok(deployments.length >= 10);
  for (const d of deployments) {
    const spec = d.spec.template.spec;
    const caFile = spec.containers[0].env.find((e: any) => e.name === "NATS_CA_FILE")?.value;
    assert.ok(caFile !== undefined, `${d.metadata.namespace}/${d.metadata.name} sets NATS_CA_FILE`);
    // The mount that holds the file: the longest mount path above it.
    const m = spec.containers[0].volumeMounts
      .filter((x: any) => caFile.startsWith(`${x.mountPath}/`))
      .sort((a: any, b: any) => b.mountPath.length - a.mountPath.length)[0];
    assert.equal(spec.volumes.find((v: any) => v.name === m?.name)?.secret?.secretName, "tally-nats-ca", d.metadata.name);
  }
  // Dev stays plaintext (its Secrets are development-only).
  const dev = (await checkOverlay(join(k8s, "overlays/dev"))).objects;
  assert.deepEqual(find(dev, "StatefulSet", "tally-ordering", "nats").spec.template.spec.containers[0].args, ["-c", "/etc/nats/nats.conf"]);
});
