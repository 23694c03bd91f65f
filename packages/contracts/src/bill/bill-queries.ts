// The bill contract's queries: a bill's state, its lineage tree and a holder's portfolio.
import { InvariantError, type JsonValue } from "@tally/ledger";
import type { QuerySpec, StateSlice } from "../contract.js";
import { eraseQuery } from "../erase-contract.js";
import { QUERY_SCAN_LIMIT_MAX } from "../run.js";
import { identifier, parseArgs } from "../schema.js";
import { readDecimal, readObject } from "../state-read.js";
import { billIn, billKey, heldPrefix, readInteger, rootOf, type Bill } from "./bill-state.js";

/** Most portfolio entries one query returns: the bound of a prefix scan. */
export const PORTFOLIO_LIMIT = QUERY_SCAN_LIMIT_MAX;

/** A tree of bills is at most 273 (see SPLIT_DEPTH_MAX); the scan's bound is far above that. */
const LINEAGE_SCAN_LIMIT = QUERY_SCAN_LIMIT_MAX;

type ById = { readonly id: string };
type ByHolder = { readonly holder: string };

function node(state: StateSlice, bill: Bill): JsonValue {
  const children = bill.children.map((id) => {
    const child = billIn(state, id);
    if (child === undefined) throw new InvariantError(`bill ${bill.id} names child ${id}, which is not in its tree`, "CONTRACT_STATE");
    return node(state, child);
  });
  return { id: bill.id, amount: bill.amount.toString(), holder: bill.holder, state: bill.state, children };
}

/** `bill {id}`: the bill's state value, or null when there is none. */
const billQuery: QuerySpec<ById> = {
  parse: (args) => parseArgs(args, { id: identifier }),
  keys: (q) => [billKey(q.id)],
  run: (q, state) => state.get(billKey(q.id)) ?? null,
};

/**
 * `lineage {id}`: the tree rooted at the bill, each node {id, amount, holder, state, children},
 * or null when there is no such bill. Loads the bill and every bill split from its root.
 */
const lineageQuery: QuerySpec<ById> = {
  parse: (args) => parseArgs(args, { id: identifier }),
  keys: (q) => [billKey(q.id)],
  scan: (q) => ({ prefix: `${billKey(rootOf(q.id))}.`, limit: LINEAGE_SCAN_LIMIT }),
  run: (q, state) => {
    const bill = billIn(state, q.id);
    // The asked bill's parties decide who may see the tree (children inherit and add to them).
    return bill === undefined ? null : { ...(node(state, bill) as Record<string, JsonValue>), parties: [...bill.parties] };
  },
};

/**
 * `portfolio {holder}`: the bills the holder holds (not yet paid, voided, split or settled), in id
 * order, each {id, amount, dueMs}; `mayHaveMore` when the scan reached its bound.
 */
const portfolioQuery: QuerySpec<ByHolder> = {
  parse: (args) => parseArgs(args, { holder: identifier }),
  keys: () => [],
  scan: (q) => ({ prefix: heldPrefix(q.holder), limit: PORTFOLIO_LIMIT }),
  owner: (q) => q.holder,
  run: (q, state) => {
    const prefix = `${heldPrefix(q.holder)}${billKey("")}`;
    const bills = [...state.keys()]
      .filter((k) => k.startsWith(prefix))
      .sort()
      .map((k) => {
        const what = `portfolio entry ${k}`;
        const entry = readObject(state.get(k), what);
        return {
          id: k.slice(prefix.length),
          amount: readDecimal(entry, "amount", what).toString(),
          dueMs: readInteger(entry, "dueMs", what),
        };
      });
    return { holder: q.holder, bills, mayHaveMore: bills.length >= PORTFOLIO_LIMIT };
  },
};

/** The bill contract's queries, by name. */
export const billQueries: { readonly [name: string]: QuerySpec<unknown> } = {
  bill: eraseQuery(billQuery),
  lineage: eraseQuery(lineageQuery),
  portfolio: eraseQuery(portfolioQuery),
};
