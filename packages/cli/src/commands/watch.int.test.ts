// `tally watch` against a real regfeed: it prints events and alerts, saves its place in
// TALLY_HOME, and a second run resumes after it: nothing printed twice, nothing skipped.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql, type Kysely } from "kysely";
import { HEIGHT_CHANNEL, migrateToLatest, openDb, type Database } from "@tally/db";
import { sha256 } from "@tally/ledger";
import { createTestDatabase, freePort, repoRoot, ServiceProcess, serviceEntry, waitFor } from "@tally/testkit";

let drop: () => Promise<void>;
let db: Kysely<Database>;
let regfeed: ServiceProcess;
let home: string;

async function commit(h: number): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto("events")
      .values(
        [0, 1].map((t) => ({
          height: BigInt(h),
          tx_index: t,
          event_index: 0,
          tx_id: sha256(new TextEncoder().encode(`${h}/${t}`)),
          contract: "cash",
          type: "CashTransferred",
          asset_id: "acct/bank-a",
          parties: ["bank-a", "bank-b"],
          data: JSON.stringify({ from: "bank-a", to: "bank-b", amount: `${h}${t}` }),
          block_time_ms: BigInt(h),
          signer: "bank-a",
        })),
      )
      .execute();
    await sql`select pg_notify(${HEIGHT_CHANNEL}, ${`executor:${h}`})`.execute(tx);
  });
}

async function alert(seq: number): Promise<void> {
  await db
    .insertInto("alerts")
    .values({
      seq: BigInt(seq),
      rule: "large-value",
      rule_id: "big",
      height: 1n,
      tx_id: new Uint8Array(32),
      asset_id: "acct/bank-a",
      subjects: ["bank-a"],
      summary: `alert number ${seq}`,
      details: "{}",
      block_time_ms: 1n,
      dedupe_key: `k${seq}`,
      acked_by: null,
      acked_at_ms: null,
    })
    .execute();
}

/** Runs `tally watch` until it printed `until` lines matching the pattern, then interrupts it; returns stdout lines. */
async function watchUntil(re: RegExp, count: number): Promise<string[]> {
  const child = spawn(process.execPath, [join(repoRoot, "packages/cli/dist/main.js"), "watch"], {
    env: { ...process.env, TALLY_HOME: home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let buf = "";
  child.stdout.on("data", (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split("\n");
    buf = parts.pop() ?? "";
    lines.push(...parts);
  });
  const exited = new Promise<number | null>((r) => child.once("exit", r));
  await waitFor("watch output", () => lines.filter((l) => re.test(l)).length >= count, 20_000, 20);
  // Nothing more is coming; give a late duplicate the chance to show, then stop it as Ctrl-C would.
  await new Promise((r) => setTimeout(r, 700));
  child.kill("SIGINT");
  assert.equal(await exited, 0);
  return lines;
}

before(async () => {
  const t = await createTestDatabase("cli_watch");
  drop = () => t.drop();
  db = openDb(t.url);
  await migrateToLatest(db);
  const port = await freePort();
  regfeed = new ServiceProcess("regfeed", serviceEntry("regfeed"), {
    NODE_ID: "node-regulator",
    DATABASE_URL: t.url,
    GRPC_ADDR: `127.0.0.1:${port}`,
    ALERTS_ENABLED: "false",
  });
  await regfeed.waitForLine(/regfeed listening/, 20_000);
  home = mkdtempSync(join(tmpdir(), "tally-watch-home-"));
  writeFileSync(
    join(home, "network.json"),
    JSON.stringify({ regfeed: `127.0.0.1:${port}`, genesisFile: "genesis.json", institutions: [], nodes: [] }),
  );
});

after(async () => {
  await regfeed?.stop("SIGTERM", 3000);
  await db?.destroy();
  await drop?.();
  if (home !== undefined) rmSync(home, { recursive: true, force: true });
});

test("tally watch prints events and alerts, saves its place, and the next run resumes after it", async () => {
  for (let h = 1; h <= 3; h++) await commit(h);
  await alert(1);
  const first = await watchUntil(/\[regfeed\]|\[ALERT/, 7);
  const events1 = first.filter((l) => l.startsWith("[regfeed]"));
  assert.equal(events1.length, 6);
  assert.equal(first.filter((l) => l.startsWith("[ALERT #1]")).length, 1);
  const saved = JSON.parse(readFileSync(join(home, "watch-cursor.json"), "utf8")) as { events: string; alertSeq: string };
  assert.deepEqual(saved, { events: "3:1:0", alertSeq: "1" });

  for (let h = 4; h <= 5; h++) await commit(h);
  await alert(2);
  const second = await watchUntil(/\[regfeed\]|\[ALERT/, 5);
  const events2 = second.filter((l) => l.startsWith("[regfeed]"));
  assert.deepEqual(
    events2.map((l) => l.split(/\s+/)[1]),
    ["4:0:0", "4:1:0", "5:0:0", "5:1:0"],
    "only what came after the saved place",
  );
  assert.deepEqual(
    second.filter((l) => l.startsWith("[ALERT")).map((l) => l.split("]")[0]),
    ["[ALERT #2"],
  );
});
