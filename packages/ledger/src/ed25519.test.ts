// Known-answer tests from RFC 8032 section 7.1 ("Test Vectors for Ed25519"): TEST 1, TEST 2,
// TEST 3 and TEST SHA(abc). SECRET KEY is the 32-byte seed; the message of TEST SHA(abc) is
// SHA-512("abc"). https://www.rfc-editor.org/rfc/rfc8032#section-7.1
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { fromHex, toHex } from "./bytes.js";
import {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SEED_BYTES,
  ED25519_SIGNATURE_BYTES,
  ed25519Sign,
  ed25519Verify,
  signingKeyFromSeed,
} from "./ed25519.js";

interface Vector {
  readonly name: string;
  readonly secretKey: string;
  readonly publicKey: string;
  readonly message: string;
  readonly signature: string;
}

const RFC8032_VECTORS: readonly Vector[] = [
  {
    name: "TEST 1",
    secretKey: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    message: "",
    signature:
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  },
  {
    name: "TEST 2",
    secretKey: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    message: "72",
    signature:
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
  {
    name: "TEST 3",
    secretKey: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    message: "af82",
    signature:
      "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
  },
  {
    name: "TEST SHA(abc)",
    secretKey: "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
    publicKey: "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
    message:
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    signature:
      "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
  },
];

function flipBit(bytes: Uint8Array, index: number, bit = 0): Uint8Array {
  const out = new Uint8Array(bytes);
  out[index] = out[index]! ^ (1 << bit);
  return out;
}

test("sizes are the RFC 8032 sizes", () => {
  assert.equal(ED25519_PUBLIC_KEY_BYTES, 32);
  assert.equal(ED25519_SEED_BYTES, 32);
  assert.equal(ED25519_SIGNATURE_BYTES, 64);
});

test("the TEST SHA(abc) message is SHA-512 of 'abc'", () => {
  const v = RFC8032_VECTORS.find((x) => x.name === "TEST SHA(abc)")!;
  assert.equal(createHash("sha512").update("abc").digest("hex"), v.message);
});

for (const v of RFC8032_VECTORS) {
  describe(`RFC 8032 §7.1 ${v.name}`, () => {
    const seed = fromHex(v.secretKey);
    const publicKey = fromHex(v.publicKey);
    const message = fromHex(v.message);
    const signature = fromHex(v.signature);

    test("signingKeyFromSeed gives the published public key", () => {
      assert.equal(toHex(signingKeyFromSeed(seed).publicKey), v.publicKey);
    });

    test("ed25519Sign gives the published signature, deterministically", () => {
      const key = signingKeyFromSeed(seed);
      assert.equal(toHex(ed25519Sign(key, message)), v.signature);
      assert.equal(toHex(ed25519Sign(key, message)), v.signature);
    });

    test("ed25519Verify accepts the published signature", () => {
      assert.equal(ed25519Verify(publicKey, message, signature), true);
    });

    test("ed25519Verify rejects a flipped bit in the message", () => {
      const tampered = message.byteLength === 0 ? new Uint8Array([0]) : flipBit(message, 0);
      assert.equal(ed25519Verify(publicKey, tampered, signature), false);
      if (message.byteLength > 0) assert.equal(ed25519Verify(publicKey, flipBit(message, message.byteLength - 1, 7), signature), false);
    });

    test("ed25519Verify rejects a flipped bit anywhere in the signature", () => {
      for (let i = 0; i < signature.byteLength; i++) {
        assert.equal(ed25519Verify(publicKey, message, flipBit(signature, i, i % 8)), false, `signature byte ${i}`);
      }
    });

    test("ed25519Verify rejects a flipped bit anywhere in the public key", () => {
      for (let i = 0; i < publicKey.byteLength; i++) {
        assert.equal(ed25519Verify(flipBit(publicKey, i, i % 8), message, signature), false, `key byte ${i}`);
      }
    });

    test("ed25519Verify rejects wrong lengths without throwing", () => {
      const cases: [Uint8Array, Uint8Array][] = [
        [publicKey.subarray(0, 31), signature],
        [new Uint8Array([...publicKey, 0]), signature],
        [new Uint8Array(0), signature],
        [publicKey, signature.subarray(0, 63)],
        [publicKey, new Uint8Array([...signature, 0])],
        [publicKey, new Uint8Array(0)],
        [new Uint8Array(0), new Uint8Array(0)],
      ];
      for (const [k, s] of cases) {
        assert.doesNotThrow(() => ed25519Verify(k, message, s));
        assert.equal(ed25519Verify(k, message, s), false, `key ${k.byteLength} bytes, signature ${s.byteLength} bytes`);
      }
    });
  });
}

describe("ed25519 edge cases", () => {
  const v = RFC8032_VECTORS[0]!;
  const publicKey = fromHex(v.publicKey);
  const signature = fromHex(v.signature);

  test("a signature from one RFC vector does not verify under another vector's key", () => {
    const other = RFC8032_VECTORS[1]!;
    assert.equal(ed25519Verify(fromHex(other.publicKey), fromHex(v.message), signature), false);
  });

  test("verify never throws on keys that are not curve points or on all-zero / all-ones input", () => {
    const weird = [new Uint8Array(32), new Uint8Array(32).fill(0xff), fromHex("ed" + "ff".repeat(30) + "7f")];
    for (const k of weird) {
      assert.doesNotThrow(() => ed25519Verify(k, new Uint8Array(0), signature));
      assert.equal(ed25519Verify(k, new Uint8Array(0), signature), false);
    }
    assert.equal(ed25519Verify(publicKey, new Uint8Array(0), new Uint8Array(64)), false);
    assert.equal(ed25519Verify(publicKey, new Uint8Array(0), new Uint8Array(64).fill(0xff)), false);
  });

  test("verify accepts keys and signatures given as subarray views with an offset", () => {
    const keyBuf = new Uint8Array(40);
    keyBuf.set(publicKey, 5);
    const sigBuf = new Uint8Array(70);
    sigBuf.set(signature, 3);
    assert.equal(ed25519Verify(keyBuf.subarray(5, 37), new Uint8Array(0), sigBuf.subarray(3, 67)), true);
  });

  test("signingKeyFromSeed refuses seeds that are not 32 bytes", () => {
    assert.throws(() => signingKeyFromSeed(new Uint8Array(31)), TypeError);
    assert.throws(() => signingKeyFromSeed(new Uint8Array(33)), TypeError);
    assert.throws(() => signingKeyFromSeed(new Uint8Array(0)), TypeError);
  });

  test("different seeds give different keys, and a key's signature verifies only under its own public key", () => {
    const a = signingKeyFromSeed(new Uint8Array(32).fill(1));
    const b = signingKeyFromSeed(new Uint8Array(32).fill(2));
    assert.notEqual(toHex(a.publicKey), toHex(b.publicKey));
    const msg = new TextEncoder().encode("tally");
    const sig = ed25519Sign(a, msg);
    assert.equal(sig.byteLength, ED25519_SIGNATURE_BYTES);
    assert.equal(ed25519Verify(a.publicKey, msg, sig), true);
    assert.equal(ed25519Verify(b.publicKey, msg, sig), false);
  });
});

// Every node must give every signature the same verdict. OpenSSL (node:crypto) and libsodium
// differ on signatures a key's holder can craft: R = the identity point and S = H(R‖A‖M)·a
// satisfies the cofactorless equation, so OpenSSL accepts it; libsodium refuses small-order R.
// ed25519Verify is libsodium's everywhere, so such a signature is refused on every node.
describe("signatures with a small-order component are refused", () => {
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  const le = (b: Uint8Array): bigint => b.reduceRight((x, byte) => (x << 8n) | BigInt(byte), 0n);
  const toLe = (x: bigint): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => Number((x >> BigInt(8 * i)) & 255n));
  const seed = new Uint8Array(32).fill(9);
  const key = signingKeyFromSeed(seed);
  const message = new TextEncoder().encode("pay 1,000,000 to mallory");

  test("R = identity, S = H(R‖A‖M)·a (accepted by the cofactorless equation) is refused", () => {
    const digest = createHash("sha512").update(seed).digest();
    const clamped = new Uint8Array(digest.subarray(0, 32));
    clamped[0]! &= 248;
    clamped[31]! &= 127;
    clamped[31]! |= 64;
    const identity = toLe(1n);
    const k = le(createHash("sha512").update(identity).update(key.publicKey).update(message).digest()) % L;
    const forged = new Uint8Array([...identity, ...toLe((k * le(clamped)) % L)]);
    assert.equal(ed25519Verify(key.publicKey, message, forged), false);
    // The key itself is fine: its honest signature verifies.
    assert.equal(ed25519Verify(key.publicKey, message, ed25519Sign(key, message)), true);
  });

  test("a small-order public key (the identity) with S = 0 is refused", () => {
    const identity = toLe(1n);
    assert.equal(ed25519Verify(identity, message, new Uint8Array([...identity, ...new Uint8Array(32)])), false);
  });

  test("a non-canonical S (S + L) is refused", () => {
    const sig = ed25519Sign(key, message);
    const bumped = new Uint8Array([...sig.subarray(0, 32), ...toLe(le(sig.subarray(32)) + L)]);
    assert.equal(ed25519Verify(key.publicKey, message, bumped), false);
  });
});
