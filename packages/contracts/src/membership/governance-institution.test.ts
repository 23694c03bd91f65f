import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { fromHex, type Genesis, type JsonValue } from "@tally/ledger";
import type { ContractEvent } from "../contract.js";
import { expectAccepted, expectRejection } from "../testing/given-when-then.js";
import { TEST_GENESIS, fixtureKey } from "../testing/test-genesis.js";
import { DAY_MS, NOW_MS, TEST_VOTERS, governanceChain, outcomeTypes } from "./governance-testing.js";
import { MEMBERS_MAX } from "./governance.js";
import { membershipView } from "./membership-view.js";

const NEW_KEY = fixtureKey(0xc1);
const ADD_D = {
  kind: "add-institution",
  institution: "ent-d",
  name: "Enterprise D",
  roles: ["enterprise"],
  keys: [{ keyId: "k1", publicKey: NEW_KEY }],
};
const EIGHT = TEST_VOTERS.slice(0, 8);
// Eight voters other than bank-b, for changes to bank-b.
const EIGHT_BUT_BANK_B = TEST_VOTERS.filter((v) => v !== "bank-b").slice(0, 8);

function code(r: unknown): string {
  return expectRejection(r as JsonValue).code;
}

function proposeBy(c: ReturnType<typeof governanceChain>, id: string, change: JsonValue, signer = "bank-a"): unknown {
  return c.act(signer, "propose", { id, expiresAtMs: NOW_MS + DAY_MS, change });
}

function last(outs: readonly unknown[]) {
  return expectAccepted(outs.at(-1) as Parameters<typeof expectAccepted>[0]);
}

const SOLO: Genesis = { ...TEST_GENESIS, institutions: TEST_GENESIS.institutions.filter((i) => i.id === "bank-b" || i.id === "reg") };

describe("governance: add an institution", () => {
  test("INSTITUTION_EXISTS when proposing to add a member", () => {
    const r = expectRejection(proposeBy(governanceChain(), "p-1", { ...ADD_D, institution: "bank-b" }) as JsonValue);
    assert.equal(r.code, "INSTITUTION_EXISTS");
    assert.match(r.message, /bank-b/);
  });

  test("INSTITUTION_EXISTS for the deciding vote when another proposal admitted it first; the proposal stays open", () => {
    const c = governanceChain();
    expectAccepted(proposeBy(c, "p-2", { ...ADD_D, name: "Other D" }, "wh-a") as Parameters<typeof expectAccepted>[0]);
    for (const v of TEST_VOTERS.slice(0, 6)) expectAccepted(c.act(v, "vote", { proposal: "p-2", vote: "yes", institution: "ent-d" }));
    c.pass("p-1", ADD_D, EIGHT);
    assert.equal(code(c.act("exch", "vote", { proposal: "p-2", vote: "yes", institution: "ent-d" })), "INSTITUTION_EXISTS");
    assert.equal((c.state.get("proposal/p-2") as Record<string, JsonValue>).status, "open");
    assert.equal((c.state.get("inst/ent-d") as Record<string, JsonValue>).name, "Enterprise D");
  });

  test("TOO_MANY_MEMBERS at the bound", () => {
    const extra: ContractEvent[] = Array.from({ length: MEMBERS_MAX - TEST_GENESIS.institutions.length }, (_, i) => ({
      type: "InstitutionAdmitted",
      assetId: `inst/x-${i}`,
      parties: [`x-${i}`],
      data: { id: `x-${i}`, name: "X", roles: ["regulator"], keys: [{ keyId: "k1", publicKey: (i + 1).toString(16).padStart(64, "0") }] },
    }));
    assert.equal(code(proposeBy(governanceChain(TEST_GENESIS, extra), "p-1", ADD_D)), "TOO_MANY_MEMBERS");
    expectAccepted(proposeBy(governanceChain(TEST_GENESIS, extra.slice(1)), "p-1", ADD_D) as Parameters<typeof expectAccepted>[0]);
  });
});

describe("governance: change roles", () => {
  test("replaces an institution's roles once voted", () => {
    const c = governanceChain();
    const then = last(c.pass("p-1", { kind: "change-roles", institution: "ent-a", roles: ["enterprise", "issuer"] }, EIGHT));
    assert.deepEqual(outcomeTypes(then), ["VoteCast", "RolesChanged", "ProposalApplied"]);
    assert.deepEqual(then.events[1]?.data, { institution: "ent-a", roles: ["enterprise", "issuer"], proposal: "p-1" });
    assert.deepEqual((then.state.get("inst/ent-a") as Record<string, JsonValue>).roles, ["enterprise", "issuer"]);
    assert.deepEqual(membershipView(then.state.values()).members.get("ent-a"), { roles: ["enterprise", "issuer"] });
  });

  test("NO_CHANGE for the roles it already holds, in any order", () => {
    assert.equal(
      code(proposeBy(governanceChain(), "p-1", { kind: "change-roles", institution: "clear-a", roles: ["bank", "clearing"] })),
      "NO_CHANGE",
    );
  });

  test("INSTITUTION_NOT_FOUND for a non-member", () => {
    assert.equal(
      code(proposeBy(governanceChain(), "p-1", { kind: "change-roles", institution: "ent-z", roles: ["bank"] })),
      "INSTITUTION_NOT_FOUND",
    );
  });

  test("UNKNOWN_ROLE and BAD_ARGS for bad roles", () => {
    const c = governanceChain();
    assert.equal(code(proposeBy(c, "p-1", { kind: "change-roles", institution: "ent-a", roles: ["admin"] })), "UNKNOWN_ROLE");
    assert.equal(code(proposeBy(c, "p-1", { kind: "change-roles", institution: "ent-a", roles: [] })), "BAD_ARGS");
    assert.equal(code(proposeBy(c, "p-1", { kind: "change-roles", institution: "ent-a", roles: ["bank", "bank"] })), "BAD_ARGS");
    assert.equal(code(proposeBy(c, "p-1", { kind: "change-roles", institution: "ent-a" })), "BAD_ARGS");
  });

  test("LAST_WRITER when no voting member would remain", () => {
    const c = governanceChain(SOLO);
    assert.equal(code(proposeBy(c, "p-1", { kind: "change-roles", institution: "bank-b", roles: ["regulator"] }, "bank-b")), "LAST_WRITER");
    // Giving the regulator a writer role is fine, and with one voter it applies at once.
    const then = expectAccepted(
      proposeBy(c, "p-2", { kind: "change-roles", institution: "reg", roles: ["regulator", "bank"] }, "bank-b") as Parameters<
        typeof expectAccepted
      >[0],
    );
    assert.deepEqual(outcomeTypes(then), ["ProposalCreated", "RolesChanged", "ProposalApplied"]);
  });
});

describe("governance: rotate a key", () => {
  const rotate = { kind: "rotate-key", institution: "bank-b", oldKeyId: "k1", keyId: "k2", publicKey: NEW_KEY };

  test("adds the new key and revokes the lost one in the deciding vote's transaction", () => {
    const c = governanceChain();
    const then = last(c.pass("p-1", rotate, EIGHT_BUT_BANK_B));
    assert.deepEqual(outcomeTypes(then), ["VoteCast", "KeyAdded", "KeyRevoked", "ProposalApplied"]);
    assert.deepEqual((then.state.get("inst/bank-b") as Record<string, JsonValue>).keys, [
      { keyId: "k1", publicKey: fixtureKey(0x31), active: false },
      { keyId: "k2", publicKey: NEW_KEY, active: true },
    ]);
    const lookup = membershipView(then.state.values()).keyLookup;
    assert.equal(lookup("bank-b", "k1")?.active, false);
    assert.deepEqual(lookup("bank-b", "k2"), { publicKey: fromHex(NEW_KEY), active: true });
  });

  test("KEY_NOT_FOUND, KEY_ALREADY_REVOKED and KEY_EXISTS", () => {
    const c = governanceChain();
    assert.equal(code(proposeBy(c, "p-1", { ...rotate, oldKeyId: "k9" })), "KEY_NOT_FOUND");
    assert.equal(code(proposeBy(c, "p-1", { ...rotate, institution: "bank-a", keyId: "k2", oldKeyId: "k1" })), "KEY_EXISTS");
    assert.equal(code(proposeBy(c, "p-1", { ...rotate, publicKey: fixtureKey(0x31), keyId: "k3" })), "KEY_EXISTS");
    expectAccepted(c.act("bank-a", "revoke-key", { keyId: "k2" }));
    assert.equal(code(proposeBy(c, "p-1", { ...rotate, institution: "bank-a", oldKeyId: "k2", keyId: "k3" })), "KEY_ALREADY_REVOKED");
  });

  test("INSTITUTION_NOT_FOUND for a non-member", () => {
    assert.equal(code(proposeBy(governanceChain(), "p-1", { ...rotate, institution: "ent-z" })), "INSTITUTION_NOT_FOUND");
  });
});

describe("governance: revoke a key", () => {
  test("revokes another institution's key once voted", () => {
    const then = last(governanceChain().pass("p-1", { kind: "revoke-key", institution: "bank-a", keyId: "k2" }, EIGHT));
    assert.deepEqual(outcomeTypes(then), ["VoteCast", "KeyRevoked", "ProposalApplied"]);
    assert.deepEqual(then.events[1]?.data, { institution: "bank-a", keyId: "k2", proposal: "p-1" });
  });

  test("LAST_ACTIVE_KEY when removing the last key, when proposed or when the deciding vote comes", () => {
    const c = governanceChain();
    assert.equal(code(proposeBy(c, "p-0", { kind: "revoke-key", institution: "bank-b", keyId: "k1" })), "LAST_ACTIVE_KEY");
    expectAccepted(
      proposeBy(c, "p-2", { kind: "revoke-key", institution: "bank-a", keyId: "k2" }, "wh-a") as Parameters<typeof expectAccepted>[0],
    );
    for (const v of TEST_VOTERS.slice(0, 6)) expectAccepted(c.act(v, "vote", { proposal: "p-2", vote: "yes", institution: "bank-a" }));
    c.pass("p-1", { kind: "revoke-key", institution: "bank-a", keyId: "k1" }, EIGHT);
    assert.equal(code(c.act("exch", "vote", { proposal: "p-2", vote: "yes", institution: "bank-a" })), "LAST_ACTIVE_KEY");
  });

  test("KEY_NOT_FOUND and KEY_ALREADY_REVOKED", () => {
    const c = governanceChain();
    assert.equal(code(proposeBy(c, "p-1", { kind: "revoke-key", institution: "bank-a", keyId: "k9" })), "KEY_NOT_FOUND");
    expectAccepted(c.act("bank-a", "revoke-key", { keyId: "k2" }));
    assert.equal(code(proposeBy(c, "p-1", { kind: "revoke-key", institution: "bank-a", keyId: "k2" })), "KEY_ALREADY_REVOKED");
  });
});

describe("governance: suspend and reinstate", () => {
  test("a suspended institution keeps its entry and index place but is no member and its keys sign nothing", () => {
    const c = governanceChain();
    const before = c.state.get("inst/ent-c");
    const then = last(c.pass("p-1", { kind: "suspend-institution", institution: "ent-c" }, EIGHT));
    assert.deepEqual(outcomeTypes(then), ["VoteCast", "InstitutionSuspended", "ProposalApplied"]);
    assert.deepEqual(then.state.get("inst/ent-c"), { ...(before as Record<string, JsonValue>), suspended: true });
    assert.ok((then.state.get("index") as string[]).includes("ent-c"));
    const view = membershipView(then.state.values());
    assert.equal(view.members.has("ent-c"), false);
    assert.equal(view.keyLookup("ent-c", "k1")?.active, false);
    assert.equal(code(c.act("ent-c", "add-key", { keyId: "k2", publicKey: NEW_KEY })), "FORBIDDEN_ROLE");
    assert.equal(code(c.act("ent-c", "propose", { id: "p-2", expiresAtMs: NOW_MS + DAY_MS, change: ADD_D })), "FORBIDDEN_ROLE");
    assert.equal(code(proposeBy(c, "p-3", { kind: "suspend-institution", institution: "ent-c" })), "ALREADY_SUSPENDED");
  });

  test("reinstating restores the entry as it was", () => {
    const c = governanceChain();
    const before = c.state.get("inst/ent-c");
    c.pass("p-1", { kind: "suspend-institution", institution: "ent-c" }, EIGHT);
    // 10 voters while ent-c is suspended: 7 yes votes are enough.
    const then = last(
      c.pass(
        "p-2",
        { kind: "reinstate-institution", institution: "ent-c" },
        EIGHT.filter((v) => v !== "ent-c"),
      ),
    );
    assert.deepEqual(outcomeTypes(then), ["VoteCast", "InstitutionReinstated", "ProposalApplied"]);
    assert.deepEqual(then.state.get("inst/ent-c"), before);
    assert.equal(membershipView(then.state.values()).keyLookup("ent-c", "k1")?.active, true);
  });

  test("NOT_SUSPENDED, INSTITUTION_NOT_FOUND and LAST_WRITER", () => {
    assert.equal(code(proposeBy(governanceChain(), "p-1", { kind: "reinstate-institution", institution: "ent-c" })), "NOT_SUSPENDED");
    assert.equal(code(proposeBy(governanceChain(), "p-1", { kind: "suspend-institution", institution: "ent-z" })), "INSTITUTION_NOT_FOUND");
    assert.equal(
      code(proposeBy(governanceChain(SOLO), "p-1", { kind: "suspend-institution", institution: "bank-b" }, "bank-b")),
      "LAST_WRITER",
    );
  });
});
