// The whole offline check of an overlay: render it, validate every object's schema, refuse
// unknown fields, and assert the project's rules. Returns the problems found, each naming the
// object and the field or rule.
import { render, refOf, type K8sObject } from "./render.js";
import { projectViolations } from "./rules.js";
import { schemaErrors } from "./schema.js";
import { hasModel, unknownCnpgFields, unknownFields } from "./unknown-fields.js";

/** Schema and unknown-field problems of objects (no project rules). */
export async function objectProblems(objs: readonly K8sObject[]): Promise<string[]> {
  const out: string[] = [];
  for (const o of objs) {
    if (o.apiVersion === "postgresql.cnpg.io/v1" && o.kind === "Cluster") {
      for (const u of unknownCnpgFields(o)) out.push(`${refOf(o)}: unknown field ${u.path}`);
      continue;
    }
    if (!hasModel(o.apiVersion, o.kind)) {
      out.push(`${refOf(o)}: ${o.apiVersion} ${o.kind} is not a type these checks know`);
      continue;
    }
    for (const e of await schemaErrors(o)) out.push(`${refOf(o)}: ${e}`);
    for (const u of unknownFields(o)) out.push(`${refOf(o)}: unknown field ${u.path}`);
  }
  return out;
}

/** Renders an overlay and returns its objects with every problem found. */
export async function checkOverlay(dir: string): Promise<{ objects: K8sObject[]; problems: string[] }> {
  const objects = render(dir);
  return { objects, problems: [...(await objectProblems(objects)), ...projectViolations(objects)] };
}
