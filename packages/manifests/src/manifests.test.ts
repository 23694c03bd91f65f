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
    for (const objs of [dev, prod]) {
      const env = find(objs, "Deployment", ns, "executor").spec.template.spec.containers[0].env;
      assert.deepEqual(env.find((e: any) => e.name === "DATABASE_URL").valueFrom.secretKeyRef, { name: "tally-db-writer", key: "uri" });
    }
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

test("k8s/ runs deploy/'s NATS cluster settings, with Kubernetes routes", () => {
  const read = (p: string): string => readFileSync(join(repoRoot, p), "utf8");
  const k8sConf = read("k8s/base/ordering/nats.conf");
  // Every setting of deploy/nats-cluster.conf but the routes (and its accounts include) is in k8s/.
  for (const line of read("deploy/nats-cluster.conf")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#") && !l.includes("nats-route://") && !l.startsWith("include") && l !== "]" && l !== "}"))
    assert.ok(
      k8sConf.split("\n").some((l) => l.trim() === line),
      `k8s/base/ordering/nats.conf has ${line}`,
    );
  // And the single server's settings of deploy/nats-server.conf (listen, max_payload, JetStream).
  for (const line of read("deploy/nats-server.conf")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#") && l !== "}"))
    assert.ok(
      k8sConf.split("\n").some((l) => l.trim() === line),
      `k8s/base/ordering/nats.conf has ${line}`,
    );
  for (const i of [0, 1, 2]) assert.ok(k8sConf.includes(`"nats-route://nats-${i}.nats.tally-ordering.svc.cluster.local:6222"`));
});
