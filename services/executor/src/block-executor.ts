import {
  MEMBERSHIP_CONTRACT,
  isRejection,
  membershipGenesisEvents,
  membershipView,
  prepareCommand,
  runCommand,
  foldEvents,
  resolveKey,
  type Contract,
  type ContractEvent,
  type MembershipView,
  type PreparedCommand,
  type Rejection,
  type TxContext,
} from "@tally/contracts";
import {
  checkTxContext,
  eventsRoot,
  InvariantError,
  nextStateRoot,
  verifyTxSignatures,
  ZERO_HASH,
  type Genesis,
  type JsonValue,
  type SealedBlock,
} from "@tally/ledger";
import type { UserContractRegistry } from "@tally/user-contracts";
import { decodeBlockTxs, type DecodedBlock } from "./block-precheck.js";
import { verifyInline, type PrecomputedSignatures } from "./signature-verifier.js";
import type { StateReader } from "./state-reader.js";

/** One transaction's outcome in a block. */
export interface TxOutcomeRow {
  readonly txIndex: number;
  readonly txId: Uint8Array;
  readonly committed: boolean;
  /** Its signatures verified: only such an inclusion makes a later one a replay. */
  readonly authenticated: boolean;
  readonly reasonCode: string;
  readonly message: string;
  readonly signer: string;
  readonly contract: string;
  readonly action: string;
}

/** One event as stored and streamed. */
export interface EventRow {
  readonly txIndex: number;
  readonly eventIndex: number;
  readonly txId: Uint8Array;
  readonly contract: string;
  readonly event: ContractEvent;
  readonly signer: string;
}

/** Everything a block changes, ready to be written in one database transaction. */
export interface BlockEffects {
  readonly height: bigint;
  readonly blockHash: Uint8Array;
  readonly blockTimeMs: bigint;
  readonly lastTxsSeq: bigint;
  readonly results: readonly TxOutcomeRow[];
  readonly events: readonly EventRow[];
  /** contract → key → new value (null deletes). */
  readonly updates: ReadonlyMap<string, ReadonlyMap<string, JsonValue | null>>;
  readonly stateRoot: Uint8Array;
}

/** What the executor knows between blocks. */
export interface ExecutorState {
  readonly stateRoot: Uint8Array;
  /** Every membership state value, by key: the source of keys and roles. */
  readonly membership: ReadonlyMap<string, JsonValue>;
}

/** Tells which of the given tx ids already have a result in an earlier block. */
export type SeenTxIds = (ids: readonly Uint8Array[]) => Promise<Set<string>>;

/**
 * Work done for a block ahead of executeBlock, which it uses instead of redoing it. Hints never
 * change an outcome: signature results answer only the raw Ed25519 check, and anything missing
 * is computed inline.
 */
export interface ExecuteHints {
  /** The block's leaves decoded (decodeBlockTxs of this very block). */
  readonly decoded?: DecodedBlock;
  /** Raw Ed25519 results verified ahead, e.g. on worker threads. */
  readonly signatures?: PrecomputedSignatures;
}

/** The effects of block 0: the genesis institutions, admitted through the membership contract. */
export function genesisEffects(genesis: Genesis, contracts: ReadonlyMap<string, Contract>, block: SealedBlock): BlockEffects {
  const membership = contracts.get(MEMBERSHIP_CONTRACT);
  if (membership === undefined) throw new Error("the membership contract is not registered");
  const events = membershipGenesisEvents(genesis);
  const updates = foldEvents(membership, new Map(), events);
  const rows: EventRow[] = events.map((event, i) => ({
    txIndex: 0,
    eventIndex: i,
    txId: block.hash,
    contract: MEMBERSHIP_CONTRACT,
    event,
    signer: "",
  }));
  const root = eventsRoot(
    [],
    rows.map((r) => ({ txIndex: r.txIndex, eventIndex: r.eventIndex, contract: r.contract, type: r.event.type, data: r.event.data })),
  );
  return {
    height: 0n,
    blockHash: block.hash,
    blockTimeMs: block.header.timestampMs,
    lastTxsSeq: 0n,
    results: [],
    events: rows,
    updates: new Map([[MEMBERSHIP_CONTRACT, updates]]),
    stateRoot: nextStateRoot(ZERO_HASH, block.hash, root),
  };
}

/**
 * Applies one verified block to the state: for every transaction, in order, it decodes,
 * checks chain and deadline against the block time, verifies signatures against keys
 * active at that point, rejects replays, checks roles and args, and runs the contract.
 * A rejected transaction stays in the block with a reason code. Deterministic: the
 * outcome depends only on the block, the prior state and the contracts.
 */
export async function executeBlock(
  block: SealedBlock,
  prior: ExecutorState,
  deps: {
    genesis: Genesis;
    contracts: ReadonlyMap<string, Contract>;
    reader: StateReader;
    seen: SeenTxIds;
    /** Deployed user contracts (docs/user-contracts.md); without it, only the built-ins run. */
    userContracts?: UserContractRegistry;
  },
  hints: ExecuteHints = {},
): Promise<{ effects: BlockEffects; membership: ReadonlyMap<string, JsonValue> }> {
  const h = block.header;
  const blockTimeMs = Number(h.timestampMs);
  const decoded = hints.decoded ?? decodeBlockTxs(block);
  if (decoded.block !== block) throw new InvariantError("executeBlock got the decoded txs of another block", "EXECUTE_HINTS");
  const verify = hints.signatures?.check ?? verifyInline;
  const ids = decoded.ids;
  const seenBefore = await deps.seen(ids);
  const seenHere = new Set<string>();
  // Working state for this block: contract → key → value (null = deleted in this block).
  const overlay = new Map<string, Map<string, JsonValue | null>>();
  let membership: ReadonlyMap<string, JsonValue> = sortedByKey(prior.membership);
  let view: MembershipView = membershipView(membership.values());
  const viewAtStart = view;
  // The contracts of this point in the chain: the built-ins and the user contracts membership holds.
  const user = deps.userContracts;
  let contracts = user === undefined ? deps.contracts : await user.contractsFor(membership, deps.contracts);
  // A block that calls a user contract runs its calls in a fresh sandbox instance (see
  // @tally/user-contracts engine.ts: that is what makes memory metering the same on every node).
  // Started before the first call: here, or at a call to a contract deployed earlier in the block.
  const isUserCall = (name: string): boolean => contracts.has(name) && !deps.contracts.has(name);
  let sandboxStarted = false;
  const startSandbox = async (): Promise<void> => {
    if (user === undefined || sandboxStarted) return;
    sandboxStarted = true;
    await user.host.beginBlock();
  };
  if (decoded.txs.some((d) => d.ok && isUserCall(d.tx.body.contract))) await startSandbox();
  const updates = new Map<string, Map<string, JsonValue | null>>();
  const results: TxOutcomeRow[] = [];
  const events: EventRow[] = [];
  const preparedAhead = await prefetch(decoded, overlay, view, { ...deps, contracts }, blockTimeMs);

  for (let i = 0; i < decoded.txs.length; i++) {
    const txId = ids[i]!;
    const reject = (
      code: string,
      message: string,
      meta: { signer: string; contract: string; action: string } = { signer: "", contract: "", action: "" },
      authenticated = false,
    ): void => {
      results.push({ txIndex: i, txId, committed: false, authenticated, reasonCode: code, message, ...meta });
    };
    const leaf = decoded.txs[i]!;
    if (!leaf.ok) {
      reject(leaf.code, leaf.message);
      continue;
    }
    const tx = leaf.tx;
    const idHex = tx.idHex;
    const meta = { signer: tx.body.signer?.institutionId ?? "", contract: tx.body.contract, action: tx.body.action };
    const context = checkTxContext(tx, deps.genesis.chainId, blockTimeMs);
    if (!context.ok) {
      reject(context.code, context.message, meta);
      continue;
    }
    const sigs = verifyTxSignatures(tx, view.keyLookup, verify);
    if (!sigs.ok) {
      reject(sigs.code, sigs.message, meta);
      continue;
    }
    // Replays are judged among authenticated inclusions only: a copy of the body with a bad
    // signature, sequenced first, must not consume the genuine transaction's id.
    if (seenBefore.has(idHex) || seenHere.has(idHex)) {
      reject("DUPLICATE", "this transaction was already included", meta, true);
      continue;
    }
    seenHere.add(idHex);
    const ctx: TxContext = {
      chainId: deps.genesis.chainId,
      txId: idHex,
      height: h.height,
      blockTimeMs,
      signer: meta.signer,
      signers: sigs.signers,
      members: view.members,
    };
    // prefetch prepared the command with the membership at the start of the block and the signer
    // alone as signers: while both still hold, its result is this context's result.
    const ahead = view === viewAtStart && sigs.signers.length === 1 ? preparedAhead[i] : undefined;
    if (ahead === undefined && isUserCall(tx.body.contract)) await startSandbox();
    const prepared = ahead ?? prepareCommand(contracts, tx.body.contract, tx.body.action, tx.args, ctx);
    if (isRejection(prepared)) {
      reject(prepared.code, prepared.message, meta, true);
      continue;
    }
    const contractName = prepared.contract.name;
    // Keys as the contract named them (another contract's as `<contract>:<key>`), resolved to where they live.
    const located = prepared.keys.map((k) => [k, ...resolveKey(prepared.contract, k)] as const);
    const missing = new Map<string, string[]>();
    for (const [, owner, key] of located) {
      if (!overlayOf(overlay, owner).has(key)) missing.set(owner, [...(missing.get(owner) ?? []), key]);
    }
    for (const [owner, keys] of missing) {
      const loaded = await deps.reader.load(owner, keys);
      const local = overlayOf(overlay, owner);
      for (const k of keys) local.set(k, loaded.get(k) ?? null);
    }
    const slice = new Map<string, JsonValue>();
    for (const [named, owner, key] of located) {
      const v = overlayOf(overlay, owner).get(key);
      if (v !== undefined && v !== null) slice.set(named, v);
    }
    const outcome = runCommand(prepared, slice, ctx);
    if (isRejection(outcome)) {
      reject(outcome.code, outcome.message, meta, true);
      continue;
    }
    // Only keys that changed are written; the overlay also caches reads (and absent keys, as null).
    for (const [named, v] of outcome.updates) {
      const [owner, key] = resolveKey(prepared.contract, named);
      overlayOf(overlay, owner).set(key, v);
      overlayOf(updates, owner).set(key, v);
    }
    outcome.events.forEach((event, eventIndex) =>
      events.push({ txIndex: i, eventIndex, txId, contract: event.contract ?? contractName, event, signer: meta.signer }),
    );
    results.push({ txIndex: i, txId, committed: true, authenticated: true, reasonCode: "", message: "", ...meta });
    // Only the membership contract changes membership: no contract may use it (see registry test).
    if (contractName === MEMBERSHIP_CONTRACT && outcome.updates.size > 0) {
      const next = new Map(membership);
      for (const [k, v] of outcome.updates) {
        if (v === null) next.delete(k);
        else next.set(k, v);
      }
      membership = sortedByKey(next);
      view = membershipView(membership.values());
      // A contract deployed (or the sandbox limits changed) by this transaction is callable from the next one.
      if (user !== undefined) contracts = await user.contractsFor(membership, deps.contracts);
    }
  }

  const root = eventsRoot(
    results.map((r) => ({ txIndex: r.txIndex, committed: r.committed, reasonCode: r.reasonCode })),
    events.map((e) => ({ txIndex: e.txIndex, eventIndex: e.eventIndex, contract: e.contract, type: e.event.type, data: e.event.data })),
  );
  return {
    effects: {
      height: h.height,
      blockHash: block.hash,
      blockTimeMs: h.timestampMs,
      lastTxsSeq: h.lastTxsSeq,
      results,
      events,
      updates,
      stateRoot: nextStateRoot(prior.stateRoot, block.hash, root),
    },
    membership,
  };
}

/**
 * The map with its entries in key order (UTF-16 code units, as JavaScript compares strings).
 * Membership is kept in this order everywhere, so a node that restarted (and read it back from
 * its database) iterates members exactly as a node that ran from genesis.
 */
export function sortedByKey<V>(m: ReadonlyMap<string, V>): ReadonlyMap<string, V> {
  return new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Loads, in one query per contract, the state keys the block's commands will touch, into the
 * block's overlay (absent keys as null). Only a cache: a command whose keys differ at its turn
 * (membership changed by an earlier tx) still loads what it misses, so the outcome is the same.
 * Returns each tx's prepared command (undefined where the leaf did not decode), prepared with the
 * membership at the start of the block and the signer as the only signer.
 */
async function prefetch(
  decoded: DecodedBlock,
  overlay: Map<string, Map<string, JsonValue | null>>,
  view: MembershipView,
  deps: { genesis: Genesis; contracts: ReadonlyMap<string, Contract>; reader: StateReader },
  blockTimeMs: number,
): Promise<(PreparedCommand | Rejection | undefined)[]> {
  const wanted = new Map<string, Set<string>>();
  const prepared = decoded.txs.map((d) => {
    if (!d.ok) return undefined;
    const signer = d.tx.body.signer?.institutionId ?? "";
    const p = prepareCommand(deps.contracts, d.tx.body.contract, d.tx.body.action, d.tx.args, {
      chainId: deps.genesis.chainId,
      txId: d.tx.idHex,
      height: decoded.block.header.height,
      blockTimeMs,
      signer,
      signers: [signer],
      members: view.members,
    });
    if (isRejection(p)) return p;
    for (const named of p.keys) {
      const [owner, key] = resolveKey(p.contract, named);
      let keys = wanted.get(owner);
      if (keys === undefined) wanted.set(owner, (keys = new Set()));
      keys.add(key);
    }
    return p;
  });
  for (const [contract, keys] of wanted) {
    const list = [...keys];
    const loaded = await deps.reader.load(contract, list);
    const local = overlayOf(overlay, contract);
    for (const k of list) local.set(k, loaded.get(k) ?? null);
  }
  return prepared;
}

/** The per-contract map of a contract → key → value map, made on first use. */
function overlayOf(m: Map<string, Map<string, JsonValue | null>>, contract: string): Map<string, JsonValue | null> {
  let local = m.get(contract);
  if (local === undefined) m.set(contract, (local = new Map()));
  return local;
}
