// Fixtures for the receivable contract's tests: the registry with the contract in it, a standard
// cast and history built by running real commands. Pure; not exported from the package index.
import type { Contract, ContractEvent } from "../contract.js";
import { builtinContracts } from "../registry.js";
import { expectAccepted, given, type Given, type When } from "../testing/given-when-then.js";
import { receivable } from "./receivable.js";

/** The builtin contracts plus the receivable contract, for given(). */
export const contracts: ReadonlyMap<string, Contract> = new Map([...builtinContracts, [receivable.name, receivable]]);

/** The block time testContext uses. */
export const T0 = 1_700_000_123_456;

/** The standard due date: thirty days after T0. */
export const DUE = T0 + 30 * 86_400_000;

/** The cast: the core enterprise owes; ent-b is the tier-1 supplier, ent-c tier 2, issuer-a tier 3. */
export const DEBTOR = "ent-a";
export const SUPPLIER = "ent-b";
export const TIER2 = "ent-c";
export const TIER3 = "issuer-a";

/** A cash issue as a given event: it folds into `cash:acct/<to>`. */
export function cashIssued(to: string, amount: string): ContractEvent {
  return { contract: "cash", type: "CashIssued", assetId: `acct/${to}`, parties: ["clear-a", to], data: { issuer: "clear-a", to, amount } };
}

/** The receivable contract's state after the given events. */
export function givenRecv(events: readonly ContractEvent[] = []): Given {
  return given("receivable", events, contracts);
}

/** Runs the steps in order, each on the state the earlier left, and returns all the events; throws on any rejection. */
export function play(steps: readonly When[], start: readonly ContractEvent[] = []): ContractEvent[] {
  const events = [...start];
  for (const step of steps) events.push(...expectAccepted(givenRecv(events).when(step)).events);
  return events;
}

/** Registering `id` for `amount` by the supplier against the debtor, due at DUE. */
export function registerStep(id = "r-1", amount = "1000", invoiceRef = `INV/${id}`): When {
  return { signer: SUPPLIER, action: "register", args: { id, debtor: DEBTOR, amount, dueMs: DUE, invoiceRef } };
}

/** The debtor confirming `id`, with the supplier's signature too. */
export function confirmStep(id = "r-1"): When {
  return { signer: DEBTOR, action: "confirm", args: { id }, ctx: { signers: [DEBTOR, SUPPLIER] } };
}

/** A registered and confirmed r-1 of 1000 held by the supplier, with cash for the debtor and the banks. */
export function confirmedHistory(amount = "1000"): ContractEvent[] {
  return play(
    [registerStep("r-1", amount), confirmStep("r-1")],
    [cashIssued(DEBTOR, "100000"), cashIssued("bank-a", "100000"), cashIssued("bank-b", "100000")],
  );
}

/** A cash balance in a receivable state (the `cash:acct/<who>` entry), as a bigint. */
export function balanceIn(state: ReadonlyMap<string, unknown>, who: string): bigint {
  const v = state.get(`cash:acct/${who}`) as { balance?: string } | undefined;
  return BigInt(v?.balance ?? "0");
}
