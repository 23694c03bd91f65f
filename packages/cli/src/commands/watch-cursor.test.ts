import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPosition, savePosition, watchCursorPath } from "./watch-cursor.js";

test("tally watch's saved position: nothing saved is the start; a save reads back; a torn or odd file is an error", () => {
  const home = mkdtempSync(join(tmpdir(), "tally-watch-"));
  try {
    const path = watchCursorPath(home);
    assert.equal(path, join(home, "watch-cursor.json"));
    assert.deepEqual(loadPosition(path), { events: undefined, alertSeq: 0n });
    savePosition({ events: { height: 12n, txIndex: 3, eventIndex: 4294967295 }, alertSeq: 7n }, path);
    assert.deepEqual(loadPosition(path), { events: { height: 12n, txIndex: 3, eventIndex: 4294967295 }, alertSeq: 7n });
    savePosition({ events: undefined, alertSeq: 9n }, path);
    assert.deepEqual(loadPosition(path), { events: undefined, alertSeq: 9n });
    for (const bad of ['{"events":"1:2","alertSeq":"0"}', '{"events":null,"alertSeq":3}', "{"]) {
      writeFileSync(path, bad);
      assert.throws(() => loadPosition(path));
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
