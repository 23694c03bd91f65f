// The tally command refuses garbage with a clear message and a non-zero exit, before it starts anything.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "@tally/testkit";

const cli = join(repoRoot, "packages/cli/dist/main.js");

function run(args: string[], env: Record<string, string> = {}): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 20_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

test("an unknown command prints the usage and exits 2", () => {
  const r = run(["frobnicate"]);
  assert.equal(r.status, 2);
  assert.match(r.out, /usage: tally <command>/);
});

test("bench refuses bad options by name", () => {
  for (const [args, re] of [
    [["bench", "--rate", "fast"], /--rate must be an integer/],
    [["bench", "--duration", "0"], /--duration must be an integer from 1/],
    [["bench", "--workload", "lottery"], /--workload must be one of/],
    [["bench", "--nodes", "9"], /--nodes must be an integer/],
    [["bench", "--submit", "carrier-pigeon"], /--submit must be stream or unary/],
  ] as const) {
    const r = run([...args]);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, re);
  }
});

test("commands that need a running consortium say how to start one", () => {
  const home = mkdtempSync(join(tmpdir(), "tally-cli-"));
  try {
    const r = run(["demo"], { TALLY_HOME: home });
    assert.equal(r.status, 1);
    assert.match(r.out, /network\.json not found: start the consortium first/);
    const w = run(["watch", "--after", "not-a-cursor"], { TALLY_HOME: home });
    assert.equal(w.status, 1);
    assert.match(w.out, /network\.json not found|cursor must be height:tx:event/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
