// Warehouse receipts (SCENARIOS.md §3): a warehouse issues a receipt to the owner of goods it holds;
// the holder may transfer it, or pledge it to a bank for a loan disbursed in cash in the same
// transaction; repaying principal and interest releases the pledge; the warehouse releases the
// goods (closing the receipt) against the holder's signature, and never while pledged. Receipts
// are not split: a quantity leaves the warehouse whole.
import { InvariantError, type JsonValue } from "@tally/ledger";
import { isRejection, rejection, type Contract, type ContractEvent, type Rejection, type StateSlice, type TxContext } from "../contract.js";
import { cashAccountKey, cashLegs, CASH_CONTRACT } from "../cash/cash.js";
import { eraseContract, eraseQuery } from "../erase-contract.js";
import { WRITER_ROLES } from "../roles.js";
import { identifier, integer, parseArgs, positiveAmount, requiredString, type Args } from "../schema.js";
import { readDecimal, readObject, readString } from "../state-read.js";
import { holdsRole, partiesOf, readCount, requireSignature } from "./supply-fields.js";
import {
  heldEntry,
  heldReceiptKey,
  loanInterest,
  pledgedEntry,
  pledgedReceiptKey,
  receiptIn,
  receiptJson,
  receiptKey,
  WAREHOUSE_CONTRACT,
  type Receipt,
} from "./warehouse-state.js";

/** Longest commodity name ("copper cathode, LME grade A"), in UTF-16 code units. */
export const COMMODITY_LENGTH_MAX = 100;

/** Longest unit name ("t", "bbl", "bale"), in UTF-16 code units. */
export const UNIT_LENGTH_MAX = 16;

/** Highest loan rate, in basis points a year: 100%. */
export const RATE_BP_MAX = 10_000;

/** Most entries a portfolio or collateral query returns. */
export const WAREHOUSE_SCAN_LIMIT = 1000;

type WarehouseCommand =
  | {
      readonly action: "issue";
      readonly id: string;
      readonly owner: string;
      readonly commodity: string;
      readonly quantity: bigint;
      readonly unit: string;
    }
  | { readonly action: "transfer"; readonly id: string; readonly to: string }
  | { readonly action: "pledge"; readonly id: string; readonly bank: string; readonly principal: bigint; readonly rateBp: number }
  | { readonly action: "repay"; readonly id: string; readonly bank: string }
  | { readonly action: "release"; readonly id: string; readonly holder: string };

function parseIssue(args: Args): WarehouseCommand | Rejection {
  const a = parseArgs(args, {
    id: identifier,
    owner: identifier,
    commodity: requiredString(COMMODITY_LENGTH_MAX),
    quantity: positiveAmount,
    unit: requiredString(UNIT_LENGTH_MAX),
  });
  return isRejection(a) ? a : { action: "issue", ...a };
}

function parseTransfer(args: Args): WarehouseCommand | Rejection {
  const a = parseArgs(args, { id: identifier, to: identifier });
  return isRejection(a) ? a : { action: "transfer", ...a };
}

function parsePledge(args: Args): WarehouseCommand | Rejection {
  const a = parseArgs(args, { id: identifier, bank: identifier, principal: positiveAmount, rateBp: integer(0, RATE_BP_MAX) });
  return isRejection(a) ? a : { action: "pledge", ...a };
}

function parseRepay(args: Args): WarehouseCommand | Rejection {
  const a = parseArgs(args, { id: identifier, bank: identifier });
  return isRejection(a) ? a : { action: "repay", ...a };
}

function parseRelease(args: Args): WarehouseCommand | Rejection {
  const a = parseArgs(args, { id: identifier, holder: identifier });
  return isRejection(a) ? a : { action: "release", ...a };
}

function unknownCommand(cmd: never): never {
  throw new InvariantError(`unknown warehouse command ${(cmd as { action: string }).action}`, "CONTRACT_STATE");
}

function keys(cmd: WarehouseCommand, ctx: TxContext): readonly string[] {
  const receipt = receiptKey(cmd.id);
  switch (cmd.action) {
    case "issue":
      return [receipt, heldReceiptKey(cmd.owner, cmd.id)];
    case "transfer":
      // The signer must be the holder (checked in decide), so its index entry is the one to remove.
      return [receipt, heldReceiptKey(ctx.signer, cmd.id), heldReceiptKey(cmd.to, cmd.id)];
    case "pledge":
    case "repay":
      return [receipt, pledgedReceiptKey(cmd.bank, cmd.id), cashAccountKey(ctx.signer), cashAccountKey(cmd.bank)];
    case "release":
      return [receipt, heldReceiptKey(cmd.holder, cmd.id)];
    default:
      return unknownCommand(cmd);
  }
}

function event(
  type: string,
  r: { readonly id: string },
  parties: readonly string[],
  data: { readonly [k: string]: JsonValue },
): ContractEvent {
  return { type, assetId: receiptKey(r.id), parties: partiesOf(...parties), data: { id: r.id, ...data } };
}

/** The receipt, if it exists and is active; else UNKNOWN_RECEIPT or RECEIPT_CLOSED. */
function activeReceipt(state: StateSlice, id: string): Receipt | Rejection {
  const r = receiptIn(state, id);
  if (r === undefined) return rejection("UNKNOWN_RECEIPT", `no warehouse receipt ${id}`);
  if (r.status !== "active") {
    return rejection("RECEIPT_CLOSED", `warehouse receipt ${id} is closed: its goods were released at ${r.releasedAtMs ?? "?"}`);
  }
  return r;
}

function notHolder(r: Receipt, signer: string): Rejection {
  return rejection("NOT_HOLDER", `${signer} does not hold warehouse receipt ${r.id}; ${r.holder} does`);
}

function pledged(r: Receipt, act: string): Rejection {
  const p = r.pledge;
  return rejection(
    "RECEIPT_PLEDGED",
    `warehouse receipt ${r.id} is pledged to ${p?.bank ?? "?"} for ${p?.principal.toString() ?? "?"} and cannot be ${act} until the loan is repaid`,
  );
}

function decide(cmd: WarehouseCommand, state: StateSlice, ctx: TxContext): readonly ContractEvent[] | Rejection {
  switch (cmd.action) {
    case "issue": {
      const existing = receiptIn(state, cmd.id);
      if (existing !== undefined) {
        return rejection("RECEIPT_EXISTS", `warehouse receipt ${cmd.id} was already issued by ${existing.warehouse}; ids are never reused`);
      }
      if (!ctx.members.has(cmd.owner))
        return rejection("UNKNOWN_MEMBER", `${cmd.owner} is not a member and cannot hold a warehouse receipt`);
      if (cmd.owner === ctx.signer) return rejection("SELF_ISSUE", `warehouse ${ctx.signer} cannot issue receipt ${cmd.id} to itself`);
      const data = {
        warehouse: ctx.signer,
        owner: cmd.owner,
        commodity: cmd.commodity,
        quantity: cmd.quantity.toString(),
        unit: cmd.unit,
        issuedAtMs: ctx.blockTimeMs,
      };
      return [event("ReceiptIssued", cmd, [ctx.signer, cmd.owner], data)];
    }
    case "transfer": {
      const r = activeReceipt(state, cmd.id);
      if (isRejection(r)) return r;
      if (r.holder !== ctx.signer) return notHolder(r, ctx.signer);
      if (r.pledge !== null) return pledged(r, "transferred");
      if (cmd.to === ctx.signer) return rejection("SELF_TRANSFER", `${ctx.signer} cannot transfer warehouse receipt ${r.id} to itself`);
      if (!ctx.members.has(cmd.to))
        return rejection("UNKNOWN_MEMBER", `${cmd.to} is not a member and cannot hold warehouse receipt ${r.id}`);
      return [event("ReceiptTransferred", r, [r.warehouse, ctx.signer, cmd.to], { from: ctx.signer, to: cmd.to })];
    }
    case "pledge": {
      const r = activeReceipt(state, cmd.id);
      if (isRejection(r)) return r;
      if (r.holder !== ctx.signer) return notHolder(r, ctx.signer);
      if (r.pledge !== null) return pledged(r, "pledged again");
      if (cmd.bank === ctx.signer) return rejection("SELF_PLEDGE", `${ctx.signer} cannot pledge warehouse receipt ${r.id} to itself`);
      if (!holdsRole(ctx, cmd.bank, "bank"))
        return rejection("NOT_A_BANK", `${cmd.bank} does not hold the bank role and cannot lend on ${r.id}`);
      const unsigned = requireSignature(ctx, cmd.bank, `pledging warehouse receipt ${r.id}`);
      if (unsigned !== undefined) return unsigned;
      const legs = cashLegs(state, ctx, [{ from: cmd.bank, to: ctx.signer, amount: cmd.principal, memo: `loan on ${receiptKey(r.id)}` }]);
      if (isRejection(legs)) return legs;
      const data = {
        holder: ctx.signer,
        bank: cmd.bank,
        principal: cmd.principal.toString(),
        rateBp: cmd.rateBp,
        disbursedAtMs: ctx.blockTimeMs,
      };
      return [event("ReceiptPledged", r, [r.warehouse, ctx.signer, cmd.bank], data), ...legs];
    }
    case "repay": {
      const r = activeReceipt(state, cmd.id);
      if (isRejection(r)) return r;
      const p = r.pledge;
      if (p === null) return rejection("NOT_PLEDGED", `warehouse receipt ${r.id} is not pledged; there is no loan to repay`);
      if (r.holder !== ctx.signer) return notHolder(r, ctx.signer);
      if (p.bank !== cmd.bank) return rejection("WRONG_BANK", `warehouse receipt ${r.id} is pledged to ${p.bank}, not ${cmd.bank}`);
      const { days, interest } = loanInterest(p.principal, p.rateBp, p.disbursedAtMs, ctx.blockTimeMs);
      const total = p.principal + interest;
      const legs = cashLegs(state, ctx, [{ from: ctx.signer, to: p.bank, amount: total, memo: `repayment on ${receiptKey(r.id)}` }]);
      if (isRejection(legs)) {
        if (legs.code !== "INSUFFICIENT_FUNDS") return legs;
        return rejection(
          "INSUFFICIENT_FUNDS",
          `repaying the loan on warehouse receipt ${r.id} takes ${total} (principal ${p.principal} + interest ${interest} for ${days} days at ${p.rateBp} bp): ${legs.message}`,
        );
      }
      const data = {
        holder: ctx.signer,
        bank: p.bank,
        principal: p.principal.toString(),
        rateBp: p.rateBp,
        days: days.toString(),
        interest: interest.toString(),
        total: total.toString(),
        repaidAtMs: ctx.blockTimeMs,
      };
      return [event("LoanRepaid", r, [r.warehouse, ctx.signer, p.bank], data), ...legs];
    }
    case "release": {
      const r = activeReceipt(state, cmd.id);
      if (isRejection(r)) return r;
      if (r.warehouse !== ctx.signer) {
        return rejection("NOT_ISSUING_WAREHOUSE", `warehouse receipt ${r.id} was issued by ${r.warehouse}, not ${ctx.signer}`);
      }
      if (r.holder !== cmd.holder)
        return rejection("PARTY_MISMATCH", `warehouse receipt ${r.id} is held by ${r.holder}, not ${cmd.holder}`);
      if (r.pledge !== null) return pledged(r, "released");
      // The goods go out against surrender of the receipt: the holder signs too.
      const unsigned = requireSignature(ctx, r.holder, `releasing the goods of warehouse receipt ${r.id}`);
      if (unsigned !== undefined) return unsigned;
      return [
        event("ReceiptReleased", r, [r.warehouse, r.holder], { warehouse: r.warehouse, holder: r.holder, releasedAtMs: ctx.blockTimeMs }),
      ];
    }
    default:
      return unknownCommand(cmd);
  }
}

function mustReceipt(state: StateSlice, id: string, type: string): Receipt {
  const r = receiptIn(state, id);
  if (r === undefined || r.status !== "active")
    throw new InvariantError(`${type} on ${r === undefined ? "absent" : "closed"} receipt ${id}`, "CONTRACT_STATE");
  return r;
}

function evolve(state: StateSlice, e: ContractEvent): ReadonlyMap<string, JsonValue | null> {
  if (e.contract !== undefined && e.contract !== WAREHOUSE_CONTRACT) {
    throw new InvariantError(`warehouse cannot fold a ${e.contract} event`, "CONTRACT_STATE");
  }
  const what = `warehouse ${e.type}`;
  const data = readObject(e.data, what);
  const id = readString(data, "id", what);
  const key = receiptKey(id);
  switch (e.type) {
    case "ReceiptIssued": {
      if (state.has(key)) throw new InvariantError(`${key} issued twice`, "CONTRACT_STATE");
      const warehouse = readString(data, "warehouse", what);
      const owner = readString(data, "owner", what);
      const r: Receipt = {
        id,
        warehouse,
        holder: owner,
        commodity: readString(data, "commodity", what),
        quantity: readDecimal(data, "quantity", what),
        unit: readString(data, "unit", what),
        status: "active",
        pledge: null,
        issuedAtMs: readCount(data, "issuedAtMs", what),
        releasedAtMs: null,
        parties: partiesOf(warehouse, owner),
      };
      if (r.quantity <= 0n) throw new InvariantError(`${key} issued with quantity ${r.quantity}`, "CONTRACT_STATE");
      return new Map([
        [key, receiptJson(r)],
        [heldReceiptKey(owner, id), heldEntry(r)],
      ]);
    }
    case "ReceiptTransferred": {
      const r = mustReceipt(state, id, e.type);
      const from = readString(data, "from", what);
      const to = readString(data, "to", what);
      if (r.holder !== from || r.pledge !== null || from === to) {
        throw new InvariantError(`${key} transferred from ${from} to ${to}, but held by ${r.holder}`, "CONTRACT_STATE");
      }
      const next: Receipt = { ...r, holder: to, parties: partiesOf(...r.parties, to) };
      return new Map([
        [key, receiptJson(next)],
        [heldReceiptKey(from, id), null],
        [heldReceiptKey(to, id), heldEntry(next)],
      ]);
    }
    case "ReceiptPledged": {
      const r = mustReceipt(state, id, e.type);
      const holder = readString(data, "holder", what);
      if (r.holder !== holder || r.pledge !== null)
        throw new InvariantError(`${key} pledged by ${holder} while not free`, "CONTRACT_STATE");
      const pledge = {
        bank: readString(data, "bank", what),
        principal: readDecimal(data, "principal", what),
        rateBp: readCount(data, "rateBp", what),
        disbursedAtMs: readCount(data, "disbursedAtMs", what),
      };
      const next: Receipt = { ...r, pledge, parties: partiesOf(...r.parties, pledge.bank) };
      return new Map([
        [key, receiptJson(next)],
        [pledgedReceiptKey(pledge.bank, id), pledgedEntry(holder, pledge)],
      ]);
    }
    case "LoanRepaid": {
      const r = mustReceipt(state, id, e.type);
      const bank = readString(data, "bank", what);
      if (r.pledge?.bank !== bank) throw new InvariantError(`${key} repaid to ${bank}, not its lender`, "CONTRACT_STATE");
      return new Map([
        [key, receiptJson({ ...r, pledge: null })],
        [pledgedReceiptKey(bank, id), null],
      ]);
    }
    case "ReceiptReleased": {
      const r = mustReceipt(state, id, e.type);
      if (r.pledge !== null) throw new InvariantError(`${key} released while pledged`, "CONTRACT_STATE");
      const next: Receipt = { ...r, status: "released", releasedAtMs: readCount(data, "releasedAtMs", what) };
      return new Map([
        [key, receiptJson(next)],
        [heldReceiptKey(r.holder, id), null],
      ]);
    }
    default:
      throw new InvariantError(`warehouse cannot fold event ${e.type}`, "CONTRACT_STATE");
  }
}

/** Index entries under a scanned prefix, in key order, as `{assetId, ...entry}`. */
function indexEntries(state: StateSlice, prefix: string): JsonValue[] {
  const out: JsonValue[] = [];
  for (const k of [...state.keys()].filter((key) => key.startsWith(prefix)).sort()) {
    out.push({ assetId: k.slice(prefix.length), ...readObject(state.get(k), `warehouse index ${k}`) });
  }
  return out;
}

/**
 * The warehouse contract (uses cash for loans). State:
 * - `receipt/<id>` → {id, warehouse, holder, commodity, quantity, unit, status ("active" |
 *   "released"), pledge (null | {bank, principal, rateBp, disbursedAtMs}), issuedAtMs, releasedAtMs,
 *   parties};
 * - `held/<holder>/receipt/<id>` → {warehouse, commodity, quantity, unit}, for active receipts;
 * - `pledged/<bank>/receipt/<id>` → {holder, principal, rateBp, disbursedAtMs}, while pledged.
 */
export const warehouse: Contract = eraseContract<WarehouseCommand>({
  name: WAREHOUSE_CONTRACT,
  uses: [CASH_CONTRACT],
  actions: {
    issue: { roles: ["warehouse"], parse: parseIssue },
    transfer: { roles: WRITER_ROLES, parse: parseTransfer },
    pledge: { roles: WRITER_ROLES, parse: parsePledge },
    repay: { roles: WRITER_ROLES, parse: parseRepay },
    release: { roles: ["warehouse"], parse: parseRelease },
  },
  keys,
  decide,
  evolve,
  queries: {
    receipt: eraseQuery<{ readonly id: string }>({
      parse: (args) => parseArgs(args, { id: identifier }),
      keys: (q) => [receiptKey(q.id)],
      run: (q, state) => state.get(receiptKey(q.id)) ?? null,
    }),
    portfolio: eraseQuery<{ readonly holder: string }>({
      parse: (args) => parseArgs(args, { holder: identifier }),
      keys: () => [],
      scan: (q) => ({ prefix: `held/${q.holder}/`, limit: WAREHOUSE_SCAN_LIMIT }),
      owner: (q) => q.holder,
      run: (q, state) => ({ holder: q.holder, holdings: indexEntries(state, `held/${q.holder}/`) }),
    }),
    collateral: eraseQuery<{ readonly bank: string }>({
      parse: (args) => parseArgs(args, { bank: identifier }),
      keys: () => [],
      scan: (q) => ({ prefix: `pledged/${q.bank}/`, limit: WAREHOUSE_SCAN_LIMIT }),
      owner: (q) => q.bank,
      run: (q, state) => ({ bank: q.bank, pledged: indexEntries(state, `pledged/${q.bank}/`) }),
    }),
  },
});
