// The services' configuration loaders (@tally/config): every variable they read is listed in
// docs/configuration.md, good values load, and each bad or missing one is refused by name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blockstoreConfig, ConfigError, Env, executorConfig, gatewayConfig, regfeedConfig, sequencerConfig } from "@tally/config";
import { writeConsortium, type ConsortiumPlan } from "./consortium.js";
import { repoRoot } from "./service-process.js";

const PLAN: ConsortiumPlan = {
  chainId: "tally-config",
  institutions: [{ id: "bank-a", name: "Bank A", roles: ["bank"], node: "node-a" }],
  nodes: [{ id: "node-a", institution: "bank-a", regfeed: true }],
  sequencers: [{ id: "seq-1", institution: "bank-a" }],
};
const DEFAULTS = { subscriberStallMs: 30_000, tailEventsMax: 20_000 };

function fixture(): { dir: string; node: Record<string, string>; seq: Record<string, string>; gatewayTls: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), "tally-config-"));
  const files = writeConsortium(dir, PLAN, Date.now());
  const map = join(dir, "clients.json");
  writeFileSync(map, JSON.stringify({ clients: [{ institution: "bank-a", commonName: "bank-a" }] }));
  const common = { GENESIS_FILE: files.genesisFile, NATS_URL: "nats://127.0.0.1:4222" };
  return {
    dir,
    node: {
      ...common,
      NODE_ID: "node-a",
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/x",
      NODE_KEY_FILE: files.keyFiles.get("node-a")!,
      EXECUTOR_ADDR: "127.0.0.1:1",
    },
    seq: { ...common, SEQUENCER_ID: "seq-1", SEQUENCER_KEY_FILE: files.keyFiles.get("seq-1")! },
    // Any readable files pass the start-up check; the gateway builds its credentials from them later.
    gatewayTls: { GATEWAY_TLS_CERT_FILE: map, GATEWAY_TLS_KEY_FILE: map, GATEWAY_CLIENT_CA_FILE: map, GATEWAY_CLIENT_MAP_FILE: map },
  };
}

const refusedNaming =
  (name: string) =>
  (e: unknown): boolean =>
    e instanceof ConfigError && e.message.includes(name);

test("every variable a service reads is listed in docs/configuration.md", () => {
  const f = fixture();
  try {
    const docs = readFileSync(join(repoRoot, "docs/configuration.md"), "utf8");
    const read = new Set<string>();
    const loads: [string, (env: Env) => unknown, Record<string, string>][] = [
      ["gateway", (e) => gatewayConfig(e), { ...f.node, ...f.gatewayTls }],
      ["gateway (insecure)", (e) => gatewayConfig(e), { ...f.node, GATEWAY_INSECURE: "true" }],
      ["sequencer", (e) => sequencerConfig(e), f.seq],
      ["blockstore", (e) => blockstoreConfig(e), { ...f.node, BLOCKS_MAX_MSGS: "10", BLOCKS_MAX_AGE_MS: "60000" }],
      ["executor", (e) => executorConfig(e), f.node],
      ["regfeed", (e) => regfeedConfig(e, DEFAULTS), f.node],
    ];
    for (const [what, load, vars] of loads) {
      const env = new Env(vars);
      assert.doesNotThrow(() => load(env), `${what} loads a good configuration`);
      for (const n of env.names) read.add(n);
    }
    assert.ok(read.size > 40, `the loaders read ${read.size} variables`);
    const missing = [...read].filter((n) => !docs.includes(`\`${n}\``));
    assert.deepEqual(missing, [], `variables read but not in docs/configuration.md: ${missing.join(", ")}`);
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test("good values load with their defaults", () => {
  const f = fixture();
  try {
    const g = gatewayConfig(new Env({ ...f.node, GATEWAY_INSECURE: "true", HEALTH_ADDR: "0.0.0.0:8081", DRAIN_TIMEOUT_MS: "15000" }));
    assert.equal(g.nodeId, "node-a");
    assert.deepEqual(g.healthAddr, { host: "0.0.0.0", port: 8081 });
    assert.equal(g.drainTimeoutMs, 15_000);
    assert.equal(g.streamReplicas, 1);
    assert.equal(g.namespace, "tally");
    assert.equal(g.genesis.chainId, "tally-config");
    const s = sequencerConfig(new Env({ ...f.seq, LEASE_TTL_MS: "3000", NATS_URL: "nats://a:4222,nats://b:4222" }));
    assert.deepEqual(s.lease, { ttlMs: 3000, renewMs: 600, pollMs: 100, marginMs: 500 });
    assert.equal(s.key.owner, "seq-1");
    const b = blockstoreConfig(new Env({ ...f.node, PEER_BLOCKSTORE_ADDRS: "a:1, [::1]:2" }));
    assert.deepEqual(b.peers, ["a:1", "[::1]:2"]);
    const r = regfeedConfig(new Env({ NODE_ID: "node-a", DATABASE_URL: "postgresql://h/db" }), DEFAULTS);
    assert.equal(r.genesis, undefined);
    assert.equal(r.natsUrl, undefined);
    assert.equal(r.tailEventsMax, 20_000);
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test("each missing or bad value is refused with a message naming its variable", () => {
  const f = fixture();
  try {
    const cases: [string, (vars: Record<string, string>) => unknown, Record<string, string>, string][] = [
      ["NODE_ID", (v) => executorConfig(new Env(v)), { ...f.node, NODE_ID: "" }, "NODE_ID is required"],
      ["NODE_ID", (v) => executorConfig(new Env(v)), { ...f.node, NODE_ID: "no spaces" }, "NODE_ID must be"],
      ["DATABASE_URL", (v) => executorConfig(new Env(v)), { ...f.node, DATABASE_URL: "" }, "DATABASE_URL is required"],
      ["DATABASE_URL", (v) => blockstoreConfig(new Env(v)), { ...f.node, DATABASE_URL: "mysql://h/db" }, "DATABASE_URL must be"],
      ["DATABASE_URL", (v) => blockstoreConfig(new Env(v)), { ...f.node, DATABASE_URL: "not a url" }, "DATABASE_URL must be a URL"],
      ["NATS_URL", (v) => executorConfig(new Env(v)), { ...f.node, NATS_URL: "http://h:4222" }, "NATS_URL must be"],
      ["NATS_URL", (v) => regfeedConfig(new Env(v), DEFAULTS), { ...f.node, NATS_URL: "nats://a:1,bogus" }, "NATS_URL must be a URL"],
      [
        "GENESIS_FILE",
        (v) => executorConfig(new Env(v)),
        { ...f.node, GENESIS_FILE: "/nonexistent/genesis.json" },
        "GENESIS_FILE: cannot read",
      ],
      ["GENESIS_FILE", (v) => executorConfig(new Env(v)), { ...f.node, GENESIS_FILE: f.node.NODE_KEY_FILE! }, "GENESIS_FILE: "],
      ["NODE_KEY_FILE", (v) => executorConfig(new Env(v)), { ...f.node, NODE_KEY_FILE: "" }, "NODE_KEY_FILE is required"],
      ["SEQUENCER_ID", (v) => sequencerConfig(new Env(v)), { ...f.seq, SEQUENCER_ID: "seq 9" }, "SEQUENCER_ID must be"],
      [
        "SEQUENCER_SET_WAIT_MS",
        (v) => sequencerConfig(new Env(v)),
        { ...f.seq, SEQUENCER_SET_WAIT_MS: "0" },
        "SEQUENCER_SET_WAIT_MS must be between 100 and 600000",
      ],
      ["LEASE_RENEW_MS", (v) => sequencerConfig(new Env(v)), { ...f.seq, LEASE_TTL_MS: "1000", LEASE_RENEW_MS: "1000" }, "LEASE_RENEW_MS"],
      [
        "STREAM_REPLICAS",
        (v) => blockstoreConfig(new Env(v)),
        { ...f.node, STREAM_REPLICAS: "9" },
        "STREAM_REPLICAS must be between 1 and 5",
      ],
      [
        "DRAIN_TIMEOUT_MS",
        (v) => blockstoreConfig(new Env(v)),
        { ...f.node, DRAIN_TIMEOUT_MS: "10s" },
        "DRAIN_TIMEOUT_MS must be an integer",
      ],
      ["HEALTH_ADDR", (v) => executorConfig(new Env(v)), { ...f.node, HEALTH_ADDR: "8081" }, "HEALTH_ADDR must be host:port"],
      ["LOG_LEVEL", (v) => executorConfig(new Env(v)), { ...f.node, LOG_LEVEL: "verbose" }, "LOG_LEVEL must be one of"],
      [
        "PEER_BLOCKSTORE_ADDRS",
        (v) => blockstoreConfig(new Env(v)),
        { ...f.node, PEER_BLOCKSTORE_ADDRS: "a:1,b" },
        "PEER_BLOCKSTORE_ADDRS",
      ],
      ["GATEWAY_CLIENT_CA_FILE", (v) => gatewayConfig(new Env(v)), f.node, "GATEWAY_CLIENT_CA_FILE is required"],
      [
        "GATEWAY_CLIENT_MAP_FILE",
        (v) => gatewayConfig(new Env(v)),
        { ...f.node, ...f.gatewayTls, GATEWAY_CLIENT_MAP_FILE: f.node.GENESIS_FILE! },
        "GATEWAY_CLIENT_MAP_FILE",
      ],
      [
        "GRPC_ADDR",
        (v) => gatewayConfig(new Env(v)),
        { ...f.node, GATEWAY_INSECURE: "true", GRPC_ADDR: "0.0.0.0:9" },
        "GRPC_ADDR 0.0.0.0 is not a loopback",
      ],
      [
        "WAIT_MS_DEFAULT",
        (v) => gatewayConfig(new Env(v)),
        { ...f.node, GATEWAY_INSECURE: "true", WAIT_MS_DEFAULT: "5000", WAIT_MS_MAX: "10" },
        "WAIT_MS_DEFAULT",
      ],
      [
        "EXECUTOR_ADDR",
        (v) => gatewayConfig(new Env(v)),
        { ...f.node, GATEWAY_INSECURE: "true", EXECUTOR_ADDR: "nohost" },
        "EXECUTOR_ADDR must be host:port",
      ],
    ];
    for (const [name, load, vars, text] of cases)
      assert.throws(
        () => load(vars),
        (e: unknown) => refusedNaming(name)(e) && (e as Error).message.includes(text),
        `${name}: expected a ConfigError containing "${text}"`,
      );
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test("a password in a refused URL is not echoed", () => {
  assert.throws(
    () => new Env({ DATABASE_URL: "mysql://u:s3cret@h/db" }).url("DATABASE_URL", ["postgres:"]),
    (e: unknown) => e instanceof ConfigError && !e.message.includes("s3cret") && e.message.includes("u:***@"),
  );
});
