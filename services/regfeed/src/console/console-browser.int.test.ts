// The built page in Debian's chromium against the real handlers and a real database (no network of
// services): the browser's own verifier (WebCrypto SHA-256 and Ed25519) agrees with packages/ledger
// on blocks of many sizes, every leaf, and refuses every tampered proof and signature; alerts
// arrive on the page live over SSE and are acknowledged from it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import type { Kysely } from "kysely";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { HeightSignal, migrateToLatest, openDb, type Database } from "@tally/db";
import { toHex, utf8 } from "@tally/ledger";
import { createTestDatabase, waitFor } from "@tally/testkit";
import { AccessLog } from "../access-log.js";
import { AlertStore } from "../alerts/alert-store.js";
import { CHROMIUM, CHROMIUM_FLAGS, fixtureGenesis, storeBlock, ZERO_HASH } from "./console-fixture.js";
import { loopbackIdentity } from "./console-identity.js";
import { DEFAULT_STATIC_DIR, startConsole, type RunningConsole } from "./console-server.js";

/** Block sizes: a single leaf, powers of two and the uneven trees between. */
const SIZES = [1, 2, 3, 4, 5, 7, 8, 13];

interface Verdict {
  ok: boolean;
  txIdMatches: boolean;
  heightMatches: boolean;
  rootMatches: boolean;
  signature: boolean | "unsupported";
}

describe("the console page in chromium", { timeout: 120_000 }, () => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  let con: RunningConsole;
  let browser: BrowserContext;
  let page: Page;
  const profile = mkdtempSync(join(tmpdir(), "tally-console-chromium-"));
  const alertSignal = new HeightSignal(100);
  const blocks: { height: bigint; txIds: string[] }[] = [];

  before(async () => {
    assert.ok(existsSync(join(DEFAULT_STATIC_DIR, "index.html")), "the page is built (npm run build)");
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    const t = await createTestDatabase("tally_console_web");
    drop = () => t.drop();
    db = openDb(t.url);
    await migrateToLatest(db);
    let prev: Uint8Array = ZERO_HASH;
    for (const [i, n] of SIZES.entries()) {
      const height = BigInt(i + 1);
      const txs = Array.from({ length: n }, (_, k) => utf8(`block ${height} leaf ${k}`));
      const s = await storeBlock(db, height, prev, txs);
      blocks.push({ height, txIds: s.txIds.map(toHex) });
      prev = s.hash;
    }
    con = await startConsole(
      {
        db,
        genesis: fixtureGenesis,
        access: new AccessLog(db),
        alerts: new AlertStore(db),
        identify: loopbackIdentity(),
        waitForCommit: (s) => alertSignal.wait(s),
        waitForAlerts: (s) => alertSignal.wait(s),
        commitGeneration: () => 0,
        alertGeneration: () => 0,
        staticDir: DEFAULT_STATIC_DIR,
      },
      "127.0.0.1",
      0,
    );
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    page = await browser.newPage();
    const r = await page.goto(`${con.url}?as=regulator#live`);
    assert.equal(r?.status(), 200);
    await page.locator("#chain-height").waitFor({ timeout: 20_000 });
  });

  after(async () => {
    await browser?.close();
    await con?.close();
    await db?.destroy();
    await drop?.();
    rmSync(profile, { recursive: true, force: true });
  });

  /** Runs the page's verifier on the served proof of a tx, with a tamper applied to the proof first. */
  const verifyInPage = (txId: string, tamper: string): Promise<Verdict> =>
    page.evaluate(
      async ([id, how]) => {
        const p = (await (await fetch(`/api/txs/${id}`)).json()) as Record<string, unknown> & {
          path: string[];
          leafIndex: number;
          treeSize: number;
          signedTx: string;
          headerSignature: string;
          header: string;
        };
        const flip = (h: string, at = 0): string => h.slice(0, at) + (h[at] === "0" ? "1" : "0") + h.slice(at + 1);
        const t = { ...p };
        if (how === "path" && p.path.length > 0) t.path = [...p.path.slice(0, -1), flip(p.path[p.path.length - 1]!)];
        if (how === "path" && p.path.length === 0) t.path = ["00".repeat(32)];
        if (how === "drop-step") t.path = p.path.slice(1);
        if (how === "index")
          t.leafIndex = (p.leafIndex + 1) % p.treeSize === p.leafIndex ? p.leafIndex + 1 : (p.leafIndex + 1) % p.treeSize;
        if (how === "tx") t.signedTx = flip(p.signedTx, 4);
        if (how === "signature") t.headerSignature = flip(p.headerSignature, 10);
        if (how === "header") t.header = flip(p.header, p.header.length - 1);
        const v = (globalThis as unknown as { tallyConsole: { verifyProof: (x: unknown) => Promise<Verdict> } }).tallyConsole;
        try {
          return await v.verifyProof(t);
        } catch {
          // A header that no longer decodes is a failed verification too.
          return { ok: false, txIdMatches: false, heightMatches: false, rootMatches: false, signature: false };
        }
      },
      [txId, tamper] as const,
    );

  test("every leaf of every block size verifies in the browser, with the sequencer's signature", async () => {
    for (const b of blocks)
      for (const id of b.txIds) {
        const v = await verifyInPage(id, "none");
        assert.deepEqual(v.ok, true, `block ${b.height} tx ${id}: ${JSON.stringify(v)}`);
        assert.equal(v.signature, true);
      }
  });

  test("tampered proofs, leaves, headers and signatures are refused", async () => {
    for (const b of blocks) {
      const id = b.txIds[b.txIds.length - 1]!;
      for (const how of ["path", "index", "tx", "signature", "header", ...(b.txIds.length > 1 ? ["drop-step"] : [])]) {
        const v = await verifyInPage(id, how);
        assert.equal(v.ok, false, `block ${b.height} (${b.txIds.length} txs), tampered ${how}: ${JSON.stringify(v)}`);
      }
    }
    // The page shows the verdict it computed.
    const id = blocks[blocks.length - 1]!.txIds[6]!;
    await page.goto(`${con.url}#explorer/tx/${id}`);
    await page.locator("#proof-result").waitFor({ timeout: 10_000 });
    assert.equal(await page.locator("#proof-result").textContent(), "INCLUDED: proof verified");
    assert.match((await page.locator("#explorer-result").textContent()) ?? "", /leaf 6 of 13/);
  });

  test("the explorer lists blocks and opens a block's transactions", async () => {
    await page.goto(`${con.url}#explorer`);
    await page.locator("#blocks tbody tr").first().waitFor({ timeout: 10_000 });
    const rows = await page
      .locator("#blocks tbody tr")
      .evaluateAll((trs) => trs.map((tr) => [tr.children[0]!.textContent, tr.children[2]!.textContent]));
    assert.deepEqual(rows, SIZES.map((n, i) => [String(i + 1), String(n)]).reverse());
    await page.locator("#blocks a", { hasText: "7" }).first().click();
    await page.locator("#block-txs tbody tr").first().waitFor({ timeout: 10_000 });
    assert.equal(await page.locator("#block-txs tbody tr").count(), SIZES[6]);
    // A tx link leads to its verified proof.
    await page.locator("#block-txs a").nth(3).click();
    await page.locator("#proof-result").waitFor({ timeout: 10_000 });
    assert.equal(await page.locator("#proof-result").textContent(), "INCLUDED: proof verified");
  });

  test("alerts arrive live and are acknowledged from the page", async () => {
    const alert = (seq: bigint) => ({
      seq,
      rule: "large-value",
      rule_id: "big-cash",
      height: 1n,
      tx_id: new Uint8Array(32).fill(Number(seq)),
      asset_id: `cash/${seq}`,
      subjects: ["bank-a"],
      summary: `large transfer ${seq}`,
      details: { amount: "1000000" },
      block_time_ms: BigInt(Date.now()),
      dedupe_key: `k-${seq}`,
      acked_by: null,
      acked_at_ms: null,
    });
    await db.insertInto("alerts").values(alert(1n)).execute();
    await page.goto(`${con.url}#alerts`);
    await page.locator('#alerts tr[data-seq="1"]').waitFor({ timeout: 10_000 });
    // Raised while the page is open: it arrives without a reload.
    await db.insertInto("alerts").values(alert(2n)).execute();
    alertSignal.notify();
    await page.locator('#alerts tr[data-seq="2"]').waitFor({ timeout: 10_000 });
    assert.deepEqual(await page.locator("#alerts tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-seq"))), ["2", "1"]);

    page.once("dialog", (d) => void d.accept("looked at it"));
    await page.locator('button[data-ack="2"]').click();
    await waitFor(
      "the acknowledgement on the page",
      async () => /acknowledged by regulator: looked at it/.test((await page.locator('#alerts tr[data-seq="2"]').textContent()) ?? ""),
      10_000,
      50,
    );
    const row = await db.selectFrom("alerts").selectAll().where("seq", "=", 2n).executeTakeFirstOrThrow();
    assert.equal(row.acked_by, "regulator");
    assert.equal(row.ack_note, "looked at it");
    assert.equal((await db.selectFrom("alerts").select("acked_by").where("seq", "=", 1n).executeTakeFirstOrThrow()).acked_by, null);
    const logged = await db.selectFrom("access_log").select(["caller", "rpc", "request"]).where("rpc", "=", "console:AckAlert").execute();
    assert.deepEqual(logged, [{ caller: "regulator", rpc: "console:AckAlert", request: { seq: "2", note: "looked at it" } }]);
  });
});
