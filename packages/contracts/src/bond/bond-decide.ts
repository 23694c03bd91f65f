// The bond contract's decide: the rules of SCENARIOS.md §5, one case per action. Cash moves only
// through cashLegs, so a bond act and its payments happen in one transaction or not at all.
import { InvariantError, type JsonValue } from "@tally/ledger";
import { isRejection, rejection, type ContractEvent, type Rejection, type StateSlice, type TxContext } from "../contract.js";
import { cashBalanceIn, cashLegs, type CashLeg } from "../cash/cash.js";
import { WRITER_ROLES } from "../roles.js";
import { couponAmount, faceAmount, proRata } from "./bond-amounts.js";
import { BOND_PARTIES_MAX, HOLDERS_MAX, type BondCommand } from "./bond-commands.js";
import { bondKey, holdingKey, partySet, readBond, readHolding, type Bond, type Holding } from "./bond-state.js";

type Decision = readonly ContractEvent[] | Rejection;

function loadBond(state: StateSlice, id: string): Bond | Rejection {
  const v = state.get(bondKey(id));
  if (v === undefined) return rejection("UNKNOWN_BOND", `no bond ${id} is registered`);
  return readBond(v, `bond ${id}`);
}

function loadHolding(state: StateSlice, bond: string, holder: string): Holding | undefined {
  const v = state.get(holdingKey(bond, holder));
  return v === undefined ? undefined : readHolding(v, `holding ${bond}/${holder}`);
}

// A holder of record must have a holding: the bond's holder set and its holdings move together.
function holdingOfRecord(state: StateSlice, bond: Bond, holder: string): Holding {
  const h = loadHolding(state, bond.id, holder);
  if (h === undefined) throw new InvariantError(`bond ${bond.id} lists holder ${holder}, who has no holding`, "CONTRACT_STATE");
  return h;
}

function notIssuer(bond: Bond, signer: string, act: string): Rejection | undefined {
  if (signer === bond.issuer) return undefined;
  return rejection("NOT_ISSUER", `only ${bond.issuer}, the issuer of bond ${bond.id}, may ${act} it; ${signer} is not`);
}

// Coupons, trades and redemptions need an allotted bond.
function notAllotted(bond: Bond): Rejection | undefined {
  if (bond.status === "subscribing") return rejection("BOND_NOT_ALLOTTED", `bond ${bond.id} is not allotted yet`);
  if (bond.status === "redeemed") return rejection("BOND_REDEEMED", `bond ${bond.id} is redeemed`);
  return undefined;
}

/**
 * keys() cannot read state, so a command that pays or allots to everyone names them; it must name
 * exactly the set the bond holds, or the executor would not load everyone's entries.
 */
function mismatch(code: string, bond: Bond, what: string, named: readonly string[], expected: readonly string[]): Rejection | undefined {
  const missing = expected.filter((x) => !named.includes(x));
  const extra = named.filter((x) => !expected.includes(x));
  if (missing.length === 0 && extra.length === 0) return undefined;
  const parts = [
    missing.length > 0 ? `missing ${missing.join(", ")}` : "",
    extra.length > 0 ? `not ${what}: ${extra.join(", ")}` : "",
  ].filter((p) => p !== "");
  return rejection(code, `bond ${bond.id} has ${expected.length} ${what}; the command must name them exactly (${parts.join("; ")})`);
}

function decideRegister(cmd: Extract<BondCommand, { action: "register" }>, state: StateSlice, ctx: TxContext): Decision {
  const existing = state.get(bondKey(cmd.bond));
  if (existing !== undefined) {
    const b = readBond(existing, `bond ${cmd.bond}`);
    return rejection("ALREADY_REGISTERED", `bond ${cmd.bond} was already registered by ${b.issuer}`);
  }
  if (!(ctx.members.get(cmd.regulator)?.roles ?? []).includes("regulator")) {
    return rejection("NOT_REGULATOR", `${cmd.regulator} is not a member with the regulator role`);
  }
  if (cmd.subscriptionEndMs <= ctx.blockTimeMs) {
    return rejection(
      "SCHEDULE_IN_PAST",
      `bond ${cmd.bond}: the subscription window would end at ${cmd.subscriptionEndMs}, not after the block time ${ctx.blockTimeMs}`,
    );
  }
  const data = {
    bond: cmd.bond,
    issuer: ctx.signer,
    regulator: cmd.regulator,
    faceValue: cmd.faceValue.toString(),
    couponRateBp: cmd.couponRateBp,
    couponsPerYear: cmd.couponsPerYear,
    couponDatesMs: [...cmd.couponDatesMs],
    maturityMs: cmd.maturityMs,
    sizeUnits: cmd.sizeUnits.toString(),
    subscriptionEndMs: cmd.subscriptionEndMs,
    prospectusHash: cmd.prospectusHash ?? null,
    registeredAtMs: ctx.blockTimeMs,
  };
  return [{ type: "BondRegistered", assetId: bondKey(cmd.bond), parties: partySet(ctx.signer, cmd.regulator), data }];
}

function decideSubscribe(cmd: Extract<BondCommand, { action: "subscribe" }>, state: StateSlice, ctx: TxContext): Decision {
  const bond = loadBond(state, cmd.bond);
  if (isRejection(bond)) return bond;
  const investor = ctx.signer;
  if (investor === bond.issuer) return rejection("SELF_SUBSCRIPTION", `${investor} issues bond ${bond.id} and cannot subscribe to it`);
  if (bond.status !== "subscribing" || ctx.blockTimeMs >= bond.subscriptionEndMs) {
    return rejection(
      "SUBSCRIPTION_CLOSED",
      `bond ${bond.id} took subscriptions until ${bond.subscriptionEndMs}; the block time is ${ctx.blockTimeMs} and the bond is ${bond.status}`,
    );
  }
  const before = bond.subscriptions.find((s) => s.investor === investor);
  if (before === undefined && bond.subscriptions.length >= HOLDERS_MAX) {
    return rejection("TOO_MANY_SUBSCRIBERS", `bond ${bond.id} already has ${bond.subscriptions.length} subscribers, the most allowed`);
  }
  const demandUnits = (before?.units ?? 0n) + cmd.units;
  if (demandUnits > bond.sizeUnits) {
    return rejection(
      "SUBSCRIPTION_OVER_SIZE",
      `${investor} would ask for ${demandUnits} units of bond ${bond.id}, more than its size of ${bond.sizeUnits}`,
    );
  }
  const data = { bond: bond.id, investor, units: cmd.units.toString(), demandUnits: demandUnits.toString() };
  return [{ type: "BondSubscribed", assetId: bondKey(bond.id), parties: partySet(investor, bond.issuer, bond.regulator), data }];
}

function decideAllot(cmd: Extract<BondCommand, { action: "allot" }>, state: StateSlice, ctx: TxContext): Decision {
  const bond = loadBond(state, cmd.bond);
  if (isRejection(bond)) return bond;
  const forbidden = notIssuer(bond, ctx.signer, "allot");
  if (forbidden !== undefined) return forbidden;
  if (bond.status !== "subscribing") return rejection("ALREADY_ALLOTTED", `bond ${bond.id} is already allotted`);
  if (ctx.blockTimeMs < bond.subscriptionEndMs) {
    return rejection(
      "SUBSCRIPTION_OPEN",
      `bond ${bond.id} takes subscriptions until ${bond.subscriptionEndMs}; the block time is ${ctx.blockTimeMs}`,
    );
  }
  if (ctx.blockTimeMs >= bond.maturityMs) return rejection("BOND_MATURED", `bond ${bond.id} matured at ${bond.maturityMs}`);
  const investors = bond.subscriptions.map((s) => s.investor);
  const wrong = mismatch("SUBSCRIBERS_MISMATCH", bond, "subscribers", cmd.subscribers, investors);
  if (wrong !== undefined) return wrong;
  const shares = proRata(
    bond.subscriptions.map((s) => s.units),
    bond.sizeUnits,
  );
  // An investor that cannot pay for its share when the issuer allots is skipped: it gets nothing
  // and its share is not issued. One investor short of cash must not block everyone else's issue.
  const allotments: JsonValue[] = [];
  const legs: CashLeg[] = [];
  const issued: { holder: string; units: bigint; cost: bigint }[] = [];
  bond.subscriptions.forEach((s, i) => {
    const share = shares[i] ?? 0n;
    const cost = faceAmount(bond.faceValue, share);
    const paid = share > 0n && cashBalanceIn(state, s.investor) >= cost;
    allotments.push({
      investor: s.investor,
      demandUnits: s.units.toString(),
      allottedUnits: share.toString(),
      paid,
      units: (paid ? share : 0n).toString(),
    });
    if (paid) {
      legs.push({ from: s.investor, to: bond.issuer, amount: cost, memo: `bond ${bond.id} allotment` });
      issued.push({ holder: s.investor, units: share, cost });
    }
  });
  const cash = cashLegs(state, ctx, legs);
  if (isRejection(cash)) return cash;
  const unitsAllotted = issued.reduce((sum, x) => sum + x.units, 0n);
  const events: ContractEvent[] = [
    {
      type: "BondAllotted",
      assetId: bondKey(bond.id),
      parties: partySet(bond.issuer, bond.regulator, ...investors),
      data: { bond: bond.id, allotments, unitsAllotted: unitsAllotted.toString() },
    },
  ];
  for (const x of issued) {
    events.push({
      type: "UnitsAllotted",
      assetId: holdingKey(bond.id, x.holder),
      parties: partySet(x.holder, bond.issuer, bond.regulator),
      data: { bond: bond.id, holder: x.holder, units: x.units.toString(), cost: x.cost.toString() },
    });
  }
  return [...events, ...cash];
}

function decideTransfer(cmd: Extract<BondCommand, { action: "transfer" }>, state: StateSlice, ctx: TxContext): Decision {
  const bond = loadBond(state, cmd.bond);
  if (isRejection(bond)) return bond;
  const { seller, buyer } = cmd;
  if (seller === buyer) return rejection("SELF_TRANSFER", `${seller} cannot transfer bond ${bond.id} units to itself`);
  if (ctx.signer !== seller && ctx.signer !== buyer) {
    return rejection("NOT_PARTY", `${ctx.signer} is neither the seller ${seller} nor the buyer ${buyer}`);
  }
  for (const party of [seller, buyer]) {
    if (!ctx.signers.includes(party)) {
      return rejection("MISSING_SIGNATURE", `a transfer of bond ${bond.id} needs both ${seller} and ${buyer} to sign; ${party} did not`);
    }
    const roles = ctx.members.get(party)?.roles ?? [];
    if (!roles.some((r) => WRITER_ROLES.includes(r))) {
      return rejection("FORBIDDEN_ROLE", `${party} holds no role that may trade bond ${bond.id}`);
    }
  }
  const closed = notAllotted(bond);
  if (closed !== undefined) return closed;
  if (ctx.blockTimeMs >= bond.maturityMs) {
    return rejection("BOND_MATURED", `bond ${bond.id} matured at ${bond.maturityMs}; its units no longer trade`);
  }
  const from = loadHolding(state, bond.id, seller);
  const to = loadHolding(state, bond.id, buyer);
  for (const h of [from, to]) {
    if (h?.frozen === true) {
      return rejection("HOLDING_FROZEN", `the holding of ${h.holder} in bond ${bond.id} is frozen by ${bond.regulator}`);
    }
  }
  const held = from?.units ?? 0n;
  if (held < cmd.units) {
    return rejection("INSUFFICIENT_UNITS", `${seller} holds ${held} units of bond ${bond.id}, fewer than ${cmd.units}`);
  }
  const sellerUnitsAfter = held - cmd.units;
  const buyerUnitsAfter = (to?.units ?? 0n) + cmd.units;
  const holders = bond.holders.filter((h) => h !== seller || sellerUnitsAfter > 0n);
  if (!holders.includes(buyer)) holders.push(buyer);
  if (holders.length > HOLDERS_MAX) {
    return rejection(
      "TOO_MANY_HOLDERS",
      `bond ${bond.id} has ${bond.holders.length} holders; ${buyer} would pass the limit of ${HOLDERS_MAX}`,
    );
  }
  if (!bond.parties.includes(buyer) && bond.parties.length >= BOND_PARTIES_MAX) {
    return rejection("TOO_MANY_PARTIES", `bond ${bond.id} has had ${bond.parties.length} parties, the most allowed`);
  }
  const cash = cashLegs(state, ctx, [{ from: buyer, to: seller, amount: cmd.price, memo: `bond ${bond.id} ${cmd.units} units` }]);
  if (isRejection(cash)) return cash;
  const parties = partySet(seller, buyer, bond.issuer, bond.regulator);
  const data = {
    bond: bond.id,
    seller,
    buyer,
    units: cmd.units.toString(),
    price: cmd.price.toString(),
    sellerUnitsAfter: sellerUnitsAfter.toString(),
    buyerUnitsAfter: buyerUnitsAfter.toString(),
  };
  return [
    { type: "BondTraded", assetId: bondKey(bond.id), parties, data },
    { type: "UnitsDelivered", assetId: holdingKey(bond.id, seller), parties, data },
    { type: "UnitsReceived", assetId: holdingKey(bond.id, buyer), parties, data },
    ...cash,
  ];
}

// Pays every holder of record, from the issuer, in the bond's sorted holder order.
function payHolders(
  state: StateSlice,
  ctx: TxContext,
  bond: Bond,
  amountOf: (units: bigint) => bigint,
  memo: string,
): { payments: { holder: string; units: bigint; amount: bigint }[]; cash: ContractEvent[] } | Rejection {
  const payments = bond.holders.map((holder) => {
    const units = holdingOfRecord(state, bond, holder).units;
    return { holder, units, amount: amountOf(units) };
  });
  const cash = cashLegs(
    state,
    ctx,
    payments.map((p) => ({ from: bond.issuer, to: p.holder, amount: p.amount, memo })),
  );
  return isRejection(cash) ? cash : { payments, cash };
}

function paymentsJson(payments: readonly { holder: string; units: bigint; amount: bigint }[]): JsonValue[] {
  return payments.map((p) => ({ holder: p.holder, units: p.units.toString(), amount: p.amount.toString() }));
}

function decideCoupon(cmd: Extract<BondCommand, { action: "coupon" }>, state: StateSlice, ctx: TxContext): Decision {
  const bond = loadBond(state, cmd.bond);
  if (isRejection(bond)) return bond;
  const forbidden = notIssuer(bond, ctx.signer, "pay coupons on");
  if (forbidden !== undefined) return forbidden;
  const closed = notAllotted(bond);
  if (closed !== undefined) return closed;
  const date = cmd.couponDateMs;
  if (!bond.couponDatesMs.includes(date)) {
    return rejection("UNKNOWN_COUPON_DATE", `${date} is not a coupon date of bond ${bond.id} (${bond.couponDatesMs.join(", ")})`);
  }
  if (bond.couponsPaidMs.includes(date))
    return rejection("COUPON_ALREADY_PAID", `the coupon of bond ${bond.id} due ${date} is already paid`);
  if (ctx.blockTimeMs < date) {
    return rejection("COUPON_NOT_DUE", `the coupon of bond ${bond.id} is due at ${date}; the block time is ${ctx.blockTimeMs}`);
  }
  const wrong = mismatch("HOLDERS_MISMATCH", bond, "holders", cmd.holders, bond.holders);
  if (wrong !== undefined) return wrong;
  const paid = payHolders(
    state,
    ctx,
    bond,
    (units) => couponAmount(bond.faceValue, units, bond.couponRateBp, bond.couponsPerYear),
    `bond ${bond.id} coupon ${date}`,
  );
  if (isRejection(paid)) return paid;
  const total = paid.payments.reduce((sum, p) => sum + p.amount, 0n);
  const data = { bond: bond.id, couponDateMs: date, payments: paymentsJson(paid.payments), total: total.toString() };
  const parties = partySet(bond.issuer, bond.regulator, ...bond.holders);
  return [{ type: "CouponPaid", assetId: bondKey(bond.id), parties, data }, ...paid.cash];
}

function decideRedeem(cmd: Extract<BondCommand, { action: "redeem" }>, state: StateSlice, ctx: TxContext): Decision {
  const bond = loadBond(state, cmd.bond);
  if (isRejection(bond)) return bond;
  const forbidden = notIssuer(bond, ctx.signer, "redeem");
  if (forbidden !== undefined) return forbidden;
  if (bond.status === "subscribing") return rejection("BOND_NOT_ALLOTTED", `bond ${bond.id} is not allotted yet`);
  if (bond.status === "redeemed") return rejection("ALREADY_REDEEMED", `bond ${bond.id} is already redeemed`);
  if (ctx.blockTimeMs < bond.maturityMs) {
    return rejection("NOT_MATURED", `bond ${bond.id} matures at ${bond.maturityMs}; the block time is ${ctx.blockTimeMs}`);
  }
  const unpaid = bond.couponDatesMs.filter((d) => !bond.couponsPaidMs.includes(d));
  if (unpaid.length > 0) {
    return rejection("COUPONS_UNPAID", `bond ${bond.id} cannot be redeemed before its coupons due ${unpaid.join(", ")} are paid`);
  }
  const wrong = mismatch("HOLDERS_MISMATCH", bond, "holders", cmd.holders, bond.holders);
  if (wrong !== undefined) return wrong;
  const paid = payHolders(state, ctx, bond, (units) => faceAmount(bond.faceValue, units), `bond ${bond.id} redemption`);
  if (isRejection(paid)) return paid;
  const total = paid.payments.reduce((sum, p) => sum + p.amount, 0n);
  const events: ContractEvent[] = [
    {
      type: "BondRedeemed",
      assetId: bondKey(bond.id),
      parties: partySet(bond.issuer, bond.regulator, ...bond.holders),
      data: { bond: bond.id, payments: paymentsJson(paid.payments), total: total.toString() },
    },
  ];
  for (const p of paid.payments) {
    events.push({
      type: "UnitsRedeemed",
      assetId: holdingKey(bond.id, p.holder),
      parties: partySet(p.holder, bond.issuer, bond.regulator),
      data: { bond: bond.id, holder: p.holder, units: p.units.toString(), amount: p.amount.toString() },
    });
  }
  return [...events, ...paid.cash];
}

function decideFreeze(cmd: Extract<BondCommand, { action: "freeze" | "unfreeze" }>, state: StateSlice, ctx: TxContext): Decision {
  const bond = loadBond(state, cmd.bond);
  if (isRejection(bond)) return bond;
  if (ctx.signer !== bond.regulator) {
    return rejection("NOT_BOND_REGULATOR", `only ${bond.regulator}, the regulator of bond ${bond.id}, may ${cmd.action} its holdings`);
  }
  const holding = loadHolding(state, bond.id, cmd.holder);
  if (holding === undefined) return rejection("NO_HOLDING", `${cmd.holder} holds no units of bond ${bond.id}`);
  const parties = partySet(cmd.holder, bond.issuer, bond.regulator);
  const assetId = holdingKey(bond.id, cmd.holder);
  if (cmd.action === "freeze") {
    if (holding.frozen) return rejection("ALREADY_FROZEN", `the holding of ${cmd.holder} in bond ${bond.id} is already frozen`);
    const data = { bond: bond.id, holder: cmd.holder, regulator: ctx.signer, reason: cmd.reason ?? null };
    return [{ type: "HoldingFrozen", assetId, parties, data }];
  }
  if (!holding.frozen) return rejection("NOT_FROZEN", `the holding of ${cmd.holder} in bond ${bond.id} is not frozen`);
  return [{ type: "HoldingUnfrozen", assetId, parties, data: { bond: bond.id, holder: cmd.holder, regulator: ctx.signer } }];
}

/** Decides a bond command against the slice its keys named. */
export function decideBond(cmd: BondCommand, state: StateSlice, ctx: TxContext): Decision {
  switch (cmd.action) {
    case "register":
      return decideRegister(cmd, state, ctx);
    case "subscribe":
      return decideSubscribe(cmd, state, ctx);
    case "allot":
      return decideAllot(cmd, state, ctx);
    case "transfer":
      return decideTransfer(cmd, state, ctx);
    case "coupon":
      return decideCoupon(cmd, state, ctx);
    case "redeem":
      return decideRedeem(cmd, state, ctx);
    case "freeze":
    case "unfreeze":
      return decideFreeze(cmd, state, ctx);
    default: {
      const never: never = cmd;
      throw new InvariantError(`unknown bond command ${(never as { action: string }).action}`, "CONTRACT_STATE");
    }
  }
}
