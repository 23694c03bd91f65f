// Typed builders for the trade contract's actions (packages/contracts/src/trade/trade-commands.ts).
// An order names the resting orders it will hit, so placeOrder reads the book first and computes
// them with the contract's own orderHits: if the book moves before the order is sequenced, the
// contract answers MATCH_MISMATCH; query again and resubmit.
import { status } from "@grpc/grpc-js";
import { isRejection, orderHits, type TradeHit } from "@tally/contracts";
import type { JsonValue } from "@tally/ledger";
import { TallyError } from "../tally-error.js";
import type { SignedTransaction, TxOptions } from "../transaction.js";
import { signAction, wireAmount, type ActionSigner, type QueryRunner } from "./action-builder.js";

/** trade.list-instrument: the exchange lists an instrument. */
export interface TradeListInstrumentArgs {
  readonly id: string;
  /** At most 200 characters. */
  readonly name: string;
  /** Orders are in multiples of it; at most 15 digits. */
  readonly lotSize: bigint;
  /** Trades of at least this many units raise LargeTradeAlert; at most 15 digits. */
  readonly alertUnits: bigint;
}

/** trade.lodge / trade.withdraw: a clearing bank moves a member's units in or out of the venue. */
export interface TradePositionArgs {
  readonly instrument: string;
  readonly holder: string;
  readonly units: bigint;
}

/** trade.place-order, before its hits are known. */
export interface TradeOrderArgs {
  /** The order's id, at most 60 characters. */
  readonly order: string;
  readonly instrument: string;
  readonly side: "buy" | "sell";
  /** Units, a multiple of the lot size; at most 15 digits. */
  readonly quantity: bigint;
  /** Limit price per unit in minor units; at most 15 digits. */
  readonly price: bigint;
  /** The clearing bank that settles the order; it co-signs unless it is the signer. */
  readonly clearing: string;
}

/** trade.cancel-order: the owner cancels its open order. */
export interface TradeCancelArgs {
  readonly order: string;
  readonly instrument: string;
  readonly clearing: string;
}

/** The trade contract's actions. */
export class TradeActions {
  constructor(
    private readonly signer: ActionSigner,
    private readonly queries: QueryRunner,
  ) {}

  /** Lists an instrument (exchange). */
  listInstrument(a: TradeListInstrumentArgs, o?: TxOptions): SignedTransaction {
    const args = { id: a.id, name: a.name, lotSize: wireAmount(a.lotSize), alertUnits: wireAmount(a.alertUnits) };
    return signAction(this.signer, "trade", "list-instrument", args, o);
  }

  /** Lodges a member's units with the venue (clearing). */
  lodge(a: TradePositionArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "trade", "lodge", { instrument: a.instrument, holder: a.holder, units: wireAmount(a.units) }, o);
  }

  /** Withdraws a member's free units (clearing). Co-signer: `holder`. */
  withdraw(a: TradePositionArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "trade", "withdraw", { instrument: a.instrument, holder: a.holder, units: wireAmount(a.units) }, o);
  }

  /**
   * Places an order (bank, clearing, enterprise, issuer), naming the resting orders it hits as
   * computed from the current `book`. Co-signer: `clearing`, unless it is the signer. A
   * SELF_MATCH or MATCH_TOO_LARGE the contract would answer is thrown here, before signing.
   */
  async placeOrder(a: TradeOrderArgs, o?: TxOptions): Promise<SignedTransaction> {
    const { result: book } = await this.queries.query<JsonValue>("trade", "book", { instrument: a.instrument });
    return this.placeOrderAgainst(book, a, o);
  }

  /** Places an order against a book the caller already queried (see placeOrder). */
  placeOrderAgainst(book: JsonValue, a: TradeOrderArgs, o?: TxOptions): SignedTransaction {
    const hits = orderHits(book, a.instrument, a.side, a.price, a.quantity, this.signer.institutionId);
    if (isRejection(hits)) throw new TallyError(status.FAILED_PRECONDITION, hits.code, `trade.place-order: ${hits.message}`);
    return this.placeOrderWithHits(a, hits, o);
  }

  /** Places an order with hits computed elsewhere: they must be exactly what the contract computes. */
  placeOrderWithHits(a: TradeOrderArgs, hits: readonly TradeHit[], o?: TxOptions): SignedTransaction {
    const args = {
      order: a.order,
      instrument: a.instrument,
      side: a.side,
      quantity: wireAmount(a.quantity),
      price: wireAmount(a.price),
      clearing: a.clearing,
      hits: hits.map((h) => ({ order: h.order, owner: h.owner, clearing: h.clearing })),
    };
    return signAction(this.signer, "trade", "place-order", args, o);
  }

  /** Cancels an open order (its owner); a buy order's escrow comes back from `clearing`. */
  cancelOrder(a: TradeCancelArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "trade", "cancel-order", { order: a.order, instrument: a.instrument, clearing: a.clearing }, o);
  }
}
