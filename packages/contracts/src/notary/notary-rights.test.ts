// Rights and licenses on a notarized document: given / when / then for every act and rejection,
// garbage in every field, and the queries that show who held which right when.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import type { ContractEvent } from "../contract.js";
import { expectAccepted, expectEvents, expectRejection, given } from "../testing/given-when-then.js";
import { TERMS_LENGTH_MAX } from "./notary.js";
import { TRANSFERS_MAX } from "./notary-state.js";

const HASH = "5e".repeat(32);
const OTHER = "77".repeat(32);
const T = 1_700_000_123_456;

function registered(owner: string, hash = HASH): ContractEvent {
  const data = { hash, owner, title: "Song", uri: null, height: "3", blockTimeMs: 1_700_000_000_500, txId: "cd".repeat(32) };
  return { type: "DocumentRegistered", assetId: `doc/${hash}`, parties: [owner], data };
}

function transferred(from: string, to: string, n = 4): ContractEvent {
  const data = { hash: HASH, owner: "ent-a", from, to, height: String(n), blockTimeMs: 1_700_000_000_600 + n, txId: "ee".repeat(32) };
  return { type: "RightsTransferred", assetId: `doc/${HASH}`, parties: [from, to], data };
}

function licensed(id: string, licensee: string, licensor = "ent-a"): ContractEvent {
  const data = {
    hash: HASH,
    id,
    licensor,
    licensee,
    terms: "radio",
    untilMs: null,
    height: "5",
    blockTimeMs: 1_700_000_000_700,
    txId: "ff".repeat(32),
  };
  return { type: "LicenseGranted", assetId: `doc/${HASH}`, parties: [licensor, licensee], data };
}

describe("notary transfer", () => {
  test("the registrant transfers the rights: the holder changes and the transfer is kept with its height and time", () => {
    const then = expectAccepted(
      given("notary", [registered("ent-a")]).when({
        signer: "ent-a",
        action: "transfer",
        args: { hash: HASH, to: "ent-b" },
        ctx: { height: 9n },
      }),
    );
    assert.deepEqual(then.events, [
      {
        type: "RightsTransferred",
        assetId: `doc/${HASH}`,
        parties: ["ent-a", "ent-b"],
        data: { hash: HASH, owner: "ent-a", from: "ent-a", to: "ent-b", height: "9", blockTimeMs: T, txId: "ab".repeat(32) },
      },
    ]);
    assert.deepEqual(then.state.get(`rights/${HASH}`), {
      hash: HASH,
      owner: "ent-a",
      holder: "ent-b",
      transfers: [{ from: "ent-a", to: "ent-b", height: "9", blockTimeMs: T, txId: "ab".repeat(32) }],
      parties: ["ent-a", "ent-b"],
    });
    // The registration itself never changes.
    assert.deepEqual(then.state.get(`doc/${HASH}`), registered("ent-a").data);
  });

  test("the new holder transfers on; the registrant no longer may", () => {
    const g = given("notary", [registered("ent-a"), transferred("ent-a", "ent-b")]);
    const then = expectAccepted(g.when({ signer: "ent-b", action: "transfer", args: { hash: HASH, to: "bank-a" } }));
    const rights = then.state.get(`rights/${HASH}`) as { holder: string; transfers: unknown[]; parties: string[] };
    assert.equal(rights.holder, "bank-a");
    assert.equal(rights.transfers.length, 2);
    assert.deepEqual(rights.parties, ["bank-a", "ent-a", "ent-b"]);
    const r = expectRejection(g.when({ signer: "ent-a", action: "transfer", args: { hash: HASH, to: "ent-c" } }));
    assert.equal(r.code, "NOT_RIGHTS_HOLDER");
    assert.match(r.message, /ent-a does not hold/);
  });

  test("rejections: unknown document, not the holder, to itself, to a non-member, to the regulator", () => {
    const g = given("notary", [registered("ent-a")]);
    const code = (signer: string, args: unknown) => expectRejection(g.when({ signer, action: "transfer", args })).code;
    assert.equal(code("ent-a", { hash: OTHER, to: "ent-b" }), "UNKNOWN_DOCUMENT");
    assert.equal(code("ent-b", { hash: HASH, to: "ent-c" }), "NOT_RIGHTS_HOLDER");
    assert.equal(code("ent-a", { hash: HASH, to: "ent-a" }), "SELF_TRANSFER");
    assert.equal(code("ent-a", { hash: HASH, to: "nobody" }), "UNKNOWN_MEMBER");
    assert.equal(code("ent-a", { hash: HASH, to: "reg" }), "RECIPIENT_NOT_ELIGIBLE");
    assert.equal(code("reg", { hash: HASH, to: "ent-b" }), "FORBIDDEN_ROLE");
  });

  test(`at most ${TRANSFERS_MAX} transfers: the next is TOO_MANY_TRANSFERS`, () => {
    const events = [registered("ent-a")];
    for (let i = 0; i < TRANSFERS_MAX; i++)
      events.push(transferred(i % 2 === 0 ? "ent-a" : "ent-b", i % 2 === 0 ? "ent-b" : "ent-a", 4 + i));
    const g = given("notary", events);
    const holder = TRANSFERS_MAX % 2 === 0 ? "ent-a" : "ent-b";
    assert.equal(
      expectRejection(g.when({ signer: holder, action: "transfer", args: { hash: HASH, to: "ent-c" } })).code,
      "TOO_MANY_TRANSFERS",
    );
  });
});

describe("notary license", () => {
  test("the rights holder grants a license with terms and an end; licensor and licensee are its parties", () => {
    const then = expectAccepted(
      given("notary", [registered("ent-a")]).when({
        signer: "ent-a",
        action: "license",
        args: { hash: HASH, id: "lic-1", licensee: "ent-b", terms: "radio broadcast, EU", untilMs: T + 1 },
      }),
    );
    const data = {
      hash: HASH,
      id: "lic-1",
      licensor: "ent-a",
      licensee: "ent-b",
      terms: "radio broadcast, EU",
      untilMs: T + 1,
      height: "7",
      blockTimeMs: T,
      txId: "ab".repeat(32),
    };
    assert.deepEqual(then.events, [{ type: "LicenseGranted", assetId: `doc/${HASH}`, parties: ["ent-a", "ent-b"], data }]);
    assert.deepEqual(then.state.get(`license/${HASH}/lic-1`), { ...data, parties: ["ent-a", "ent-b"] });
  });

  test("without untilMs the license has no end (null)", () => {
    const events = expectEvents(
      given("notary", [registered("ent-a")]).when({
        signer: "ent-a",
        action: "license",
        args: { hash: HASH, id: "l", licensee: "bank-a", terms: "t" },
      }),
    );
    assert.equal(events[0]?.data.untilMs, null);
  });

  test("after a transfer the new holder licenses and the registrant may not; earlier licenses stay", () => {
    const g = given("notary", [registered("ent-a"), licensed("lic-1", "bank-a"), transferred("ent-a", "ent-b")]);
    expectAccepted(g.when({ signer: "ent-b", action: "license", args: { hash: HASH, id: "lic-2", licensee: "ent-c", terms: "t" } }));
    assert.equal(
      expectRejection(g.when({ signer: "ent-a", action: "license", args: { hash: HASH, id: "lic-3", licensee: "ent-c", terms: "t" } }))
        .code,
      "NOT_RIGHTS_HOLDER",
    );
    assert.equal((g.query("license", { hash: HASH, id: "lic-1" }) as { licensee: string }).licensee, "bank-a");
  });

  test("rejections: unknown document, not the holder, duplicate id, to itself, a non-member, an end not after the block time", () => {
    const g = given("notary", [registered("ent-a"), licensed("lic-1", "bank-a")]);
    const code = (signer: string, args: Record<string, unknown>) =>
      expectRejection(g.when({ signer, action: "license", args: { terms: "t", ...args } })).code;
    assert.equal(code("ent-a", { hash: OTHER, id: "x", licensee: "ent-b" }), "UNKNOWN_DOCUMENT");
    assert.equal(code("ent-b", { hash: HASH, id: "x", licensee: "ent-c" }), "NOT_RIGHTS_HOLDER");
    assert.equal(code("ent-a", { hash: HASH, id: "lic-1", licensee: "ent-b" }), "LICENSE_EXISTS");
    assert.equal(code("ent-a", { hash: HASH, id: "x", licensee: "ent-a" }), "SELF_LICENSE");
    assert.equal(code("ent-a", { hash: HASH, id: "x", licensee: "nobody" }), "UNKNOWN_MEMBER");
    assert.equal(code("ent-a", { hash: HASH, id: "x", licensee: "ent-b", untilMs: T }), "LICENSE_ENDED");
    assert.equal(code("reg", { hash: HASH, id: "x", licensee: "ent-b" }), "FORBIDDEN_ROLE");
  });
});

describe("notary garbage args", () => {
  const cases: [string, string, unknown][] = [
    ["transfer", "hash", { to: "ent-b" }],
    ["transfer", "hash", { hash: "XY", to: "ent-b" }],
    ["transfer", "to", { hash: HASH }],
    ["transfer", "to", { hash: HASH, to: "" }],
    ["transfer", "to", { hash: HASH, to: "Ent-B" }],
    ["transfer", "to", { hash: HASH, to: ["ent-b"] }],
    ["transfer", "price", { hash: HASH, to: "ent-b", price: "1" }],
    ["license", "hash", { hash: 5, id: "l", licensee: "ent-b", terms: "t" }],
    ["license", "id", { hash: HASH, licensee: "ent-b", terms: "t" }],
    ["license", "id", { hash: HASH, id: "L 1", licensee: "ent-b", terms: "t" }],
    ["license", "licensee", { hash: HASH, id: "l", terms: "t" }],
    ["license", "licensee", { hash: HASH, id: "l", licensee: null, terms: "t" }],
    ["license", "terms", { hash: HASH, id: "l", licensee: "ent-b" }],
    ["license", "terms", { hash: HASH, id: "l", licensee: "ent-b", terms: "" }],
    ["license", "terms", { hash: HASH, id: "l", licensee: "ent-b", terms: "t".repeat(TERMS_LENGTH_MAX + 1) }],
    ["license", "untilMs", { hash: HASH, id: "l", licensee: "ent-b", terms: "t", untilMs: "soon" }],
    ["license", "untilMs", { hash: HASH, id: "l", licensee: "ent-b", terms: "t", untilMs: -1 }],
    ["license", "untilMs", { hash: HASH, id: "l", licensee: "ent-b", terms: "t", untilMs: 1.5 }],
    ["license", "exclusive", { hash: HASH, id: "l", licensee: "ent-b", terms: "t", exclusive: true }],
  ];
  for (const [action, field, args] of cases) {
    test(`${action} refuses ${JSON.stringify(args).slice(0, 90)} naming ${field}`, () => {
      const g = given("notary", [registered("ent-a")]);
      const r = expectRejection(g.when({ signer: "ent-a", action, args }));
      assert.equal(r.code, "BAD_ARGS");
      assert.match(r.message, new RegExp(`\\b${field}\\b`));
      // Nothing was written: the state is as given.
      assert.equal(g.state.size, 1);
    });
  }
});

describe("notary queries", () => {
  test("registration: the public facts only (no title or uri), or null", () => {
    const g = given("notary", [registered("ent-a")]);
    assert.deepEqual(g.query("registration", { hash: HASH }), {
      hash: HASH,
      owner: "ent-a",
      height: "3",
      blockTimeMs: 1_700_000_000_500,
      txId: "cd".repeat(32),
    });
    assert.equal(g.query("registration", { hash: OTHER }), null);
    assert.equal(expectRejection(g.query("registration", { hash: "x" })).code, "BAD_ARGS");
  });

  test("rights: the registrant before any transfer; the whole history after", () => {
    assert.deepEqual(given("notary", [registered("ent-a")]).query("rights", { hash: HASH }), {
      hash: HASH,
      owner: "ent-a",
      holder: "ent-a",
      transfers: [],
      parties: ["ent-a"],
    });
    const after = given("notary", [registered("ent-a"), transferred("ent-a", "ent-b"), transferred("ent-b", "ent-c", 5)]).query("rights", {
      hash: HASH,
    }) as { holder: string; transfers: { from: string; to: string; height: string }[] };
    assert.equal(after.holder, "ent-c");
    assert.deepEqual(
      after.transfers.map((t) => [t.from, t.to, t.height]),
      [
        ["ent-a", "ent-b", "4"],
        ["ent-b", "ent-c", "5"],
      ],
    );
    assert.equal(given("notary").query("rights", { hash: HASH }), null);
  });

  test("licenses: every license on the document in id order; license: one or null", () => {
    const g = given("notary", [registered("ent-a"), licensed("lic-2", "bank-a"), licensed("lic-1", "ent-b"), registered("ent-b", OTHER)]);
    const list = g.query("licenses", { hash: HASH }) as { id: string }[];
    assert.deepEqual(
      list.map((l) => l.id),
      ["lic-1", "lic-2"],
    );
    assert.deepEqual(g.query("licenses", { hash: OTHER }), []);
    assert.equal(g.query("license", { hash: HASH, id: "lic-9" }), null);
    assert.equal(expectRejection(g.query("license", { hash: HASH })).code, "BAD_ARGS");
  });
});
