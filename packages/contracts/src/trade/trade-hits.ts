// What a client needs before placing an order: the resting orders it will hit, computed from the
// book a `book` query returned, exactly as the contract recomputes them (planMatch).
import type { JsonValue } from "@tally/ledger";
import { isRejection, type Rejection } from "../contract.js";
import type { Hit } from "./trade-commands.js";
import { planMatch } from "./trade-matching.js";
import { bookIn, bookKey, type Side } from "./trade-state.js";

/**
 * The `hits` of an order of `owner` on `instrument`, given the book as the `book` query returned
 * it (null when the instrument is not listed: no hits). A Rejection (SELF_MATCH, MATCH_TOO_LARGE)
 * is what the contract would answer too.
 */
export function orderHits(
  book: JsonValue,
  instrument: string,
  side: Side,
  price: bigint,
  quantity: bigint,
  owner: string,
): Hit[] | Rejection {
  if (book === null) return [];
  const plan = planMatch(bookIn(new Map([[bookKey(instrument), book]]), instrument), side, price, quantity, owner);
  if (isRejection(plan)) return plan;
  return plan.fills.map((f) => ({ order: f.entry.order, owner: f.entry.owner, clearing: f.entry.clearing }));
}
