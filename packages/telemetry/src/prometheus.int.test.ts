// deploy/prometheus is checked by promtool itself (from Debian's `prometheus` package; .ci/run
// installs it): the scrape config, the alert rules, and the rules' unit tests. A missing promtool
// fails this test: it is not skipped.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { registry } from "./index.js";

const dir = fileURLToPath(new URL("../../../deploy/prometheus/", import.meta.url));

function promtool(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync("promtool", args, { cwd: dir, encoding: "utf8" });
  if (r.error !== undefined) {
    assert.fail(
      `promtool could not be run (${r.error.message}): install Debian's prometheus package (apt-get install -y prometheus; .ci/run does)`,
    );
  }
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test("promtool is installed", () => {
  const r = promtool("--version");
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /promtool, version/);
});

test("promtool check config accepts deploy/prometheus/prometheus.yml and its rule file", () => {
  const r = promtool("check", "config", "prometheus.yml");
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /SUCCESS: 5 rules found/);
});

test("promtool test rules passes the alert rules' unit tests", () => {
  const r = promtool("test", "rules", "tally-alerts.test.yml");
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /SUCCESS/);
});

test("the rules define exactly the alerts the runbook names, TallyNoLeader as max(is_leader) == 0 for 5s", () => {
  const text = readFileSync(join(dir, "tally-alerts.yml"), "utf8");
  const names = [...text.matchAll(/^\s*- alert: (\S+)$/gm)].map((m) => m[1]);
  assert.deepEqual(names, ["TallyNoLeader", "TallyFinalityLagHigh", "TallyStateRootDivergence", "TallyConsumerLagHigh", "TallyHalted"]);
  assert.match(text, /- alert: TallyNoLeader\n(?:\s*#.*\n)*\s*expr: max\(tally_sequencer_is_leader\) == 0\n\s*for: 5s\n/);
});

test("every metric the rules read is one the services export", async () => {
  const text = readFileSync(join(dir, "tally-alerts.yml"), "utf8");
  const used = new Set([...text.matchAll(/\b(tally_[a-z_]+)\b/g)].map((m) => m[1]!));
  const exported = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
  assert.ok(used.size >= 4);
  for (const name of used) assert.ok(exported.has(name), `${name} is not exported by @tally/telemetry`);
});

test("promtool is a real check: a broken rule and an unknown config field are refused, naming the fault", () => {
  const tmp = mkdtempSync(join(tmpdir(), "tally-promtool-"));
  try {
    writeFileSync(
      join(tmp, "bad-rules.yml"),
      "groups:\n  - name: bad\n    rules:\n      - alert: Broken\n        expr: max(tally_sequencer_is_leader ==\n",
    );
    const rules = promtool("check", "rules", join(tmp, "bad-rules.yml"));
    assert.notEqual(rules.status, 0);
    assert.match(rules.out, /parse error|unexpected/i);
    writeFileSync(join(tmp, "bad.yml"), "global:\n  scrape_intervall: 5s\n");
    const config = promtool("check", "config", join(tmp, "bad.yml"));
    assert.notEqual(config.status, 0);
    assert.match(config.out, /scrape_intervall/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
