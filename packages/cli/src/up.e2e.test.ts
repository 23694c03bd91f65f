// The newcomer's path, as real processes: `tally up` on embedded defaults (its own nats-server
// and embedded PostgreSQL, no NATS_URL or DATABASE_URL), then `tally demo` in "a second
// terminal", then Ctrl-C. Also checks that network.json keeps the shape other tools read.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SAMPLE_CONSORTIUM, ServiceProcess, repoRoot } from "@tally/testkit";

const cli = join(repoRoot, "packages/cli/dist/main.js");

describe("tally up + tally demo on embedded defaults", () => {
  const home = mkdtempSync(join(tmpdir(), "tally-up-"));
  const env: Record<string, string> = { TALLY_HOME: home };
  // The newcomer has neither variable set.
  const clean = { ...process.env };
  delete clean.NATS_URL;
  delete clean.DATABASE_URL;
  let up: ServiceProcess | undefined;

  after(async () => {
    await up?.stop("SIGINT", 20_000);
    rmSync(home, { recursive: true, force: true });
  });

  test("starts, prints its endpoints, runs the demo with the regulator feed live, and stops on Ctrl-C", async () => {
    process.env = clean;
    up = new ServiceProcess("tally-up", [process.execPath, cli, "up"], env);
    await up.waitForLine(/Ctrl-C stops/, 120_000);
    assert.match(up.lines.join("\n"), /Tally consortium "tally-local" is up/);
    const out = up.lines.join("\n");
    assert.match(out, /started nats-server \(JetStream\)/);
    assert.match(out, /started embedded PostgreSQL/);
    // Its nats-server runs with per-role users (issue 13); their passwords are private.
    assert.match(out, /one NATS user per service/);
    assert.equal(statSync(join(home, "nats", "passwords.json")).mode & 0o077, 0);
    for (const n of ["node-exchange", "node-clearing", "node-bank-a", "node-regulator"])
      assert.match(out, new RegExp(`node\\s+${n}\\s+gateway 127\\.0\\.0\\.1:\\d+`));

    const net = JSON.parse(readFileSync(join(home, "network.json"), "utf8"));
    assert.equal(net.chainId, "tally-local");
    assert.match(net.nats, /^nats:\/\/127\.0\.0\.1:\d+$/);
    assert.match(net.regfeed, /^127\.0\.0\.1:\d+$/);
    assert.match(net.console, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.match(out, /console\s+http:\/\/127\.0\.0\.1:\d+\/\?as=regulator/);
    assert.equal(net.institutions.length, SAMPLE_CONSORTIUM.institutions.length);
    for (const i of net.institutions) {
      assert.match(i.gateway, /^127\.0\.0\.1:\d+$/);
      const keyFile = join(home, i.keyFile);
      assert.ok(existsSync(keyFile), `${i.keyFile} exists`);
      assert.equal(statSync(keyFile).mode & 0o077, 0, `${i.keyFile} is private`);
    }
    assert.equal(net.nodes.length, 4);
    for (const n of net.nodes) assert.match(n.database, /^postgres:\/\//);
    // Every service's /metrics port, printed and in network.json and the Prometheus targets file.
    const metrics = net.metrics as Record<string, string>;
    assert.equal(Object.keys(metrics).length, 4 * 3 + 1 + SAMPLE_CONSORTIUM.sequencers.length);
    assert.match(out, /node-bank-a\/gateway\s+http:\/\/127\.0\.0\.1:\d+\/metrics/);
    const targets = JSON.parse(readFileSync(join(home, "prometheus-targets.json"), "utf8")) as { targets: string[] }[];
    assert.deepEqual(targets.map((t) => t.targets[0]).sort(), Object.values(metrics).sort());
    const scraped = await (await fetch(`http://${metrics["node-bank-a/gateway"]}/metrics`)).text();
    assert.match(scraped, /^# TYPE tally_tx_accepted_total counter$/m);

    const demo = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(process.execPath, [cli, "demo"], { env: { ...clean, ...env } });
      let s = "";
      p.stdout.on("data", (d: Buffer) => (s += d.toString()));
      p.stderr.on("data", (d: Buffer) => (s += d.toString()));
      p.on("exit", (code) => resolve({ code, out: s }));
    });
    assert.equal(demo.code, 0, demo.out);
    assert.match(demo.out, /COMMITTED at height \d+: OK/);
    assert.match(demo.out, /REJECTED INSUFFICIENT_FUNDS/);
    assert.match(demo.out, /\[regfeed\] .*cash\.CashIssued/);
    assert.match(demo.out, /\[regfeed\] .*cash\.CashTransferred/);
    assert.match(demo.out, /\[regfeed\] .*notary\.DocumentRegistered/);
    // The finance scenarios, each seen live on the regulator's feed.
    for (const e of [
      "bill\\.BillIssued",
      "bill\\.BillDiscounted",
      "bill\\.BillPaid",
      "receivable\\.ReceivableSplit",
      "receivable\\.ReceivableFinanced",
      "receivable\\.ReceivableSettled",
      "logistics\\.EscrowReleased",
      "trade\\.TradeExecuted",
      "trade\\.LargeTradeAlert",
      "data\\.LicenseGranted",
      "points\\.PointsExchanged",
      "points\\.PacketClaimed",
      "points\\.EnvelopeRefunded",
      "charity\\.MilestoneDisbursed",
    ])
      assert.match(demo.out, new RegExp(`\\[regfeed\\] .*${e}`), e);
    // The refusals the demo shows are the contracts' own reason codes.
    assert.match(demo.out, /REJECTED NOT_HOLDER/);
    assert.match(demo.out, /REJECTED ALREADY_FINANCED/);
    for (const code of ["ALREADY_REGISTERED", "RESALE_FORBIDDEN", "ALREADY_CLAIMED", "NOT_ATTESTED"])
      assert.match(demo.out, new RegExp(`REJECTED ${code}`));
    // Every validator node executed every block and reached the same state root.
    assert.match(demo.out, /every node reached the same state root/);
    assert.match(demo.out, /demo complete/);

    // The regulator, through its own node's gateway (over mTLS), sees another institution's balance.
    // enterprise-d factored 600,000.00 at 1.50%: it was advanced 591,000.00, and nothing else moved its cash.
    const q = spawnSync(process.execPath, [cli, "query", "--as", "regulator", "cash", "balance", '{"account":"enterprise-d"}'], {
      env: { ...clean, ...env },
    });
    assert.equal(q.status, 0, q.stderr.toString());
    assert.equal(JSON.parse(q.stdout.toString()).result.balance, "59100000");
    // Another member may not: NOT_FOUND, as for an account that does not exist.
    const hidden = spawnSync(process.execPath, [cli, "query", "--as", "enterprise-a", "cash", "balance", '{"account":"enterprise-d"}'], {
      env: { ...clean, ...env },
    });
    assert.notEqual(hidden.status, 0);
    assert.match(hidden.stderr.toString(), /NOT_FOUND/);

    // Bad input from the command line gets a clear refusal, not a crash.
    const bad = spawnSync(process.execPath, [cli, "submit", "--as", "bank-a", "cash", "transfer", '{"to":"enterprise-a","amount":"1.5"}'], {
      env: { ...clean, ...env },
    });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr.toString(), /BAD_ARGS/);

    // A service killed with SIGKILL is reported and restarted, and the node serves again.
    const executorPid = (net.pids as Record<string, number>)["node-bank-a/executor"]!;
    assert.ok(executorPid > 0);
    process.kill(executorPid, "SIGKILL");
    await up.waitForLine(/!! node-bank-a\/executor is back/, 30_000);
    const after = JSON.parse(readFileSync(join(home, "network.json"), "utf8")) as { pids: Record<string, number> };
    assert.notEqual(after.pids["node-bank-a/executor"], executorPid, "network.json names the new process");
    // The restarted executor answers through bank-a's node again (a public query: every member may read it).
    const q2 = spawnSync(process.execPath, [cli, "query", "--as", "enterprise-a", "membership", "institution", '{"id":"enterprise-d"}'], {
      env: { ...clean, ...env },
    });
    assert.equal(q2.status, 0, q2.stderr.toString());
    assert.equal(JSON.parse(q2.stdout.toString()).result.id, "enterprise-d");

    await up.stop("SIGINT", 20_000);
    assert.match(up.lines.join("\n"), /stopping the consortium/);
    assert.equal(await up.exited, 0);
  });
});
