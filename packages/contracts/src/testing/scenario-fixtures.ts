// Fixtures the data, points and charity contract tests share: members with the roles those
// scenarios need besides TEST_GENESIS's, funded cash accounts, and histories built by running real
// commands. Pure data and helpers; not exported from the package index.
import type { ContractEvent, MemberView, TxContext } from "../contract.js";
import { expectAccepted, given, type Given, type When } from "./given-when-then.js";
import { TEST_MEMBERS } from "./test-genesis.js";

/** TEST_GENESIS's members with a second points issuer (issuer-b) and two auditors (audit-a, audit-b). */
export const SCENARIO_MEMBERS: ReadonlyMap<string, MemberView> = new Map([
  ...TEST_MEMBERS,
  ["issuer-b", { roles: ["issuer"] }],
  ["audit-a", { roles: ["auditor"] }],
  ["audit-b", { roles: ["auditor"] }],
]);

/** The block time the fixtures start at. */
export const T0 = 1_700_000_000_000;

/** A cash issue by clear-a, as given events. */
export function cashIssued(to: string, amount: string): ContractEvent {
  return { contract: "cash", type: "CashIssued", assetId: `acct/${to}`, parties: ["clear-a", to], data: { issuer: "clear-a", to, amount } };
}

/** A command by signer at a block time, co-signed by cosigners, among SCENARIO_MEMBERS. */
export function cmd(signer: string, action: string, args: unknown, blockTimeMs: number, ...cosigners: string[]): When {
  const ctx: Partial<Omit<TxContext, "signer">> = { blockTimeMs, signers: [signer, ...cosigners], members: SCENARIO_MEMBERS };
  return { signer, action, args, ctx };
}

/** The same command with another tx id (a lucky split draws on it). */
export function withTxId(when: When, txId: string): When {
  return { ...when, ctx: { ...when.ctx, txId } };
}

/** Runs commands in order on a contract from the events, each accepted; returns the events with theirs added. */
export function history(contract: string, steps: readonly When[], start: readonly ContractEvent[] = []): ContractEvent[] {
  const events = [...start];
  for (const step of steps) events.push(...expectAccepted(given(contract, events).when(step)).events);
  return events;
}

/** A contract's state after the events. */
export function givenOf(contract: string, events: readonly ContractEvent[]): Given {
  return given(contract, events);
}
