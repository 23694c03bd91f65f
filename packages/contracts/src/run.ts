// The pure pipeline the executor and gateway run a command or query through. The caller loads the
// state keys that prepare names, then runs; nothing here reads anything else.
import { InvariantError, type JsonValue } from "@tally/ledger";
import {
  foreignKey,
  isRejection,
  rejection,
  type Contract,
  type ContractEvent,
  type QuerySpec,
  type Rejection,
  type StateSlice,
  type TxContext,
} from "./contract.js";

/** A command that passed contract, action, role and args checks, with the state keys to load for it. */
export interface PreparedCommand {
  readonly contract: Contract;
  readonly action: string;
  readonly command: unknown;
  /** The state keys the command reads or writes, without duplicates; another contract's as `<contract>:<key>`. */
  readonly keys: readonly string[];
  /** The contracts this one uses (see Contract.uses), by name. */
  readonly foreign: ReadonlyMap<string, Contract>;
}

/** What an accepted command produced: its events, and the state entries they change (null deletes). */
export interface CommandOutcome {
  readonly events: readonly ContractEvent[];
  readonly updates: Map<string, JsonValue | null>;
}

/** A query that passed contract, name and args checks, with the state keys to load for it. */
export interface PreparedQuery {
  readonly contract: Contract;
  readonly name: string;
  readonly spec: QuerySpec<unknown>;
  readonly query: unknown;
  readonly keys: readonly string[];
  /** Own keys to load by prefix, at most limit of them, in key order (see QuerySpec.scan). */
  readonly scan: { readonly prefix: string; readonly limit: number } | undefined;
}

/** Most entries one query may load by prefix. */
export const QUERY_SCAN_LIMIT_MAX = 1000;

function isArgsObject(args: unknown): args is Readonly<Record<string, unknown>> {
  return typeof args === "object" && args !== null && !Array.isArray(args);
}

/**
 * Checks a command before any state is read. Rejections: UNKNOWN_CONTRACT, UNKNOWN_ACTION,
 * FORBIDDEN_ROLE (the signer holds none of the action's roles), BAD_ARGS.
 */
export function prepareCommand(
  contracts: ReadonlyMap<string, Contract>,
  contractName: string,
  action: string,
  args: unknown,
  ctx: TxContext,
): PreparedCommand | Rejection {
  const contract = contracts.get(contractName);
  if (contract === undefined) return rejection("UNKNOWN_CONTRACT", `no contract named ${contractName}`);
  // Own properties only: "toString" or "__proto__" are not actions.
  const spec = Object.hasOwn(contract.actions, action) ? contract.actions[action] : undefined;
  if (spec === undefined) return rejection("UNKNOWN_ACTION", `contract ${contractName} has no action ${action}`);
  const roles = ctx.members.get(ctx.signer)?.roles ?? [];
  if (!spec.roles.some((r) => roles.includes(r))) {
    return rejection(
      "FORBIDDEN_ROLE",
      `${contractName}.${action} needs one of the roles ${spec.roles.join(", ")}; ${ctx.signer} holds ${roles.length === 0 ? "none" : roles.join(", ")}`,
    );
  }
  if (!isArgsObject(args)) return rejection("BAD_ARGS", "args must be a JSON object");
  const command = spec.parse(args);
  if (isRejection(command)) return command;
  return { contract, action, command, keys: [...new Set(contract.keys(command, ctx))], foreign: usedContracts(contracts, contract) };
}

/** The contracts a contract uses, from the registry. Throws InvariantError when one is missing: the registry is wrong. */
export function usedContracts(contracts: ReadonlyMap<string, Contract>, contract: Contract): ReadonlyMap<string, Contract> {
  const out = new Map<string, Contract>();
  for (const name of contract.uses ?? []) {
    const used = contracts.get(name);
    if (used === undefined || name === contract.name) {
      throw new InvariantError(`${contract.name} uses ${name}, which is not another registered contract`, "CONTRACT_REGISTRY");
    }
    out.set(name, used);
  }
  return out;
}

/**
 * Folds events into a state slice with the contract's evolve, in order, each evolve seeing the
 * entries the previous ones changed. An event naming another contract is folded by that
 * contract's evolve (it must be among `foreign`), over its `<contract>:<key>` entries. Returns
 * every changed entry (null deletes).
 */
export function foldEvents(
  contract: Contract,
  state: StateSlice,
  events: readonly ContractEvent[],
  foreign: ReadonlyMap<string, Contract> = new Map(),
): Map<string, JsonValue | null> {
  const working = new Map(state);
  const updates = new Map<string, JsonValue | null>();
  const set = (key: string, value: JsonValue | null): void => {
    updates.set(key, value);
    if (value === null) working.delete(key);
    else working.set(key, value);
  };
  for (const event of events) {
    if (event.contract === undefined || event.contract === contract.name) {
      for (const [key, value] of contract.evolve(working, event)) set(key, value);
      continue;
    }
    const owner = foreign.get(event.contract);
    if (owner === undefined) {
      throw new InvariantError(
        `${contract.name} emitted a ${event.type} event for ${event.contract}, which it does not use`,
        "UNDECLARED_KEY",
      );
    }
    const prefix = foreignKey(owner.name, "");
    const view = new Map<string, JsonValue>();
    for (const [k, v] of working) if (k.startsWith(prefix)) view.set(k.slice(prefix.length), v);
    for (const [key, value] of owner.evolve(view, event)) set(foreignKey(owner.name, key), value);
  }
  return updates;
}

/**
 * Decides a prepared command against the slice of its keys and folds the events. A rejection is
 * the domain saying no. Throws InvariantError when evolve writes a key the command did not name:
 * the executor would not have loaded it, so nodes could disagree.
 */
export function runCommand(prepared: PreparedCommand, state: StateSlice, ctx: TxContext): CommandOutcome | Rejection {
  const events = prepared.contract.decide(prepared.command, state, ctx);
  if (isRejection(events)) return events;
  const updates = foldEvents(prepared.contract, state, events, prepared.foreign);
  for (const key of updates.keys()) {
    if (!prepared.keys.includes(key)) {
      throw new InvariantError(`${prepared.contract.name}.${prepared.action} wrote ${key}, which its keys did not name`, "UNDECLARED_KEY");
    }
  }
  return { events, updates };
}

/** Checks a query before any state is read. Rejections: UNKNOWN_CONTRACT, UNKNOWN_QUERY, BAD_ARGS. */
export function prepareQuery(
  contracts: ReadonlyMap<string, Contract>,
  contractName: string,
  queryName: string,
  args: unknown,
): PreparedQuery | Rejection {
  const contract = contracts.get(contractName);
  if (contract === undefined) return rejection("UNKNOWN_CONTRACT", `no contract named ${contractName}`);
  const spec = Object.hasOwn(contract.queries, queryName) ? contract.queries[queryName] : undefined;
  if (spec === undefined) return rejection("UNKNOWN_QUERY", `contract ${contractName} has no query ${queryName}`);
  if (!isArgsObject(args)) return rejection("BAD_ARGS", "args must be a JSON object");
  const query = spec.parse(args);
  if (isRejection(query)) return query;
  const scan = spec.scan?.(query);
  if (scan !== undefined && (scan.limit < 1 || scan.limit > QUERY_SCAN_LIMIT_MAX || !Number.isSafeInteger(scan.limit))) {
    throw new InvariantError(
      `${contractName}.${queryName} scans ${scan.limit} entries; the bound is 1 to ${QUERY_SCAN_LIMIT_MAX}`,
      "CONTRACT_QUERY",
    );
  }
  return { contract, name: queryName, spec, query, keys: [...new Set(spec.keys(query))], scan };
}

/** Runs a prepared query over the slice of its keys. */
export function runQuery(prepared: PreparedQuery, state: StateSlice): JsonValue {
  return prepared.spec.run(prepared.query, state);
}
