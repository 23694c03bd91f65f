// The project's rules for rendered manifests (issue 9). Each function returns the violations it
// finds as messages naming the object and the rule; an empty list means the rules hold.
import type { K8sObject } from "./render.js";
import { refOf } from "./render.js";
import { containerBasics, envValue, podLabels, podSpec, podTemplates, tallyService, TALLY_SERVICES, workloads } from "./pods.js";
import { databaseRoleViolations, jobViolations, natsCredentialViolations, natsServerViolations } from "./least-privilege.js";

export { tallyService, TALLY_SERVICES, workloads };

/** The regulator's namespace: default deny, read only. */
export const REGULATOR_NAMESPACE = "tally-regulator";
/** Least nats-server version for Kubernetes (2.9 was seen to stall stream elections for minutes). */
export const NATS_MIN_VERSION: readonly [number, number] = [2, 11];

function portOf(addr: string | undefined): number | undefined {
  const m = addr === undefined ? null : /:(\d+)$/.exec(addr);
  return m === null ? undefined : Number(m[1]);
}

/** Seconds a preStop hook sleeps (`sleep N` or the native sleep action), else 0. */
function preStopSleepS(c: any): number {
  const h = c.lifecycle?.preStop;
  if (typeof h?.sleep?.seconds === "number") return h.sleep.seconds;
  const cmd: unknown[] = h?.exec?.command ?? [];
  return cmd[0] === "sleep" && /^\d+$/.test(String(cmd[1])) ? Number(cmd[1]) : 0;
}

function selects(selector: any, labels: Record<string, string>): boolean {
  const ml: Record<string, string> = selector?.matchLabels ?? {};
  const exprs: any[] = selector?.matchExpressions ?? [];
  if (Object.keys(ml).length === 0 && exprs.length === 0) return false;
  for (const [k, v] of Object.entries(ml)) if (labels[k] !== v) return false;
  for (const e of exprs) {
    const has = e.key in labels;
    const v = labels[e.key];
    if (e.operator === "In" && !(has && e.values.includes(v))) return false;
    if (e.operator === "NotIn" && has && e.values.includes(v)) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

/**
 * Every workload: probes (Tally services: gRPC readiness and liveness on the plaintext health
 * port HEALTH_ADDR), resources, a PodDisruptionBudget that lets one pod go, topology spread, a
 * preStop hook, a termination grace period longer than preStop + DRAIN_TIMEOUT_MS, and a
 * securityContext (non-root, read-only root filesystem, no privilege escalation, ALL capabilities dropped).
 */
export function workloadViolations(objs: readonly K8sObject[]): string[] {
  const out: string[] = [];
  const pdbs = objs.filter((o) => o.kind === "PodDisruptionBudget");
  for (const w of workloads(objs)) {
    const ref = refOf(w);
    const spec = podSpec(w);
    const labels = podLabels(w);
    const podSec = spec.securityContext ?? {};
    const containers: any[] = spec.containers ?? [];
    const inits: any[] = spec.initContainers ?? [];
    if (containers.length === 0) out.push(`${ref}: no containers`);
    if (podSec.runAsUser === 0) out.push(`${ref}: pod securityContext.runAsUser is 0 (root)`);
    if (!Array.isArray(spec.topologySpreadConstraints) || spec.topologySpreadConstraints.length === 0)
      out.push(`${ref}: no topologySpreadConstraints`);
    for (const t of spec.topologySpreadConstraints ?? [])
      if (!selects(t.labelSelector, labels)) out.push(`${ref}: a topologySpreadConstraint's labelSelector does not select its own pods`);
    const grace = spec.terminationGracePeriodSeconds;
    if (typeof grace !== "number") out.push(`${ref}: no terminationGracePeriodSeconds`);

    for (const [c, init] of [...containers.map((c) => [c, false] as const), ...inits.map((c) => [c, true] as const)]) {
      const cref = `${ref} ${init ? "initContainer" : "container"} ${c.name}`;
      out.push(...containerBasics(cref, c, podSec));
      if (init) continue;

      if (c.readinessProbe === undefined) out.push(`${cref}: no readinessProbe`);
      if (c.livenessProbe === undefined) out.push(`${cref}: no livenessProbe`);
      if (c.lifecycle?.preStop === undefined) out.push(`${cref}: no preStop hook`);
      const service = tallyService(c);
      if (service !== undefined) {
        const healthPort = portOf(envValue(c, "HEALTH_ADDR"));
        const grpcPort = portOf(envValue(c, service === "sequencer" ? "ADMIN_GRPC_ADDR" : "GRPC_ADDR"));
        if (healthPort === undefined) out.push(`${cref}: no HEALTH_ADDR (the plaintext health port the probes use)`);
        else if (healthPort === grpcPort)
          out.push(`${cref}: HEALTH_ADDR is the main gRPC port; the probes need a plaintext port of their own`);
        for (const probe of ["readinessProbe", "livenessProbe"] as const) {
          const p = c[probe];
          if (p === undefined) continue;
          if (p.grpc === undefined) out.push(`${cref}: ${probe} is not a gRPC probe`);
          else if (p.grpc.port !== healthPort) out.push(`${cref}: ${probe} checks port ${p.grpc.port}, not the health port ${healthPort}`);
        }
        const drainMs = Number(envValue(c, "DRAIN_TIMEOUT_MS") ?? 10_000);
        if (typeof grace === "number" && grace * 1000 <= drainMs + preStopSleepS(c) * 1000)
          out.push(
            `${cref}: terminationGracePeriodSeconds ${grace} is not longer than preStop (${preStopSleepS(c)} s) + DRAIN_TIMEOUT_MS (${drainMs} ms)`,
          );
      }
    }

    const mine = pdbs.filter((p) => p.metadata.namespace === w.metadata.namespace && selects((p as any).spec?.selector, labels));
    if (mine.length === 0) out.push(`${ref}: no PodDisruptionBudget selects its pods`);
    for (const p of mine) {
      const s = (p as any).spec ?? {};
      if ((s.minAvailable === undefined) === (s.maxUnavailable === undefined))
        out.push(`${refOf(p)}: must set exactly one of minAvailable and maxUnavailable`);
      const replicas = (w as any).spec?.replicas ?? 1;
      if (typeof s.minAvailable === "number" && s.minAvailable >= replicas)
        out.push(`${refOf(p)}: minAvailable ${s.minAvailable} with ${replicas} replica(s) of ${ref} blocks every drain`);
      if (s.maxUnavailable === 0 || s.maxUnavailable === "0%") out.push(`${refOf(p)}: maxUnavailable 0 blocks every drain`);
    }
  }
  return out;
}

const SECRET_NAME = /(PASSWORD|SECRET|TOKEN|DATABASE_URL|NATS_URL|_KEY$)/i;
const SECRET_TEXT = /(password|secret|seed|private.?key|-----BEGIN [A-Z ]*PRIVATE KEY-----)/i;
const URL_CREDENTIALS = /:\/\/[^/@\s:]+:[^@\s/]+@/;

/** Secrets come from Secrets: never a ConfigMap, never a literal env value. */
export function secretViolations(objs: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const cm of objs.filter((o) => o.kind === "ConfigMap")) {
    const data: Record<string, string> = { ...((cm as any).data ?? {}), ...((cm as any).binaryData ?? {}) };
    for (const [k, v] of Object.entries(data)) {
      if (SECRET_NAME.test(k) || /password|seed/i.test(k)) out.push(`${refOf(cm)}: key ${k} looks like a secret; use a Secret`);
      // Config files may mention passwords as $VARIABLES (filled from a Secret at run time), not hold them.
      // Comments (which may show an example URL) are not data.
      const text = String(v)
        .split("\n")
        .filter((l) => !/^\s*(#|\/\/)/.test(l))
        .join("\n")
        .replace(/\$[A-Z_]+/g, "");
      if (URL_CREDENTIALS.test(text)) out.push(`${refOf(cm)}: ${k} holds a URL with credentials; use a Secret`);
      if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) || /"seed"\s*:/.test(text))
        out.push(`${refOf(cm)}: ${k} holds a private key; use a Secret`);
    }
  }
  for (const w of podTemplates(objs)) {
    const spec = podSpec(w);
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
      for (const f of c.envFrom ?? [])
        if (f.configMapRef !== undefined && /secret|password|cred/i.test(String(f.configMapRef.name)))
          out.push(`${refOf(w)} container ${c.name} envFrom ConfigMap ${f.configMapRef.name}: credentials from a ConfigMap; use a Secret`);
      for (const e of c.env ?? []) {
        const where = `${refOf(w)} container ${c.name} env ${e.name}`;
        if (typeof e.value === "string" && (URL_CREDENTIALS.test(e.value) || SECRET_TEXT.test(e.name)))
          out.push(`${where}: a secret as a literal value; use secretKeyRef`);
        if (SECRET_NAME.test(e.name) && e.valueFrom?.secretKeyRef === undefined && !/_FILE$/.test(e.name))
          out.push(`${where}: must come from a Secret (secretKeyRef)`);
      }
    }
    for (const v of spec.volumes ?? [])
      if (/key|tls|secret/i.test(v.name) && v.configMap !== undefined)
        out.push(`${refOf(w)} volume ${v.name}: key material from a ConfigMap`);
  }
  return out;
}

/** Every namespaced object names a namespace the render creates. */
export function namespaceViolations(objs: readonly K8sObject[]): string[] {
  const out: string[] = [];
  const namespaces = new Set(objs.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name));
  for (const o of objs) {
    if (o.kind === "Namespace") continue;
    const ns = o.metadata.namespace;
    if (ns === undefined) out.push(`${refOf(o)}: no namespace`);
    else if (!namespaces.has(ns)) out.push(`${refOf(o)}: namespace ${ns} is not created by these manifests`);
  }
  return out;
}

function portsOf(rules: any[] | undefined): number[] {
  return (rules ?? []).flatMap((r: any) => (r.ports ?? [{ port: "any" }]).map((p: any) => p.port));
}

/**
 * The regulator's namespace: a default-deny policy for ingress and egress; no workload that
 * writes to the ledger (gateway, sequencer); egress only to DNS, the NATS client port and
 * PostgreSQL; ingress only to the feed, the metrics port and its own PostgreSQL.
 */
export function regulatorViolations(objs: readonly K8sObject[], ns = REGULATOR_NAMESPACE): string[] {
  const out: string[] = [];
  const inNs = objs.filter((o) => o.metadata.namespace === ns);
  if (!objs.some((o) => o.kind === "Namespace" && o.metadata.name === ns)) out.push(`namespace ${ns} is missing`);
  const policies = inNs.filter((o) => o.kind === "NetworkPolicy");
  const denyAll = policies.find((p) => {
    const s = (p as any).spec ?? {};
    const selectsAll = Object.keys(s.podSelector ?? { x: 1 }).length === 0;
    const types: string[] = s.policyTypes ?? [];
    return (
      selectsAll && types.includes("Ingress") && types.includes("Egress") && (s.ingress ?? []).length === 0 && (s.egress ?? []).length === 0
    );
  });
  if (denyAll === undefined) out.push(`${ns}: no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)`);
  for (const w of workloads(inNs))
    for (const c of podSpec(w).containers ?? []) {
      const s = tallyService(c);
      if (s === "gateway" || s === "sequencer") out.push(`${refOf(w)}: runs the ${s}; the regulator's namespace may only read`);
    }
  for (const p of policies) {
    const s = (p as any).spec ?? {};
    for (const port of portsOf(s.egress))
      if (![53, 4222, 5432].includes(port))
        out.push(`${refOf(p)}: allows egress to port ${port} (only DNS 53, NATS 4222, PostgreSQL 5432)`);
    for (const port of portsOf(s.ingress)) if (![50051, 9464, 5432].includes(port)) out.push(`${refOf(p)}: allows ingress to port ${port}`);
    if (portsOf(s.ingress).includes(50051) && s.podSelector?.matchLabels?.["app.kubernetes.io/name"] !== "regfeed")
      out.push(`${refOf(p)}: allows gRPC ingress to pods other than the regfeed`);
  }
  return out;
}

/** The NATS cluster: three servers of 2.11 or later, on different Kubernetes nodes. */
export function natsViolations(objs: readonly K8sObject[]): string[] {
  const out: string[] = [];
  const nats = workloads(objs).filter((w) => (podSpec(w).containers ?? []).some((c: any) => /(^|\/)nats:/.test(String(c.image))));
  if (nats.length !== 1) return [`expected one NATS StatefulSet, found ${nats.length}`];
  const w = nats[0]!;
  if (w.kind !== "StatefulSet") out.push(`${refOf(w)}: NATS must be a StatefulSet`);
  if ((w as any).spec?.replicas !== 3) out.push(`${refOf(w)}: NATS must run 3 replicas (JetStream R3), has ${(w as any).spec?.replicas}`);
  const image = String(podSpec(w).containers.find((c: any) => /(^|\/)nats:/.test(String(c.image))).image);
  const m = /:(\d+)\.(\d+)/.exec(image);
  if (m === null) out.push(`${refOf(w)}: NATS image ${image} has no version tag`);
  else if (Number(m[1]) < NATS_MIN_VERSION[0] || (Number(m[1]) === NATS_MIN_VERSION[0] && Number(m[2]) < NATS_MIN_VERSION[1]))
    out.push(`${refOf(w)}: NATS image ${image} is older than ${NATS_MIN_VERSION.join(".")}`);
  const anti: any[] = podSpec(w).affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  if (!anti.some((t) => t.topologyKey === "kubernetes.io/hostname" && selects(t.labelSelector, podLabels(w))))
    out.push(`${refOf(w)}: no required pod anti-affinity on kubernetes.io/hostname`);
  return out;
}

/**
 * The sequencers: named instances (one Deployment per SEQUENCER_ID, one replica, Recreate), at
 * least two, each with a required anti-affinity against the others on kubernetes.io/hostname.
 */
export function sequencerViolations(objs: readonly K8sObject[]): string[] {
  const out: string[] = [];
  const seqs = workloads(objs).filter((w) => (podSpec(w).containers ?? []).some((c: any) => tallyService(c) === "sequencer"));
  if (seqs.length < 2) out.push(`expected at least 2 sequencer instances (master and backup), found ${seqs.length}`);
  const ids = new Set<string>();
  for (const w of seqs) {
    const c = podSpec(w).containers.find((x: any) => tallyService(x) === "sequencer");
    const id = envValue(c, "SEQUENCER_ID");
    if (id === undefined) out.push(`${refOf(w)}: no literal SEQUENCER_ID (a named instance)`);
    else if (ids.has(id)) out.push(`${refOf(w)}: SEQUENCER_ID ${id} is used twice`);
    else ids.add(id);
    if ((w as any).spec?.replicas !== 1) out.push(`${refOf(w)}: a named sequencer instance runs exactly 1 replica`);
    if (w.kind === "Deployment" && (w as any).spec?.strategy?.type !== "Recreate")
      out.push(`${refOf(w)}: strategy must be Recreate (two processes with one sequencer id are refused)`);
    const anti: any[] = podSpec(w).affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
    const others = seqs.filter((o) => o !== w);
    if (!anti.some((t) => t.topologyKey === "kubernetes.io/hostname" && others.every((o) => selects(t.labelSelector, podLabels(o)))))
      out.push(`${refOf(w)}: no required anti-affinity on kubernetes.io/hostname against the other sequencers`);
  }
  return out;
}

/** Each node namespace (label tally.io/tier=node) runs a blockstore, an executor and a database. */
export function nodeViolations(objs: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const ns of objs.filter((o) => o.kind === "Namespace" && o.metadata.labels?.["tally.io/tier"] === "node")) {
    const inNs = objs.filter((o) => o.metadata.namespace === ns.metadata.name);
    const services = new Set(workloads(inNs).flatMap((w) => (podSpec(w).containers ?? []).map((c: any) => tallyService(c))));
    for (const s of ["blockstore", "executor"]) if (!services.has(s)) out.push(`namespace ${ns.metadata.name}: no ${s}`);
    const db =
      inNs.some((o) => o.kind === "Cluster" && o.apiVersion.startsWith("postgresql.cnpg.io/")) ||
      workloads(inNs).some((w) => (podSpec(w).containers ?? []).some((c: any) => /(^|\/)postgres:/.test(String(c.image))));
    if (!db) out.push(`namespace ${ns.metadata.name}: no PostgreSQL (StatefulSet or CloudNativePG Cluster)`);
  }
  return out;
}

/** Every rule above. */
export function projectViolations(objs: readonly K8sObject[]): string[] {
  return [
    ...namespaceViolations(objs),
    ...workloadViolations(objs),
    ...secretViolations(objs),
    ...regulatorViolations(objs),
    ...natsViolations(objs),
    ...sequencerViolations(objs),
    ...nodeViolations(objs),
    ...jobViolations(objs),
    ...natsServerViolations(objs),
    ...natsCredentialViolations(objs),
    ...databaseRoleViolations(objs),
  ];
}
