// The WebAssembly sandbox user contracts run in: QuickJS (bellard/quickjs 2025-09-13, as built by
// quickjs-emscripten 0.32.0, pinned) in its own WebAssembly instance. A contract sees the
// JavaScript language and nothing of the host: no clock, no randomness, no I/O.
//
// Metering, and why it is the same on every node (docs/user-contracts.md):
// - Steps. QuickJS calls the runtime's interrupt handler once every 10,000 "poll points" (each
//   function call, each jump, instanceof prototype walks, property-enumeration and regex steps);
//   the counter lives in the context and nothing else moves it: no timer, no clock. One handler
//   call is one step. Our handler counts and says stop past the limit, and the interrupt it
//   raises is uncatchable, so the contract cannot swallow it. Native work that reaches no poll
//   point (BigInt arithmetic, parsing and printing, string searches, array walks, sorting) and
//   long straight-line code are charged to the same count through the prelude (prelude.ts,
//   rewrite.ts), and every BigInt is capped at the chain's maxBigIntBits.
// - Memory. The runtime's malloc limit counts every allocation's usable size, which depends on
//   the allocator's state in the instance's linear memory. The executor therefore starts a fresh
//   instance for every block that calls a user contract, and every node then makes the same
//   allocations in the same order, so the same allocation fails everywhere.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import {
  DefaultIntrinsics,
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSSyncVariant,
  type QuickJSWASMModule,
} from "quickjs-emscripten-core";
import { rejection, type Rejection, type SandboxLimits } from "@tally/contracts";
import { InvariantError, type JsonValue } from "@tally/ledger";
import { BIGINT_TOO_LARGE_ERROR, FORBIDDEN_GLOBAL_ERROR, PRELUDE } from "./prelude.js";
import { rewriteContract } from "./rewrite.js";

/** QuickJS's JS_INTERRUPT_COUNTER_INIT: poll points between two interrupt-handler calls, i.e. in one step. */
export const POLLS_PER_STEP = 10_000;

/** The C stack a contract may use, in bytes: deep recursion is OUT_OF_MEMORY (stack overflow). */
export const STACK_BYTES_MAX = 256 * 1024;

/** Steps loading a code may take (the prelude freezing the intrinsics, compiling the code): fixed, not in chain config. */
export const LOAD_STEP_LIMIT = 1_000;

/** Most rewritten codes kept (a block loads its codes anew, and rewriting one takes a parse). */
const REWRITTEN_MAX = 64;

const rewritten = new Map<string, string | Rejection>();

/** A code as the sandbox compiles it (rewrite.ts), for a BigInt cap; the same text on every node. */
export function rewrittenCode(code: string, maxBigIntBits: number): string | Rejection {
  const key = `${maxBigIntBits}\n${code}`;
  let r = rewritten.get(key);
  if (r === undefined) {
    r = rewriteContract(code, maxBigIntBits);
    if (rewritten.size >= REWRITTEN_MAX) rewritten.clear();
    rewritten.set(key, r);
  }
  return r;
}

/** Longest error message a rejection repeats from a contract. */
const MESSAGE_LENGTH_MAX = 300;

/** A call's result: the JSON the contract returned and the steps it took, or why it was refused. */
export type CallOutcome = { readonly ok: true; readonly value: JsonValue; readonly steps: number } | Rejection;

/** The per-call options: the step budget (steps left for this transaction) and the call's name in messages. */
export interface CallBudget {
  readonly steps: number;
}

// The WebAssembly module is compiled once per process and instantiated for every engine: the
// instances share compiled (and tiered-up) code, and each still has its own linear memory.
// (The project's lib has no WebAssembly types: the module is passed through as it comes.)
const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<object> } }).WebAssembly;
let compiled: Promise<object> | undefined;

function wasmModule(): Promise<object> {
  compiled ??= readFile(createRequire(import.meta.url).resolve("@jitl/quickjs-wasmfile-release-sync/wasm")).then((bytes) =>
    wasm.compile(bytes),
  );
  return compiled;
}

function clip(s: string): string {
  return s.length > MESSAGE_LENGTH_MAX ? `${s.slice(0, MESSAGE_LENGTH_MAX)}...` : s;
}

/** One QuickJS WebAssembly instance: its own linear memory, its own allocator. */
export class SandboxEngine {
  /**
   * Set when a call trapped in WebAssembly (an abort inside QuickJS): the instance is not to be
   * trusted again, and every later call in it is SANDBOX_TRAPPED until a fresh one replaces it.
   * A trap is as deterministic as the rest of WebAssembly, so every node sees the same.
   */
  trapped: string | undefined;

  private constructor(private readonly wasm: QuickJSWASMModule) {}

  /** A fresh instance (about 5 ms). */
  static async create(): Promise<SandboxEngine> {
    const base = (await import("@jitl/quickjs-wasmfile-release-sync")).default as unknown as QuickJSSyncVariant;
    const variant = newVariant(base, { wasmModule: (await wasmModule()) as never });
    return new SandboxEngine(await newQuickJSWASMModuleFromVariant(variant));
  }

  /**
   * Loads a contract's code into a new runtime and context: prelude, freeze, compile. A code that
   * does not compile is BAD_CONTRACT. The memory limit applies to the runtime from here on.
   */
  load(code: string, limits: SandboxLimits): LoadedCode | Rejection {
    if (this.trapped !== undefined) return trappedRejection(this.trapped);
    const body = rewrittenCode(code, limits.maxBigIntBits);
    if (typeof body !== "string") return body;
    try {
      const rt = this.wasm.newRuntime();
      const loaded = new LoadedCode(this, rt, limits);
      const r = loaded.init(body);
      if (r !== undefined) {
        loaded.dispose();
        return r;
      }
      return loaded;
    } catch (e) {
      return this.trap(e);
    }
  }

  /** Records a trap and says so as a rejection. */
  trap(e: unknown): Rejection {
    this.trapped = clip(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    return trappedRejection(this.trapped);
  }
}

function trappedRejection(why: string): Rejection {
  return rejection("SANDBOX_TRAPPED", `the sandbox instance trapped (${why}); calls in this block are refused`);
}

/** A contract's code loaded in its own runtime and context, ready to be called. */
export class LoadedCode {
  private ctx: QuickJSContext | undefined;
  private callFn: QuickJSHandle | undefined;
  private setMembersFn: QuickJSHandle | undefined;
  private members: string | undefined;
  private ticks = 0;
  private budget = 0;
  private outOfGas = false;
  /** True once a call ran out of steps or memory: the host drops the context and loads the code anew. */
  poisoned = false;

  constructor(
    private readonly engine: SandboxEngine,
    private readonly rt: QuickJSRuntime,
    private readonly limits: SandboxLimits,
  ) {
    rt.setMemoryLimit(limits.memoryLimitBytes);
    rt.setMaxStackSize(STACK_BYTES_MAX);
    rt.setInterruptHandler(() => {
      this.ticks++;
      if (this.ticks > this.budget) {
        this.outOfGas = true;
        return true;
      }
      return false;
    });
  }

  /** Runs the prelude and compiles the rewritten code; a rejection when it does not compile or loading runs out. */
  init(body: string): Rejection | undefined {
    // Date is left out of the intrinsics altogether; the prelude traps the name.
    const ctx = this.rt.newContext({ intrinsics: { ...DefaultIntrinsics, Date: false } });
    this.ctx = ctx;
    this.start(LOAD_STEP_LIMIT);
    // The meter the prelude's wrapped built-ins charge their native work to (it takes it off
    // globalThis before the contract runs): poll points, rounded up to steps.
    const charge = ctx.newFunction("charge", (polls) => {
      const n = ctx.typeof(polls) === "number" ? ctx.getNumber(polls) : 0;
      this.ticks += Math.ceil(Math.max(0, n) / POLLS_PER_STEP);
      if (this.ticks > this.budget) {
        this.outOfGas = true;
        return { error: ctx.newError({ name: "InternalError", message: "interrupted" }) };
      }
      return undefined;
    });
    ctx.setProp(ctx.global, "__tallyCharge", charge);
    charge.dispose();
    const prelude = ctx.evalCode(PRELUDE, "prelude.js");
    if (prelude.error) {
      const failure = this.failure(prelude.error, "loading");
      prelude.error.dispose();
      return failure;
    }
    prelude.value.dispose();
    const setCode = ctx.getProp(ctx.global, "__tallySetCode");
    const src = ctx.newString(body);
    const bits = ctx.newNumber(this.limits.maxBigIntBits);
    const set = ctx.callFunction(setCode, ctx.undefined, src, bits);
    src.dispose();
    bits.dispose();
    setCode.dispose();
    if (set.error) {
      const failure = this.failure(set.error, "loading");
      set.error.dispose();
      return failure.code === "CONTRACT_THREW" ? rejection("BAD_CONTRACT", `the code does not compile: ${failure.message}`) : failure;
    }
    set.value.dispose();
    this.callFn = ctx.getProp(ctx.global, "__tallyCall");
    this.setMembersFn = ctx.getProp(ctx.global, "__tallySetMembers");
    return undefined;
  }

  /**
   * Makes `members` (JSON text of id → roles) what ctx.members is in later calls. Sent only when it
   * differs from the last one sent, so it depends on the content alone, as every node has it;
   * its steps are not the transaction's (a fixed LOAD_STEP_LIMIT of their own).
   */
  setMembers(members: string): Rejection | undefined {
    const ctx = this.ctx;
    const fn = this.setMembersFn;
    if (ctx === undefined || fn === undefined || this.poisoned) throw new InvariantError("sandbox call on an unloaded code", "SANDBOX");
    if (members === this.members) return undefined;
    if (this.engine.trapped !== undefined) return trappedRejection(this.engine.trapped);
    this.start(LOAD_STEP_LIMIT);
    try {
      const inH = ctx.newString(members);
      const r = ctx.callFunction(fn, ctx.undefined, inH);
      inH.dispose();
      if (r.error) {
        const failure = this.failure(r.error, "setting the members");
        r.error.dispose();
        this.poisoned = true;
        return failure;
      }
      r.value.dispose();
    } catch (e) {
      this.poisoned = true;
      return this.engine.trap(e);
    }
    this.members = members;
    return undefined;
  }

  /** Runs one operation of the contract (see the prelude) on JSON arguments, within budget.steps. */
  call(op: string, args: readonly JsonValue[], budget: CallBudget): CallOutcome {
    const ctx = this.ctx;
    const fn = this.callFn;
    if (ctx === undefined || fn === undefined || this.poisoned) throw new InvariantError("sandbox call on an unloaded code", "SANDBOX");
    if (this.engine.trapped !== undefined) return trappedRejection(this.engine.trapped);
    this.start(budget.steps);
    let text: string | undefined;
    try {
      const opH = ctx.newString(op);
      const inH = ctx.newString(JSON.stringify(args));
      const r = ctx.callFunction(fn, ctx.undefined, opH, inH);
      opH.dispose();
      inH.dispose();
      if (r.error) {
        const failure = this.failure(r.error, op);
        r.error.dispose();
        return failure;
      }
      text = ctx.typeof(r.value) === "string" ? ctx.getString(r.value) : undefined;
      r.value.dispose();
    } catch (e) {
      // Not a JavaScript error of the contract's: WebAssembly trapped under QuickJS.
      this.poisoned = true;
      return this.engine.trap(e);
    }
    // A charge past the budget that the contract caught still ends the call out of gas.
    if (this.outOfGas) {
      this.poisoned = true;
      return rejection("OUT_OF_GAS", `${op} took more than ${this.budget} steps (of ${POLLS_PER_STEP} QuickJS poll points each)`);
    }
    if (text === undefined) throw new InvariantError("the sandbox entry point returned no string", "SANDBOX");
    return { ok: true, value: JSON.parse(text) as JsonValue, steps: this.ticks };
  }

  /** Frees the context and runtime (a trapped instance is dropped whole instead). */
  dispose(): void {
    try {
      this.callFn?.dispose();
      this.setMembersFn?.dispose();
      this.ctx?.dispose();
      this.rt.dispose();
    } catch (e) {
      this.engine.trap(e);
    } finally {
      this.callFn = undefined;
      this.setMembersFn = undefined;
      this.ctx = undefined;
    }
  }

  private start(steps: number): void {
    this.ticks = 0;
    this.budget = steps;
    this.outOfGas = false;
  }

  // Why a call failed, as a reason code. Reads name and message only: they need no allocation
  // that could fail again after an out-of-memory error.
  private failure(err: QuickJSHandle, during: string): Rejection {
    if (this.outOfGas) {
      this.poisoned = true;
      return rejection("OUT_OF_GAS", `${during} took more than ${this.budget} steps (of ${POLLS_PER_STEP} QuickJS poll points each)`);
    }
    const ctx = this.ctx!;
    let name = "";
    let message = "";
    try {
      if (ctx.typeof(err) === "object") {
        const n = ctx.getProp(err, "name");
        const m = ctx.getProp(err, "message");
        name = ctx.typeof(n) === "string" ? ctx.getString(n) : "";
        message = ctx.typeof(m) === "string" ? ctx.getString(m) : "";
        n.dispose();
        m.dispose();
      } else if (ctx.typeof(err) === "string") {
        message = ctx.getString(err);
      } else {
        message = `a ${ctx.typeof(err)} was thrown`;
      }
    } catch {
      // Reading the error failed: only memory exhaustion does that.
      this.poisoned = true;
      return rejection("OUT_OF_MEMORY", `${during} ran out of memory (limit ${this.limits.memoryLimitBytes} bytes)`);
    }
    if (name === "InternalError" && message === "out of memory") {
      this.poisoned = true;
      return rejection("OUT_OF_MEMORY", `${during} ran out of memory (limit ${this.limits.memoryLimitBytes} bytes)`);
    }
    if (message === "stack overflow" || message === "Maximum call stack size exceeded") {
      this.poisoned = true;
      return rejection("OUT_OF_MEMORY", `${during} overflowed the stack (limit ${STACK_BYTES_MAX} bytes)`);
    }
    if (name === FORBIDDEN_GLOBAL_ERROR) return rejection("FORBIDDEN_GLOBAL", clip(`${during}: ${message}`));
    if (name === BIGINT_TOO_LARGE_ERROR) return rejection("BIGINT_TOO_LARGE", clip(`${during}: ${message}`));
    return rejection("CONTRACT_THREW", clip(`${during} threw ${name === "" ? "" : `${name}: `}${message}`));
  }
}
