import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SignedTx, TxBody } from "@tally/proto/types";
import { bytesEqual, toHex, utf8 } from "./bytes.js";
import { signingKeyFromSeed, type SigningKey } from "./ed25519.js";
import { sha256 } from "./hash.js";
import { LIMITS } from "./limits.js";
import {
  checkTxContext,
  decodeSignedTx,
  isValidId,
  signTx,
  txIdOf,
  verifyTxSignatures,
  type DecodedTx,
  type KeyLookup,
  type KnownKey,
  type TxReject,
  type TxRejectCode,
  type TxSigner,
} from "./tx.js";

const CHAIN = "tally-test";
const NOW = 1_700_000_000_000;

const keyA = signingKeyFromSeed(new Uint8Array(32).fill(1));
const keyA2 = signingKeyFromSeed(new Uint8Array(32).fill(2));
const keyB = signingKeyFromSeed(new Uint8Array(32).fill(3));
const keyC = signingKeyFromSeed(new Uint8Array(32).fill(4));

const A: TxSigner = { institutionId: "bank-a", keyId: "k1", key: keyA };
const A2: TxSigner = { institutionId: "bank-a", keyId: "k2", key: keyA2 };
const B: TxSigner = { institutionId: "bank-b", keyId: "k1", key: keyB };
const C: TxSigner = { institutionId: "bank-c", keyId: "old", key: keyC };

function lookupOf(entries: Record<string, { key: SigningKey; active: boolean }>): KeyLookup {
  const m = new Map<string, KnownKey>(Object.entries(entries).map(([id, e]) => [id, { publicKey: e.key.publicKey, active: e.active }]));
  return (institutionId, keyId) => m.get(`${institutionId}/${keyId}`);
}

const LOOKUP = lookupOf({
  "bank-a/k1": { key: keyA, active: true },
  "bank-a/k2": { key: keyA2, active: true },
  "bank-b/k1": { key: keyB, active: true },
  "bank-c/old": { key: keyC, active: false },
});

function body(over: Partial<TxBody> = {}): TxBody {
  return {
    chainId: CHAIN,
    contract: "payments",
    action: "transfer",
    args: utf8(JSON.stringify({ to: "bank-b", amount: "100", memo: "aaaaaaaa" })),
    signer: { institutionId: "bank-a", keyId: "k1" },
    nonce: 7n,
    validUntilMs: BigInt(NOW + 60_000),
    ...over,
  };
}

function decodeOk(raw: Uint8Array): DecodedTx {
  const r = decodeSignedTx(raw);
  if (!r.ok) assert.fail(`expected a decoded tx, got ${r.code}: ${r.message}`);
  return r.tx;
}

function assertReject(r: { ok: true } | TxReject, code: TxRejectCode): void {
  assert.equal(r.ok, false, `expected ${code}, got ok`);
  if (!r.ok) {
    assert.equal(r.code, code, r.message);
    assert.ok(r.message.length > 0);
  }
}

/** Replaces the SignedTx's signatures (or body) and re-encodes it. */
function reencode(raw: Uint8Array, edit: (s: SignedTx) => SignedTx): Uint8Array {
  return SignedTx.encode(edit(SignedTx.decode(raw))).finish();
}

describe("round trip", () => {
  test("signTx, decodeSignedTx, verifyTxSignatures and checkTxContext accept a good tx", () => {
    const b = body();
    const { raw, id } = signTx(b, [A]);
    const tx = decodeOk(raw);
    assert.deepEqual(tx.body, b);
    assert.deepEqual(tx.args, { to: "bank-b", amount: "100", memo: "aaaaaaaa" });
    assert.ok(bytesEqual(tx.raw, raw));
    assert.ok(bytesEqual(tx.id, id));
    assert.equal(tx.idHex, toHex(id));
    assert.equal(tx.signatures.length, 1);
    assert.equal(tx.signatures[0]!.institutionId, "bank-a");
    assert.equal(tx.signatures[0]!.keyId, "k1");
    assert.deepEqual(verifyTxSignatures(tx, LOOKUP), { ok: true, signers: ["bank-a"] });
    assert.deepEqual(checkTxContext(tx, CHAIN, NOW), { ok: true });
  });

  test("signing is deterministic", () => {
    assert.ok(bytesEqual(signTx(body(), [A]).raw, signTx(body(), [A]).raw));
    assert.ok(!bytesEqual(signTx(body(), [A]).raw, signTx(body({ nonce: 8n }), [A]).raw));
  });

  test("empty args mean an empty object", () => {
    const tx = decodeOk(signTx(body({ args: new Uint8Array(0) }), [A]).raw);
    assert.deepEqual(tx.args, {});
  });
});

describe("tx id", () => {
  test("is sha256 of the body bytes, and the same when recomputed from the received bytes", () => {
    const b = body();
    const { raw, id } = signTx(b, [A, B]);
    const bodyBytes = TxBody.encode(b).finish();
    assert.equal(toHex(id), toHex(sha256(bodyBytes)));
    assert.equal(toHex(txIdOf(bodyBytes)), toHex(id));
    const received = new Uint8Array(raw);
    const tx = decodeOk(received);
    assert.equal(toHex(tx.id), toHex(id));
    assert.equal(toHex(tx.bodyBytes), toHex(bodyBytes));
    assert.equal(toHex(sha256(SignedTx.decode(received).body)), toHex(id));
  });

  test("does not depend on the signatures", () => {
    const one = signTx(body(), [A]);
    const two = signTx(body(), [A, B]);
    assert.notEqual(toHex(one.raw), toHex(two.raw));
    assert.equal(toHex(one.id), toHex(two.id));
    assert.equal(decodeOk(one.raw).idHex, decodeOk(two.raw).idHex);
  });

  test("differs for different bodies", () => {
    assert.notEqual(toHex(signTx(body(), [A]).id), toHex(signTx(body({ nonce: 8n }), [A]).id));
  });
});

describe("decodeSignedTx refusals", () => {
  test("garbage bytes are MALFORMED", () => {
    const garbage = [
      new Uint8Array(0),
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      new Uint8Array([0x0a, 0x10, 0x01]),
      utf8("hello, world: definitely not a protobuf"),
      new Uint8Array(64).fill(0x07),
      Uint8Array.from({ length: 200 }, (_, i) => (i * 131 + 17) & 0xff),
    ];
    for (const g of garbage) assertReject(decodeSignedTx(g), "MALFORMED");
  });

  test("a body that is not a TxBody, or lacks required ids, is MALFORMED", () => {
    const sig = { institutionId: "bank-a", keyId: "k1", signature: new Uint8Array(64) };
    assertReject(decodeSignedTx(SignedTx.encode({ body: new Uint8Array([0xff, 0xff, 0xff]), signatures: [sig] }).finish()), "MALFORMED");
    for (const over of [
      { chainId: "" },
      { chainId: "Upper-Case" },
      { contract: "" },
      { action: "has space" },
      { action: "x".repeat(LIMITS.idLengthMax + 1) },
      { signer: undefined },
      { signer: { institutionId: "", keyId: "k1" } },
      { signer: { institutionId: "bank-a", keyId: "" } },
    ] satisfies Partial<TxBody>[]) {
      assertReject(decodeSignedTx(signTx(body(over), [A]).raw), "MALFORMED");
    }
  });

  test("more than LIMITS.txBytesMax bytes is TOO_LARGE; exactly the limit is accepted", () => {
    const sized = (padding: number): Uint8Array => signTx(body({ args: utf8(JSON.stringify({ pad: "x".repeat(padding) })) }), [A]).raw;
    let padding = LIMITS.txBytesMax - 200;
    for (let i = 0; i < 5 && sized(padding).byteLength !== LIMITS.txBytesMax; i++) padding += LIMITS.txBytesMax - sized(padding).byteLength;
    const exact = sized(padding);
    assert.equal(exact.byteLength, LIMITS.txBytesMax);
    assert.equal(decodeSignedTx(exact).ok, true);
    assert.equal(sized(padding + 1).byteLength, LIMITS.txBytesMax + 1);
    assertReject(decodeSignedTx(sized(padding + 1)), "TOO_LARGE");
    assertReject(decodeSignedTx(sized(100_000)), "TOO_LARGE");
    assertReject(decodeSignedTx(new Uint8Array(LIMITS.txBytesMax + 1).fill(0xff)), "TOO_LARGE");
  });

  test("no signature is MISSING_SIGNATURE", () => {
    assertReject(decodeSignedTx(signTx(body(), []).raw), "MISSING_SIGNATURE");
  });

  test("more than LIMITS.txSignaturesMax signatures is MALFORMED", () => {
    const signers = Array.from({ length: LIMITS.txSignaturesMax + 1 }, (_, i) => ({ institutionId: `inst-${i}`, keyId: "k", key: keyA }));
    assertReject(decodeSignedTx(signTx(body(), signers).raw), "MALFORMED");
    assert.equal(decodeSignedTx(signTx(body(), signers.slice(0, LIMITS.txSignaturesMax)).raw).ok, true);
  });

  test("args that are not UTF-8 JSON are MALFORMED", () => {
    for (const args of [
      utf8("{not json"),
      utf8("{'a':1}"),
      utf8("{} trailing"),
      utf8("   "),
      new Uint8Array([...utf8('{"a":"'), 0xff, ...utf8('"}')]),
    ]) {
      assertReject(decodeSignedTx(signTx(body({ args }), [A]).raw), "MALFORMED");
    }
  });

  test("args that are JSON but not an object are MALFORMED", () => {
    for (const s of ["[1,2]", "[]", "5", "null", '"text"', "true"]) {
      assertReject(decodeSignedTx(signTx(body({ args: utf8(s) }), [A]).raw), "MALFORMED");
    }
  });
});

describe("verifyTxSignatures", () => {
  test("a signature by another key than the one named is BAD_SIGNATURE", () => {
    const tx = decodeOk(signTx(body(), [{ institutionId: "bank-a", keyId: "k1", key: keyB }]).raw);
    assertReject(verifyTxSignatures(tx, LOOKUP), "BAD_SIGNATURE");
  });

  test("a signature copied from another tx is BAD_SIGNATURE", () => {
    const other = SignedTx.decode(signTx(body({ nonce: 99n }), [A]).raw);
    const raw = reencode(signTx(body(), [A]).raw, (s) => ({ ...s, signatures: other.signatures }));
    assertReject(verifyTxSignatures(decodeOk(raw), LOOKUP), "BAD_SIGNATURE");
  });

  test("a zeroed or truncated signature is BAD_SIGNATURE", () => {
    const raw = signTx(body(), [A]).raw;
    for (const signature of [new Uint8Array(64), new Uint8Array(63), new Uint8Array(0)]) {
      const bad = reencode(raw, (s) => ({ ...s, signatures: [{ ...s.signatures[0]!, signature }] }));
      assertReject(verifyTxSignatures(decodeOk(bad), LOOKUP), "BAD_SIGNATURE");
    }
  });

  test("an unknown institution or key is UNKNOWN_SIGNER", () => {
    const unknownKey = decodeOk(signTx(body({ signer: { institutionId: "bank-a", keyId: "k9" } }), [{ ...A, keyId: "k9" }]).raw);
    assertReject(verifyTxSignatures(unknownKey, LOOKUP), "UNKNOWN_SIGNER");
    const unknownInst = decodeOk(
      signTx(body({ signer: { institutionId: "bank-z", keyId: "k1" } }), [{ ...A, institutionId: "bank-z" }]).raw,
    );
    assertReject(verifyTxSignatures(unknownInst, LOOKUP), "UNKNOWN_SIGNER");
    const unknownCosigner = decodeOk(signTx(body(), [A, { ...B, institutionId: "bank-z" }]).raw);
    assertReject(verifyTxSignatures(unknownCosigner, LOOKUP), "UNKNOWN_SIGNER");
  });

  test("an inactive key is KEY_REVOKED, even with a valid signature", () => {
    const tx = decodeOk(signTx(body({ signer: { institutionId: "bank-c", keyId: "old" } }), [C]).raw);
    assertReject(verifyTxSignatures(tx, LOOKUP), "KEY_REVOKED");
    const reactivated = lookupOf({ "bank-c/old": { key: keyC, active: true } });
    assert.deepEqual(verifyTxSignatures(tx, reactivated), { ok: true, signers: ["bank-c"] });
    assertReject(verifyTxSignatures(decodeOk(signTx(body(), [A, C]).raw), LOOKUP), "KEY_REVOKED");
  });

  test("a body byte tampered after signing is BAD_SIGNATURE, and changes the id", () => {
    const { raw, id } = signTx(body(), [A]);
    const at = toHex(raw).indexOf(toHex(utf8("aaaaaaaa")));
    assert.ok(at > 0 && at % 2 === 0);
    const tampered = new Uint8Array(raw);
    tampered[at / 2] = "b".charCodeAt(0);
    const tx = decodeOk(tampered);
    assert.deepEqual(tx.args, { to: "bank-b", amount: "100", memo: "baaaaaaa" });
    assert.notEqual(tx.idHex, toHex(id));
    assertReject(verifyTxSignatures(tx, LOOKUP), "BAD_SIGNATURE");
  });

  test("a re-encoded body with a changed field is BAD_SIGNATURE", () => {
    const raw = signTx(body(), [A]).raw;
    const forged = reencode(raw, (s) => ({
      ...s,
      body: TxBody.encode(body({ args: utf8('{"to":"bank-b","amount":"1000000"}') })).finish(),
    }));
    assertReject(verifyTxSignatures(decodeOk(forged), LOOKUP), "BAD_SIGNATURE");
  });

  test("two-party signing returns both institutions, the body signer first", () => {
    for (const order of [
      [A, B],
      [B, A],
    ]) {
      const tx = decodeOk(signTx(body(), order).raw);
      assert.deepEqual(verifyTxSignatures(tx, LOOKUP), { ok: true, signers: ["bank-a", "bank-b"] });
    }
    const bSigns = decodeOk(signTx(body({ signer: { institutionId: "bank-b", keyId: "k1" } }), [A, B]).raw);
    assert.deepEqual(verifyTxSignatures(bSigns, LOOKUP), { ok: true, signers: ["bank-b", "bank-a"] });
  });

  test("a counterparty signature without the body signer's is MISSING_SIGNATURE", () => {
    assertReject(verifyTxSignatures(decodeOk(signTx(body(), [B]).raw), LOOKUP), "MISSING_SIGNATURE");
    // The signer's institution signing with another of its keys is not the named signer.
    assertReject(verifyTxSignatures(decodeOk(signTx(body(), [A2]).raw), LOOKUP), "MISSING_SIGNATURE");
  });

  test("two signatures by the same institution are refused", () => {
    const twice = verifyTxSignatures(decodeOk(signTx(body(), [A, A]).raw), LOOKUP);
    assert.equal(twice.ok, false);
    const twoKeys = verifyTxSignatures(decodeOk(signTx(body(), [A, A2]).raw), LOOKUP);
    assert.equal(twoKeys.ok, false);
    const withCounterparty = verifyTxSignatures(decodeOk(signTx(body(), [A, B, B]).raw), LOOKUP);
    assert.equal(withCounterparty.ok, false);
    assertReject(twice, "MALFORMED");
  });
});

describe("checkTxContext", () => {
  const tx = decodeOk(signTx(body(), [A]).raw);

  test("another chain is WRONG_CHAIN", () => {
    assertReject(checkTxContext(tx, "other-chain", NOW), "WRONG_CHAIN");
    assertReject(checkTxContext(tx, "", NOW), "WRONG_CHAIN");
  });

  test("a deadline in the past is EXPIRED; the deadline itself is still valid", () => {
    const deadline = NOW + 60_000;
    assert.deepEqual(checkTxContext(tx, CHAIN, deadline), { ok: true });
    assertReject(checkTxContext(tx, CHAIN, deadline + 1), "EXPIRED");
    assertReject(checkTxContext(tx, CHAIN, deadline + 86_400_000), "EXPIRED");
    assertReject(checkTxContext(decodeOk(signTx(body({ validUntilMs: 0n }), [A]).raw), CHAIN, NOW), "EXPIRED");
  });

  test("the chain is checked before the deadline", () => {
    assertReject(checkTxContext(tx, "other-chain", NOW + 10 ** 9), "WRONG_CHAIN");
  });
});

describe("isValidId", () => {
  test("accepts lowercase ids with digits, '.', '_' and '-'", () => {
    for (const s of ["a", "bank-a", "k1", "tally.v1", "x_y", "0abc", "a".repeat(LIMITS.idLengthMax)]) assert.equal(isValidId(s), true, s);
  });

  test("refuses empty, too long, uppercase, spaces, leading punctuation and non-ASCII", () => {
    for (const s of ["", "a".repeat(LIMITS.idLengthMax + 1), "Bank", "a b", "-a", ".a", "_a", "bänk", "a/b", "a\n"])
      assert.equal(isValidId(s), false, JSON.stringify(s));
  });
});
