// Min-amount filter, final-only refusal, slow-subscriber cut-off and resume, the access log,
// asset history with lineage: against a real node database.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import type { Kysely } from "kysely";
import { RegFeedServiceClient, type StreamEventsRequest, type StreamEventsResponse } from "@tally/proto/regfeed";
import type { Event, EventCursor } from "@tally/proto/types";
import { HeightSignal, migrateToLatest, openDb, type Database } from "@tally/db";
import { fromUtf8, sha256 } from "@tally/ledger";
import { startServer, type RunningServer } from "@tally/rpc";
import { createTestDatabase, waitFor } from "@tally/testkit";
import { AccessLog } from "./access-log.js";
import { AlertStore } from "./alerts/alert-store.js";
import { eventAmount } from "./amount.js";
import { CALLER_HEADER } from "./caller-identity.js";
import { EventFeed } from "./event-feed.js";
import { regfeedService } from "./regfeed-service.js";

interface Ev {
  height: bigint;
  txIndex: number;
  eventIndex: number;
  contract: string;
  type: string;
  assetId: string;
  data: Record<string, unknown>;
}

async function insert(db: Kysely<Database>, evs: readonly Ev[]): Promise<void> {
  for (let i = 0; i < evs.length; i += 500) {
    await db
      .insertInto("events")
      .values(
        evs.slice(i, i + 500).map((e) => ({
          height: e.height,
          tx_index: e.txIndex,
          event_index: e.eventIndex,
          tx_id: sha256(new TextEncoder().encode(`${e.height}/${e.txIndex}`)),
          contract: e.contract,
          type: e.type,
          asset_id: e.assetId,
          parties: ["bank-a", "bank-b"],
          data: JSON.stringify(e.data),
          block_time_ms: 1_700_000_000_000n + e.height,
          signer: "bank-a",
        })),
      )
      .execute();
  }
}

const md = (caller?: string): Metadata => {
  const m = new Metadata();
  if (caller !== undefined) m.set(CALLER_HEADER, caller);
  return m;
};
const key = (c: EventCursor | undefined): string => (c === undefined ? "-" : `${c.height}:${c.txIndex}:${c.eventIndex}`);
const req = (r: Partial<StreamEventsRequest>): StreamEventsRequest => ({
  filter: undefined,
  after: undefined,
  finalOnly: false,
  batchMax: 0,
  ...r,
});
const noFilter = { contracts: [], types: [], parties: [], assetIds: [], minAmount: "" };

describe("regfeed controls", () => {
  let drop: () => Promise<void>;
  let db: Kysely<Database>;
  let server: RunningServer;
  let client: RegFeedServiceClient;
  const signal = new HeightSignal(100);
  const all: Ev[] = [];

  before(async () => {
    const t = await createTestDatabase("regfeed_controls");
    drop = () => t.drop();
    db = openDb(t.url);
    await migrateToLatest(db);
    // Amounts under several field names, some events without one.
    const mk = (h: number, i: number): Ev => {
      const n = h * 10 + i;
      const kinds: [string, string, Record<string, unknown>][] = [
        ["cash", "CashTransferred", { from: "bank-a", to: "bank-b", amount: `${n * 100}` }],
        ["bond", "BondTraded", { seller: "bank-a", buyer: "bank-b", units: "999999999", price: `${n * 50}` }],
        ["warehouse", "ReceiptPledged", { principal: `${n * 70}` }],
        ["notary", "DocumentRegistered", { title: "x", units: "100000000" }],
        ["cash", "CashIssued", { to: "bank-a", amount: "not-a-number" }],
      ];
      const [contract, type, data] = kinds[n % kinds.length]!;
      return { height: BigInt(h), txIndex: i, eventIndex: 0, contract, type, assetId: `a/${n}`, data };
    };
    for (let h = 1; h <= 40; h++) for (let i = 0; i < 5; i++) all.push(mk(h, i));
    // Lineage: a bill split twice.
    for (const [i, id] of ["bill/b-1", "bill/b-1.1", "bill/b-1.2", "bill/b-1.1.1", "bill/b-10"].entries()) {
      all.push({ height: 41n, txIndex: i, eventIndex: 0, contract: "bill", type: "BillIssued", assetId: id, data: { amount: "5" } });
    }
    await insert(db, all);
    await db
      .insertInto("checkpoint")
      .values({ id: 1, height: 41n, block_hash: new Uint8Array(32), state_root: new Uint8Array(32), timestamp_ms: 0n, last_txs_seq: 0n })
      .execute();
    server = await startServer({
      host: "127.0.0.1",
      port: 0,
      healthNames: [],
      services: [
        regfeedService({
          feed: new EventFeed(db),
          waitForCommit: (s) => signal.wait(s),
          access: new AccessLog(db),
          alerts: new AlertStore(db),
          waitForAlerts: (s) => signal.wait(s),
          db,
          genesis: undefined,
          subscriberStallMs: 400,
        }),
      ],
    });
    client = new RegFeedServiceClient(server.address, credentials.createInsecure(), { "grpc.max_receive_message_length": 1 << 20 });
  });

  after(async () => {
    client?.close();
    await server?.stop(500);
    await db?.destroy();
    await drop?.();
  });

  async function read(r: StreamEventsRequest, want: number, caller?: string): Promise<{ events: Event[]; error?: ServiceError }> {
    const call = client.streamEvents(r, md(caller));
    const out: { events: Event[]; error?: ServiceError } = { events: [] };
    call.on("data", (m: StreamEventsResponse) => m.event && out.events.push(m.event));
    call.on("error", (e: ServiceError) => (out.error = e));
    await waitFor("events", () => out.error !== undefined || out.events.length >= want, 10_000, 10);
    await new Promise((r) => setTimeout(r, 50));
    call.cancel();
    return out;
  }

  test("min_amount: the first of amount, price, principal... as a decimal; events without one never match", async () => {
    for (const min of ["0", "1000", "12345", "20000"]) {
      const want = all.filter((e) => {
        const a = eventAmount(e.data);
        return a !== undefined && a >= BigInt(min);
      });
      const got = await read(req({ filter: { ...noFilter, minAmount: min } }), want.length);
      assert.equal(got.error, undefined);
      assert.deepEqual(
        got.events.map((e) => key(e.cursor)),
        want.map((e) => `${e.height}:${e.txIndex}:${e.eventIndex}`),
        `min ${min}`,
      );
    }
    // Units are counts, not money: bond events with 999999999 units pass only by their price.
    assert.ok(all.some((e) => e.type === "BondTraded"));
  });

  test("a bad min_amount is INVALID_ARGUMENT / BAD_FILTER", async () => {
    for (const bad of ["-1", "1.5", "abc", "1".repeat(31), " 1"]) {
      const got = await read(req({ filter: { ...noFilter, minAmount: bad } }), 1);
      assert.equal(got.error?.code, status.INVALID_ARGUMENT, bad);
      assert.equal(got.error?.metadata.get("tally-reason")[0], "BAD_FILTER");
    }
  });

  test("batch_max: the same events in the same order, in responses of at most batch_max; above 500 is INVALID_ARGUMENT", async () => {
    const want = (await read(req({}), all.length)).events.map((e) => key(e.cursor));
    for (const batchMax of [1, 7, 500]) {
      const responses: StreamEventsResponse[] = [];
      const call = client.streamEvents(req({ batchMax }), md());
      call.on("data", (m: StreamEventsResponse) => responses.push(m));
      call.on("error", () => undefined);
      await waitFor("batched events", () => responses.reduce((n, r) => n + r.events.length, 0) >= want.length, 10_000, 10);
      call.cancel();
      assert.ok(responses.every((r) => r.event === undefined && r.events.length >= 1 && r.events.length <= batchMax));
      assert.deepEqual(
        responses
          .flatMap((r) => r.events)
          .map((e) => key(e.cursor))
          .slice(0, want.length),
        want,
        `batch ${batchMax}`,
      );
    }
    const bad = await read(req({ batchMax: 501 }), 1);
    assert.equal(bad.error?.code, status.INVALID_ARGUMENT);
  });

  test("final_only is refused: FAILED_PRECONDITION / FINALITY_NOT_AVAILABLE, nothing delivered", async () => {
    const got = await read(req({ finalOnly: true }), 1);
    assert.equal(got.events.length, 0);
    assert.equal(got.error?.code, status.FAILED_PRECONDITION);
    assert.equal(got.error?.metadata.get("tally-reason")[0], "FINALITY_NOT_AVAILABLE");
  });

  test("a subscriber that stops reading is cut off with RESOURCE_EXHAUSTED / SUBSCRIBER_TOO_SLOW, then resumes from its cursor exactly once", async () => {
    // Many events, each large, so the HTTP/2 window and the stream's buffer fill quickly.
    const big: Ev[] = [];
    for (let i = 0; i < 400; i++) {
      big.push({
        height: 100n,
        txIndex: i,
        eventIndex: 0,
        contract: "notary",
        type: "Big",
        assetId: `big/${i}`,
        data: { pad: "x".repeat(4000), i },
      });
    }
    await insert(db, big);
    const everything = [...all, ...big].map((e) => `${e.height}:${e.txIndex}:${e.eventIndex}`);
    const got: Event[] = [];
    let error: ServiceError | undefined;
    const call = client.streamEvents(req({}), md("slow-reader"));
    call.on("data", (m: StreamEventsResponse) => {
      if (m.event) got.push(m.event);
      if (got.length === 10) call.pause();
    });
    call.on("error", (e: ServiceError) => (error = e));
    await new Promise((r) => setTimeout(r, 1500));
    call.resume();
    await waitFor("the cut-off", () => error !== undefined, 10_000, 10);
    assert.equal(error!.code, status.RESOURCE_EXHAUSTED, error!.details);
    assert.equal(error!.metadata.get("tally-reason")[0], "SUBSCRIBER_TOO_SLOW");
    assert.ok(got.length < everything.length, "it was cut off before the end");
    // Resume from the last cursor received: the rest, none twice, none missing.
    const rest = await read(req({ after: got[got.length - 1]!.cursor }), everything.length - got.length);
    assert.equal(rest.error, undefined);
    assert.deepEqual(
      [...got, ...rest.events].map((e) => key(e.cursor)),
      everything,
    );
  });

  test("every read is in the access log with its caller, RPC and request; QueryAccessLog filters by caller", async () => {
    await read(req({ filter: { ...noFilter, contracts: ["cash"], minAmount: "7" } }), 1, "regulator-a");
    const h = await new Promise<unknown>((resolve, reject) =>
      client.getAssetHistory({ contract: "bill", assetId: "bill/b-1", after: undefined, limit: 0 }, md("regulator-b"), (e, r) =>
        e ? reject(e) : resolve(r),
      ),
    );
    assert.ok(h);
    const log = await new Promise<{ entries: { caller: string; rpc: string; request: Uint8Array; atMs: bigint }[] }>((resolve, reject) =>
      client.queryAccessLog({ afterId: 0n, limit: 0, caller: "regulator-a" }, md("auditor"), (e, r) => (e ? reject(e) : resolve(r))),
    );
    assert.equal(log.entries.length, 1);
    assert.equal(log.entries[0]!.rpc, "StreamEvents");
    assert.deepEqual(JSON.parse(fromUtf8(log.entries[0]!.request)).filter.contracts, ["cash"]);
    assert.equal(JSON.parse(fromUtf8(log.entries[0]!.request)).filter.minAmount, "7");
    assert.ok(log.entries[0]!.atMs > 1_700_000_000_000n);
    const everyone = await new Promise<{ entries: { caller: string; rpc: string }[] }>((resolve, reject) =>
      client.queryAccessLog({ afterId: 0n, limit: 1000, caller: "" }, md(), (e, r) => (e ? reject(e) : resolve(r))),
    );
    const callers = new Set(everyone.entries.map((e) => `${e.caller}/${e.rpc}`));
    for (const c of ["regulator-b/GetAssetHistory", "auditor/QueryAccessLog", "slow-reader/StreamEvents", "anonymous/StreamEvents"])
      assert.ok(callers.has(c), c);
  });

  test("GetAssetHistory: the asset's events with heights, timestamps and signers, and its lineage", async () => {
    const r = await new Promise<{ entries: { event?: Event; signers: string[] }[]; lineage: string[]; height: bigint }>((resolve, reject) =>
      client.getAssetHistory({ contract: "", assetId: "bill/b-1.1", after: undefined, limit: 10 }, md("regulator-a"), (e, x) =>
        e ? reject(e) : resolve(x),
      ),
    );
    assert.equal(r.entries.length, 1);
    assert.equal(r.entries[0]!.event?.assetId, "bill/b-1.1");
    assert.equal(r.entries[0]!.event?.cursor?.height, 41n);
    assert.equal(r.entries[0]!.event?.blockTimeMs, 1_700_000_000_041n);
    assert.deepEqual(r.entries[0]!.signers, ["bank-a"]);
    // Its parent and its child; not its sibling, not bill/b-10.
    assert.deepEqual(r.lineage, ["bill/b-1", "bill/b-1.1.1"]);
    assert.equal(r.height, 41n);
  });
});
