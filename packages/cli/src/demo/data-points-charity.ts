// Three more of the seed's scenarios, as `tally demo` walks through them: a data asset licensed
// (cash and grant in one transaction) whose resale the terms forbid; insurance points minted,
// exchanged for another issuer's at a rate both signed, and handed out in a red envelope that three
// members claim and its sender gets the rest of back at expiry; and a charity project whose
// milestone is paid only once the auditor attests it, with a donation traced to its beneficiary.
import { createHash } from "node:crypto";
import { money, type ScenarioRunner } from "./scenario.js";

/** How long the demo's red envelope stays open. */
const ENVELOPE_MS = 8_000;

/** Runs the three scenarios; resolves true when every step went as expected. */
export async function dataPointsCharityScenarios(r: ScenarioRunner, nowMs: number): Promise<boolean> {
  const run = nowMs.toString(36);
  const data = createHash("sha256").update(`port traffic dataset ${run}`).digest("hex");
  const ids = { license: `lic${run}`, envelope: `red${run}`, project: `water${run}`, gift: `gift${run}` };
  const results: boolean[] = [];
  const step = async (...a: Parameters<ScenarioRunner["step"]>) => results.push(await r.step(...a));

  console.log("\n=== Funding for the next scenarios ===");
  for (const to of ["enterprise-b", "enterprise-c"]) {
    await step({
      as: "clearing",
      say: `issues ${money("10000000")} of deposits to ${to}`,
      contract: "cash",
      action: "issue",
      args: { to, amount: "10000000" },
    });
  }

  console.log(`\n=== 5. Data: a licensed dataset (${data.slice(0, 12)}…) ===`);
  await step({
    as: "enterprise-a",
    say: `registers its port traffic dataset by hash only: licenses at ${money("2000000")} for 30 days, not resellable`,
    contract: "data",
    action: "register",
    args: { hash: data, description: "Port traffic 2025, hourly", price: "2000000", resale: "forbidden", durationMs: 30 * 86_400_000 },
  });
  await step({
    as: "enterprise-d",
    say: "tries to register the same data as its own (must be refused: the first registrant keeps it)",
    contract: "data",
    action: "register",
    args: { hash: data, description: "copied", price: "1", resale: "allowed", durationMs: 86_400_000 },
    expect: "ALREADY_REGISTERED",
  });
  await step({
    as: "enterprise-c",
    say: `buys license ${ids.license}: it pays ${money("2000000")} to enterprise-a and gets the license in the same transaction`,
    contract: "data",
    action: "buy",
    args: { asset: data, license: ids.license, owner: "enterprise-a" },
  });
  await step({
    as: "enterprise-c",
    say: "logs its use of the data against the license",
    contract: "data",
    action: "access",
    args: { asset: data, license: ids.license, purpose: "berth scheduling model" },
  });
  await step({
    as: "enterprise-c",
    say: "tries to resell the license to enterprise-b, which co-signs to pay (must be refused: the terms forbid resale)",
    contract: "data",
    action: "resell",
    args: { asset: data, license: ids.license, to: "enterprise-b", price: "1500000" },
    coSigners: ["enterprise-b"],
    expect: "RESALE_FORBIDDEN",
  });

  console.log(`\n=== 6. Loyalty points and a red envelope (${ids.envelope}) ===`);
  await step({
    as: "insurer",
    say: "mints 10,000 insurance points to enterprise-a",
    contract: "points",
    action: "mint",
    args: { to: "enterprise-a", amount: "10000" },
  });
  await step({
    as: "issuer",
    say: "mints 100,000 of its own points into its treasury",
    contract: "points",
    action: "mint",
    args: { to: "issuer", amount: "100000" },
  });
  await step({
    as: "insurer",
    say: "agrees with issuer, both signing on the chain, that 10 insurance points exchange for 3 of issuer's",
    contract: "points",
    action: "agree-rate",
    args: { counterparty: "issuer", units: "10", counterpartyUnits: "3" },
    coSigners: ["issuer"],
  });
  await step({
    as: "enterprise-a",
    say: "exchanges 1,000 insurance points for 300 of issuer's: both legs in one transaction",
    contract: "points",
    action: "exchange",
    args: { from: "insurer", to: "issuer", amount: "1000" },
  });
  const expiresAtMs = Date.now() + ENVELOPE_MS;
  await step({
    as: "enterprise-a",
    say: "locks 3,000 insurance points into a red envelope of 4 lucky packets, open to anyone for a few seconds",
    contract: "points",
    action: "envelope",
    args: { issuer: "insurer", id: ids.envelope, amount: "3000", packets: 4, split: "lucky", expiresAtMs },
  });
  for (const who of ["enterprise-b", "enterprise-c", "enterprise-d"]) {
    await step({ as: who, say: "claims a packet", contract: "points", action: "claim", args: { issuer: "insurer", id: ids.envelope } });
  }
  await step({
    as: "enterprise-b",
    say: "tries to claim a second packet (must be refused)",
    contract: "points",
    action: "claim",
    args: { issuer: "insurer", id: ids.envelope },
    expect: "ALREADY_CLAIMED",
  });
  await r.wait({ waitUntilMs: expiresAtMs + 1000, say: "waiting for the red envelope to expire" });
  await step({
    as: "enterprise-a",
    say: "takes back the packet no one claimed, now that the block time is past the expiry",
    contract: "points",
    action: "refund",
    args: { issuer: "insurer", id: ids.envelope },
  });
  const envelope = await r.query<{ packets: { amount: string; claimedBy: string | null }[] }>("bank-a", "points", "envelope", {
    issuer: "insurer",
    id: ids.envelope,
  });
  console.log("\nthe red envelope's packets:");
  for (const p of envelope.packets) console.log(`  ${p.amount.padStart(6)} points  ${p.claimedBy ?? "refunded to enterprise-a"}`);

  console.log(`\n=== 7. Charity: a project paid by milestones (${ids.project}) ===`);
  await step({
    as: "charity",
    say: `opens a village water project: ${money("3000000")} for drilling (enterprise-c), ${money("2000000")} for the pump (enterprise-b); auditor audits`,
    contract: "charity",
    action: "open",
    args: {
      id: ids.project,
      title: "Village water",
      auditor: "auditor",
      milestones: [
        { description: "well drilled", amount: "3000000", beneficiary: "enterprise-c" },
        { description: "pump installed", amount: "2000000", beneficiary: "enterprise-b" },
      ],
    },
  });
  await step({
    as: "bank-a",
    say: `donates ${money("4000000")}; it moves into the project's escrow in the same transaction`,
    contract: "charity",
    action: "donate",
    args: { project: ids.project, donation: ids.gift, amount: "4000000" },
  });
  await step({
    as: "enterprise-b",
    say: `donates ${money("1000000")}`,
    contract: "charity",
    action: "donate",
    args: { project: ids.project, donation: `${ids.gift}-b`, amount: "1000000" },
  });
  await step({
    as: "charity",
    say: "tries to pay the drilling milestone before the auditor has attested it (must be refused)",
    contract: "charity",
    action: "disburse",
    args: { project: ids.project, milestone: 1, beneficiary: "enterprise-c" },
    expect: "NOT_ATTESTED",
  });
  await step({
    as: "auditor",
    say: "attests the well is drilled, with the hash of its site report",
    contract: "charity",
    action: "attest",
    args: { project: ids.project, milestone: 1, evidence: createHash("sha256").update(`site report ${run}`).digest("hex") },
  });
  await step({
    as: "charity",
    say: "pays the drilling milestone to enterprise-c from escrow",
    contract: "charity",
    action: "disburse",
    args: { project: ids.project, milestone: 1, beneficiary: "enterprise-c" },
  });
  const summary = await r.query<{ raised: string; disbursed: string; held: string }>("enterprise-d", "charity", "summary", {
    project: ids.project,
  });
  console.log(
    `\nthe project's public figures: raised ${money(summary.raised)}, disbursed ${money(summary.disbursed)}, held ${money(summary.held)}`,
  );
  const trace = await r.query<{ to: { beneficiary: string; amount: string }[]; held: string }>("bank-a", "charity", "trace", {
    project: ids.project,
    donation: ids.gift,
  });
  console.log(`bank-a's donation ${ids.gift}, traced:`);
  for (const t of trace.to) console.log(`  ${money(t.amount).padStart(14)} reached ${t.beneficiary}`);
  console.log(`  ${money(trace.held).padStart(14)} still held by the project`);
  return results.every(Boolean);
}
