import { test, describe } from "node:test";
import assert from "node:assert/strict";
import type { JsonValue } from "@tally/ledger";
import { builtinContracts } from "../registry.js";
import { expectAccepted, expectRejection } from "../testing/given-when-then.js";
import { DAY_MS, NOW_MS, TEST_VOTERS, governanceChain, outcomeTypes } from "./governance-testing.js";
import { membershipView } from "./membership-view.js";
import {
  BUILTIN_CONTRACT_NAMES,
  USER_CONTRACTS_KEY,
  codeHash,
  parseUserCode,
  parseUserContractIndex,
  userCodeKey,
} from "./user-contract-records.js";

const EIGHT = TEST_VOTERS.slice(0, 8);
const CODE_V1 = "module.exports = { version: 1 };";
const CODE_V2 = "module.exports = { version: 2 };";

function deploy(version: number, code: string, sha256 = codeHash(code)): JsonValue {
  return { kind: "deploy-contract", name: "loc", version, sha256, code };
}

function rejectionCode(r: unknown): string {
  return expectRejection(r as JsonValue).code;
}

describe("deploy-contract proposals", () => {
  test("the reserved names are exactly the built-in contracts", () => {
    assert.deepEqual([...BUILTIN_CONTRACT_NAMES].sort(), [...builtinContracts.keys()].sort());
  });

  test("a code whose sha256 is not the one proposed is CODE_HASH_MISMATCH, and nothing is written", () => {
    const c = governanceChain();
    const before = c.events.length;
    const r = c.act("bank-a", "propose", { id: "p-1", expiresAtMs: NOW_MS + DAY_MS, change: deploy(1, CODE_V1, codeHash(CODE_V2)) });
    assert.equal(rejectionCode(r), "CODE_HASH_MISMATCH");
    assert.equal(c.events.length, before);
  });

  test("a built-in name is RESERVED_CONTRACT_NAME; a proposal without its code is BAD_ARGS", () => {
    const c = governanceChain();
    const change = { kind: "deploy-contract", name: "cash", version: 1, sha256: codeHash(CODE_V1), code: CODE_V1 };
    assert.equal(rejectionCode(c.act("bank-a", "propose", { id: "p-1", expiresAtMs: NOW_MS + DAY_MS, change })), "RESERVED_CONTRACT_NAME");
    const noCode = { kind: "deploy-contract", name: "loc", version: 1, sha256: codeHash(CODE_V1) };
    assert.equal(rejectionCode(c.act("bank-a", "propose", { id: "p-2", expiresAtMs: NOW_MS + DAY_MS, change: noCode })), "BAD_ARGS");
  });

  test("proposing stores the code by hash; the deciding vote adds the version to the index at its height", () => {
    const c = governanceChain();
    const outs = c.pass("p-1", deploy(1, CODE_V1), EIGHT);
    assert.deepEqual(outcomeTypes(outs[0]!), ["ProposalCreated", "CodeStored"]);
    assert.deepEqual(outcomeTypes(outs.at(-1)!), ["VoteCast", "ContractDeployed", "ProposalApplied"]);
    const code = parseUserCode(c.state.get(userCodeKey(codeHash(CODE_V1)))!);
    assert.equal(code.code, CODE_V1);
    const index = parseUserContractIndex(c.state.get(USER_CONTRACTS_KEY));
    assert.deepEqual(
      index.get("loc")?.map((v) => [v.version, v.sha256, v.proposal]),
      [[1, codeHash(CODE_V1), "p-1"]],
    );
    // The stored proposal names the code by hash only.
    const p = c.query("proposal", { id: "p-1" }) as { change: Record<string, JsonValue> };
    assert.deepEqual(p.change, { kind: "deploy-contract", name: "loc", version: 1, sha256: codeHash(CODE_V1) });
  });

  test("versions go up by one: a repeat is VERSION_EXISTS, a gap VERSION_GAP, and v2 keeps v1 in the index", () => {
    const c = governanceChain();
    c.pass("p-1", deploy(1, CODE_V1), EIGHT);
    const propose = (id: string, change: JsonValue) => c.act("bank-a", "propose", { id, expiresAtMs: NOW_MS + DAY_MS, change });
    assert.equal(rejectionCode(propose("p-2", deploy(1, CODE_V2))), "VERSION_EXISTS");
    assert.equal(rejectionCode(propose("p-3", deploy(3, CODE_V2))), "VERSION_GAP");
    expectAccepted(c.pass("p-4", deploy(2, CODE_V2), EIGHT).at(-1)!);
    const index = parseUserContractIndex(c.state.get(USER_CONTRACTS_KEY));
    assert.deepEqual(
      index.get("loc")?.map((v) => v.version),
      [1, 2],
    );
  });

  test("a deploy proposal waits for votes like any other: before the threshold the contract is not in the index", () => {
    const c = governanceChain();
    c.pass("p-1", deploy(1, CODE_V1), EIGHT.slice(0, 2));
    assert.equal(parseUserContractIndex(c.state.get(USER_CONTRACTS_KEY)).size, 0);
  });
});

describe("set-sandbox-limits proposals", () => {
  test("set the step and memory limits in the chain config; out-of-range values are BAD_ARGS", () => {
    const c = governanceChain();
    const outs = c.pass("p-1", { kind: "set-sandbox-limits", stepLimit: 50, memoryLimitBytes: 4 * 1024 * 1024 }, EIGHT);
    assert.deepEqual(outcomeTypes(outs.at(-1)!), ["VoteCast", "SandboxLimitsChanged", "ProposalApplied"]);
    const config = c.query("chain-config", {}) as Record<string, JsonValue>;
    assert.deepEqual(config.sandbox, { stepLimit: 50, memoryLimitBytes: 4 * 1024 * 1024 });
    const bad = { kind: "set-sandbox-limits", stepLimit: 0, memoryLimitBytes: 4 * 1024 * 1024 };
    assert.equal(rejectionCode(c.act("bank-a", "propose", { id: "p-2", expiresAtMs: NOW_MS + DAY_MS, change: bad })), "BAD_ARGS");
  });

  test("set the BigInt cap; a later proposal naming none keeps it; out of range is BAD_ARGS, the same again NO_CHANGE", () => {
    const c = governanceChain();
    const limits = { kind: "set-sandbox-limits", stepLimit: 50, memoryLimitBytes: 4 * 1024 * 1024 };
    c.pass("p-1", { ...limits, maxBigIntBits: 1024 }, EIGHT);
    const config = (): JsonValue => (c.query("chain-config", {}) as Record<string, JsonValue>).sandbox!;
    assert.deepEqual(config(), { stepLimit: 50, memoryLimitBytes: 4 * 1024 * 1024, maxBigIntBits: 1024 });
    c.pass("p-2", { ...limits, stepLimit: 60 }, EIGHT);
    assert.deepEqual(config(), { stepLimit: 60, memoryLimitBytes: 4 * 1024 * 1024, maxBigIntBits: 1024 });
    for (const [id, bits] of [
      ["p-3", 63],
      ["p-4", 4097],
      ["p-5", "512"],
    ] as const) {
      const change = { ...limits, maxBigIntBits: bits };
      assert.equal(rejectionCode(c.act("bank-a", "propose", { id, expiresAtMs: NOW_MS + DAY_MS, change })), "BAD_ARGS", String(bits));
    }
    const same = { ...limits, stepLimit: 60, maxBigIntBits: 1024 };
    assert.equal(rejectionCode(c.act("bank-a", "propose", { id: "p-6", expiresAtMs: NOW_MS + DAY_MS, change: same })), "NO_CHANGE");
  });
});

describe("deploy-contract names", () => {
  test("a name with '.' is BAD_ARGS: <name>.v<version> addresses one version", () => {
    const c = governanceChain();
    const change = { kind: "deploy-contract", name: "loc.v2", version: 1, sha256: codeHash(CODE_V1), code: CODE_V1 };
    assert.equal(rejectionCode(c.act("bank-a", "propose", { id: "p-1", expiresAtMs: NOW_MS + DAY_MS, change })), "BAD_ARGS");
  });
});

describe("membership view of user contracts", () => {
  test("lists each deployed contract by name and by name.v<version>, and skips the code records", () => {
    const c = governanceChain();
    assert.deepEqual([...membershipView(c.state.values()).userContracts], []);
    c.pass("p-1", deploy(1, CODE_V1), EIGHT);
    c.pass("p-2", deploy(2, CODE_V2), EIGHT);
    assert.deepEqual([...membershipView(c.state.values()).userContracts].sort(), ["loc", "loc.v1", "loc.v2"]);
  });
});
