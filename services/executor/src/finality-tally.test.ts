import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { FinalityTally, meetsQuorum, type VerifiedReceipt } from "./finality-tally.js";

const TWO_THIRDS = { quorumNumerator: 2, quorumDenominator: 3 };
const hash = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const receipt = (nodeId: string, height: bigint, root: number, block = 1): VerifiedReceipt => ({
  nodeId,
  height,
  blockHash: hash(block),
  stateRoot: hash(root),
  body: new Uint8Array(0),
  signature: new Uint8Array(0),
});

describe("meetsQuorum (more than the fraction)", () => {
  test("4 validators at 2/3 need 3; 3 validators need all 3; exactly 2/3 is not enough", () => {
    assert.equal(meetsQuorum(2, 4, TWO_THIRDS), false);
    assert.equal(meetsQuorum(3, 4, TWO_THIRDS), true);
    assert.equal(meetsQuorum(2, 3, TWO_THIRDS), false);
    assert.equal(meetsQuorum(3, 3, TWO_THIRDS), true);
    assert.equal(meetsQuorum(1, 1, TWO_THIRDS), true);
    assert.equal(meetsQuorum(4, 6, TWO_THIRDS), false);
    assert.equal(meetsQuorum(5, 6, TWO_THIRDS), true);
    assert.equal(meetsQuorum(3, 5, { quorumNumerator: 1, quorumDenominator: 2 }), true);
  });
});

describe("FinalityTally", () => {
  const validators = new Set(["n1", "n2", "n3", "n4"]);

  test("final at the third agreeing receipt of four, with its signers; a later receipt is not counted again", () => {
    const t = new FinalityTally(validators);
    assert.equal(t.add(receipt("n1", 5n, 7), TWO_THIRDS).kind, "pending");
    assert.equal(t.add(receipt("n2", 5n, 7), TWO_THIRDS).kind, "pending");
    const out = t.add(receipt("n4", 5n, 7), TWO_THIRDS);
    assert.equal(out.kind, "final");
    assert.ok(out.kind === "final");
    assert.deepEqual(out.agreement.signers, ["n1", "n2", "n4"]);
    assert.deepEqual(out.agreement.stateRoot, hash(7));
    assert.equal(t.pendingHeights, 0);
  });

  test("a disagreeing receipt does not count towards the others' quorum", () => {
    const t = new FinalityTally(validators);
    t.add(receipt("n1", 1n, 7), TWO_THIRDS);
    t.add(receipt("n2", 1n, 8), TWO_THIRDS);
    assert.equal(t.add(receipt("n3", 1n, 7), TWO_THIRDS).kind, "pending");
    const out = t.add(receipt("n4", 1n, 7), TWO_THIRDS);
    assert.ok(out.kind === "final");
    assert.deepEqual(out.agreement.signers, ["n1", "n3", "n4"]);
    assert.equal(out.receipts.length, 4);
  });

  test("the same state root under another block hash is another group", () => {
    const t = new FinalityTally(validators);
    t.add(receipt("n1", 1n, 7, 1), TWO_THIRDS);
    t.add(receipt("n2", 1n, 7, 2), TWO_THIRDS);
    assert.equal(t.add(receipt("n3", 1n, 7, 1), TWO_THIRDS).kind, "pending");
  });

  test("a validator's second receipt at a height is a repeat; non-validators never count", () => {
    const t = new FinalityTally(validators);
    t.add(receipt("n1", 1n, 7), TWO_THIRDS);
    assert.equal(t.add(receipt("n1", 1n, 8), TWO_THIRDS).kind, "repeat");
    assert.equal(t.add(receipt("stranger", 1n, 7), TWO_THIRDS).kind, "pending");
    assert.equal(t.add(receipt("n2", 1n, 7), TWO_THIRDS).kind, "pending");
    assert.equal(t.add(receipt("n3", 1n, 7), TWO_THIRDS).kind, "final");
  });

  test("three validators, one disagreeing: no quorum is possible; the strict majority is named", () => {
    const t = new FinalityTally(new Set(["a", "b", "c"]));
    t.add(receipt("a", 3n, 1), TWO_THIRDS);
    t.add(receipt("b", 3n, 2), TWO_THIRDS);
    const out = t.add(receipt("c", 3n, 1), TWO_THIRDS);
    assert.ok(out.kind === "stuck");
    assert.deepEqual(out.largest?.signers, ["a", "c"]);
  });

  test("a tie has no largest group", () => {
    const t = new FinalityTally(new Set(["a", "b"]));
    t.add(receipt("a", 3n, 1), TWO_THIRDS);
    const out = t.add(receipt("b", 3n, 2), TWO_THIRDS);
    assert.ok(out.kind === "stuck");
    assert.equal(out.largest, undefined);
  });

  test("pending heights are bounded", () => {
    const t = new FinalityTally(validators, 3);
    for (let h = 1n; h <= 10n; h++) t.add(receipt("n1", h, 1), TWO_THIRDS);
    assert.equal(t.pendingHeights, 3);
    assert.equal(t.receiptsAt(10n).length, 1);
    assert.equal(t.receiptsAt(1n).length, 0);
  });
});
