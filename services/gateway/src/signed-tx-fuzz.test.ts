// A seeded fuzz loop over the SignedTx decoder and the gateway's admission: random bytes,
// truncations, bit flips and splices of valid transactions. Every input must be refused (or
// admitted) with a stable reason, never crash. CI runs a few thousand cases; FUZZ_CASES raises it
// (the benchmark tier runs 100k: FUZZ_CASES=100000).
import { test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { membershipView } from "@tally/contracts";
import { decodeSignedTx } from "@tally/ledger";
import { RpcError } from "@tally/rpc";
import { admit } from "./admission.js";
import { buildTx, CHAIN_ID, genesisMembershipState } from "./testing/fixtures.js";

const CASES = Number(process.env.FUZZ_CASES ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? 20240606);
const KNOWN = new Set([
  "MALFORMED",
  "TOO_LARGE",
  "WRONG_CHAIN",
  "MISSING_SIGNATURE",
  "BAD_SIGNATURE",
  "UNKNOWN_SIGNER",
  "KEY_REVOKED",
  "EXPIRED",
  "VALID_UNTIL_TOO_FAR",
  "UNKNOWN_CONTRACT",
  "UNKNOWN_ACTION",
  "FORBIDDEN_ROLE",
  "BAD_ARGS",
]);

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its seed and index. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test(`fuzz: ${CASES} mutated SignedTx inputs (seed ${SEED}) get a stable reason, never a crash`, () => {
  const rnd = prng(SEED);
  const int = (n: number): number => Math.floor(rnd() * n);
  const now = Date.now();
  const view = membershipView(genesisMembershipState().values());
  const seeds = [buildTx({}, now).raw, buildTx({ args: { to: "bank-b", amount: "5", memo: "x".repeat(200) } }, now).raw];
  const reasons = new Map<string, number>();
  for (let i = 0; i < CASES; i++) {
    const base = seeds[int(seeds.length)]!;
    let input: Uint8Array;
    switch (int(5)) {
      case 0:
        input = new Uint8Array(int(512)).map(() => int(256));
        break;
      case 1:
        input = base.subarray(0, int(base.length));
        break;
      case 2: {
        input = base.slice();
        for (let k = 0, n = 1 + int(8); k < n; k++) {
          const at = int(input.length);
          input[at] = (input[at] ?? 0) ^ (1 << int(8));
        }
        break;
      }
      case 3: {
        const other = seeds[int(seeds.length)]!;
        const cut = int(base.length);
        input = new Uint8Array([...base.subarray(0, cut), ...other.subarray(int(other.length))]);
        break;
      }
      default: {
        input = base.slice();
        const at = int(input.length);
        input[at] = [0x00, 0x7f, 0x80, 0xff][int(4)]!;
        break;
      }
    }
    // The decoder alone: a value, never an exception.
    const d = decodeSignedTx(input);
    assert.equal(typeof d.ok, "boolean");
    try {
      admit(input, CHAIN_ID, now, view, 0n);
      reasons.set("ADMITTED", (reasons.get("ADMITTED") ?? 0) + 1);
    } catch (e) {
      assert.ok(e instanceof RpcError, `case ${i} (seed ${SEED}): ${String(e)}`);
      assert.ok(KNOWN.has(e.reason), `case ${i}: unexpected reason ${e.reason}`);
      assert.notEqual(e.code, status.INTERNAL);
      reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1);
    }
  }
  assert.ok((reasons.get("MALFORMED") ?? 0) > 0, JSON.stringify([...reasons]));
});
