// The receivable contract's read-only queries: one receivable, its lineage tree, and a holder's
// portfolio from the `held/` index.
import { InvariantError, type JsonValue } from "@tally/ledger";
import type { QuerySpec, StateSlice } from "../contract.js";
import { eraseQuery } from "../erase-contract.js";
import { identifier, parseArgs } from "../schema.js";
import { readDecimal, readObject, readString } from "../state-read.js";
import { QUERY_SCAN_MAX, heldPrefix, readInteger, readRecord, receivableKey, rootOf } from "./receivable-record.js";

// Bounds the recursion on a tree that should never exist: depth is already bounded by DEPTH_MAX.
const LINEAGE_DEPTH_GUARD = 64;

function lineageNode(state: StateSlice, id: string, depth: number): JsonValue {
  if (depth > LINEAGE_DEPTH_GUARD)
    throw new InvariantError(`receivable ${id}: lineage deeper than ${LINEAGE_DEPTH_GUARD}`, "CONTRACT_STATE");
  const v = state.get(receivableKey(id));
  if (v === undefined) throw new InvariantError(`receivable ${id}: a child named by its parent is missing`, "CONTRACT_STATE");
  const r = readRecord(v, `receivable ${id}`);
  return {
    id: r.id,
    amount: r.amount.toString(),
    holder: r.holder,
    state: r.status,
    financed: r.financed,
    children: r.children.map((c) => lineageNode(state, c, depth + 1)),
  };
}

/** The receivable contract's queries. */
export const queries: { readonly [name: string]: QuerySpec<unknown> } = {
  /** `receivable {id}`: the receivable's state value, or null. */
  receivable: eraseQuery<{ readonly id: string }>({
    parse: (args) => parseArgs(args, { id: identifier }),
    keys: (q) => [receivableKey(q.id)],
    run: (q, state) => state.get(receivableKey(q.id)) ?? null,
  }),
  /** `lineage {id}`: the tree rooted at the asked receivable, `{id, amount, holder, state, financed, children}`; null when unknown. */
  lineage: eraseQuery<{ readonly id: string }>({
    parse: (args) => parseArgs(args, { id: identifier }),
    keys: (q) => [receivableKey(q.id)],
    scan: (q) => ({ prefix: `${receivableKey(rootOf(q.id))}.`, limit: QUERY_SCAN_MAX }),
    // The asked receivable's parties decide who may see the tree (children inherit and add to them).
    run: (q, state) => {
      const v = state.get(receivableKey(q.id));
      if (v === undefined) return null;
      return { ...(lineageNode(state, q.id, 0) as Record<string, JsonValue>), parties: [...readRecord(v, `receivable ${q.id}`).parties] };
    },
  }),
  /** `portfolio {holder}`: the receivables the holder holds now, in id order. */
  portfolio: eraseQuery<{ readonly holder: string }>({
    parse: (args) => parseArgs(args, { holder: identifier }),
    keys: () => [],
    scan: (q) => ({ prefix: heldPrefix(q.holder), limit: QUERY_SCAN_MAX }),
    owner: (q) => q.holder,
    run: (q, state) => {
      const prefix = `${heldPrefix(q.holder)}${receivableKey("")}`;
      const receivables: JsonValue[] = [];
      for (const key of [...state.keys()].sort()) {
        if (!key.startsWith(prefix)) continue;
        const what = `portfolio entry ${key}`;
        const o = readObject(state.get(key), what);
        receivables.push({
          id: key.slice(prefix.length),
          amount: readDecimal(o, "amount", what).toString(),
          debtor: readString(o, "debtor", what),
          dueMs: readInteger(o, "dueMs", what),
        });
      }
      return { holder: q.holder, receivables };
    },
  }),
};
