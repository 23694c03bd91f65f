import { createHash } from "node:crypto";
import { TxOutcome } from "@tally/proto/types";
import type { TallyClient } from "@tally/sdk";
import { clientFor } from "../clients.js";
import { formatUpdate } from "../format.js";
import { readNetwork } from "../paths.js";
import { startWatch } from "./watch.js";

const LAST = 0xffff_ffff;

async function step(title: string, client: TallyClient, contract: string, action: string, args: unknown): Promise<boolean> {
  console.log(`\n${client.institutionId}: ${title}`);
  const last = await client.submitAndWait(client.build(contract, action, args), (u) => console.log(formatUpdate(u)));
  return last.result?.outcome === TxOutcome.TX_OUTCOME_COMMITTED;
}

/**
 * `tally demo`: drives the seed's first scenario through two institutions' gateways — the
 * clearing house issues deposits to Bank A, Bank A pays Enterprise A, Enterprise A notarizes
 * a contract, an overdraft is refused — while the regulator's feed prints every event live.
 */
export async function demo(): Promise<number> {
  const net = readNetwork();
  const clearing = clientFor(net, "clearing");
  const bankA = clientFor(net, "bank-a");
  const entA = clientFor(net, "enterprise-a");
  try {
    const start = await bankA.query("cash", "balance", { account: "bank-a" });
    console.log(`chain ${net.chainId} at height ${start.height}; the regulator feed follows from there:`);
    const feed = startWatch({ after: { height: start.height, txIndex: LAST, eventIndex: LAST }, limitMs: 60_000 });
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
    const balances = await Promise.all(
      ["bank-a", "enterprise-a"].map((a) => bankA.query<{ account: string; balance: string }>("cash", "balance", { account: a })),
    );
    console.log("\nbalances:");
    for (const b of balances) console.log(`  ${b.result.account.padEnd(14)} ${b.result.balance}`);
    // Give the feed a moment to print the last events, then stop it.
    await new Promise((r) => setTimeout(r, 1500));
    feed.stop();
    await feed.done;
    const done = ok.every(Boolean) && !overdraft;
    console.log(done ? "\ndemo complete: 3 transactions committed, 1 refused by the contract." : "\ndemo finished with unexpected results");
    return done ? 0 : 1;
  } finally {
    clearing.close();
    bankA.close();
    entA.close();
  }
}
