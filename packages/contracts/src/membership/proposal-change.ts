// What a governance proposal changes: one of eleven kinds, each a flat JSON object with a `kind`.
// The same parser checks a proposer's args and reads a stored proposal back, so what state holds
// is exactly what was checked.
import { InvariantError, type JsonValue } from "@tally/ledger";
import { isRejection, rejection, type Rejection } from "../contract.js";
import {
  arrayOf,
  hex32,
  identifier,
  objectOf,
  optionalIdentifier,
  parseArgs,
  positiveAmount,
  requiredString,
  type Args,
  type Field,
} from "../schema.js";
import { booleanField, fractionTerm, listOf, oneOf, optional, reasonCodeList, roleList } from "./governance-fields.js";
import { integer, optionalInteger, optionalString } from "../schema.js";
import { BUILTIN_CONTRACT_NAMES, USER_CODE_LENGTH_MAX, USER_CONTRACT_VERSION_MAX, codeHash } from "./user-contract-records.js";
import {
  MAX_BIGINT_BITS_MAX,
  MAX_BIGINT_BITS_MIN,
  MEMORY_LIMIT_BYTES_MAX,
  MEMORY_LIMIT_BYTES_MIN,
  STEP_LIMIT_MAX,
} from "./chain-config.js";

/** Longest institution name, in UTF-16 code units. */
export const INSTITUTION_NAME_LENGTH_MAX = 200;

/** Most keys an institution may be admitted with. */
export const ADMITTED_KEYS_MAX = 8;

/** Most alert rules the supervision record may hold. */
export const ALERT_RULES_MAX = 32;

/** Every kind of change a proposal may carry. */
export const CHANGE_KINDS = [
  "add-institution",
  "change-roles",
  "rotate-key",
  "revoke-key",
  "suspend-institution",
  "reinstate-institution",
  "add-sequencer",
  "remove-sequencer",
  "set-finality",
  "set-governance",
  "set-supervision",
  "deploy-contract",
  "set-sandbox-limits",
] as const;

/** A key as a proposal names it: id and raw Ed25519 public key in lowercase hex. */
export interface NewKey {
  readonly keyId: string;
  readonly publicKey: string;
}

/** A supervision alert: trades on `contract` (and `action`, when given) of at least minAmount raise an alert. */
export interface AlertRule {
  readonly id: string;
  readonly contract: string;
  readonly action: string | undefined;
  readonly minAmount: bigint;
}

/**
 * The supervision rules beyond large-value thresholds (all optional; absent means off), evaluated
 * by the regulator's node (services/regfeed, docs/regfeed.md), never by consensus.
 */
export interface SupervisionExtras {
  /** Wash trading: A→B then B→A of the same thing within windowBlocks blocks. */
  readonly roundTrip?: { readonly windowBlocks: number } | undefined;
  /** One holder above maxShareBp basis points of a bond issue's allotted units. */
  readonly concentration?: { readonly maxShareBp: number } | undefined;
  /** count rejections (of reasonCodes, default: the double-spend/double-finance codes) by one signer within windowBlocks. */
  readonly rejectedAttempts?:
    { readonly count: number; readonly windowBlocks: number; readonly reasonCodes: readonly string[] | undefined } | undefined;
  readonly dishonouredBills?: boolean | undefined;
  /** A validator's state root differing from the quorum's, judged from receipts. */
  readonly divergence?: boolean | undefined;
}

/** Longest window a supervision rule may name, in blocks. */
export const SUPERVISION_WINDOW_BLOCKS_MAX = 100_000;

/** A change a proposal carries. Institution kinds name the institution they change. */
export type Change =
  | {
      readonly kind: "add-institution";
      readonly institution: string;
      readonly name: string;
      readonly roles: readonly string[];
      readonly keys: readonly NewKey[];
    }
  | { readonly kind: "change-roles"; readonly institution: string; readonly roles: readonly string[] }
  /** Adds keyId/publicKey and revokes oldKeyId in one step: the way back in when a key is lost. */
  | {
      readonly kind: "rotate-key";
      readonly institution: string;
      readonly oldKeyId: string;
      readonly keyId: string;
      readonly publicKey: string;
    }
  | { readonly kind: "revoke-key"; readonly institution: string; readonly keyId: string }
  | { readonly kind: "suspend-institution"; readonly institution: string }
  | { readonly kind: "reinstate-institution"; readonly institution: string }
  | { readonly kind: "add-sequencer"; readonly sequencerId: string; readonly publicKey: string }
  | { readonly kind: "remove-sequencer"; readonly sequencerId: string }
  | { readonly kind: "set-finality"; readonly quorumNumerator: number; readonly quorumDenominator: number }
  | { readonly kind: "set-governance"; readonly thresholdNumerator: number; readonly thresholdDenominator: number }
  | ({
      readonly kind: "set-supervision";
      readonly largeTradeAmount: bigint;
      readonly alertRules: readonly AlertRule[];
    } & SupervisionExtras)
  /** A user contract version (docs/user-contracts.md). code travels with the proposal and is stored as `code/<sha256>`; the stored proposal keeps only its hash. */
  | {
      readonly kind: "deploy-contract";
      readonly name: string;
      readonly version: number;
      readonly sha256: string;
      readonly code: string | undefined;
    }
  /**
   * The metering of user contract calls: steps (interrupt ticks of 10,000 QuickJS poll points),
   * bytes and, optionally, the BigInt cap in bits (absent: it stays what it is).
   */
  | {
      readonly kind: "set-sandbox-limits";
      readonly stepLimit: number;
      readonly memoryLimitBytes: number;
      readonly maxBigIntBits: number | undefined;
    };

const windowBlocks = integer(1, SUPERVISION_WINDOW_BLOCKS_MAX);
const supervisionExtras = {
  roundTrip: optional(objectOf({ windowBlocks })),
  concentration: optional(objectOf({ maxShareBp: integer(1, 9_999) })),
  rejectedAttempts: optional(objectOf({ count: integer(1, 1000), windowBlocks, reasonCodes: optional(reasonCodeList) })),
  dishonouredBills: optional(booleanField),
  divergence: optional(booleanField),
};

const newKey = objectOf({ keyId: identifier, publicKey: hex32 });
const alertRule = objectOf({ id: identifier, contract: identifier, action: optionalIdentifier, minAmount: positiveAmount });

function bad(message: string): Rejection {
  return rejection("BAD_ARGS", message);
}

function firstRepeat(values: readonly string[]): string | undefined {
  return values.find((v, i) => values.indexOf(v) !== i);
}

// Parses the fields of one kind; `kind` itself was checked by the caller.
function parseKind(o: Args, kind: Change["kind"]): Change | Rejection {
  const k = { kind: oneOf([kind]) };
  switch (kind) {
    case "add-institution": {
      const a = parseArgs(o, {
        ...k,
        institution: identifier,
        name: requiredString(INSTITUTION_NAME_LENGTH_MAX),
        roles: roleList,
        keys: arrayOf(newKey, ADMITTED_KEYS_MAX),
      });
      if (isRejection(a)) return a;
      const keyIds = a.keys.map((x) => x.keyId);
      const repeatId = firstRepeat(keyIds);
      if (repeatId !== undefined) return bad(`keys name key id ${repeatId} twice`);
      if (firstRepeat(a.keys.map((x) => x.publicKey)) !== undefined) return bad("keys list one public key twice");
      return {
        kind,
        institution: a.institution,
        name: a.name,
        roles: a.roles,
        keys: a.keys.map((x) => ({ keyId: x.keyId, publicKey: x.publicKey })),
      };
    }
    case "change-roles": {
      const a = parseArgs(o, { ...k, institution: identifier, roles: roleList });
      return isRejection(a) ? a : { kind, institution: a.institution, roles: a.roles };
    }
    case "rotate-key": {
      const a = parseArgs(o, { ...k, institution: identifier, oldKeyId: identifier, keyId: identifier, publicKey: hex32 });
      if (isRejection(a)) return a;
      if (a.oldKeyId === a.keyId) return bad(`keyId ${a.keyId} must differ from oldKeyId`);
      return { kind, institution: a.institution, oldKeyId: a.oldKeyId, keyId: a.keyId, publicKey: a.publicKey };
    }
    case "revoke-key": {
      const a = parseArgs(o, { ...k, institution: identifier, keyId: identifier });
      return isRejection(a) ? a : { kind, institution: a.institution, keyId: a.keyId };
    }
    case "suspend-institution":
    case "reinstate-institution": {
      const a = parseArgs(o, { ...k, institution: identifier });
      return isRejection(a) ? a : { kind, institution: a.institution };
    }
    case "add-sequencer": {
      const a = parseArgs(o, { ...k, sequencerId: identifier, publicKey: hex32 });
      return isRejection(a) ? a : { kind, sequencerId: a.sequencerId, publicKey: a.publicKey };
    }
    case "remove-sequencer": {
      const a = parseArgs(o, { ...k, sequencerId: identifier });
      return isRejection(a) ? a : { kind, sequencerId: a.sequencerId };
    }
    case "set-finality": {
      const a = parseArgs(o, { ...k, quorumNumerator: fractionTerm, quorumDenominator: fractionTerm });
      if (isRejection(a)) return a;
      // As genesis requires: a quorum of more than n/d needs 0 < n < d.
      if (a.quorumNumerator >= a.quorumDenominator) return bad("quorumNumerator must be less than quorumDenominator");
      return { kind, quorumNumerator: a.quorumNumerator, quorumDenominator: a.quorumDenominator };
    }
    case "set-governance": {
      const a = parseArgs(o, { ...k, thresholdNumerator: fractionTerm, thresholdDenominator: fractionTerm });
      if (isRejection(a)) return a;
      // As genesis requires: above one half, so disjoint sets of members never both pass; at most one.
      if (a.thresholdNumerator > a.thresholdDenominator || 2 * a.thresholdNumerator <= a.thresholdDenominator) {
        return bad("the threshold must be above one half and at most one (denominator/2 < numerator <= denominator)");
      }
      return { kind, thresholdNumerator: a.thresholdNumerator, thresholdDenominator: a.thresholdDenominator };
    }
    case "set-supervision": {
      const a = parseArgs(o, {
        ...k,
        largeTradeAmount: positiveAmount,
        alertRules: listOf(alertRule, ALERT_RULES_MAX),
        ...supervisionExtras,
      });
      if (isRejection(a)) return a;
      const repeat = firstRepeat(a.alertRules.map((r) => r.id));
      if (repeat !== undefined) return bad(`alertRules name rule ${repeat} twice`);
      return {
        kind,
        largeTradeAmount: a.largeTradeAmount,
        alertRules: a.alertRules,
        roundTrip: a.roundTrip,
        concentration: a.concentration,
        rejectedAttempts: a.rejectedAttempts,
        dishonouredBills: a.dishonouredBills,
        divergence: a.divergence,
      };
    }
    case "deploy-contract": {
      const a = parseArgs(o, {
        ...k,
        name: identifier,
        version: integer(1, USER_CONTRACT_VERSION_MAX),
        sha256: hex32,
        code: optionalString(USER_CODE_LENGTH_MAX),
      });
      if (isRejection(a)) return a;
      if (BUILTIN_CONTRACT_NAMES.includes(a.name)) return rejection("RESERVED_CONTRACT_NAME", `${a.name} is a built-in contract`);
      // `<name>.v<version>` addresses one version, so a name itself has no '.'.
      if (a.name.includes(".")) return bad(`name ${a.name} must not contain '.': <name>.v<version> calls one version`);
      if (a.code !== undefined) {
        const actual = codeHash(a.code);
        if (actual !== a.sha256) return rejection("CODE_HASH_MISMATCH", `the code's sha256 is ${actual}, not ${a.sha256}`);
      }
      return { kind, name: a.name, version: a.version, sha256: a.sha256, code: a.code };
    }
    case "set-sandbox-limits": {
      const a = parseArgs(o, {
        ...k,
        stepLimit: integer(1, STEP_LIMIT_MAX),
        memoryLimitBytes: integer(MEMORY_LIMIT_BYTES_MIN, MEMORY_LIMIT_BYTES_MAX),
        maxBigIntBits: optionalInteger(MAX_BIGINT_BITS_MIN, MAX_BIGINT_BITS_MAX),
      });
      return isRejection(a) ? a : { kind, stepLimit: a.stepLimit, memoryLimitBytes: a.memoryLimitBytes, maxBigIntBits: a.maxBigIntBits };
    }
    default: {
      const never: never = kind;
      throw new InvariantError(`unknown change kind ${String(never)}`, "CONTRACT_STATE");
    }
  }
}

/** The `change` field of a proposal: an object whose `kind` is one of CHANGE_KINDS, with that kind's fields only. */
export const changeField: Field<Change> = (args, name) => {
  const v = Object.hasOwn(args, name) ? args[name] : undefined;
  if (v === undefined) return rejection("BAD_ARGS", `${name} is required`);
  if (typeof v !== "object" || v === null || Array.isArray(v)) return rejection("BAD_ARGS", `${name} must be an object`);
  const o = v as Args;
  const kind = Object.hasOwn(o, "kind") ? o.kind : undefined;
  if (typeof kind !== "string" || !(CHANGE_KINDS as readonly string[]).includes(kind)) {
    return rejection("BAD_ARGS", `${name}.kind must be one of ${CHANGE_KINDS.join(", ")}`);
  }
  const r = parseKind(o, kind as Change["kind"]);
  // Name the nested field in BAD_ARGS; UNKNOWN_ROLE stays as it is.
  return isRejection(r) && r.code === "BAD_ARGS" ? rejection("BAD_ARGS", `${name}: ${r.message}`) : r;
};

/** The institution a change is about, or null for a chain-config change. */
export function changeInstitution(c: Change): string | null {
  return "institution" in c ? c.institution : null;
}

/** A change as the JSON a proposal stores: the args form, amounts as decimal strings, absent optionals left out. */
export function changeJson(c: Change): JsonValue {
  switch (c.kind) {
    case "add-institution":
      return {
        kind: c.kind,
        institution: c.institution,
        name: c.name,
        roles: [...c.roles],
        keys: c.keys.map((k) => ({ keyId: k.keyId, publicKey: k.publicKey })),
      };
    case "change-roles":
      return { kind: c.kind, institution: c.institution, roles: [...c.roles] };
    case "set-supervision":
      return { kind: c.kind, ...supervisionJsonFields(c) };
    case "deploy-contract":
      // The code is stored once, under code/<sha256>; the proposal names it by its hash.
      return { kind: c.kind, name: c.name, version: c.version, sha256: c.sha256 };
    case "set-sandbox-limits":
      // Left out when absent, so a stored proposal without it reads as before it existed.
      return {
        kind: c.kind,
        stepLimit: c.stepLimit,
        memoryLimitBytes: c.memoryLimitBytes,
        ...(c.maxBigIntBits === undefined ? {} : { maxBigIntBits: c.maxBigIntBits }),
      };
    default:
      // Every other kind holds only strings and integers already.
      return { ...c };
  }
}

function supervisionJsonFields(c: Extract<Change, { kind: "set-supervision" }>): { readonly [k: string]: JsonValue } {
  const ra = c.rejectedAttempts;
  return {
    // Absent optional rules are left out, so a record without them reads as before they existed.
    ...(c.roundTrip === undefined ? {} : { roundTrip: { windowBlocks: c.roundTrip.windowBlocks } }),
    ...(c.concentration === undefined ? {} : { concentration: { maxShareBp: c.concentration.maxShareBp } }),
    ...(ra === undefined
      ? {}
      : {
          rejectedAttempts: {
            count: ra.count,
            windowBlocks: ra.windowBlocks,
            ...(ra.reasonCodes === undefined ? {} : { reasonCodes: [...ra.reasonCodes] }),
          },
        }),
    ...(c.dishonouredBills === undefined ? {} : { dishonouredBills: c.dishonouredBills }),
    ...(c.divergence === undefined ? {} : { divergence: c.divergence }),
    largeTradeAmount: c.largeTradeAmount.toString(),
    alertRules: c.alertRules.map((r) => ({
      id: r.id,
      contract: r.contract,
      ...(r.action === undefined ? {} : { action: r.action }),
      minAmount: r.minAmount.toString(),
    })),
  };
}

/** The supervision record a set-supervision change writes into the chain config. */
export function supervisionJson(c: Extract<Change, { kind: "set-supervision" }>): JsonValue {
  return supervisionJsonFields(c);
}

/** Reads a stored change back; throws InvariantError when it is malformed (state is ours). */
export function readChange(v: JsonValue | undefined, what: string): Change {
  const r = changeField({ change: v }, "change");
  if (isRejection(r)) throw new InvariantError(`${what}: stored change is malformed: ${r.message}`, "CONTRACT_STATE");
  return r;
}
