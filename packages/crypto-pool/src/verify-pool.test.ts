import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ed25519Sign, signingKeyFromSeed, utf8 } from "@tally/ledger";
import { inlineVerifier, type SignatureCheck } from "./signature-check.js";
import { VerifyPool, VerifyPoolError } from "./verify-pool.js";

const keys = [1, 2, 3].map((n) => signingKeyFromSeed(new Uint8Array(32).fill(n)));

/** Valid checks, and every way a check can be wrong, mixed. */
function mixedChecks(n: number): SignatureCheck[] {
  const out: SignatureCheck[] = [];
  for (let i = 0; i < n; i++) {
    const key = keys[i % keys.length]!;
    const message = utf8(`message ${i}`);
    const signature = ed25519Sign(key, message);
    switch (i % 6) {
      case 0:
        out.push({ publicKey: key.publicKey, message, signature });
        break;
      case 1: {
        const flipped = signature.slice();
        flipped[5]! ^= 1;
        out.push({ publicKey: key.publicKey, message, signature: flipped });
        break;
      }
      case 2:
        out.push({ publicKey: keys[(i + 1) % keys.length]!.publicKey, message, signature });
        break;
      case 3:
        out.push({ publicKey: key.publicKey, message: utf8(`another message ${i}`), signature });
        break;
      case 4:
        out.push({ publicKey: key.publicKey.subarray(0, 31), message, signature });
        break;
      default:
        out.push({ publicKey: key.publicKey, message: new Uint8Array(0), signature: ed25519Sign(key, new Uint8Array(0)) });
    }
  }
  return out;
}

describe("VerifyPool", () => {
  test("answers exactly as the inline verifier, across chunks and workers, in order", async () => {
    const pool = new VerifyPool({ workers: 2, chunkChecksMax: 7 });
    try {
      const checks = mixedChecks(100);
      const expected = await inlineVerifier.verifyAll(checks);
      assert.deepEqual(await pool.verifyAll(checks), expected);
      assert.ok(expected.some((v) => v) && expected.some((v) => !v), "the fixture holds valid and invalid checks");
      assert.deepEqual(await pool.verifyAll([]), []);
    } finally {
      await pool.close();
    }
  });

  test("concurrent calls each get their own answers, also when callers wait for queue room", async () => {
    const pool = new VerifyPool({ workers: 2, chunkChecksMax: 3, queuedChunksMax: 1 });
    try {
      const a = mixedChecks(40);
      const b = mixedChecks(41).reverse();
      const [ra, rb] = await Promise.all([pool.verifyAll(a), pool.verifyAll(b)]);
      assert.deepEqual(ra, await inlineVerifier.verifyAll(a));
      assert.deepEqual(rb, await inlineVerifier.verifyAll(b));
    } finally {
      await pool.close();
    }
  });

  test("close rejects what is pending and everything after, with VerifyPoolError", async () => {
    const pool = new VerifyPool({ workers: 1, chunkChecksMax: 10 });
    const pending = assert.rejects(pool.verifyAll(mixedChecks(2000)), VerifyPoolError);
    await pool.close();
    await pending;
    await assert.rejects(pool.verifyAll(mixedChecks(3)), VerifyPoolError);
    await pool.close();
  });

  test("refuses a size outside 1..64", () => {
    assert.throws(() => new VerifyPool({ workers: 0 }), RangeError);
    assert.throws(() => new VerifyPool({ workers: 65 }), RangeError);
  });
});
