import { status } from "@grpc/grpc-js";
import { builtinContracts, isRejection, prepareQuery, type Contract } from "@tally/contracts";
import { fromUtf8, type JsonValue } from "@tally/ledger";
import { RpcError } from "@tally/rpc";

/** The role that reads everything (and, by the contracts' roles, writes nothing). */
export const SEES_ALL_ROLE = "regulator";

/**
 * Who may read a query's answer:
 * - public: reference data, every member (QuerySpec.public);
 * - owner: one institution's own books, only that institution (QuerySpec.owner);
 * - parties: assets, only what the caller is party to (the default).
 */
export type QueryAccess = { readonly kind: "public" } | { readonly kind: "owner"; readonly owner: string } | { readonly kind: "parties" };

/**
 * Checks a query's contract, name and args as the executor will, and says who may read its
 * answer. Throws INVALID_ARGUMENT naming the wrong field (UNKNOWN_CONTRACT, UNKNOWN_QUERY, BAD_ARGS).
 */
export function queryAccess(
  contract: string,
  query: string,
  args: Uint8Array,
  userContracts: ReadonlySet<string> = new Set(),
  deployed: ReadonlyMap<string, Contract> = new Map(),
): QueryAccess {
  // A deployed user contract: its declarations say which queries it has, their args, and which
  // are public; a non-public answer shows only what the caller is party to (a regulator sees all).
  if (!builtinContracts.has(contract) && userContracts.has(contract)) {
    const parsed = parseJsonArgs(args);
    const c = deployed.get(contract);
    // Declarations not read yet (the cache refreshes after each block): the executor checks, the answer is per party.
    if (c === undefined) return { kind: "parties" };
    const spec = Object.hasOwn(c.queries, query) ? c.queries[query] : undefined;
    if (spec === undefined)
      throw new RpcError(status.INVALID_ARGUMENT, `contract ${contract} has no query ${query}`, "UNKNOWN_QUERY", {}, "query");
    const q = spec.parse(parsed);
    if (isRejection(q)) throw new RpcError(status.INVALID_ARGUMENT, q.message, q.code, {}, "args");
    return spec.public === true ? { kind: "public" } : { kind: "parties" };
  }
  const c = builtinContracts.get(contract);
  if (c === undefined) throw new RpcError(status.INVALID_ARGUMENT, `no contract named ${contract}`, "UNKNOWN_CONTRACT", {}, "contract");
  if (!Object.hasOwn(c.queries, query))
    throw new RpcError(status.INVALID_ARGUMENT, `contract ${contract} has no query ${query}`, "UNKNOWN_QUERY", {}, "query");
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromUtf8(args));
  } catch {
    throw new RpcError(status.INVALID_ARGUMENT, "args is not JSON", "BAD_ARGS", {}, "args");
  }
  const p = prepareQuery(builtinContracts, contract, query, parsed);
  if (isRejection(p)) {
    const field = p.code === "UNKNOWN_CONTRACT" ? "contract" : p.code === "UNKNOWN_QUERY" ? "query" : "args";
    throw new RpcError(status.INVALID_ARGUMENT, p.message, p.code, {}, field);
  }
  if (p.spec.public === true) return { kind: "public" };
  if (p.spec.owner !== undefined) return { kind: "owner", owner: p.spec.owner(p.query) };
  return { kind: "parties" };
}

function parseJsonArgs(args: Uint8Array): Readonly<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromUtf8(args));
  } catch {
    throw new RpcError(status.INVALID_ARGUMENT, "args is not JSON", "BAD_ARGS", {}, "args");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new RpcError(status.INVALID_ARGUMENT, "args must be a JSON object", "BAD_ARGS", {}, "args");
  return parsed as Readonly<Record<string, unknown>>;
}

function partyTo(v: JsonValue | undefined, caller: string): boolean {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const parties = v.parties;
  return Array.isArray(parties) && parties.includes(caller);
}

/**
 * What of a query's answer the caller may see, or undefined for NOT_FOUND. Under `parties`: a
 * list keeps the elements whose `parties` name the caller; any other answer is seen whole
 * when its `parties` name the caller, else not at all. An answer without `parties` (or null,
 * nothing there) is NOT_FOUND, so a hidden asset and a missing one look the same.
 */
export function visibleAnswer(
  access: QueryAccess,
  result: JsonValue,
  caller: string,
  callerRoles: readonly string[],
): JsonValue | undefined {
  if (access.kind === "public" || callerRoles.includes(SEES_ALL_ROLE)) return result;
  if (access.kind === "owner") return access.owner === caller ? result : undefined;
  if (Array.isArray(result)) return result.filter((e) => partyTo(e, caller));
  return partyTo(result, caller) ? result : undefined;
}

/** Whether the caller may see an event: a party to it, or a regulator. */
export function seesEvent(parties: readonly string[], caller: string, callerRoles: readonly string[]): boolean {
  return callerRoles.includes(SEES_ALL_ROLE) || parties.includes(caller);
}
