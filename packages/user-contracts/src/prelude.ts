// The script every sandbox context runs before a contract's code: it removes what would make a
// contract's outcome depend on the node (clock, randomness, GC-observable references), traps the
// names of host objects so touching them is a clear rejection, freezes every intrinsic so that no
// call can leave anything behind for the next, and defines the one entry point the host calls.
// It runs inside QuickJS, never in Node.

/** The name of the error a trapped global throws; the host maps it to FORBIDDEN_GLOBAL. */
export const FORBIDDEN_GLOBAL_ERROR = "TallyForbiddenGlobal";

/** Most |string| x |pattern| a string search may cost (its native loop is not metered). */
export const SEARCH_COST_MAX = 50_000_000;

/** Longest array (or array-like) an Array.prototype method may walk (its native loop is not metered). */
export const ARRAY_LENGTH_MAX = 4_000_000;

/** Poll points of native work a built-in may do uncharged (above, the whole cost is charged). */
export const CHARGE_FREE_POLLS = 100_000;

/** Globals that would be host objects, clocks or randomness elsewhere: reading one throws. */
export const TRAPPED_GLOBALS: readonly string[] = [
  "Date",
  "WeakRef",
  "FinalizationRegistry",
  "SharedArrayBuffer",
  "Atomics",
  "process",
  "require",
  "fetch",
  "console",
  "performance",
  "crypto",
  "setTimeout",
  "setInterval",
  "setImmediate",
  "queueMicrotask",
  "Buffer",
  "WebAssembly",
  "XMLHttpRequest",
  "std",
  "os",
];

/**
 * The prelude's source. It leaves three functions on globalThis, all frozen: `__tallySetCode(src)`
 * compiles the contract and runs its top level once per context, `__tallySetMembers(json)` sets
 * what ctx.members is (frozen), and `__tallyCall(op, json)` runs one operation and returns its
 * result as JSON text. The host passes `__tallyCharge(polls)` in, which the prelude takes off
 * globalThis for its metered built-ins.
 */
export const PRELUDE = String.raw`"use strict";
(function () {
  const g = globalThis;
  class Forbidden extends Error {}
  Object.defineProperty(Forbidden.prototype, "name", { value: ${JSON.stringify(FORBIDDEN_GLOBAL_ERROR)} });
  const trap = (obj, name, label) => {
    try { delete obj[name]; } catch (e) {}
    Object.defineProperty(obj, name, {
      configurable: false,
      enumerable: false,
      get() { throw new Forbidden(label + " is not available to a contract"); },
      set() { throw new Forbidden(label + " is not available to a contract"); },
    });
  };
  for (const name of ${JSON.stringify(TRAPPED_GLOBALS)}) trap(g, name, name);
  // Built-ins whose native loops run without reaching a poll point, so steps do not see them:
  // a string search costs up to |string| x |pattern|, and an array method walks every index up to
  // length, holes included. Past these bounds they throw (RangeError) instead of running unmetered.
  const guard = (proto, name, tooBig) => {
    const native = proto[name];
    Object.defineProperty(proto, name, {
      value: { [name](...args) { if (tooBig(this, args)) throw new RangeError(name + " on values this large is not available to a contract"); return native.apply(this, args); } }[name],
      writable: true,
      configurable: true,
      enumerable: false,
    });
  };
  const SEARCH_COST_MAX = ${SEARCH_COST_MAX};
  const LENGTH_MAX = ${ARRAY_LENGTH_MAX};
  const patternLength = (p) => (typeof p === "string" ? p.length : p !== null && typeof p === "object" ? 0 : String(p).length);
  for (const name of ["indexOf", "lastIndexOf", "includes", "split", "replace", "replaceAll", "startsWith", "endsWith"]) {
    guard(String.prototype, name, (self, args) => String(self).length * Math.max(1, patternLength(args[0])) > SEARCH_COST_MAX);
  }
  const arrayLength = (self) => { const n = Number(Object(self).length); return n === n ? n : 0; };
  for (const name of ["indexOf", "lastIndexOf", "includes", "join", "toString", "forEach", "map", "filter", "some", "every", "reduce", "reduceRight", "find", "findIndex", "findLast", "findLastIndex", "fill", "copyWithin", "reverse", "sort", "toSorted", "toReversed", "flat", "flatMap", "slice", "splice", "keys", "values", "entries", "at", "with", "concat", "toSpliced"]) {
    if (typeof Array.prototype[name] === "function") guard(Array.prototype, name, (self) => arrayLength(self) > LENGTH_MAX);
  }
  // Native work that grows faster than its output, so the memory cap alone does not bound it:
  // charged in poll points (10,000 to a step) through the host's meter before it runs,
  // so a large one is OUT_OF_GAS on every node, whatever the contract catches.
  const charge = g.__tallyCharge;
  delete g.__tallyCharge;
  const log2 = (n) => { let b = 1; while (n > 1) { n = Math.floor(n / 2); b++; } return b; };
  const metered = (obj, name, cost) => {
    const native = obj[name];
    Object.defineProperty(obj, name, {
      value: { [name](...args) { const c = cost(this, args); if (c > ${CHARGE_FREE_POLLS}) charge(c); return native.apply(this, args); } }[name],
      writable: true,
      configurable: true,
      enumerable: false,
    });
  };
  // Sorting: n log n comparisons inside the engine (string conversions without a comparator).
  for (const name of ["sort", "toSorted"]) {
    if (typeof Array.prototype[name] === "function") metered(Array.prototype, name, (self) => { const n = arrayLength(self); return n * log2(n); });
  }
  // BigInt digits: parsing a decimal string, printing one and truncating are quadratic in the size.
  const NativeBigInt = BigInt;
  // Bits in a BigInt, by shifts (each linear in the size): no decimal conversion.
  const bigBits = (v) => {
    const x = v < 0n ? -v : v;
    if (x === 0n) return 0;
    let hi = 1;
    while (x >> NativeBigInt(hi) > 0n) hi *= 2;
    let lo = hi / 2;
    while (hi - lo > 1) { const mid = Math.floor((lo + hi) / 2); if (x >> NativeBigInt(mid) > 0n) lo = mid; else hi = mid; }
    return hi;
  };
  // (Below 3,300 bits, 1,000 digits or fewer: free, and told by one comparison.)
  const SMALL = 1n << 3300n;
  const bigSize = (v) => (typeof v === "string" ? v.length : typeof v === "bigint" && (v >= SMALL || v <= -SMALL) ? Math.ceil(bigBits(v) / 3.32) : 0);
  const charged = (digits) => { if (digits > 1000) { const c = Math.floor((digits * digits) / 1000); if (c > ${CHARGE_FREE_POLLS}) charge(c); } };
  const MeteredBigInt = function BigInt(v) {
    if (new.target !== undefined) throw new TypeError("BigInt is not a constructor");
    if ((typeof v === "string" && v.length > 1000) || (typeof v === "bigint" && (v >= SMALL || v <= -SMALL))) charged(bigSize(v));
    return NativeBigInt(v);
  };
  Object.defineProperty(MeteredBigInt, "prototype", { value: NativeBigInt.prototype, writable: false });
  for (const name of ["asIntN", "asUintN"]) Object.defineProperty(MeteredBigInt, name, { value: NativeBigInt[name], writable: true, configurable: true });
  Object.defineProperty(NativeBigInt.prototype, "constructor", { value: MeteredBigInt, writable: true, configurable: true });
  Object.defineProperty(g, "BigInt", { value: MeteredBigInt, writable: true, configurable: true, enumerable: false });
  const bigValueOf = NativeBigInt.prototype.valueOf;
  for (const name of ["toString", "toLocaleString"]) {
    const native = NativeBigInt.prototype[name];
    Object.defineProperty(NativeBigInt.prototype, name, {
      value: { [name](radix) { const x = bigValueOf.call(this); if (x >= SMALL || x <= -SMALL) charged(bigSize(x)); return native.call(x, radix); } }[name],
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  // JSON text: the native stringify walks a value with shared references once per path, which
  // can be exponential in the memory the value takes. The value is walked here first, in
  // JavaScript, where every step is metered; the native walk then does no more than this one.
  const nativeStringify = JSON.stringify;
  // (A cycle is left to the native stringify's TypeError. toJSON is refused: what it returns
  // would be walked natively only.)
  const open = new Set();
  const walk = (v) => {
    if (v === null || typeof v !== "object" || open.has(v)) return;
    if (typeof v.toJSON === "function") throw new TypeError("toJSON is not available to a contract");
    open.add(v);
    try {
      if (Array.isArray(v)) for (let i = 0; i < v.length; i++) walk(v[i]);
      else for (const k of Object.keys(v)) walk(v[k]);
    } finally {
      open.delete(v);
    }
  };
  const stringify = { stringify(value, replacer, space) { open.clear(); walk(value); return nativeStringify(value, replacer, space); } }.stringify;
  Object.defineProperty(JSON, "stringify", { value: stringify, writable: true, configurable: true, enumerable: false });
  trap(Math, "random", "Math.random");
  const slot = { contract: undefined, members: undefined };
  const json = JSON;
  // Everything reachable from a value, frozen: what every call of the block shares is read-only.
  const deepFreeze = (v) => { if (v !== null && typeof v === "object" && !Object.isFrozen(v)) { Object.freeze(v); for (const k of Object.keys(v)) deepFreeze(v[k]); } return v; };
  const call = (op, input) => {
    const c = slot.contract;
    if (c === undefined) throw new Error("no contract code");
    const args = json.parse(input);
    // The members map is sent once per block (and again only when it changes): ctx.members is that.
    const withMembers = (ctx) => { ctx.members = slot.members; return ctx; };
    // The host sends every key the command named, an absent one as null: initialState(key), when
    // the contract has one, gives its default, and otherwise it stays absent.
    const withInitial = (state) => {
      const init = typeof c.initialState === "function" ? c.initialState : undefined;
      const out = {};
      for (const k of Object.keys(state)) {
        const v = state[k];
        if (v !== null) out[k] = v;
        else if (init !== undefined) {
          const d = init(k);
          if (d !== undefined && d !== null) out[k] = d;
        }
      }
      return out;
    };
    let out;
    switch (op) {
      case "manifest":
        out = { actions: c.actions, uses: c.uses, queries: c.queries === undefined ? {} : Object.fromEntries(Object.entries(c.queries).map(([k, q]) => [k, { args: q.args, public: q.public === true }])) };
        break;
      case "keys":
        out = c.keys(args[0], withMembers(args[1]));
        break;
      case "decide": {
        // decide, then each event folded in order over the working state, in one call. Each
        // evolve sees a copy of its event (the fields the ledger keeps) and the state so far.
        const state = withInitial(args[1]);
        const result = c.decide(args[0], state, withMembers(args[2]));
        // Events, or {events, cash: [legs]} for a contract that uses cash.
        const events = Array.isArray(result) ? result : result !== null && typeof result === "object" && Array.isArray(result.events) ? result.events : null;
        let folds = null;
        if (events !== null) {
          folds = [];
          const working = Object.assign({}, args[1]);
          for (const e of events) {
            const event = json.parse(json.stringify({ type: e?.type, assetId: e?.assetId, parties: e?.parties, data: e?.data }));
            const updates = c.evolve(withInitial(working), event);
            folds.push(updates === undefined ? null : updates);
            if (updates !== null && typeof updates === "object") for (const k of Object.keys(updates)) working[k] = updates[k];
          }
        }
        out = { result, folds };
        break;
      }
      case "queryKeys":
        out = c.queries[args[0]].keys(args[1]);
        break;
      case "query":
        out = c.queries[args[0]].run(args[1], withInitial(args[2]));
        break;
      default:
        throw new Error("unknown operation " + op);
    }
    return json.stringify(out === undefined ? null : out);
  };
  // The contract's top level runs once, when its code is loaded into the block's instance.
  const setCode = (src) => {
    if (slot.contract !== undefined) throw new Error("code already set");
    const module = { exports: {} };
    new Function("module", "exports", '"use strict";\n' + src).call(undefined, module, module.exports);
    const c = module.exports;
    if (c === null || typeof c !== "object") throw new TypeError("module.exports must be an object");
    slot.contract = c;
  };
  const setMembers = (input) => { slot.members = deepFreeze(json.parse(input)); };
  Object.defineProperty(g, "__tallyCall", { value: call, enumerable: false, writable: false, configurable: false });
  Object.defineProperty(g, "__tallySetCode", { value: setCode, enumerable: false, writable: false, configurable: false });
  Object.defineProperty(g, "__tallySetMembers", { value: setMembers, enumerable: false, writable: false, configurable: false });
  // Freeze everything reachable from globalThis: no call may change an intrinsic for the next.
  // Walk first, then freeze (freezing while walking is two orders of magnitude slower in QuickJS).
  const seen = new Set();
  const todo = [g];
  while (todo.length > 0) {
    const o = todo.pop();
    if ((typeof o !== "object" && typeof o !== "function") || o === null || seen.has(o)) continue;
    seen.add(o);
    for (const key of Reflect.ownKeys(o)) {
      const d = Reflect.getOwnPropertyDescriptor(o, key);
      if (d === undefined) continue;
      if ("value" in d) todo.push(d.value);
      else todo.push(d.get, d.set);
    }
    todo.push(Object.getPrototypeOf(o));
  }
  for (const o of seen) Object.freeze(o);
})();
`;
