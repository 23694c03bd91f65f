// Data transactions, act by act: given events / when a command / then events, state or the reason code.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { canonicalJson } from "@tally/ledger";
import type { ContractEvent } from "../contract.js";
import { expectAccepted, expectRejection, type When } from "../testing/given-when-then.js";
import { T0, cashIssued, cmd, givenOf, history } from "../testing/scenario-fixtures.js";
import { HOLDERS_MAX, LICENSE_TERM_MAX_MS } from "./data-state.js";

const H = "a1".repeat(32);
const H2 = "b2".repeat(32);
const DAY = 86_400_000;
const PRICE = "50000";
const FUNDING = ["ent-a", "ent-b", "ent-c", "bank-a"].map((to) => cashIssued(to, "1000000"));
const REGISTER = cmd(
  "ent-a",
  "register",
  { hash: H, description: "road traffic 2025", price: PRICE, resale: "allowed", durationMs: 30 * DAY },
  T0,
);
const REGISTER_CLOSED = cmd(
  "ent-a",
  "register",
  { hash: H2, description: "patient cohort", price: "700", resale: "forbidden", durationMs: DAY },
  T0,
);
const BUY = cmd("ent-b", "buy", { asset: H, license: "l-1", owner: "ent-a" }, T0 + 1000);
const REGISTERED = history("data", [REGISTER, REGISTER_CLOSED], FUNDING);
const BOUGHT = history("data", [BUY, cmd("ent-b", "buy", { asset: H2, license: "l-2", owner: "ent-a" }, T0 + 1000)], REGISTERED);
const RESELL = cmd("ent-b", "resell", { asset: H, license: "l-1", to: "ent-c", price: "30000" }, T0 + 2000, "ent-c");
const RESOLD = history("data", [RESELL], BOUGHT);

const g = (events: readonly ContractEvent[]) => givenOf("data", events);
const cash = (state: ReadonlyMap<string, unknown>, who: string): unknown => (state.get(`cash:acct/${who}`) as { balance: string }).balance;

function rejects(events: readonly ContractEvent[], when: When, code: string, message?: RegExp): void {
  const r = expectRejection(g(events).when(when));
  assert.equal(r.code, code, r.message);
  if (message !== undefined) assert.match(r.message, message);
}

describe("data register", () => {
  test("an owner registers a hash with its terms: the asset is listed and every member may read it", () => {
    const then = expectAccepted(g(FUNDING).when(REGISTER));
    assert.deepEqual(then.events, [
      {
        type: "DataRegistered",
        assetId: `asset/${H}`,
        parties: ["ent-a"],
        data: {
          hash: H,
          owner: "ent-a",
          description: "road traffic 2025",
          price: PRICE,
          resale: "allowed",
          durationMs: 30 * DAY,
          atMs: T0,
          height: "7",
          txId: "ab".repeat(32),
        },
      },
    ]);
    assert.deepEqual(then.state.get(`asset/${H}`), {
      hash: H,
      owner: "ent-a",
      description: "road traffic 2025",
      price: PRICE,
      resale: "allowed",
      durationMs: 30 * DAY,
      registeredAtMs: T0,
      height: "7",
      txId: "ab".repeat(32),
      licenses: 0,
      parties: ["ent-a"],
    });
  });

  test("a second registration of the same hash by another owner is refused, naming the first registrant", () => {
    const again = cmd("ent-b", "register", { hash: H, description: "mine", price: "1", resale: "forbidden", durationMs: DAY }, T0 + 5);
    rejects(REGISTERED, again, "ALREADY_REGISTERED", /first registered by ent-a in tx abab.* at height 7/);
  });

  test("the owner cannot register it twice either", () => {
    rejects(REGISTERED, REGISTER, "ALREADY_REGISTERED");
  });

  test("the regulator only reads", () => {
    rejects(FUNDING, { ...REGISTER, signer: "reg", ctx: { ...REGISTER.ctx, signers: ["reg"] } }, "FORBIDDEN_ROLE");
  });
});

describe("data buy", () => {
  test("payment and grant are one act: the buyer pays the price to the owner and holds a license until the term ends", () => {
    const then = expectAccepted(g(REGISTERED).when(BUY));
    assert.deepEqual(then.events, [
      {
        type: "LicenseGranted",
        assetId: `license/${H}/l-1`,
        parties: ["ent-a", "ent-b"],
        data: {
          asset: H,
          license: "l-1",
          owner: "ent-a",
          holder: "ent-b",
          price: PRICE,
          resale: "allowed",
          atMs: T0 + 1000,
          expiresAtMs: T0 + 1000 + 30 * DAY,
        },
      },
      {
        contract: "cash",
        type: "CashTransferred",
        assetId: "acct/ent-b",
        parties: ["ent-b", "ent-a"],
        data: { from: "ent-b", to: "ent-a", amount: PRICE, memo: `license l-1 on data ${H}` },
      },
    ]);
    assert.equal(cash(then.state, "ent-b"), "950000");
    assert.equal(cash(then.state, "ent-a"), "1050000");
    assert.equal((then.state.get(`asset/${H}`) as { licenses: number }).licenses, 1);
    assert.deepEqual(then.state.get(`license/${H}/l-1`), {
      asset: H,
      id: "l-1",
      owner: "ent-a",
      holder: "ent-b",
      grantedAtMs: T0 + 1000,
      expiresAtMs: T0 + 1000 + 30 * DAY,
      resale: "allowed",
      accesses: 0,
      lastAccessMs: null,
      holders: [{ holder: "ent-b", fromMs: T0 + 1000, toMs: null, price: PRICE }],
      parties: ["ent-a", "ent-b"],
    });
  });

  test("a buyer without the price gets nothing: no license, no payment", () => {
    const poor = history(
      "data",
      [],
      REGISTERED.filter((e) => !(e.type === "CashIssued" && e.data.to === "ent-b")),
    );
    rejects(poor, BUY, "INSUFFICIENT_FUNDS", /ent-b holds 0, less than 50000/);
  });

  test("refusals: unknown asset, wrong owner named, the owner itself, a license id taken", () => {
    rejects(FUNDING, BUY, "UNKNOWN_ASSET");
    rejects(REGISTERED, cmd("ent-b", "buy", { asset: H, license: "l-1", owner: "ent-c" }, T0), "PARTY_MISMATCH", /owned by ent-a/);
    rejects(REGISTERED, cmd("ent-a", "buy", { asset: H, license: "l-1", owner: "ent-a" }, T0), "SAME_PARTY");
    rejects(BOUGHT, cmd("ent-c", "buy", { asset: H, license: "l-1", owner: "ent-a" }, T0 + 5000), "LICENSE_EXISTS");
  });

  test("many buyers may license the same asset, each its own license", () => {
    const then = expectAccepted(g(BOUGHT).when(cmd("ent-c", "buy", { asset: H, license: "l-3", owner: "ent-a" }, T0 + 5000)));
    assert.equal((then.state.get(`asset/${H}`) as { licenses: number }).licenses, 2);
  });
});

describe("data resell", () => {
  test("the holder resells a resellable license: the new holder co-signs and pays, and the chain of holders grows", () => {
    const then = expectAccepted(g(BOUGHT).when(RESELL));
    assert.deepEqual(then.events[0], {
      type: "LicenseResold",
      assetId: `license/${H}/l-1`,
      parties: ["ent-a", "ent-b", "ent-c"],
      data: { asset: H, license: "l-1", from: "ent-b", to: "ent-c", price: "30000", atMs: T0 + 2000 },
    });
    assert.equal(then.events[1]?.type, "CashTransferred");
    assert.equal(cash(then.state, "ent-c"), "970000");
    assert.equal(cash(then.state, "ent-b"), "979300", "it paid 50,000 and 700 for its licenses and got 30,000");
    const l = then.state.get(`license/${H}/l-1`) as { holder: string; holders: unknown[]; expiresAtMs: number };
    assert.equal(l.holder, "ent-c");
    assert.equal(l.expiresAtMs, T0 + 1000 + 30 * DAY, "the right keeps its term");
    assert.deepEqual(l.holders, [
      { holder: "ent-b", fromMs: T0 + 1000, toMs: T0 + 2000, price: PRICE },
      { holder: "ent-c", fromMs: T0 + 2000, toMs: null, price: "30000" },
    ]);
  });

  test("a resale without a price moves no cash", () => {
    const then = expectAccepted(g(BOUGHT).when(cmd("ent-b", "resell", { asset: H, license: "l-1", to: "ent-c" }, T0 + 2000, "ent-c")));
    assert.deepEqual(
      then.events.map((e) => e.type),
      ["LicenseResold"],
    );
  });

  test("a license whose terms forbid resale cannot be resold", () => {
    rejects(BOUGHT, cmd("ent-b", "resell", { asset: H2, license: "l-2", to: "ent-c", price: "1" }, T0 + 2000, "ent-c"), "RESALE_FORBIDDEN");
  });

  test("refusals: not the holder (double sale), expired, to itself, to a non-member, without the buyer's signature, unpaid, unknown", () => {
    rejects(RESOLD, RESELL, "NOT_HOLDER", /ent-c does/);
    rejects(BOUGHT, { ...RESELL, ctx: { ...RESELL.ctx, blockTimeMs: T0 + 1000 + 30 * DAY } }, "LICENSE_EXPIRED");
    rejects(BOUGHT, cmd("ent-b", "resell", { asset: H, license: "l-1", to: "ent-b" }, T0 + 2000), "SAME_PARTY");
    rejects(BOUGHT, cmd("ent-b", "resell", { asset: H, license: "l-1", to: "nobody" }, T0 + 2000, "nobody"), "UNKNOWN_MEMBER");
    rejects(BOUGHT, cmd("ent-b", "resell", { asset: H, license: "l-1", to: "ent-c", price: "1" }, T0 + 2000), "MISSING_SIGNATURE");
    rejects(
      BOUGHT,
      cmd("ent-b", "resell", { asset: H, license: "l-1", to: "ent-c", price: "9000000" }, T0 + 2000, "ent-c"),
      "INSUFFICIENT_FUNDS",
    );
    rejects(BOUGHT, cmd("ent-b", "resell", { asset: H, license: "l-9", to: "ent-c" }, T0 + 2000, "ent-c"), "UNKNOWN_LICENSE");
  });

  test("a license's chain records at most HOLDERS_MAX holders", () => {
    const hops: When[] = [];
    for (let i = 1; i < HOLDERS_MAX; i++) {
      const [from, to] = i % 2 === 1 ? ["ent-b", "ent-c"] : ["ent-c", "ent-b"];
      hops.push(cmd(from, "resell", { asset: H, license: "l-1", to }, T0 + 2000 + i, to));
    }
    const full = history("data", hops, BOUGHT);
    const holder = HOLDERS_MAX % 2 === 0 ? "ent-c" : "ent-b";
    rejects(full, cmd(holder, "resell", { asset: H, license: "l-1", to: "bank-a" }, T0 + 9000, "bank-a"), "CHAIN_FULL");
  });
});

describe("data access", () => {
  test("the holder logs each use against its license", () => {
    const then = expectAccepted(
      g(BOUGHT).when(cmd("ent-b", "access", { asset: H, license: "l-1", purpose: "route planning model" }, T0 + 3000)),
    );
    assert.deepEqual(then.events, [
      {
        type: "DataAccessed",
        assetId: `license/${H}/l-1`,
        parties: ["ent-a", "ent-b"],
        data: { asset: H, license: "l-1", holder: "ent-b", purpose: "route planning model", atMs: T0 + 3000 },
      },
    ]);
    const twice = expectAccepted(
      givenOf("data", [...BOUGHT, ...then.events]).when(cmd("ent-b", "access", { asset: H, license: "l-1" }, T0 + 4000)),
    );
    const l = twice.state.get(`license/${H}/l-1`) as { accesses: number; lastAccessMs: number };
    assert.deepEqual([l.accesses, l.lastAccessMs], [2, T0 + 4000]);
  });

  test("refusals: a former holder, after expiry, an unknown license", () => {
    rejects(RESOLD, cmd("ent-b", "access", { asset: H, license: "l-1" }, T0 + 3000), "NOT_HOLDER");
    rejects(BOUGHT, cmd("ent-b", "access", { asset: H2, license: "l-2" }, T0 + 1000 + DAY), "LICENSE_EXPIRED");
    rejects(BOUGHT, cmd("ent-b", "access", { asset: H, license: "l-2" }, T0 + 3000), "UNKNOWN_LICENSE");
  });
});

describe("data queries", () => {
  test("rights: who held which license on the asset, and when", () => {
    const events = history("data", [cmd("bank-a", "buy", { asset: H, license: "l-0", owner: "ent-a" }, T0 + 7000)], RESOLD);
    const rights = g(events).query("rights", { asset: H }) as {
      id: string;
      holders: { holder: string; fromMs: number; toMs: number | null }[];
    }[];
    assert.deepEqual(
      rights.map((l) => [l.id, l.holders.map((h) => [h.holder, h.fromMs, h.toMs])]),
      [
        ["l-0", [["bank-a", T0 + 7000, null]]],
        [
          "l-1",
          [
            ["ent-b", T0 + 1000, T0 + 2000],
            ["ent-c", T0 + 2000, null],
          ],
        ],
      ],
    );
    assert.deepEqual(g(events).query("rights", { asset: "cd".repeat(32) }), []);
  });

  test("asset and license read their entries, or null", () => {
    assert.equal((g(RESOLD).query("asset", { hash: H }) as { owner: string }).owner, "ent-a");
    assert.equal((g(RESOLD).query("license", { asset: H, license: "l-1" }) as { holder: string }).holder, "ent-c");
    assert.equal(g(RESOLD).query("asset", { hash: "cd".repeat(32) }), null);
    assert.equal(expectRejection(g(RESOLD).query("asset", { hash: "xyz" })).code, "BAD_ARGS");
  });
});

// [action, signer, the field the rejection must name, args]
const GARBAGE: [string, string, string, unknown][] = [
  ["register", "ent-a", "hash", { description: "d", price: "1", resale: "allowed", durationMs: 1 }],
  ["register", "ent-a", "hash", { hash: "A1".repeat(32), description: "d", price: "1", resale: "allowed", durationMs: 1 }],
  ["register", "ent-a", "hash", { hash: "a1", description: "d", price: "1", resale: "allowed", durationMs: 1 }],
  ["register", "ent-a", "description", { hash: H, description: "", price: "1", resale: "allowed", durationMs: 1 }],
  ["register", "ent-a", "description", { hash: H, description: "x".repeat(501), price: "1", resale: "allowed", durationMs: 1 }],
  ["register", "ent-a", "price", { hash: H, description: "d", price: 5, resale: "allowed", durationMs: 1 }],
  ["register", "ent-a", "price", { hash: H, description: "d", price: "0", resale: "allowed", durationMs: 1 }],
  ["register", "ent-a", "price", { hash: H, description: "d", price: "-1", resale: "allowed", durationMs: 1 }],
  ["register", "ent-a", "resale", { hash: H, description: "d", price: "1", resale: true, durationMs: 1 }],
  ["register", "ent-a", "resale", { hash: H, description: "d", price: "1", resale: "maybe", durationMs: 1 }],
  ["register", "ent-a", "durationMs", { hash: H, description: "d", price: "1", resale: "allowed", durationMs: 0 }],
  ["register", "ent-a", "durationMs", { hash: H, description: "d", price: "1", resale: "allowed", durationMs: LICENSE_TERM_MAX_MS + 1 }],
  ["register", "ent-a", "durationMs", { hash: H, description: "d", price: "1", resale: "allowed", durationMs: "60000" }],
  ["register", "ent-a", "royalty", { hash: H, description: "d", price: "1", resale: "allowed", durationMs: 1, royalty: "5" }],
  ["buy", "ent-b", "asset", { license: "l-1", owner: "ent-a" }],
  ["buy", "ent-b", "license", { asset: H, license: "L 1", owner: "ent-a" }],
  ["buy", "ent-b", "license", { asset: H, license: "l".repeat(65), owner: "ent-a" }],
  ["buy", "ent-b", "owner", { asset: H, license: "l-1" }],
  ["buy", "ent-b", "price", { asset: H, license: "l-1", owner: "ent-a", price: "1" }],
  ["resell", "ent-b", "to", { asset: H, license: "l-1" }],
  ["resell", "ent-b", "to", { asset: H, license: "l-1", to: 7 }],
  ["resell", "ent-b", "price", { asset: H, license: "l-1", to: "ent-c", price: "1.5" }],
  ["resell", "ent-b", "price", { asset: H, license: "l-1", to: "ent-c", price: null }],
  ["access", "ent-b", "license", { asset: H }],
  ["access", "ent-b", "purpose", { asset: H, license: "l-1", purpose: "" }],
  ["access", "ent-b", "purpose", { asset: H, license: "l-1", purpose: "p".repeat(201) }],
  ["access", "ent-b", "holder", { asset: H, license: "l-1", holder: "ent-b" }],
];

describe("data args", () => {
  for (const [action, signer, field, args] of GARBAGE) {
    test(`${action} refuses ${JSON.stringify(args).slice(0, 100)} naming ${field}`, () => {
      const r = expectRejection(g(BOUGHT).when(cmd(signer, action, args, T0 + 3000, "ent-c")));
      assert.equal(r.code, "BAD_ARGS");
      assert.match(r.message, new RegExp(`(^|\\W)${field}(\\W|$)`));
    });
  }

  test("args that are not an object, and unknown actions, are refused", () => {
    for (const args of [null, [], "x", 5]) assert.equal(expectRejection(g(BOUGHT).when(cmd("ent-b", "access", args, T0))).code, "BAD_ARGS");
    assert.equal(expectRejection(g(BOUGHT).when(cmd("ent-b", "steal", {}, T0))).code, "UNKNOWN_ACTION");
  });
});

test("data is deterministic: the same inputs give deep-equal outputs and the same bytes", () => {
  const run = () => g(RESOLD).when(cmd("bank-a", "buy", { asset: H, license: "l-7", owner: "ent-a" }, T0 + 7000));
  const a = expectAccepted(run());
  const b = expectAccepted(run());
  assert.deepEqual(a, b);
  assert.equal(canonicalJson([a.events, [...a.updates]]), canonicalJson([b.events, [...b.updates]]));
});
