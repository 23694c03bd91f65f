// The receivable contract's decisions: each act checks the record, the parties and the clock (the
// block time) and says which events happen, or rejects with a reason code.
import { InvariantError } from "@tally/ledger";
import { isRejection, rejection, type ContractEvent, type Rejection, type StateSlice, type TxContext } from "../contract.js";
import { cashLegs, type CashLeg } from "../cash/cash.js";
import type { ReceivableCommand, SettleLeaf, SplitPart } from "./receivable-commands.js";
import {
  BP_PER_UNIT,
  DEPTH_MAX,
  LEAVES_MAX,
  childId,
  invoiceKey,
  readRecord,
  receivableKey,
  unionParties,
  type ReceivableRecord,
} from "./receivable-record.js";

/** Roles that may hold a receivable: enterprises down the tiers, and the banks that finance them. */
export const HOLDER_ROLES: readonly string[] = ["enterprise", "bank"];

type Decision = readonly ContractEvent[] | Rejection;

function rolesOf(ctx: TxContext, who: string): readonly string[] {
  return ctx.members.get(who)?.roles ?? [];
}

function load(state: StateSlice, id: string): ReceivableRecord | Rejection {
  const v = state.get(receivableKey(id));
  if (v === undefined) return rejection("UNKNOWN_RECEIVABLE", `no receivable ${id}`);
  return readRecord(v, `receivable ${id}`);
}

// Transfer, split and finance act on a live, confirmed receivable before its due date, by its holder.
function holding(state: StateSlice, id: string, ctx: TxContext, act: string): ReceivableRecord | Rejection {
  const r = load(state, id);
  if (isRejection(r)) return r;
  switch (r.status) {
    case "registered":
      return rejection(
        "NOT_CONFIRMED",
        `receivable ${id} (${r.amount}) is not yet confirmed by its debtor ${r.debtor}, so it cannot be ${act}`,
      );
    case "split":
      return rejection("ALREADY_SPLIT", `receivable ${id} was split into ${r.children.join(", ")}; act on those instead`);
    case "settled":
      return rejection("ALREADY_SETTLED", `receivable ${id} was settled at ${r.settledAtMs}`);
    case "confirmed":
      break;
  }
  if (r.holder !== ctx.signer) return rejection("NOT_HOLDER", `receivable ${id} is held by ${r.holder}, not ${ctx.signer}`);
  if (ctx.blockTimeMs >= r.dueMs)
    return rejection("MATURED", `receivable ${id} fell due at ${r.dueMs} (block time ${ctx.blockTimeMs}); it can only be settled now`);
  return r;
}

function eligibleHolder(ctx: TxContext, to: string, id: string): Rejection | undefined {
  if (!ctx.members.has(to)) return rejection("UNKNOWN_RECIPIENT", `${to} is not a member and cannot hold receivable ${id}`);
  if (!HOLDER_ROLES.some((role) => rolesOf(ctx, to).includes(role)))
    return rejection("RECIPIENT_NOT_ELIGIBLE", `${to} holds none of the roles ${HOLDER_ROLES.join(", ")} and cannot hold receivable ${id}`);
  return undefined;
}

function register(cmd: Extract<ReceivableCommand, { action: "register" }>, state: StateSlice, ctx: TxContext): Decision {
  const supplier = ctx.signer;
  const existing = state.get(receivableKey(cmd.id));
  if (existing !== undefined) {
    const r = readRecord(existing, `receivable ${cmd.id}`);
    return rejection("ALREADY_REGISTERED", `receivable ${cmd.id} was registered by ${r.supplier} against ${r.debtor}`);
  }
  if (cmd.debtor === supplier) return rejection("SELF_DEBTOR", `${supplier} cannot register receivable ${cmd.id} against itself`);
  if (!ctx.members.has(cmd.debtor)) return rejection("UNKNOWN_DEBTOR", `debtor ${cmd.debtor} of receivable ${cmd.id} is not a member`);
  if (!rolesOf(ctx, cmd.debtor).includes("enterprise"))
    return rejection("DEBTOR_NOT_ENTERPRISE", `debtor ${cmd.debtor} of receivable ${cmd.id} is not an enterprise`);
  if (cmd.dueMs <= ctx.blockTimeMs)
    return rejection("DUE_NOT_FUTURE", `receivable ${cmd.id} is due at ${cmd.dueMs}, not after the block time ${ctx.blockTimeMs}`);
  const invoice = state.get(invoiceKey(cmd.debtor, supplier, cmd.invoiceRef));
  if (invoice !== undefined) {
    return rejection(
      "DUPLICATE_INVOICE",
      `invoice ${JSON.stringify(cmd.invoiceRef)} of ${supplier} to ${cmd.debtor} is already registered`,
    );
  }
  const data = {
    id: cmd.id,
    supplier,
    debtor: cmd.debtor,
    amount: cmd.amount.toString(),
    dueMs: cmd.dueMs,
    invoiceRef: cmd.invoiceRef,
  };
  return [{ type: "ReceivableRegistered", assetId: receivableKey(cmd.id), parties: unionParties([supplier, cmd.debtor]), data }];
}

function confirm(cmd: Extract<ReceivableCommand, { action: "confirm" }>, state: StateSlice, ctx: TxContext): Decision {
  const r = load(state, cmd.id);
  if (isRejection(r)) return r;
  if (ctx.signer !== r.debtor)
    return rejection("NOT_DEBTOR", `receivable ${cmd.id} is owed by ${r.debtor}; ${ctx.signer} cannot confirm it`);
  if (r.status !== "registered") return rejection("ALREADY_CONFIRMED", `receivable ${cmd.id} is already confirmed (${r.status})`);
  if (!ctx.signers.includes(r.supplier))
    return rejection(
      "MISSING_SIGNATURE",
      `confirming receivable ${cmd.id} needs the supplier ${r.supplier}'s signature as well as ${r.debtor}'s`,
    );
  return [
    {
      type: "ReceivableConfirmed",
      assetId: receivableKey(cmd.id),
      parties: r.parties,
      data: { id: cmd.id, debtor: r.debtor, supplier: r.supplier, amount: r.amount.toString() },
    },
  ];
}

function transfer(cmd: Extract<ReceivableCommand, { action: "transfer" }>, state: StateSlice, ctx: TxContext): Decision {
  const r = holding(state, cmd.id, ctx, "transferred");
  if (isRejection(r)) return r;
  if (cmd.to === ctx.signer) return rejection("SELF_TRANSFER", `${ctx.signer} cannot transfer receivable ${cmd.id} to itself`);
  const bad = eligibleHolder(ctx, cmd.to, cmd.id);
  if (bad !== undefined) return bad;
  return [
    {
      type: "ReceivableTransferred",
      assetId: receivableKey(cmd.id),
      parties: unionParties(r.parties, [cmd.to]),
      data: { id: cmd.id, from: ctx.signer, to: cmd.to, amount: r.amount.toString() },
    },
  ];
}

function split(cmd: Extract<ReceivableCommand, { action: "split" }>, state: StateSlice, ctx: TxContext): Decision {
  const r = holding(state, cmd.id, ctx, "split");
  if (isRejection(r)) return r;
  const sum = cmd.parts.reduce((s, p) => s + p.amount, 0n);
  if (sum !== r.amount) return rejection("SPLIT_SUM_MISMATCH", `parts of receivable ${cmd.id} sum to ${sum}, not its amount ${r.amount}`);
  if (r.depth + 1 > DEPTH_MAX)
    return rejection("DEPTH_LIMIT", `receivable ${cmd.id} is at depth ${r.depth}; children may be at most ${DEPTH_MAX} deep`);
  const root = r.parent === null ? r : load(state, r.root);
  if (isRejection(root) || root.leaves === null)
    throw new InvariantError(`receivable ${cmd.id} has no root record ${r.root}`, "CONTRACT_STATE");
  const leavesAfter = root.leaves.length - 1 + cmd.parts.length;
  if (leavesAfter > LEAVES_MAX)
    return rejection("TOO_MANY_LEAVES", `splitting ${cmd.id} would give tree ${r.root} ${leavesAfter} leaves; the bound is ${LEAVES_MAX}`);
  for (const p of cmd.parts) {
    const bad = eligibleHolder(ctx, p.to, cmd.id);
    if (bad !== undefined) return bad;
  }
  return splitEvents(r, root, cmd.parts);
}

// One event per asset the split changes: the parent, each child, and the root's list of leaves.
function splitEvents(r: ReceivableRecord, root: ReceivableRecord, parts: readonly SplitPart[]): ContractEvent[] {
  const children = parts.map((p, i) => ({ id: childId(r.id, i + 1), holder: p.to, amount: p.amount.toString() }));
  const parentParties = unionParties(
    r.parties,
    parts.map((p) => p.to),
  );
  const events: ContractEvent[] = [
    { type: "ReceivableSplit", assetId: receivableKey(r.id), parties: parentParties, data: { id: r.id, holder: r.holder, children } },
  ];
  for (const c of children) {
    const data = {
      id: c.id,
      parent: r.id,
      root: r.root,
      depth: r.depth + 1,
      supplier: r.supplier,
      debtor: r.debtor,
      holder: c.holder,
      amount: c.amount,
      dueMs: r.dueMs,
      invoiceRef: r.invoiceRef,
      financed: r.financed,
      financedBy: r.financedBy,
      parties: unionParties(r.parties, [c.holder]),
    };
    events.push({ type: "ReceivableChildCreated", assetId: receivableKey(c.id), parties: data.parties, data });
  }
  const added = children.map((c) => c.id);
  events.push({
    type: "ReceivableLeavesChanged",
    assetId: receivableKey(root.id),
    parties: unionParties(root.parties, parentParties),
    data: { id: root.id, removed: r.id, added },
  });
  return events;
}

function finance(cmd: Extract<ReceivableCommand, { action: "finance" }>, state: StateSlice, ctx: TxContext): Decision {
  const r = holding(state, cmd.id, ctx, "financed");
  if (isRejection(r)) return r;
  if (r.financed)
    return rejection(
      "ALREADY_FINANCED",
      `receivable ${cmd.id} (or the receivable it was split from) was already financed by ${r.financedBy}`,
    );
  if (cmd.bank === ctx.signer) return rejection("SELF_FINANCE", `${ctx.signer} cannot finance receivable ${cmd.id} with itself`);
  if (!rolesOf(ctx, cmd.bank).includes("bank"))
    return rejection("NOT_A_BANK", `${cmd.bank} is not a bank and cannot finance receivable ${cmd.id}`);
  if (!ctx.signers.includes(cmd.bank))
    return rejection(
      "MISSING_SIGNATURE",
      `financing receivable ${cmd.id} needs the bank ${cmd.bank}'s signature as well as ${ctx.signer}'s`,
    );
  // Integer floor division: the discount rounds down, so the holder's advance rounds up.
  const discount = (r.amount * BigInt(cmd.rateBp)) / BP_PER_UNIT;
  const advance = r.amount - discount;
  const legs: CashLeg[] = [{ from: cmd.bank, to: ctx.signer, amount: advance, memo: `advance on receivable ${cmd.id}` }];
  const cash = cashLegs(state, ctx, legs);
  if (isRejection(cash)) return cash;
  const data = {
    id: cmd.id,
    from: ctx.signer,
    bank: cmd.bank,
    rateBp: cmd.rateBp,
    amount: r.amount.toString(),
    discount: discount.toString(),
    advance: advance.toString(),
  };
  return [{ type: "ReceivableFinanced", assetId: receivableKey(cmd.id), parties: unionParties(r.parties, [cmd.bank]), data }, ...cash];
}

function settle(cmd: Extract<ReceivableCommand, { action: "settle" }>, state: StateSlice, ctx: TxContext): Decision {
  const root = load(state, cmd.id);
  if (isRejection(root)) return root;
  if (root.leaves === null) throw new InvariantError(`root receivable ${cmd.id} has no leaves`, "CONTRACT_STATE");
  if (ctx.signer !== root.debtor)
    return rejection("NOT_DEBTOR", `receivable ${cmd.id} is owed by ${root.debtor}; ${ctx.signer} cannot settle it`);
  if (root.status === "registered") return rejection("NOT_CONFIRMED", `receivable ${cmd.id} was never confirmed, so it cannot be settled`);
  if (root.settledAtMs !== null) return rejection("ALREADY_SETTLED", `receivable ${cmd.id} was settled at ${root.settledAtMs}`);
  if (ctx.blockTimeMs < root.dueMs)
    return rejection("NOT_MATURED", `receivable ${cmd.id} falls due at ${root.dueMs}; the block time is ${ctx.blockTimeMs}`);
  const leaves = matchLeaves(state, root, cmd.leaves);
  if (isRejection(leaves)) return leaves;
  const cash = cashLegs(
    state,
    ctx,
    leaves.map((l) => ({ from: root.debtor, to: l.holder, amount: l.r.amount, memo: `settlement of receivable ${l.r.id}` })),
  );
  if (isRejection(cash)) return cash;
  const payments = leaves.map((l) => ({ id: l.r.id, holder: l.holder, amount: l.r.amount.toString() }));
  const events: ContractEvent[] = leaves.map((l) => ({
    type: "ReceivablePaid",
    assetId: receivableKey(l.r.id),
    parties: l.r.parties,
    data: { id: l.r.id, root: root.id, debtor: root.debtor, holder: l.holder, amount: l.r.amount.toString(), settledAtMs: ctx.blockTimeMs },
  }));
  events.push({
    type: "ReceivableSettled",
    assetId: receivableKey(root.id),
    parties: unionParties(root.parties, ...leaves.map((l) => l.r.parties)),
    data: { id: root.id, debtor: root.debtor, total: root.amount.toString(), settledAtMs: ctx.blockTimeMs, payments },
  });
  return [...events, ...cash];
}

interface LiveLeaf {
  readonly r: ReceivableRecord;
  readonly holder: string;
}

// The command's leaves must be exactly the root's live leaves, each with its current holder: keys()
// named only those leaves and holders' cash accounts, so any other would not be loaded.
function matchLeaves(state: StateSlice, root: ReceivableRecord, named: readonly SettleLeaf[]): LiveLeaf[] | Rejection {
  const live = root.leaves ?? [];
  const byId = new Map(named.map((l) => [l.id, l.holder]));
  const missing = live.filter((id) => !byId.has(id));
  const extra = named.filter((l) => !live.includes(l.id)).map((l) => l.id);
  if (missing.length > 0 || extra.length > 0) {
    return rejection(
      "LEAVES_MISMATCH",
      `receivable ${root.id} has live leaves ${live.join(", ")}; the command misses [${missing.join(", ")}] and names others [${extra.join(", ")}]`,
    );
  }
  const out: LiveLeaf[] = [];
  for (const id of live) {
    const leaf = readRecord(state.get(receivableKey(id)), `receivable ${id}`);
    if (leaf.status !== "confirmed" || leaf.holder === null)
      throw new InvariantError(`live leaf ${id} of ${root.id} is ${leaf.status}`, "CONTRACT_STATE");
    const expected = byId.get(id);
    if (leaf.holder !== expected)
      return rejection("LEAVES_MISMATCH", `leaf ${id} of receivable ${root.id} is held by ${leaf.holder}, not ${expected}`);
    out.push({ r: leaf, holder: leaf.holder });
  }
  return out;
}

/** Decides one receivable command against the slice of its keys. */
export function decide(cmd: ReceivableCommand, state: StateSlice, ctx: TxContext): Decision {
  switch (cmd.action) {
    case "register":
      return register(cmd, state, ctx);
    case "confirm":
      return confirm(cmd, state, ctx);
    case "transfer":
      return transfer(cmd, state, ctx);
    case "split":
      return split(cmd, state, ctx);
    case "finance":
      return finance(cmd, state, ctx);
    case "settle":
      return settle(cmd, state, ctx);
    default: {
      const never: never = cmd;
      throw new InvariantError(`unknown receivable command ${(never as { action: string }).action}`, "CONTRACT_STATE");
    }
  }
}
