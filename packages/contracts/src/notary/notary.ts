// Notarization and digital copyright (SCENARIOS.md §9): registering a content hash proves the work
// existed at the block's time, and the inclusion proof is checked offline (`tally verify-file`).
// The first registrant keeps the hash: a second registration, by anyone, is refused and names the
// first registrant, its transaction and height. Rights start with the registrant; the current
// holder transfers them to another member and grants licenses (an id per document, a licensee,
// terms and an optional end by block time). A transfer leaves licenses already granted in force.
import { InvariantError, type JsonValue } from "@tally/ledger";
import { isRejection, rejection, type Contract, type ContractEvent, type Rejection, type StateSlice, type TxContext } from "../contract.js";
import { eraseContract } from "../erase-contract.js";
import { WRITER_ROLES } from "../roles.js";
import { hex32, identifier, optionalInteger, optionalString, parseArgs, requiredString, type Args } from "../schema.js";
import { readInteger, readObject, readString } from "../state-read.js";
import { notaryQueries } from "./notary-queries.js";
import {
  NOTARY_CONTRACT,
  TRANSFERS_MAX,
  documentKey,
  licenseKey,
  registrationIn,
  rightsIn,
  rightsKey,
  rightsValue,
  type Registration,
} from "./notary-state.js";

export { NOTARY_CONTRACT, documentKey } from "./notary-state.js";

/** Longest document title, in UTF-16 code units. */
export const TITLE_LENGTH_MAX = 200;

/** Longest document URI, in UTF-16 code units. */
export const URI_LENGTH_MAX = 500;

/** Longest license terms, in UTF-16 code units. */
export const TERMS_LENGTH_MAX = 500;

/** Latest block time a license may run to: the end of year 9999, as any time field. */
const TIME_MS_MAX = 253_402_300_799_999;

type NotaryCommand =
  | { readonly action: "register"; readonly hash: string; readonly title: string; readonly uri: string | undefined }
  | { readonly action: "transfer"; readonly hash: string; readonly to: string }
  | {
      readonly action: "license";
      readonly hash: string;
      readonly id: string;
      readonly licensee: string;
      readonly terms: string;
      readonly untilMs: number | undefined;
    };

function parseRegister(args: Args): NotaryCommand | Rejection {
  const a = parseArgs(args, { hash: hex32, title: requiredString(TITLE_LENGTH_MAX), uri: optionalString(URI_LENGTH_MAX) });
  return isRejection(a) ? a : { action: "register", hash: a.hash, title: a.title, uri: a.uri };
}

function parseTransfer(args: Args): NotaryCommand | Rejection {
  const a = parseArgs(args, { hash: hex32, to: identifier });
  return isRejection(a) ? a : { action: "transfer", hash: a.hash, to: a.to };
}

function parseLicense(args: Args): NotaryCommand | Rejection {
  const a = parseArgs(args, {
    hash: hex32,
    id: identifier,
    licensee: identifier,
    terms: requiredString(TERMS_LENGTH_MAX),
    untilMs: optionalInteger(0, TIME_MS_MAX),
  });
  return isRejection(a) ? a : { action: "license", hash: a.hash, id: a.id, licensee: a.licensee, terms: a.terms, untilMs: a.untilMs };
}

function unknownDocument(hash: string): Rejection {
  return rejection("UNKNOWN_DOCUMENT", `document ${hash} is not registered`);
}

// The current rights holder acts; anyone else is told who may (the registrant is public anyway).
function holderOf(state: StateSlice, reg: Registration, ctx: TxContext): Rejection | undefined {
  const rights = rightsIn(state, reg);
  return rights.holder === ctx.signer
    ? undefined
    : rejection("NOT_RIGHTS_HOLDER", `${ctx.signer} does not hold the rights to document ${reg.hash}`);
}

function decide(cmd: NotaryCommand, state: StateSlice, ctx: TxContext): readonly ContractEvent[] | Rejection {
  switch (cmd.action) {
    case "register": {
      const first = registrationIn(state, cmd.hash);
      if (first !== undefined)
        return rejection(
          "ALREADY_REGISTERED",
          `document ${cmd.hash} was first registered by ${first.owner} in tx ${first.txId} at height ${first.height}`,
        );
      const data = {
        hash: cmd.hash,
        owner: ctx.signer,
        title: cmd.title,
        uri: cmd.uri ?? null,
        height: ctx.height.toString(),
        blockTimeMs: ctx.blockTimeMs,
        txId: ctx.txId,
      };
      return [{ type: "DocumentRegistered", assetId: documentKey(cmd.hash), parties: [ctx.signer], data }];
    }
    case "transfer": {
      const reg = registrationIn(state, cmd.hash);
      if (reg === undefined) return unknownDocument(cmd.hash);
      const notHolder = holderOf(state, reg, ctx);
      if (notHolder !== undefined) return notHolder;
      if (cmd.to === ctx.signer) return rejection("SELF_TRANSFER", `${ctx.signer} already holds the rights to document ${cmd.hash}`);
      const roles = ctx.members.get(cmd.to)?.roles;
      if (roles === undefined) return rejection("UNKNOWN_MEMBER", `${cmd.to} is not a member and cannot hold rights`);
      if (!roles.some((r) => WRITER_ROLES.includes(r)))
        return rejection(
          "RECIPIENT_NOT_ELIGIBLE",
          `${cmd.to} holds no role that may act on rights (it could neither license nor transfer them)`,
        );
      if (rightsIn(state, reg).transfers.length >= TRANSFERS_MAX)
        return rejection(
          "TOO_MANY_TRANSFERS",
          `document ${cmd.hash} has had its rights transferred ${TRANSFERS_MAX} times, the most one document records`,
        );
      const data = {
        hash: cmd.hash,
        owner: reg.owner,
        from: ctx.signer,
        to: cmd.to,
        height: ctx.height.toString(),
        blockTimeMs: ctx.blockTimeMs,
        txId: ctx.txId,
      };
      return [{ type: "RightsTransferred", assetId: documentKey(cmd.hash), parties: [ctx.signer, cmd.to], data }];
    }
    case "license": {
      const reg = registrationIn(state, cmd.hash);
      if (reg === undefined) return unknownDocument(cmd.hash);
      const notHolder = holderOf(state, reg, ctx);
      if (notHolder !== undefined) return notHolder;
      if (state.has(licenseKey(cmd.hash, cmd.id)))
        return rejection("LICENSE_EXISTS", `document ${cmd.hash} already has a license ${cmd.id}`);
      if (cmd.licensee === ctx.signer) return rejection("SELF_LICENSE", `${ctx.signer} holds the rights and needs no license`);
      if (!ctx.members.has(cmd.licensee)) return rejection("UNKNOWN_MEMBER", `${cmd.licensee} is not a member and cannot hold a license`);
      if (cmd.untilMs !== undefined && cmd.untilMs <= ctx.blockTimeMs)
        return rejection("LICENSE_ENDED", `the license would end at ${cmd.untilMs}, not after the block time ${ctx.blockTimeMs}`);
      const data = {
        hash: cmd.hash,
        id: cmd.id,
        licensor: ctx.signer,
        licensee: cmd.licensee,
        terms: cmd.terms,
        untilMs: cmd.untilMs ?? null,
        height: ctx.height.toString(),
        blockTimeMs: ctx.blockTimeMs,
        txId: ctx.txId,
      };
      return [{ type: "LicenseGranted", assetId: documentKey(cmd.hash), parties: [ctx.signer, cmd.licensee], data }];
    }
    default: {
      const never: never = cmd;
      throw new InvariantError(`unknown notary command ${(never as { action: string }).action}`, "CONTRACT_STATE");
    }
  }
}

function evolve(state: StateSlice, event: ContractEvent): ReadonlyMap<string, JsonValue | null> {
  const what = `notary ${event.type}`;
  const data = readObject(event.data, what);
  const hash = readString(data, "hash", what);
  switch (event.type) {
    case "DocumentRegistered": {
      const key = documentKey(hash);
      if (state.has(key)) throw new InvariantError(`${key} registered twice`, "CONTRACT_STATE");
      return new Map([[key, { ...data }]]);
    }
    case "RightsTransferred": {
      const owner = readString(data, "owner", what);
      const rights = rightsIn(state, { hash, owner, txId: "", height: "" });
      const from = readString(data, "from", what);
      if (rights.holder !== from) throw new InvariantError(`${what}: ${from} does not hold the rights to ${hash}`, "CONTRACT_STATE");
      const to = readString(data, "to", what);
      const transfer = {
        from,
        to,
        height: readString(data, "height", what),
        blockTimeMs: readInteger(data, "blockTimeMs", what),
        txId: readString(data, "txId", what),
      };
      const parties = [...new Set([...rights.parties, to])].sort();
      return new Map([[rightsKey(hash), rightsValue({ ...rights, holder: to, transfers: [...rights.transfers, transfer], parties })]]);
    }
    case "LicenseGranted": {
      const key = licenseKey(hash, readString(data, "id", what));
      if (state.has(key)) throw new InvariantError(`${key} granted twice`, "CONTRACT_STATE");
      const parties = [...new Set([readString(data, "licensor", what), readString(data, "licensee", what)])].sort();
      return new Map([[key, { ...data, parties }]]);
    }
    default:
      throw new InvariantError(`notary cannot fold event ${event.type}`, "CONTRACT_STATE");
  }
}

/**
 * The notary contract. State: `doc/<hash>` → {hash, owner, title, uri (or null), height (decimal),
 * blockTimeMs, txId}; `rights/<hash>` → {hash, owner, holder, transfers, parties} once the rights
 * have moved; `license/<hash>/<id>` → {hash, id, licensor, licensee, terms, untilMs (or null),
 * height, blockTimeMs, txId, parties}.
 */
export const notary: Contract = eraseContract<NotaryCommand>({
  name: NOTARY_CONTRACT,
  actions: {
    register: { roles: WRITER_ROLES, parse: parseRegister },
    transfer: { roles: WRITER_ROLES, parse: parseTransfer },
    license: { roles: WRITER_ROLES, parse: parseLicense },
  },
  keys: (cmd) => {
    switch (cmd.action) {
      case "register":
        return [documentKey(cmd.hash)];
      case "transfer":
        return [documentKey(cmd.hash), rightsKey(cmd.hash)];
      case "license":
        return [documentKey(cmd.hash), rightsKey(cmd.hash), licenseKey(cmd.hash, cmd.id)];
      default: {
        const never: never = cmd;
        throw new InvariantError(`unknown notary command ${(never as { action: string }).action}`, "CONTRACT_STATE");
      }
    }
  },
  decide,
  evolve,
  queries: notaryQueries,
});
