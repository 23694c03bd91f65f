// Each real service process, started with a missing or bad environment variable, refuses to
// start: it exits 78 (EX_CONFIG) before connecting to anything, and its one line names the variable.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXIT_CONFIG, loadKeyFile, writeKeyFile } from "@tally/config";
import { toHex } from "@tally/ledger";
import { writeConsortium, type ConsortiumPlan } from "./consortium.js";
import { ServiceProcess, serviceEntry } from "./service-process.js";

const PLAN: ConsortiumPlan = {
  chainId: "tally-config",
  institutions: [{ id: "bank-a", name: "Bank A", roles: ["bank"], node: "node-a" }],
  nodes: [{ id: "node-a", institution: "bank-a", regfeed: true }],
  sequencers: [{ id: "seq-1", institution: "bank-a" }],
};

const dir = mkdtempSync(join(tmpdir(), "tally-config-int-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const files = writeConsortium(dir, PLAN, Date.now());
// Key custody (issue 13): copies of the keys that others can read, world (0644) and group (0640).
const exposed = (id: string, mode: number): string => {
  const p = join(dir, `${id}-${mode.toString(8)}.json`);
  copyFileSync(files.keyFiles.get(id)!, p);
  chmodSync(p, mode);
  return p;
};
// Key custody: the sequencer's key encrypted under a passphrase (issue 13).
const sealed = (id: string): string => {
  const p = join(dir, `${id}-sealed.json`);
  const k = loadKeyFile(files.keyFiles.get(id)!, undefined);
  const seed = toHex(k.key.secretKey.subarray(0, 32));
  writeKeyFile(p, { owner: k.owner, keyId: k.keyId, publicKey: toHex(k.key.publicKey), seed }, { value: "right horse", source: "test" });
  return p;
};
// Nothing listens on port 1: were a service to get past its configuration, it would fail differently.
const node = {
  NODE_ID: "node-a",
  GENESIS_FILE: files.genesisFile,
  DATABASE_URL: "postgres://postgres@127.0.0.1:1/none",
  NATS_URL: "nats://127.0.0.1:1",
  NODE_KEY_FILE: files.keyFiles.get("node-a")!,
  EXECUTOR_ADDR: "127.0.0.1:1",
  GATEWAY_INSECURE: "true",
};
const seq = {
  SEQUENCER_ID: "seq-1",
  GENESIS_FILE: files.genesisFile,
  SEQUENCER_KEY_FILE: files.keyFiles.get("seq-1")!,
  NATS_URL: "nats://127.0.0.1:1",
};

type Service = "gateway" | "sequencer" | "blockstore" | "executor" | "regfeed";
const CASES: [Service, Record<string, string>, string, RegExp][] = [
  ["gateway", { ...node, NODE_ID: "" }, "NODE_ID", /NODE_ID is required/],
  ["gateway", { ...node, EXECUTOR_ADDR: "" }, "EXECUTOR_ADDR", /EXECUTOR_ADDR is required/],
  ["gateway", { ...node, GATEWAY_INSECURE: "false" }, "GATEWAY_CLIENT_CA_FILE", /GATEWAY_CLIENT_CA_FILE is required/],
  ["sequencer", { ...seq, SEQUENCER_KEY_FILE: "/nonexistent.json" }, "SEQUENCER_KEY_FILE", /SEQUENCER_KEY_FILE: cannot read/],
  [
    "sequencer",
    { ...seq, SEQUENCER_KEY_FILE: exposed("seq-1", 0o644) },
    "SEQUENCER_KEY_FILE",
    /SEQUENCER_KEY_FILE: .*readable by others \(mode 644\)/,
  ],
  ["executor", { ...node, NODE_KEY_FILE: exposed("node-a", 0o640) }, "NODE_KEY_FILE", /NODE_KEY_FILE: .*readable by others \(mode 640\)/],
  ["gateway", { ...node, NATS_ENSURE_STREAMS: "maybe" }, "NATS_ENSURE_STREAMS", /NATS_ENSURE_STREAMS/],
  [
    "sequencer",
    { ...seq, SEQUENCER_KEY_FILE: sealed("seq-1"), TALLY_KEY_PASSPHRASE: "wrong horse" },
    "TALLY_KEY_PASSPHRASE",
    /SEQUENCER_KEY_FILE: .*cannot decrypt with the passphrase from TALLY_KEY_PASSPHRASE/,
  ],
  [
    "executor",
    { ...node, NODE_KEY_FILE: sealed("node-a") },
    "TALLY_KEY_PASSPHRASE",
    /NODE_KEY_FILE: .*is encrypted: set TALLY_KEY_PASSPHRASE/,
  ],
  ["sequencer", { ...seq, LEASE_TTL_MS: "fast" }, "LEASE_TTL_MS", /LEASE_TTL_MS must be an integer/],
  ["blockstore", { ...node, DATABASE_URL: "" }, "DATABASE_URL", /DATABASE_URL is required/],
  ["blockstore", { ...node, STREAM_REPLICAS: "7" }, "STREAM_REPLICAS", /STREAM_REPLICAS must be between 1 and 5/],
  ["executor", { ...node, GENESIS_FILE: "/nonexistent/genesis.json" }, "GENESIS_FILE", /GENESIS_FILE: cannot read/],
  ["executor", { ...node, DRAIN_TIMEOUT_MS: "-5" }, "DRAIN_TIMEOUT_MS", /DRAIN_TIMEOUT_MS must be between/],
  ["regfeed", { ...node, HEALTH_ADDR: "health" }, "HEALTH_ADDR", /HEALTH_ADDR must be host:port/],
  ["regfeed", { ...node, NATS_URL: "redis://127.0.0.1:1" }, "NATS_URL", /NATS_URL must be a nats: or tls:\/\/ URL/],
];

for (const [service, env, name, message] of CASES) {
  test(`${service} with a bad ${name} exits ${EXIT_CONFIG} naming it`, async () => {
    // Every variable the cases use is set explicitly (empty counts as unset), so the test's own environment cannot leak in.
    const blank = Object.fromEntries(
      Object.keys({
        ...node,
        ...seq,
        NATS_ENSURE_STREAMS: "",
        LEASE_TTL_MS: "",
        STREAM_REPLICAS: "",
        DRAIN_TIMEOUT_MS: "",
        HEALTH_ADDR: "",
        TALLY_KEY_PASSPHRASE: "",
        TALLY_KEY_PASSPHRASE_FILE: "",
      }).map((k) => [k, ""]),
    );
    const p = new ServiceProcess(`${service}-${name}`, serviceEntry(service), { ...blank, ...env });
    const code = await Promise.race([p.exited, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 20_000))]);
    if (code === "timeout") await p.stop("SIGKILL");
    const out = p.lines.join("\n");
    assert.equal(code, EXIT_CONFIG, `exit code; output:\n${out}`);
    assert.match(out, message);
    const line = p.lines.find((l) => l.includes("configuration refused"));
    assert.ok(line !== undefined, out);
    const parsed = JSON.parse(line) as { service: string; msg: string };
    assert.equal(parsed.service, service);
    assert.ok(parsed.msg.includes(name));
  });
}
