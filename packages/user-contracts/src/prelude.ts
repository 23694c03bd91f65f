// The script every sandbox context runs before a contract's code: it removes what would make a
// contract's outcome depend on the node (clock, randomness, GC-observable references), traps the
// names of host objects so touching them is a clear rejection, freezes every intrinsic so that no
// call can leave anything behind for the next, and defines the one entry point the host calls.
// It runs inside QuickJS, never in Node.

import { DEFAULT_MAX_BIGINT_BITS } from "@tally/contracts";
import {
  LIMB_PRODUCTS_PER_POLL,
  PARSE_CHARS_PER_POLL,
  PARSE_SQUARED_CHARS_PER_POLL,
  PRINT_DIGITS_PER_POLL,
  PRINT_SQUARED_DIGITS_PER_POLL,
} from "./costs.js";
import { HELPERS, helperName } from "./rewrite.js";

/** The name of the error a trapped global throws; the host maps it to FORBIDDEN_GLOBAL. */
export const FORBIDDEN_GLOBAL_ERROR = "TallyForbiddenGlobal";

/** Most |string| x |pattern| a string search may cost (its native loop is not metered). */
export const SEARCH_COST_MAX = 50_000_000;

/** Longest array (or array-like) an Array.prototype method may walk (its native loop is not metered). */
export const ARRAY_LENGTH_MAX = 4_000_000;

/** The name of the error a BigInt past the chain's cap throws; the host maps it to BIGINT_TOO_LARGE. */
export const BIGINT_TOO_LARGE_ERROR = "TallyBigIntTooLarge";

/** Poll points in one step (QuickJS's JS_INTERRUPT_COUNTER_INIT): the prelude hands its charges to the host in steps. */
export const POLLS_PER_STEP = 10_000;

/** String search work (|string| x |pattern|) charged as one poll point. */
export const SEARCH_COST_PER_POLL = 256;

/** Array elements a native array method walks per poll point charged (a hole or an array-like's index costs about two). */
export const ELEMENTS_PER_POLL = 2;

/** Comparisons a native sort makes per poll point charged (n log2 n of them). */
export const COMPARISONS_PER_POLL = 32;

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
  // Code from strings would run without the rewrite that meters BigInt operators.
  "eval",
  // Their element writes parse a string into a BigInt natively (ToBigInt), outside the helpers.
  "BigInt64Array",
  "BigUint64Array",
];

/**
 * The prelude's source. It leaves three functions on globalThis, all frozen: `__tallySetCode(src,
 * maxBigIntBits)` compiles the rewritten contract (rewrite.ts) and runs its top level once per
 * context, `__tallySetMembers(json)` sets what ctx.members is (frozen), and `__tallyCall(op, json)`
 * runs one operation and returns its result as JSON text. The host passes `__tallyCharge(polls)`
 * in, which the prelude takes off globalThis for its metered built-ins and operators.
 */
export const PRELUDE = String.raw`"use strict";
(function () {
  const g = globalThis;
  const apply = Reflect.apply;
  const define = (obj, name, value) => Object.defineProperty(obj, name, { value, writable: true, configurable: true, enumerable: false });
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
  // No code from strings: the constructors of functions (reachable from any function as
  // .constructor) become stand-ins that throw, so the rewritten code is the only code that runs.
  // instanceof Function still works: the stand-in's prototype is Function.prototype.
  const NativeFunction = Function;
  const forbidConstructor = (name, proto) => {
    const standIn = { [name]: function () { throw new Forbidden("the " + name + " constructor is not available to a contract"); } }[name];
    Object.defineProperty(standIn, "prototype", { value: proto, writable: false });
    define(proto, "constructor", standIn);
    return standIn;
  };
  define(g, "Function", forbidConstructor("Function", NativeFunction.prototype));
  forbidConstructor("AsyncFunction", Object.getPrototypeOf(async function () {}));
  forbidConstructor("GeneratorFunction", Object.getPrototypeOf(function* () {}));
  forbidConstructor("AsyncGeneratorFunction", Object.getPrototypeOf(async function* () {}));
  // A DataView's BigInt writes parse a string natively, as BigInt64Array's do.
  for (const name of ["setBigInt64", "setBigUint64"]) trap(DataView.prototype, name, "DataView.prototype." + name);

  // The meter: native work is charged in poll points, gathered here and handed to the host a
  // step (10,000 poll points) at a time. A charge past the budget throws an interrupt the host
  // remembers, so the call is OUT_OF_GAS even if the contract catches it. Reset at each call.
  const charge = g.__tallyCharge;
  delete g.__tallyCharge;
  const STEP = ${POLLS_PER_STEP};
  let pending = 0;
  const spend = (polls) => {
    if (!(polls > 0)) return;
    pending += polls;
    if (pending >= STEP) {
      const steps = Math.floor(pending / STEP);
      pending -= steps * STEP;
      charge(steps * STEP);
    }
  };
  const isObj = (v) => v !== null && (typeof v === "object" || typeof v === "function");
  // ToString, as a template literal does it (String() alone would print a Symbol).
  const toStr = (v) => { if (typeof v === "symbol") throw new TypeError("cannot convert a Symbol value to a string"); chargePrint(v); return NativeString(v); };
  // A BigInt printed by a built-in called on it (String(), parseInt...) is charged as printing costs.
  const chargePrint = (v) => { if (typeof v === "bigint" && large(v)) spend(printPolls(bitLength(v))); };
  const NativeString = String;
  const construct = Reflect.construct;
  const MeteredString = function String(...args) {
    if (args.length > 0) chargePrint(args[0]);
    return new.target === undefined ? apply(NativeString, undefined, args) : construct(NativeString, args, new.target);
  };
  for (const key of ["raw", "fromCharCode", "fromCodePoint"]) define(MeteredString, key, NativeString[key]);
  Object.defineProperty(MeteredString, "prototype", { value: NativeString.prototype, writable: false });
  define(NativeString.prototype, "constructor", MeteredString);
  define(g, "String", MeteredString);
  for (const name of ["parseInt", "parseFloat"]) {
    const native = g[name];
    const metered = { [name](v, radix) { chargePrint(v); return native(v, radix); } }[name];
    define(g, name, metered);
    define(Number, name, metered);
  }

  // Built-ins whose native loops run without reaching a poll point: charged by the work they do
  // (a string search up to |string| x |pattern|, an array method every index up to length, holes
  // included), and past a bound they throw (RangeError) instead of running.
  const guard = (proto, name, size, max, polls) => {
    const native = proto[name];
    define(proto, name, { [name](...args) {
      const n = size(this, args);
      if (n > max) throw new RangeError(name + " on values this large is not available to a contract");
      spend(polls(n));
      return apply(native, this, args);
    } }[name]);
  };
  const patternLength = (p) => (typeof p === "string" ? p.length : p !== null && typeof p === "object" ? 0 : typeof p === "symbol" ? 0 : toStr(p).length);
  const searchPolls = (work) => Math.floor(work / ${SEARCH_COST_PER_POLL});
  for (const name of ["indexOf", "lastIndexOf", "includes", "split", "replace", "replaceAll", "startsWith", "endsWith"]) {
    guard(String.prototype, name, (self, args) => (typeof self === "string" ? self : toStr(self)).length * Math.max(1, patternLength(args[0])), ${SEARCH_COST_MAX}, searchPolls);
  }
  const arrayLength = (self) => { const n = Number(Object(self).length); return n === n ? n : 0; };
  const log2 = (n) => { let b = 1; while (n > 1) { n = Math.floor(n / 2); b++; } return b; };
  const walkPolls = (n) => Math.floor(n / ${ELEMENTS_PER_POLL});
  // A sort makes n log2 n comparisons.
  const sortPolls = (n) => Math.floor((n * log2(n)) / ${COMPARISONS_PER_POLL});
  for (const name of ["indexOf", "lastIndexOf", "includes", "forEach", "map", "filter", "some", "every", "reduce", "reduceRight", "find", "findIndex", "findLast", "findLastIndex", "fill", "copyWithin", "reverse", "toReversed", "flat", "flatMap", "slice", "splice", "keys", "values", "entries", "at", "with", "concat", "toSpliced", "sort", "toSorted"]) {
    if (typeof Array.prototype[name] === "function") guard(Array.prototype, name, arrayLength, ${ARRAY_LENGTH_MAX}, name === "sort" || name === "toSorted" ? sortPolls : walkPolls);
  }
  // Typed arrays' methods walk natively too.
  const TypedArrayPrototype = Object.getPrototypeOf(Int8Array.prototype);
  for (const name of ["indexOf", "lastIndexOf", "includes", "forEach", "map", "filter", "some", "every", "reduce", "reduceRight", "find", "findIndex", "findLast", "findLastIndex", "fill", "copyWithin", "reverse", "toReversed", "slice", "set", "join", "toLocaleString", "with", "sort", "toSorted"]) {
    if (typeof TypedArrayPrototype[name] === "function") guard(TypedArrayPrototype, name, arrayLength, ${ARRAY_LENGTH_MAX}, name === "sort" || name === "toSorted" ? sortPolls : walkPolls);
  }
  // Converting the elements to strings natively would print each BigInt without a poll point:
  // a sort without a comparator compares in JavaScript instead (one call per comparison), and
  // join (which toString calls) is written in JavaScript (one loop step per element).
  const defaultCompare = (x, y) => { const a = toStr(x); const b = toStr(y); return a < b ? -1 : a > b ? 1 : 0; };
  for (const name of ["sort", "toSorted"]) {
    const sorted = Array.prototype[name];
    if (typeof sorted === "function") define(Array.prototype, name, { [name](compare) { return apply(sorted, this, [compare === undefined ? defaultCompare : compare]); } }[name]);
  }
  const join = { join(separator) {
    const o = Object(this);
    const length = arrayLength(o);
    if (length > ${ARRAY_LENGTH_MAX}) throw new RangeError("join on values this large is not available to a contract");
    const sep = separator === undefined ? "," : toStr(separator);
    let out = "";
    for (let i = 0; i < length; i++) {
      if (i > 0) out += sep;
      const v = o[i];
      if (v !== undefined && v !== null) out += toStr(v);
    }
    return out;
  } }.join;
  define(Array.prototype, "join", join);
  const concat = { concat(...parts) {
    if (this === undefined || this === null) throw new TypeError("String.prototype.concat called on null or undefined");
    let out = toStr(this);
    for (let i = 0; i < parts.length; i++) out += toStr(parts[i]);
    return out;
  } }.concat;
  define(String.prototype, "concat", concat);

  // BigInts. Every BigInt a contract makes has at most CAP bits (the chain's maxBigIntBits): the
  // rewritten operators (helpers below), BigInt(), asIntN / asUintN check the size before doing
  // the native work and throw BIGINT_TOO_LARGE past it. Parsing and printing are quadratic in the
  // digits and charged by them; products and quotients by limbs.
  const NativeBigInt = BigInt;
  const bigToString = NativeBigInt.prototype.toString;
  const bigValueOf = NativeBigInt.prototype.valueOf;
  const toPrimitiveKey = Symbol.toPrimitive;
  let CAP = ${DEFAULT_MAX_BIGINT_BITS};
  let CAPN = NativeBigInt(CAP);
  let LIMIT = 1n << CAPN;
  const SMALL = 1n << 64n;
  class BigIntTooLarge extends RangeError {}
  Object.defineProperty(BigIntTooLarge.prototype, "name", { value: ${JSON.stringify(BIGINT_TOO_LARGE_ERROR)} });
  const tooBig = (what) => new BigIntTooLarge(what + " would have more than " + CAP + " bits (the chain's maxBigIntBits)");
  const over = (x) => x >= LIMIT || x <= -LIMIT;
  const large = (x) => x >= SMALL || x <= -SMALL;
  // Bits in |x|, exact, from its hexadecimal digits (linear in the size).
  const bitLength = (x) => {
    if (x < 0n) x = -x;
    if (x === 0n) return 0;
    const h = apply(bigToString, x, [16]);
    const d = h.charCodeAt(0);
    const top = d <= 57 ? d - 48 : d - 87;
    return (h.length - 1) * 4 + (top >= 8 ? 4 : top >= 4 ? 3 : top >= 2 ? 2 : 1);
  };
  // Charges as costs.ts has them.
  const printPolls = (bits) => {
    const d = Math.ceil(bits * 0.30103);
    return 1 + Math.floor(d / ${PRINT_DIGITS_PER_POLL}) + Math.floor((d * d) / ${PRINT_SQUARED_DIGITS_PER_POLL});
  };
  const parsePolls = (chars) => 1 + Math.floor(chars / ${PARSE_CHARS_PER_POLL}) + Math.floor((chars * chars) / ${PARSE_SQUARED_CHARS_PER_POLL});
  const limbPolls = (bitsA, bitsB) => 1 + Math.floor((Math.ceil(bitsA / 32) * Math.ceil(bitsB / 32)) / ${LIMB_PRODUCTS_PER_POLL});
  // Multiplying or dividing: below 64 bits each, nothing beyond the helper's own poll points.
  const limbWork = (a, b) => { if (large(a) || large(b)) spend(limbPolls(bitLength(a), bitLength(b))); };
  // ToPrimitive, as the operators do it, so that a helper sees what the native operator would.
  const toPrimitive = (v, hint) => {
    const exotic = v[toPrimitiveKey];
    if (exotic !== undefined && exotic !== null) {
      if (typeof exotic !== "function") throw new TypeError("Symbol.toPrimitive is not a function");
      const r = apply(exotic, v, [hint]);
      if (isObj(r)) throw new TypeError("cannot convert object to primitive value");
      return r;
    }
    const first = hint === "string" ? "toString" : "valueOf";
    const second = hint === "string" ? "valueOf" : "toString";
    let f = v[first];
    if (typeof f === "function") { const r = apply(f, v, []); if (!isObj(r)) return r; }
    f = v[second];
    if (typeof f === "function") { const r = apply(f, v, []); if (!isObj(r)) return r; }
    throw new TypeError("cannot convert object to primitive value");
  };
  // A comparison of a BigInt with a string parses the string.
  const parseGuard = (a, b) => {
    if (typeof a === "bigint" && typeof b === "string") spend(parsePolls(b.length));
    else if (typeof b === "bigint" && typeof a === "string") spend(parsePolls(a.length));
  };
  // a << s on BigInts (s < 0 shifts right): the result has bitLength(a) + s bits.
  const shift = (a, s, what) => {
    if (a === 0n) return 0n;
    if (s > 0n) {
      if (s > CAPN || bitLength(a) + Number(s) > CAP) throw tooBig(what);
      return a << s;
    }
    if (-s > CAPN + 64n) return a < 0n ? -1n : 0n;
    return a << s;
  };
  const looseEq = (a, b) => {
    if (typeof a === typeof b) return a == b;
    if (a === null || a === undefined || b === null || b === undefined) return a == b;
    if (isObj(a)) return isObj(b) ? a == b : looseEq(toPrimitive(a, "default"), b);
    if (isObj(b)) return looseEq(a, toPrimitive(b, "default"));
    parseGuard(a, b);
    return a == b;
  };
  // The helpers the rewritten code calls for + - * / % ** << >> < > <= >= == != (and their
  // compound assignments). Operands are converted as the operator would (-(-v) is ToNumeric),
  // then the native operator runs on primitives: numbers and strings behave as without them.
  const helpers = {
    add(a, b) {
      const r = a + b;
      if (typeof r === "bigint") { if (over(r)) throw tooBig("a sum"); }
      else if (typeof r === "string") { const x = typeof a === "bigint" ? a : b; if (typeof x === "bigint" && large(x)) spend(printPolls(bitLength(x))); }
      return r;
    },
    sub(a, b) {
      const r = a - b;
      if (typeof r === "bigint" && over(r)) throw tooBig("a difference");
      return r;
    },
    mul(a, b) {
      if (typeof a === "number" && typeof b === "number") return a * b;
      if (isObj(a)) a = -(-a);
      if (isObj(b)) b = -(-b);
      if (typeof a !== "bigint" || typeof b !== "bigint") return a * b;
      if (large(a) || large(b)) {
        const ba = bitLength(a);
        const bb = bitLength(b);
        // |a * b| >= 2 ** (ba + bb - 2): past the cap before it is made.
        if (ba + bb - 1 > CAP) throw tooBig("a product");
        spend(limbPolls(ba, bb));
      }
      const r = a * b;
      if (over(r)) throw tooBig("a product");
      return r;
    },
    div(a, b) {
      if (typeof a === "number" && typeof b === "number") return a / b;
      if (isObj(a)) a = -(-a);
      if (isObj(b)) b = -(-b);
      if (typeof a === "bigint" && typeof b === "bigint") limbWork(a, b);
      return a / b;
    },
    mod(a, b) {
      if (typeof a === "number" && typeof b === "number") return a % b;
      if (isObj(a)) a = -(-a);
      if (isObj(b)) b = -(-b);
      if (typeof a === "bigint" && typeof b === "bigint") limbWork(a, b);
      return a % b;
    },
    pow(a, b) {
      if (typeof a === "number" && typeof b === "number") return a ** b;
      if (isObj(a)) a = -(-a);
      if (isObj(b)) b = -(-b);
      if (typeof a !== "bigint" || typeof b !== "bigint" || b < 0n || (a >= -1n && a <= 1n)) return a ** b;
      // |a| >= 2: |a| ** b >= 2 ** ((bits(a) - 1) * b).
      if (b > CAPN) throw tooBig("a power");
      const n = Number(b);
      const bits = bitLength(a);
      if ((bits - 1) * n >= CAP) throw tooBig("a power");
      if (bits * n > 64) spend(limbPolls(bits * n, bits * n));
      const r = a ** b;
      if (over(r)) throw tooBig("a power");
      return r;
    },
    shl(a, b) {
      if (typeof a === "number" && typeof b === "number") return a << b;
      if (isObj(a)) a = -(-a);
      if (isObj(b)) b = -(-b);
      if (typeof a !== "bigint" || typeof b !== "bigint") return a << b;
      return shift(a, b, "a left shift");
    },
    shr(a, b) {
      if (typeof a === "number" && typeof b === "number") return a >> b;
      if (isObj(a)) a = -(-a);
      if (isObj(b)) b = -(-b);
      if (typeof a !== "bigint" || typeof b !== "bigint") return a >> b;
      return shift(a, -b, "a right shift by a negative count");
    },
    lt(a, b) {
      if (typeof a === typeof b && !isObj(a)) return a < b;
      if (isObj(a)) a = toPrimitive(a, "number");
      if (isObj(b)) b = toPrimitive(b, "number");
      parseGuard(a, b);
      return a < b;
    },
    gt(a, b) {
      if (typeof a === typeof b && !isObj(a)) return a > b;
      if (isObj(a)) a = toPrimitive(a, "number");
      if (isObj(b)) b = toPrimitive(b, "number");
      parseGuard(a, b);
      return a > b;
    },
    le(a, b) {
      if (typeof a === typeof b && !isObj(a)) return a <= b;
      if (isObj(a)) a = toPrimitive(a, "number");
      if (isObj(b)) b = toPrimitive(b, "number");
      parseGuard(a, b);
      return a <= b;
    },
    ge(a, b) {
      if (typeof a === typeof b && !isObj(a)) return a >= b;
      if (isObj(a)) a = toPrimitive(a, "number");
      if (isObj(b)) b = toPrimitive(b, "number");
      parseGuard(a, b);
      return a >= b;
    },
    eq(a, b) { return looseEq(a, b); },
    ne(a, b) { return !looseEq(a, b); },
    // A computed key converted once, before the value of a compound assignment is evaluated.
    key(k) {
      if (!isObj(k)) return k;
      const p = toPrimitive(k, "string");
      return typeof p === "symbol" ? p : toStr(p);
    },
    with(o, k, f) { return f(o, k); },
    spend,
  };
  const helperList = ${JSON.stringify(HELPERS)}.map((h) => helpers[h]);
  // ToBigInt on a primitive: numbers are refused (BigInt() converts them, ToBigInt does not).
  const primToBigInt = (p) => {
    if (typeof p === "number") throw new TypeError("cannot convert a number to a BigInt");
    if (typeof p === "string") spend(parsePolls(p.length));
    return NativeBigInt(p);
  };
  const MeteredBigInt = function BigInt(v) {
    if (new.target !== undefined) throw new TypeError("BigInt is not a constructor");
    const p = isObj(v) ? toPrimitive(v, "number") : v;
    if (typeof p === "string") spend(parsePolls(p.length));
    const r = NativeBigInt(p);
    if (over(r)) throw tooBig("BigInt()");
    return r;
  };
  Object.defineProperty(MeteredBigInt, "prototype", { value: NativeBigInt.prototype, writable: false });
  // asIntN / asUintN: a width above the cap keeps a value that fits it, and refuses one that
  // would come out larger (asUintN(2 ** 40, -1n) has 2 ** 40 bits). (QuickJS's own asUintN
  // returns a negative value unchanged; here it is x mod 2 ** bits, as the language has it.)
  for (const name of ["asIntN", "asUintN"]) {
    const native = NativeBigInt[name];
    const signed = name === "asIntN";
    define(MeteredBigInt, name, { [name](bits, value) {
      // ToIndex(bits) first (a width below 0 or past 2 ** 53 - 1 is the native RangeError), then the value.
      const t = +bits;
      const n = t !== t ? 0 : Math.trunc(t);
      if (!(n >= 0 && n <= 9007199254740991)) return native(t, 0n);
      const x = primToBigInt(isObj(value) ? toPrimitive(value, "number") : value);
      if (n <= CAP + 8) {
        const r = signed ? native(n, x) : x & ((1n << NativeBigInt(n)) - 1n);
        if (over(r)) throw tooBig("BigInt." + name + "()");
        return r;
      }
      if (signed ? !over(x) : x >= 0n && x < LIMIT) return x;
      throw tooBig("BigInt." + name + "()");
    } }[name]);
  }
  define(NativeBigInt.prototype, "constructor", MeteredBigInt);
  define(g, "BigInt", MeteredBigInt);
  for (const name of ["toString", "toLocaleString"]) {
    const native = NativeBigInt.prototype[name];
    define(NativeBigInt.prototype, name, { [name](radix) {
      const x = apply(bigValueOf, this, []);
      if (large(x)) spend(printPolls(bitLength(x)));
      return apply(native, x, [radix]);
    } }[name]);
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
  define(JSON, "stringify", stringify);
  trap(Math, "random", "Math.random");
  const slot = { contract: undefined, members: undefined };
  const json = JSON;
  // Everything reachable from a value, frozen: what every call of the block shares is read-only.
  const deepFreeze = (v) => { if (v !== null && typeof v === "object" && !Object.isFrozen(v)) { Object.freeze(v); for (const k of Object.keys(v)) deepFreeze(v[k]); } return v; };
  const call = (op, input) => {
    const c = slot.contract;
    if (c === undefined) throw new Error("no contract code");
    pending = 0;
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
  // src is the rewritten code (rewrite.ts): the body of a function of (module, exports) that calls
  // the helpers, which it gets as the parameters of an outer function it cannot name.
  const setCode = (src, maxBigIntBits) => {
    if (slot.contract !== undefined) throw new Error("code already set");
    CAP = maxBigIntBits;
    CAPN = NativeBigInt(CAP);
    LIMIT = 1n << CAPN;
    pending = 0;
    const module = { exports: {} };
    const outer = new NativeFunction(...${JSON.stringify(HELPERS.map(helperName))}, '"use strict";\nreturn function (module, exports) {\n' + src + '\n};');
    apply(apply(outer, undefined, helperList), undefined, [module, module.exports]);
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
