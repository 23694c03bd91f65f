// The cash ledger (SCENARIOS.md §7): clearing banks issue tokenized deposits to members, and
// members move them, and a member redeems deposits with the clearing bank that pays them out
// off-chain. A transfer needs a balance; there is no overdraft.
import { InvariantError, type JsonValue } from "@tally/ledger";
import {
  foreignKey,
  isRejection,
  rejection,
  type Contract,
  type ContractEvent,
  type Rejection,
  type StateSlice,
  type TxContext,
} from "../contract.js";
import { eraseContract, eraseQuery } from "../erase-contract.js";
import { WRITER_ROLES } from "../roles.js";
import { AMOUNT_DIGITS_MAX, identifier, optionalString, parseArgs, positiveAmount, type Args } from "../schema.js";
import { readDecimal, readObject, readString } from "../state-read.js";

/** The cash contract's name in transactions and the registry. */
export const CASH_CONTRACT = "cash";

/** Longest transfer memo, in UTF-16 code units. */
export const MEMO_LENGTH_MAX = 200;

/** Largest balance an account may hold: as many digits as the largest amount, so balances stay bounded. */
export const BALANCE_MAX = 10n ** BigInt(AMOUNT_DIGITS_MAX) - 1n;

/** The cash state key of an institution's account: {balance: "<decimal minor units>"}. */
export function accountKey(institution: string): string {
  return `acct/${institution}`;
}

type CashCommand =
  | { readonly action: "issue"; readonly to: string; readonly amount: bigint }
  | { readonly action: "transfer"; readonly to: string; readonly amount: bigint; readonly memo: string | undefined }
  | { readonly action: "redeem"; readonly bank: string; readonly amount: bigint };

function parseIssue(args: Args): CashCommand | Rejection {
  const a = parseArgs(args, { to: identifier, amount: positiveAmount });
  return isRejection(a) ? a : { action: "issue", to: a.to, amount: a.amount };
}

function parseTransfer(args: Args): CashCommand | Rejection {
  const a = parseArgs(args, { to: identifier, amount: positiveAmount, memo: optionalString(MEMO_LENGTH_MAX) });
  return isRejection(a) ? a : { action: "transfer", to: a.to, amount: a.amount, memo: a.memo };
}

function parseRedeem(args: Args): CashCommand | Rejection {
  const a = parseArgs(args, { bank: identifier, amount: positiveAmount });
  return isRejection(a) ? a : { action: "redeem", bank: a.bank, amount: a.amount };
}

function balanceOf(state: StateSlice, institution: string): bigint {
  const v = state.get(accountKey(institution));
  return v === undefined ? 0n : readDecimal(readObject(v, `cash account ${institution}`), "balance", `cash account ${institution}`);
}

function account(balance: bigint): JsonValue {
  return { balance: balance.toString() };
}

function unknownAccount(to: string): Rejection {
  return rejection("UNKNOWN_ACCOUNT", `${to} is not a member and cannot hold an account`);
}

function overLimit(to: string, balance: bigint): Rejection {
  return rejection("BALANCE_LIMIT", `account ${to} would hold ${balance}, above the limit of ${BALANCE_MAX}`);
}

function decide(cmd: CashCommand, state: StateSlice, ctx: TxContext): readonly ContractEvent[] | Rejection {
  switch (cmd.action) {
    case "issue": {
      const issuer = ctx.signer;
      if (!ctx.members.has(cmd.to)) return unknownAccount(cmd.to);
      const after = balanceOf(state, cmd.to) + cmd.amount;
      if (after > BALANCE_MAX) return overLimit(cmd.to, after);
      const parties = issuer === cmd.to ? [issuer] : [issuer, cmd.to];
      return [{ type: "CashIssued", assetId: accountKey(cmd.to), parties, data: { issuer, to: cmd.to, amount: cmd.amount.toString() } }];
    }
    case "transfer": {
      const from = ctx.signer;
      if (cmd.to === from) return rejection("SELF_TRANSFER", `${from} cannot transfer to itself`);
      if (!ctx.members.has(cmd.to)) return unknownAccount(cmd.to);
      const balance = balanceOf(state, from);
      if (balance < cmd.amount) return rejection("INSUFFICIENT_FUNDS", `${from} holds ${balance}, less than ${cmd.amount}`);
      const after = balanceOf(state, cmd.to) + cmd.amount;
      if (after > BALANCE_MAX) return overLimit(cmd.to, after);
      return [
        {
          type: "CashTransferred",
          assetId: accountKey(from),
          parties: [from, cmd.to],
          data: { from, to: cmd.to, amount: cmd.amount.toString(), memo: cmd.memo ?? null },
        },
      ];
    }
    case "redeem": {
      // The holder and the clearing bank both sign: the bank takes the deposits back and pays out.
      const holder = ctx.signer;
      if (!(ctx.members.get(cmd.bank)?.roles ?? []).includes("clearing"))
        return rejection("NOT_CLEARING_BANK", `${cmd.bank} is not a clearing bank and cannot redeem deposits`);
      if (!ctx.signers.includes(cmd.bank))
        return rejection("MISSING_SIGNATURE", `redeeming with ${cmd.bank} needs ${cmd.bank}'s signature in the same transaction`);
      const balance = balanceOf(state, holder);
      if (balance < cmd.amount) return rejection("INSUFFICIENT_FUNDS", `${holder} holds ${balance}, less than ${cmd.amount}`);
      const parties = holder === cmd.bank ? [holder] : [holder, cmd.bank];
      return [
        { type: "CashRedeemed", assetId: accountKey(holder), parties, data: { holder, bank: cmd.bank, amount: cmd.amount.toString() } },
      ];
    }
    default: {
      const never: never = cmd;
      throw new InvariantError(`unknown cash command ${(never as { action: string }).action}`, "CONTRACT_STATE");
    }
  }
}

function evolve(state: StateSlice, event: ContractEvent): ReadonlyMap<string, JsonValue | null> {
  const what = `cash ${event.type}`;
  const data = readObject(event.data, what);
  const amount = readDecimal(data, "amount", what);
  switch (event.type) {
    case "CashIssued": {
      const to = readString(data, "to", what);
      return new Map([[accountKey(to), account(balanceOf(state, to) + amount)]]);
    }
    case "CashTransferred": {
      const from = readString(data, "from", what);
      const to = readString(data, "to", what);
      const left = balanceOf(state, from) - amount;
      if (left < 0n) throw new InvariantError(`CashTransferred overdraws ${from}`, "CONTRACT_STATE");
      // Read to after from: from and to differ (decide refuses SELF_TRANSFER).
      return new Map([
        [accountKey(from), account(left)],
        [accountKey(to), account(balanceOf(state, to) + amount)],
      ]);
    }
    case "CashRedeemed": {
      const holder = readString(data, "holder", what);
      const left = balanceOf(state, holder) - amount;
      if (left < 0n) throw new InvariantError(`CashRedeemed overdraws ${holder}`, "CONTRACT_STATE");
      return new Map([[accountKey(holder), account(left)]]);
    }
    default:
      throw new InvariantError(`cash cannot fold event ${event.type}`, "CONTRACT_STATE");
  }
}

/** An institution's cash account as a contract that uses cash names it (see Contract.uses). */
export function cashAccountKey(institution: string): string {
  return foreignKey(CASH_CONTRACT, accountKey(institution));
}

/** An institution's cash balance as seen in the slice of a contract that uses cash. */
export function cashBalanceIn(state: StateSlice, institution: string): bigint {
  const v = state.get(cashAccountKey(institution));
  return v === undefined ? 0n : readDecimal(readObject(v, `cash account ${institution}`), "balance", `cash account ${institution}`);
}

/** One payment inside another contract's act: a cash leg of a settlement. */
export interface CashLeg {
  readonly from: string;
  readonly to: string;
  readonly amount: bigint;
  readonly memo?: string;
}

/**
 * The cash events for settlement legs that a contract using cash emits with its own events, so
 * that the asset and the cash move in one transaction or not at all. Checks every leg as cash's
 * own transfer does (INSUFFICIENT_FUNDS, UNKNOWN_ACCOUNT, BALANCE_LIMIT), in order, each leg
 * seeing the balances the earlier ones left. Zero-amount legs are skipped; a leg from an account
 * to itself moves nothing and is skipped too. The contract must name cashAccountKey of every
 * party in its keys.
 */
export function cashLegs(state: StateSlice, ctx: TxContext, legs: readonly CashLeg[]): ContractEvent[] | Rejection {
  const balances = new Map<string, bigint>();
  const balance = (who: string): bigint => balances.get(who) ?? cashBalanceIn(state, who);
  const events: ContractEvent[] = [];
  for (const leg of legs) {
    if (leg.amount === 0n || leg.from === leg.to) continue;
    if (leg.amount < 0n) throw new InvariantError(`negative cash leg ${leg.amount}`, "CONTRACT_STATE");
    if (!ctx.members.has(leg.to)) return unknownAccount(leg.to);
    const have = balance(leg.from);
    if (have < leg.amount) return rejection("INSUFFICIENT_FUNDS", `${leg.from} holds ${have}, less than ${leg.amount}`);
    const after = balance(leg.to) + leg.amount;
    if (after > BALANCE_MAX) return overLimit(leg.to, after);
    balances.set(leg.from, have - leg.amount);
    balances.set(leg.to, after);
    events.push({
      contract: CASH_CONTRACT,
      type: "CashTransferred",
      assetId: accountKey(leg.from),
      parties: [leg.from, leg.to],
      data: { from: leg.from, to: leg.to, amount: leg.amount.toString(), memo: leg.memo ?? null },
    });
  }
  return events;
}

/** The cash contract. State: `acct/<institution>` → {balance: "<decimal minor units>"}; absent means 0. */
export const cash: Contract = eraseContract<CashCommand>({
  name: CASH_CONTRACT,
  actions: {
    issue: { roles: ["clearing"], parse: parseIssue },
    transfer: { roles: WRITER_ROLES, parse: parseTransfer },
    redeem: { roles: WRITER_ROLES, parse: parseRedeem },
  },
  keys: (cmd, ctx) => {
    switch (cmd.action) {
      case "issue":
        return [accountKey(cmd.to)];
      case "transfer":
        return cmd.to === ctx.signer ? [accountKey(ctx.signer)] : [accountKey(ctx.signer), accountKey(cmd.to)];
      case "redeem":
        return [accountKey(ctx.signer)];
      default: {
        const never: never = cmd;
        throw new InvariantError(`unknown cash command ${(never as { action: string }).action}`, "CONTRACT_STATE");
      }
    }
  },
  decide,
  evolve,
  queries: {
    balance: eraseQuery<{ readonly account: string }>({
      parse: (args) => parseArgs(args, { account: identifier }),
      keys: (q) => [accountKey(q.account)],
      run: (q, state) => ({ account: q.account, balance: balanceOf(state, q.account).toString() }),
      owner: (q) => q.account,
    }),
  },
});
