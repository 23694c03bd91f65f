import { createHash } from "node:crypto";
import { TxOutcome } from "@tally/proto/types";
import type { TallyClient } from "@tally/sdk";
import { clientFor } from "../clients.js";
import { formatUpdate } from "../format.js";
import { readNetwork } from "../paths.js";
import { startWatch } from "./watch.js";
import { civicScenarios } from "../demo/civic.js";
import { financeScenarios } from "../demo/finance.js";
import { dataPointsCharityScenarios } from "../demo/data-points-charity.js";
import { money, ScenarioRunner } from "../demo/scenario.js";
import { compareStateRoots } from "../demo/state-roots.js";

const LAST = 0xffff_ffff;

async function step(title: string, client: TallyClient, contract: string, action: string, args: unknown): Promise<boolean> {
  console.log(`\n${client.institutionId}: ${title}`);
  const last = await client.submitAndWait(client.build(contract, action, args), (u) => console.log(formatUpdate(u)));
  return last.result?.outcome === TxOutcome.TX_OUTCOME_COMMITTED;
}

/**
 * `tally demo`: drives the seed's scenarios through the institutions' own gateways — deposits,
 * a payment, a notarized contract and a refused overdraft; then a bill from issue to payment, a
 * receivable down three tiers and financed, an escrow released by a delivery attestation and a
 * block trade settled DvP; a licensed dataset, a red envelope and a charity project paid by
 * milestone; a notarized work licensed and sold, medical access granted and revoked, a credential
 * verified and revoked — while the regulator's feed prints every event live. It ends by
 * checking that every validator node reached the same state root.
 */
export async function demo(): Promise<number> {
  const net = readNetwork();
  const clearing = clientFor(net, "clearing");
  const bankA = clientFor(net, "bank-a");
  const entA = clientFor(net, "enterprise-a");
  try {
    const start = await bankA.query("cash", "balance", { account: "bank-a" });
    console.log(`chain ${net.chainId} at height ${start.height}; the regulator feed follows from there:`);
    const feed = startWatch({ after: { height: start.height, txIndex: LAST, eventIndex: LAST }, limitMs: 120_000 });
    const ok = [
      await step("issues 1,000,000.00 of deposits to bank-a (minor units)", clearing, "cash", "issue", {
        to: "bank-a",
        amount: "100000000",
      }),
      await step("pays enterprise-a 250,000.00", bankA, "cash", "transfer", {
        to: "enterprise-a",
        amount: "25000000",
        memo: "invoice INV-2026-001",
      }),
      await step("notarizes its purchase contract", entA, "notary", "register", {
        hash: createHash("sha256").update(`purchase contract ${net.chainId} ${Date.now()}`).digest("hex"),
        title: "Purchase contract PC-2026-001",
      }),
    ];
    const overdraft = await step("tries to pay 999,999,999.99 it does not have (must be refused)", entA, "cash", "transfer", {
      to: "bank-b",
      amount: "99999999999",
    });
    const runner = new ScenarioRunner(net);
    let finance = false;
    let more = false;
    let civic = false;
    try {
      finance = await financeScenarios(runner, Date.now());
      more = await dataPointsCharityScenarios(runner, Date.now());
      civic = await civicScenarios(runner, Date.now(), net);
    } finally {
      runner.close();
    }
    // Each institution sees only its own balance; the regulator sees every one.
    const regulator = clientFor(net, "regulator");
    const balances = await Promise.all(
      ["bank-a", "bank-b", "enterprise-a", "enterprise-b", "enterprise-c", "enterprise-d"].map((a) =>
        regulator.query<{ account: string; balance: string }>("cash", "balance", { account: a }),
      ),
    ).finally(() => regulator.close());
    console.log("\nbalances, as the regulator sees them:");
    for (const b of balances) console.log(`  ${b.result.account.padEnd(14)} ${money(b.result.balance).padStart(16)}`);
    // Give the feed a moment to print the last events, then stop it.
    await new Promise((r) => setTimeout(r, 1500));
    feed.stop();
    await feed.done;
    const roots = await compareStateRoots(net, 20_000);
    const done = ok.every(Boolean) && !overdraft && finance && more && civic && roots;
    console.log(done ? "\ndemo complete: every scenario ran as a banker would expect." : "\ndemo finished with unexpected results");
    return done ? 0 : 1;
  } finally {
    clearing.close();
    bankA.close();
    entA.close();
  }
}
