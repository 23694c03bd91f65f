// Data transactions (SCENARIOS.md §4). An owner registers a data asset: its sha256 content hash
// only (the data stays off the chain), a description, and license terms: price, whether a license
// may be resold, and how long a license runs. The first registrant keeps the hash.
// - buy: the buyer pays the price to the owner in cash and is granted a license in the same
//   transaction (the cash leg and the grant are one act). The buyer names the owner so that its
//   cash account is among the keys (PARTY_MISMATCH if wrong) and picks the license's id.
// - resell: the holder sells the license on, for a price or none; the new holder co-signs and pays.
//   Refused when the terms forbid resale (RESALE_FORBIDDEN) or the license has expired.
// - access: the holder logs each use of the data against its license, until it expires.
// The license keeps the chain of its holders with from/to times, so "who held which right when" is
// the `rights` query; the asset's history (GetHistory on `license/<hash>/<id>`) has every grant,
// resale and access with its signers.
import { InvariantError, type JsonValue } from "@tally/ledger";
import { isRejection, rejection, type Contract, type ContractEvent, type Rejection, type StateSlice, type TxContext } from "../contract.js";
import { CASH_CONTRACT, cashAccountKey, cashLegs } from "../cash/cash.js";
import { eraseContract, eraseQuery } from "../erase-contract.js";
import { WRITER_ROLES } from "../roles.js";
import { QUERY_SCAN_LIMIT_MAX } from "../run.js";
import {
  hex32,
  identifier,
  integer,
  optionalAmount,
  optionalString,
  parseArgs,
  positiveAmount,
  requiredString,
  type Args,
} from "../schema.js";
import { readDecimal, readInteger, readNullableString, readObject, readString } from "../state-read.js";
import { oneOf, requireSignature } from "../supply/supply-fields.js";
import {
  DATA_CONTRACT,
  DESCRIPTION_LENGTH_MAX,
  HOLDERS_MAX,
  LICENSE_TERM_MAX_MS,
  PURPOSE_LENGTH_MAX,
  RESALE_TERMS,
  assetIn,
  assetKey,
  assetValue,
  licenseIn,
  licenseKey,
  licensePrefix,
  licenseValue,
  partiesOf,
  readLicense,
  type DataAsset,
  type License,
  type Resale,
} from "./data-state.js";

/** A data command, one per action. */
export type DataCommand =
  | {
      readonly action: "register";
      readonly hash: string;
      readonly description: string;
      readonly price: bigint;
      readonly resale: Resale;
      readonly durationMs: number;
    }
  | { readonly action: "buy"; readonly asset: string; readonly license: string; readonly owner: string }
  | { readonly action: "resell"; readonly asset: string; readonly license: string; readonly to: string; readonly price: bigint | undefined }
  | { readonly action: "access"; readonly asset: string; readonly license: string; readonly purpose: string | undefined };

const parsers = {
  register: (args: Args): DataCommand | Rejection => {
    const a = parseArgs(args, {
      hash: hex32,
      description: requiredString(DESCRIPTION_LENGTH_MAX),
      price: positiveAmount,
      resale: oneOf(RESALE_TERMS),
      durationMs: integer(1, LICENSE_TERM_MAX_MS),
    });
    return isRejection(a) ? a : { action: "register", ...a };
  },
  buy: (args: Args): DataCommand | Rejection => {
    const a = parseArgs(args, { asset: hex32, license: identifier, owner: identifier });
    return isRejection(a) ? a : { action: "buy", ...a };
  },
  resell: (args: Args): DataCommand | Rejection => {
    const a = parseArgs(args, { asset: hex32, license: identifier, to: identifier, price: optionalAmount });
    return isRejection(a) ? a : { action: "resell", ...a };
  },
  access: (args: Args): DataCommand | Rejection => {
    const a = parseArgs(args, { asset: hex32, license: identifier, purpose: optionalString(PURPOSE_LENGTH_MAX) });
    return isRejection(a) ? a : { action: "access", ...a };
  },
} as const;

type Events = readonly ContractEvent[] | Rejection;

function unknownCommand(cmd: never): never {
  throw new InvariantError(`unknown data command ${(cmd as { action: string }).action}`, "CONTRACT_STATE");
}

function licenseEvent(type: string, l: License, parties: readonly string[], data: { readonly [k: string]: JsonValue }): ContractEvent {
  return { type, assetId: licenseKey(l.asset, l.id), parties: [...parties], data: { asset: l.asset, license: l.id, ...data } };
}

// The license the signer holds and may still use, or why not.
function heldLicense(state: StateSlice, cmd: { asset: string; license: string }, ctx: TxContext, act: string): License | Rejection {
  const l = licenseIn(state, cmd.asset, cmd.license);
  if (l === undefined) return rejection("UNKNOWN_LICENSE", `there is no license ${cmd.license} on data asset ${cmd.asset}`);
  if (l.holder !== ctx.signer) return rejection("NOT_HOLDER", `${ctx.signer} does not hold license ${l.id}; ${l.holder} does`);
  if (ctx.blockTimeMs >= l.expiresAtMs) {
    return rejection("LICENSE_EXPIRED", `license ${l.id} expired at ${l.expiresAtMs}; at ${ctx.blockTimeMs} it can no longer be ${act}`);
  }
  return l;
}

function decideRegister(cmd: Extract<DataCommand, { action: "register" }>, state: StateSlice, ctx: TxContext): Events {
  const first = assetIn(state, cmd.hash);
  if (first !== undefined) {
    return rejection(
      "ALREADY_REGISTERED",
      `data ${cmd.hash} was first registered by ${first.owner} in tx ${first.txId} at height ${first.height}`,
    );
  }
  const data = {
    hash: cmd.hash,
    owner: ctx.signer,
    description: cmd.description,
    price: cmd.price.toString(),
    resale: cmd.resale,
    durationMs: cmd.durationMs,
    atMs: ctx.blockTimeMs,
    height: ctx.height.toString(),
    txId: ctx.txId,
  };
  return [{ type: "DataRegistered", assetId: assetKey(cmd.hash), parties: [ctx.signer], data }];
}

function decideBuy(cmd: Extract<DataCommand, { action: "buy" }>, state: StateSlice, ctx: TxContext): Events {
  const buyer = ctx.signer;
  const asset = assetIn(state, cmd.asset);
  if (asset === undefined) return rejection("UNKNOWN_ASSET", `no data asset ${cmd.asset} is registered`);
  if (asset.owner !== cmd.owner) return rejection("PARTY_MISMATCH", `data asset ${cmd.asset} is owned by ${asset.owner}, not ${cmd.owner}`);
  if (buyer === asset.owner) return rejection("SAME_PARTY", `${buyer} owns data asset ${cmd.asset} and needs no license on it`);
  if (state.has(licenseKey(cmd.asset, cmd.license))) {
    return rejection("LICENSE_EXISTS", `license ${cmd.license} on data asset ${cmd.asset} already exists`);
  }
  const cash = cashLegs(state, ctx, [
    { from: buyer, to: asset.owner, amount: asset.price, memo: `license ${cmd.license} on data ${cmd.asset}` },
  ]);
  if (isRejection(cash)) return cash;
  const expiresAtMs = ctx.blockTimeMs + asset.durationMs;
  const data = {
    asset: cmd.asset,
    license: cmd.license,
    owner: asset.owner,
    holder: buyer,
    price: asset.price.toString(),
    resale: asset.resale,
    atMs: ctx.blockTimeMs,
    expiresAtMs,
  };
  return [{ type: "LicenseGranted", assetId: licenseKey(cmd.asset, cmd.license), parties: partiesOf(asset.owner, buyer), data }, ...cash];
}

function decideResell(cmd: Extract<DataCommand, { action: "resell" }>, state: StateSlice, ctx: TxContext): Events {
  const l = heldLicense(state, cmd, ctx, "resold");
  if (isRejection(l)) return l;
  if (l.resale === "forbidden") {
    return rejection(
      "RESALE_FORBIDDEN",
      `the terms of data asset ${l.asset} forbid reselling its licenses; ${l.holder} cannot resell ${l.id}`,
    );
  }
  if (cmd.to === l.holder) return rejection("SAME_PARTY", `${l.holder} cannot resell license ${l.id} to itself`);
  if (!ctx.members.has(cmd.to)) return rejection("UNKNOWN_MEMBER", `${cmd.to} is not a member and cannot hold a license`);
  if (l.holders.length >= HOLDERS_MAX) {
    return rejection("CHAIN_FULL", `license ${l.id} has had ${HOLDERS_MAX} holders, the most its chain records`);
  }
  const unsigned = requireSignature(ctx, cmd.to, `the resale of license ${l.id} to ${cmd.to}`);
  if (unsigned !== undefined) return unsigned;
  const legs = cmd.price === undefined ? [] : [{ from: cmd.to, to: l.holder, amount: cmd.price, memo: `resale of license ${l.id}` }];
  const cash = cashLegs(state, ctx, legs);
  if (isRejection(cash)) return cash;
  const data = { from: l.holder, to: cmd.to, price: cmd.price === undefined ? null : cmd.price.toString(), atMs: ctx.blockTimeMs };
  return [licenseEvent("LicenseResold", l, partiesOf(...l.parties, cmd.to), data), ...cash];
}

function decide(cmd: DataCommand, state: StateSlice, ctx: TxContext): Events {
  switch (cmd.action) {
    case "register":
      return decideRegister(cmd, state, ctx);
    case "buy":
      return decideBuy(cmd, state, ctx);
    case "resell":
      return decideResell(cmd, state, ctx);
    case "access": {
      const l = heldLicense(state, cmd, ctx, "used");
      if (isRejection(l)) return l;
      return [licenseEvent("DataAccessed", l, l.parties, { holder: l.holder, purpose: cmd.purpose ?? null, atMs: ctx.blockTimeMs })];
    }
    default:
      return unknownCommand(cmd);
  }
}

function keys(cmd: DataCommand, ctx: TxContext): readonly string[] {
  switch (cmd.action) {
    case "register":
      return [assetKey(cmd.hash)];
    case "buy":
      return [assetKey(cmd.asset), licenseKey(cmd.asset, cmd.license), cashAccountKey(ctx.signer), cashAccountKey(cmd.owner)];
    case "resell":
      return [licenseKey(cmd.asset, cmd.license), cashAccountKey(ctx.signer), cashAccountKey(cmd.to)];
    case "access":
      return [licenseKey(cmd.asset, cmd.license)];
    default:
      return unknownCommand(cmd);
  }
}

function broken(message: string): never {
  throw new InvariantError(message, "CONTRACT_STATE");
}

function existingLicense(state: StateSlice, asset: string, id: string, type: string): License {
  return licenseIn(state, asset, id) ?? broken(`${type} for license ${id} on ${asset}, which does not exist`);
}

function evolve(state: StateSlice, event: ContractEvent): ReadonlyMap<string, JsonValue | null> {
  const what = `data ${event.type}`;
  const data = readObject(event.data, what);
  const atMs = readInteger(data, "atMs", what);
  switch (event.type) {
    case "DataRegistered": {
      const hash = readString(data, "hash", what);
      if (state.has(assetKey(hash))) broken(`data asset ${hash} registered twice`);
      const owner = readString(data, "owner", what);
      const asset: DataAsset = {
        hash,
        owner,
        description: readString(data, "description", what),
        price: readDecimal(data, "price", what),
        resale: readString(data, "resale", what) === "allowed" ? "allowed" : "forbidden",
        durationMs: readInteger(data, "durationMs", what),
        registeredAtMs: atMs,
        height: readString(data, "height", what),
        txId: readString(data, "txId", what),
        licenses: 0,
        parties: [owner],
      };
      return new Map([[assetKey(hash), assetValue(asset)]]);
    }
    case "LicenseGranted": {
      const hash = readString(data, "asset", what);
      const id = readString(data, "license", what);
      const asset = assetIn(state, hash) ?? broken(`${event.type} on data asset ${hash}, which does not exist`);
      if (state.has(licenseKey(hash, id))) broken(`license ${id} on ${hash} granted twice`);
      const holder = readString(data, "holder", what);
      const price = readDecimal(data, "price", what);
      const license: License = {
        asset: hash,
        id,
        owner: asset.owner,
        holder,
        grantedAtMs: atMs,
        expiresAtMs: readInteger(data, "expiresAtMs", what),
        resale: asset.resale,
        accesses: 0,
        lastAccessMs: null,
        holders: [{ holder, fromMs: atMs, toMs: null, price }],
        parties: partiesOf(asset.owner, holder),
      };
      return new Map([
        [assetKey(hash), assetValue({ ...asset, licenses: asset.licenses + 1 })],
        [licenseKey(hash, id), licenseValue(license)],
      ]);
    }
    case "LicenseResold": {
      const hash = readString(data, "asset", what);
      const l = existingLicense(state, hash, readString(data, "license", what), event.type);
      const from = readString(data, "from", what);
      const to = readString(data, "to", what);
      if (l.holder !== from) broken(`${event.type} of license ${l.id} from ${from}; ${l.holder} holds it`);
      const price = readNullableString(data, "price", what) === null ? null : readDecimal(data, "price", what);
      const holders = [...l.holders.slice(0, -1), { ...l.holders.at(-1)!, toMs: atMs }, { holder: to, fromMs: atMs, toMs: null, price }];
      return new Map([[licenseKey(hash, l.id), licenseValue({ ...l, holder: to, holders, parties: partiesOf(...l.parties, to) })]]);
    }
    case "DataAccessed": {
      const hash = readString(data, "asset", what);
      const l = existingLicense(state, hash, readString(data, "license", what), event.type);
      if (readString(data, "holder", what) !== l.holder) broken(`${event.type} of license ${l.id} by someone other than its holder`);
      return new Map([[licenseKey(hash, l.id), licenseValue({ ...l, accesses: l.accesses + 1, lastAccessMs: atMs })]]);
    }
    default:
      throw new InvariantError(`data cannot fold event ${event.type}`, "CONTRACT_STATE");
  }
}

/** Most licenses the `rights` query returns: the bound of its prefix scan. */
export const RIGHTS_LIMIT = QUERY_SCAN_LIMIT_MAX;

type ByAsset = { readonly asset: string };

/**
 * The data contract. State: `asset/<hash>` → the asset and its terms (see DataAsset) and
 * `license/<hash>/<id>` → a license with the chain of its holders (see License). Uses cash.
 */
export const data: Contract = eraseContract<DataCommand>({
  name: DATA_CONTRACT,
  uses: [CASH_CONTRACT],
  actions: {
    register: { roles: WRITER_ROLES, parse: parsers.register },
    buy: { roles: WRITER_ROLES, parse: parsers.buy },
    resell: { roles: WRITER_ROLES, parse: parsers.resell },
    access: { roles: WRITER_ROLES, parse: parsers.access },
  },
  keys,
  decide,
  evolve,
  queries: {
    // The listing: hash, owner and terms are what a buyer needs to see before buying.
    asset: eraseQuery<{ readonly hash: string }>({
      parse: (args) => parseArgs(args, { hash: hex32 }),
      keys: (q) => [assetKey(q.hash)],
      run: (q, state) => state.get(assetKey(q.hash)) ?? null,
      public: true,
    }),
    license: eraseQuery<{ readonly asset: string; readonly license: string }>({
      parse: (args) => parseArgs(args, { asset: hex32, license: identifier }),
      keys: (q) => [licenseKey(q.asset, q.license)],
      run: (q, state) => state.get(licenseKey(q.asset, q.license)) ?? null,
    }),
    // Who held which right on the asset, and when: every license (at most RIGHTS_LIMIT, in id
    // order) with its chain of holders. A caller sees the licenses it is party to.
    rights: eraseQuery<ByAsset>({
      parse: (args) => parseArgs(args, { asset: hex32 }),
      keys: () => [],
      scan: (q) => ({ prefix: licensePrefix(q.asset), limit: RIGHTS_LIMIT }),
      run: (q, state) =>
        [...state.keys()]
          .filter((k) => k.startsWith(licensePrefix(q.asset)))
          .sort()
          .map((k) => {
            const l = readLicense(state.get(k), k);
            return { ...(licenseValue(l) as Record<string, JsonValue>) };
          }),
    }),
  },
});
