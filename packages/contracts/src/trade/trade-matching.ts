// Placing an order: price-time-priority matching against the book and same-transaction
// delivery-versus-payment of every fill, or a rejection and nothing moves. See trade.ts for why
// the incoming order names the resting orders it hits.
import type { JsonValue } from "@tally/ledger";
import { isRejection, rejection, type ContractEvent, type Rejection, type StateSlice, type TxContext } from "../contract.js";
import { cashBalanceIn, cashLegs, type CashLeg } from "../cash/cash.js";
import type { Hit, TradeCommand } from "./trade-commands.js";
import {
  HITS_MAX,
  BOOK_SIDE_MAX,
  POSITION_MAX,
  bookIn,
  escrowIn,
  instrumentIn,
  orderKey,
  partiesOf,
  positionIn,
  positionKey,
  regulatorsOf,
  restingSide,
  tradeId,
  tradeKey,
  type Book,
  type BookEntry,
  type Side,
} from "./trade-state.js";

/** The role an order's clearing bank must hold. */
export const CLEARING_ROLE = "clearing";

/** One fill of a plan: units traded against a resting order, at its price. */
export interface Fill {
  readonly entry: BookEntry;
  readonly units: bigint;
}

/** What an incoming order does to the book: its fills in priority order, and the units left to rest. */
export interface MatchPlan {
  readonly fills: readonly Fill[];
  readonly remaining: bigint;
}

/**
 * The fills price-time priority gives an incoming order: resting orders on the other side whose
 * price crosses the limit (a buy takes asks at or below it, a sell takes bids at or above it),
 * best price first, earlier first at one price, until the quantity is used up. Each trades at the
 * resting order's price. SELF_MATCH when one of them is the owner's own; MATCH_TOO_LARGE past
 * HITS_MAX fills.
 */
export function planMatch(book: Book, side: Side, price: bigint, quantity: bigint, owner: string): MatchPlan | Rejection {
  const opposite = restingSide(book, side === "buy" ? "sell" : "buy");
  const fills: Fill[] = [];
  let remaining = quantity;
  for (const entry of opposite) {
    if (remaining === 0n) break;
    // The side is sorted best first, so the first order that does not cross ends the match.
    if (side === "buy" ? entry.price > price : entry.price < price) break;
    if (entry.owner === owner) {
      return rejection(
        "SELF_MATCH",
        `${side} order of ${owner} on ${book.instrument} would trade with its own resting order ${entry.order}; cancel it first`,
      );
    }
    if (fills.length === HITS_MAX) {
      return rejection(
        "MATCH_TOO_LARGE",
        `${side} order on ${book.instrument} would trade with more than ${HITS_MAX} resting orders; split it`,
      );
    }
    const units = remaining < entry.units ? remaining : entry.units;
    fills.push({ entry, units });
    remaining -= units;
  }
  return { fills, remaining };
}

function describeHits(hits: readonly Hit[]): string {
  return hits.length === 0 ? "none" : hits.map((h) => `${h.order} (${h.owner} via ${h.clearing})`).join(", ");
}

function checkHits(plan: MatchPlan, hits: readonly Hit[], instrument: string): Rejection | undefined {
  const expected = plan.fills.map((f) => ({ order: f.entry.order, owner: f.entry.owner, clearing: f.entry.clearing }));
  const same =
    expected.length === hits.length &&
    expected.every((e, i) => e.order === hits[i]?.order && e.owner === hits[i]?.owner && e.clearing === hits[i]?.clearing);
  if (same) return undefined;
  return rejection(
    "MATCH_MISMATCH",
    `on ${instrument} the order trades with ${describeHits(expected)} by price-time priority, but names ${describeHits(hits)}; query the book again`,
  );
}

/** Units each buyer receives from the plan, to check position bounds. */
function received(plan: MatchPlan, side: Side, owner: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const f of plan.fills) {
    const buyer = side === "buy" ? owner : f.entry.owner;
    out.set(buyer, (out.get(buyer) ?? 0n) + f.units);
  }
  return out;
}

type PlaceCommand = Extract<TradeCommand, { action: "place-order" }>;

/**
 * Decides place-order: checks, then the events of the order, every fill (trade, both orders, both
 * positions, a LargeTradeAlert when due), the rest resting, and the cash legs last.
 */
export function decidePlace(cmd: PlaceCommand, state: StateSlice, ctx: TxContext): readonly ContractEvent[] | Rejection {
  const owner = ctx.signer;
  const inst = instrumentIn(state, cmd.instrument);
  if (inst === undefined) return rejection("UNKNOWN_INSTRUMENT", `instrument ${cmd.instrument} is not listed`);
  if (cmd.quantity % inst.lotSize !== 0n) {
    return rejection("NOT_LOT_MULTIPLE", `quantity ${cmd.quantity} of ${inst.id} is not a multiple of its lot size ${inst.lotSize}`);
  }
  if (!(ctx.members.get(cmd.clearing)?.roles.includes(CLEARING_ROLE) ?? false)) {
    return rejection("NOT_CLEARING_BANK", `${cmd.clearing} is not a member with the ${CLEARING_ROLE} role`);
  }
  if (!ctx.signers.includes(cmd.clearing)) {
    return rejection("MISSING_SIGNATURE", `order ${cmd.order} settles through ${cmd.clearing}, which must sign it too`);
  }
  if (state.has(orderKey(cmd.order))) return rejection("ORDER_EXISTS", `order id ${cmd.order} is already taken`);
  const book = bookIn(state, inst.id);
  const plan = planMatch(book, cmd.side, cmd.price, cmd.quantity, owner);
  if (isRejection(plan)) return plan;
  const mismatch = checkHits(plan, cmd.hits, inst.id);
  if (mismatch !== undefined) return mismatch;
  if (plan.remaining > 0n && restingSide(book, cmd.side).length >= BOOK_SIDE_MAX) {
    return rejection("BOOK_FULL", `the ${cmd.side} side of ${inst.id} already holds ${BOOK_SIDE_MAX} resting orders`);
  }
  const filledCost = plan.fills.reduce((sum, f) => sum + f.units * f.entry.price, 0n);
  const escrow = cmd.side === "buy" ? cmd.price * plan.remaining : 0n;
  if (cmd.side === "sell") {
    const held = positionIn(state, inst.id, owner);
    if (held.units < cmd.quantity) {
      return rejection(
        "INSUFFICIENT_UNITS",
        `${owner} holds ${held.units} free units of ${inst.id}, less than the ${cmd.quantity} it offers`,
      );
    }
  } else {
    // A clearing bank's escrow for the bids it clears sits in its account but is not its to spend.
    const cash = cashBalanceIn(state, owner) - escrowIn(state, owner);
    if (cash < filledCost + escrow) {
      return rejection(
        "INSUFFICIENT_FUNDS",
        `${owner} holds ${cash} free, less than the ${filledCost + escrow} buying ${cmd.quantity} ${inst.id} needs (${filledCost} for fills, ${escrow} to escrow the rest at ${cmd.price})`,
      );
    }
  }
  for (const [buyer, units] of received(plan, cmd.side, owner)) {
    const p = positionIn(state, inst.id, buyer);
    if (p.units + p.reserved + units > POSITION_MAX) {
      return rejection("POSITION_LIMIT", `${buyer} would hold more than ${POSITION_MAX} units of ${inst.id}`);
    }
  }

  const regulators = regulatorsOf(ctx);
  const orderParties = partiesOf([owner, cmd.clearing, inst.exchange]);
  const events: ContractEvent[] = [
    {
      type: "OrderPlaced",
      assetId: orderKey(cmd.order),
      parties: orderParties,
      data: {
        order: cmd.order,
        instrument: inst.id,
        side: cmd.side,
        owner,
        clearing: cmd.clearing,
        quantity: cmd.quantity.toString(),
        price: cmd.price.toString(),
        exchange: inst.exchange,
        placedAtMs: ctx.blockTimeMs,
        txId: ctx.txId,
      },
    },
  ];
  const legs: CashLeg[] = [];
  plan.fills.forEach((f, i) => {
    const id = tradeId(cmd.order, i + 1);
    const buy =
      cmd.side === "buy"
        ? { who: owner, clearing: cmd.clearing, order: cmd.order }
        : { who: f.entry.owner, clearing: f.entry.clearing, order: f.entry.order };
    const sell =
      cmd.side === "sell"
        ? { who: owner, clearing: cmd.clearing, order: cmd.order }
        : { who: f.entry.owner, clearing: f.entry.clearing, order: f.entry.order };
    const amount = f.units * f.entry.price;
    const parties = partiesOf([buy.who, sell.who, buy.clearing, sell.clearing, inst.exchange], regulators);
    const fill = (type: string, assetId: string, data: { readonly [k: string]: JsonValue }): ContractEvent => ({
      type,
      assetId,
      parties,
      data: { instrument: inst.id, trade: id, units: f.units.toString(), ...data },
    });
    events.push(
      fill("TradeExecuted", tradeKey(id), {
        price: f.entry.price.toString(),
        amount: amount.toString(),
        buyer: buy.who,
        seller: sell.who,
        buyerClearing: buy.clearing,
        sellerClearing: sell.clearing,
        buyOrder: buy.order,
        sellOrder: sell.order,
        aggressor: cmd.side,
        exchange: inst.exchange,
        height: ctx.height.toString(),
        blockTimeMs: ctx.blockTimeMs,
        txId: ctx.txId,
      }),
    );
    if (f.units >= inst.alertUnits) {
      events.push(
        fill("LargeTradeAlert", tradeKey(id), {
          alertUnits: inst.alertUnits.toString(),
          price: f.entry.price.toString(),
          amount: amount.toString(),
          buyer: buy.who,
          seller: sell.who,
        }),
      );
    }
    events.push(
      fill("OrderFilled", orderKey(f.entry.order), { order: f.entry.order, price: f.entry.price.toString(), resting: true }),
      fill("OrderFilled", orderKey(cmd.order), { order: cmd.order, price: f.entry.price.toString(), resting: false }),
      // A resting seller's units were reserved when its order rested; an incoming seller's are free.
      fill("SecuritiesDelivered", positionKey(inst.id, sell.who), { holder: sell.who, to: buy.who, fromReserved: cmd.side === "buy" }),
      fill("SecuritiesReceived", positionKey(inst.id, buy.who), { holder: buy.who, from: sell.who, clearing: buy.clearing }),
    );
    // Cash goes buyer → buyer's clearing bank → seller's clearing bank → seller. A resting buyer's
    // cash already sits with its clearing bank (escrowed when the order rested, at this price).
    if (cmd.side === "buy") legs.push({ from: buy.who, to: buy.clearing, amount, memo: `trade ${id}` });
    legs.push(
      { from: buy.clearing, to: sell.clearing, amount, memo: `trade ${id}` },
      { from: sell.clearing, to: sell.who, amount, memo: `trade ${id}` },
    );
  });
  if (plan.remaining > 0n) {
    const units = plan.remaining.toString();
    events.push({
      type: "OrderRested",
      assetId: orderKey(cmd.order),
      parties: orderParties,
      data: {
        order: cmd.order,
        instrument: inst.id,
        side: cmd.side,
        owner,
        clearing: cmd.clearing,
        price: cmd.price.toString(),
        units,
        seq: book.nextSeq.toString(),
      },
    });
    if (cmd.side === "sell") {
      events.push({
        type: "SecuritiesReserved",
        assetId: positionKey(inst.id, owner),
        parties: orderParties,
        data: { instrument: inst.id, holder: owner, order: cmd.order, units },
      });
    } else {
      legs.push({ from: owner, to: cmd.clearing, amount: escrow, memo: `escrow order ${cmd.order}` });
    }
  }
  const cash = cashLegs(state, ctx, legs);
  if (isRejection(cash)) return cash;
  return [...events, ...cash];
}
