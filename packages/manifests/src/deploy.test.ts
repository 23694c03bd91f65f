// deploy/ checked without a Docker engine: the Dockerfile's shape (multi-stage, non-root,
// the service chosen by argument, every COPY source present), the entry script choosing and
// running the real services, and the laptop compose file (known services, documented
// variables, grace periods longer than the drain, hardened containers, a 3-node NATS 2.11+).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { EXIT_CONFIG } from "@tally/config";
import { repoRoot } from "@tally/testkit";
import { TALLY_SERVICES } from "./rules.js";

const deploy = join(repoRoot, "deploy");
const read = (p: string): string => readFileSync(join(repoRoot, p), "utf8");

test("the Dockerfile: multi-stage, a numeric non-root user, the service chosen by argument, every COPY source present", () => {
  const lines = read("deploy/Dockerfile")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const froms = lines.filter((l) => l.startsWith("FROM "));
  assert.ok(froms.length >= 2, "multi-stage");
  const finalStage = lines.slice(lines.lastIndexOf(froms.at(-1)!));
  const user = finalStage.filter((l) => l.startsWith("USER ")).at(-1);
  assert.ok(user !== undefined, "the runtime stage sets USER");
  const uid = user.split(/\s+/)[1]!.split(":")[0]!;
  assert.match(uid, /^\d+$/, "numeric, so runAsNonRoot can check it");
  assert.notEqual(Number(uid), 0);
  assert.ok(!finalStage.some((l) => /^RUN .*\b(npm ci|tsc)\b/.test(l)), "no build tools run in the runtime stage");
  assert.deepEqual(JSON.parse(finalStage.find((l) => l.startsWith("ENTRYPOINT "))!.slice("ENTRYPOINT ".length)), [
    "/bin/sh",
    "/app/service.sh",
  ]);
  for (const l of lines.filter((x) => x.startsWith("COPY ") && !x.includes("--from="))) {
    const parts = l.split(/\s+/).filter((p) => !p.startsWith("--"));
    for (const src of parts.slice(1, -1)) assert.ok(existsSync(join(repoRoot, src)), `COPY source ${src} exists`);
  }
  assert.ok(!lines.some((l) => /^ADD\s+https?:/.test(l)), "nothing downloaded with ADD");
  const ignore = read("deploy/Dockerfile.dockerignore");
  for (const p of ["**/node_modules", "**/dist", ".git"]) assert.ok(ignore.includes(p), `the build context leaves out ${p}`);
});

test("the entry script runs the service named by its argument, and refuses others", () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync("sh", [join(deploy, "service.sh"), ...args], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", ...env },
      timeout: 20_000,
    });
  const unknown = run(["ledger"]);
  assert.equal(unknown.status, 64);
  assert.match(unknown.stderr, /unknown service: ledger/);
  assert.equal(run(["help"]).status, 0);
  // The real executor, from this checkout: it refuses to start without its configuration.
  const executor = run(["executor"]);
  assert.equal(executor.status, EXIT_CONFIG, executor.stderr);
  assert.match(executor.stderr, /"service":"executor".*NODE_ID is required/);
  const cli = run(["cli", "help"]);
  assert.match(cli.stdout + cli.stderr, /tally/);
});

test("the compose file: known services, documented variables, grace longer than the drain, hardened, a 3-node NATS 2.11+", () => {
  const compose = parse(read("deploy/compose.yaml"), { merge: true }) as { services: Record<string, any> };
  const docs = read("docs/configuration.md");
  const ms = (d: string): number => {
    const m = /^(\d+)(ms|s|m)$/.exec(d);
    assert.ok(m !== null, `duration ${d}`);
    return Number(m[1]) * (m[2] === "ms" ? 1 : m[2] === "s" ? 1000 : 60_000);
  };
  const tally = Object.entries(compose.services).filter(
    ([, s]) => s.image === "tally:dev" && s.command !== undefined && s.command[0] !== "cli",
  );
  const running = tally.map(([, s]) => s.command[0]).sort();
  assert.deepEqual([...new Set(running)].sort(), [...TALLY_SERVICES].sort(), "every service runs");
  for (const [name, s] of tally) {
    assert.ok((TALLY_SERVICES as readonly string[]).includes(s.command[0]), `${name}: ${s.command[0]}`);
    for (const v of Object.keys(s.environment)) assert.ok(docs.includes(`\`${v}\``), `${name}: ${v} is in docs/configuration.md`);
    assert.ok(ms(s.stop_grace_period) > Number(s.environment.DRAIN_TIMEOUT_MS), `${name}: stop_grace_period beyond DRAIN_TIMEOUT_MS`);
    assert.equal(s.read_only, true, `${name}: read-only root filesystem`);
    assert.deepEqual(s.cap_drop, ["ALL"], `${name}: capabilities dropped`);
    assert.equal(s.environment.STREAM_REPLICAS, "3", `${name}: R3 on the 3-node cluster`);
    assert.ok(s.environment.NATS_URL.split(",").length === 3, `${name}: all three NATS servers`);
  }
  const nats = Object.entries(compose.services).filter(([, s]) => /^nats:/.test(String(s.image)));
  assert.equal(nats.length, 3);
  const routes = [...read("deploy/nats-cluster.conf").matchAll(/nats-route:\/\/([\w-]+):6222/g)].map((m) => m[1]).sort();
  for (const [name, s] of nats) {
    const [maj, min] = /^nats:(\d+)\.(\d+)/.exec(s.image)!.slice(1).map(Number) as [number, number];
    assert.ok(maj > 2 || (maj === 2 && min >= 11), `${name}: nats ${s.image} is 2.11 or later`);
    assert.equal(s.environment.NATS_SERVER_NAME, s.hostname, `${name}: server name = host name`);
    assert.ok(routes.includes(s.hostname), `${name} is in the cluster's routes`);
    for (const v of s.volumes as string[]) assert.ok(existsSync(join(deploy, v.split(":")[0]!)), `${name}: mounts ${v}`);
  }
  assert.equal(routes.length, 3);
});
