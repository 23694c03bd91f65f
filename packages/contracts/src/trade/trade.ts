// Block trades (SCENARIOS.md §6). The exchange lists instruments; clearing banks lodge securities
// positions for members and withdraw them with the member's signature; members place limit orders
// that match automatically, by price-time priority, and settle delivery-versus-payment in the
// order's own transaction: securities move seller → buyer and cash buyer → buyer's clearing bank
// → seller's clearing bank → seller, or the order is rejected and nothing moves.
//
// Why an incoming order names the resting orders it hits. keys() sees only the command, but
// settling a fill touches the counterparty's position and cash and its clearing bank's cash, which
// only the book knows. So the order carries `hits`: the resting orders it will trade with, each
// with its owner and clearing bank, which the SDK computes from a `book` query. decide recomputes
// the price-time-priority set from the book and accepts the order only when `hits` is exactly that
// set (MATCH_MISMATCH otherwise: the book moved; query it and resubmit). The matching itself stays
// automatic: the submitter cannot choose counterparties, skip an order or leave a cross; the
// remainder rests only when nothing more crosses, so the book is never crossed.
//
// Why resting orders are funded. A resting order reserves what it will deliver: a sell moves its
// units from free to reserved in the seller's position; a buy escrows limit × units of cash with
// its clearing bank (a resting buy always trades at its own limit, so the escrow pays it exactly).
// A match therefore depends only on the incoming party having the units or cash, and a stale
// resting order cannot block the book. Cancelling releases the units or returns the escrow.
// `escrow/<clearing>` totals the escrow each clearing bank holds (its own self-cleared bids
// included, whose cash never leaves its account): a clearing bank trading for itself may spend
// only its balance less that total, so its own orders cannot consume its members' escrow.
//
// Why the clearing bank co-signs each order: its account carries the escrow and the settlement
// legs, so the two-party rule holds ahead of the automatic match: member and clearing bank sign
// the order (one signature when a clearing bank clears for itself). A clearing bank that spends
// escrow it holds through cash's own transfer (which no other contract can stop) makes fills against those orders fail INSUFFICIENT_FUNDS until it is restored.
//
// Every trade's events name the regulators (every member with the regulator role) among their
// parties, and a trade of at least the instrument's alertUnits also emits LargeTradeAlert.
import { InvariantError } from "@tally/ledger";
import { cashAccountKey, cashLegs } from "../cash/cash.js";
import { isRejection, rejection, type Contract, type ContractEvent, type Rejection, type StateSlice, type TxContext } from "../contract.js";
import { eraseContract, eraseQuery } from "../erase-contract.js";
import { identifier, parseArgs } from "../schema.js";
import { PARSERS, orderId, type TradeCommand } from "./trade-commands.js";
import { evolve } from "./trade-evolve.js";
import { decidePlace } from "./trade-matching.js";
import {
  POSITION_MAX,
  TRADE_CONTRACT,
  bookKey,
  escrowIn,
  escrowKey,
  heldKey,
  instrumentIn,
  instrumentKey,
  orderIn,
  orderKey,
  partiesOf,
  positionIn,
  positionKey,
  tradeId,
  tradeKey,
} from "./trade-state.js";

/** Roles that may place and cancel orders: members trading for themselves. The exchange runs the venue and does not trade. */
export const TRADER_ROLES: readonly string[] = ["bank", "clearing", "enterprise", "issuer"];

function neverCommand(cmd: never): never {
  throw new InvariantError(`unknown trade command ${(cmd as { action: string }).action}`, "CONTRACT_STATE");
}

function decideCustody(
  cmd: Extract<TradeCommand, { action: "lodge" | "withdraw" }>,
  state: StateSlice,
  ctx: TxContext,
): readonly ContractEvent[] | Rejection {
  const custodian = ctx.signer;
  const inst = instrumentIn(state, cmd.instrument);
  if (inst === undefined) return rejection("UNKNOWN_INSTRUMENT", `instrument ${cmd.instrument} is not listed`);
  const p = positionIn(state, inst.id, cmd.holder);
  const data = { instrument: inst.id, holder: cmd.holder, custodian, units: cmd.units.toString() };
  const parties = partiesOf([cmd.holder, custodian]);
  if (cmd.action === "lodge") {
    if (!ctx.members.has(cmd.holder)) return rejection("UNKNOWN_HOLDER", `${cmd.holder} is not a member and cannot hold ${inst.id}`);
    if (p.units + p.reserved + cmd.units > POSITION_MAX) {
      return rejection("POSITION_LIMIT", `${cmd.holder} would hold more than ${POSITION_MAX} units of ${inst.id}`);
    }
    return [{ type: "SecuritiesLodged", assetId: positionKey(inst.id, cmd.holder), parties, data }];
  }
  if (!ctx.signers.includes(cmd.holder)) {
    return rejection("MISSING_SIGNATURE", `withdrawing ${inst.id} from ${cmd.holder} needs ${cmd.holder}'s signature`);
  }
  if (p.units < cmd.units) {
    return rejection(
      "INSUFFICIENT_UNITS",
      `${cmd.holder} holds ${p.units} free units of ${inst.id}, less than the ${cmd.units} to withdraw`,
    );
  }
  return [{ type: "SecuritiesWithdrawn", assetId: positionKey(inst.id, cmd.holder), parties, data }];
}

function decideCancel(
  cmd: Extract<TradeCommand, { action: "cancel-order" }>,
  state: StateSlice,
  ctx: TxContext,
): readonly ContractEvent[] | Rejection {
  const order = orderIn(state, cmd.order);
  if (order === undefined) return rejection("UNKNOWN_ORDER", `there is no order ${cmd.order}`);
  if (order.owner !== ctx.signer) return rejection("NOT_OWNER", `order ${order.id} belongs to ${order.owner}, not ${ctx.signer}`);
  if (order.instrument !== cmd.instrument || order.clearing !== cmd.clearing) {
    return rejection(
      "ORDER_MISMATCH",
      `order ${order.id} is on ${order.instrument} through ${order.clearing}, not on ${cmd.instrument} through ${cmd.clearing}`,
    );
  }
  if (order.status !== "open") return rejection("ORDER_CLOSED", `order ${order.id} is ${order.status}`);
  const units = order.remaining.toString();
  const base = { order: order.id, instrument: order.instrument };
  const events: ContractEvent[] = [
    {
      type: "OrderCancelled",
      assetId: orderKey(order.id),
      parties: order.parties,
      data: { ...base, side: order.side, owner: order.owner, units },
    },
  ];
  if (order.side === "sell") {
    events.push({
      type: "SecuritiesReleased",
      assetId: positionKey(order.instrument, order.owner),
      parties: order.parties,
      data: { ...base, holder: order.owner, units },
    });
    return events;
  }
  // The escrow was limit × remaining units; return exactly that.
  const cash = cashLegs(state, ctx, [
    { from: order.clearing, to: order.owner, amount: order.price * order.remaining, memo: `release order ${order.id}` },
  ]);
  return isRejection(cash) ? cash : [...events, ...cash];
}

function decide(cmd: TradeCommand, state: StateSlice, ctx: TxContext): readonly ContractEvent[] | Rejection {
  switch (cmd.action) {
    case "list-instrument": {
      if (state.has(instrumentKey(cmd.id))) return rejection("INSTRUMENT_EXISTS", `instrument ${cmd.id} is already listed`);
      const data = {
        id: cmd.id,
        name: cmd.name,
        lotSize: cmd.lotSize.toString(),
        alertUnits: cmd.alertUnits.toString(),
        exchange: ctx.signer,
        listedAtMs: ctx.blockTimeMs,
      };
      return [{ type: "InstrumentListed", assetId: instrumentKey(cmd.id), parties: [ctx.signer], data }];
    }
    case "lodge":
    case "withdraw":
      return decideCustody(cmd, state, ctx);
    case "place-order":
      return decidePlace(cmd, state, ctx);
    case "cancel-order":
      return decideCancel(cmd, state, ctx);
    default:
      return neverCommand(cmd);
  }
}

function positionKeys(instrument: string, holder: string): string[] {
  return [positionKey(instrument, holder), heldKey(instrument, holder)];
}

function keys(cmd: TradeCommand, ctx: TxContext): readonly string[] {
  switch (cmd.action) {
    case "list-instrument":
      return [instrumentKey(cmd.id), bookKey(cmd.id)];
    case "lodge":
    case "withdraw":
      return [instrumentKey(cmd.instrument), ...positionKeys(cmd.instrument, cmd.holder)];
    case "place-order": {
      const out = [
        instrumentKey(cmd.instrument),
        bookKey(cmd.instrument),
        orderKey(cmd.order),
        ...positionKeys(cmd.instrument, ctx.signer),
        cashAccountKey(ctx.signer),
        cashAccountKey(cmd.clearing),
        escrowKey(ctx.signer),
        escrowKey(cmd.clearing),
      ];
      cmd.hits.forEach((h, i) => {
        out.push(
          tradeKey(tradeId(cmd.order, i + 1)),
          orderKey(h.order),
          ...positionKeys(cmd.instrument, h.owner),
          cashAccountKey(h.owner),
          cashAccountKey(h.clearing),
          escrowKey(h.clearing),
        );
      });
      return out;
    }
    case "cancel-order":
      return [
        orderKey(cmd.order),
        bookKey(cmd.instrument),
        ...positionKeys(cmd.instrument, ctx.signer),
        cashAccountKey(ctx.signer),
        cashAccountKey(cmd.clearing),
        escrowKey(cmd.clearing),
      ];
    default:
      return neverCommand(cmd);
  }
}

/**
 * The block-trade contract. State: `inst/<id>` (instrument), `book/<instrument>` (resting orders,
 * both sides, in priority order), `order/<id>`, `trade/<order id>.<n>`, `pos/<instrument>/<holder>`
 * ({units, reserved}), `escrow/<clearing>` ({amount}: cash held for resting bids) and the
 * portfolio index `held/<holder>/pos/<instrument>/<holder>`.
 */
export const trade: Contract = eraseContract<TradeCommand>({
  name: TRADE_CONTRACT,
  uses: ["cash"],
  actions: {
    "list-instrument": { roles: ["exchange"], parse: PARSERS["list-instrument"] },
    lodge: { roles: ["clearing"], parse: PARSERS.lodge },
    withdraw: { roles: ["clearing"], parse: PARSERS.withdraw },
    "place-order": { roles: TRADER_ROLES, parse: PARSERS["place-order"] },
    "cancel-order": { roles: TRADER_ROLES, parse: PARSERS["cancel-order"] },
  },
  keys,
  decide,
  evolve,
  queries: {
    instrument: eraseQuery<{ readonly id: string }>({
      parse: (args) => parseArgs(args, { id: identifier }),
      keys: (q) => [instrumentKey(q.id)],
      run: (q, state) => state.get(instrumentKey(q.id)) ?? null,
      public: true,
    }),
    book: eraseQuery<{ readonly instrument: string }>({
      parse: (args) => parseArgs(args, { instrument: identifier }),
      keys: (q) => [bookKey(q.instrument)],
      run: (q, state) => state.get(bookKey(q.instrument)) ?? null,
      public: true,
    }),
    order: eraseQuery<{ readonly id: string }>({
      parse: (args) => parseArgs(args, { id: orderId }),
      keys: (q) => [orderKey(q.id)],
      run: (q, state) => state.get(orderKey(q.id)) ?? null,
    }),
    trade: eraseQuery<{ readonly id: string }>({
      parse: (args) => parseArgs(args, { id: identifier }),
      keys: (q) => [tradeKey(q.id)],
      run: (q, state) => state.get(tradeKey(q.id)) ?? null,
    }),
    escrow: eraseQuery<{ readonly clearing: string }>({
      parse: (args) => parseArgs(args, { clearing: identifier }),
      keys: (q) => [escrowKey(q.clearing)],
      run: (q, state) => ({ clearing: q.clearing, amount: escrowIn(state, q.clearing).toString() }),
      owner: (q) => q.clearing,
    }),
    position: eraseQuery<{ readonly instrument: string; readonly holder: string }>({
      parse: (args) => parseArgs(args, { instrument: identifier, holder: identifier }),
      keys: (q) => [positionKey(q.instrument, q.holder)],
      run: (q, state) => state.get(positionKey(q.instrument, q.holder)) ?? null,
    }),
    portfolio: eraseQuery<{ readonly holder: string }>({
      parse: (args) => parseArgs(args, { holder: identifier }),
      keys: () => [],
      scan: (q) => ({ prefix: `held/${q.holder}/`, limit: 1000 }),
      owner: (q) => q.holder,
      run: (q, state) => {
        const prefix = `held/${q.holder}/`;
        const positions = [...state]
          .filter(([k]) => k.startsWith(prefix))
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([, v]) => v);
        return { holder: q.holder, positions };
      },
    }),
  },
});
