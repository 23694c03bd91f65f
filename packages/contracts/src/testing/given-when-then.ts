// given(events) / when(command) / then(events or rejection) for contract tests. Pure: tests do
// the asserting. Not exported from the package index.
import type { JsonValue } from "@tally/ledger";
import { isRejection, type Contract, type ContractEvent, type Rejection, type TxContext } from "../contract.js";
import { builtinContracts } from "../registry.js";
import { foldEvents, prepareCommand, prepareQuery, runCommand, runQuery, usedContracts, type CommandOutcome } from "../run.js";
import { TEST_MEMBERS } from "./test-genesis.js";

/** A command as a test states it: who signs, what, and any context to override. */
export interface When {
  readonly signer: string;
  readonly action: string;
  readonly args: unknown;
  readonly ctx?: Partial<Omit<TxContext, "signer">>;
}

/** An accepted command's outcome, with the contract's whole state after it. */
export interface Then extends CommandOutcome {
  readonly state: ReadonlyMap<string, JsonValue>;
}

/** A contract's state built from past events, ready for a command or a query. */
export interface Given {
  readonly state: ReadonlyMap<string, JsonValue>;
  when(command: When): Then | Rejection;
  query(name: string, args: unknown): JsonValue | Rejection;
}

/** The context a test command runs in, with TEST_MEMBERS unless overridden. */
export function testContext(signer: string, overrides: Partial<Omit<TxContext, "signer">> = {}): TxContext {
  return {
    chainId: "test-chain",
    txId: "ab".repeat(32),
    height: 7n,
    blockTimeMs: 1_700_000_123_456,
    signers: [signer],
    members: TEST_MEMBERS,
    ...overrides,
    signer,
  };
}

function apply(state: ReadonlyMap<string, JsonValue>, updates: ReadonlyMap<string, JsonValue | null>): Map<string, JsonValue> {
  const next = new Map(state);
  for (const [k, v] of updates) {
    if (v === null) next.delete(k);
    else next.set(k, v);
  }
  return next;
}

// Only the keys prepare named, as the executor loads them: a key a contract forgot to name shows up as absent.
function sliceOf(state: ReadonlyMap<string, JsonValue>, keys: readonly string[]): Map<string, JsonValue> {
  const slice = new Map<string, JsonValue>();
  for (const k of keys) {
    const v = state.get(k);
    if (v !== undefined) slice.set(k, v);
  }
  return slice;
}

/**
 * Folds the given events with the named contract's evolve into its starting state. Events naming
 * a contract it uses (cash, say) fold into that contract's entries, keyed `<contract>:<key>`.
 */
export function given(
  contractName: string,
  events: readonly ContractEvent[] = [],
  contracts: ReadonlyMap<string, Contract> = builtinContracts,
): Given {
  const contract = contracts.get(contractName);
  if (contract === undefined) throw new Error(`given: no contract ${contractName}`);
  const state = apply(new Map(), foldEvents(contract, new Map(), events, usedContracts(contracts, contract)));
  return {
    state,
    when(command) {
      const ctx = testContext(command.signer, command.ctx);
      const prepared = prepareCommand(contracts, contractName, command.action, command.args, ctx);
      if (isRejection(prepared)) return prepared;
      const outcome = runCommand(prepared, sliceOf(state, prepared.keys), ctx);
      if (isRejection(outcome)) return outcome;
      return { ...outcome, state: apply(state, outcome.updates) };
    },
    query(name, args) {
      const prepared = prepareQuery(contracts, contractName, name, args);
      if (isRejection(prepared)) return prepared;
      const slice = sliceOf(state, prepared.keys);
      if (prepared.scan !== undefined) {
        const { prefix, limit } = prepared.scan;
        const own = [...state.keys()].filter((k) => k.startsWith(prefix) && !k.includes(":")).sort();
        for (const k of own.slice(0, limit)) slice.set(k, state.get(k)!);
      }
      return runQuery(prepared, slice);
    },
  };
}

/** The events of an accepted command; throws with the rejection's code when it was rejected. */
export function expectEvents(result: Then | Rejection): readonly ContractEvent[] {
  if (isRejection(result)) throw new Error(`expected events, got rejection ${result.code}: ${result.message}`);
  return result.events;
}

/** The outcome of an accepted command; throws with the rejection's code when it was rejected. */
export function expectAccepted(result: Then | Rejection): Then {
  if (isRejection(result)) throw new Error(`expected events, got rejection ${result.code}: ${result.message}`);
  return result;
}

/** The rejection of a refused command or query; throws when it was accepted. */
export function expectRejection(result: Then | JsonValue | Rejection): Rejection {
  if (!isRejection(result))
    throw new Error(`expected a rejection, got ${JSON.stringify(result, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}`);
  return result;
}
