// End to end in a real browser: a consortium as real processes, the regulator's regfeed serving the
// console, Debian's chromium driven by playwright-core. A bill's life (issue, accept, endorse,
// split, co-signed discount) is submitted; the live view shows the new blocks (pushed over SSE,
// no polling); the bill's history shows every event in order with its signers and its lineage;
// a tx's inclusion proof and the sequencer's signature are verified in the browser; a screenshot
// goes to the test output; a non-regulator gets 403; every read is in the access log.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { TxOutcome } from "@tally/proto/types";
import { toHex } from "@tally/ledger";
import { signerFromKeyFile, type TallyClient } from "@tally/sdk";
import { repoRoot, startTestNetwork, uniqueSuffix, waitFor, type ConsortiumPlan, type TestNetwork } from "@tally/testkit";
import { CHROMIUM, CHROMIUM_FLAGS } from "./console-fixture.js";

/** Where screenshots go: TEST_OUTPUT_DIR, else test-output/ at the repository's root (git-ignored). */
const OUTPUT_DIR = process.env.TEST_OUTPUT_DIR ?? join(repoRoot, "test-output");

const PLAN: ConsortiumPlan = {
  chainId: "tally-console-e2e",
  institutions: [
    { id: "clearing", name: "Clearing House", roles: ["clearing"], node: "node-clearing" },
    { id: "bank-a", name: "Bank A", roles: ["bank"], node: "node-bank-a" },
    { id: "bank-b", name: "Bank B", roles: ["bank"], node: "node-bank-a" },
    { id: "enterprise-a", name: "Enterprise A", roles: ["enterprise"], node: "node-bank-a" },
    { id: "enterprise-b", name: "Enterprise B", roles: ["enterprise"], node: "node-bank-a" },
    { id: "regulator", name: "Regulator", roles: ["regulator"], node: "node-regulator" },
  ],
  nodes: [
    { id: "node-clearing", institution: "clearing" },
    { id: "node-bank-a", institution: "bank-a" },
    { id: "node-regulator", institution: "regulator", regfeed: true },
  ],
  sequencers: [{ id: "seq-1", institution: "clearing" }],
};

describe("the supervision console in a real browser", { timeout: 240_000 }, () => {
  const profile = mkdtempSync(join(tmpdir(), "tally-console-chromium-"));
  let tn: TestNetwork;
  let net: TestNetwork["net"];
  let files: TestNetwork["files"];
  const clients = new Map<string, TallyClient>();
  let browser: BrowserContext;
  let consoleUrl: string;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    tn = await startTestNetwork(PLAN, { prefix: "co" });
    ({ net, files } = tn);
    consoleUrl = net.endpoints.console!;
    assert.match(consoleUrl, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    for (const i of ["clearing", "bank-a", "bank-b", "enterprise-a", "enterprise-b"]) clients.set(i, tn.client(i));
    // A fresh profile in a fresh directory (Playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  });

  after(async () => {
    await browser?.close();
    await tn?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  async function run(
    as: string,
    contract: string,
    action: string,
    args: unknown,
    coSigners: string[] = [],
  ): Promise<{ height: bigint; txId: string }> {
    const c = clients.get(as)!;
    const tx = c.build(contract, action, args, { coSigners: coSigners.map((id) => signerFromKeyFile(files.keyFiles.get(id)!)) });
    const u = await c.submitAndWait(tx);
    assert.equal(
      u.result?.outcome,
      TxOutcome.TX_OUTCOME_COMMITTED,
      `${as} ${contract}.${action}: ${u.result?.reasonCode} ${u.result?.message}`,
    );
    return { height: u.height, txId: toHex(tx.id) };
  }

  const text = async (page: Page, sel: string): Promise<string> => (await page.locator(sel).first().textContent()) ?? "";

  test("live view, bill history with lineage, in-browser proof check, access log; a non-regulator gets 403", async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on("request", (r) => requests.push(new URL(r.url()).pathname));
    const opened = await page.goto(`${consoleUrl}?as=regulator#live`);
    assert.equal(opened?.status(), 200);
    await page.locator("#chain-height").waitFor({ timeout: 20_000 });
    const startHeight = BigInt(await text(page, "#chain-height"));

    // A bill's life. The discount is co-signed by the bank, which pays the discounted amount.
    const id = `b${uniqueSuffix()}`;
    const dueMs = Date.now() + 3_600_000;
    await run("clearing", "cash", "issue", { to: "bank-a", amount: "500000000" });
    const acts = [
      await run("enterprise-a", "bill", "issue", { id, payee: "enterprise-b", acceptor: "bank-b", amount: "100000", dueMs }),
      await run("bank-b", "bill", "accept", { id }),
      await run("enterprise-a", "bill", "endorse", { id, to: "enterprise-b" }),
      await run("enterprise-b", "bill", "split", { id, amounts: ["60000", "40000"] }),
      await run("enterprise-b", "bill", "discount", { id: `${id}.1`, bank: "bank-a", rateBp: 300 }, ["bank-a"]),
    ];
    const last = acts[acts.length - 1]!.height;
    assert.ok(last > startHeight);

    // The live view follows without a reload and without polling: one SSE stream, pushed updates.
    await waitFor("the live view to show the new blocks", async () => BigInt(await text(page, "#chain-height")) >= last, 30_000, 100);
    const recent = await page.locator("#recent-blocks tbody tr td:first-child").allTextContents();
    assert.ok(recent.includes(acts[4]!.height.toString()), `newest blocks ${recent.join(",")} include ${acts[4]!.height}`);
    assert.equal(await text(page, "#sequencer"), "seq-1");
    assert.match(await text(page, "#tx-rates"), /bill/);
    assert.match(await text(page, "#nodes"), /node-clearing/);
    assert.equal(requests.filter((p) => p === "/api/live").length, 1, "one live stream");
    assert.equal(requests.filter((p) => p.startsWith("/api/") && p !== "/api/live" && p !== "/api/whoami").length, 0, "no polling");

    // The bill's history, every event in order, each with its signers; the split drawn as a tree.
    await page.goto(`${consoleUrl}#history/${encodeURIComponent(`bill/${id}`)}`);
    await page.locator("#timeline li").first().waitFor({ timeout: 20_000 });
    assert.deepEqual(await page.locator("#timeline li").evaluateAll((els) => els.map((e) => e.getAttribute("data-type"))), [
      "BillIssued",
      "BillAccepted",
      "BillEndorsed",
      "BillSplit",
    ]);
    assert.deepEqual(await page.locator("#timeline li .signers").allTextContents(), [
      "enterprise-a",
      "bank-b",
      "enterprise-a",
      "enterprise-b",
    ]);
    const tree = await page.locator("#lineage").evaluate((e) => e.innerText);
    assert.match(tree, new RegExp(`bill/${id}\\s+bill/${id}\\.1\\s+bill/${id}\\.2`));
    await page.locator(`#lineage a[data-asset="bill/${id}.1"]`).click();
    await waitFor(
      "the child's history",
      async () => (await page.locator("#timeline li").count()) > 0 && (await text(page, "#timeline li")).includes(`${id}.1`),
      20_000,
      100,
    );
    assert.deepEqual(await page.locator("#timeline li").evaluateAll((els) => els.map((e) => e.getAttribute("data-type"))), [
      "BillSplitOff",
      "BillDiscounted",
    ]);
    assert.equal((await page.locator("#timeline li .signers").allTextContents())[1], "enterprise-b + bank-a");
    // Searching by tx id finds the same bill.
    await page.goto(`${consoleUrl}#history/${acts[1]!.txId}`);
    await page.locator("#timeline li").first().waitFor({ timeout: 20_000 });
    assert.equal(await page.locator("#timeline li").count(), 4);

    // The discount's inclusion proof, verified in the browser (WebCrypto SHA-256 and Ed25519).
    await page.goto(`${consoleUrl}#explorer/tx/${acts[4]!.txId}`);
    await page.locator("#proof-result").waitFor({ timeout: 20_000 });
    assert.equal(await text(page, "#proof-result"), "INCLUDED: proof verified");
    const checks = await page.locator("#proof-checks tbody tr td:last-child").allTextContents();
    assert.deepEqual(checks, ["✔ verified", "✔ verified", "✔ verified", "✔ verified"]);
    // The same checker refuses a tampered proof.
    const tampered = await page.evaluate(async (txId) => {
      const p = (await (await fetch(`/api/txs/${txId}`)).json()) as { path: string[]; headerSignature: string };
      const flip = (h: string): string => (h[0] === "0" ? "1" : "0") + h.slice(1);
      const v = (
        globalThis as unknown as { tallyConsole: { verifyProof: (x: unknown) => Promise<{ rootMatches: boolean; signature: unknown }> } }
      ).tallyConsole;
      const badPath = await v.verifyProof({ ...p, path: p.path.length > 0 ? [flip(p.path[0]!), ...p.path.slice(1)] : ["00".repeat(32)] });
      const badSig = await v.verifyProof({ ...p, headerSignature: flip(p.headerSignature) });
      return { root: badPath.rootMatches, sig: badSig.signature };
    }, acts[4]!.txId);
    assert.deepEqual(tampered, { root: false, sig: false });

    mkdirSync(OUTPUT_DIR, { recursive: true });
    const shot = join(OUTPUT_DIR, "console-proof.png");
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(existsSync(shot));
    await page.goto(`${consoleUrl}#live`);
    await page.locator("#chain-height").waitFor();
    await page.screenshot({ path: join(OUTPUT_DIR, "console-live.png"), fullPage: true });

    // Who looked at what: the console's reads are in the access log, under the regulator's name.
    await page.goto(`${consoleUrl}#access`);
    await page.locator("#access-log tbody tr").first().waitFor({ timeout: 20_000 });
    const log = await text(page, "#access-log");
    for (const what of ["console:LiveView", "console:GetAssetHistory", "console:GetInclusionProof", "console:Open"])
      assert.match(log, new RegExp(what));
    assert.doesNotMatch(log, /bank-a\s+console:/);
    await page.close();
  });

  test("a non-regulator gets 403, in the browser and over plain HTTP", async () => {
    const page = await browser.newPage();
    // A fresh context's cookie still says regulator; a different institution's claim replaces it.
    const r = await page.goto(`${consoleUrl}?as=bank-a`);
    assert.equal(r?.status(), 403);
    assert.match((await r?.text()) ?? "", /NOT_A_REGULATOR/);
    await page.close();
    for (const who of ["bank-a", "enterprise-b", "clearing"]) {
      const api = await fetch(`${consoleUrl}api/live/snapshot`, { headers: { "tally-institution": who } });
      assert.equal(api.status, 403, who);
    }
    const regulator = await fetch(`${consoleUrl}api/live/snapshot`, { headers: { "tally-institution": "regulator" } });
    assert.equal(regulator.status, 200);
  });
});
