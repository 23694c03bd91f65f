// The bond's arithmetic: pro rata allotment and coupons, in integers with floor division.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { couponAmount, faceAmount, proRata } from "./bond-amounts.js";
import { mulberry32 } from "../testing/prng.js";

describe("proRata", () => {
  test("undersubscribed or exactly subscribed: everyone gets its demand", () => {
    assert.deepEqual(proRata([3n, 4n], 10n), [3n, 4n]);
    assert.deepEqual(proRata([6n, 4n], 10n), [6n, 4n]);
    assert.deepEqual(proRata([], 10n), []);
  });

  test("oversubscribed: floors, then the remainder one each in order", () => {
    assert.deepEqual(proRata([3n, 3n, 3n, 3n], 10n), [3n, 3n, 2n, 2n]);
    // 1×5/3 = 1.67 → 1, 2×5/3 = 3.33 → 3: one left, to the first.
    assert.deepEqual(proRata([1n, 2n], 3n), [1n, 2n]);
    assert.deepEqual(proRata([2n, 1n], 2n), [2n, 0n]);
    assert.deepEqual(proRata([1n, 1n, 1n], 1n), [1n, 0n, 0n]);
    assert.deepEqual(proRata([100n, 1n], 50n), [50n, 0n]);
  });

  test("random cases: shares sum to min(size, demand), none above its demand", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rand = mulberry32(seed);
      for (let round = 0; round < 200; round++) {
        const demands = Array.from({ length: 1 + Math.floor(rand() * 20) }, () => BigInt(1 + Math.floor(rand() * 1000)));
        const size = BigInt(1 + Math.floor(rand() * 5000));
        const total = demands.reduce((a, b) => a + b, 0n);
        const shares = proRata(demands, size);
        assert.equal(
          shares.reduce((a, b) => a + b, 0n),
          total < size ? total : size,
        );
        shares.forEach((s, i) => assert.ok(s >= 0n && s <= demands[i]!, `seed ${seed} round ${round}`));
      }
    }
  });
});

describe("couponAmount and faceAmount", () => {
  test("face × units × rateBp / 10000 / couponsPerYear, one floor over the whole", () => {
    assert.equal(couponAmount(100n, 300n, 500, 2), 750n);
    assert.equal(couponAmount(100n, 3n, 500, 2), 7n);
    // Floored once: 1 × 1 × 5000 / 20000 = 0.25 → 0, but 4 units give exactly 1.
    assert.equal(couponAmount(1n, 1n, 5000, 2), 0n);
    assert.equal(couponAmount(1n, 4n, 5000, 2), 1n);
    // 2 331 000 / 120 000 = 19.425 → 19.
    assert.equal(couponAmount(1000n, 7n, 333, 12), 19n);
    assert.equal(couponAmount(100n, 5n, 0, 4), 0n);
  });

  test("face amount is face × units", () => {
    assert.equal(faceAmount(100n, 300n), 30000n);
  });
});
