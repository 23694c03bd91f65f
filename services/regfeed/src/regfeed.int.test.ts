import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { credentials, Metadata, status, type ClientReadableStream, type ServerWritableStream, type ServiceError } from "@grpc/grpc-js";
import type { Kysely } from "kysely";
import { RegFeedServiceClient, type EventFilter, type StreamEventsRequest, type StreamEventsResponse } from "@tally/proto/regfeed";
import type { Event, EventCursor } from "@tally/proto/types";
import { HeightSignal, migrateToLatest, openDb, type Database } from "@tally/db";
import { canonicalJson, fromUtf8, sha256, toHex, type JsonValue } from "@tally/ledger";
import { startServer, type RunningServer } from "@tally/rpc";
import { createTestDatabase, waitFor } from "@tally/testkit";
import { EventFeed, FILTER_VALUE_LENGTH_MAX, FILTER_VALUES_MAX } from "./event-feed.js";
import { regfeedService, type CommitWaiter } from "./regfeed-service.js";
import { AccessLog } from "./access-log.js";
import { AlertStore } from "./alerts/alert-store.js";

/** The service over a database, with the given feed and commit waiter. */
function serviceOver(db: Kysely<Database>, feed: EventFeed, waitForCommit: CommitWaiter, subscriberStallMs?: number) {
  return regfeedService({
    feed,
    waitForCommit,
    access: new AccessLog(db),
    alerts: new AlertStore(db),
    waitForAlerts: waitForCommit,
    db,
    genesis: undefined,
    ...(subscriberStallMs === undefined ? {} : { subscriberStallMs }),
  });
}

/** An event row as the executor writes it. */
interface Row {
  readonly height: bigint;
  readonly txIndex: number;
  readonly eventIndex: number;
  readonly txId: Uint8Array;
  readonly contract: string;
  readonly type: string;
  readonly assetId: string;
  readonly parties: readonly string[];
  readonly data: JsonValue;
  readonly blockTimeMs: bigint;
  readonly signer: string;
}

const KINDS = [
  (h: bigint) => ({
    contract: "cash",
    type: "CashIssued",
    assetId: "acct/bank-a",
    parties: ["clear-a", "bank-a"],
    signer: "clear-a",
    data: { issuer: "clear-a", to: "bank-a", amount: `${h}00` },
  }),
  (h: bigint) => ({
    contract: "cash",
    type: "CashTransferred",
    assetId: "acct/bank-a",
    parties: ["bank-a", "bank-b"],
    signer: "bank-a",
    data: { from: "bank-a", to: "bank-b", amount: `${h}`, memo: null },
  }),
  (h: bigint) => ({
    contract: "notary",
    type: "DocumentRegistered",
    assetId: `doc/${toHex(sha256(new TextEncoder().encode(`doc ${h}`)))}`,
    parties: ["ent-a"],
    signer: "ent-a",
    data: { title: "bill of lading", height: `${h}`, nested: { z: 1, a: [true, "x"] } },
  }),
  () => ({
    contract: "membership",
    type: "KeyRevoked",
    assetId: "inst/bank-b",
    parties: ["bank-b"],
    signer: "bank-b",
    data: { institution: "bank-b", keyId: "k2" },
  }),
];

/** Several heights, several txs per height, several events per tx: deterministic. */
function makeRows(heights: readonly bigint[], txsAt: (h: bigint) => number, eventsOf: (h: bigint, t: number) => number): Row[] {
  const rows: Row[] = [];
  for (const height of heights) {
    for (let txIndex = 0; txIndex < txsAt(height); txIndex++) {
      const txId = sha256(new TextEncoder().encode(`tx ${height} ${txIndex}`));
      for (let eventIndex = 0; eventIndex < eventsOf(height, txIndex); eventIndex++) {
        const kind = KINDS[Number((height * 7n + BigInt(txIndex * 3 + eventIndex)) % BigInt(KINDS.length))]!(height);
        rows.push({ height, txIndex, eventIndex, txId, blockTimeMs: 1_700_000_000_000n + height * 1000n, ...kind });
      }
    }
  }
  return rows;
}

/** Inserts rows as the executor does (data as JSON, parties as text[]), in the order given. */
async function insertRows(db: Kysely<Database>, rows: readonly Row[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    await db
      .insertInto("events")
      .values(
        rows.slice(i, i + 500).map((r) => ({
          height: r.height,
          tx_index: r.txIndex,
          event_index: r.eventIndex,
          tx_id: r.txId,
          contract: r.contract,
          type: r.type,
          asset_id: r.assetId,
          parties: [...r.parties],
          data: JSON.stringify(r.data),
          block_time_ms: r.blockTimeMs,
          signer: r.signer,
        })),
      )
      .execute();
  }
}

const cursorOf = (r: Row): EventCursor => ({ height: r.height, txIndex: r.txIndex, eventIndex: r.eventIndex });
const key = (c: EventCursor | undefined): string => (c === undefined ? "none" : `${c.height}/${c.txIndex}/${c.eventIndex}`);
const filter = (f: Partial<EventFilter>): EventFilter => ({ contracts: [], types: [], parties: [], assetIds: [], minAmount: "", ...f });

/** Every field of a streamed event against the row it came from. */
function assertEventIs(e: Event, r: Row): void {
  assert.equal(key(e.cursor), key(cursorOf(r)));
  assert.deepEqual(new Uint8Array(e.txId), r.txId);
  assert.equal(e.contract, r.contract);
  assert.equal(e.type, r.type);
  assert.equal(e.assetId, r.assetId);
  assert.deepEqual(e.parties, r.parties);
  assert.equal(fromUtf8(e.data), canonicalJson(r.data));
  assert.equal(e.blockTimeMs, r.blockTimeMs);
  assert.equal(e.signer, r.signer);
}

function assertSameSequence(got: readonly Event[], want: readonly Row[], what: string): void {
  assert.deepEqual(
    got.map((e) => key(e.cursor)),
    want.map((r) => key(cursorOf(r))),
    what,
  );
  got.forEach((e, i) => assertEventIs(e, want[i]!));
}

/** Commit order: (height, tx index, event index). */
function commitOrder(rows: readonly Row[]): Row[] {
  return [...rows].sort((a, b) =>
    a.height !== b.height ? (a.height < b.height ? -1 : 1) : a.txIndex !== b.txIndex ? a.txIndex - b.txIndex : a.eventIndex - b.eventIndex,
  );
}

interface OpenStream {
  readonly events: Event[];
  /** Set when the stream failed or ended. */
  readonly outcome: { error?: ServiceError; ended?: boolean };
  readonly call: ClientReadableStream<StreamEventsResponse>;
}

let dbDrop: () => Promise<void>;
let db: Kysely<Database>;
let server: RunningServer;
let client: RegFeedServiceClient;
let signal: HeightSignal;
let waits = 0;
const open: OpenStream[] = [];
/** Every row in the database, in commit order. */
let all: Row[] = [];

function stream(req: Partial<StreamEventsRequest>): OpenStream {
  const call = client.streamEvents({ filter: undefined, after: undefined, finalOnly: false, batchMax: 0, ...req }, new Metadata(), {
    deadline: Date.now() + 120_000,
  });
  const s: OpenStream = { events: [], outcome: {}, call };
  call.on("data", (m: StreamEventsResponse) => m.event && s.events.push(m.event));
  call.on("error", (e: ServiceError) => (s.outcome.error = e));
  call.on("end", () => (s.outcome.ended = true));
  open.push(s);
  return s;
}

/** Reads until the stream has delivered the last wanted event (or more, or failed), then closes it. */
async function collect(req: Partial<StreamEventsRequest>, want: readonly Row[], what: string): Promise<Event[]> {
  assert.ok(want.length > 0, `${what}: a test must expect at least one event`);
  const s = stream(req);
  const tail = key(cursorOf(want[want.length - 1]!));
  await waitFor(
    what,
    () =>
      s.outcome.error !== undefined ||
      s.outcome.ended === true ||
      s.events.some((e) => key(e.cursor) === tail) ||
      s.events.length > want.length,
    15_000,
    10,
  );
  s.call.cancel();
  assert.equal(s.outcome.error, undefined, `${what}: ${s.outcome.error?.details}`);
  return s.events;
}

/** Opens a stream that must fail at once; returns its error. */
async function refused(req: Partial<StreamEventsRequest>): Promise<ServiceError> {
  const s = stream(req);
  await waitFor("the stream to fail", () => s.outcome.error !== undefined || s.events.length > 0, 10_000, 10);
  assert.equal(s.events.length, 0, "a refused stream delivered events");
  return s.outcome.error!;
}

function reasonOf(e: ServiceError): unknown {
  return e.metadata?.get("tally-reason")[0];
}

describe("regfeed over a real node database", () => {
  before(async () => {
    const t = await createTestDatabase("regfeed_test");
    dbDrop = () => t.drop();
    db = openDb(t.url);
    await migrateToLatest(db);
    // A long poll: only the test's notify() can wake a waiting stream in time.
    signal = new HeightSignal(60_000);
    server = await startServer({
      host: "127.0.0.1",
      port: 0,
      healthNames: ["tally.v1.RegFeedService"],
      services: [
        serviceOver(db, new EventFeed(db), (s) => {
          waits++;
          return signal.wait(s);
        }),
      ],
    });
    client = new RegFeedServiceClient(server.address, credentials.createInsecure());
    const rows = makeRows(
      [1n, 2n, 3n, 4n],
      (h) => [0, 2, 3, 1, 3][Number(h)]!,
      (h, t) => Number((h + BigInt(t)) % 3n) + 1,
    );
    // Insert out of commit order: the feed orders by cursor, not by insertion.
    await insertRows(db, [...rows].reverse());
    all = commitOrder(rows);
  });

  after(async () => {
    for (const s of open) s.call.cancel();
    client?.close();
    await server?.stop(1000);
    await db?.destroy();
    await dbDrop?.();
  });

  test("from the start: every event, in (height, tx index, event index) order, with every field", async () => {
    assert.ok(all.length >= 15, "the fixture has several heights, txs and events");
    assert.ok(new Set(all.map((r) => r.height)).size >= 4);
    const got = await collect({}, all, "every event");
    assertSameSequence(got, all, "from the start");
  });

  test("resuming after the k-th event yields exactly the events after it, for every k", async () => {
    for (let k = 0; k < all.length - 1; k++) {
      const got = await collect({ after: cursorOf(all[k]!) }, all.slice(k + 1), `resume after #${k}`);
      assertSameSequence(got, all.slice(k + 1), `resume after #${k} ${key(cursorOf(all[k]!))}`);
    }
  });

  test("a cursor between events resumes at the next one that exists", async () => {
    // After the last event of a tx: the next tx's first event.
    const lastOfTx = all.findIndex(
      (r, i) => all[i + 1] !== undefined && all[i + 1]!.txIndex !== r.txIndex && all[i + 1]!.height === r.height,
    );
    assert.ok(lastOfTx >= 0);
    const r = all[lastOfTx]!;
    const got = await collect(
      { after: { height: r.height, txIndex: r.txIndex, eventIndex: r.eventIndex + 50 } },
      all.slice(lastOfTx + 1),
      "gap",
    );
    assertSameSequence(got, all.slice(lastOfTx + 1), "after a cursor that names no event");
    // Height 0 holds nothing here: the cursor (0, 0, 0) still yields everything after it.
    assertSameSequence(await collect({ after: { height: 0n, txIndex: 0, eventIndex: 0 } }, all, "zero"), all, "after (0,0,0)");
  });

  test("a cursor with tx_index and event_index at 4294967295 works: it means after the whole height", async () => {
    const afterH2 = all.filter((r) => r.height > 2n);
    const got = await collect({ after: { height: 2n, txIndex: 4294967295, eventIndex: 4294967295 } }, afterH2, "max tx index");
    assertSameSequence(got, afterH2, "after height 2");
    const r = all.find((x) => x.height === 2n && x.txIndex === 0)!;
    const afterTx = all.filter((x) => x.height > 2n || (x.height === 2n && x.txIndex > 0));
    const got2 = await collect({ after: { height: r.height, txIndex: 0, eventIndex: 4294967295 } }, afterTx, "max event index");
    assertSameSequence(got2, afterTx, "after tx 0 of height 2");
  });

  test("a cursor height beyond the database's int8 range is INVALID_ARGUMENT / BAD_CURSOR, not an SQL error", async () => {
    for (const height of [2n ** 63n, 2n ** 64n - 1n]) {
      const err = await refused({ after: { height, txIndex: 0, eventIndex: 0 } });
      assert.equal(err.code, status.INVALID_ARGUMENT, err.details);
      assert.equal(reasonOf(err), "BAD_CURSOR");
    }
    // The largest height that can exist is a valid position: nothing follows it yet.
    const w0 = waits;
    const s = stream({ after: { height: 2n ** 63n - 1n, txIndex: 4294967295, eventIndex: 4294967295 } });
    await waitFor("the stream to wait for a commit", () => waits > w0 || s.outcome.error !== undefined, 10_000, 10);
    assert.equal(s.outcome.error, undefined);
    assert.equal(s.events.length, 0);
    s.call.cancel();
  });

  describe("filters", () => {
    const cases: [string, EventFilter, (r: Row) => boolean][] = [
      ["by contract", filter({ contracts: ["notary"] }), (r) => r.contract === "notary"],
      ["by two contracts", filter({ contracts: ["notary", "membership"] }), (r) => r.contract === "notary" || r.contract === "membership"],
      ["by type", filter({ types: ["CashTransferred"] }), (r) => r.type === "CashTransferred"],
      ["by party", filter({ parties: ["bank-b"] }), (r) => r.parties.includes("bank-b")],
      [
        "by either of two parties",
        filter({ parties: ["ent-a", "clear-a"] }),
        (r) => r.parties.includes("ent-a") || r.parties.includes("clear-a"),
      ],
      ["by asset id", filter({ assetIds: ["acct/bank-a"] }), (r) => r.assetId === "acct/bank-a"],
      [
        "by contract and party together",
        filter({ contracts: ["cash"], parties: ["bank-b"] }),
        (r) => r.contract === "cash" && r.parties.includes("bank-b"),
      ],
      [
        "by type and asset id together",
        filter({ types: ["CashIssued", "CashTransferred"], assetIds: ["acct/bank-a", "inst/bank-b"] }),
        (r) => (r.type === "CashIssued" || r.type === "CashTransferred") && (r.assetId === "acct/bank-a" || r.assetId === "inst/bank-b"),
      ],
    ];
    for (const [name, f, pick] of cases) {
      test(name, async () => {
        const want = all.filter(pick);
        assert.ok(want.length > 0 && want.length < all.length, `${name}: the fixture must both match and miss`);
        assertSameSequence(await collect({ filter: f }, want, name), want, name);
        // With a cursor too: the filtered events after the middle one.
        const midIndex = Math.floor(all.length / 2);
        const mid = all[midIndex]!;
        const wantAfter = all.slice(midIndex + 1).filter(pick);
        if (wantAfter.length > 0)
          assertSameSequence(await collect({ filter: f, after: cursorOf(mid) }, wantAfter, name), wantAfter, `${name} after`);
      });
    }

    test("a filter that matches nothing yields nothing: the stream stays open, waiting for commits", async () => {
      const w0 = waits;
      const s = stream({ filter: filter({ contracts: ["no-such-contract"] }) });
      await waitFor("the stream to wait for a commit", () => waits > w0 || s.outcome.error !== undefined, 10_000, 10);
      assert.equal(s.events.length, 0);
      assert.equal(s.outcome.error, undefined);
      assert.equal(s.outcome.ended, undefined);
      s.call.cancel();
    });
  });

  describe("a bad filter: INVALID_ARGUMENT / BAD_FILTER", () => {
    const many = Array.from({ length: FILTER_VALUES_MAX + 1 }, (_, i) => `v${i}`);
    for (const field of ["contracts", "types", "parties", "assetIds"] as const) {
      test(`${field}: more than ${FILTER_VALUES_MAX} values, an empty value, or a value over ${FILTER_VALUE_LENGTH_MAX} characters`, async () => {
        for (const values of [many, [""], ["ok", ""], ["x".repeat(FILTER_VALUE_LENGTH_MAX + 1)]]) {
          const err = await refused({ filter: filter({ [field]: values }) });
          assert.equal(err.code, status.INVALID_ARGUMENT, `${field} ${values.length}: ${err.details}`);
          assert.equal(reasonOf(err), "BAD_FILTER");
        }
      });
    }

    test(`exactly ${FILTER_VALUES_MAX} values of ${FILTER_VALUE_LENGTH_MAX} characters is fine`, async () => {
      const values = [...Array.from({ length: FILTER_VALUES_MAX - 1 }, (_, i) => `${i}`.padEnd(FILTER_VALUE_LENGTH_MAX, "x")), "notary"];
      const want = all.filter((r) => r.contract === "notary");
      assertSameSequence(await collect({ filter: filter({ contracts: values }) }, want, "100 values"), want, "100 values");
    });

    test("the server keeps serving after bad filters", async () => {
      assertSameSequence(await collect({}, all, "after bad filters"), all, "after bad filters");
    });
  });

  describe("live", () => {
    test("open streams deliver events committed after they started, once notified, without gap or duplicate", async () => {
      const tail = all[all.length - 1]!;
      const fromStart = stream({});
      const fromTail = stream({ after: cursorOf(tail) });
      const bankB = stream({ filter: filter({ parties: ["bank-b"] }) });
      await waitFor("the history", () => fromStart.events.length === all.length, 10_000, 10);
      const wantBankBHistory = all.filter((r) => r.parties.includes("bank-b")).length;
      await waitFor("the filtered history", () => bankB.events.length === wantBankBHistory, 10_000, 10);

      const more = makeRows(
        [5n, 6n],
        () => 2,
        (h, t) => Number(h) - 4 + t,
      );
      const newer = commitOrder(more);
      // Height 5 first; the streams see it only once it is committed and notified.
      await insertRows(
        db,
        more.filter((r) => r.height === 5n),
      );
      await waitFor(
        "height 5 on the open streams",
        () => {
          signal.notify();
          return fromTail.events.length >= newer.filter((r) => r.height === 5n).length;
        },
        10_000,
        20,
      );
      await insertRows(
        db,
        more.filter((r) => r.height === 6n),
      );
      await waitFor(
        "height 6 on the open streams",
        () => {
          signal.notify();
          return fromTail.events.length >= newer.length && fromStart.events.length >= all.length + newer.length;
        },
        10_000,
        20,
      );
      const wantBankB = [...all, ...newer].filter((r) => r.parties.includes("bank-b"));
      await waitFor(
        "the filtered live events",
        () => {
          signal.notify();
          return bankB.events.length >= wantBankB.length;
        },
        10_000,
        20,
      );
      for (const s of [fromStart, fromTail, bankB]) {
        s.call.cancel();
        assert.equal(s.outcome.error?.code ?? status.CANCELLED, status.CANCELLED);
      }
      assertSameSequence(fromTail.events, newer, "the stream opened at the tail");
      assertSameSequence(fromStart.events, [...all, ...newer], "the stream opened at the start");
      assertSameSequence(bankB.events, wantBankB, "the filtered stream");
      all = [...all, ...newer];
    });

    test("more than a page of events in one block arrives whole and in order, across page boundaries", async () => {
      const tail = all[all.length - 1]!;
      const big = makeRows(
        [7n],
        () => 600,
        (_h, t) => (t % 3) + 1,
      );
      assert.ok(big.length > 1000);
      const s = stream({ after: cursorOf(tail) });
      await insertRows(db, big);
      const want = commitOrder(big);
      await waitFor(
        "the big block",
        () => {
          signal.notify();
          return s.events.length >= want.length;
        },
        20_000,
        20,
      );
      s.call.cancel();
      assertSameSequence(s.events, want, "the big block");
      all = [...all, ...want];
      // Resuming in the middle of it, at a page boundary and beside one.
      for (const k of [499, 500, 501]) {
        const rest = all.slice(all.indexOf(want[k]!) + 1);
        assertSameSequence(await collect({ after: cursorOf(want[k]!) }, rest, `resume at ${k}`), rest, `resume at ${k}`);
      }
    });
  });

  describe("a stream the client abandons", () => {
    /** A feed whose reads the test can hold back. */
    class GatedFeed extends EventFeed {
      gate: Promise<void> = Promise.resolve();
      reads = 0;
      override async page(...args: Parameters<EventFeed["page"]>): Promise<Event[]> {
        this.reads++;
        await this.gate;
        return super.page(...args);
      }
    }
    let feed: GatedFeed;
    let own: RunningServer;
    let ownClient: RegFeedServiceClient;
    const seen = { drainWaits: 0, cancelled: 0, settled: 0, waitsAfterAbort: 0 };

    before(async () => {
      feed = new GatedFeed(db);
      const svc = serviceOver(db, feed, (s) => {
        if (s.aborted) seen.waitsAfterAbort++;
        return signal.wait(s);
      });
      const handler = svc.implementation.streamEvents as (call: ServerWritableStream<StreamEventsRequest, StreamEventsResponse>) => void;
      // Watch the handler from outside: when it waits for the client to drain, sees the cancel, and settles.
      svc.implementation.streamEvents = (call: ServerWritableStream<StreamEventsRequest, StreamEventsResponse>) => {
        const end = call.end.bind(call);
        call.end = ((...a: Parameters<typeof call.end>) => {
          seen.settled++;
          return end(...a);
        }) as typeof call.end;
        const once = call.once.bind(call);
        call.once = ((ev: string, f: (...a: unknown[]) => void) => {
          if (ev === "drain") seen.drainWaits++;
          return once(ev, f);
        }) as typeof call.once;
        call.on("cancelled", () => seen.cancelled++);
        handler(call);
      };
      own = await startServer({ host: "127.0.0.1", port: 0, healthNames: [], services: [svc] });
      ownClient = new RegFeedServiceClient(own.address, credentials.createInsecure());
    });

    after(async () => {
      ownClient?.close();
      await own?.stop(1000);
    });

    test("a client that stops reading and then cancels releases the server's handler", async () => {
      const settled = seen.settled;
      const call = ownClient.streamEvents({ filter: undefined, after: undefined, finalOnly: false, batchMax: 0 }, new Metadata(), {
        deadline: Date.now() + 60_000,
      });
      let got = 0;
      call.on("data", () => {
        if (++got === 5) call.pause();
      });
      call.on("error", () => undefined);
      // History larger than the HTTP/2 window: the server soon waits for the client to drain.
      await waitFor("the server to wait for the client", () => seen.drainWaits > 0, 10_000, 10);
      assert.ok(got < all.length, "the client was meant to fall behind");
      call.cancel();
      await waitFor("the handler to settle after the cancel", () => seen.settled > settled, 10_000, 10);
    });

    test("a stream cancelled while it reads does not then wait for a commit", async () => {
      const settled = seen.settled;
      const cancelled = seen.cancelled;
      let release!: () => void;
      feed.gate = new Promise<void>((r) => (release = r));
      const reads = feed.reads;
      // After the tail: the read finds nothing, so the next step would be to wait for a commit.
      const call = ownClient.streamEvents(
        { filter: undefined, after: cursorOf(all[all.length - 1]!), finalOnly: false, batchMax: 0 },
        new Metadata(),
        {
          deadline: Date.now() + 60_000,
        },
      );
      call.on("data", () => undefined);
      call.on("error", () => undefined);
      await waitFor("the read to start", () => feed.reads > reads, 10_000, 10);
      call.cancel();
      await waitFor("the server to see the cancel", () => seen.cancelled > cancelled, 10_000, 10);
      release();
      await waitFor("the handler to settle", () => seen.settled > settled, 10_000, 10);
      assert.equal(seen.waitsAfterAbort, 0);
      feed.gate = Promise.resolve();
    });
  });
});
