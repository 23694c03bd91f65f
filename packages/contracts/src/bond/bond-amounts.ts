// The bond's arithmetic: allotment, coupons and redemption, all in integers. Every division here
// is bigint division of non-negative numbers, which is floor division.
import { InvariantError } from "@tally/ledger";

/** Basis points in one whole: a rate of 10 000 bp is 100%. */
export const BP_PER_UNIT = 10_000n;

/**
 * The units each subscriber is allotted, in subscriber order. When demand fits in the size,
 * everyone gets what they asked for. When it is oversubscribed, each gets
 * floor(demand × size / totalDemand); the units that floor leaves over (fewer than the number of
 * subscribers) go one each to the first subscribers in order. Nobody gets more than it asked for:
 * with size < total, demand × size / total < demand, so its floor plus one is at most demand.
 */
export function proRata(demands: readonly bigint[], sizeUnits: bigint): bigint[] {
  let total = 0n;
  for (const d of demands) {
    if (d <= 0n) throw new InvariantError(`a subscription of ${d} units`, "CONTRACT_STATE");
    total += d;
  }
  if (total <= sizeUnits) return [...demands];
  // Floor division: the shares sum to at most sizeUnits.
  const shares = demands.map((d) => (d * sizeUnits) / total);
  let remainder = sizeUnits - shares.reduce((a, b) => a + b, 0n);
  for (let i = 0; remainder > 0n; i++) {
    const share = shares[i];
    if (share === undefined) throw new InvariantError(`pro rata left ${remainder} units over after every subscriber`, "CONTRACT_STATE");
    shares[i] = share + 1n;
    remainder -= 1n;
  }
  return shares;
}

/**
 * One holder's coupon for one coupon date, in cash minor units:
 * floor(faceValue × units × couponRateBp / (10 000 × couponsPerYear)). One floor over the whole
 * product, so nothing is lost to rounding in between.
 */
export function couponAmount(faceValue: bigint, units: bigint, couponRateBp: number, couponsPerYear: number): bigint {
  return (faceValue * units * BigInt(couponRateBp)) / (BP_PER_UNIT * BigInt(couponsPerYear));
}

/** What units cost at allotment and what they return at redemption: faceValue × units. */
export function faceAmount(faceValue: bigint, units: bigint): bigint {
  return faceValue * units;
}
