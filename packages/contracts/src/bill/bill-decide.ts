// The bill contract's decide and keys: every rule of a bill's life (SCENARIOS.md §1) is checked here.
import { InvariantError, type JsonValue } from "@tally/ledger";
import { isRejection, rejection, type ContractEvent, type Rejection, type StateSlice, type TxContext } from "../contract.js";
import { cashAccountKey, cashLegs } from "../cash/cash.js";
import { WRITER_ROLES } from "../roles.js";
import type { BillCommand } from "./bill-args.js";
import {
  BILL_TERM_MAX_MS,
  DAY_MS,
  DISHONOUR_GRACE_MS,
  ENDORSEMENTS_MAX,
  SPLIT_DEPTH_MAX,
  billIn,
  billKey,
  childId,
  depthOf,
  earlierEndorsers,
  heldKey,
  withParties,
  type Bill,
  type BillState,
} from "./bill-state.js";

/** Roles a bill's acceptor may hold: an enterprise (a commercial acceptance bill) or a bank. */
export const ACCEPTOR_ROLES: readonly string[] = ["enterprise", "bank"];

/**
 * Whole days from nowMs to dueMs, a part day counting as a whole one: integer ceiling division
 * (bigint division floors here, since the numerator is not negative).
 */
export function daysToMaturity(nowMs: number, dueMs: number): bigint {
  const day = BigInt(DAY_MS);
  return (BigInt(dueMs - nowMs) + day - 1n) / day;
}

/**
 * The discount a bank takes: amount × rateBp × days / (10000 × 360), integer floor division
 * (bigint division truncates, and every factor is non-negative).
 */
export function discountOf(amount: bigint, rateBp: number, days: bigint): bigint {
  return (amount * BigInt(rateBp) * days) / (10_000n * 360n);
}

type Events = readonly ContractEvent[] | Rejection;

function event(type: string, bill: Bill, parties: readonly string[], data: { readonly [k: string]: JsonValue }): ContractEvent {
  return { type, assetId: billKey(bill.id), parties: [...parties], data: { id: bill.id, ...data } };
}

function loaded(state: StateSlice, id: string): Bill | Rejection {
  return billIn(state, id) ?? rejection("UNKNOWN_BILL", `there is no bill ${id}`);
}

// Why a bill cannot take an act that needs it in the `wanted` state: the code names the state it is in.
function stateRejection(bill: Bill, wanted: BillState): Rejection {
  const what = `bill ${bill.id} (${bill.amount}) is ${bill.state}`;
  switch (bill.state) {
    case "issued":
      return rejection("NOT_ACCEPTED", `${what}: ${bill.acceptor} has not accepted it yet`);
    case "pledged":
      return rejection("BILL_PLEDGED", `${what} to ${bill.pledgee ?? "?"}; the bank must release it first`);
    case "split":
      return rejection("BILL_SPLIT", `${what} into ${bill.children.join(", ")} and can no longer be acted on`);
    case "paid":
      return rejection("BILL_PAID", `${what}`);
    case "voided":
      return rejection("BILL_VOIDED", `${what}`);
    case "dishonoured":
      return rejection("BILL_DISHONOURED", `${what}; only recourse is left`);
    case "settled":
      return rejection("BILL_SETTLED", `${what} by recourse against ${bill.recourseFrom ?? "?"}`);
    case "accepted": {
      const codes: Partial<Record<BillState, string>> = {
        issued: "ALREADY_ACCEPTED",
        pledged: "NOT_PLEDGED",
        dishonoured: "NOT_DISHONOURED",
      };
      return rejection(codes[wanted] ?? "BAD_STATE", `${what}, not ${wanted}`);
    }
    default: {
      const never: never = bill.state;
      throw new InvariantError(`unknown bill state ${String(never)}`, "CONTRACT_STATE");
    }
  }
}

// A bill in the wanted state, or the rejection saying why not.
function inState(state: StateSlice, id: string, wanted: BillState): Bill | Rejection {
  const bill = loaded(state, id);
  if (isRejection(bill)) return bill;
  return bill.state === wanted ? bill : stateRejection(bill, wanted);
}

function notHolder(bill: Bill, signer: string): Rejection {
  return rejection("NOT_HOLDER", `${signer} does not hold bill ${bill.id} (${bill.amount}); ${bill.holder} does`);
}

function pastDue(bill: Bill, ctx: TxContext, act: string): Rejection | undefined {
  if (ctx.blockTimeMs < bill.dueMs) return undefined;
  return rejection("PAST_DUE", `bill ${bill.id} fell due at ${bill.dueMs}; at ${ctx.blockTimeMs} it can no longer be ${act}`);
}

/**
 * An accepted bill the signer holds and may trade: delivered by the drawer to the payee (until
 * then the drawer may only deliver it) and, unless `afterDue`, not yet due.
 */
function tradable(state: StateSlice, id: string, ctx: TxContext, act: string, afterDue = false): Bill | Rejection {
  const bill = inState(state, id, "accepted");
  if (isRejection(bill)) return bill;
  if (bill.holder !== ctx.signer) return notHolder(bill, ctx.signer);
  if (bill.endorsements.length === 0) {
    return rejection("NOT_DELIVERED", `bill ${bill.id} has not been delivered to its payee ${bill.payee}; the drawer may only deliver it`);
  }
  if (!afterDue) return pastDue(bill, ctx, act) ?? bill;
  return bill;
}

function missingSignature(ctx: TxContext, party: string, act: string): Rejection | undefined {
  return ctx.signers.includes(party)
    ? undefined
    : rejection("MISSING_SIGNATURE", `${act} needs ${party}'s signature in the same transaction`);
}

// A member that holds one of the roles, or why it cannot take the part.
function eligible(ctx: TxContext, who: string, roles: readonly string[], part: string): Rejection | undefined {
  const member = ctx.members.get(who);
  if (member === undefined) return rejection("UNKNOWN_MEMBER", `${who} is not a member and cannot be ${part}`);
  if (!member.roles.some((r) => roles.includes(r))) {
    return rejection("INELIGIBLE_PARTY", `${who} cannot be ${part}: it needs one of the roles ${roles.join(", ")}`);
  }
  return undefined;
}

function chainFull(bill: Bill): Rejection | undefined {
  if (bill.endorsements.length < ENDORSEMENTS_MAX) return undefined;
  return rejection("CHAIN_FULL", `bill ${bill.id} has changed hands ${ENDORSEMENTS_MAX} times, the most its chain records`);
}

function first(...checks: readonly (Rejection | undefined)[]): Rejection | undefined {
  return checks.find((c) => c !== undefined);
}

function decideIssue(cmd: Extract<BillCommand, { action: "issue" }>, state: StateSlice, ctx: TxContext): Events {
  const drawer = ctx.signer;
  if (state.has(billKey(cmd.id))) return rejection("BILL_EXISTS", `bill ${cmd.id} already exists`);
  if (cmd.payee === drawer) return rejection("SAME_PARTY", `the drawer ${drawer} cannot be the payee of its own bill ${cmd.id}`);
  const bad = first(eligible(ctx, cmd.payee, WRITER_ROLES, "a payee"), eligible(ctx, cmd.acceptor, ACCEPTOR_ROLES, "an acceptor"));
  if (bad !== undefined) return bad;
  if (cmd.dueMs <= ctx.blockTimeMs)
    return rejection("DUE_NOT_FUTURE", `bill ${cmd.id} due at ${cmd.dueMs} is not after ${ctx.blockTimeMs}`);
  if (cmd.dueMs - ctx.blockTimeMs > BILL_TERM_MAX_MS) {
    return rejection("TERM_TOO_LONG", `bill ${cmd.id} due at ${cmd.dueMs} is more than ${BILL_TERM_MAX_MS} ms after ${ctx.blockTimeMs}`);
  }
  const data = { drawer, payee: cmd.payee, acceptor: cmd.acceptor, amount: cmd.amount.toString(), dueMs: cmd.dueMs, atMs: ctx.blockTimeMs };
  return [
    {
      type: "BillIssued",
      assetId: billKey(cmd.id),
      parties: withParties([drawer, cmd.payee, cmd.acceptor]),
      data: { id: cmd.id, ...data },
    },
  ];
}

function decideSplit(cmd: Extract<BillCommand, { action: "split" }>, state: StateSlice, ctx: TxContext): Events {
  const bill = tradable(state, cmd.id, ctx, "split");
  if (isRejection(bill)) return bill;
  if (depthOf(bill.id) >= SPLIT_DEPTH_MAX) {
    return rejection("SPLIT_TOO_DEEP", `bill ${bill.id} is ${depthOf(bill.id)} splits deep; at most ${SPLIT_DEPTH_MAX} are allowed`);
  }
  const sum = cmd.amounts.reduce((a, b) => a + b, 0n);
  if (sum !== bill.amount) {
    return rejection("SPLIT_SUM_MISMATCH", `the amounts of the split of bill ${bill.id} sum to ${sum}, not its amount ${bill.amount}`);
  }
  const children = cmd.amounts.map((amount, i) => ({ id: childId(bill.id, i + 1), amount: amount.toString() }));
  return [
    event("BillSplit", bill, bill.parties, { holder: bill.holder, children, atMs: ctx.blockTimeMs }),
    ...children.map((c) => ({
      type: "BillSplitOff",
      assetId: billKey(c.id),
      parties: [...bill.parties],
      data: { id: c.id, parent: bill.id, amount: c.amount, holder: bill.holder, atMs: ctx.blockTimeMs },
    })),
  ];
}

function decideDiscount(cmd: Extract<BillCommand, { action: "discount" }>, state: StateSlice, ctx: TxContext): Events {
  const bill = tradable(state, cmd.id, ctx, "discounted");
  if (isRejection(bill)) return bill;
  if (cmd.bank === bill.holder) return rejection("SAME_PARTY", `${bill.holder} cannot discount bill ${bill.id} to itself`);
  const bad = first(
    eligible(ctx, cmd.bank, ["bank"], "a discounting bank"),
    missingSignature(ctx, cmd.bank, "a discount"),
    chainFull(bill),
  );
  if (bad !== undefined) return bad;
  const days = daysToMaturity(ctx.blockTimeMs, bill.dueMs);
  const discount = discountOf(bill.amount, cmd.rateBp, days);
  if (discount >= bill.amount) {
    return rejection(
      "DISCOUNT_TOO_LARGE",
      `discounting bill ${bill.id} (${bill.amount}) at ${cmd.rateBp} bp for ${days} days takes ${discount}`,
    );
  }
  const proceeds = bill.amount - discount;
  const cash = cashLegs(state, ctx, [{ from: cmd.bank, to: bill.holder, amount: proceeds, memo: `discount of bill ${bill.id}` }]);
  if (isRejection(cash)) return cash;
  const data = {
    from: bill.holder,
    to: cmd.bank,
    amount: bill.amount.toString(),
    rateBp: cmd.rateBp,
    days: Number(days),
    discount: discount.toString(),
    proceeds: proceeds.toString(),
    atMs: ctx.blockTimeMs,
  };
  return [event("BillDiscounted", bill, withParties(bill.parties, cmd.bank), data), ...cash];
}

function decidePay(cmd: Extract<BillCommand, { action: "pay" }>, state: StateSlice, ctx: TxContext): Events {
  const bill = tradable(state, cmd.id, ctx, "paid", true);
  if (isRejection(bill)) return bill;
  if (ctx.blockTimeMs < bill.dueMs) {
    return rejection("NOT_DUE", `bill ${bill.id} (${bill.amount}) falls due at ${bill.dueMs}; it cannot be paid at ${ctx.blockTimeMs}`);
  }
  const unsigned = missingSignature(ctx, bill.acceptor, `payment of bill ${bill.id} by its acceptor`);
  if (unsigned !== undefined) return unsigned;
  const cash = cashLegs(state, ctx, [{ from: bill.acceptor, to: bill.holder, amount: bill.amount, memo: `payment of bill ${bill.id}` }]);
  if (isRejection(cash)) return cash;
  const data = { holder: bill.holder, acceptor: bill.acceptor, amount: bill.amount.toString(), atMs: ctx.blockTimeMs };
  return [event("BillPaid", bill, bill.parties, data), ...cash];
}

function decideRecourse(cmd: Extract<BillCommand, { action: "recourse" }>, state: StateSlice, ctx: TxContext): Events {
  const bill = inState(state, cmd.id, "dishonoured");
  if (isRejection(bill)) return bill;
  if (bill.holder !== ctx.signer) return notHolder(bill, ctx.signer);
  const liable = earlierEndorsers(bill);
  if (!liable.includes(cmd.from)) {
    return rejection(
      "NOT_PRIOR_ENDORSER",
      `${cmd.from} is not an earlier endorser of bill ${bill.id} for ${bill.holder}; recourse lies against ${liable.length === 0 ? "no one" : liable.join(", ")}`,
    );
  }
  const unsigned = missingSignature(ctx, cmd.from, `recourse on bill ${bill.id}`);
  if (unsigned !== undefined) return unsigned;
  const cash = cashLegs(state, ctx, [{ from: cmd.from, to: bill.holder, amount: bill.amount, memo: `recourse on bill ${bill.id}` }]);
  if (isRejection(cash)) return cash;
  const data = { holder: bill.holder, from: cmd.from, amount: bill.amount.toString(), atMs: ctx.blockTimeMs };
  return [event("BillRecourseSettled", bill, bill.parties, data), ...cash];
}

/** Decides a bill command against the slice of its keys. */
export function decide(cmd: BillCommand, state: StateSlice, ctx: TxContext): Events {
  switch (cmd.action) {
    case "issue":
      return decideIssue(cmd, state, ctx);
    case "accept": {
      const bill = inState(state, cmd.id, "issued");
      if (isRejection(bill)) return bill;
      if (ctx.signer !== bill.acceptor)
        return rejection("NOT_ACCEPTOR", `${ctx.signer} is not the acceptor of bill ${bill.id}; ${bill.acceptor} is`);
      return (
        pastDue(bill, ctx, "accepted") ?? [event("BillAccepted", bill, bill.parties, { acceptor: bill.acceptor, atMs: ctx.blockTimeMs })]
      );
    }
    case "void": {
      const bill = inState(state, cmd.id, "issued");
      if (isRejection(bill)) return bill;
      if (ctx.signer !== bill.drawer)
        return rejection("NOT_DRAWER", `${ctx.signer} is not the drawer of bill ${bill.id}; ${bill.drawer} is`);
      return [event("BillVoided", bill, bill.parties, { drawer: bill.drawer, atMs: ctx.blockTimeMs })];
    }
    case "endorse": {
      // The drawer's first transfer is the delivery to the payee; tradable would refuse it as undelivered.
      const bill = inState(state, cmd.id, "accepted");
      if (isRejection(bill)) return bill;
      if (bill.holder !== ctx.signer) return notHolder(bill, ctx.signer);
      const delivery = bill.endorsements.length === 0;
      if (delivery && cmd.to !== bill.payee) {
        return rejection("WRONG_PAYEE", `bill ${bill.id} must first be delivered to its payee ${bill.payee}, not ${cmd.to}`);
      }
      if (cmd.to === bill.holder) return rejection("SAME_PARTY", `${bill.holder} cannot endorse bill ${bill.id} to itself`);
      const bad = first(pastDue(bill, ctx, "endorsed"), eligible(ctx, cmd.to, WRITER_ROLES, "a holder"), chainFull(bill));
      if (bad !== undefined) return bad;
      const data = { kind: delivery ? "deliver" : "endorse", from: bill.holder, to: cmd.to, atMs: ctx.blockTimeMs };
      return [event("BillEndorsed", bill, withParties(bill.parties, cmd.to), data)];
    }
    case "split":
      return decideSplit(cmd, state, ctx);
    case "discount":
      return decideDiscount(cmd, state, ctx);
    case "pledge": {
      const bill = tradable(state, cmd.id, ctx, "pledged");
      if (isRejection(bill)) return bill;
      if (cmd.bank === bill.holder) return rejection("SAME_PARTY", `${bill.holder} cannot pledge bill ${bill.id} to itself`);
      const bad = first(eligible(ctx, cmd.bank, ["bank"], "a pledgee"), missingSignature(ctx, cmd.bank, "a pledge"));
      if (bad !== undefined) return bad;
      return [
        event("BillPledged", bill, withParties(bill.parties, cmd.bank), { holder: bill.holder, pledgee: cmd.bank, atMs: ctx.blockTimeMs }),
      ];
    }
    case "release": {
      const bill = inState(state, cmd.id, "pledged");
      if (isRejection(bill)) return bill;
      if (ctx.signer !== bill.pledgee) {
        return rejection("NOT_PLEDGEE", `${ctx.signer} is not the pledgee of bill ${bill.id}; ${bill.pledgee ?? "no one"} is`);
      }
      return [event("BillReleased", bill, bill.parties, { holder: bill.holder, pledgee: ctx.signer, atMs: ctx.blockTimeMs })];
    }
    case "pay":
      return decidePay(cmd, state, ctx);
    case "dishonour": {
      const bill = tradable(state, cmd.id, ctx, "dishonoured", true);
      if (isRejection(bill)) return bill;
      const from = bill.dueMs + DISHONOUR_GRACE_MS;
      if (ctx.blockTimeMs < from) {
        return rejection(
          "NOT_OVERDUE",
          `bill ${bill.id} (${bill.amount}) can be recorded as unpaid from ${from}, not at ${ctx.blockTimeMs}`,
        );
      }
      const data = { holder: bill.holder, acceptor: bill.acceptor, amount: bill.amount.toString(), atMs: ctx.blockTimeMs };
      return [event("BillDishonoured", bill, bill.parties, data)];
    }
    case "recourse":
      return decideRecourse(cmd, state, ctx);
    default: {
      const never: never = cmd;
      throw new InvariantError(`unknown bill command ${(never as { action: string }).action}`, "CONTRACT_STATE");
    }
  }
}

/**
 * The state keys a bill command reads or writes. The signer stands for the holder: if it is not,
 * decide refuses the command before anything is written.
 */
export function keys(cmd: BillCommand, ctx: TxContext): readonly string[] {
  const bill = billKey(cmd.id);
  const mine = heldKey(ctx.signer, cmd.id);
  switch (cmd.action) {
    case "issue":
    case "void":
      return [bill, mine];
    case "accept":
    case "pledge":
    case "release":
    case "dishonour":
      return [bill];
    case "endorse":
      return [bill, mine, heldKey(cmd.to, cmd.id)];
    case "split":
      return [bill, mine, ...cmd.amounts.flatMap((_, i) => [billKey(childId(cmd.id, i + 1)), heldKey(ctx.signer, childId(cmd.id, i + 1))])];
    case "discount":
      return [bill, mine, heldKey(cmd.bank, cmd.id), cashAccountKey(ctx.signer), cashAccountKey(cmd.bank)];
    case "pay":
      // The acceptor must co-sign, so its account is among the signers'.
      return [bill, mine, ...ctx.signers.map(cashAccountKey)];
    case "recourse":
      return [bill, mine, cashAccountKey(ctx.signer), cashAccountKey(cmd.from)];
    default: {
      const never: never = cmd;
      throw new InvariantError(`unknown bill command ${(never as { action: string }).action}`, "CONTRACT_STATE");
    }
  }
}
