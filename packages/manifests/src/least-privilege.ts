// The least-privilege rules of issue 13 for rendered manifests (docs/security.md):
// - NATS accepts TLS only, from clients and between its servers, with its certificate from a Secret,
//   and runs the per-role users of nats-authorization.conf, every password from a Secret;
// - each service connects to NATS as its own user (sequencer-<id>, node-<node>, gateway-<node>)
//   over TLS, from the Secret and key `tally bus users --k8s` writes; only the setup Job is admin,
//   and the services do not manage streams;
// - each node's services log in to PostgreSQL as the node's roles: the writer for the blockstore,
//   executor and regfeed, the read-only role for the gateway; a Job applies the grants as admin.
// Where the render holds the Secrets (the dev overlay), their values are checked too: every URL is
// tls://, names the right user with the password the server has, and the database URLs name the
// right roles.
import type { K8sObject } from "./render.js";
import { refOf } from "./render.js";
import {
  containerBasics,
  envSecretRef,
  envSetting,
  envValue,
  hasSecret,
  jobs,
  podSpec,
  podTemplates,
  secretValue,
  tallyCli,
  tallyService,
  volumeOfPath,
  workloads,
} from "./pods.js";

/** The Secrets and keys the manifests read the NATS users' URLs from (as `tally bus users --k8s` writes them). */
export const NATS_CLIENT_SECRET = "tally-nats-client";
export const NATS_ADMIN_SECRET = "tally-nats-admin";
export const NATS_SERVER_SECRET = "tally-nats-server";
/** The node database's roles: the writer (blockstore, executor, regfeed) and the gateway's read-only role. */
export const DB_WRITER_SECRET = "tally-db-writer";
export const DB_READER_SECRET = "tally-db-reader";
export const DB_ADMIN_SECRET = "tally-db-superuser";

/** The setup commands that run as admin, once, in Jobs. */
export const BUS_SETUP = "bus setup";
export const DB_ROLES = "db roles --apply";

/** Every Job: restartPolicy OnFailure or Never, a bounded backoffLimit, and hardened containers. */
export function jobViolations(objs: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const j of jobs(objs)) {
    const ref = refOf(j);
    const spec = podSpec(j);
    const podSec = spec.securityContext ?? {};
    if (podSec.runAsUser === 0) out.push(`${ref}: pod securityContext.runAsUser is 0 (root)`);
    if (!["OnFailure", "Never"].includes(spec.restartPolicy)) out.push(`${ref}: restartPolicy must be OnFailure or Never`);
    if (typeof (j as any).spec?.backoffLimit !== "number") out.push(`${ref}: no backoffLimit (retries must be bounded)`);
    for (const [c, kind] of [
      ...(spec.containers ?? []).map((c: any) => [c, "container"] as const),
      ...(spec.initContainers ?? []).map((c: any) => [c, "initContainer"] as const),
    ])
      out.push(...containerBasics(`${ref} ${kind} ${c.name}`, c, podSec));
  }
  return out;
}

/** Strips full-line comments from a nats-server configuration. */
function confText(s: string): string {
  return s
    .split("\n")
    .filter((l) => !/^\s*(#|\/\/)/.test(l))
    .join("\n");
}

/** The body of the first block `name { ... }` at the top level of conf, or undefined. */
export function confBlock(conf: string, name: string): string | undefined {
  const text = confText(conf);
  let depth = 0;
  const re = new RegExp(`^\\s*${name}\\s*[:=]?\\s*\\{`);
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      i = text.indexOf('"', i + 1);
      if (i < 0) return undefined;
      continue;
    }
    if (depth === 0 && (i === 0 || text[i - 1] === "\n")) {
      const m = re.exec(text.slice(i, text.indexOf("\n", i) < 0 ? undefined : text.indexOf("\n", i) + 1));
      if (m !== null) {
        const open = i + m[0].length - 1;
        let d = 0;
        for (let k = open; k < text.length; k++) {
          if (text[k] === '"') {
            k = text.indexOf('"', k + 1);
            if (k < 0) return undefined;
          } else if (text[k] === "{") d++;
          else if (text[k] === "}" && --d === 0) return text.slice(open + 1, k);
        }
        return undefined;
      }
    }
    if (ch === "{") depth++;
    else if (ch === "}") depth--;
  }
  return undefined;
}

/** A setting `key: "value"` or `key: value` at the top level of a block body. */
function confSetting(body: string, key: string): string | undefined {
  const m = new RegExp(`^\\s*${key}\\s*[:=]\\s*("([^"]*)"|([^\\s#]+))`, "m").exec(body);
  return m === null ? undefined : (m[2] ?? m[3]);
}

/** The NATS StatefulSet and its container, if the render has one. */
function natsServer(objs: readonly K8sObject[]): { w: K8sObject; c: any } | undefined {
  for (const w of workloads(objs)) {
    const c = (podSpec(w).containers ?? []).find((x: any) => /(^|\/)nats:/.test(String(x.image)));
    if (c !== undefined) return { w, c };
  }
  return undefined;
}

/** The files of the ConfigMap(s) a volume projects, by file name. */
function configFiles(objs: readonly K8sObject[], ns: string | undefined, volume: any): Map<string, string> {
  const names: string[] = [
    ...(volume?.configMap?.name !== undefined ? [volume.configMap.name] : []),
    ...((volume?.projected?.sources ?? []) as any[]).flatMap((s) => (s.configMap?.name !== undefined ? [s.configMap.name] : [])),
  ];
  const out = new Map<string, string>();
  for (const n of names) {
    const cm = objs.find((o) => o.kind === "ConfigMap" && o.metadata.namespace === ns && o.metadata.name === n) as any;
    for (const [k, v] of Object.entries(cm?.data ?? {})) out.set(k, String(v));
  }
  return out;
}

/**
 * The NATS server's configuration, as rendered: TLS for clients (`tls {}`) and for the routes
 * (`cluster { tls { verify: true, ca_file } }`), certificate, key and CA from a Secret volume; an
 * included authorization block with one user per role, each password a $VARIABLE the container
 * gets from a Secret (checked against the Secret when it is rendered), and no literal password.
 */
export function natsServerViolations(objs: readonly K8sObject[]): string[] {
  const s = natsServer(objs);
  if (s === undefined) return [];
  const { w, c } = s;
  const ref = refOf(w);
  const out: string[] = [];
  const args: string[] = (c.args ?? []).map(String);
  const path = args[args.indexOf("-c") + 1];
  if (!args.includes("-c") || path === undefined) return [`${ref}: nats-server runs without -c <config file>`];
  const volume = volumeOfPath(w, c, path);
  const files = configFiles(objs, w.metadata.namespace, volume);
  const main = files.get(path.split("/").at(-1)!);
  if (main === undefined) return [`${ref}: its config file ${path} is not in a rendered ConfigMap`];
  // The included files, from the same volume.
  let conf = main;
  for (const m of confText(main).matchAll(/^\s*include\s+"?([^"\s]+)"?/gm)) {
    const inc = files.get(m[1]!.split("/").at(-1)!);
    if (inc === undefined) out.push(`${ref}: its config includes ${m[1]}, which is not in the config volume`);
    else conf += `\n${inc}`;
  }
  const fromSecret = (file: string | undefined, what: string): void => {
    if (file === undefined) return void out.push(`${ref}: ${what} has no file`);
    const v = volumeOfPath(w, c, file);
    if (v?.secret === undefined) out.push(`${ref}: ${what} ${file} does not come from a Secret volume`);
  };
  const tls = confBlock(main, "tls");
  if (tls === undefined) out.push(`${ref}: no tls block: NATS must accept TLS clients only`);
  else {
    fromSecret(confSetting(tls, "cert_file"), "the client TLS certificate");
    fromSecret(confSetting(tls, "key_file"), "the client TLS key");
  }
  const cluster = confBlock(main, "cluster");
  const routeTls = cluster === undefined ? undefined : confBlock(cluster, "tls");
  if (cluster !== undefined && routeTls === undefined)
    out.push(`${ref}: cluster has no tls block: the routes between servers must use TLS`);
  if (routeTls !== undefined) {
    fromSecret(confSetting(routeTls, "cert_file"), "the route TLS certificate");
    fromSecret(confSetting(routeTls, "key_file"), "the route TLS key");
    fromSecret(confSetting(routeTls, "ca_file"), "the route CA");
    if (confSetting(routeTls, "verify") !== "true")
      out.push(`${ref}: cluster tls must verify the other servers' certificates (verify: true)`);
  }
  const auth = confBlock(conf, "authorization");
  if (auth === undefined) out.push(`${ref}: no authorization block: one NATS user per role (nats-authorization.conf)`);
  if (confBlock(conf, "accounts") !== undefined) out.push(`${ref}: an accounts block: the per-role users are in the authorization block`);
  const users = [...confText(auth ?? "").matchAll(/user:\s*"?([^"\s]+)"?\s*\n\s*password:\s*(\S+)/g)].map((m) => ({
    user: m[1]!,
    password: m[2]!,
  }));
  if (auth !== undefined && !users.some((u) => u.user === "admin"))
    out.push(`${ref}: the authorization block has no admin user (the setup Job's)`);
  const fromEnvSecret = (c.envFrom ?? []).flatMap((f: any) => (f.secretRef?.name !== undefined ? [f.secretRef.name as string] : []));
  for (const u of users) {
    const v = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(u.password)?.[1];
    if (v === undefined) {
      out.push(`${ref}: the password of NATS user ${u.user} is written in the config; use a $VARIABLE from a Secret`);
      continue;
    }
    const ref1 = envSecretRef(c, v);
    if (ref1 !== undefined) continue;
    if (fromEnvSecret.length === 0) {
      out.push(`${ref}: the password of NATS user ${u.user} ($${v}) comes from no Secret`);
      continue;
    }
    // Rendered (dev): the Secret must hold it.
    const rendered = fromEnvSecret.filter((n: string) => hasSecret(objs, w.metadata.namespace, n));
    if (rendered.length > 0 && !rendered.some((n: string) => secretValue(objs, w.metadata.namespace, n, v) !== undefined))
      out.push(`${ref}: the password of NATS user ${u.user} ($${v}) is in none of the Secrets ${rendered.join(", ")}`);
  }
  return out;
}

/** The NATS user a container must connect as, and the Secret key its NATS_URL must come from. */
function expectedNatsUser(
  objs: readonly K8sObject[],
  w: K8sObject,
  c: any,
): { user: string; secret: string; key: string } | { problem: string } {
  const service = tallyService(c);
  const nodeId = envSetting(objs, w, c, "NODE_ID");
  if (service === "sequencer") {
    const id = envValue(c, "SEQUENCER_ID");
    return id === undefined
      ? { problem: "a sequencer without a literal SEQUENCER_ID" }
      : { user: `sequencer-${id}`, secret: NATS_CLIENT_SECRET, key: id };
  }
  if (service === "blockstore" || service === "executor" || service === "regfeed")
    return nodeId === undefined
      ? { problem: `a ${service} without NODE_ID` }
      : { user: `node-${nodeId}`, secret: NATS_CLIENT_SECRET, key: "node" };
  if (service === "gateway")
    return nodeId === undefined
      ? { problem: "a gateway without NODE_ID" }
      : { user: `gateway-${nodeId}`, secret: NATS_CLIENT_SECRET, key: "gateway" };
  if (tallyCli(c) === BUS_SETUP) return { user: "admin", secret: NATS_ADMIN_SECRET, key: "url" };
  return { problem: "connects to NATS but plays no known role" };
}

/** The user and password in a NATS_URL's servers (each must name the same), and whether every server is tls://. */
function parseNatsUrl(url: string): { users: Set<string>; passwords: Set<string>; plaintext: string[] } {
  const users = new Set<string>();
  const passwords = new Set<string>();
  const plaintext: string[] = [];
  for (const s of url.split(",").map((x) => x.trim())) {
    const m = /^([a-z]+):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?(.+)$/i.exec(s);
    if (m === null || m[1]!.toLowerCase() !== "tls") plaintext.push(s.replace(/\/\/[^@/]*@/, "//***@"));
    users.add(m?.[2] === undefined ? "" : decodeURIComponent(m[2]));
    passwords.add(m?.[3] === undefined ? "" : decodeURIComponent(m[3]));
  }
  return { users, passwords, plaintext };
}

/** The environment variable nats-server reads a user's password from (natsPasswordVar in @tally/bus). */
function passwordVar(user: string): string {
  return `TALLY_NATS_PASSWORD_${user.toUpperCase().replace(/-/g, "_")}`;
}

/**
 * Every container that connects to NATS (a NATS_URL): over TLS (NATS_CA_FILE in a Secret volume;
 * with it set the services refuse a plaintext server), as its own user from the expected Secret and
 * key; the services do not manage streams (NATS_ENSURE_STREAMS=false); one Job runs the setup as
 * admin, and nothing else uses the admin's Secret. With the Secrets rendered: every URL is tls://
 * and names the expected user, with the password the server has.
 */
export function natsCredentialViolations(objs: readonly K8sObject[]): string[] {
  const server = natsServer(objs);
  if (server === undefined) return [];
  const out: string[] = [];
  const serverSecrets: string[] = (server.c.envFrom ?? []).flatMap((f: any) => (f.secretRef?.name !== undefined ? [f.secretRef.name] : []));
  let setupJobs = 0;
  for (const w of podTemplates(objs)) {
    const spec = podSpec(w);
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
      const cref = `${refOf(w)} container ${c.name}`;
      if (tallyCli(c) === BUS_SETUP) setupJobs += w.kind === "Job" ? 1 : 0;
      for (const e of c.env ?? [])
        if (e.valueFrom?.secretKeyRef?.name === NATS_ADMIN_SECRET && tallyCli(c) !== BUS_SETUP)
          out.push(`${cref}: env ${e.name} reads the NATS admin's Secret; only the setup Job may`);
      if ((c.env ?? []).every((e: any) => e.name !== "NATS_URL")) continue;
      const service = tallyService(c);
      if (service !== undefined && w.kind !== "Job" && envSetting(objs, w, c, "NATS_ENSURE_STREAMS") !== "false")
        out.push(`${cref}: NATS_ENSURE_STREAMS is not false: its NATS user may not manage streams (the setup Job does)`);
      const ca = envValue(c, "NATS_CA_FILE");
      if (ca === undefined) out.push(`${cref}: no NATS_CA_FILE: it must talk to NATS over TLS only`);
      else if (volumeOfPath(w, c, ca)?.secret === undefined) out.push(`${cref}: NATS_CA_FILE ${ca} does not come from a Secret volume`);
      const want = expectedNatsUser(objs, w, c);
      if ("problem" in want) {
        out.push(`${cref}: ${want.problem}`);
        continue;
      }
      const got = envSecretRef(c, "NATS_URL");
      if (got === undefined) continue; // secretViolations reports it
      if (got.name !== want.secret || got.key !== want.key)
        out.push(
          `${cref}: NATS_URL must come from Secret ${want.secret} key ${want.key} (user ${want.user}), not ${got.name} key ${got.key}`,
        );
      const url = secretValue(objs, w.metadata.namespace, got.name, got.key);
      if (url === undefined) continue; // not rendered (prod: created out of band)
      const u = parseNatsUrl(url);
      if (u.plaintext.length > 0) out.push(`${cref}: NATS_URL has servers that are not tls://: ${u.plaintext.join(", ")}`);
      if (u.users.size !== 1 || !u.users.has(want.user))
        out.push(`${cref}: NATS_URL connects as ${[...u.users].join(", ") || "(nobody)"}, not as its own user ${want.user}`);
      if (u.passwords.size !== 1) out.push(`${cref}: NATS_URL's servers carry different passwords`);
      const pw = [...u.passwords][0];
      const known = serverSecrets
        .map((n) => secretValue(objs, server.w.metadata.namespace, n, passwordVar(want.user)))
        .find((v) => v !== undefined);
      if (serverSecrets.some((n) => hasSecret(objs, server.w.metadata.namespace, n)) && known !== pw)
        out.push(`${cref}: NATS_URL's password for ${want.user} is not the one the NATS server has`);
    }
  }
  if (setupJobs !== 1) out.push(`expected one Job that runs \`tally ${BUS_SETUP}\` as the NATS admin, found ${setupJobs}`);
  return out;
}

/**
 * Each node namespace: the gateway reads its database as the read-only role, the blockstore,
 * executor and regfeed as the writer; a Job applies the roles as admin, and nothing else reads the
 * admin's Secret. A CloudNativePG Cluster manages both roles from the same Secrets. With the
 * Secrets rendered: each URL names the role its Secret's username does, and the two differ.
 */
export function databaseRoleViolations(objs: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const ns of objs
    .filter((o) => o.kind === "Namespace" && o.metadata.labels?.["tally.io/tier"] === "node")
    .map((o) => o.metadata.name)) {
    const inNs = objs.filter((o) => o.metadata.namespace === ns);
    let rolesJobs = 0;
    for (const w of podTemplates(inNs)) {
      const spec = podSpec(w);
      for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
        const cref = `${refOf(w)} container ${c.name}`;
        const isRolesJob = w.kind === "Job" && tallyCli(c) === DB_ROLES;
        if (isRolesJob) rolesJobs++;
        const isPostgres = /(^|\/)postgres:/.test(String(c.image));
        for (const e of c.env ?? [])
          if (e.valueFrom?.secretKeyRef?.name === DB_ADMIN_SECRET && !isRolesJob && !isPostgres)
            out.push(`${cref}: env ${e.name} reads the database admin's Secret; only the roles Job may`);
        if (isRolesJob) {
          for (const v of ["PGUSER", "PGPASSWORD"]) {
            const r = envSecretRef(c, v);
            if (r?.name !== DB_ADMIN_SECRET) out.push(`${cref}: ${v} must come from the Secret ${DB_ADMIN_SECRET}`);
          }
          continue;
        }
        const service = tallyService(c);
        if (service === undefined) continue;
        const want = service === "gateway" ? DB_READER_SECRET : DB_WRITER_SECRET;
        const got = envSecretRef(c, "DATABASE_URL");
        if (got === undefined) continue;
        if (got.name !== want || got.key !== "uri")
          out.push(
            `${cref}: DATABASE_URL must come from Secret ${want} key uri (the ${service === "gateway" ? "read-only" : "writer"} role), not ${got.name}`,
          );
      }
    }
    if (rolesJobs !== 1) out.push(`namespace ${ns}: expected one Job that runs \`tally ${DB_ROLES}\`, found ${rolesJobs}`);
    // Rendered Secrets (dev): each URL logs in as its Secret's username, and the roles differ.
    const userOf = (secret: string): string | undefined => {
      const uri = secretValue(objs, ns, secret, "uri");
      const username = secretValue(objs, ns, secret, "username");
      if (uri === undefined) return undefined;
      let u: URL;
      try {
        u = new URL(uri);
      } catch {
        out.push(`Secret ${ns}/${secret}: uri is not a URL`);
        return undefined;
      }
      const user = decodeURIComponent(u.username);
      if (username !== undefined && username !== user)
        out.push(`Secret ${ns}/${secret}: uri logs in as ${user}, not as its username ${username}`);
      const password = secretValue(objs, ns, secret, "password");
      if (password !== undefined && password !== decodeURIComponent(u.password))
        out.push(`Secret ${ns}/${secret}: uri's password is not its password`);
      return user;
    };
    const writer = userOf(DB_WRITER_SECRET);
    const reader = userOf(DB_READER_SECRET);
    if (writer !== undefined && writer === reader) out.push(`namespace ${ns}: the gateway's role ${reader} is the writer's`);
    for (const cl of inNs.filter((o) => o.kind === "Cluster" && o.apiVersion.startsWith("postgresql.cnpg.io/")) as any[]) {
      const roles: any[] = cl.spec?.managed?.roles ?? [];
      for (const secret of [DB_WRITER_SECRET, DB_READER_SECRET]) {
        const r = roles.find((x) => x.passwordSecret?.name === secret);
        if (r === undefined) out.push(`${refOf(cl)}: no managed role with passwordSecret ${secret}`);
        else if (r.login !== true || r.superuser === true || r.createrole === true || r.createdb === true)
          out.push(`${refOf(cl)}: managed role ${r.name} must log in and be neither superuser, createrole nor createdb`);
      }
      if (cl.spec?.enableSuperuserAccess !== true)
        out.push(`${refOf(cl)}: enableSuperuserAccess is needed by the roles Job (${DB_ADMIN_SECRET})`);
    }
  }
  return out;
}
