import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { BlockBuffer, type PendingTx } from "./block-buffer.js";

// The buffer counts each tx as its bytes plus 4 bytes of protobuf framing.
const OVERHEAD = 4;

let nextSeq = 1n;
function tx(bytes: number): PendingTx {
  return { seq: nextSeq++, data: new Uint8Array(bytes).fill(7) };
}

describe("BlockBuffer count limit", () => {
  test("says full exactly when blockTxsMax transactions are buffered", () => {
    const b = new BlockBuffer({ blockTxsMax: 3, blockBytesMax: 1_000_000 });
    assert.equal(b.add(tx(10)), false);
    assert.equal(b.add(tx(10)), false);
    assert.equal(b.size, 2);
    assert.equal(b.add(tx(10)), true);
    assert.equal(b.size, 3);
  });

  test("a limit of one makes every transaction its own block", () => {
    const b = new BlockBuffer({ blockTxsMax: 1, blockBytesMax: 1_000_000 });
    assert.equal(b.add(tx(10)), true);
    assert.equal(b.take().length, 1);
    assert.equal(b.add(tx(10)), true);
  });

  test("take returns the transactions in arrival order and empties the buffer, resetting the count", () => {
    const b = new BlockBuffer({ blockTxsMax: 3, blockBytesMax: 1_000_000 });
    const sent = [tx(1), tx(2), tx(3)];
    for (const t of sent) b.add(t);
    const got = b.take();
    assert.deepEqual(
      got.map((t) => t.seq),
      sent.map((t) => t.seq),
    );
    assert.equal(b.size, 0);
    assert.deepEqual(b.take(), []);
    // The count starts over: two more do not fill a block of three.
    assert.equal(b.add(tx(1)), false);
    assert.equal(b.add(tx(1)), false);
    assert.equal(b.add(tx(1)), true);
  });
});

describe("BlockBuffer byte limit", () => {
  test("says full when the buffered bytes (with framing) reach blockBytesMax exactly", () => {
    const b = new BlockBuffer({ blockTxsMax: 1000, blockBytesMax: 2 * (100 + OVERHEAD) });
    assert.equal(b.add(tx(100)), false);
    assert.equal(b.add(tx(100)), true);
  });

  test("one byte under the limit is not full", () => {
    const b = new BlockBuffer({ blockTxsMax: 1000, blockBytesMax: 2 * (100 + OVERHEAD) + 1 });
    assert.equal(b.add(tx(100)), false);
    assert.equal(b.add(tx(100)), false);
  });

  test("a transaction larger than the limit in an empty buffer is taken alone and fills the block", () => {
    const b = new BlockBuffer({ blockTxsMax: 1000, blockBytesMax: 500 });
    const big = tx(2000);
    assert.equal(b.wouldOverflow(big.data), false, "an empty buffer never overflows, or a big tx could never be included");
    assert.equal(b.add(big), true);
    assert.equal(b.take().length, 1);
  });

  test("take resets the byte count", () => {
    const b = new BlockBuffer({ blockTxsMax: 1000, blockBytesMax: 2 * (100 + OVERHEAD) });
    b.add(tx(100));
    b.take();
    assert.equal(b.add(tx(100)), false, "bytes of a taken block still counted");
  });
});

describe("BlockBuffer overflow check", () => {
  test("is false while the next transaction still fits, true once it would break the limit", () => {
    const max = 3 * (100 + OVERHEAD);
    const b = new BlockBuffer({ blockTxsMax: 1000, blockBytesMax: max });
    b.add(tx(100));
    b.add(tx(100));
    // Exactly fits: 3 * 104 = max.
    assert.equal(b.wouldOverflow(new Uint8Array(100)), false);
    // One byte more does not.
    assert.equal(b.wouldOverflow(new Uint8Array(101)), true);
  });

  test("counts the framing overhead of the candidate transaction", () => {
    const b = new BlockBuffer({ blockTxsMax: 1000, blockBytesMax: 200 });
    b.add(tx(100)); // 104 buffered
    // 104 + 92 + 4 = 200 fits; 104 + 93 + 4 = 201 does not.
    assert.equal(b.wouldOverflow(new Uint8Array(92)), false);
    assert.equal(b.wouldOverflow(new Uint8Array(93)), true);
  });

  test("does not change the buffer", () => {
    const b = new BlockBuffer({ blockTxsMax: 1000, blockBytesMax: 200 });
    b.add(tx(100));
    assert.equal(b.wouldOverflow(new Uint8Array(1000)), true);
    assert.equal(b.size, 1);
    assert.equal(b.take().length, 1);
  });

  test("filling a buffer by following wouldOverflow never exceeds the byte limit", () => {
    const max = 1000;
    const b = new BlockBuffer({ blockTxsMax: 10_000, blockBytesMax: max });
    const blocks: PendingTx[][] = [];
    // Sizes that do not divide the limit evenly, as the sequencer's loop would see them.
    for (let i = 0; i < 200; i++) {
      const t = tx(17 + ((i * 37) % 150));
      if (b.wouldOverflow(t.data)) blocks.push(b.take());
      if (b.add(t)) blocks.push(b.take());
    }
    blocks.push(b.take());
    assert.equal(blocks.flat().length, 200, "no transaction lost or duplicated");
    for (const blk of blocks) {
      const bytes = blk.reduce((n, t) => n + t.data.byteLength + OVERHEAD, 0);
      assert.ok(bytes <= max, `a block of ${bytes} bytes exceeds ${max}`);
    }
  });
});
