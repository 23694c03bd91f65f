// Renders a kustomize overlay offline with `kubectl kustomize` (no API server involved) and
// parses the result into plain objects.
import { spawnSync } from "node:child_process";
import { parseAllDocuments } from "yaml";

/** A rendered Kubernetes object, as plain JSON-like data. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Why kubectl is expected: it ships with this project's machine image (see docs/operations.md). */
export const KUBECTL_HINT =
  "kubectl is needed to render the overlays (`kubectl kustomize`, offline). It is on the project's machine image; " +
  "elsewhere install kubectl 1.27 or later (it embeds kustomize v5).";

/** Runs `kubectl kustomize dir` and returns its YAML, or throws with kubectl's own error. */
export function kustomize(dir: string): string {
  const r = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.error !== undefined) throw new Error(`${KUBECTL_HINT} (${r.error.message})`);
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${r.stderr}`);
  return r.stdout;
}

/** Parses a multi-document YAML stream into objects; a document that does not parse throws. */
export function parseObjects(yaml: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(yaml)) {
    if (doc.errors.length > 0) throw new Error(`YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
    const o = doc.toJS() as K8sObject | null;
    if (o === null) continue;
    // kustomize writes long base64 values as folded lines; the API server's decoder ignores the
    // line breaks, so the schema check sees them joined, as the server would.
    const data = (o as { data?: Record<string, unknown> }).data;
    if (o.kind === "Secret" && data !== undefined)
      for (const [k, v] of Object.entries(data)) if (typeof v === "string") data[k] = v.replace(/[\r\n]/g, "");
    out.push(o);
  }
  return out;
}

/** Renders and parses an overlay. */
export function render(dir: string): K8sObject[] {
  return parseObjects(kustomize(dir));
}

/** "Kind namespace/name", for messages. */
export function refOf(o: K8sObject): string {
  return `${o.kind} ${o.metadata.namespace ?? "(cluster)"}/${o.metadata.name}`;
}
