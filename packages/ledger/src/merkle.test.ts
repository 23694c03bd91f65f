// RFC 6962 Merkle trees against published known answers.
//
// Vectors (leaves, roots for sizes 1..8, empty-tree root, inclusion and consistency proofs) are
// the reference-tree vectors of the Certificate Transparency reference implementation,
// google/certificate-transparency cpp/merkletree/merkle_tree_test.cc (kInputs, kSHA256Roots,
// kSHA256Paths, kSHA256Proofs), repeated in transparency-dev/merkle proof/verify_test.go
// (leaves, roots, inclusionProofs, consistencyProofs; the (6, 7) consistency proof is only there).
// Both number leaves from 1; the indices below are 0-based. Hasher vectors (empty root, empty
// leaf, "L123456", children "N123"/"N456") are from transparency-dev/merkle rfc6962/rfc6962_test.go.
// The named-node examples are RFC 6962 section 2.1.3.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { fromHex, toHex, utf8 } from "./bytes.js";
import { sha256 } from "./hash.js";
import {
  consistencyProof,
  consistencyProofFromLeafHashes,
  inclusionProof,
  inclusionProofFromLeafHashes,
  leafHash,
  merkleRoot,
  merkleRootFromLeafHashes,
  nodeHash,
  verifyConsistency,
  verifyInclusion,
} from "./merkle.js";

const EMPTY_TREE_ROOT = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const SOME_HASH = fromHex("abacaba000000000000000000000000000000000000000000060061e00123456");

const LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(fromHex);

const ROOTS = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

const INCLUSION_PROOFS: readonly { index: number; size: number; proof: readonly string[] }[] = [
  { index: 0, size: 1, proof: [] },
  {
    index: 0,
    size: 8,
    proof: [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  },
  { index: 2, size: 3, proof: ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"] },
  {
    index: 1,
    size: 5,
    proof: [
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
  },
];

const CONSISTENCY_PROOFS: readonly { first: number; second: number; proof: readonly string[] }[] = [
  { first: 1, second: 1, proof: [] },
  {
    first: 1,
    second: 8,
    proof: [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  },
  {
    first: 6,
    second: 8,
    proof: [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  },
  {
    first: 2,
    second: 5,
    proof: [
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
  },
  {
    first: 6,
    second: 7,
    proof: [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  },
];

const hexes = (xs: readonly Uint8Array[]): string[] => xs.map(toHex);
const rootOf = (size: number): Uint8Array => fromHex(ROOTS[size - 1]!);

function flipped(h: Uint8Array, mask: number): Uint8Array {
  const out = new Uint8Array(h);
  out[0] = out[0]! ^ mask;
  return out;
}

describe("RFC 6962 hashing (transparency-dev/merkle rfc6962_test.go)", () => {
  test("the empty tree's root is SHA-256 of nothing", () => {
    assert.equal(toHex(merkleRoot([])), EMPTY_TREE_ROOT);
    assert.equal(toHex(merkleRootFromLeafHashes([])), EMPTY_TREE_ROOT);
  });

  test("leaf hash of the empty leaf differs from the empty root", () => {
    assert.equal(toHex(leafHash(new Uint8Array(0))), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  });

  test("leaf hash prefixes 0x00", () => {
    assert.equal(toHex(leafHash(utf8("L123456"))), "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56");
  });

  test("node hash prefixes 0x01 and is order-sensitive", () => {
    assert.equal(toHex(nodeHash(utf8("N123"), utf8("N456"))), "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb");
    assert.notEqual(toHex(nodeHash(utf8("N456"), utf8("N123"))), toHex(nodeHash(utf8("N123"), utf8("N456"))));
  });

  test("a node is not the leaf hash of its children's concatenation (second-preimage resistance)", () => {
    const a = leafHash(utf8("Hello"));
    const b = leafHash(utf8("World"));
    assert.notEqual(toHex(nodeHash(a, b)), toHex(leafHash(new Uint8Array([...a, ...b]))));
  });
});

describe("reference tree roots (CT merkle_tree_test.cc kSHA256Roots)", () => {
  for (let size = 1; size <= 8; size++) {
    test(`root of the first ${size} leaves`, () => {
      const leaves = LEAVES.slice(0, size);
      assert.equal(toHex(merkleRoot(leaves)), ROOTS[size - 1]);
      assert.equal(toHex(merkleRootFromLeafHashes(leaves.map(leafHash))), ROOTS[size - 1]);
    });
  }

  test("the tree is order-sensitive", () => {
    const swapped = [LEAVES[1]!, LEAVES[0]!, ...LEAVES.slice(2)];
    assert.notEqual(toHex(merkleRoot(swapped)), ROOTS[7]);
  });
});

describe("reference inclusion proofs (CT kSHA256Paths, transparency-dev inclusionProofs)", () => {
  for (const v of INCLUSION_PROOFS) {
    test(`leaf ${v.index} in a tree of ${v.size}: generated proof equals the published one`, () => {
      assert.deepEqual(hexes(inclusionProof(LEAVES.slice(0, v.size), v.index)), v.proof);
      assert.deepEqual(hexes(inclusionProofFromLeafHashes(LEAVES.slice(0, v.size).map(leafHash), v.index)), v.proof);
    });

    test(`leaf ${v.index} in a tree of ${v.size}: the published proof verifies and tampering is refused`, () => {
      const proof = v.proof.map(fromHex);
      const leaf = leafHash(LEAVES[v.index]!);
      const root = rootOf(v.size);
      assert.equal(verifyInclusion(leaf, v.index, v.size, proof, root), true);
      assertInclusionProbesFail(leaf, v.index, v.size, proof, root);
    });
  }

  test("inclusion and verification agree for every leaf of the 8-leaf reference tree", () => {
    for (let size = 1; size <= 8; size++) {
      for (let i = 0; i < size; i++) {
        const proof = inclusionProof(LEAVES.slice(0, size), i);
        assert.equal(verifyInclusion(leafHash(LEAVES[i]!), i, size, proof, rootOf(size)), true, `leaf ${i} of ${size}`);
      }
    }
  });
});

describe("reference consistency proofs (CT kSHA256Proofs, transparency-dev consistencyProofs)", () => {
  for (const v of CONSISTENCY_PROOFS) {
    test(`${v.first} -> ${v.second}: generated proof equals the published one`, () => {
      assert.deepEqual(hexes(consistencyProof(LEAVES.slice(0, v.second), v.first)), v.proof);
      assert.deepEqual(hexes(consistencyProofFromLeafHashes(LEAVES.slice(0, v.second).map(leafHash), v.first)), v.proof);
    });

    test(`${v.first} -> ${v.second}: the published proof verifies and tampering is refused`, () => {
      const proof = v.proof.map(fromHex);
      assert.equal(verifyConsistency(v.first, v.second, rootOf(v.first), rootOf(v.second), proof), true);
      if (proof.length > 0) assertConsistencyProbesFail(v.first, v.second, rootOf(v.first), rootOf(v.second), proof);
    });
  }
});

describe("RFC 6962 section 2.1.3 examples (7 leaves, named nodes)", () => {
  const d = LEAVES.slice(0, 7);
  const [a, b, c, dd, e, f, j] = d.map(leafHash) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const g = nodeHash(a, b);
  const h = nodeHash(c, dd);
  const i = nodeHash(e, f);
  const k = nodeHash(g, h);
  const l = nodeHash(i, j);

  test("root and snapshot roots: hash = H(k, l), hash0 = H(g, c), hash1 = k, hash2 = H(k, i)", () => {
    assert.equal(toHex(merkleRoot(d)), toHex(nodeHash(k, l)));
    assert.equal(toHex(merkleRoot(d.slice(0, 3))), toHex(nodeHash(g, c)));
    assert.equal(toHex(merkleRoot(d.slice(0, 4))), toHex(k));
    assert.equal(toHex(merkleRoot(d.slice(0, 6))), toHex(nodeHash(k, i)));
  });

  test("audit paths: d0 [b, h, l], d3 [c, g, l], d4 [f, j, k], d6 [i, k]", () => {
    assert.deepEqual(hexes(inclusionProof(d, 0)), hexes([b, h, l]));
    assert.deepEqual(hexes(inclusionProof(d, 3)), hexes([c, g, l]));
    assert.deepEqual(hexes(inclusionProof(d, 4)), hexes([f, j, k]));
    assert.deepEqual(hexes(inclusionProof(d, 6)), hexes([i, k]));
  });

  test("consistency: PROOF(3, D[7]) = [c, d, g, l], PROOF(4, D[7]) = [l], PROOF(6, D[7]) = [i, j, k]", () => {
    assert.deepEqual(hexes(consistencyProof(d, 3)), hexes([c, dd, g, l]));
    assert.deepEqual(hexes(consistencyProof(d, 4)), hexes([l]));
    assert.deepEqual(hexes(consistencyProof(d, 6)), hexes([i, j, k]));
  });
});

// The probes of CT's VerifierCheck and transparency-dev's corruptInclusionProof.
function assertInclusionProbesFail(leaf: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): void {
  const probes: [string, Uint8Array, number, number, readonly Uint8Array[], Uint8Array][] = [
    ["index - 1", leaf, index - 1, size, proof, root],
    ["index + 1", leaf, index + 1, size, proof, root],
    ["index ^ 2", leaf, index ^ 2, size, proof, root],
    ["size * 2", leaf, index, size * 2, proof, root],
    ["size / 2", leaf, index, Math.floor(size / 2), proof, root],
    ["wrong leaf", utf8("WrongLeaf"), index, size, proof, root],
    ["raw leaf instead of leaf hash", sha256(utf8("x")), index, size, proof, root],
    ["empty root", leaf, index, size, proof, fromHex(EMPTY_TREE_ROOT)],
    ["random root", leaf, index, size, proof, SOME_HASH],
    ["flipped root", leaf, index, size, proof, flipped(root, 1)],
    ["trailing garbage", leaf, index, size, [...proof, new Uint8Array(0)], root],
    ["trailing root", leaf, index, size, [...proof, root], root],
    ["preceding garbage", leaf, index, size, [new Uint8Array(0), ...proof], root],
    ["preceding root", leaf, index, size, [root, ...proof], root],
  ];
  for (let p = 0; p < proof.length; p++) {
    probes.push([`proof[${p}] bit 3 flipped`, leaf, index, size, proof.map((x, q) => (q === p ? flipped(x, 8) : x)), root]);
    probes.push([
      `proof[${p}] replaced by the empty root`,
      leaf,
      index,
      size,
      proof.map((x, q) => (q === p ? fromHex(EMPTY_TREE_ROOT) : x)),
      root,
    ]);
  }
  if (proof.length > 0) probes.push(["removed component", leaf, index, size, proof.slice(0, -1), root]);
  if (proof.length > 1) probes.push(["inserted component", leaf, index, size, [proof[0]!, SOME_HASH, ...proof.slice(1)], root]);
  for (const [desc, lf, ix, sz, pf, rt] of probes) {
    assert.equal(verifyInclusion(lf, ix, sz, pf, rt), false, `${desc} (leaf ${index} of ${size})`);
  }
}

// The probes of CT's VerifierConsistencyCheck and transparency-dev's corruptConsistencyProof.
function assertConsistencyProbesFail(
  first: number,
  second: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): void {
  const wrong = utf8("WrongRoot");
  const probes: [string, number, number, Uint8Array, Uint8Array, readonly Uint8Array[]][] = [
    ["first - 1", first - 1, second, root1, root2, proof],
    ["first + 1", first + 1, second, root1, root2, proof],
    ["first ^ 2", first ^ 2, second, root1, root2, proof],
    ["second * 2", first, second * 2, root1, root2, proof],
    ["second / 2", first, Math.floor(second / 2), root1, root2, proof],
    ["wrong root1", first, second, wrong, root2, proof],
    ["wrong root2", first, second, root1, wrong, proof],
    ["flipped root1", first, second, flipped(root1, 1), root2, proof],
    ["flipped root2", first, second, root1, flipped(root2, 1), proof],
    ["swapped roots", first, second, root2, root1, proof],
    ["empty proof", first, second, root1, root2, []],
    ["trailing garbage", first, second, root1, root2, [...proof, new Uint8Array(0)]],
    ["trailing root1", first, second, root1, root2, [...proof, root1]],
    ["trailing root2", first, second, root1, root2, [...proof, root2]],
    ["trailing last element", first, second, root1, root2, [...proof, proof[proof.length - 1]!]],
    ["preceding garbage", first, second, root1, root2, [new Uint8Array(0), ...proof]],
    ["preceding root1", first, second, root1, root2, [root1, ...proof]],
    ["preceding root2", first, second, root1, root2, [root2, ...proof]],
    ["preceding proof[0]", first, second, root1, root2, [proof[0]!, ...proof]],
    ["truncated proof", first, second, root1, root2, proof.slice(0, -1)],
  ];
  for (let p = 0; p < proof.length; p++) {
    probes.push([`proof[${p}] bit 4 flipped`, first, second, root1, root2, proof.map((x, q) => (q === p ? flipped(x, 16) : x))]);
    probes.push([
      `proof[${p}] replaced by the empty root`,
      first,
      second,
      root1,
      root2,
      proof.map((x, q) => (q === p ? fromHex(EMPTY_TREE_ROOT) : x)),
    ]);
  }
  for (const [desc, f, s, r1, r2, pf] of probes) {
    assert.equal(verifyConsistency(f, s, r1, r2, pf), false, `${desc} (${first} -> ${second})`);
  }
}

const SIZE_MAX = 40;
// Distinct leaves: one byte each, as in CT's data_ (string(1, i)), plus a varying tail.
const BIG = Array.from({ length: SIZE_MAX }, (_, i) => new Uint8Array([i, ...utf8(`leaf-${i}`)]));
const BIG_HASHES = BIG.map(leafHash);
const BIG_ROOTS = Array.from({ length: SIZE_MAX + 1 }, (_, n) => merkleRoot(BIG.slice(0, n)));

describe(`every inclusion proof in trees of size 1..${SIZE_MAX}`, () => {
  test("all roots are distinct and the tree over leaf hashes agrees", () => {
    assert.equal(new Set(BIG_ROOTS.map(toHex)).size, SIZE_MAX + 1);
    for (let n = 0; n <= SIZE_MAX; n++) assert.equal(toHex(merkleRootFromLeafHashes(BIG_HASHES.slice(0, n))), toHex(BIG_ROOTS[n]!));
  });

  test("every proof verifies against its root, and every CT / transparency-dev probe fails", () => {
    for (let size = 1; size <= SIZE_MAX; size++) {
      const root = BIG_ROOTS[size]!;
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(BIG.slice(0, size), index);
        assert.deepEqual(hexes(proof), hexes(inclusionProofFromLeafHashes(BIG_HASHES.slice(0, size), index)));
        assert.equal(verifyInclusion(BIG_HASHES[index]!, index, size, proof, root), true, `leaf ${index} of ${size}`);
        assertInclusionProbesFail(BIG_HASHES[index]!, index, size, proof, root);
      }
    }
  });

  test("a proof never verifies another leaf of the same tree, or against another tree's root", () => {
    for (let size = 1; size <= SIZE_MAX; size++) {
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(BIG.slice(0, size), index);
        for (let other = 0; other < size; other++) {
          if (other !== index) assert.equal(verifyInclusion(BIG_HASHES[other]!, index, size, proof, BIG_ROOTS[size]!), false);
        }
        for (let n = 1; n <= SIZE_MAX; n++) {
          if (n !== size) assert.equal(verifyInclusion(BIG_HASHES[index]!, index, size, proof, BIG_ROOTS[n]!), false);
        }
      }
    }
  });

  test("proof length is the leaf's depth: at most ceil(log2(size))", () => {
    for (let size = 1; size <= SIZE_MAX; size++) {
      for (let index = 0; index < size; index++) {
        assert.ok(inclusionProof(BIG.slice(0, size), index).length <= Math.ceil(Math.log2(size)));
      }
    }
  });
});

describe(`every consistency proof for 0 < m <= n <= ${SIZE_MAX}`, () => {
  test("every proof verifies, and every CT / transparency-dev probe fails", () => {
    for (let n = 1; n <= SIZE_MAX; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProof(BIG.slice(0, n), m);
        assert.deepEqual(hexes(proof), hexes(consistencyProofFromLeafHashes(BIG_HASHES.slice(0, n), m)));
        assert.equal(verifyConsistency(m, n, BIG_ROOTS[m]!, BIG_ROOTS[n]!, proof), true, `${m} -> ${n}`);
        if (m === n) assert.equal(proof.length, 0);
        else assertConsistencyProbesFail(m, n, BIG_ROOTS[m]!, BIG_ROOTS[n]!, proof);
      }
    }
  });

  test("a proof does not verify against the roots of any other pair of sizes", () => {
    for (let n = 2; n <= SIZE_MAX; n += 3) {
      for (let m = 1; m < n; m++) {
        const proof = consistencyProof(BIG.slice(0, n), m);
        for (let m2 = 1; m2 <= SIZE_MAX; m2++) {
          if (m2 !== m) assert.equal(verifyConsistency(m, n, BIG_ROOTS[m2]!, BIG_ROOTS[n]!, proof), false, `${m} -> ${n} with root ${m2}`);
        }
      }
    }
  });

  test("a prefix with a changed leaf is not consistent", () => {
    const forked: Uint8Array[] = [...BIG.slice(0, 20)];
    forked[3] = utf8("forked");
    for (let m = 4; m < 20; m++) {
      const proof = consistencyProof(BIG.slice(0, 20), m);
      assert.equal(verifyConsistency(m, 20, merkleRoot(forked.slice(0, m)), BIG_ROOTS[20]!, proof), false);
    }
  });
});

describe("edge cases of the consistency verifier (CT VerifyConsistencyProof, transparency-dev TestVerifyConsistency)", () => {
  const root1 = utf8("don't care 1");
  const root2 = utf8("don't care 2");
  const empty = fromHex(EMPTY_TREE_ROOT);

  test("sizes that are always consistent", () => {
    assert.equal(verifyConsistency(0, 0, root1, root1, []), true);
    assert.equal(verifyConsistency(0, 1, root1, root2, []), true);
    assert.equal(verifyConsistency(1, 1, root2, root2, []), true);
    assert.equal(verifyConsistency(0, 17, empty, BIG_ROOTS[17]!, []), true);
  });

  test("equal sizes need equal roots", () => {
    assert.equal(verifyConsistency(0, 0, root1, root2, []), false);
    assert.equal(verifyConsistency(1, 1, root1, root2, []), false);
    assert.equal(verifyConsistency(0, 0, empty, root2, []), false);
    assert.equal(verifyConsistency(1, 1, empty, root2, []), false);
  });

  test("time travel to the past", () => {
    assert.equal(verifyConsistency(1, 0, root1, root2, []), false);
    assert.equal(verifyConsistency(2, 1, root1, root2, []), false);
  });

  test("an empty proof between different sizes", () => {
    assert.equal(verifyConsistency(1, 2, root1, root2, []), false);
    assert.equal(verifyConsistency(4, 8, BIG_ROOTS[4]!, BIG_ROOTS[8]!, []), false);
  });

  test("matching roots but a non-empty proof", () => {
    assert.equal(verifyConsistency(0, 0, empty, empty, [empty]), false);
    assert.equal(verifyConsistency(0, 1, empty, empty, [empty]), false);
    assert.equal(verifyConsistency(1, 1, empty, empty, [empty]), false);
  });
});

describe("verifiers never throw on garbage", () => {
  const leaf = BIG_HASHES[2]!;
  const proof7 = inclusionProof(BIG.slice(0, 7), 2);
  const root7 = BIG_ROOTS[7]!;

  test("inclusion: bad indices and sizes", () => {
    const bad: [number, number][] = [
      [-1, 7],
      [2, -7],
      [-1, -1],
      [0, 0],
      [1, 0],
      [2, 1],
      [7, 7],
      [8, 7],
      [2.5, 7],
      [2, 7.5],
      [Number.NaN, 7],
      [2, Number.NaN],
      [2, Number.POSITIVE_INFINITY],
      [Number.NEGATIVE_INFINITY, 7],
      [2, Number.MAX_SAFE_INTEGER],
      [2, Number.MAX_SAFE_INTEGER + 2],
      [2, 2 ** 64],
      [2, 2 ** 32 + 7],
      [2, 2 ** 33 + 7],
    ];
    for (const [index, size] of bad) {
      assert.doesNotThrow(() => verifyInclusion(leaf, index, size, proof7, root7));
      assert.equal(verifyInclusion(leaf, index, size, proof7, root7), false, `index ${index}, size ${size}`);
    }
  });

  test("inclusion: a proof for a small tree does not verify for a tree 2^32 or 2^40 leaves larger", () => {
    for (let size = 1; size <= 12; size++) {
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(BIG.slice(0, size), index);
        for (const big of [2 ** 32 + size, 2 ** 40 + size, 2 ** 52 + size]) {
          assert.equal(
            verifyInclusion(BIG_HASHES[index]!, index, big, proof, BIG_ROOTS[size]!),
            false,
            `leaf ${index} of ${size} as ${big}`,
          );
        }
      }
    }
  });

  test("inclusion: empty proofs, wrong-length hashes, oversized proofs", () => {
    assert.equal(verifyInclusion(leaf, 2, 7, [], root7), false);
    assert.equal(verifyInclusion(new Uint8Array(0), 2, 7, proof7, root7), false);
    assert.equal(verifyInclusion(leaf, 2, 7, proof7, new Uint8Array(0)), false);
    assert.equal(verifyInclusion(leaf, 2, 7, proof7, root7.subarray(0, 31)), false);
    assert.equal(
      verifyInclusion(
        leaf,
        2,
        7,
        proof7.map((p) => p.subarray(0, 16)),
        root7,
      ),
      false,
    );
    assert.equal(
      verifyInclusion(
        leaf,
        2,
        7,
        proof7.map(() => new Uint8Array(0)),
        root7,
      ),
      false,
    );
    assert.equal(
      verifyInclusion(
        leaf,
        2,
        7,
        Array.from({ length: 100 }, () => SOME_HASH),
        root7,
      ),
      false,
    );
    // transparency-dev TestVerifyInclusionSingleEntry: equal but wrong-size hashes are refused.
    assert.equal(verifyInclusion(new Uint8Array(0), 0, 1, [], new Uint8Array(0)), false);
    assert.equal(verifyInclusion(SOME_HASH.subarray(0, 31), 0, 1, [], SOME_HASH.subarray(0, 31)), false);
    assert.equal(verifyInclusion(SOME_HASH, 0, 1, [], SOME_HASH), true);
    assert.equal(verifyInclusion(SOME_HASH, 0, 1, [], new Uint8Array(0)), false);
    assert.equal(verifyInclusion(new Uint8Array(0), 0, 1, [], fromHex(EMPTY_TREE_ROOT)), false);
  });

  test("inclusion: the CT / transparency-dev invalid-path probes", () => {
    for (const [index, size] of [
      [0, 0],
      [0, 1],
      [1, 0],
      [2, 1],
    ] as const) {
      assert.equal(verifyInclusion(SOME_HASH, index, size, [], new Uint8Array(0)), false);
      assert.equal(verifyInclusion(new Uint8Array(0), index, size, [], fromHex(EMPTY_TREE_ROOT)), false);
      assert.equal(verifyInclusion(SOME_HASH, index, size, [], fromHex(EMPTY_TREE_ROOT)), false);
    }
  });

  test("consistency: bad sizes", () => {
    const proof = consistencyProof(BIG.slice(0, 7), 3);
    const r3 = BIG_ROOTS[3]!;
    const bad: [number, number][] = [
      [-3, 7],
      [3, -7],
      [-1, -1],
      [8, 7],
      [3.5, 7],
      [3, 7.5],
      [Number.NaN, 7],
      [3, Number.NaN],
      [3, Number.POSITIVE_INFINITY],
      [Number.NEGATIVE_INFINITY, 7],
      [3, Number.MAX_SAFE_INTEGER + 2],
      [3, 2 ** 64],
      [3, 2 ** 32 + 7],
      [2 ** 32 + 3, 2 ** 32 + 7],
    ];
    for (const [first, second] of bad) {
      assert.doesNotThrow(() => verifyConsistency(first, second, r3, root7, proof));
      assert.equal(verifyConsistency(first, second, r3, root7, proof), false, `${first} -> ${second}`);
    }
  });

  test("consistency: a proof for small trees does not verify for trees 2^32 or 2^40 leaves larger", () => {
    for (let n = 2; n <= 12; n++) {
      for (let m = 1; m < n; m++) {
        const proof = consistencyProof(BIG.slice(0, n), m);
        for (const big of [2 ** 32 + n, 2 ** 40 + n, 2 ** 52 + n]) {
          assert.equal(verifyConsistency(m, big, BIG_ROOTS[m]!, BIG_ROOTS[n]!, proof), false, `${m} -> ${n} as ${big}`);
        }
      }
    }
  });

  test("consistency: wrong-length hashes and oversized proofs", () => {
    const proof = consistencyProof(BIG.slice(0, 7), 3);
    const r3 = BIG_ROOTS[3]!;
    assert.equal(verifyConsistency(3, 7, new Uint8Array(0), root7, proof), false);
    assert.equal(verifyConsistency(3, 7, r3, new Uint8Array(0), proof), false);
    assert.equal(
      verifyConsistency(
        3,
        7,
        r3,
        root7,
        proof.map((p) => p.subarray(1)),
      ),
      false,
    );
    assert.equal(
      verifyConsistency(
        3,
        7,
        r3,
        root7,
        proof.map(() => new Uint8Array(0)),
      ),
      false,
    );
    assert.equal(
      verifyConsistency(
        3,
        7,
        r3,
        root7,
        Array.from({ length: 100 }, () => SOME_HASH),
      ),
      false,
    );
    assert.equal(verifyConsistency(4, 8, BIG_ROOTS[4]!, BIG_ROOTS[8]!, [new Uint8Array(0)]), false);
  });
});

describe("proof generators refuse out-of-range requests", () => {
  test("inclusionProof", () => {
    assert.throws(() => inclusionProof([], 0), RangeError);
    assert.throws(() => inclusionProof(BIG.slice(0, 3), 3), RangeError);
    assert.throws(() => inclusionProof(BIG.slice(0, 3), -1), RangeError);
    assert.throws(() => inclusionProof(BIG.slice(0, 3), 1.5), RangeError);
    assert.throws(() => inclusionProofFromLeafHashes(BIG_HASHES.slice(0, 3), Number.NaN), RangeError);
  });

  test("consistencyProof", () => {
    assert.deepEqual(consistencyProof(BIG.slice(0, 3), 0), []);
    assert.deepEqual(consistencyProof(BIG.slice(0, 3), 3), []);
    assert.deepEqual(consistencyProof([], 0), []);
    assert.throws(() => consistencyProof(BIG.slice(0, 3), 4), RangeError);
    assert.throws(() => consistencyProof(BIG.slice(0, 3), -1), RangeError);
    assert.throws(() => consistencyProofFromLeafHashes(BIG_HASHES.slice(0, 3), 1.5), RangeError);
  });
});
