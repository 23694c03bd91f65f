// Unknown-field check: every field of a rendered object must be one the Kubernetes API knows.
// kubernetes-models' schemas allow extra properties, and the API server (absent here) would
// only warn or drop them, so a typo such as `minAvaliable` would pass silently. The field lists
// come from @kubernetes/client-node's generated models (attributeTypeMap), one per API type.
import * as k8s from "@kubernetes/client-node";
import type { K8sObject } from "./render.js";

interface Attribute {
  readonly name: string;
  readonly baseName: string;
  readonly type: string;
}
type ModelClass = { getAttributeTypeMap(): Attribute[] };

const models = k8s as unknown as Record<string, ModelClass | undefined>;

/** One field the API does not know, with its path in the object. */
export interface UnknownField {
  readonly path: string;
  readonly field: string;
}

/** The client-node model class name of an apiVersion/kind, e.g. apps/v1 Deployment → V1Deployment. */
export function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split("/").at(-1)!;
  return version.charAt(0).toUpperCase() + version.slice(1) + kind;
}

/** True when client-node has a model for this apiVersion/kind (built-in Kubernetes types). */
export function hasModel(apiVersion: string, kind: string): boolean {
  return typeof models[modelName(apiVersion, kind)]?.getAttributeTypeMap === "function";
}

/** The fields of obj (a built-in type) that its API type does not declare. */
export function unknownFields(obj: K8sObject): UnknownField[] {
  const name = modelName(obj.apiVersion, obj.kind);
  if (!hasModel(obj.apiVersion, obj.kind)) throw new Error(`no API model for ${obj.apiVersion} ${obj.kind} (${name})`);
  const out: UnknownField[] = [];
  walk(obj, name, "", out);
  return out;
}

function walk(value: unknown, type: string, path: string, out: UnknownField[]): void {
  if (value === null || value === undefined) return;
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr !== null) {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, arr[1]!, `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map !== null) {
    if (typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, map[1]!, `${path}.${k}`, out);
    return;
  }
  const model = models[type];
  if (model === undefined || typeof model.getAttributeTypeMap !== "function") return; // a scalar, IntOrString, any
  if (typeof value !== "object" || Array.isArray(value)) return; // wrong shapes are the schema check's job
  const attrs = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a]));
  for (const [k, v] of Object.entries(value)) {
    const a = attrs.get(k);
    const p = path === "" ? k : `${path}.${k}`;
    if (a === undefined) out.push({ path: p, field: k });
    else walk(v, a.type, p, out);
  }
}

/**
 * The fields of a CloudNativePG Cluster (postgresql.cnpg.io/v1) that Tally's manifests may use,
 * from the operator's API reference. kubernetes-models and client-node have no CNPG types, so
 * anything outside this list is refused: add a field here (checked against the CNPG docs) to use it.
 */
const CNPG_CLUSTER: Shape = {
  apiVersion: null,
  kind: null,
  metadata: { name: null, namespace: null, labels: "map", annotations: "map" },
  spec: {
    instances: null,
    imageName: null,
    primaryUpdateStrategy: null,
    primaryUpdateMethod: null,
    enablePDB: null,
    description: null,
    bootstrap: { initdb: { database: null, owner: null, secret: { name: null } } },
    superuserSecret: { name: null },
    enableSuperuserAccess: null,
    storage: { size: null, storageClass: null },
    walStorage: { size: null, storageClass: null },
    inheritedMetadata: { labels: "map", annotations: "map" },
    affinity: { enablePodAntiAffinity: null, podAntiAffinityType: null, topologyKey: null, nodeSelector: "map" },
    postgresql: { parameters: "map" },
    resources: { requests: "map", limits: "map" },
    monitoring: { enablePodMonitor: null },
    minSyncReplicas: null,
    maxSyncReplicas: null,
    // The node's roles (issue 13): RoleConfiguration in the CNPG API reference.
    managed: {
      roles: {
        "[]": {
          name: null,
          comment: null,
          ensure: null,
          login: null,
          superuser: null,
          createdb: null,
          createrole: null,
          inherit: null,
          replication: null,
          bypassrls: null,
          connectionLimit: null,
          validUntil: null,
          inRoles: null,
          disablePassword: null,
          passwordSecret: { name: null },
        },
      },
    },
  },
};
/** A field's shape: its fields, "map" (any keys), null (a value); "[]" is the shape of each element of an array. */
type Shape = { readonly [field: string]: Shape | "map" | null };

/** The fields of a CNPG Cluster outside CNPG_CLUSTER. */
export function unknownCnpgFields(obj: K8sObject): UnknownField[] {
  const out: UnknownField[] = [];
  const go = (v: unknown, shape: Shape, path: string): void => {
    const each = shape["[]"];
    if (Array.isArray(v)) {
      if (each !== undefined && each !== null && each !== "map") v.forEach((x, i) => go(x, each, `${path}[${i}]`));
      return;
    }
    if (typeof v !== "object" || v === null) return;
    for (const [k, child] of Object.entries(v)) {
      const p = path === "" ? k : `${path}.${k}`;
      const sub = shape[k];
      if (sub === undefined) out.push({ path: p, field: k });
      else if (sub !== null && sub !== "map") go(child, sub, p);
    }
  };
  go(obj, CNPG_CLUSTER, "");
  return out;
}
