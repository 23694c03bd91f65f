// Fixtures for the block-trade tests: the registry with trade in it, past events, and commands as
// tests state them. Pure; not exported from the package index.
import type { JsonValue } from "@tally/ledger";
import { isRejection, type Contract, type ContractEvent, type Rejection } from "../contract.js";
import { builtinContracts } from "../registry.js";
import { foldEvents, prepareCommand, runCommand, usedContracts, type CommandOutcome } from "../run.js";
import { given, testContext, type Given, type When } from "../testing/given-when-then.js";
import { trade } from "./trade.js";

/** The built-in contracts plus trade, as the tests' registry. */
export const TRADE_CONTRACTS: ReadonlyMap<string, Contract> = new Map([...builtinContracts, [trade.name, trade]]);

/** The trade contract's state after the given events, with the tests' registry. */
export function givenTrade(events: readonly ContractEvent[] = []): Given {
  return given("trade", events, TRADE_CONTRACTS);
}

/** An InstrumentListed event. */
export function listed(id = "bond-1", lotSize = "100", alertUnits = "1000", exchange = "exch"): ContractEvent {
  return {
    type: "InstrumentListed",
    assetId: `inst/${id}`,
    parties: [exchange],
    data: { id, name: `Instrument ${id}`, lotSize, alertUnits, exchange, listedAtMs: 1_700_000_000_000 },
  };
}

/** A SecuritiesLodged event. */
export function lodged(holder: string, units: string, instrument = "bond-1", custodian = "clear-a"): ContractEvent {
  return {
    type: "SecuritiesLodged",
    assetId: `pos/${instrument}/${holder}`,
    parties: [custodian, holder].sort(),
    data: { instrument, holder, custodian, units },
  };
}

/** A cash CashIssued event, folded into the cash entries trade's slice carries. */
export function issued(to: string, amount: string, issuer = "clear-a"): ContractEvent {
  return {
    contract: "cash",
    type: "CashIssued",
    assetId: `acct/${to}`,
    parties: issuer === to ? [issuer] : [issuer, to],
    data: { issuer, to, amount },
  };
}

/** A hit as place-order names it. */
export interface HitArg {
  readonly order: string;
  readonly owner: string;
  readonly clearing: string;
}

/** A place-order command signed by the owner and its clearing bank. */
export function placeOrder(
  signer: string,
  order: string,
  side: "buy" | "sell",
  quantity: string,
  price: string,
  clearing: string,
  hits: readonly HitArg[] = [],
  instrument = "bond-1",
): When {
  const args: Record<string, unknown> = { order, instrument, side, quantity, price, clearing };
  if (hits.length > 0) args.hits = hits;
  return { signer, action: "place-order", args, ctx: { signers: signer === clearing ? [signer] : [signer, clearing] } };
}

/** A cancel-order command signed by the signer. */
export function cancelOrder(signer: string, order: string, clearing: string, instrument = "bond-1"): When {
  return { signer, action: "cancel-order", args: { order, instrument, clearing } };
}

/**
 * Runs commands one after another from the given events, each against the state the previous ones
 * left; throws on a rejection. Returns every event so far, ready for givenTrade.
 */
export function history(events: readonly ContractEvent[], commands: readonly When[]): ContractEvent[] {
  const out = [...events];
  for (const c of commands) {
    const r = givenTrade(out).when(c);
    if (isRejection(r)) throw new Error(`${c.action} by ${c.signer} was rejected: ${r.code}: ${r.message}`);
    out.push(...r.events);
  }
  return out;
}

/** A market: bond-1 (lot 100, alert at 1000 units) and bond-2 (lot 1, alert at 1 000 000); ent-a and ent-b hold units; bank-a and bank-b hold cash. */
export const MARKET: readonly ContractEvent[] = [
  listed(),
  listed("bond-2", "1", "1000000"),
  lodged("ent-a", "5000"),
  lodged("ent-b", "3000", "bond-1", "clear-b"),
  lodged("ent-a", "500", "bond-2"),
  issued("bank-a", "1000000"),
  issued("bank-b", "500000", "clear-b"),
];

/**
 * A market kept as a live state map, for long runs (property tests, full books) where refolding
 * every past event per command, as history does, would be slow. Commands see only the keys they
 * name, as in the executor.
 */
export class Market {
  readonly state = new Map<string, JsonValue>();

  constructor(events: readonly ContractEvent[] = MARKET) {
    this.apply(foldEvents(trade, new Map(), events, usedContracts(TRADE_CONTRACTS, trade)));
  }

  private apply(updates: ReadonlyMap<string, JsonValue | null>): void {
    for (const [k, v] of updates) {
      if (v === null) this.state.delete(k);
      else this.state.set(k, v);
    }
  }

  /** Runs a command; an accepted one changes the state. */
  run(command: When): CommandOutcome | Rejection {
    const ctx = testContext(command.signer, command.ctx);
    const prepared = prepareCommand(TRADE_CONTRACTS, "trade", command.action, command.args, ctx);
    if (isRejection(prepared)) return prepared;
    const slice = new Map<string, JsonValue>();
    for (const k of prepared.keys) {
      const v = this.state.get(k);
      if (v !== undefined) slice.set(k, v);
    }
    const outcome = runCommand(prepared, slice, ctx);
    if (!isRejection(outcome)) this.apply(outcome.updates);
    return outcome;
  }

  /** Runs a command that must be accepted; throws with the rejection otherwise. */
  must(command: When): CommandOutcome {
    const r = this.run(command);
    if (isRejection(r)) throw new Error(`${command.action} by ${command.signer} was rejected: ${r.code}: ${r.message}`);
    return r;
  }
}
