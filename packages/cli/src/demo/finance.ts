// The seed's finance scenarios, as `tally demo` walks through them: a bill from issue to payment,
// a receivable down three tiers and financed, an escrow released by a delivery attestation, and a
// block trade settled delivery-versus-payment between two clearing banks.
import { isRejection, orderHits } from "@tally/contracts";
import type { JsonValue } from "@tally/ledger";
import { money, type ScenarioRunner } from "./scenario.js";

/** Ids unique to one demo run, so the demo can run again on the same chain. */
export function runIds(nowMs: number): { bill: string; receivable: string; purchase: string; shipment: string; instrument: string } {
  const run = nowMs.toString(36);
  return { bill: `b${run}`, receivable: `r${run}`, purchase: `p${run}`, shipment: `s${run}`, instrument: `i${run}` };
}

/** How long the bill and the receivable run before maturity: long enough for every act before it. */
const TERM_MS = 25_000;

/** Runs the four scenarios; resolves true when every step went as expected. */
export async function financeScenarios(r: ScenarioRunner, nowMs: number): Promise<boolean> {
  const ids = runIds(nowMs);
  const due = nowMs + TERM_MS;
  const dueText = new Date(due).toISOString().slice(11, 19);
  const results: boolean[] = [];
  const step = async (...a: Parameters<ScenarioRunner["step"]>) => results.push(await r.step(...a));

  console.log("\n=== Funding: the clearing house issues tokenized deposits ===");
  for (const [to, amount] of [
    ["bank-a", "500000000"],
    ["bank-b", "200000000"],
    ["enterprise-a", "300000000"],
  ] as const) {
    await step({
      as: "clearing",
      say: `issues ${money(amount)} of deposits to ${to}`,
      contract: "cash",
      action: "issue",
      args: { to, amount },
    });
  }

  console.log(`\n=== 1. A commercial acceptance bill (${ids.bill}), due ${dueText} UTC ===`);
  await step({
    as: "enterprise-a",
    say: `draws bill ${ids.bill} for 500,000.00 payable to enterprise-b, to be accepted by bank-b`,
    contract: "bill",
    action: "issue",
    args: { id: ids.bill, payee: "enterprise-b", acceptor: "bank-b", amount: "50000000", dueMs: due },
  });
  await step({
    as: "bank-b",
    say: "accepts the bill: it will pay at maturity",
    contract: "bill",
    action: "accept",
    args: { id: ids.bill },
  });
  await step({
    as: "enterprise-a",
    say: "delivers the accepted bill to its payee, enterprise-b",
    contract: "bill",
    action: "endorse",
    args: { id: ids.bill, to: "enterprise-b" },
  });
  await step({
    as: "enterprise-b",
    say: "endorses the bill to its own supplier, enterprise-c",
    contract: "bill",
    action: "endorse",
    args: { id: ids.bill, to: "enterprise-c" },
  });
  await step({
    as: "enterprise-b",
    say: "tries to endorse the same bill again to enterprise-d (double spending: must be refused)",
    contract: "bill",
    action: "endorse",
    args: { id: ids.bill, to: "enterprise-d" },
    expect: "NOT_HOLDER",
  });
  await step({
    as: "enterprise-c",
    say: "discounts the bill with bank-a at 3.00% a year; bank-a co-signs and pays the discounted amount",
    contract: "bill",
    action: "discount",
    args: { id: ids.bill, bank: "bank-a", rateBp: 300 },
    coSigners: ["bank-a"],
  });

  console.log(`\n=== 2. A receivable (${ids.receivable}) down three tiers of the supply chain ===`);
  await step({
    as: "enterprise-b",
    say: `registers receivable ${ids.receivable}: enterprise-a owes it 1,000,000.00 for invoice INV-${ids.receivable}`,
    contract: "receivable",
    action: "register",
    args: { id: ids.receivable, debtor: "enterprise-a", amount: "100000000", dueMs: due, invoiceRef: `INV-${ids.receivable}` },
  });
  await step({
    as: "enterprise-a",
    say: "confirms the debt; the supplier co-signs, so both signatures are on the chain",
    contract: "receivable",
    action: "confirm",
    args: { id: ids.receivable },
    coSigners: ["enterprise-b"],
  });
  await step({
    as: "enterprise-b",
    say: "splits it: 600,000.00 to its tier-2 supplier enterprise-c, 400,000.00 kept",
    contract: "receivable",
    action: "split",
    args: {
      id: ids.receivable,
      parts: [
        { to: "enterprise-c", amount: "60000000" },
        { to: "enterprise-b", amount: "40000000" },
      ],
    },
  });
  await step({
    as: "enterprise-c",
    say: `passes its 600,000.00 share (${ids.receivable}.1) on to its tier-3 supplier enterprise-d`,
    contract: "receivable",
    action: "transfer",
    args: { id: `${ids.receivable}.1`, to: "enterprise-d" },
  });
  await step({
    as: "enterprise-d",
    say: "factors its share with bank-a at 1.50%; bank-a co-signs and advances 591,000.00",
    contract: "receivable",
    action: "finance",
    args: { id: `${ids.receivable}.1`, bank: "bank-a", rateBp: 150 },
    coSigners: ["bank-a"],
  });
  await step({
    as: "bank-a",
    say: "tries to factor the same receivable again with bank-b (financed twice: must be refused)",
    contract: "receivable",
    action: "finance",
    args: { id: `${ids.receivable}.1`, bank: "bank-b", rateBp: 100 },
    coSigners: ["bank-b"],
    expect: "ALREADY_FINANCED",
  });

  console.log(`\n=== 3. An escrowed purchase released by a delivery attestation (${ids.purchase}) ===`);
  await step({
    as: "enterprise-a",
    say: `buys goods from enterprise-b for 250,000.00, paid into escrow until shipment ${ids.shipment} is delivered`,
    contract: "logistics",
    action: "open",
    args: {
      id: ids.purchase,
      shipment: ids.shipment,
      seller: "enterprise-b",
      amount: "25000000",
      expiresAtMs: nowMs + 3_600_000,
      oracles: ["logistics"],
    },
    coSigners: ["enterprise-b"],
  });
  await step({
    as: "logistics",
    say: "attests that the shipment left the seller's warehouse",
    contract: "logistics",
    action: "attest",
    args: { shipment: ids.shipment, kind: "shipped", purchase: ids.purchase, seller: "enterprise-b" },
  });
  await step({
    as: "logistics",
    say: "attests delivery: the contract releases the escrow to the seller in the same transaction",
    contract: "logistics",
    action: "attest",
    args: { shipment: ids.shipment, kind: "delivered", purchase: ids.purchase, seller: "enterprise-b" },
  });

  console.log(`\n=== 4. A block trade settled delivery-versus-payment (${ids.instrument}) ===`);
  await step({
    as: "exchange",
    say: "lists Consortium Bond 2030 for block trading (lots of 100; trades of 5,000 units or more alert the regulator)",
    contract: "trade",
    action: "list-instrument",
    args: { id: ids.instrument, name: "Consortium Bond 2030", lotSize: "100", alertUnits: "5000" },
  });
  await step({
    as: "clearing-b",
    say: "lodges 10,000 units held in custody for bank-b",
    contract: "trade",
    action: "lodge",
    args: { instrument: ids.instrument, holder: "bank-b", units: "10000" },
  });
  await step({
    as: "bank-b",
    say: "offers 6,000 units at 101.50, clearing through clearing-b (which co-signs)",
    contract: "trade",
    action: "place-order",
    args: {
      order: `${ids.instrument}-ask`,
      instrument: ids.instrument,
      side: "sell",
      quantity: "6000",
      price: "10150",
      clearing: "clearing-b",
    },
    coSigners: ["clearing-b"],
  });
  const book = await r.query<JsonValue>("bank-a", "trade", "book", { instrument: ids.instrument });
  const hits = orderHits(book, ids.instrument, "buy", 10200n, 6000n, "bank-a");
  if (isRejection(hits)) throw new Error(`the book refuses the bid: ${hits.code}`);
  await step({
    as: "bank-a",
    say: "bids for 6,000 units up to 102.00 through the clearing house: it matches, and units and cash move in one transaction",
    contract: "trade",
    action: "place-order",
    args: {
      order: `${ids.instrument}-bid`,
      instrument: ids.instrument,
      side: "buy",
      quantity: "6000",
      price: "10200",
      clearing: "clearing",
      hits,
    },
    coSigners: ["clearing"],
  });

  await r.wait({ waitUntilMs: due + 1500, say: "waiting for the bill and the receivable to mature" });
  console.log("\n=== Maturity ===");
  await step({
    as: "bank-a",
    say: `presents bill ${ids.bill} at maturity; bank-b, the acceptor, co-signs and pays 500,000.00`,
    contract: "bill",
    action: "pay",
    args: { id: ids.bill },
    coSigners: ["bank-b"],
  });
  await step({
    as: "enterprise-a",
    say: "settles the receivable: bank-a is paid 600,000.00 and enterprise-b 400,000.00, in one transaction",
    contract: "receivable",
    action: "settle",
    args: {
      id: ids.receivable,
      leaves: [
        { id: `${ids.receivable}.1`, holder: "bank-a" },
        { id: `${ids.receivable}.2`, holder: "enterprise-b" },
      ],
    },
  });

  // A regulator sees every event; a party sees the events it was party to (GetHistory filters).
  const history = await r.client("regulator").history("bill", `bill/${ids.bill}`);
  console.log(`\nthe life of bill ${ids.bill}, as the regulator's history query tells it:`);
  for (const h of history) console.log(`  height ${String(h.height).padStart(4)}  ${h.type.padEnd(22)} signed by ${h.signers.join(" + ")}`);
  return results.every(Boolean);
}
