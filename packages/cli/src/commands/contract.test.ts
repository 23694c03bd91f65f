import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { codeHash } from "@tally/contracts";
import { parseArgs } from "../args.js";
import { contractCommand, deployChange } from "./contract.js";

describe("tally contract deploy", () => {
  test("the proposal carries the code and its sha256", () => {
    assert.deepEqual(deployChange("loc", 2, "module.exports = {};"), {
      kind: "deploy-contract",
      name: "loc",
      version: 2,
      sha256: codeHash("module.exports = {};"),
      code: "module.exports = {};",
    });
  });

  test("a code that does not compile, or declares no action, is refused locally with its reason (exit 2), before any network", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tally-contract-"));
    const errors: string[] = [];
    const original = console.error;
    console.error = (m: string) => errors.push(m);
    try {
      for (const [file, code, reason] of [
        ["broken.js", "module.exports = {", "BAD_CONTRACT"],
        ["empty.js", "module.exports = { actions: {} };", "BAD_CONTRACT"],
      ] as const) {
        writeFileSync(join(dir, file), code);
        const rc = await contractCommand("deploy", join(dir, file), parseArgs(["--as", "bank-a", "--name", "x"]));
        assert.equal(rc, 2);
        assert.match(errors.at(-1) ?? "", new RegExp(reason));
      }
      assert.equal(await contractCommand("deploy", undefined, parseArgs([])), 2);
    } finally {
      console.error = original;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
