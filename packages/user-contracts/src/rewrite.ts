// The rewrite a contract's code goes through before QuickJS compiles it. Every operator that can
// make a BigInt larger than its operands, or parse a string into one, becomes a call to a helper
// the prelude defines (`a * b` → `__tallyMul(a, b)`), which checks the chain's BigInt cap before
// the native work and charges the work to the step count (see prelude.ts, docs/user-contracts.md).
// Numbers and strings keep their semantics: a helper does the same operation on them.
//
// Straight-line code is charged too. QuickJS counts poll points (calls and jumps) only, so a
// loop whose body is thousands of statements long ran thousands of operations per step. Every
// statement list (a block, a function body, a case) whose statements weigh more than
// SPEND_FREE_WEIGHT starts with `__tallySpend(weight)`: one poll point per syntax node it runs
// through without a call or a loop, more for a node that can convert a BigInt to a string
// implicitly (a template substitution, a computed key: costs.ts).
//
// The code is parsed with acorn (pinned, like QuickJS) and the output is the source with the
// rewritten nodes spliced in, so it is a function of the code and the cap alone: every node
// rewrites the same code to the same text. The code's hash stays the hash of the submitted source.
import { Parser, type Node } from "acorn";
import { rejection, type Rejection } from "@tally/contracts";
import { SPEND_FREE_WEIGHT, implicitPrintWeight } from "./costs.js";

/** Names a contract may not use: the helpers' and the rewrite's own. */
export const RESERVED_PREFIX = "__tally";

/** The helpers the rewritten code calls, in the order they are passed to it (see the prelude's setCode). */
export const HELPERS = [
  "add",
  "sub",
  "mul",
  "div",
  "mod",
  "pow",
  "shl",
  "shr",
  "lt",
  "gt",
  "le",
  "ge",
  "eq",
  "ne",
  "key",
  "with",
  "spend",
] as const;

export type Helper = (typeof HELPERS)[number];

/** The parameter name a helper has in the rewritten code: `__tallyMul`. */
export function helperName(h: Helper): string {
  return `${RESERVED_PREFIX}${h[0]!.toUpperCase()}${h.slice(1)}`;
}

const BINARY: { readonly [op: string]: Helper } = {
  "+": "add",
  "-": "sub",
  "*": "mul",
  "/": "div",
  "%": "mod",
  "**": "pow",
  "<<": "shl",
  ">>": "shr",
  "<": "lt",
  ">": "gt",
  "<=": "le",
  ">=": "ge",
  "==": "eq",
  "!=": "ne",
};

const COMPARISONS = new Set(["<", ">", "<=", ">=", "==", "!="]);

/** Longest string literal a comparison with a BigInt may parse without the helper (its parse is cheap). */
const SHORT_STRING = 100;

/** The prologue every rewritten code starts with: contracts run in strict mode. */
export const STRICT_PROLOGUE = '"use strict";\n';

class RewriteError extends Error {}

/**
 * Deepest nesting of the parser's recursive productions (statements, expressions, operators,
 * unary operators, subscripts) a code may have. acorn recurses in Node's own stack, whose size is
 * the machine's: past this bound a code is refused the same way everywhere, well before any
 * node's stack would overflow (on the bench machine acorn overflowed at no less than 1,024).
 */
export const NESTING_MAX = 400;

// acorn's parser with a count of its recursion (its internals are untyped).
const BoundedParser = Parser.extend((Base) => {
  const base = Base as any;
  class Bounded extends base {
    depth = 0;
  }
  for (const method of [
    "parseStatement",
    "parseMaybeAssign",
    "parseExprOp",
    "parseMaybeUnary",
    "parseExprSubscripts",
    "parseExprAtom",
    "parseNew",
    "parseBindingAtom",
    "regexp_disjunction",
  ]) {
    const inner = base.prototype[method];
    (Bounded.prototype as any)[method] = function (this: any, ...args: unknown[]) {
      if (++this.depth > NESTING_MAX) this.raise(this.start, `the code nests deeper than ${NESTING_MAX} levels`);
      try {
        return inner.apply(this, args);
      } finally {
        this.depth--;
      }
    };
  }
  return Bounded as unknown as typeof Parser;
});

type AnyNode = Node & { readonly [field: string]: unknown };

function isNode(v: unknown): v is AnyNode {
  return typeof v === "object" && v !== null && typeof (v as Node).type === "string" && typeof (v as Node).start === "number";
}

function children(n: AnyNode): AnyNode[] {
  const out: AnyNode[] = [];
  for (const key of Object.keys(n)) {
    const v = n[key];
    if (isNode(v)) out.push(v);
    else if (Array.isArray(v)) for (const e of v) if (isNode(e)) out.push(e);
  }
  // A shorthand property holds the same identifier as key and value: the longer node first, the other skipped.
  return out.sort((a, b) => a.start - b.start || b.end - a.end);
}

function unparen(n: AnyNode): AnyNode {
  let e = n;
  while (e.type === "ParenthesizedExpression") e = e.expression as AnyNode;
  return e;
}

// An operand that rules out a BigInt result (a number literal: mixing it with a BigInt throws), or
// for + and comparisons a string that makes the result a string or is short to parse.
function settles(n: AnyNode, op: string): boolean {
  const e = unparen(n);
  if (e.type === "Literal" && typeof e.value === "number") return true;
  if (e.type === "UnaryExpression" && (e.operator === "-" || e.operator === "+") && unparen(e.argument as AnyNode).type === "Literal") {
    return typeof unparen(e.argument as AnyNode).value === "number";
  }
  if (op === "+") return stringy(e);
  if (COMPARISONS.has(op)) return e.type === "Literal" && typeof e.value === "string" && e.value.length <= SHORT_STRING;
  return false;
}

// An expression whose value is a string whatever its operands: a string literal, a template, or a
// + one of whose operands is such (so the chain "acct/" + a + "/" + b calls no helper).
function stringy(n: AnyNode): boolean {
  const e = unparen(n);
  if ((e.type === "Literal" && typeof e.value === "string") || e.type === "TemplateLiteral") return true;
  return e.type === "BinaryExpression" && e.operator === "+" && (stringy(e.left as AnyNode) || stringy(e.right as AnyNode));
}

// Whether an expression holds yield or await outside nested functions (they cannot move into an arrow).
function suspends(n: AnyNode): boolean {
  if (n.type === "YieldExpression" || n.type === "AwaitExpression") return true;
  if (n.type === "FunctionExpression" || n.type === "FunctionDeclaration" || n.type === "ArrowFunctionExpression") return false;
  return children(n).some(suspends);
}

const FUNCTIONS = new Set(["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"]);
const LOOPS = new Set(["ForStatement", "ForInStatement", "ForOfStatement", "WhileStatement", "DoWhileStatement"]);

class Rewriter {
  /** Extra weight of a node that can print a BigInt implicitly (costs.ts). */
  private readonly printWeight: number;

  constructor(
    private readonly src: string,
    private readonly maxBigIntBits: number,
  ) {
    this.printWeight = implicitPrintWeight(maxBigIntBits);
  }

  emit(n: AnyNode): string {
    switch (n.type) {
      case "Identifier":
      case "PrivateIdentifier":
        if ((n.name as string).startsWith(RESERVED_PREFIX)) {
          throw new RewriteError(`the name ${n.name as string} is reserved (names starting ${RESERVED_PREFIX} are the sandbox's)`);
        }
        break;
      case "Literal":
        if (typeof n.bigint === "string") this.checkLiteral(n.bigint);
        break;
      case "ImportExpression":
        throw new RewriteError("import() is not available to a contract");
      case "BinaryExpression": {
        const h = BINARY[n.operator as string];
        const left = n.left as AnyNode;
        const right = n.right as AnyNode;
        if (h !== undefined && !settles(left, n.operator as string) && !settles(right, n.operator as string)) {
          return `${helperName(h)}(${this.emit(left)}, ${this.emit(right)})`;
        }
        break;
      }
      case "AssignmentExpression": {
        const op = n.operator as string;
        const h = op.endsWith("=") ? BINARY[op.slice(0, -1)] : undefined;
        if (h !== undefined && !COMPARISONS.has(op.slice(0, -1)) && !settles(n.right as AnyNode, op.slice(0, -1))) {
          return this.compound(h, n.left as AnyNode, n.right as AnyNode);
        }
        break;
      }
      // Statement lists: each charges what its own statements weigh.
      case "Program":
        return this.list(n, n.body as AnyNode[], n.end, 0);
      case "BlockStatement":
      case "StaticBlock":
        return this.list(n, n.body as AnyNode[], n.end - 1, 0);
      case "SwitchCase":
        return this.list(n, n.consequent as AnyNode[], n.end, 0);
      // Bodies that run apart from the statements around them: a function's (with its parameters'
      // defaults), a loop's (with its test and update, run once per iteration), a branch.
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression": {
        const params = (n.params as AnyNode[]).reduce((w, p) => w + this.weight(p), 0);
        return this.copy(n, new Map([[n.body as AnyNode, params]]));
      }
      case "ForStatement":
      case "WhileStatement":
      case "DoWhileStatement": {
        const perIteration =
          (n.test === null || n.test === undefined ? 0 : this.weight(n.test as AnyNode)) +
          (n.update ? this.weight(n.update as AnyNode) : 0);
        return this.copy(n, new Map([[n.body as AnyNode, perIteration]]));
      }
      case "ForInStatement":
      case "ForOfStatement":
        return this.copy(n, new Map([[n.body as AnyNode, 1]]));
      case "IfStatement": {
        const bodies = new Map([[n.consequent as AnyNode, 0]]);
        if (n.alternate) bodies.set(n.alternate as AnyNode, 0);
        return this.copy(n, bodies);
      }
      case "PropertyDefinition":
        // A class field's initializer runs at each construction.
        if (n.value) return this.copy(n, new Map([[n.value as AnyNode, 0]]));
        break;
    }
    return this.copy(n);
  }

  // The node's source with its children emitted in place; `bodies` are children that charge
  // their own weight (plus the extra given) when they run.
  private copy(n: AnyNode, bodies?: ReadonlyMap<AnyNode, number>): string {
    let out = "";
    let at = n.start;
    for (const c of children(n)) {
      if (c.start < at) continue;
      const extra = bodies?.get(c);
      out += this.src.slice(at, c.start) + (extra === undefined ? this.emit(c) : this.body(c, extra));
      at = c.end;
    }
    return out + this.src.slice(at, n.end);
  }

  // A body: a block charges in its list; a statement or an expression (an arrow's, a field's)
  // heavier than the free weight is wrapped with a charge of its own.
  private body(b: AnyNode, extra: number): string {
    if (b.type === "BlockStatement") {
      const stmts = b.body as AnyNode[];
      return this.list(b, stmts, b.end - 1, extra);
    }
    const statement = b.type.endsWith("Statement") || b.type.endsWith("Declaration");
    const w = extra + (statement ? this.statementWeight(b) : this.weight(b));
    if (w <= SPEND_FREE_WEIGHT) return this.emit(b);
    const spend = `${helperName("spend")}(${w})`;
    return statement ? `{ ${spend}; ${this.emit(b)} }` : `(${spend}, ${this.emit(b)})`;
  }

  // A statement list: `__tallySpend(weight);` after its directives, when it weighs enough.
  private list(n: AnyNode, stmts: readonly AnyNode[], endAt: number, extra: number): string {
    const w = stmts.reduce((sum, s) => sum + this.statementWeight(s), extra);
    if (w <= SPEND_FREE_WEIGHT) return this.copy(n);
    const first = stmts.find((s) => s.type !== "ExpressionStatement" || typeof s.directive !== "string");
    const insertAt = first === undefined ? endAt : first.start;
    const spend = `${helperName("spend")}(${w}); `;
    let out = "";
    let at = n.start;
    let inserted = false;
    for (const c of children(n)) {
      if (c.start < at) continue;
      if (!inserted && c.start >= insertAt) {
        out += this.src.slice(at, insertAt) + spend;
        at = insertAt;
        inserted = true;
      }
      out += this.src.slice(at, c.start) + this.emit(c);
      at = c.end;
    }
    if (!inserted) {
      out += this.src.slice(at, insertAt) + spend;
      at = insertAt;
    }
    return out + this.src.slice(at, n.end);
  }

  // What a statement weighs in its list: its own nodes, not the bodies that charge apart.
  private statementWeight(s: AnyNode): number {
    switch (s.type) {
      case "FunctionDeclaration":
      case "BlockStatement":
      case "EmptyStatement":
        return 0;
      case "IfStatement":
        return 1 + this.weight(s.test as AnyNode);
      case "ForStatement":
        return 1 + (s.init ? this.weight(s.init as AnyNode) : 0) + (s.test ? this.weight(s.test as AnyNode) : 0);
      case "WhileStatement":
        return 1 + this.weight(s.test as AnyNode);
      case "DoWhileStatement":
        return 1;
      case "ForInStatement":
      case "ForOfStatement":
        return 1 + this.weight(s.right as AnyNode) + this.weight(s.left as AnyNode);
      case "SwitchStatement":
        return (
          1 +
          this.weight(s.discriminant as AnyNode) +
          (s.cases as AnyNode[]).reduce((w, c) => w + (c.test ? this.weight(c.test as AnyNode) : 0), 0)
        );
      case "TryStatement":
        return 1 + (s.handler && (s.handler as AnyNode).param ? this.weight((s.handler as AnyNode).param as AnyNode) : 0);
      case "LabeledStatement":
        return this.statementWeight(s.body as AnyNode);
      default:
        return this.weight(s);
    }
  }

  // An expression's (or simple statement's) weight: one per node, a function or class body not included.
  private weight(n: AnyNode): number {
    if (FUNCTIONS.has(n.type)) return 1;
    if (LOOPS.has(n.type) || n.type === "IfStatement" || n.type === "BlockStatement") return this.statementWeight(n);
    let w = 1;
    switch (n.type) {
      case "ClassBody":
        // Methods are functions; fields run at construction, static blocks apart; static fields now.
        for (const e of n.body as AnyNode[]) {
          if (e.computed) w += this.weight(e.key as AnyNode);
          if (e.type === "PropertyDefinition" && e.static && e.value) w += this.weight(e.value as AnyNode);
        }
        return w;
      case "TemplateLiteral":
        w += (n.expressions as AnyNode[]).length * this.printWeight;
        break;
      case "MemberExpression":
      case "Property":
        if (n.computed) w += this.printWeight;
        break;
      case "BinaryExpression":
        if (n.operator === "in" || (n.operator === "+" && (settles(n.left as AnyNode, "+") || settles(n.right as AnyNode, "+")))) {
          w += this.printWeight;
        }
        break;
    }
    for (const c of children(n)) w += this.weight(c);
    return w;
  }

  // `target op= value`, evaluated as the operator would: the target's object and key once, before
  // the value, the current value read before the value is evaluated.
  private compound(h: Helper, target: AnyNode, value: AnyNode): string {
    const fn = helperName(h);
    const t = unparen(target);
    const v = this.emit(value);
    if (t.type === "Identifier") {
      const name = this.emit(t);
      return `${name} = ${fn}(${name}, ${v})`;
    }
    if (t.type !== "MemberExpression") throw new RewriteError(`an assignment to a ${t.type} is not available to a contract`);
    const obj = unparen(t.object as AnyNode);
    const prop = t.property as AnyNode;
    const literalKey = prop.type === "Literal" && (typeof prop.value === "string" || typeof prop.value === "number");
    const plainObject = obj.type === "Identifier" || obj.type === "ThisExpression" || obj.type === "Super";
    if (plainObject && (!t.computed || literalKey)) {
      const ref = this.emit(t);
      return `${ref} = ${fn}(${ref}, ${v})`;
    }
    if (obj.type === "Super") throw new RewriteError("a compound assignment to super[expression] is not available to a contract");
    if (suspends(value))
      throw new RewriteError("a compound assignment to a property whose value awaits or yields is not available to a contract");
    const o = `${RESERVED_PREFIX}O`;
    const k = `${RESERVED_PREFIX}K`;
    const withFn = helperName("with");
    const object = this.emit(t.object as AnyNode);
    if (t.computed) {
      return `${withFn}(${object}, ${helperName("key")}(${this.emit(prop)}), (${o}, ${k}) => ${o}[${k}] = ${fn}(${o}[${k}], ${v}))`;
    }
    const name = this.emit(prop);
    return `${withFn}(${object}, undefined, (${o}) => ${o}.${name} = ${fn}(${o}.${name}, ${v}))`;
  }

  private checkLiteral(digits: string): void {
    const bits = BigInt(digits).toString(2).length;
    if (bits > this.maxBigIntBits) {
      throw new RewriteError(`a BigInt literal of ${bits} bits is larger than the chain's maxBigIntBits (${this.maxBigIntBits})`);
    }
  }
}

/**
 * The code as the sandbox compiles it: the body of a function of (module, exports, ...helpers),
 * strict, with BigInt-capable operators calling the helpers. A code that does not parse, uses a
 * reserved name, import(), or a BigInt literal above the cap is BAD_CONTRACT.
 */
export function rewriteContract(code: string, maxBigIntBits: number): string | Rejection {
  const src = STRICT_PROLOGUE + code;
  let program: AnyNode;
  try {
    program = BoundedParser.parse(src, {
      ecmaVersion: 2024,
      sourceType: "script",
      allowReturnOutsideFunction: true,
      preserveParens: true,
    }) as unknown as AnyNode;
  } catch (e) {
    // acorn says where as (line:column), counting the prologue's line.
    const message = (e instanceof Error ? e.message : String(e)).replace(
      /\((\d+):(\d+)\)$/,
      (_, line: string, col: string) => `(line ${Number(line) - 1}, column ${col})`,
    );
    return rejection("BAD_CONTRACT", `the code does not compile: SyntaxError: ${message}`);
  }
  try {
    return new Rewriter(src, maxBigIntBits).emit(program);
  } catch (e) {
    if (e instanceof RewriteError) return rejection("BAD_CONTRACT", e.message);
    throw e;
  }
}
