import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { toHex } from "./bytes.js";
import { genesisHash, parseGenesis, type Genesis } from "./genesis.js";

const KEY = "11".repeat(32);

function makeGenesis(): Genesis {
  return {
    chainId: "tally-test",
    genesisTimeMs: 1_700_000_000_000,
    institutions: [{ id: "bank-a", name: "Bank A", roles: ["bank"], keys: [{ keyId: "k1", publicKey: KEY }] }],
    sequencers: [{ id: "seq-1", publicKey: "22".repeat(32) }],
    validators: [{ nodeId: "node-a", institutionId: "bank-a", publicKey: "33".repeat(32) }],
    finality: { quorumNumerator: 2, quorumDenominator: 3 },
  };
}

describe("genesis governance", () => {
  test("is optional, and a genesis without it hashes as before", () => {
    const g = parseGenesis(makeGenesis());
    assert.equal(g.governance, undefined);
    assert.equal(toHex(genesisHash(g)), toHex(genesisHash(makeGenesis())));
  });

  for (const [n, d] of [
    [2, 3],
    [1, 1],
    [3, 4],
    [51, 100],
  ] as const) {
    test(`accepts a threshold of ${n}/${d}`, () => {
      const g = parseGenesis({ ...makeGenesis(), governance: { thresholdNumerator: n, thresholdDenominator: d } });
      assert.deepEqual(g.governance, { thresholdNumerator: n, thresholdDenominator: d });
    });
  }

  test("is part of the genesis hash when present", () => {
    const with23 = parseGenesis({ ...makeGenesis(), governance: { thresholdNumerator: 2, thresholdDenominator: 3 } });
    assert.notEqual(toHex(genesisHash(with23)), toHex(genesisHash(makeGenesis())));
  });

  const bad: [string, unknown][] = [
    ["null", null],
    ["a number", 2],
    ["an array", [2, 3]],
    ["one half (not above it)", { thresholdNumerator: 1, thresholdDenominator: 2 }],
    ["below one half", { thresholdNumerator: 1, thresholdDenominator: 3 }],
    ["above one", { thresholdNumerator: 4, thresholdDenominator: 3 }],
    ["zero over zero", { thresholdNumerator: 0, thresholdDenominator: 0 }],
    ["negatives", { thresholdNumerator: -2, thresholdDenominator: -3 }],
    ["a fraction", { thresholdNumerator: 1.5, thresholdDenominator: 2 }],
    ["a string", { thresholdNumerator: "2", thresholdDenominator: 3 }],
    ["a missing denominator", { thresholdNumerator: 2 }],
    ["an unsafe integer", { thresholdNumerator: 2 ** 60, thresholdDenominator: 2 ** 60 }],
  ];
  for (const [name, governance] of bad) {
    test(`refuses ${name}, naming governance`, () => {
      assert.throws(
        () => parseGenesis({ ...makeGenesis(), governance }),
        (e: unknown) => e instanceof TypeError && /^genesis: governance/.test(e.message),
      );
    });
  }
});
