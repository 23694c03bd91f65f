// Random runs of the block-trade contract: most acts are rejected, which is fine; after every step
// the invariants hold. Seeded, so a failure replays exactly.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { JsonValue } from "@tally/ledger";
import { isRejection } from "../contract.js";
import type { When } from "../testing/given-when-then.js";
import { Market, cancelOrder, issued, listed, lodged, placeOrder, type HitArg } from "./trade-fixtures.js";
import { mulberry32 } from "../testing/prng.js";

type Entry = { order: string; owner: string; clearing: string; price: string; units: string; seq: string };
type BookJson = { bids: Entry[]; asks: Entry[] };

const TRADERS = ["bank-a", "bank-b", "ent-a", "ent-b", "ent-c", "clear-a", "issuer-a"];
const SIGNERS = [...TRADERS, "exch", "reg", "wh-a"];
const CLEARING = ["clear-a", "clear-b", "bank-a"];
const INSTRUMENTS = ["bond-1", "bond-2", "bond-9"];
const START = [
  listed("bond-1", "10", "50"),
  listed("bond-2", "1", "30"),
  ...TRADERS.flatMap((t) => [lodged(t, "200", "bond-1"), lodged(t, "100", "bond-2", "clear-b")]),
  ...TRADERS.filter((t) => !t.startsWith("clear")).map((t) => issued(t, "5000")),
];

const big = (v: JsonValue | undefined, field: string): bigint => BigInt((v as Record<string, string>)[field] ?? "x");

/** The price-time-priority hits recomputed from the book, independently of the contract's ordering. */
function expectedHits(book: BookJson, side: "buy" | "sell", price: bigint, quantity: bigint): HitArg[] {
  const opposite = [...(side === "buy" ? book.asks : book.bids)].sort((a, b) => {
    const pa = BigInt(a.price);
    const pb = BigInt(b.price);
    if (pa !== pb) return (side === "buy" ? pa < pb : pa > pb) ? -1 : 1;
    return BigInt(a.seq) < BigInt(b.seq) ? -1 : 1;
  });
  const hits: HitArg[] = [];
  let left = quantity;
  for (const e of opposite) {
    if (left === 0n || (side === "buy" ? BigInt(e.price) > price : BigInt(e.price) < price)) break;
    hits.push({ order: e.order, owner: e.owner, clearing: e.clearing });
    left -= BigInt(e.units) < left ? BigInt(e.units) : left;
  }
  return hits;
}

function checkInvariants(m: Market, cashTotal: bigint, unitsTotal: Map<string, bigint>, where: string): void {
  let cash = 0n;
  const units = new Map<string, bigint>();
  const reservedBy = new Map<string, bigint>();
  const escrowAt = new Map<string, bigint>();
  for (const [k, v] of m.state) {
    if (k.startsWith("cash:acct/")) {
      const b = big(v, "balance");
      assert.ok(b >= 0n, `${where}: ${k} negative`);
      cash += b;
    } else if (k.startsWith("pos/")) {
      const [, inst, holder] = k.split("/");
      const free = big(v, "units");
      const reserved = big(v, "reserved");
      assert.ok(free >= 0n && reserved >= 0n, `${where}: ${k} negative`);
      units.set(inst!, (units.get(inst!) ?? 0n) + free + reserved);
      const held = m.state.get(`held/${holder}/${k}`);
      if (free + reserved === 0n) assert.equal(held, undefined, `${where}: empty ${k} still in the portfolio`);
      else
        assert.deepEqual(held, { instrument: inst, units: free.toString(), reserved: reserved.toString() }, `${where}: portfolio of ${k}`);
    } else if (k.startsWith("held/")) {
      assert.ok(m.state.has(k.slice(k.indexOf("/pos/") + 1)), `${where}: ${k} without a position`);
    } else if (k.startsWith("book/")) {
      const inst = k.slice(5);
      const book = v as BookJson;
      const [bid, ask] = [book.bids[0], book.asks[0]];
      if (bid !== undefined && ask !== undefined)
        assert.ok(BigInt(bid.price) < BigInt(ask.price), `${where}: ${inst} crossed at ${bid.price}/${ask.price}`);
      for (const [side, entries] of [
        ["buy", book.bids],
        ["sell", book.asks],
      ] as const) {
        assert.deepEqual(
          expectedHits({ bids: entries, asks: entries }, side === "buy" ? "sell" : "buy", side === "buy" ? 0n : 10n ** 20n, 10n ** 20n).map(
            (h) => h.order,
          ),
          entries.map((e) => e.order),
          `${where}: ${inst} ${side} side out of priority order`,
        );
        for (const e of entries) {
          const order = m.state.get(`order/${e.order}`) as Record<string, unknown>;
          assert.deepEqual(
            [order.status, order.resting, order.remaining, order.side],
            ["open", true, e.units, side],
            `${where}: ${e.order} vs its book entry`,
          );
          assert.ok(BigInt(e.units) > 0n);
          if (side === "sell") reservedBy.set(`${inst}/${e.owner}`, (reservedBy.get(`${inst}/${e.owner}`) ?? 0n) + BigInt(e.units));
          else escrowAt.set(e.clearing, (escrowAt.get(e.clearing) ?? 0n) + BigInt(e.units) * BigInt(e.price));
        }
      }
    }
  }
  assert.equal(cash, cashTotal, `${where}: cash not conserved`);
  for (const inst of ["bond-1", "bond-2"])
    assert.equal(units.get(inst) ?? 0n, unitsTotal.get(inst), `${where}: units of ${inst} not conserved`);
  for (const [k, v] of m.state) {
    if (!k.startsWith("pos/")) continue;
    assert.equal(big(v, "reserved"), reservedBy.get(k.slice(4)) ?? 0n, `${where}: ${k} reserved differs from its resting sells`);
  }
  for (const k of m.state.keys()) {
    if (k.startsWith("escrow/")) assert.ok(escrowAt.has(k.slice(7)), `${where}: ${k} without resting bids`);
  }
  for (const [clearing, escrow] of escrowAt) {
    assert.equal(big(m.state.get(`escrow/${clearing}`), "amount"), escrow, `${where}: escrow/${clearing} differs from its bids`);
    const balance = big(m.state.get(`cash:acct/${clearing}`), "balance");
    assert.ok(balance >= escrow, `${where}: ${clearing} holds ${balance}, less than the ${escrow} escrow of its members' bids`);
  }
}

function randomStep(m: Market, rnd: () => number, ids: string[], n: number): { when: When; custody?: [string, bigint] } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const roll = rnd();
  if (roll < 0.65) {
    const signer = rnd() < 0.9 ? pick(TRADERS) : pick(SIGNERS);
    const instrument = rnd() < 0.95 ? pick(INSTRUMENTS.slice(0, 2)) : "bond-9";
    const side = rnd() < 0.5 ? "buy" : "sell";
    const lot = instrument === "bond-1" ? 10 : 1;
    const quantity = BigInt(rnd() < 0.95 ? lot * (1 + Math.floor(rnd() * 12)) : 7);
    const price = BigInt(8 + Math.floor(rnd() * 5));
    const clearing = rnd() < 0.9 ? pick(CLEARING.slice(0, 2)) : pick(CLEARING);
    const book = m.state.get(`book/${instrument}`) as BookJson | undefined;
    let hits = book === undefined ? [] : expectedHits(book, side, price, quantity);
    if (rnd() < 0.1) hits = rnd() < 0.5 ? hits.slice(1) : [...hits].reverse();
    const id = `o-${n}`;
    ids.push(id);
    const when = placeOrder(
      signer,
      rnd() < 0.03 && ids.length > 1 ? pick(ids) : id,
      side,
      quantity.toString(),
      price.toString(),
      clearing,
      hits,
      instrument,
    );
    return rnd() < 0.05 ? { when: { ...when, ctx: { signers: [signer] } } } : { when };
  }
  if (roll < 0.85 && ids.length > 0) {
    const order = m.state.get(`order/${pick(ids)}`) as { id: string; owner: string; clearing: string; instrument: string } | undefined;
    if (order !== undefined)
      return { when: cancelOrder(rnd() < 0.8 ? order.owner : pick(SIGNERS), order.id, order.clearing, order.instrument) };
    return { when: cancelOrder(pick(TRADERS), "o-0", "clear-a") };
  }
  const instrument = pick(INSTRUMENTS);
  const holder = pick(TRADERS);
  const units = BigInt(1 + Math.floor(rnd() * 100));
  const custodian = rnd() < 0.9 ? pick(CLEARING.slice(0, 2)) : pick(SIGNERS);
  const args = { instrument, holder, units: units.toString() };
  if (rnd() < 0.5) return { when: { signer: custodian, action: "lodge", args }, custody: [instrument, units] };
  return {
    when: { signer: custodian, action: "withdraw", args, ctx: { signers: rnd() < 0.9 ? [custodian, holder] : [custodian] } },
    custody: [instrument, -units],
  };
}

for (const seed of [1, 7, 42, 2024, 99991, 31337]) {
  test(`seed ${seed}: units and cash are conserved, no position goes negative, the book is never crossed`, () => {
    const rnd = mulberry32(seed);
    const m = new Market(START);
    const cashTotal = [...m.state].filter(([k]) => k.startsWith("cash:")).reduce((s, [, v]) => s + big(v, "balance"), 0n);
    const unitsTotal = new Map([
      ["bond-1", 200n * BigInt(TRADERS.length)],
      ["bond-2", 100n * BigInt(TRADERS.length)],
    ]);
    checkInvariants(m, cashTotal, unitsTotal, "start");
    const ids: string[] = [];
    const codes = new Map<string, number>();
    for (let n = 0; n < 300; n++) {
      const { when, custody } = randomStep(m, rnd, ids, n);
      const r = m.run(when);
      const code = isRejection(r) ? r.code : "accepted";
      codes.set(code, (codes.get(code) ?? 0) + 1);
      if (!isRejection(r) && custody !== undefined) unitsTotal.set(custody[0], (unitsTotal.get(custody[0]) ?? 0n) + custody[1]);
      checkInvariants(m, cashTotal, unitsTotal, `seed ${seed} step ${n} ${when.action} by ${when.signer} (${code})`);
    }
    assert.ok((codes.get("accepted") ?? 0) > 50, `too few accepted acts: ${JSON.stringify([...codes])}`);
    const trades = [...m.state.keys()].filter((k) => k.startsWith("trade/")).length;
    assert.ok(trades > 10, `only ${trades} trades`);
  });
}
