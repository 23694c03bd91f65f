// The notary's state (SCENARIOS.md §9): a document's registration, who holds its rights now and
// how they moved, and the licenses granted on it. The shapes decide reads and evolve writes.
import type { JsonValue } from "@tally/ledger";
import type { StateSlice } from "../contract.js";
import { readArray, readInteger, readObject, readString, readStringArray } from "../state-read.js";

/** The notary contract's name in transactions and the registry. */
export const NOTARY_CONTRACT = "notary";

/** Most transfers of rights one document records; a further transfer is refused (TOO_MANY_TRANSFERS). */
export const TRANSFERS_MAX = 64;

/** The notary state key of a registered document, by its sha256 content hash in hex. */
export function documentKey(hash: string): string {
  return `doc/${hash}`;
}

/** The state key of who holds a document's rights once they have moved; absent means its registrant. */
export function rightsKey(hash: string): string {
  return `rights/${hash}`;
}

/** The prefix of every license granted on a document. */
export function licensePrefix(hash: string): string {
  return `license/${hash}/`;
}

/** The state key of one license on a document. */
export function licenseKey(hash: string, id: string): string {
  return `${licensePrefix(hash)}${id}`;
}

/** A document's registration as decide needs it. */
export interface Registration {
  readonly hash: string;
  readonly owner: string;
  readonly txId: string;
  readonly height: string;
}

/** One transfer of a document's rights. */
export interface RightsTransfer {
  readonly from: string;
  readonly to: string;
  readonly height: string;
  readonly blockTimeMs: number;
  readonly txId: string;
}

/** Who holds a document's rights, with every transfer and every institution that held them. */
export interface Rights {
  readonly hash: string;
  readonly owner: string;
  readonly holder: string;
  readonly transfers: readonly RightsTransfer[];
  readonly parties: readonly string[];
}

/** The registration of a document, or undefined when the hash is not registered. */
export function registrationIn(state: StateSlice, hash: string): Registration | undefined {
  const v = state.get(documentKey(hash));
  if (v === undefined) return undefined;
  const what = `notary document ${hash}`;
  const o = readObject(v, what);
  return { hash, owner: readString(o, "owner", what), txId: readString(o, "txId", what), height: readString(o, "height", what) };
}

function readTransfer(v: JsonValue, what: string): RightsTransfer {
  const o = readObject(v, what);
  return {
    from: readString(o, "from", what),
    to: readString(o, "to", what),
    height: readString(o, "height", what),
    blockTimeMs: readInteger(o, "blockTimeMs", what),
    txId: readString(o, "txId", what),
  };
}

/** A registered document's rights: the rights entry, or its registrant holding them when nothing moved. */
export function rightsIn(state: StateSlice, reg: Registration): Rights {
  const v = state.get(rightsKey(reg.hash));
  if (v === undefined) return { hash: reg.hash, owner: reg.owner, holder: reg.owner, transfers: [], parties: [reg.owner] };
  const what = `notary rights ${reg.hash}`;
  const o = readObject(v, what);
  return {
    hash: reg.hash,
    owner: readString(o, "owner", what),
    holder: readString(o, "holder", what),
    transfers: readArray(o, "transfers", what).map((t) => readTransfer(t, `${what} transfer`)),
    parties: readStringArray(o.parties, `${what} parties`),
  };
}

/** Rights as their state value. */
export function rightsValue(r: Rights): JsonValue {
  return {
    hash: r.hash,
    owner: r.owner,
    holder: r.holder,
    transfers: r.transfers.map((t) => ({ from: t.from, to: t.to, height: t.height, blockTimeMs: t.blockTimeMs, txId: t.txId })),
    parties: [...r.parties],
  };
}
