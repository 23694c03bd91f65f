// What a user contract declares about itself: its actions (the roles allowed and the schema of the
// args) and its queries (schema, public or not). The host checks args and roles against this
// before any code runs, as it does for a built-in contract.
import {
  hex32,
  identifier,
  integer,
  isRejection,
  optionalIdentifier,
  optionalInteger,
  optionalString,
  positiveAmount,
  rejection,
  requiredString,
  type Args,
  type Field,
  type Rejection,
} from "@tally/contracts";
import { ROLES, type JsonValue } from "@tally/ledger";

/** Most actions, queries, or arg fields of one action, a contract may declare. */
export const DECLARED_MAX = 32;

/** Longest string arg, in UTF-16 code units. */
export const STRING_ARG_LENGTH_MAX = 1000;

const NAME_RE = /^[a-z][a-z0-9-]{0,63}$/;
const FIELD_RE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * The arg types a contract may declare. A trailing "?" makes the field optional. Amounts are
 * positive decimal strings of minor units and reach the contract as strings (use BigInt).
 */
export const ARG_TYPES = ["identifier", "amount", "string", "integer", "hex32", "boolean"] as const;

/** A checked args object, as the contract receives it. */
export type ArgsSchema = ReadonlyMap<string, Field<JsonValue | undefined>>;

/** One declared action. */
export interface ActionDecl {
  readonly roles: readonly string[];
  readonly args: ArgsSchema;
  /**
   * The state keys the action reads and writes, as templates, when the contract declares them as
   * data: the host then computes them without a sandbox call (see expandKeys).
   */
  readonly keys?: readonly KeyTemplate[];
}

/** A key template's parts: literal text, the signer, or a declared arg. */
export type KeyTemplate = readonly ({ readonly text: string } | { readonly signer: true } | { readonly arg: string })[];

/** Most key templates one action may declare. */
export const KEY_TEMPLATES_MAX = 64;

const PLACEHOLDER_RE = /\{(signer|args\.[A-Za-z][A-Za-z0-9_]{0,63})\}/g;

function parseKeyTemplates(v: JsonValue | undefined, args: ArgsSchema, what: string): readonly KeyTemplate[] | undefined | Rejection {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0 || v.length > KEY_TEMPLATES_MAX) {
    return bad(`${what}.keys must be a list of 1 to ${KEY_TEMPLATES_MAX} key templates`);
  }
  const out: KeyTemplate[] = [];
  for (const t of v) {
    if (typeof t !== "string" || t.length === 0 || t.length > 200)
      return bad(`${what}.keys: a template is a string of 1 to 200 characters`);
    const parts: ({ text: string } | { signer: true } | { arg: string })[] = [];
    let at = 0;
    for (const m of t.matchAll(PLACEHOLDER_RE)) {
      if (m.index > at) parts.push({ text: t.slice(at, m.index) });
      const name = m[1]!;
      if (name === "signer") parts.push({ signer: true });
      else {
        const field = name.slice("args.".length);
        if (!args.has(field)) return bad(`${what}.keys: ${field} is not a declared arg`);
        parts.push({ arg: field });
      }
      at = m.index + m[0].length;
    }
    if (at < t.length) parts.push({ text: t.slice(at) });
    if (parts.some((p) => "text" in p && /[{}]/.test(p.text))) return bad(`${what}.keys: placeholders are {signer} and {args.<field>}`);
    out.push(parts);
  }
  return out;
}

/**
 * The keys an action's templates name for a command: each template with its placeholders filled
 * (an optional arg that is absent drops its template), in order, without repeats.
 */
export function expandKeys(templates: readonly KeyTemplate[], args: { readonly [k: string]: JsonValue }, signer: string): string[] {
  const out: string[] = [];
  for (const t of templates) {
    let key = "";
    let absent = false;
    for (const p of t) {
      if ("text" in p) key += p.text;
      else if ("signer" in p) key += signer;
      else {
        const v = args[p.arg];
        if (v === undefined || v === null) absent = true;
        else key += typeof v === "string" ? v : JSON.stringify(v);
      }
    }
    if (!absent && !out.includes(key)) out.push(key);
  }
  return out;
}

/** One declared query. */
export interface QueryDecl {
  readonly args: ArgsSchema;
  readonly public: boolean;
}

/** The built-in contracts a user contract may act on, each through its own narrow interface: cash, by cash legs. */
export const USABLE_BUILTINS: readonly string[] = ["cash"];

/** A contract's declarations. */
export interface Manifest {
  readonly actions: ReadonlyMap<string, ActionDecl>;
  readonly queries: ReadonlyMap<string, QueryDecl>;
  /** Built-ins it uses (see USABLE_BUILTINS). */
  readonly uses: readonly string[];
}

const booleanField: Field<boolean> = (args, name) => {
  const v = Object.hasOwn(args, name) ? args[name] : undefined;
  return typeof v === "boolean" ? v : rejection("BAD_ARGS", `${name} must be true or false`);
};

const optionalBoolean: Field<boolean | undefined> = (args, name) =>
  (Object.hasOwn(args, name) ? args[name] : undefined) === undefined ? undefined : booleanField(args, name);

const amountString: Field<string> = (args, name) => {
  const v = positiveAmount(args, name);
  return typeof v === "bigint" ? v.toString() : v;
};

const optionalAmountString: Field<string | undefined> = (args, name) =>
  (Object.hasOwn(args, name) ? args[name] : undefined) === undefined ? undefined : amountString(args, name);

const INTEGER_MAX = Number.MAX_SAFE_INTEGER;

function fieldOf(type: string): Field<JsonValue | undefined> | undefined {
  switch (type) {
    case "identifier":
      return identifier;
    case "identifier?":
      return optionalIdentifier;
    case "amount":
      return amountString;
    case "amount?":
      return optionalAmountString;
    case "string":
      return requiredString(STRING_ARG_LENGTH_MAX);
    case "string?":
      return optionalString(STRING_ARG_LENGTH_MAX);
    case "integer":
      return integer(-INTEGER_MAX, INTEGER_MAX);
    case "integer?":
      return optionalInteger(-INTEGER_MAX, INTEGER_MAX);
    case "hex32":
      return hex32;
    case "hex32?":
      return (args, name) => ((Object.hasOwn(args, name) ? args[name] : undefined) === undefined ? undefined : hex32(args, name));
    case "boolean":
      return booleanField;
    case "boolean?":
      return optionalBoolean;
    default:
      return undefined;
  }
}

function isObject(v: JsonValue | undefined): v is { readonly [k: string]: JsonValue } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function bad(message: string): Rejection {
  return rejection("BAD_CONTRACT", message);
}

function parseSchema(v: JsonValue | undefined, what: string): ArgsSchema | Rejection {
  if (v === undefined || v === null) return new Map();
  if (!isObject(v)) return bad(`${what}.args must be an object of field types`);
  const names = Object.keys(v).sort();
  if (names.length > DECLARED_MAX) return bad(`${what}.args declares more than ${DECLARED_MAX} fields`);
  const out = new Map<string, Field<JsonValue | undefined>>();
  for (const name of names) {
    if (!FIELD_RE.test(name)) return bad(`${what}.args field ${name.slice(0, 64)} is not a field name`);
    const type = v[name];
    const field = typeof type === "string" ? fieldOf(type) : undefined;
    if (field === undefined) return bad(`${what}.args.${name} must be one of ${ARG_TYPES.join(", ")} (with ? when optional)`);
    out.set(name, field);
  }
  return out;
}

/** Checks the declarations the contract's manifest operation returned; BAD_CONTRACT when they are malformed. */
export function parseManifest(v: JsonValue): Manifest | Rejection {
  if (!isObject(v)) return bad("the contract declares nothing");
  const actions = v.actions;
  if (!isObject(actions)) return bad("actions must be an object");
  const actionNames = Object.keys(actions).sort();
  if (actionNames.length === 0 || actionNames.length > DECLARED_MAX) return bad(`a contract declares 1 to ${DECLARED_MAX} actions`);
  const outActions = new Map<string, ActionDecl>();
  for (const name of actionNames) {
    if (!NAME_RE.test(name)) return bad(`action ${name.slice(0, 64)} is not an action name (lowercase letters, digits, '-')`);
    const a = actions[name];
    if (!isObject(a)) return bad(`action ${name} must be an object`);
    const roles = a.roles;
    if (
      !Array.isArray(roles) ||
      roles.length === 0 ||
      !roles.every((r) => typeof r === "string" && (ROLES as readonly string[]).includes(r))
    ) {
      return bad(`action ${name}: roles must be a non-empty list of ${ROLES.join(", ")}`);
    }
    const args = parseSchema(a.args, `action ${name}`);
    if (isRejection(args)) return args;
    const keys = parseKeyTemplates(a.keys, args, `action ${name}`);
    if (isRejection(keys)) return keys;
    outActions.set(name, { roles: [...new Set(roles as string[])], args, ...(keys === undefined ? {} : { keys }) });
  }
  const queries = v.queries ?? {};
  if (!isObject(queries)) return bad("queries must be an object");
  const queryNames = Object.keys(queries).sort();
  if (queryNames.length > DECLARED_MAX) return bad(`a contract declares at most ${DECLARED_MAX} queries`);
  const outQueries = new Map<string, QueryDecl>();
  for (const name of queryNames) {
    if (!NAME_RE.test(name)) return bad(`query ${name.slice(0, 64)} is not a query name`);
    const q = queries[name];
    if (!isObject(q)) return bad(`query ${name} must be an object`);
    const args = parseSchema(q.args, `query ${name}`);
    if (isRejection(args)) return args;
    outQueries.set(name, { args, public: q.public === true });
  }
  const uses = v.uses ?? [];
  if (!Array.isArray(uses) || !uses.every((u) => typeof u === "string" && USABLE_BUILTINS.includes(u))) {
    return bad(`uses may list only ${USABLE_BUILTINS.join(", ")}`);
  }
  return { actions: outActions, queries: outQueries, uses: [...new Set(uses as string[])] };
}

/** Checks raw args against a schema: the args object the contract receives (optional fields left out when absent). */
export function parseDeclaredArgs(args: Args, schema: ArgsSchema): { readonly [k: string]: JsonValue } | Rejection {
  const unexpected = Object.keys(args)
    .filter((k) => !schema.has(k))
    .sort();
  if (unexpected[0] !== undefined) return rejection("BAD_ARGS", `unexpected field ${unexpected[0].slice(0, 64)}`);
  const out: { [k: string]: JsonValue } = {};
  for (const [name, field] of [...schema].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const v = field(args, name);
    if (isRejection(v)) return v;
    if (v !== undefined) out[name] = v;
  }
  return out;
}
