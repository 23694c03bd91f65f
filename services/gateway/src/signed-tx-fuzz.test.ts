// A seeded fuzz loop over the SignedTx decoder and the gateway's admission: random bytes,
// truncations, bit flips and splices of valid transactions. Every input must be refused (or
// admitted) with a stable reason, never crash. CI runs a few thousand cases; FUZZ_CASES raises it
// (the benchmark tier runs 100k: FUZZ_CASES=100000, or `tally bench --fuzz`). The inputs come from
// @tally/testkit's generator, shared with the bench.
import { test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { membershipView } from "@tally/contracts";
import { decodeSignedTx } from "@tally/ledger";
import { RpcError } from "@tally/rpc";
import { FUZZ_SEED_DEFAULT, signedTxFuzzInputs } from "@tally/testkit";
import { admit } from "./admission.js";
import { buildTx, CHAIN_ID, genesisMembershipState } from "./testing/fixtures.js";

const CASES = Number(process.env.FUZZ_CASES ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? FUZZ_SEED_DEFAULT);
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

test(`fuzz: ${CASES} mutated SignedTx inputs (seed ${SEED}) get a stable reason, never a crash`, () => {
  const now = Date.now();
  const view = membershipView(genesisMembershipState().values());
  const seeds = [buildTx({}, now).raw, buildTx({ args: { to: "bank-b", amount: "5", memo: "x".repeat(200) } }, now).raw];
  const reasons = new Map<string, number>();
  let i = -1;
  for (const input of signedTxFuzzInputs(SEED, CASES, seeds)) {
    i++;
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
