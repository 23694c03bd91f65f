// What "the amount of an event" means for the feed's min_amount filter and the large-value rule.
// Contracts write amounts as decimal strings of minor units, under names that fit the act.
import { sql, type RawBuilder } from "kysely";

/**
 * The data fields that carry an event's amount, in priority order: the first one present and
 * holding a decimal string of minor units is the event's amount. Units of a security
 * (`units`, `quantity`) are counts, not money, and are never an amount.
 */
export const AMOUNT_FIELDS = ["amount", "price", "principal", "total", "cost", "advance", "proceeds"] as const;

/** Longest amount a filter may name: contracts cap amounts at 30 digits. */
export const AMOUNT_DIGITS_MAX = 30;

const DECIMAL_RE = /^(0|[1-9][0-9]*)$/;

/** A minimum amount as a filter names it, or undefined when it is not a decimal of at most AMOUNT_DIGITS_MAX digits. */
export function parseAmount(s: string): bigint | undefined {
  return s.length <= AMOUNT_DIGITS_MAX && DECIMAL_RE.test(s) ? BigInt(s) : undefined;
}

/** An event's amount (see AMOUNT_FIELDS), or undefined when it carries none. */
export function eventAmount(data: unknown): bigint | undefined {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return undefined;
  const o = data as Record<string, unknown>;
  for (const f of AMOUNT_FIELDS) {
    const v = o[f];
    if (typeof v === "string" && v.length <= 40 && DECIMAL_RE.test(v)) return BigInt(v);
  }
  return undefined;
}

/** SQL for an event row's amount as numeric (NULL when it carries none), the same rule as eventAmount. */
export function amountSql(dataColumn: string): RawBuilder<string | null> {
  const col = sql.ref(dataColumn);
  const picks = AMOUNT_FIELDS.map(
    (f) =>
      sql`case when jsonb_typeof(${col} -> ${sql.lit(f)}) = 'string' and (${col} ->> ${sql.lit(f)}) ~ '^(0|[1-9][0-9]{0,39})$' then (${col} ->> ${sql.lit(f)})::numeric end`,
  );
  return sql<string | null>`coalesce(${sql.join(picks)})`;
}
