// What native work is charged, in QuickJS poll points (10,000 to a step). A poll point is about
// 30 ns of interpreting on the bench machine (a bare loop: two poll points an iteration); these
// figures put the native work the interpreter does not see on the same scale, measured against
// that loop on the same machine (docs/user-contracts.md has the table). The prelude (which embeds
// them) and the rewrite charge by them; changing one changes every node's step counts, so they
// change with the code only.

/** Digits a BigInt of `bits` bits has in decimal. */
function digits(bits: number): number {
  return Math.ceil(bits * 0.30103);
}

/** Decimal digits printed per poll point (the linear part of printing a BigInt). */
export const PRINT_DIGITS_PER_POLL = 8;

/** Squared digits per poll point (the quadratic part: QuickJS divides by 10^9 limb by limb). */
export const PRINT_SQUARED_DIGITS_PER_POLL = 768;

/** Characters parsed per poll point (the linear part of parsing a BigInt from a string). */
export const PARSE_CHARS_PER_POLL = 2;

/** Squared characters per poll point (the quadratic part of parsing). */
export const PARSE_SQUARED_CHARS_PER_POLL = 1536;

/** Products of 32-bit limbs per poll point (multiplying, dividing a BigInt by another). */
export const LIMB_PRODUCTS_PER_POLL = 16;

/** Poll points printing a BigInt of `bits` bits in decimal is charged. */
export function printPolls(bits: number): number {
  const d = digits(bits);
  return 1 + Math.floor(d / PRINT_DIGITS_PER_POLL) + Math.floor((d * d) / PRINT_SQUARED_DIGITS_PER_POLL);
}

/** Poll points parsing a string of `chars` characters into a BigInt is charged. */
export function parsePolls(chars: number): number {
  return 1 + Math.floor(chars / PARSE_CHARS_PER_POLL) + Math.floor((chars * chars) / PARSE_SQUARED_CHARS_PER_POLL);
}

/** Weight (syntax nodes) a statement list may have without a charge of its own: the poll points around it cover it. */
export const SPEND_FREE_WEIGHT = 16;

/**
 * The weight the rewrite gives a syntax node that may convert a BigInt to a string without a
 * call (a template substitution, a computed key, `in`, a string +): a quarter of printing one at
 * the cap, and enough that a list holding one is always charged. (The full cost would charge
 * every array index as if it printed a BigInt; a quarter keeps such a node within four times of
 * what it may cost and an array loop within a few times of what QuickJS counts.)
 */
export function implicitPrintWeight(maxBigIntBits: number): number {
  return Math.max(Math.ceil(printPolls(maxBigIntBits) / 4), SPEND_FREE_WEIGHT + 1);
}
