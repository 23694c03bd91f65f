// Fixtures for the bill contract's tests: a registry with the bill contract, funded accounts, and
// histories built by running real commands. Pure data and helpers; not exported from the package.
import type { Contract, ContractEvent, TxContext } from "../contract.js";
import { builtinContracts } from "../registry.js";
import { expectAccepted, given, type Given, type When } from "../testing/given-when-then.js";
import { bill } from "./bill.js";
import { DAY_MS } from "./bill-state.js";

/** The built-in contracts with the bill contract added. */
export const CONTRACTS: ReadonlyMap<string, Contract> = new Map([...builtinContracts, [bill.name, bill]]);

/** When the bills of the fixtures are issued. */
export const T0 = 1_700_000_000_000;

/** The due date of the fixtures' bill b-1: 90 days after T0. */
export const DUE = T0 + 90 * DAY_MS;

/** The face amount of b-1. */
export const FACE = "1000000";

/** Every account's starting cash. */
export const FUNDS = "10000000";

/** Institutions funded at the start. */
export const FUNDED = ["ent-a", "ent-b", "ent-c", "issuer-a", "bank-a", "bank-b", "clear-a"];

/** A cash issue by clear-a, as given events. */
export function cashIssued(to: string, amount: string = FUNDS): ContractEvent {
  return { contract: "cash", type: "CashIssued", assetId: `acct/${to}`, parties: ["clear-a", to], data: { issuer: "clear-a", to, amount } };
}

/** The funding events every history starts with. */
export const FUNDING: readonly ContractEvent[] = FUNDED.map((to) => cashIssued(to));

/** A command context at a block time, with extra signers after the body's signer. */
export function at(blockTimeMs: number, signer?: string, ...cosigners: string[]): Partial<Omit<TxContext, "signer">> {
  return signer === undefined ? { blockTimeMs } : { blockTimeMs, signers: [signer, ...cosigners] };
}

/** A command at a block time, co-signed by cosigners. */
export function cmd(signer: string, action: string, args: unknown, blockTimeMs: number, ...cosigners: string[]): When {
  return { signer, action, args, ctx: at(blockTimeMs, signer, ...cosigners) };
}

/** Runs commands in order from the events, each one accepted; returns the events with theirs added. */
export function history(steps: readonly When[], start: readonly ContractEvent[] = FUNDING): ContractEvent[] {
  const events = [...start];
  for (const step of steps) events.push(...expectAccepted(given("bill", events, CONTRACTS).when(step)).events);
  return events;
}

/** The bill contract's state after the events. */
export function givenBill(events: readonly ContractEvent[]): Given {
  return given("bill", events, CONTRACTS);
}

/** ent-a draws b-1 for FACE due at DUE, payable to ent-b, to be accepted by ent-c. */
export const ISSUE = cmd("ent-a", "issue", { id: "b-1", payee: "ent-b", acceptor: "ent-c", amount: FACE, dueMs: DUE }, T0);

/** ent-c accepts b-1. */
export const ACCEPT = cmd("ent-c", "accept", { id: "b-1" }, T0 + 1000);

/** ent-a delivers b-1 to its payee ent-b. */
export const DELIVER = cmd("ent-a", "endorse", { id: "b-1", to: "ent-b" }, T0 + 2000);

/** ent-b endorses b-1 on to issuer-a. */
export const ENDORSE = cmd("ent-b", "endorse", { id: "b-1", to: "issuer-a" }, T0 + 3000);

/** b-1 issued, not yet accepted. */
export const ISSUED = history([ISSUE]);

/** b-1 accepted, still with the drawer. */
export const ACCEPTED = history([ACCEPT], ISSUED);

/** b-1 held by its payee ent-b. */
export const DELIVERED = history([DELIVER], ACCEPTED);

/** b-1 endorsed by ent-b to issuer-a. */
export const ENDORSED = history([ENDORSE], DELIVERED);

/** b-1 held by issuer-a and dishonoured a day after it fell due. */
export const DISHONOURED = history([cmd("issuer-a", "dishonour", { id: "b-1" }, DUE + DAY_MS)], ENDORSED);
