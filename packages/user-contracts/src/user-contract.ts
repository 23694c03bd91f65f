// A deployed user contract version as a Contract the run pipeline takes like any built-in one.
// Roles and args are checked host-side against the manifest; keys, decide, evolve and queries run
// in the sandbox. decide also folds its events there, so that a contract whose evolve throws,
// loops or writes a key it did not name is a rejection of that transaction, never an executor
// error; the pipeline's evolve then hands back what was folded.
import { InvariantError, canonicalJson, isValidId, type JsonValue } from "@tally/ledger";
import {
  ANY_ROLE,
  CASH_CONTRACT,
  cashAccountKey,
  cashLegs,
  isRejection,
  rejection,
  type ActionSpec,
  type CashLeg,
  type Contract,
  type ContractEvent,
  type QuerySpec,
  type Rejection,
  type SandboxLimits,
  type StateSlice,
  type TxContext,
} from "@tally/contracts";
import type { CallOutcome } from "./engine.js";
import { expandKeys, parseDeclaredArgs, type Manifest } from "./manifest.js";

/** Most state keys one command or query may name. */
export const KEYS_MAX = 64;

/** Longest state key, in UTF-16 code units. */
export const KEY_LENGTH_MAX = 200;

/** Most events one command may emit. */
export const EVENTS_MAX = 32;

/** Most parties one event may name. */
export const PARTIES_MAX = 32;

/** Largest event data or state value, as canonical JSON characters. */
export const VALUE_LENGTH_MAX = 32 * 1024;

const EVENT_TYPE_RE = /^[A-Z][A-Za-z0-9]{0,63}$/;
const AMOUNT_RE = /^[1-9][0-9]{0,29}$/;
const REASON_CODE_RE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** A deployed version as the registry knows it. */
export interface DeployedVersion {
  readonly name: string;
  readonly version: number;
  readonly sha256: string;
  readonly code: string;
  readonly limits: SandboxLimits;
}

/**
 * How a contract reaches the sandbox: the host runs an operation of a version within a step
 * budget; `members` (JSON text of id → roles, see membersJson) is what ctx.members is in it.
 */
export interface SandboxCaller {
  call(v: DeployedVersion, op: string, args: readonly JsonValue[], steps: number, members?: string): CallOutcome;
}

// A command as parse makes it. keys() records the keys, or why they could not be had; decide reads both.
interface UserCommand {
  readonly action: string;
  readonly args: { readonly [k: string]: JsonValue };
  keys: readonly string[];
  failure: Rejection | undefined;
  steps: number;
}

interface UserQuery {
  readonly name: string;
  readonly args: { readonly [k: string]: JsonValue };
  keys: readonly string[];
  failure: Rejection | undefined;
}

type JsonObject = { readonly [k: string]: JsonValue };

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The transaction context as a contract sees it, but for members: JSON, the height as a decimal
 * string. ctx.members (id → roles) goes to the sandbox apart, once for as long as it is the same.
 */
export function contextJson(ctx: TxContext): JsonValue {
  return {
    chainId: ctx.chainId,
    txId: ctx.txId,
    height: ctx.height.toString(),
    blockTimeMs: ctx.blockTimeMs,
    signer: ctx.signer,
    signers: [...ctx.signers],
  };
}

const membersText = new WeakMap<TxContext["members"], string>();

/** ctx.members as the sandbox gets it: JSON text of id → roles (made once per members map). */
export function membersJson(members: TxContext["members"]): string {
  let text = membersText.get(members);
  if (text === undefined) {
    const out: { [id: string]: JsonValue } = {};
    for (const [id, m] of members) out[id] = [...m.roles];
    text = JSON.stringify(out);
    membersText.set(members, text);
  }
  return text;
}

// Every named key, present ones with their value and absent ones as null (see the prelude's initialState).
function sliceJson(keys: readonly string[], state: ReadonlyMap<string, JsonValue>): { [k: string]: JsonValue } {
  const out: { [k: string]: JsonValue } = {};
  for (const k of keys) out[k] = state.get(k) ?? null;
  return out;
}

function malformed(code: string, message: string): Rejection {
  return rejection(code, message.length > 300 ? `${message.slice(0, 300)}...` : message);
}

function boundedJson(v: JsonValue): boolean {
  try {
    return canonicalJson(v).length <= VALUE_LENGTH_MAX;
  } catch {
    return false;
  }
}

function checkKeys(v: JsonValue, what: string): readonly string[] | Rejection {
  if (!Array.isArray(v) || v.length > KEYS_MAX)
    return malformed("MALFORMED_KEYS", `${what} must return a list of at most ${KEYS_MAX} keys`);
  for (const k of v) {
    if (typeof k !== "string" || k.length === 0 || k.length > KEY_LENGTH_MAX) {
      return malformed("MALFORMED_KEYS", `${what} must return keys of 1 to ${KEY_LENGTH_MAX} characters`);
    }
  }
  return [...new Set(v as string[])];
}

/** Most cash legs one command may ask for. */
export const CASH_LEGS_MAX = 16;

/** A decision: the contract's own events and the cash legs it asks for (only with uses: ["cash"]). */
export interface Decision {
  readonly events: ContractEvent[];
  readonly legs: CashLeg[];
}

function checkLegs(v: JsonValue | undefined): CashLeg[] | Rejection {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > CASH_LEGS_MAX)
    return malformed("MALFORMED_EVENTS", `cash must be a list of at most ${CASH_LEGS_MAX} legs`);
  const legs: CashLeg[] = [];
  for (const [i, l] of v.entries()) {
    const ok =
      isObject(l) &&
      Object.keys(l).every((k) => ["from", "to", "amount", "memo"].includes(k)) &&
      typeof l.from === "string" &&
      isValidId(l.from) &&
      typeof l.to === "string" &&
      isValidId(l.to) &&
      typeof l.amount === "string" &&
      AMOUNT_RE.test(l.amount) &&
      (l.memo === undefined || (typeof l.memo === "string" && l.memo.length <= 200));
    if (!ok) return malformed("MALFORMED_EVENTS", `cash leg ${i} must be {from, to, amount (positive decimal string), memo?}`);
    const leg = l as { from: string; to: string; amount: string; memo?: string };
    legs.push({ from: leg.from, to: leg.to, amount: BigInt(leg.amount), ...(leg.memo === undefined ? {} : { memo: leg.memo }) });
  }
  return legs;
}

/** Checks what decide returned: events, {events, cash: legs} (with uses: ["cash"]), or {reject: {code, message}}. */
export function checkDecision(v: JsonValue, usesCash = false): Decision | Rejection {
  if (isObject(v) && Object.hasOwn(v, "events")) {
    const extra = Object.keys(v).filter((k) => k !== "events" && k !== "cash");
    if (extra.length > 0)
      return malformed("MALFORMED_EVENTS", `decide returned fields ${extra.sort().join(", ")}; expected events and cash`);
    if (v.cash !== undefined && !usesCash)
      return malformed("MALFORMED_EVENTS", 'cash legs need uses: ["cash"] in the contract\'s declarations');
    const events = checkEvents(v.events ?? null);
    if (isRejection(events)) return events;
    const legs = checkLegs(v.cash);
    return isRejection(legs) ? legs : { events, legs };
  }
  const events = checkEvents(v);
  return isRejection(events) ? events : { events, legs: [] };
}

function checkEvents(v: JsonValue): ContractEvent[] | Rejection {
  if (isObject(v) && Object.hasOwn(v, "reject")) {
    const r = v.reject;
    if (!isObject(r) || typeof r.code !== "string" || !REASON_CODE_RE.test(r.code) || typeof r.message !== "string") {
      return malformed("MALFORMED_EVENTS", "a rejection must be {reject: {code: UPPER_SNAKE_CASE, message: string}}");
    }
    return malformed(r.code, r.message);
  }
  if (!Array.isArray(v)) return malformed("MALFORMED_EVENTS", "decide must return a list of events or {reject: {code, message}}");
  if (v.length > EVENTS_MAX) return malformed("MALFORMED_EVENTS", `decide returned ${v.length} events; at most ${EVENTS_MAX}`);
  const events: ContractEvent[] = [];
  for (let i = 0; i < v.length; i++) {
    const e = v[i];
    const at = `event ${i}`;
    if (!isObject(e)) return malformed("MALFORMED_EVENTS", `${at} is not an object`);
    const extra = Object.keys(e).filter((k) => !["type", "assetId", "parties", "data"].includes(k));
    // An event naming another contract (a "contract" field) would change that contract's state.
    if (extra.length > 0)
      return malformed("MALFORMED_EVENTS", `${at} has fields ${extra.sort().join(", ")}; events have type, assetId, parties, data`);
    if (typeof e.type !== "string" || !EVENT_TYPE_RE.test(e.type)) return malformed("MALFORMED_EVENTS", `${at}: type must be PascalCase`);
    if (typeof e.assetId !== "string" || e.assetId.length === 0 || e.assetId.length > KEY_LENGTH_MAX) {
      return malformed("MALFORMED_EVENTS", `${at}: assetId must be a string of 1 to ${KEY_LENGTH_MAX} characters`);
    }
    const parties = e.parties;
    if (!Array.isArray(parties) || parties.length > PARTIES_MAX || !parties.every((p) => typeof p === "string" && isValidId(p))) {
      return malformed("MALFORMED_EVENTS", `${at}: parties must be a list of at most ${PARTIES_MAX} institution ids`);
    }
    if (!isObject(e.data) || !boundedJson(e.data)) {
      return malformed("MALFORMED_EVENTS", `${at}: data must be a JSON object (integers only, at most ${VALUE_LENGTH_MAX} characters)`);
    }
    events.push({ type: e.type, assetId: e.assetId, parties: [...new Set(parties as string[])], data: e.data });
  }
  return events;
}

function checkUpdates(v: JsonValue, named: readonly string[], uses: readonly string[]): Map<string, JsonValue | null> | Rejection {
  if (!isObject(v)) return malformed("MALFORMED_EVENTS", "evolve must return an object of key → value (null deletes)");
  const out = new Map<string, JsonValue | null>();
  for (const key of Object.keys(v).sort()) {
    if (!named.includes(key)) return malformed("UNDECLARED_KEY", `evolve wrote ${key.slice(0, 64)}, which keys did not name`);
    // Another contract's entries change only through its interface (cash legs), never by evolve.
    if (uses.some((u) => key.startsWith(`${u}:`)))
      return malformed("UNDECLARED_KEY", `evolve wrote ${key.slice(0, 64)}, which is ${key.split(":")[0]}'s`);
    const value = v[key]!;
    if (value !== null && !boundedJson(value)) {
      return malformed("MALFORMED_EVENTS", `evolve wrote ${key.slice(0, 64)} as no JSON value of at most ${VALUE_LENGTH_MAX} characters`);
    }
    out.set(key, value);
  }
  return out;
}

/** The Contract of one deployed version. */
export function userContract(d: DeployedVersion, manifest: Manifest, sandbox: SandboxCaller): Contract {
  // What decide folded, by event object: foldEvents hands the same objects to evolve.
  const folded = new WeakMap<ContractEvent, Map<string, JsonValue | null>>();
  const left = (cmd: UserCommand): number => d.limits.stepLimit - cmd.steps;

  const actions: { [action: string]: ActionSpec<UserCommand> } = {};
  for (const [action, decl] of manifest.actions) {
    actions[action] = {
      roles: decl.roles,
      parse: (args) => {
        const a = parseDeclaredArgs(args, decl.args);
        return isRejection(a) ? a : { action, args: a, keys: [], failure: undefined, steps: 0 };
      },
    };
  }

  const queries: { [name: string]: QuerySpec<UserQuery> } = {};
  for (const [name, decl] of manifest.queries) {
    queries[name] = {
      parse: (args) => {
        const a = parseDeclaredArgs(args, decl.args);
        return isRejection(a) ? a : { name, args: a, keys: [], failure: undefined };
      },
      keys: (q) => {
        const r = sandbox.call(d, "queryKeys", [name, q.args], d.limits.stepLimit);
        const keys = r.ok ? checkKeys(r.value, `query ${name} keys`) : r;
        if (isRejection(keys)) q.failure = keys;
        else q.keys = keys;
        return q.keys;
      },
      run: (q, state) => {
        if (q.failure !== undefined) return { rejected: { code: q.failure.code, message: q.failure.message } };
        const r = sandbox.call(d, "query", [name, q.args, sliceJson(q.keys, state)], d.limits.stepLimit);
        if (!r.ok) return { rejected: { code: r.code, message: r.message } };
        return boundedJson(r.value) ? r.value : { rejected: { code: "MALFORMED_RESULT", message: "the query returned no bounded JSON" } };
      },
      public: decl.public,
    };
  }

  const usesCash = manifest.uses.includes(CASH_CONTRACT);
  const contract: Contract<UserCommand> = {
    name: d.name,
    ...(manifest.uses.length === 0 ? {} : { uses: manifest.uses }),
    actions,
    keys: (cmd, ctx) => {
      // Keys declared as data: computed here, no sandbox call, no steps.
      const templates = manifest.actions.get(cmd.action)?.keys;
      if (templates !== undefined) {
        const keys = checkKeys(expandKeys(templates, cmd.args, ctx.signer), "keys");
        cmd.failure = isRejection(keys) ? keys : undefined;
        return (cmd.keys = isRejection(keys) ? [] : keys);
      }
      const r = sandbox.call(d, "keys", [{ action: cmd.action, args: cmd.args }, contextJson(ctx)], left(cmd), membersJson(ctx.members));
      if (!r.ok) {
        cmd.failure = r;
        return (cmd.keys = []);
      }
      cmd.steps += r.steps;
      const keys = checkKeys(r.value, "keys");
      if (isRejection(keys)) {
        cmd.failure = keys;
        return (cmd.keys = []);
      }
      cmd.failure = undefined;
      return (cmd.keys = keys);
    },
    decide: (cmd, state, ctx) => {
      if (cmd.failure !== undefined) return cmd.failure;
      const working = sliceJson(cmd.keys, state);
      const r = sandbox.call(
        d,
        "decide",
        [{ action: cmd.action, args: cmd.args }, working, contextJson(ctx)],
        left(cmd),
        membersJson(ctx.members),
      );
      if (!r.ok) return r;
      cmd.steps += r.steps;
      const out = r.value as { result?: JsonValue; folds?: JsonValue };
      const decision = checkDecision(out.result ?? null, usesCash);
      if (isRejection(decision)) return decision;
      const { events, legs } = decision;
      const folds = Array.isArray(out.folds) ? out.folds : [];
      for (let i = 0; i < events.length; i++) {
        const updates = checkUpdates(folds[i] ?? null, cmd.keys, manifest.uses);
        if (isRejection(updates)) return updates;
        folded.set(events[i]!, updates);
      }
      if (legs.length === 0) return events;
      // The cash interface: a leg moves money only out of an account whose institution signed this
      // transaction, and cash checks it as its own transfer (INSUFFICIENT_FUNDS, UNKNOWN_ACCOUNT...).
      for (const leg of legs) {
        if (!ctx.signers.includes(leg.from)) {
          return malformed("CASH_LEG_NOT_SIGNED", `a cash leg from ${leg.from} needs ${leg.from}'s signature on the transaction`);
        }
        for (const who of [leg.from, leg.to]) {
          if (!cmd.keys.includes(cashAccountKey(who)))
            return malformed("UNDECLARED_KEY", `a cash leg touches ${cashAccountKey(who)}, which keys did not name`);
        }
      }
      const cashEvents = cashLegs(state, ctx, legs);
      return isRejection(cashEvents) ? cashEvents : [...events, ...cashEvents];
    },
    evolve: (_state: StateSlice, event: ContractEvent) => {
      const updates = folded.get(event);
      if (updates === undefined)
        throw new InvariantError(`${d.name} v${d.version} folds only the events its decide returned`, "CONTRACT_STATE");
      return updates;
    },
    queries: queries as unknown as { readonly [q: string]: QuerySpec<unknown> },
  };
  return contract as unknown as Contract;
}

/** A contract none of whose actions can run: every one is rejected with the reason (a code that does not load, say). */
export function brokenContract(name: string, why: Rejection): Contract {
  const spec: ActionSpec<unknown> = { roles: ANY_ROLE, parse: () => why };
  const actions = new Proxy(
    {},
    {
      getOwnPropertyDescriptor: () => ({ value: spec, writable: false, enumerable: true, configurable: true }),
      get: () => spec,
    },
  );
  return {
    name,
    actions,
    keys: () => [],
    decide: () => why,
    evolve: () => {
      throw new InvariantError(`${name} cannot fold events: ${why.message}`, "CONTRACT_STATE");
    },
    queries: {},
  };
}
