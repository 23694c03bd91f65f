// Fixtures for the bond contract's tests: a registry with the bond contract, a standard
// prospectus and schedule, and a helper that plays accepted commands into a history of events.
// Pure data and functions; not exported from the package index.
import type { Contract, ContractEvent } from "../contract.js";
import { builtinContracts } from "../registry.js";
import { expectAccepted, given, type Given, type When } from "../testing/given-when-then.js";
import { bond } from "./bond.js";

/** The built-in contracts plus bond, as the lead will register them. */
export const BOND_CONTRACTS: ReadonlyMap<string, Contract> = new Map([...builtinContracts, [bond.name, bond]]);

/** One day in milliseconds. */
export const DAY_MS = 86_400_000;

/** When the test bond is registered: the block time of its register command. */
export const T0_MS = 1_700_000_000_000;

/** The test bond's subscription window ends here (exclusive). */
export const SUB_END_MS = T0_MS + 10 * DAY_MS;

/** The test bond's first coupon date. */
export const COUPON1_MS = T0_MS + 100 * DAY_MS;

/** The test bond's second and last coupon date. */
export const COUPON2_MS = T0_MS + 200 * DAY_MS;

/** The test bond matures on its last coupon date. */
export const MATURITY_MS = COUPON2_MS;

/** The test bond's id. */
export const BOND_ID = "b-1";

/** Register args of the test bond: 1000 units of face 100, 5% a year paid twice a year. */
export function prospectus(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    bond: BOND_ID,
    regulator: "reg",
    faceValue: "100",
    couponRateBp: 500,
    couponsPerYear: 2,
    couponDatesMs: [COUPON1_MS, COUPON2_MS],
    maturityMs: MATURITY_MS,
    sizeUnits: "1000",
    subscriptionEndMs: SUB_END_MS,
    ...overrides,
  };
}

/** A cash issue by clear-a, as a given event: it folds into `cash:acct/<to>`. */
export function cashIssued(to: string, amount: string): ContractEvent {
  return { contract: "cash", type: "CashIssued", assetId: `acct/${to}`, parties: ["clear-a", to], data: { issuer: "clear-a", to, amount } };
}

/** A step of a history: a command and the block time it runs at. */
export interface Step {
  readonly signer: string;
  readonly action: string;
  readonly args: unknown;
  readonly atMs: number;
  readonly signers?: readonly string[];
}

/** The command a step runs, for given().when(). */
export function whenOf(step: Step): When {
  return {
    signer: step.signer,
    action: step.action,
    args: step.args,
    ctx: { blockTimeMs: step.atMs, signers: step.signers ?? [step.signer] },
  };
}

/** Plays steps that must all be accepted, after the start events; returns every event in order. */
export function play(start: readonly ContractEvent[], steps: readonly Step[]): ContractEvent[] {
  const events = [...start];
  for (const step of steps) {
    const then = expectAccepted(given("bond", events, BOND_CONTRACTS).when(whenOf(step)));
    events.push(...then.events);
  }
  return events;
}

/** The bond state built from events. */
export function givenBond(events: readonly ContractEvent[]): Given {
  return given("bond", events, BOND_CONTRACTS);
}

/** Registration of the test bond by issuer-a at T0. */
export const REGISTER: Step = { signer: "issuer-a", action: "register", args: prospectus(), atMs: T0_MS };

/** A subscription step within the window. */
export function subscribe(investor: string, units: string, atMs = T0_MS + DAY_MS): Step {
  return { signer: investor, action: "subscribe", args: { bond: BOND_ID, units }, atMs };
}

/** The issuer's allotment step, right after the window. */
export function allot(subscribers: readonly string[], atMs = SUB_END_MS): Step {
  return { signer: "issuer-a", action: "allot", args: { bond: BOND_ID, subscribers }, atMs };
}

/** A DvP step signed by both parties, the seller as body signer. */
export function transfer(seller: string, buyer: string, units: string, price: string, atMs = SUB_END_MS + DAY_MS): Step {
  return { signer: seller, action: "transfer", args: { bond: BOND_ID, seller, buyer, units, price }, atMs, signers: [seller, buyer] };
}

/**
 * A standard history: investors funded with cash, the bond registered, bank-a subscribing 300,
 * bank-b 200, ent-a 100 (undersubscribed), and allotted. Each investor paid 100 a unit to issuer-a.
 */
export function allottedHistory(): ContractEvent[] {
  return play(
    [cashIssued("bank-a", "100000"), cashIssued("bank-b", "100000"), cashIssued("ent-a", "100000"), cashIssued("issuer-a", "1000000")],
    [REGISTER, subscribe("bank-a", "300"), subscribe("bank-b", "200"), subscribe("ent-a", "100"), allot(["bank-a", "bank-b", "ent-a"])],
  );
}
