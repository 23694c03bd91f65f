// Pod templates in rendered manifests: the workloads (Deployment, StatefulSet, DaemonSet) and the
// Jobs, their pod specs, and what their containers run and read.
import type { K8sObject } from "./render.js";

/** The Tally services the image runs, by the container's first argument. */
export const TALLY_SERVICES = ["gateway", "sequencer", "blockstore", "executor", "regfeed"] as const;

const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet"]);

/** The long-running workloads. */
export function workloads(objs: readonly K8sObject[]): K8sObject[] {
  return objs.filter((o) => WORKLOAD_KINDS.has(o.kind));
}

/** The Jobs (run once: setup steps). */
export function jobs(objs: readonly K8sObject[]): K8sObject[] {
  return objs.filter((o) => o.kind === "Job");
}

/** Everything with a pod template: workloads and Jobs. */
export function podTemplates(objs: readonly K8sObject[]): K8sObject[] {
  return [...workloads(objs), ...jobs(objs)];
}

export function podSpec(w: K8sObject): any {
  return (w as any).spec?.template?.spec ?? {};
}

export function podLabels(w: K8sObject): Record<string, string> {
  return (w as any).spec?.template?.metadata?.labels ?? {};
}

/** The Tally service a container runs, or undefined for other images (NATS, PostgreSQL) and the CLI. */
export function tallyService(c: any): string | undefined {
  const image = String(c.image ?? "");
  const base = image.split("@")[0]!.split(":")[0]!.split("/").at(-1);
  const arg = (c.args ?? [])[0];
  return base === "tally" && (TALLY_SERVICES as readonly string[]).includes(arg) ? arg : undefined;
}

/** The `tally` command a container of the Tally image runs (args `cli <command...>`), e.g. "bus setup". */
export function tallyCli(c: any): string | undefined {
  const image = String(c.image ?? "");
  const base = image.split("@")[0]!.split(":")[0]!.split("/").at(-1);
  const args: unknown[] = c.args ?? [];
  return base === "tally" && args[0] === "cli" ? args.slice(1).map(String).join(" ") : undefined;
}

/** A literal env value of a container. */
export function envValue(c: any, name: string): string | undefined {
  const e = (c.env ?? []).find((x: any) => x.name === name);
  return typeof e?.value === "string" ? e.value : undefined;
}

/** The Secret and key an env var of a container comes from, if it comes from one. */
export function envSecretRef(c: any, name: string): { name: string; key: string } | undefined {
  const r = (c.env ?? []).find((x: any) => x.name === name)?.valueFrom?.secretKeyRef;
  return r === undefined ? undefined : { name: String(r.name), key: String(r.key) };
}

/**
 * An env var as the container sees it, when it can be known from the render: a literal, else a
 * key of a ConfigMap named in envFrom (in the same namespace).
 */
export function envSetting(objs: readonly K8sObject[], w: K8sObject, c: any, name: string): string | undefined {
  const literal = envValue(c, name);
  if (literal !== undefined) return literal;
  for (const f of c.envFrom ?? []) {
    const cm = f.configMapRef?.name;
    if (cm === undefined) continue;
    const o = objs.find((x) => x.kind === "ConfigMap" && x.metadata.namespace === w.metadata.namespace && x.metadata.name === cm) as any;
    const prefix: string = f.prefix ?? "";
    if (!name.startsWith(prefix)) continue;
    const v = o?.data?.[name.slice(prefix.length)];
    if (typeof v === "string") return v;
  }
  return undefined;
}

/** A key of a Secret in the render (data is base64, stringData plain), or undefined when not rendered. */
export function secretValue(objs: readonly K8sObject[], namespace: string | undefined, name: string, key: string): string | undefined {
  const s = objs.find((o) => o.kind === "Secret" && o.metadata.namespace === namespace && o.metadata.name === name) as any;
  if (s === undefined) return undefined;
  if (typeof s.stringData?.[key] === "string") return s.stringData[key];
  if (typeof s.data?.[key] === "string") return Buffer.from(s.data[key], "base64").toString("utf8");
  return undefined;
}

/** Whether a Secret of that name is in the render. */
export function hasSecret(objs: readonly K8sObject[], namespace: string | undefined, name: string): boolean {
  return objs.some((o) => o.kind === "Secret" && o.metadata.namespace === namespace && o.metadata.name === name);
}

/** The volume a container reads a file path from (the longest mount path above it), if any. */
export function volumeOfPath(w: K8sObject, c: any, path: string): any {
  const m = ((c.volumeMounts ?? []) as any[])
    .filter((x) => path.startsWith(`${String(x.mountPath).replace(/\/$/, "")}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  return m === undefined ? undefined : (podSpec(w).volumes ?? []).find((v: any) => v.name === m.name);
}

function imageTagProblem(image: string): string | undefined {
  if (image.includes("@sha256:")) return undefined;
  const last = image.split("/").at(-1)!;
  if (!last.includes(":")) return `image ${image} has no tag`;
  if (last.endsWith(":latest")) return `image ${image} uses :latest`;
  return undefined;
}

/**
 * What every container must have: non-root, a read-only root filesystem, no privilege
 * escalation, ALL capabilities dropped, not privileged, CPU and memory requests and a memory
 * limit, a pinned image tag. cref names the container in messages.
 */
export function containerBasics(cref: string, c: any, podSec: any): string[] {
  const out: string[] = [];
  const sec = c.securityContext ?? {};
  if (sec.runAsNonRoot !== true && podSec.runAsNonRoot !== true) out.push(`${cref}: runAsNonRoot is not true`);
  if (sec.runAsUser === 0) out.push(`${cref}: runAsUser is 0 (root)`);
  if (sec.readOnlyRootFilesystem !== true) out.push(`${cref}: readOnlyRootFilesystem is not true`);
  if (sec.allowPrivilegeEscalation !== false) out.push(`${cref}: allowPrivilegeEscalation is not false`);
  if (!(sec.capabilities?.drop ?? []).includes("ALL")) out.push(`${cref}: capabilities.drop does not include ALL`);
  if (sec.privileged === true) out.push(`${cref}: privileged`);
  const r = c.resources ?? {};
  for (const [k, v] of [
    ["requests.cpu", r.requests?.cpu],
    ["requests.memory", r.requests?.memory],
    ["limits.memory", r.limits?.memory],
  ] as const)
    if (v === undefined || v === null || v === "") out.push(`${cref}: no resources.${k}`);
  const tagProblem = imageTagProblem(String(c.image ?? ""));
  if (tagProblem !== undefined) out.push(`${cref}: ${tagProblem}`);
  return out;
}
