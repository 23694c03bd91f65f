// Bonds (SCENARIOS.md §5). An issuer registers a bond with a prospectus its regulator sees;
// investors subscribe during a window (demand only, no cash moves); after the window the issuer
// allots pro rata and each allotted investor pays face value for its units in the same
// transaction. Holders trade by delivery-versus-payment on the cash ledger, both signing. The
// issuer pays each coupon to the holders of record once, on or after its date, and redeems the
// bond at maturity. The bond's regulator may freeze and unfreeze a holding: its one write act.
//
// keys() cannot read state, so allot, coupon and redeem name the subscribers or holders they
// pay, and decide refuses them unless they are exactly the bond's own set (SUBSCRIBERS_MISMATCH,
// HOLDERS_MISMATCH).
import { InvariantError, type JsonValue } from "@tally/ledger";
import type { Contract, StateSlice, TxContext } from "../contract.js";
import { cashAccountKey, CASH_CONTRACT } from "../cash/cash.js";
import { eraseContract, eraseQuery } from "../erase-contract.js";
import { WRITER_ROLES } from "../roles.js";
import { identifier, parseArgs } from "../schema.js";
import { readObject } from "../state-read.js";
import { bondParsers, type BondCommand } from "./bond-commands.js";
import { decideBond } from "./bond-decide.js";
import { evolveBond } from "./bond-evolve.js";
import { BOND_CONTRACT, bondKey, heldKey, heldPrefix, holdingKey, holdingPrefix, readBond, readHolding } from "./bond-state.js";

/** Most entries the holders and portfolio queries load: above HOLDERS_MAX, at the framework's bound. */
export const BOND_QUERY_SCAN_LIMIT = 1000;

function keys(cmd: BondCommand, ctx: TxContext): readonly string[] {
  const bond = bondKey(cmd.bond);
  switch (cmd.action) {
    case "register":
    case "subscribe":
      return [bond];
    case "allot":
      // The signer pays nothing and receives the subscribers' cash; decide refuses it unless it is the issuer.
      return [
        bond,
        cashAccountKey(ctx.signer),
        ...cmd.subscribers.flatMap((s) => [holdingKey(cmd.bond, s), heldKey(s, cmd.bond), cashAccountKey(s)]),
      ];
    case "transfer":
      return [cmd.seller, cmd.buyer].flatMap((p) => [holdingKey(cmd.bond, p), heldKey(p, cmd.bond), cashAccountKey(p)]).concat(bond);
    case "coupon":
    case "redeem":
      return [
        bond,
        cashAccountKey(ctx.signer),
        ...cmd.holders.flatMap((h) => [holdingKey(cmd.bond, h), heldKey(h, cmd.bond), cashAccountKey(h)]),
      ];
    case "freeze":
    case "unfreeze":
      return [bond, holdingKey(cmd.bond, cmd.holder), heldKey(cmd.holder, cmd.bond)];
    default: {
      const never: never = cmd;
      throw new InvariantError(`unknown bond command ${(never as { action: string }).action}`, "CONTRACT_STATE");
    }
  }
}

function holdersOf(bond: string, state: StateSlice): JsonValue {
  const entry = state.get(bondKey(bond));
  if (entry === undefined) return null;
  const prefix = holdingPrefix(bond);
  const holders: JsonValue[] = [];
  for (const [key, value] of [...state].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!key.startsWith(prefix)) continue;
    const h = readHolding(value, key);
    holders.push({ holder: h.holder, units: h.units.toString(), frozen: h.frozen });
  }
  // The bond's parties decide who may see its register.
  return { bond, holders, parties: [...readBond(entry, bondKey(bond)).parties] };
}

function portfolioOf(holder: string, state: StateSlice): JsonValue {
  const prefix = heldPrefix(holder);
  const entries = [...state]
    .filter(([key]) => key.startsWith(prefix))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => ({ key: key.slice(prefix.length), ...readObject(value, key) }));
  return { holder, holdings: entries };
}

/**
 * The bond contract. State:
 * - `bond/<id>` → the prospectus (issuer, regulator, faceValue, couponRateBp, couponsPerYear,
 *   couponDatesMs, maturityMs, sizeUnits, subscriptionEndMs, prospectusHash), status
 *   (subscribing | allotted | redeemed), subscriptions, unitsAllotted, holders, couponsPaidMs, parties;
 * - `holding/<id>/<holder>` → {bond, holder, units, frozen, frozenReason, parties}, deleted at zero units;
 * - `held/<holder>/bond/<id>` → {bond, units, holding}: the holder's portfolio index.
 */
export const bond: Contract = eraseContract<BondCommand>({
  name: BOND_CONTRACT,
  uses: [CASH_CONTRACT],
  actions: {
    register: { roles: ["issuer"], parse: bondParsers.register },
    subscribe: { roles: WRITER_ROLES, parse: bondParsers.subscribe },
    allot: { roles: ["issuer"], parse: bondParsers.allot },
    transfer: { roles: WRITER_ROLES, parse: bondParsers.transfer },
    coupon: { roles: ["issuer"], parse: bondParsers.coupon },
    redeem: { roles: ["issuer"], parse: bondParsers.redeem },
    freeze: { roles: ["regulator"], parse: bondParsers.freeze },
    unfreeze: { roles: ["regulator"], parse: bondParsers.unfreeze },
  },
  keys,
  decide: decideBond,
  evolve: evolveBond,
  queries: {
    bond: eraseQuery<{ readonly id: string }>({
      parse: (args) => parseArgs(args, { id: identifier }),
      keys: (q) => [bondKey(q.id)],
      run: (q, state) => state.get(bondKey(q.id)) ?? null,
    }),
    holding: eraseQuery<{ readonly bond: string; readonly holder: string }>({
      parse: (args) => parseArgs(args, { bond: identifier, holder: identifier }),
      keys: (q) => [holdingKey(q.bond, q.holder)],
      run: (q, state) => state.get(holdingKey(q.bond, q.holder)) ?? null,
    }),
    holders: eraseQuery<{ readonly bond: string }>({
      parse: (args) => parseArgs(args, { bond: identifier }),
      keys: (q) => [bondKey(q.bond)],
      scan: (q) => ({ prefix: holdingPrefix(q.bond), limit: BOND_QUERY_SCAN_LIMIT }),
      run: (q, state) => holdersOf(q.bond, state),
    }),
    portfolio: eraseQuery<{ readonly holder: string }>({
      parse: (args) => parseArgs(args, { holder: identifier }),
      keys: () => [],
      scan: (q) => ({ prefix: heldPrefix(q.holder), limit: BOND_QUERY_SCAN_LIMIT }),
      owner: (q) => q.holder,
      run: (q, state) => portfolioOf(q.holder, state),
    }),
  },
});
