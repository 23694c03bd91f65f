// A pure step runner for the supply contracts' property tests: it runs one command against a whole
// in-memory state, as the executor would (only the keys the command names are loaded), and applies
// an accepted outcome. Not exported from the package index.
import type { JsonValue } from "@tally/ledger";
import { isRejection, type Contract, type Rejection, type TxContext } from "../contract.js";
import { prepareCommand, runCommand, type CommandOutcome } from "../run.js";
import { readDecimal, readObject } from "../state-read.js";
import { testContext } from "../testing/given-when-then.js";
export { mulberry32 } from "../testing/prng.js";

/** Picks one element with the PRNG. */
export function pick<T>(rand: () => number, items: readonly T[]): T {
  if (items.length === 0) throw new Error("pick from an empty list");
  return items[Math.floor(rand() * items.length)] as T;
}

/** Runs one command against the whole state and applies it when accepted; returns the outcome or the rejection. */
export function step(
  contracts: ReadonlyMap<string, Contract>,
  contractName: string,
  state: Map<string, JsonValue>,
  signer: string,
  action: string,
  args: unknown,
  overrides: Partial<Omit<TxContext, "signer">>,
): CommandOutcome | Rejection {
  const ctx = testContext(signer, overrides);
  const prepared = prepareCommand(contracts, contractName, action, args, ctx);
  if (isRejection(prepared)) return prepared;
  const slice = new Map<string, JsonValue>();
  for (const k of prepared.keys) {
    const v = state.get(k);
    if (v !== undefined) slice.set(k, v);
  }
  const outcome = runCommand(prepared, slice, ctx);
  if (isRejection(outcome)) return outcome;
  for (const [k, v] of outcome.updates) {
    if (v === null) state.delete(k);
    else state.set(k, v);
  }
  return outcome;
}

/** Every cash balance in a contract's state (its `cash:acct/<holder>` entries), by holder. */
export function cashBalances(state: ReadonlyMap<string, JsonValue>): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const [k, v] of state) {
    if (k.startsWith("cash:acct/")) out.set(k.slice("cash:acct/".length), readDecimal(readObject(v, k), "balance", k));
  }
  return out;
}
