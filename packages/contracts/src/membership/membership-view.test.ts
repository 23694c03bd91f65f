import { test } from "node:test";
import assert from "node:assert/strict";
import { InvariantError, fromHex } from "@tally/ledger";
import { expectAccepted, given } from "../testing/given-when-then.js";
import { TEST_GENESIS, fixtureKey } from "../testing/test-genesis.js";
import { membershipGenesisEvents } from "./genesis-events.js";
import { DAY_MS, NOW_MS, governanceChain } from "./governance-testing.js";
import { keyLookupFromMembership, membersFromMembership, membershipView } from "./membership-view.js";

const state = given("membership", membershipGenesisEvents(TEST_GENESIS)).state;

test("the key lookup finds every genesis key as active, with its raw bytes", () => {
  const lookup = keyLookupFromMembership(state.values());
  for (const i of TEST_GENESIS.institutions) {
    for (const k of i.keys) assert.deepEqual(lookup(i.id, k.keyId), { publicKey: fromHex(k.publicKey), active: true });
  }
  assert.equal(lookup("bank-a", "k9"), undefined);
  assert.equal(lookup("nobody", "k1"), undefined);
});

test("a revoked key is known but inactive", () => {
  const then = expectAccepted(
    given("membership", membershipGenesisEvents(TEST_GENESIS)).when({ signer: "bank-a", action: "revoke-key", args: { keyId: "k1" } }),
  );
  const lookup = keyLookupFromMembership(then.state.values());
  assert.deepEqual(lookup("bank-a", "k1"), { publicKey: fromHex(fixtureKey(0x21)), active: false });
  assert.equal(lookup("bank-a", "k2")?.active, true);
});

test("the member map holds every institution's roles and skips the index", () => {
  const members = membersFromMembership(state.values());
  assert.deepEqual(
    [...members].sort(([a], [b]) => (a < b ? -1 : 1)),
    TEST_GENESIS.institutions.map((i) => [i.id, { roles: i.roles }]).sort(([a], [b]) => (a! < b! ? -1 : 1)),
  );
  assert.equal(membershipView([]).members.size, 0);
});

test("a malformed institution entry is an invariant violation", () => {
  assert.throws(() => membershipView([{ id: "x", name: "X", roles: ["bank"] }]), InvariantError);
  assert.throws(() => membershipView([{ id: "x", name: "X", roles: "bank", keys: [] }]), InvariantError);
  assert.throws(() => membershipView(["inst/x"]), InvariantError);
});

test("the chain config and proposals are skipped; an unknown record is an invariant violation", () => {
  const c = governanceChain();
  expectAccepted(
    c.act("bank-a", "propose", {
      id: "p-1",
      expiresAtMs: NOW_MS + DAY_MS,
      change: { kind: "set-finality", quorumNumerator: 1, quorumDenominator: 2 },
    }),
  );
  assert.ok(c.state.has("chain-config") && c.state.has("proposal/p-1"));
  assert.equal(membershipView(c.state.values()).members.size, TEST_GENESIS.institutions.length);
  assert.throws(() => membershipView([{ record: "mystery", id: "x" }]), InvariantError);
});

test("a suspended entry is no member and its keys are inactive; suspended must be true when present", () => {
  const entry = { id: "x", name: "X", roles: ["bank"], keys: [{ keyId: "k1", publicKey: fixtureKey(0x01), active: true }] };
  const view = membershipView([{ ...entry, suspended: true }]);
  assert.equal(view.members.has("x"), false);
  assert.deepEqual(view.keyLookup("x", "k1"), { publicKey: fromHex(fixtureKey(0x01)), active: false });
  assert.equal(membershipView([entry]).keyLookup("x", "k1")?.active, true);
  assert.throws(() => membershipView([{ ...entry, suspended: false }]), InvariantError);
});
