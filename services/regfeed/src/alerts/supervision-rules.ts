// The supervision rules as the chain config records them (membership `set-supervision`), read
// tolerantly: the regulator's node derives alerts from them, it never refuses a block over them.
import type { JsonValue } from "@tally/ledger";

/** A large-value rule: events of `contract` (in txs of `action`, when given) with an amount of at least minAmount. */
export interface LargeValueRule {
  readonly id: string;
  readonly contract: string;
  readonly action: string | undefined;
  readonly minAmount: bigint;
}

/** The reason codes that count as an attempt to double-spend or double-finance when the config names none. */
export const DEFAULT_REJECTION_CODES = [
  "ALREADY_FINANCED",
  "DUPLICATE_INVOICE",
  "DUPLICATE",
  "INSUFFICIENT_FUNDS",
  "INSUFFICIENT_UNITS",
  "NOT_HOLDER",
  "ALREADY_SPLIT",
  "ALREADY_SETTLED",
  "BILL_PAID",
  "BILL_PLEDGED",
] as const;

/** Every rule the engine evaluates; a rule left out of the config is off. */
export interface SupervisionRules {
  readonly largeValue: readonly LargeValueRule[];
  /** A→B then B→A of the same thing within windowBlocks blocks. */
  readonly roundTrip: { readonly windowBlocks: number } | undefined;
  /** One holder above maxShareBp basis points of a bond's allotted units. */
  readonly concentration: { readonly maxShareBp: number } | undefined;
  /** At least count rejections with one of reasonCodes, by one signer, within windowBlocks blocks. */
  readonly rejectedAttempts: { readonly count: number; readonly windowBlocks: number; readonly reasonCodes: readonly string[] } | undefined;
  readonly dishonouredBills: boolean;
  readonly divergence: boolean;
}

/** No rules: before any set-supervision vote. */
export const NO_RULES: SupervisionRules = {
  largeValue: [],
  roundTrip: undefined,
  concentration: undefined,
  rejectedAttempts: undefined,
  dishonouredBills: false,
  divergence: false,
};

type Obj = { readonly [k: string]: JsonValue };

const obj = (v: JsonValue | undefined): Obj | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? v : undefined);
const posInt = (v: JsonValue | undefined): number | undefined =>
  typeof v === "number" && Number.isSafeInteger(v) && v > 0 ? v : undefined;
const dec = (v: JsonValue | undefined): bigint | undefined => (typeof v === "string" && /^[0-9]{1,40}$/.test(v) ? BigInt(v) : undefined);

/** The rules of a chain-config `supervision` record (null: none). Malformed parts are left out. */
export function parseSupervision(v: JsonValue | undefined): SupervisionRules {
  const o = obj(v);
  if (o === undefined) return NO_RULES;
  const largeValue: LargeValueRule[] = [];
  for (const r of Array.isArray(o.alertRules) ? o.alertRules : []) {
    const ro = obj(r);
    const minAmount = dec(ro?.minAmount);
    if (ro === undefined || typeof ro.id !== "string" || typeof ro.contract !== "string" || minAmount === undefined) continue;
    largeValue.push({ id: ro.id, contract: ro.contract, action: typeof ro.action === "string" ? ro.action : undefined, minAmount });
  }
  const rt = obj(o.roundTrip);
  const rtWindow = posInt(rt?.windowBlocks);
  const conc = obj(o.concentration);
  const share = posInt(conc?.maxShareBp);
  const rej = obj(o.rejectedAttempts);
  const rejCount = posInt(rej?.count);
  const rejWindow = posInt(rej?.windowBlocks);
  const codes = Array.isArray(rej?.reasonCodes) ? rej.reasonCodes.filter((c): c is string => typeof c === "string") : undefined;
  return {
    largeValue,
    roundTrip: rtWindow === undefined ? undefined : { windowBlocks: rtWindow },
    concentration: share === undefined ? undefined : { maxShareBp: share },
    rejectedAttempts:
      rejCount === undefined || rejWindow === undefined
        ? undefined
        : { count: rejCount, windowBlocks: rejWindow, reasonCodes: codes ?? [...DEFAULT_REJECTION_CODES] },
    dishonouredBills: o.dishonouredBills === true,
    divergence: o.divergence === true,
  };
}
