import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { canonicalJson } from "@tally/ledger";
import type { ContractEvent } from "../contract.js";
import { WRITER_ROLES } from "../roles.js";
import { expectAccepted, expectEvents, expectRejection, given } from "../testing/given-when-then.js";
import { TITLE_LENGTH_MAX, URI_LENGTH_MAX } from "./notary.js";

const HASH = "5e".repeat(32);
const FIRST_TX = "cd".repeat(32);

function registered(owner: string, hash = HASH): ContractEvent {
  const data = { hash, owner, title: "Annual report", uri: null, height: "3", blockTimeMs: 1_700_000_000_500, txId: FIRST_TX };
  return { type: "DocumentRegistered", assetId: `doc/${hash}`, parties: [owner], data };
}

describe("notary register", () => {
  test("records the hash with its owner, title, uri, height, block time and tx id", () => {
    const then = expectAccepted(
      given("notary").when({
        signer: "ent-a",
        action: "register",
        args: { hash: HASH, title: "Song", uri: "ipfs://x" },
        ctx: { height: 123n, txId: "ef".repeat(32) },
      }),
    );
    const data = {
      hash: HASH,
      owner: "ent-a",
      title: "Song",
      uri: "ipfs://x",
      height: "123",
      blockTimeMs: 1_700_000_123_456,
      txId: "ef".repeat(32),
    };
    assert.deepEqual(then.events, [{ type: "DocumentRegistered", assetId: `doc/${HASH}`, parties: ["ent-a"], data }]);
    assert.deepEqual([...then.updates], [[`doc/${HASH}`, data]]);
  });

  test("a missing uri is null", () => {
    const events = expectEvents(given("notary").when({ signer: "bank-a", action: "register", args: { hash: HASH, title: "T" } }));
    assert.equal(events[0]?.data.uri, null);
  });

  test("ALREADY_REGISTERED names the first registrant, its tx id and height, whoever tries again", () => {
    for (const signer of ["bank-b", "bank-a"]) {
      const r = expectRejection(
        given("notary", [registered("bank-a")]).when({ signer, action: "register", args: { hash: HASH, title: "Mine" } }),
      );
      assert.equal(r.code, "ALREADY_REGISTERED");
      assert.match(r.message, /bank-a/);
      assert.ok(r.message.includes(FIRST_TX), r.message);
      assert.match(r.message, /height 3\b/);
    }
  });

  test("another hash registers independently", () => {
    const other = "77".repeat(32);
    const then = expectAccepted(
      given("notary", [registered("bank-a")]).when({ signer: "bank-b", action: "register", args: { hash: other, title: "T" } }),
    );
    assert.deepEqual([...then.updates.keys()], [`doc/${other}`]);
    assert.equal(then.state.size, 2);
  });

  test("every writer role may register; a regulator may not", () => {
    for (const role of WRITER_ROLES) {
      const members = new Map([["someone", { roles: [role] }]]);
      const r = given("notary").when({ signer: "someone", action: "register", args: { hash: HASH, title: "T" }, ctx: { members } });
      assert.equal(expectEvents(r).length, 1, role);
    }
    assert.equal(
      expectRejection(given("notary").when({ signer: "reg", action: "register", args: { hash: HASH, title: "T" } })).code,
      "FORBIDDEN_ROLE",
    );
  });

  test("title and uri at their bounds are accepted", () => {
    const r = given("notary").when({
      signer: "bank-a",
      action: "register",
      args: { hash: HASH, title: "t".repeat(TITLE_LENGTH_MAX), uri: "u".repeat(URI_LENGTH_MAX) },
    });
    assert.equal(expectEvents(r).length, 1);
  });

  const cases: [string, unknown][] = [
    ["hash", { title: "T" }],
    ["hash", { hash: HASH.toUpperCase(), title: "T" }],
    ["hash", { hash: HASH.slice(2), title: "T" }],
    ["hash", { hash: "g".repeat(64), title: "T" }],
    ["hash", { hash: 123, title: "T" }],
    ["title", { hash: HASH }],
    ["title", { hash: HASH, title: "" }],
    ["title", { hash: HASH, title: 5 }],
    ["title", { hash: HASH, title: "t".repeat(TITLE_LENGTH_MAX + 1) }],
    ["uri", { hash: HASH, title: "T", uri: "u".repeat(URI_LENGTH_MAX + 1) }],
    ["uri", { hash: HASH, title: "T", uri: 1 }],
    ["owner", { hash: HASH, title: "T", owner: "bank-b" }],
  ];
  for (const [field, args] of cases) {
    test(`refuses ${JSON.stringify(args).slice(0, 100)} naming ${field}`, () => {
      const r = expectRejection(given("notary").when({ signer: "bank-a", action: "register", args }));
      assert.equal(r.code, "BAD_ARGS");
      assert.match(r.message, new RegExp(`\\b${field}\\b`));
    });
  }
});

describe("notary lookup", () => {
  test("returns the entry, or null for an unknown hash", () => {
    const g = given("notary", [registered("bank-a")]);
    assert.deepEqual(g.query("lookup", { hash: HASH }), registered("bank-a").data);
    assert.equal(g.query("lookup", { hash: "00".repeat(32) }), null);
  });

  test("refuses a bad hash", () => {
    assert.equal(expectRejection(given("notary").query("lookup", { hash: "xyz" })).code, "BAD_ARGS");
  });
});

test("notary is deterministic: the same inputs give deep-equal outputs and the same bytes", () => {
  const run = () => given("notary").when({ signer: "bank-a", action: "register", args: { hash: HASH, title: "T", uri: "https://x" } });
  const a = expectAccepted(run());
  const b = expectAccepted(run());
  assert.deepEqual(a, b);
  assert.equal(canonicalJson([a.events, [...a.updates]]), canonicalJson([b.events, [...b.updates]]));
});
