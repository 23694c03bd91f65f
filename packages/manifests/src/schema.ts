// Schema validation of rendered objects with kubernetes-models (types, required fields, enums):
// a replica count written as "two" or a missing container name fails here.
import type { K8sObject } from "./render.js";

interface Model {
  validate(): void;
}
type ModelCtor = new (data: unknown) => Model;

/** The kubernetes-models module of an apiVersion/kind, e.g. apps/v1 Deployment → kubernetes-models/apps/v1/Deployment. */
export function modelModule(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  return `kubernetes-models/${group === "" ? "" : `${group}/`}${version}/${kind}`;
}

/** Validates obj against its kubernetes-models schema; resolves to the errors found (empty when valid). */
export async function schemaErrors(obj: K8sObject): Promise<string[]> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(modelModule(obj.apiVersion, obj.kind))) as Record<string, unknown>;
  } catch {
    return [`no kubernetes-models schema for ${obj.apiVersion} ${obj.kind}`];
  }
  const Ctor = (mod[obj.kind] ?? mod.default) as ModelCtor | undefined;
  if (typeof Ctor !== "function") return [`no kubernetes-models class for ${obj.apiVersion} ${obj.kind}`];
  try {
    new Ctor(obj).validate();
    return [];
  } catch (e) {
    return [(e as Error).message];
  }
}
