// Loyalty points (SCENARIOS.md §8, the seed's insurance points). Each issuer's points are their own
// asset: `bal/<issuer>/<holder>`. Points are only ever minted by their issuer and moved, never
// lost: minted = every balance + every envelope's unclaimed, unrefunded points.
// - mint: an issuer mints its points to a member (itself included: its treasury).
// - transfer: a holder moves points of one issuer to another member.
// - envelope: a red envelope. The sender locks N points of one issuer into K packets (at least one
//   point each, summing to N: an even split, or a "lucky" one derived from the tx id), for named
//   recipients (one packet each) or for anyone, until an expiry by block time.
// - claim: a member takes its packet (named) or the next unclaimed one (open); one packet per
//   member, never twice, not the sender's own, not after expiry.
// - refund: from expiry, the sender takes back what no one claimed, once.
// - agree-rate: two issuers agree, both signing the same transaction, that xUnits of x's points
//   exchange for yUnits of y's. Agreeing again replaces the rate.
// - exchange: a holder gives `amount` of issuer A's points and receives floor(amount × rate) of B's
//   at the agreed rate: A's points go to B's treasury and B's come out of it, both legs in one act.
import { InvariantError, type JsonValue } from "@tally/ledger";
import { isRejection, rejection, type Contract, type ContractEvent, type Rejection, type StateSlice, type TxContext } from "../contract.js";
import { BALANCE_MAX } from "../cash/cash.js";
import { eraseContract, eraseQuery } from "../erase-contract.js";
import { WRITER_ROLES } from "../roles.js";
import { identifier, integer, optionalString, parseArgs, positiveAmount, timeMs, type Args } from "../schema.js";
import { readArray, readDecimal, readInteger, readObject, readString, readStringArray } from "../state-read.js";
import { holdsRole, oneOf, optionalDistinctArrayOf, partiesOf, requireSignature } from "../supply/supply-fields.js";
import {
  ENVELOPE_TERM_MAX_MS,
  MEMO_LENGTH_MAX,
  PACKETS_MAX,
  POINTS_CONTRACT,
  SPLITS,
  balanceIn,
  balanceKey,
  balanceValue,
  envelopeIn,
  envelopeKey,
  envelopeValue,
  exchanged,
  mintedIn,
  rateIn,
  rateKey,
  ratePair,
  rateValue,
  splitPackets,
  supplyKey,
  unclaimed,
  type Envelope,
  type Split,
} from "./points-state.js";

/** A points command, one per action. */
export type PointsCommand =
  | { readonly action: "mint"; readonly to: string; readonly amount: bigint }
  | {
      readonly action: "transfer";
      readonly issuer: string;
      readonly to: string;
      readonly amount: bigint;
      readonly memo: string | undefined;
    }
  | {
      readonly action: "envelope";
      readonly issuer: string;
      readonly id: string;
      readonly amount: bigint;
      readonly packets: number;
      readonly recipients: readonly string[] | undefined;
      readonly split: Split;
      readonly expiresAtMs: number;
    }
  | { readonly action: "claim"; readonly issuer: string; readonly id: string }
  | { readonly action: "refund"; readonly issuer: string; readonly id: string }
  | { readonly action: "agree-rate"; readonly counterparty: string; readonly units: bigint; readonly counterpartyUnits: bigint }
  | { readonly action: "exchange"; readonly from: string; readonly to: string; readonly amount: bigint };

const parsers = {
  mint: (args: Args): PointsCommand | Rejection => {
    const a = parseArgs(args, { to: identifier, amount: positiveAmount });
    return isRejection(a) ? a : { action: "mint", ...a };
  },
  transfer: (args: Args): PointsCommand | Rejection => {
    const a = parseArgs(args, { issuer: identifier, to: identifier, amount: positiveAmount, memo: optionalString(MEMO_LENGTH_MAX) });
    return isRejection(a) ? a : { action: "transfer", ...a };
  },
  envelope: (args: Args): PointsCommand | Rejection => {
    const a = parseArgs(args, {
      issuer: identifier,
      id: identifier,
      amount: positiveAmount,
      packets: integer(1, PACKETS_MAX),
      recipients: optionalDistinctArrayOf(identifier, PACKETS_MAX),
      split: (v: Args, name: string) => (Object.hasOwn(v, name) ? oneOf(SPLITS)(v, name) : "even"),
      expiresAtMs: timeMs,
    });
    if (isRejection(a)) return a;
    if (a.recipients !== undefined && a.recipients.length !== a.packets) {
      return rejection("BAD_ARGS", `recipients must name one member per packet: ${a.recipients.length} names for ${a.packets} packets`);
    }
    return { action: "envelope", ...a };
  },
  claim: (args: Args): PointsCommand | Rejection => {
    const a = parseArgs(args, { issuer: identifier, id: identifier });
    return isRejection(a) ? a : { action: "claim", ...a };
  },
  refund: (args: Args): PointsCommand | Rejection => {
    const a = parseArgs(args, { issuer: identifier, id: identifier });
    return isRejection(a) ? a : { action: "refund", ...a };
  },
  "agree-rate": (args: Args): PointsCommand | Rejection => {
    const a = parseArgs(args, { counterparty: identifier, units: positiveAmount, counterpartyUnits: positiveAmount });
    return isRejection(a) ? a : { action: "agree-rate", ...a };
  },
  exchange: (args: Args): PointsCommand | Rejection => {
    const a = parseArgs(args, { from: identifier, to: identifier, amount: positiveAmount });
    return isRejection(a) ? a : { action: "exchange", ...a };
  },
} as const;

type Events = readonly ContractEvent[] | Rejection;

function unknownCommand(cmd: never): never {
  throw new InvariantError(`unknown points command ${(cmd as { action: string }).action}`, "CONTRACT_STATE");
}

function insufficient(state: StateSlice, issuer: string, holder: string, amount: bigint): Rejection | undefined {
  const have = balanceIn(state, issuer, holder);
  if (have >= amount) return undefined;
  return rejection("INSUFFICIENT_POINTS", `${holder} holds ${have} points of ${issuer}, less than ${amount}`);
}

function overLimit(state: StateSlice, issuer: string, holder: string, amount: bigint): Rejection | undefined {
  const after = balanceIn(state, issuer, holder) + amount;
  if (after <= BALANCE_MAX) return undefined;
  return rejection("BALANCE_LIMIT", `${holder} would hold ${after} points of ${issuer}, above the limit of ${BALANCE_MAX}`);
}

function unknownMember(ctx: TxContext, who: string): Rejection | undefined {
  return ctx.members.has(who) ? undefined : rejection("UNKNOWN_MEMBER", `${who} is not a member and cannot hold points`);
}

function first(...checks: readonly (Rejection | undefined)[]): Rejection | undefined {
  return checks.find((c) => c !== undefined);
}

function envelopeEvent(type: string, e: Envelope, parties: readonly string[], data: { readonly [k: string]: JsonValue }): ContractEvent {
  return { type, assetId: envelopeKey(e.issuer, e.id), parties: [...parties], data: { issuer: e.issuer, id: e.id, ...data } };
}

function loadedEnvelope(state: StateSlice, issuer: string, id: string): Envelope | Rejection {
  return envelopeIn(state, issuer, id) ?? rejection("UNKNOWN_ENVELOPE", `there is no red envelope ${id} of ${issuer} points`);
}

function decideEnvelope(cmd: Extract<PointsCommand, { action: "envelope" }>, state: StateSlice, ctx: TxContext): Events {
  const sender = ctx.signer;
  if (state.has(envelopeKey(cmd.issuer, cmd.id)))
    return rejection("ENVELOPE_EXISTS", `red envelope ${cmd.id} of ${cmd.issuer} already exists`);
  if (cmd.amount < BigInt(cmd.packets)) {
    return rejection("TOO_FEW_POINTS", `${cmd.amount} points cannot fill ${cmd.packets} packets of at least 1 point each`);
  }
  if (cmd.expiresAtMs <= ctx.blockTimeMs)
    return rejection("EXPIRY_NOT_FUTURE", `expiry ${cmd.expiresAtMs} is not after ${ctx.blockTimeMs}`);
  if (cmd.expiresAtMs - ctx.blockTimeMs > ENVELOPE_TERM_MAX_MS) {
    return rejection("TERM_TOO_LONG", `expiry ${cmd.expiresAtMs} is more than ${ENVELOPE_TERM_MAX_MS} ms after ${ctx.blockTimeMs}`);
  }
  for (const r of cmd.recipients ?? []) {
    if (r === sender) return rejection("SELF_RECIPIENT", `${sender} cannot name itself among the recipients of its own red envelope`);
    const bad = unknownMember(ctx, r);
    if (bad !== undefined) return bad;
  }
  const short = insufficient(state, cmd.issuer, sender, cmd.amount);
  if (short !== undefined) return short;
  const amounts = splitPackets(cmd.amount, cmd.packets, cmd.split, ctx.txId);
  const packets = amounts.map((a, i) => ({ amount: a.toString(), recipient: cmd.recipients?.[i] ?? null }));
  const data = {
    issuer: cmd.issuer,
    id: cmd.id,
    sender,
    amount: cmd.amount.toString(),
    split: cmd.split,
    packets,
    atMs: ctx.blockTimeMs,
    expiresAtMs: cmd.expiresAtMs,
  };
  return [
    { type: "EnvelopeLocked", assetId: envelopeKey(cmd.issuer, cmd.id), parties: partiesOf(sender, ...(cmd.recipients ?? [])), data },
  ];
}

function decideClaim(cmd: Extract<PointsCommand, { action: "claim" }>, state: StateSlice, ctx: TxContext): Events {
  const e = loadedEnvelope(state, cmd.issuer, cmd.id);
  if (isRejection(e)) return e;
  const who = ctx.signer;
  if (e.refunded !== null) return rejection("ENVELOPE_REFUNDED", `red envelope ${e.id} was refunded to ${e.sender} at ${e.refundedAtMs}`);
  if (ctx.blockTimeMs >= e.expiresAtMs) return rejection("ENVELOPE_EXPIRED", `red envelope ${e.id} expired at ${e.expiresAtMs}`);
  if (who === e.sender) return rejection("OWN_ENVELOPE", `${who} cannot claim a packet of its own red envelope ${e.id}`);
  const mine = e.packets.findIndex((p) => p.claimedBy === who);
  if (mine >= 0) return rejection("ALREADY_CLAIMED", `${who} already claimed packet ${mine + 1} of red envelope ${e.id}`);
  const named = e.packets.some((p) => p.recipient !== null);
  const index = named ? e.packets.findIndex((p) => p.recipient === who) : e.packets.findIndex((p) => p.claimedBy === null);
  if (named && index < 0) return rejection("NOT_RECIPIENT", `${who} is not among the recipients of red envelope ${e.id}`);
  if (index < 0) return rejection("ENVELOPE_EMPTY", `every packet of red envelope ${e.id} has been claimed`);
  const packet = e.packets[index]!;
  const bad = overLimit(state, e.issuer, who, packet.amount);
  if (bad !== undefined) return bad;
  const data = { claimant: who, packet: index + 1, amount: packet.amount.toString(), atMs: ctx.blockTimeMs };
  return [envelopeEvent("PacketClaimed", e, partiesOf(...e.parties, who), data)];
}

function decideRefund(cmd: Extract<PointsCommand, { action: "refund" }>, state: StateSlice, ctx: TxContext): Events {
  const e = loadedEnvelope(state, cmd.issuer, cmd.id);
  if (isRejection(e)) return e;
  if (ctx.signer !== e.sender) return rejection("NOT_SENDER", `only the sender ${e.sender} may refund red envelope ${e.id}`);
  if (e.refunded !== null) return rejection("ALREADY_REFUNDED", `red envelope ${e.id} was already refunded at ${e.refundedAtMs}`);
  if (ctx.blockTimeMs < e.expiresAtMs) {
    return rejection("NOT_EXPIRED", `red envelope ${e.id} expires at ${e.expiresAtMs}; it cannot be refunded at ${ctx.blockTimeMs}`);
  }
  const left = unclaimed(e);
  if (left === 0n) return rejection("NOTHING_TO_REFUND", `every packet of red envelope ${e.id} was claimed`);
  const bad = overLimit(state, e.issuer, e.sender, left);
  if (bad !== undefined) return bad;
  return [envelopeEvent("EnvelopeRefunded", e, e.parties, { sender: e.sender, amount: left.toString(), atMs: ctx.blockTimeMs })];
}

function decideAgreeRate(cmd: Extract<PointsCommand, { action: "agree-rate" }>, ctx: TxContext): Events {
  const issuer = ctx.signer;
  if (cmd.counterparty === issuer) return rejection("SAME_PARTY", `${issuer} cannot agree an exchange rate with itself`);
  if (!holdsRole(ctx, cmd.counterparty, "issuer")) {
    return rejection("INELIGIBLE_PARTY", `${cmd.counterparty} is not a points issuer and cannot agree an exchange rate`);
  }
  const unsigned = requireSignature(ctx, cmd.counterparty, `an exchange rate between ${issuer} and ${cmd.counterparty}`);
  if (unsigned !== undefined) return unsigned;
  const [x, y] = ratePair(issuer, cmd.counterparty);
  const [xUnits, yUnits] = x === issuer ? [cmd.units, cmd.counterpartyUnits] : [cmd.counterpartyUnits, cmd.units];
  const data = {
    x,
    y,
    xUnits: xUnits.toString(),
    yUnits: yUnits.toString(),
    atMs: ctx.blockTimeMs,
    txId: ctx.txId,
    signers: [issuer, cmd.counterparty],
  };
  return [{ type: "RateAgreed", assetId: rateKey(x, y), parties: [x, y], data }];
}

function decideExchange(cmd: Extract<PointsCommand, { action: "exchange" }>, state: StateSlice, ctx: TxContext): Events {
  const user = ctx.signer;
  if (cmd.from === cmd.to) return rejection("SAME_ISSUER", `${cmd.from}'s points cannot be exchanged for themselves`);
  if (user === cmd.to) return rejection("SAME_PARTY", `${user} cannot exchange into its own points with itself`);
  const rate = rateIn(state, cmd.from, cmd.to);
  if (rate === undefined) return rejection("NO_RATE", `${cmd.from} and ${cmd.to} have not agreed an exchange rate`);
  const got = exchanged(rate, cmd.from, cmd.amount);
  if (got === 0n) return rejection("AMOUNT_TOO_SMALL", `${cmd.amount} points of ${cmd.from} fetch no whole point of ${cmd.to} at the rate`);
  const bad = first(
    insufficient(state, cmd.from, user, cmd.amount),
    insufficient(state, cmd.to, cmd.to, got),
    overLimit(state, cmd.from, cmd.to, cmd.amount),
    overLimit(state, cmd.to, user, got),
  );
  if (bad !== undefined) return bad;
  const data = { user, from: cmd.from, to: cmd.to, gave: cmd.amount.toString(), got: got.toString(), atMs: ctx.blockTimeMs };
  return [{ type: "PointsExchanged", assetId: balanceKey(cmd.from, user), parties: partiesOf(user, cmd.from, cmd.to), data }];
}

function decide(cmd: PointsCommand, state: StateSlice, ctx: TxContext): Events {
  switch (cmd.action) {
    case "mint": {
      const bad = first(unknownMember(ctx, cmd.to), overLimit(state, ctx.signer, cmd.to, cmd.amount));
      if (bad !== undefined) return bad;
      if (mintedIn(state, ctx.signer) + cmd.amount > BALANCE_MAX) {
        return rejection("SUPPLY_LIMIT", `${ctx.signer} would have minted more than ${BALANCE_MAX} points`);
      }
      const data = { issuer: ctx.signer, to: cmd.to, amount: cmd.amount.toString(), atMs: ctx.blockTimeMs };
      return [{ type: "PointsMinted", assetId: balanceKey(ctx.signer, cmd.to), parties: partiesOf(ctx.signer, cmd.to), data }];
    }
    case "transfer": {
      const from = ctx.signer;
      if (cmd.to === from) return rejection("SELF_TRANSFER", `${from} cannot transfer points to itself`);
      const bad = first(
        unknownMember(ctx, cmd.to),
        insufficient(state, cmd.issuer, from, cmd.amount),
        overLimit(state, cmd.issuer, cmd.to, cmd.amount),
      );
      if (bad !== undefined) return bad;
      const data = { issuer: cmd.issuer, from, to: cmd.to, amount: cmd.amount.toString(), memo: cmd.memo ?? null, atMs: ctx.blockTimeMs };
      return [{ type: "PointsTransferred", assetId: balanceKey(cmd.issuer, from), parties: partiesOf(from, cmd.to), data }];
    }
    case "envelope":
      return decideEnvelope(cmd, state, ctx);
    case "claim":
      return decideClaim(cmd, state, ctx);
    case "refund":
      return decideRefund(cmd, state, ctx);
    case "agree-rate":
      return decideAgreeRate(cmd, ctx);
    case "exchange":
      return decideExchange(cmd, state, ctx);
    default:
      return unknownCommand(cmd);
  }
}

function keys(cmd: PointsCommand, ctx: TxContext): readonly string[] {
  const me = ctx.signer;
  switch (cmd.action) {
    case "mint":
      return [balanceKey(me, cmd.to), supplyKey(me)];
    case "transfer":
      return [balanceKey(cmd.issuer, me), balanceKey(cmd.issuer, cmd.to)];
    case "envelope":
    case "claim":
    case "refund":
      return [envelopeKey(cmd.issuer, cmd.id), balanceKey(cmd.issuer, me)];
    case "agree-rate":
      return [rateKey(me, cmd.counterparty)];
    case "exchange":
      return [
        rateKey(cmd.from, cmd.to),
        balanceKey(cmd.from, me),
        balanceKey(cmd.from, cmd.to),
        balanceKey(cmd.to, cmd.to),
        balanceKey(cmd.to, me),
      ];
    default:
      return unknownCommand(cmd);
  }
}

function broken(message: string): never {
  throw new InvariantError(message, "CONTRACT_STATE");
}

// The balance moved by delta, refusing to go negative (decide checked it).
function moved(state: StateSlice, issuer: string, holder: string, delta: bigint): [string, JsonValue] {
  const after = balanceIn(state, issuer, holder) + delta;
  if (after < 0n) broken(`points of ${issuer} held by ${holder} would be ${after}`);
  return [balanceKey(issuer, holder), balanceValue(after)];
}

function existingEnvelope(state: StateSlice, issuer: string, id: string, type: string): Envelope {
  return envelopeIn(state, issuer, id) ?? broken(`${type} for red envelope ${issuer}/${id}, which does not exist`);
}

function evolve(state: StateSlice, event: ContractEvent): ReadonlyMap<string, JsonValue | null> {
  const what = `points ${event.type}`;
  const data = readObject(event.data, what);
  const atMs = readInteger(data, "atMs", what);
  switch (event.type) {
    case "PointsMinted": {
      const issuer = readString(data, "issuer", what);
      const amount = readDecimal(data, "amount", what);
      return new Map([
        moved(state, issuer, readString(data, "to", what), amount),
        [supplyKey(issuer), { minted: (mintedIn(state, issuer) + amount).toString() }],
      ]);
    }
    case "PointsTransferred": {
      const issuer = readString(data, "issuer", what);
      const amount = readDecimal(data, "amount", what);
      const from = moved(state, issuer, readString(data, "from", what), -amount);
      return new Map([from, moved(new Map([...state, from]), issuer, readString(data, "to", what), amount)]);
    }
    case "EnvelopeLocked": {
      const issuer = readString(data, "issuer", what);
      const id = readString(data, "id", what);
      if (state.has(envelopeKey(issuer, id))) broken(`red envelope ${issuer}/${id} locked twice`);
      const sender = readString(data, "sender", what);
      const amount = readDecimal(data, "amount", what);
      const packets = readArray(data, "packets", what).map((p) => {
        const o = readObject(p, `${what} packet`);
        const recipient = o.recipient === null ? null : readString(o, "recipient", `${what} packet`);
        return { amount: readDecimal(o, "amount", `${what} packet`), recipient, claimedBy: null, claimedAtMs: null };
      });
      if (packets.reduce((a, p) => a + p.amount, 0n) !== amount) broken(`red envelope ${issuer}/${id}: packets do not sum to ${amount}`);
      const recipients = packets.flatMap((p) => (p.recipient === null ? [] : [p.recipient]));
      const e: Envelope = {
        issuer,
        id,
        sender,
        amount,
        split: readString(data, "split", what) === "lucky" ? "lucky" : "even",
        packets,
        createdAtMs: atMs,
        expiresAtMs: readInteger(data, "expiresAtMs", what),
        refunded: null,
        refundedAtMs: null,
        parties: partiesOf(sender, ...recipients),
      };
      return new Map([moved(state, issuer, sender, -amount), [envelopeKey(issuer, id), envelopeValue(e)]]);
    }
    case "PacketClaimed": {
      const e = existingEnvelope(state, readString(data, "issuer", what), readString(data, "id", what), event.type);
      const claimant = readString(data, "claimant", what);
      const n = readInteger(data, "packet", what);
      const packet = e.packets[n - 1] ?? broken(`${event.type}: red envelope ${e.id} has no packet ${n}`);
      if (packet.claimedBy !== null) broken(`packet ${n} of red envelope ${e.id} claimed twice`);
      const packets = e.packets.map((p, i) => (i === n - 1 ? { ...p, claimedBy: claimant, claimedAtMs: atMs } : p));
      return new Map([
        [envelopeKey(e.issuer, e.id), envelopeValue({ ...e, packets, parties: partiesOf(...e.parties, claimant) })],
        moved(state, e.issuer, claimant, packet.amount),
      ]);
    }
    case "EnvelopeRefunded": {
      const e = existingEnvelope(state, readString(data, "issuer", what), readString(data, "id", what), event.type);
      const amount = readDecimal(data, "amount", what);
      if (e.refunded !== null || amount !== unclaimed(e)) broken(`red envelope ${e.id} refunded ${amount} of ${unclaimed(e)} unclaimed`);
      return new Map([
        [envelopeKey(e.issuer, e.id), envelopeValue({ ...e, refunded: amount, refundedAtMs: atMs })],
        moved(state, e.issuer, e.sender, amount),
      ]);
    }
    case "RateAgreed": {
      const x = readString(data, "x", what);
      const y = readString(data, "y", what);
      readStringArray(data.signers, `${what} signers`);
      const rate = {
        x,
        y,
        xUnits: readDecimal(data, "xUnits", what),
        yUnits: readDecimal(data, "yUnits", what),
        agreedAtMs: atMs,
        txId: readString(data, "txId", what),
      };
      return new Map([[rateKey(x, y), rateValue(rate)]]);
    }
    case "PointsExchanged": {
      const user = readString(data, "user", what);
      const from = readString(data, "from", what);
      const to = readString(data, "to", what);
      const gave = readDecimal(data, "gave", what);
      const got = readDecimal(data, "got", what);
      // Four legs, each seeing the ones before it (the user may be the from-issuer itself).
      const working = new Map(state);
      const out = new Map<string, JsonValue>();
      for (const [issuer, holder, delta] of [
        [from, user, -gave],
        [from, to, gave],
        [to, to, -got],
        [to, user, got],
      ] as const) {
        const [k, v] = moved(working, issuer, holder, delta);
        working.set(k, v);
        out.set(k, v);
      }
      return out;
    }
    default:
      throw new InvariantError(`points cannot fold event ${event.type}`, "CONTRACT_STATE");
  }
}

type Balance = { readonly issuer: string; readonly holder: string };

/**
 * The points contract. State: `bal/<issuer>/<holder>` → {balance}, `supply/<issuer>` → {minted},
 * `envelope/<issuer>/<id>` → a red envelope (see Envelope), `rate/<x>/<y>` → an agreed rate.
 */
export const points: Contract = eraseContract<PointsCommand>({
  name: POINTS_CONTRACT,
  actions: {
    mint: { roles: ["issuer"], parse: parsers.mint },
    transfer: { roles: WRITER_ROLES, parse: parsers.transfer },
    envelope: { roles: WRITER_ROLES, parse: parsers.envelope },
    claim: { roles: WRITER_ROLES, parse: parsers.claim },
    refund: { roles: WRITER_ROLES, parse: parsers.refund },
    "agree-rate": { roles: ["issuer"], parse: parsers["agree-rate"] },
    exchange: { roles: WRITER_ROLES, parse: parsers.exchange },
  },
  keys,
  decide,
  evolve,
  queries: {
    balance: eraseQuery<Balance>({
      parse: (args) => parseArgs(args, { issuer: identifier, holder: identifier }),
      keys: (q) => [balanceKey(q.issuer, q.holder)],
      run: (q, state) => ({ issuer: q.issuer, holder: q.holder, balance: balanceIn(state, q.issuer, q.holder).toString() }),
      owner: (q) => q.holder,
    }),
    // Points outstanding are the issuer's public disclosure.
    supply: eraseQuery<{ readonly issuer: string }>({
      parse: (args) => parseArgs(args, { issuer: identifier }),
      keys: (q) => [supplyKey(q.issuer)],
      run: (q, state) => ({ issuer: q.issuer, minted: mintedIn(state, q.issuer).toString() }),
      public: true,
    }),
    // An open envelope may be claimed by anyone, so anyone may see it.
    envelope: eraseQuery<{ readonly issuer: string; readonly id: string }>({
      parse: (args) => parseArgs(args, { issuer: identifier, id: identifier }),
      keys: (q) => [envelopeKey(q.issuer, q.id)],
      run: (q, state) => state.get(envelopeKey(q.issuer, q.id)) ?? null,
      public: true,
    }),
    rate: eraseQuery<{ readonly a: string; readonly b: string }>({
      parse: (args) => parseArgs(args, { a: identifier, b: identifier }),
      keys: (q) => [rateKey(q.a, q.b)],
      run: (q, state) => state.get(rateKey(q.a, q.b)) ?? null,
      public: true,
    }),
  },
});
