// The notary's queries: a document's registration (whole, for its parties; the public facts, for
// anyone who has the file), its rights and their history, and the licenses granted on it.
import type { JsonValue } from "@tally/ledger";
import type { QuerySpec } from "../contract.js";
import { eraseQuery } from "../erase-contract.js";
import { QUERY_SCAN_LIMIT_MAX } from "../run.js";
import { hex32, identifier, parseArgs } from "../schema.js";
import { readInteger, readObject, readString } from "../state-read.js";
import { documentKey, licenseKey, licensePrefix, registrationIn, rightsIn, rightsKey, rightsValue } from "./notary-state.js";

type ByHash = { readonly hash: string };

/** Most licenses one `licenses` query returns: the bound of its prefix scan. */
export const LICENSES_LIMIT = QUERY_SCAN_LIMIT_MAX;

/** `lookup {hash}`: the registration as stored, or null. Its state has no parties: the regulator reads it. */
const lookup: QuerySpec<ByHash> = {
  parse: (args) => parseArgs(args, { hash: hex32 }),
  keys: (q) => [documentKey(q.hash)],
  run: (q, state) => state.get(documentKey(q.hash)) ?? null,
};

/**
 * `registration {hash}`: who registered the hash, in which transaction, at which height and block
 * time, or null. Public: whoever holds the file knows its hash, and proving existence is the point.
 * Title and uri stay with the parties. `tally verify-file` checks this answer against the
 * transaction's inclusion proof, so it need not be trusted.
 */
const registration: QuerySpec<ByHash> = {
  parse: (args) => parseArgs(args, { hash: hex32 }),
  keys: (q) => [documentKey(q.hash)],
  public: true,
  run: (q, state) => {
    const v = state.get(documentKey(q.hash));
    if (v === undefined) return null;
    const what = `notary document ${q.hash}`;
    const o = readObject(v, what);
    return {
      hash: q.hash,
      owner: readString(o, "owner", what),
      height: readString(o, "height", what),
      blockTimeMs: readInteger(o, "blockTimeMs", what),
      txId: readString(o, "txId", what),
    };
  },
};

/** `rights {hash}`: {hash, owner, holder, transfers, parties}, or null when the hash is not registered. */
const rights: QuerySpec<ByHash> = {
  parse: (args) => parseArgs(args, { hash: hex32 }),
  keys: (q) => [documentKey(q.hash), rightsKey(q.hash)],
  run: (q, state) => {
    const reg = registrationIn(state, q.hash);
    return reg === undefined ? null : rightsValue(rightsIn(state, reg));
  },
};

/** `license {hash, id}`: one license, or null. */
const license: QuerySpec<{ readonly hash: string; readonly id: string }> = {
  parse: (args) => parseArgs(args, { hash: hex32, id: identifier }),
  keys: (q) => [licenseKey(q.hash, q.id)],
  run: (q, state) => state.get(licenseKey(q.hash, q.id)) ?? null,
};

/** `licenses {hash}`: the licenses on a document in id order (each caller sees those it is party to). */
const licenses: QuerySpec<ByHash> = {
  parse: (args) => parseArgs(args, { hash: hex32 }),
  keys: () => [],
  scan: (q) => ({ prefix: licensePrefix(q.hash), limit: LICENSES_LIMIT }),
  run: (q, state) => {
    const prefix = licensePrefix(q.hash);
    const out: JsonValue[] = [];
    for (const k of [...state.keys()].filter((k) => k.startsWith(prefix)).sort()) out.push(state.get(k)!);
    return out;
  },
};

/** The notary contract's queries, by name. */
export const notaryQueries: { readonly [name: string]: QuerySpec<unknown> } = {
  lookup: eraseQuery(lookup),
  registration: eraseQuery(registration),
  rights: eraseQuery(rights),
  license: eraseQuery(license),
  licenses: eraseQuery(licenses),
};
