// Notarization (SCENARIOS.md §9): registering a content hash proves the work existed at the block's
// time; the inclusion proof is checked offline. The first registrant keeps the hash.
import { InvariantError, type JsonValue } from "@tally/ledger";
import { isRejection, rejection, type Contract, type ContractEvent, type Rejection, type StateSlice, type TxContext } from "../contract.js";
import { eraseContract, eraseQuery } from "../erase-contract.js";
import { WRITER_ROLES } from "../roles.js";
import { hex32, optionalString, parseArgs, requiredString, type Args } from "../schema.js";
import { readObject, readString } from "../state-read.js";

/** The notary contract's name in transactions and the registry. */
export const NOTARY_CONTRACT = "notary";

/** Longest document title, in UTF-16 code units. */
export const TITLE_LENGTH_MAX = 200;

/** Longest document URI, in UTF-16 code units. */
export const URI_LENGTH_MAX = 500;

/** The notary state key of a registered document, by its sha256 content hash in hex. */
export function documentKey(hash: string): string {
  return `doc/${hash}`;
}

type NotaryCommand = { readonly action: "register"; readonly hash: string; readonly title: string; readonly uri: string | undefined };

function parseRegister(args: Args): NotaryCommand | Rejection {
  const a = parseArgs(args, { hash: hex32, title: requiredString(TITLE_LENGTH_MAX), uri: optionalString(URI_LENGTH_MAX) });
  return isRejection(a) ? a : { action: "register", hash: a.hash, title: a.title, uri: a.uri };
}

function decide(cmd: NotaryCommand, state: StateSlice, ctx: TxContext): readonly ContractEvent[] | Rejection {
  switch (cmd.action) {
    case "register": {
      const first = state.get(documentKey(cmd.hash));
      if (first !== undefined) {
        const o = readObject(first, `notary document ${cmd.hash}`);
        const what = `notary document ${cmd.hash}`;
        return rejection(
          "ALREADY_REGISTERED",
          `document ${cmd.hash} was first registered by ${readString(o, "owner", what)} in tx ${readString(o, "txId", what)} at height ${readString(o, "height", what)}`,
        );
      }
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
    default: {
      const never: never = cmd.action;
      throw new InvariantError(`unknown notary command ${String(never)}`, "CONTRACT_STATE");
    }
  }
}

function evolve(state: StateSlice, event: ContractEvent): ReadonlyMap<string, JsonValue | null> {
  const what = `notary ${event.type}`;
  switch (event.type) {
    case "DocumentRegistered": {
      const data = readObject(event.data, what);
      const key = documentKey(readString(data, "hash", what));
      if (state.has(key)) throw new InvariantError(`${key} registered twice`, "CONTRACT_STATE");
      return new Map([[key, { ...data }]]);
    }
    default:
      throw new InvariantError(`notary cannot fold event ${event.type}`, "CONTRACT_STATE");
  }
}

/**
 * The notary contract. State: `doc/<hash>` → {hash, owner, title, uri (or null), height (decimal),
 * blockTimeMs, txId}.
 */
export const notary: Contract = eraseContract<NotaryCommand>({
  name: NOTARY_CONTRACT,
  actions: { register: { roles: WRITER_ROLES, parse: parseRegister } },
  keys: (cmd) => [documentKey(cmd.hash)],
  decide,
  evolve,
  queries: {
    lookup: eraseQuery<{ readonly hash: string }>({
      parse: (args) => parseArgs(args, { hash: hex32 }),
      keys: (q) => [documentKey(q.hash)],
      run: (q, state) => state.get(documentKey(q.hash)) ?? null,
    }),
  },
});
