import type { JsonValue } from "@tally/ledger";

/** The domain saying no: a value with a stable reason code, recorded in the block's results. */
export interface Rejection {
  readonly ok: false;
  readonly code: string;
  readonly message: string;
}

/** Builds a rejection. */
export function rejection(code: string, message: string): Rejection {
  return { ok: false, code, message };
}

/** True when a decide/parse result is a rejection. */
export function isRejection(v: unknown): v is Rejection {
  return typeof v === "object" && v !== null && (v as { ok?: unknown }).ok === false && typeof (v as { code?: unknown }).code === "string";
}

/** An event a contract emits. Data is JSON: amounts are decimal strings. */
export interface ContractEvent {
  /**
   * The contract whose state the event changes, when it is not the contract that ran: a cash leg
   * of a delivery-versus-payment, say. It is folded with that contract's evolve, and its history
   * is that contract's. Absent means the contract that ran.
   */
  readonly contract?: string;
  readonly type: string;
  /** The asset the event is about (account, document, bill...): the key of its life history. */
  readonly assetId: string;
  /** Institutions party to the event: they may see it. */
  readonly parties: readonly string[];
  readonly data: { readonly [k: string]: JsonValue };
}

/** What a member looks like to a contract. */
export interface MemberView {
  readonly roles: readonly string[];
}

/** What a contract may know about the transaction it runs in. All of it is on the chain. */
export interface TxContext {
  readonly chainId: string;
  readonly txId: string;
  readonly height: bigint;
  /** The block timestamp. Contracts never read a clock. */
  readonly blockTimeMs: number;
  /** The body's signer. */
  readonly signer: string;
  /** Every institution that signed, the body's signer first. */
  readonly signers: readonly string[];
  /** Members at the start of this transaction. */
  readonly members: ReadonlyMap<string, MemberView>;
}

/** The slice of a contract's keyed state a command touches. Absent keys are absent. */
export type StateSlice = ReadonlyMap<string, JsonValue>;

/** One action a contract accepts: who may sign it and how its args are checked. */
export interface ActionSpec<C> {
  /** Roles the body's signer must hold one of. */
  readonly roles: readonly string[];
  /** Checks raw JSON args against the action's schema. */
  readonly parse: (args: Readonly<Record<string, unknown>>) => C | Rejection;
}

/** A read-only query over a contract's state. */
export interface QuerySpec<Q> {
  readonly parse: (args: Readonly<Record<string, unknown>>) => Q | Rejection;
  readonly keys: (q: Q) => readonly string[];
  /**
   * Entries to load besides keys: the first `limit` own keys, in key order, that start with
   * `prefix` (an index such as `held/<holder>/`). The state slice holds them with the keys.
   */
  readonly scan?: (q: Q) => { readonly prefix: string; readonly limit: number };
  readonly run: (q: Q, state: StateSlice) => JsonValue;
  /**
   * Reference data every member may read at its gateway (an order book, an instrument, the
   * member list). A query without `public` or `owner` answers a caller only what it is party to:
   * a result (or each element of a result list) whose `parties` lacks the caller is hidden, and
   * a hidden or null result is NOT_FOUND (see docs/api.md).
   */
  readonly public?: boolean;
  /**
   * For answers about one institution's own books rather than one asset (a cash balance, a
   * portfolio): the institution they belong to. Only it, and a regulator, may read them.
   */
  readonly owner?: (q: Q) => string;
}

/**
 * A contract as a decider: pure functions over a keyed state slice. The executor loads the
 * keys a command names, calls decide, and folds the events with evolve.
 */
export interface Contract<C = unknown> {
  readonly name: string;
  /**
   * Other contracts whose state this one reads and changes in the same transaction (atomic
   * settlement on the cash ledger, say): their keys are named `<contract>:<key>` (see foreignKey)
   * and their changes are events naming that contract, folded by its own evolve. Only these.
   */
  readonly uses?: readonly string[];
  readonly actions: { readonly [action: string]: ActionSpec<C> };
  /** State keys the command reads or writes. */
  readonly keys: (cmd: C, ctx: TxContext) => readonly string[];
  readonly decide: (cmd: C, state: StateSlice, ctx: TxContext) => readonly ContractEvent[] | Rejection;
  /** Folds one event into the slice; returns the changed entries (null deletes). */
  readonly evolve: (state: StateSlice, event: ContractEvent) => ReadonlyMap<string, JsonValue | null>;
  readonly queries: { readonly [query: string]: QuerySpec<unknown> };
}

/** The key of another contract's state entry, as a contract that uses it names it: `<contract>:<key>`. */
export function foreignKey(contract: string, key: string): string {
  return `${contract}:${key}`;
}

/**
 * Where a key a contract named lives: [contract, key]. A key `<name>:<rest>` whose name is one
 * of the contract's uses is that contract's `<rest>`; any other key is the contract's own.
 */
export function resolveKey(contract: Contract, key: string): readonly [string, string] {
  const colon = key.indexOf(":");
  if (colon > 0 && contract.uses !== undefined) {
    const owner = key.slice(0, colon);
    if (contract.uses.includes(owner)) return [owner, key.slice(colon + 1)];
  }
  return [contract.name, key];
}
