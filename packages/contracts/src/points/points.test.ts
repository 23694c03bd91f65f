// Loyalty points, act by act: mint, transfer, red envelopes and cross-issuer exchange, with every
// refusal: given events / when a command / then events, state or the reason code.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { canonicalJson } from "@tally/ledger";
import type { ContractEvent } from "../contract.js";
import { expectAccepted, expectRejection, type When } from "../testing/given-when-then.js";
import { T0, cmd, givenOf, history, withTxId } from "../testing/scenario-fixtures.js";
import { ENVELOPE_TERM_MAX_MS, PACKETS_MAX, splitPackets } from "./points-state.js";

const HOUR = 3_600_000;
const EXPIRES = T0 + 24 * HOUR;
const g = (events: readonly ContractEvent[]) => givenOf("points", events);
const bal = (state: ReadonlyMap<string, unknown>, issuer: string, holder: string): string =>
  (state.get(`bal/${issuer}/${holder}`) as { balance: string } | undefined)?.balance ?? "0";

function rejects(events: readonly ContractEvent[], when: When, code: string, message?: RegExp): void {
  const r = expectRejection(g(events).when(when));
  assert.equal(r.code, code, r.message);
  if (message !== undefined) assert.match(r.message, message);
}

const MINTED = history("points", [
  cmd("issuer-a", "mint", { to: "ent-a", amount: "1000" }, T0),
  cmd("issuer-a", "mint", { to: "ent-b", amount: "500" }, T0),
  cmd("issuer-a", "mint", { to: "issuer-a", amount: "100000" }, T0),
  cmd("issuer-b", "mint", { to: "issuer-b", amount: "100000" }, T0),
]);
const OPEN = cmd("ent-a", "envelope", { issuer: "issuer-a", id: "e-1", amount: "100", packets: 3, expiresAtMs: EXPIRES }, T0 + 1);
const OPENED = history("points", [OPEN], MINTED);
const NAMED = cmd(
  "ent-a",
  "envelope",
  { issuer: "issuer-a", id: "e-2", amount: "10", packets: 2, recipients: ["ent-c", "bank-a"], expiresAtMs: EXPIRES },
  T0 + 1,
);
const NAMED_OPENED = history("points", [NAMED], MINTED);
const claim = (who: string, id = "e-1", at = T0 + 2): When => cmd(who, "claim", { issuer: "issuer-a", id }, at);
const RATE = cmd("issuer-a", "agree-rate", { counterparty: "issuer-b", units: "10", counterpartyUnits: "3" }, T0 + 5, "issuer-b");
const RATED = history("points", [RATE], MINTED);

describe("points mint and transfer", () => {
  test("an issuer mints its points to a member: the balance and the issuer's supply grow", () => {
    const then = expectAccepted(g([]).when(cmd("issuer-a", "mint", { to: "ent-a", amount: "250" }, T0)));
    assert.deepEqual(then.events, [
      {
        type: "PointsMinted",
        assetId: "bal/issuer-a/ent-a",
        parties: ["ent-a", "issuer-a"],
        data: { issuer: "issuer-a", to: "ent-a", amount: "250", atMs: T0 },
      },
    ]);
    assert.equal(bal(then.state, "issuer-a", "ent-a"), "250");
    assert.deepEqual(then.state.get("supply/issuer-a"), { minted: "250" });
  });

  test("mint refusals: not an issuer, not a member, beyond the limit", () => {
    rejects([], cmd("ent-a", "mint", { to: "ent-a", amount: "1" }, T0), "FORBIDDEN_ROLE");
    rejects([], cmd("issuer-a", "mint", { to: "nobody", amount: "1" }, T0), "UNKNOWN_MEMBER");
    const full = history("points", [cmd("issuer-a", "mint", { to: "ent-a", amount: "9".repeat(30) }, T0)]);
    rejects(full, cmd("issuer-a", "mint", { to: "ent-a", amount: "1" }, T0), "BALANCE_LIMIT");
    rejects(full, cmd("issuer-a", "mint", { to: "ent-b", amount: "1" }, T0), "SUPPLY_LIMIT");
  });

  test("a holder transfers points to a friend", () => {
    const then = expectAccepted(
      g(MINTED).when(cmd("ent-a", "transfer", { issuer: "issuer-a", to: "ent-c", amount: "300", memo: "thanks" }, T0 + 1)),
    );
    assert.deepEqual(then.events[0]?.data, { issuer: "issuer-a", from: "ent-a", to: "ent-c", amount: "300", memo: "thanks", atMs: T0 + 1 });
    assert.deepEqual([bal(then.state, "issuer-a", "ent-a"), bal(then.state, "issuer-a", "ent-c")], ["700", "300"]);
  });

  test("transfer refusals: to itself, to a non-member, more than it holds, another issuer's points it lacks", () => {
    rejects(MINTED, cmd("ent-a", "transfer", { issuer: "issuer-a", to: "ent-a", amount: "1" }, T0), "SELF_TRANSFER");
    rejects(MINTED, cmd("ent-a", "transfer", { issuer: "issuer-a", to: "nobody", amount: "1" }, T0), "UNKNOWN_MEMBER");
    rejects(MINTED, cmd("ent-a", "transfer", { issuer: "issuer-a", to: "ent-b", amount: "1001" }, T0), "INSUFFICIENT_POINTS");
    rejects(MINTED, cmd("ent-a", "transfer", { issuer: "issuer-b", to: "ent-b", amount: "1" }, T0), "INSUFFICIENT_POINTS");
  });
});

describe("red envelopes", () => {
  test("the sender locks N points into K open packets that sum to N (even split, remainder first)", () => {
    const then = expectAccepted(g(MINTED).when(OPEN));
    assert.equal(then.events[0]?.type, "EnvelopeLocked");
    const e = then.state.get("envelope/issuer-a/e-1") as { packets: { amount: string; recipient: null }[]; refunded: null; sender: string };
    assert.deepEqual(
      e.packets.map((p) => [p.amount, p.recipient]),
      [
        ["34", null],
        ["33", null],
        ["33", null],
      ],
    );
    assert.equal(bal(then.state, "issuer-a", "ent-a"), "900", "the points are locked out of the sender's balance");
  });

  test("a lucky split is drawn from the tx id: the same id gives the same packets, each at least 1, summing to N", () => {
    const lucky = (txId: string) => {
      const when = withTxId(
        cmd("ent-a", "envelope", { issuer: "issuer-a", id: "e-9", amount: "1000", packets: 7, split: "lucky", expiresAtMs: EXPIRES }, T0),
        txId,
      );
      const e = expectAccepted(g(MINTED).when(when)).state.get("envelope/issuer-a/e-9") as { packets: { amount: string }[] };
      return e.packets.map((p) => BigInt(p.amount));
    };
    const a = lucky("12".repeat(32));
    assert.deepEqual(lucky("12".repeat(32)), a);
    assert.equal(
      a.reduce((x, y) => x + y, 0n),
      1000n,
    );
    assert.ok(a.every((p) => p >= 1n));
    assert.notDeepEqual(lucky("34".repeat(32)), a, "another tx id draws other amounts");
    assert.notDeepEqual(new Set(a).size, 1, "not an even split");
  });

  test("splitPackets sums to N for every count, even at N = K", () => {
    for (const [n, k] of [
      [1n, 1],
      [5n, 5],
      [101n, 100],
      [10n ** 29n, 100],
      [7n, 3],
    ] as const) {
      for (const split of ["even", "lucky"] as const) {
        const parts = splitPackets(n, k, split, "9f".repeat(32));
        assert.equal(parts.length, k);
        assert.equal(
          parts.reduce((a, b) => a + b, 0n),
          n,
        );
        assert.ok(parts.every((p) => p >= 1n));
      }
    }
  });

  test("claims from an open envelope take the next packet; each member once; no more than K", () => {
    const one = expectAccepted(g(OPENED).when(claim("ent-b")));
    assert.deepEqual(one.events[0]?.data, { issuer: "issuer-a", id: "e-1", claimant: "ent-b", packet: 1, amount: "34", atMs: T0 + 2 });
    assert.equal(bal(one.state, "issuer-a", "ent-b"), "534");
    const three = history("points", [claim("ent-b"), claim("ent-c"), claim("bank-a")], OPENED);
    const e = g(three).state.get("envelope/issuer-a/e-1") as { packets: { claimedBy: string }[] };
    assert.deepEqual(
      e.packets.map((p) => p.claimedBy),
      ["ent-b", "ent-c", "bank-a"],
    );
    rejects(three, claim("ent-b"), "ALREADY_CLAIMED", /packet 1/);
    rejects(three, claim("bank-b"), "ENVELOPE_EMPTY");
  });

  test("claim refusals: the sender's own, after expiry, unknown, after refund", () => {
    rejects(OPENED, claim("ent-a"), "OWN_ENVELOPE");
    rejects(OPENED, claim("ent-b", "e-1", EXPIRES), "ENVELOPE_EXPIRED");
    rejects(OPENED, claim("ent-b", "e-7"), "UNKNOWN_ENVELOPE");
    const refunded = history("points", [cmd("ent-a", "refund", { issuer: "issuer-a", id: "e-1" }, EXPIRES)], OPENED);
    rejects(refunded, claim("ent-b", "e-1", EXPIRES + 1), "ENVELOPE_REFUNDED");
  });

  test("a named envelope pays each named recipient its own packet, and no one else", () => {
    const then = expectAccepted(g(NAMED_OPENED).when(claim("bank-a", "e-2")));
    assert.equal((then.events[0]?.data as { packet: number }).packet, 2);
    rejects(NAMED_OPENED, claim("ent-b", "e-2"), "NOT_RECIPIENT");
    rejects(history("points", [claim("bank-a", "e-2")], NAMED_OPENED), claim("bank-a", "e-2"), "ALREADY_CLAIMED");
  });

  test("at expiry the sender gets back exactly what no one claimed, once", () => {
    const claimed = history("points", [claim("ent-b")], OPENED);
    rejects(claimed, cmd("ent-a", "refund", { issuer: "issuer-a", id: "e-1" }, EXPIRES - 1), "NOT_EXPIRED");
    rejects(claimed, cmd("ent-b", "refund", { issuer: "issuer-a", id: "e-1" }, EXPIRES), "NOT_SENDER");
    const then = expectAccepted(g(claimed).when(cmd("ent-a", "refund", { issuer: "issuer-a", id: "e-1" }, EXPIRES)));
    assert.deepEqual(then.events[0]?.data, { issuer: "issuer-a", id: "e-1", sender: "ent-a", amount: "66", atMs: EXPIRES });
    assert.equal(bal(then.state, "issuer-a", "ent-a"), "966");
    rejects([...claimed, ...then.events], cmd("ent-a", "refund", { issuer: "issuer-a", id: "e-1" }, EXPIRES + 1), "ALREADY_REFUNDED");
    const emptied = history("points", [claim("ent-c"), claim("bank-a")], claimed);
    rejects(emptied, cmd("ent-a", "refund", { issuer: "issuer-a", id: "e-1" }, EXPIRES), "NOTHING_TO_REFUND");
  });

  test("envelope refusals: id taken, too few points, expiry past or too far, itself named, a non-member named, unfunded", () => {
    rejects(OPENED, OPEN, "ENVELOPE_EXISTS");
    const make = (args: Record<string, unknown>) =>
      cmd("ent-a", "envelope", { issuer: "issuer-a", id: "e-5", amount: "10", packets: 2, expiresAtMs: EXPIRES, ...args }, T0 + 1);
    rejects(MINTED, make({ amount: "2", packets: 3 }), "TOO_FEW_POINTS");
    rejects(MINTED, make({ expiresAtMs: T0 + 1 }), "EXPIRY_NOT_FUTURE");
    rejects(MINTED, make({ expiresAtMs: T0 + 2 + ENVELOPE_TERM_MAX_MS }), "TERM_TOO_LONG");
    rejects(MINTED, make({ recipients: ["ent-a", "ent-b"] }), "SELF_RECIPIENT");
    rejects(MINTED, make({ recipients: ["ent-b", "nobody"] }), "UNKNOWN_MEMBER");
    rejects(MINTED, make({ amount: "1001" }), "INSUFFICIENT_POINTS");
    rejects(MINTED, make({ recipients: ["ent-b"] }), "BAD_ARGS", /one member per packet/);
  });
});

describe("cross-issuer exchange", () => {
  test("two issuers agree a rate, both signing the same transaction", () => {
    const then = expectAccepted(g(MINTED).when(RATE));
    assert.deepEqual(then.state.get("rate/issuer-a/issuer-b"), {
      x: "issuer-a",
      y: "issuer-b",
      xUnits: "10",
      yUnits: "3",
      agreedAtMs: T0 + 5,
      txId: "ab".repeat(32),
      parties: ["issuer-a", "issuer-b"],
    });
    // Named the other way round, the same pair and the same rate.
    const back = expectAccepted(
      g(MINTED).when(cmd("issuer-b", "agree-rate", { counterparty: "issuer-a", units: "3", counterpartyUnits: "10" }, T0 + 5, "issuer-a")),
    );
    assert.deepEqual((back.state.get("rate/issuer-a/issuer-b") as { xUnits: string; yUnits: string }).xUnits, "10");
  });

  test("agree-rate refusals: without the counterparty's signature, with itself, with a non-issuer, by a non-issuer", () => {
    rejects(
      MINTED,
      cmd("issuer-a", "agree-rate", { counterparty: "issuer-b", units: "1", counterpartyUnits: "1" }, T0),
      "MISSING_SIGNATURE",
    );
    rejects(MINTED, cmd("issuer-a", "agree-rate", { counterparty: "issuer-a", units: "1", counterpartyUnits: "1" }, T0), "SAME_PARTY");
    rejects(
      MINTED,
      cmd("issuer-a", "agree-rate", { counterparty: "ent-b", units: "1", counterpartyUnits: "1" }, T0, "ent-b"),
      "INELIGIBLE_PARTY",
    );
    rejects(
      MINTED,
      cmd("ent-a", "agree-rate", { counterparty: "issuer-b", units: "1", counterpartyUnits: "1" }, T0, "issuer-b"),
      "FORBIDDEN_ROLE",
    );
  });

  test("a holder exchanges A's points for B's at the agreed rate: both legs in one act", () => {
    const then = expectAccepted(g(RATED).when(cmd("ent-a", "exchange", { from: "issuer-a", to: "issuer-b", amount: "105" }, T0 + 6)));
    assert.deepEqual(then.events, [
      {
        type: "PointsExchanged",
        assetId: "bal/issuer-a/ent-a",
        parties: ["ent-a", "issuer-a", "issuer-b"],
        data: { user: "ent-a", from: "issuer-a", to: "issuer-b", gave: "105", got: "31", atMs: T0 + 6 },
      },
    ]);
    assert.equal(bal(then.state, "issuer-a", "ent-a"), "895");
    assert.equal(bal(then.state, "issuer-a", "issuer-b"), "105", "A's points go to B's treasury");
    assert.equal(bal(then.state, "issuer-b", "issuer-b"), String(100000 - 31));
    assert.equal(bal(then.state, "issuer-b", "ent-a"), "31");
    // And back the other way at the same rate.
    const back = expectAccepted(
      givenOf("points", [...RATED, ...then.events]).when(
        cmd("ent-a", "exchange", { from: "issuer-b", to: "issuer-a", amount: "30" }, T0 + 7),
      ),
    );
    assert.equal(bal(back.state, "issuer-a", "ent-a"), "995");
  });

  test("exchange refusals: no rate, same issuer, into its own points, too small, short of points, an empty treasury", () => {
    const ex = (signer: string, args: Record<string, unknown>) =>
      cmd(signer, "exchange", { from: "issuer-a", to: "issuer-b", amount: "100", ...args }, T0 + 6);
    rejects(MINTED, ex("ent-a", {}), "NO_RATE");
    rejects(RATED, ex("ent-a", { to: "issuer-a" }), "SAME_ISSUER");
    rejects(RATED, ex("issuer-b", {}), "SAME_PARTY");
    rejects(RATED, ex("ent-a", { amount: "3" }), "AMOUNT_TOO_SMALL");
    rejects(RATED, ex("ent-a", { amount: "1001" }), "INSUFFICIENT_POINTS", /ent-a holds 1000/);
    const drained = history("points", [cmd("issuer-b", "transfer", { issuer: "issuer-b", to: "ent-c", amount: "100000" }, T0)], RATED);
    rejects(drained, ex("ent-a", {}), "INSUFFICIENT_POINTS", /issuer-b holds 0/);
  });
});

describe("points queries", () => {
  test("balance, supply, envelope and rate", () => {
    const s = g(RATED);
    assert.deepEqual(s.query("balance", { issuer: "issuer-a", holder: "ent-a" }), { issuer: "issuer-a", holder: "ent-a", balance: "1000" });
    assert.deepEqual(s.query("supply", { issuer: "issuer-a" }), { issuer: "issuer-a", minted: "101500" });
    assert.equal((s.query("rate", { a: "issuer-b", b: "issuer-a" }) as { yUnits: string }).yUnits, "3");
    assert.equal(s.query("envelope", { issuer: "issuer-a", id: "e-1" }), null);
    assert.equal((g(OPENED).query("envelope", { issuer: "issuer-a", id: "e-1" }) as { amount: string }).amount, "100");
  });
});

// [action, signer, the field the rejection must name, args]
const GARBAGE: [string, string, string, unknown][] = [
  ["mint", "issuer-a", "to", { amount: "1" }],
  ["mint", "issuer-a", "amount", { to: "ent-a", amount: 1 }],
  ["mint", "issuer-a", "amount", { to: "ent-a", amount: "0" }],
  ["mint", "issuer-a", "issuer", { to: "ent-a", amount: "1", issuer: "issuer-b" }],
  ["transfer", "ent-a", "issuer", { to: "ent-b", amount: "1" }],
  ["transfer", "ent-a", "amount", { issuer: "issuer-a", to: "ent-b", amount: "-1" }],
  ["transfer", "ent-a", "memo", { issuer: "issuer-a", to: "ent-b", amount: "1", memo: "m".repeat(201) }],
  ["envelope", "ent-a", "packets", { issuer: "issuer-a", id: "e-3", amount: "10", packets: 0, expiresAtMs: EXPIRES }],
  ["envelope", "ent-a", "packets", { issuer: "issuer-a", id: "e-3", amount: "10", packets: PACKETS_MAX + 1, expiresAtMs: EXPIRES }],
  ["envelope", "ent-a", "packets", { issuer: "issuer-a", id: "e-3", amount: "10", packets: "2", expiresAtMs: EXPIRES }],
  ["envelope", "ent-a", "packets", { issuer: "issuer-a", id: "e-3", amount: "10", packets: 1.5, expiresAtMs: EXPIRES }],
  ["envelope", "ent-a", "recipients", { issuer: "issuer-a", id: "e-3", amount: "10", packets: 2, recipients: [], expiresAtMs: EXPIRES }],
  [
    "envelope",
    "ent-a",
    "recipients",
    { issuer: "issuer-a", id: "e-3", amount: "10", packets: 2, recipients: ["ent-b", "ent-b"], expiresAtMs: EXPIRES },
  ],
  [
    "envelope",
    "ent-a",
    "recipients",
    { issuer: "issuer-a", id: "e-3", amount: "10", packets: 1, recipients: "ent-b", expiresAtMs: EXPIRES },
  ],
  [
    "envelope",
    "ent-a",
    "recipients\\[0\\]",
    { issuer: "issuer-a", id: "e-3", amount: "10", packets: 1, recipients: [7], expiresAtMs: EXPIRES },
  ],
  ["envelope", "ent-a", "split", { issuer: "issuer-a", id: "e-3", amount: "10", packets: 2, split: "random", expiresAtMs: EXPIRES }],
  ["envelope", "ent-a", "expiresAtMs", { issuer: "issuer-a", id: "e-3", amount: "10", packets: 2 }],
  ["envelope", "ent-a", "expiresAtMs", { issuer: "issuer-a", id: "e-3", amount: "10", packets: 2, expiresAtMs: -1 }],
  ["envelope", "ent-a", "id", { issuer: "issuer-a", id: "", amount: "10", packets: 2, expiresAtMs: EXPIRES }],
  ["claim", "ent-b", "id", { issuer: "issuer-a" }],
  ["claim", "ent-b", "packet", { issuer: "issuer-a", id: "e-1", packet: 1 }],
  ["refund", "ent-a", "issuer", { id: "e-1", issuer: "Issuer-A" }],
  ["agree-rate", "issuer-a", "units", { counterparty: "issuer-b", units: "0", counterpartyUnits: "1" }],
  ["agree-rate", "issuer-a", "counterpartyUnits", { counterparty: "issuer-b", units: "1" }],
  ["agree-rate", "issuer-a", "counterparty", { units: "1", counterpartyUnits: "1" }],
  ["exchange", "ent-a", "from", { to: "issuer-b", amount: "1" }],
  ["exchange", "ent-a", "amount", { from: "issuer-a", to: "issuer-b", amount: "1e3" }],
  ["exchange", "ent-a", "rate", { from: "issuer-a", to: "issuer-b", amount: "1", rate: "3" }],
];

describe("points args", () => {
  for (const [action, signer, field, args] of GARBAGE) {
    test(`${action} refuses ${JSON.stringify(args).slice(0, 100)} naming ${field.replaceAll("\\", "")}`, () => {
      const r = expectRejection(g(OPENED).when(cmd(signer, action, args, T0 + 2, "issuer-b")));
      assert.equal(r.code, "BAD_ARGS");
      assert.match(r.message, new RegExp(`(^|\\W)${field}(\\W|$)`));
    });
  }

  test("args that are not an object are refused", () => {
    for (const args of [null, [], "x", 5]) assert.equal(expectRejection(g(OPENED).when(cmd("ent-b", "claim", args, T0))).code, "BAD_ARGS");
  });
});

test("points is deterministic: the same inputs give deep-equal outputs and the same bytes", () => {
  const run = () =>
    g(MINTED).when(
      cmd("ent-a", "envelope", { issuer: "issuer-a", id: "e-8", amount: "999", packets: 9, split: "lucky", expiresAtMs: EXPIRES }, T0 + 1),
    );
  const a = expectAccepted(run());
  const b = expectAccepted(run());
  assert.deepEqual(a, b);
  assert.equal(canonicalJson([a.events, [...a.updates]]), canonicalJson([b.events, [...b.updates]]));
});
