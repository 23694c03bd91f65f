// The console's HTTP handlers against a real database: identity and role checks, garbage in every
// parameter (clear 4xx with a reason code, nothing logged as served, the server keeps serving),
// the access log written before each read, and a proof the server builds that verifies.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Kysely } from "kysely";
import { HeightSignal, migrateToLatest, openDb, type Database } from "@tally/db";
import { fromHex, leafHash, toHex, utf8, verifyInclusion } from "@tally/ledger";
import { BlockHeader } from "@tally/proto/types";
import { RpcError } from "@tally/rpc";
import { status } from "@grpc/grpc-js";
import { createTestDatabase } from "@tally/testkit";
import { AccessLog } from "../access-log.js";
import { AlertStore } from "../alerts/alert-store.js";
import { fixtureGenesis, fixtureSequencerKey, storeBlock, ZERO_HASH } from "./console-fixture.js";
import { loopbackIdentity } from "./console-identity.js";
import { BODY_BYTES_MAX, startConsole, URL_LENGTH_MAX, type ConsoleDeps, type RunningConsole } from "./console-server.js";

const genesis = fixtureGenesis;
const seqKey = fixtureSequencerKey;

describe("console HTTP handlers", { timeout: 60_000 }, () => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  let con: RunningConsole;
  let base: string;
  const staticDir = mkdtempSync(join(tmpdir(), "console-static-"));
  const txs = [utf8("tx-zero"), utf8("tx-one"), utf8("tx-two")];
  const txIds: Uint8Array[] = [];

  const get = (path: string, who: string | null = "regulator", init: RequestInit = {}) =>
    fetch(base + path.replace(/^\//, ""), {
      ...init,
      headers: { ...(who === null ? {} : { "tally-institution": who }), ...init.headers },
    });
  const logCount = async (): Promise<number> =>
    Number(
      (
        await db
          .selectFrom("access_log")
          .select((e) => e.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );

  const deps = (over: Partial<ConsoleDeps> = {}): ConsoleDeps => {
    const signal = new HeightSignal(200);
    return {
      db,
      genesis,
      access: new AccessLog(db),
      alerts: new AlertStore(db),
      identify: loopbackIdentity(),
      waitForCommit: (s) => signal.wait(s),
      waitForAlerts: (s) => signal.wait(s),
      commitGeneration: () => 0,
      alertGeneration: () => 0,
      staticDir,
      ...over,
    };
  };

  before(async () => {
    const t = await createTestDatabase("tally_console");
    drop = () => t.drop();
    db = openDb(t.url);
    await migrateToLatest(db);
    mkdirSync(join(staticDir, "assets"));
    writeFileSync(join(staticDir, "index.html"), "<!doctype html><title>console</title>");
    writeFileSync(join(staticDir, "assets", "app.js"), "console.log(1)");
    const stored = await storeBlock(db, 1n, ZERO_HASH, txs);
    txIds.push(...stored.txIds);
    await db
      .insertInto("events")
      .values({
        height: 1n,
        tx_index: 1,
        event_index: 0,
        tx_id: txIds[1]!,
        contract: "bill",
        type: "BillIssued",
        asset_id: "b-1",
        parties: ["bank-a"],
        data: { amount: "100" },
        block_time_ms: BigInt(Date.now()),
        signer: "bank-a",
      })
      .execute();
    con = await startConsole(deps(), "127.0.0.1", 0);
    base = con.url;
  });

  after(async () => {
    await con?.close();
    await db?.destroy();
    await drop?.();
    rmSync(staticDir, { recursive: true, force: true });
  });

  test("the regulator reads; every read is in the access log first", async () => {
    const before = await logCount();
    const me = await get("/api/whoami");
    assert.equal(me.status, 200);
    assert.deepEqual(await me.json(), { institution: "regulator", roles: ["regulator"] });
    const live = (await (await get("/api/live/snapshot")).json()) as {
      height: string;
      recentBlocks: { height: string }[];
      sequencer: { id: string };
    };
    assert.equal(live.recentBlocks[0]?.height, "1");
    assert.equal(live.sequencer.id, "seq-1");
    const h = (await (await get("/api/history?q=b-1")).json()) as { entries: { type: string; signers: string[] }[] };
    assert.deepEqual(
      h.entries.map((e) => [e.type, e.signers]),
      [["BillIssued", ["bank-a"]]],
    );
    const byTx = (await (await get(`/api/history?q=${toHex(txIds[1]!).toUpperCase()}`)).json()) as { assetId: string };
    assert.equal(byTx.assetId, "b-1");
    const rows = await db.selectFrom("access_log").selectAll().where("id", ">", 0n).orderBy("id").execute();
    assert.equal(rows.length - before, 4);
    assert.deepEqual(
      rows.slice(-4).map((r) => [r.caller, r.rpc]),
      [
        ["regulator", "console:Open"],
        ["regulator", "console:LiveSnapshot"],
        ["regulator", "console:GetAssetHistory"],
        ["regulator", "console:GetAssetHistory"],
      ],
    );
  });

  test("a tx's proof as served verifies against the header's tx root", async () => {
    for (let i = 0; i < txs.length; i++) {
      const r = await get(`/api/txs/${toHex(txIds[i]!)}`);
      assert.equal(r.status, 200);
      const p = (await r.json()) as {
        leafIndex: number;
        treeSize: number;
        path: string[];
        header: string;
        signedTx: string;
        sequencerPublicKey: string;
      };
      const header = BlockHeader.decode(fromHex(p.header));
      assert.equal(p.leafIndex, i);
      assert.equal(p.sequencerPublicKey, toHex(seqKey.publicKey));
      assert.ok(verifyInclusion(leafHash(fromHex(p.signedTx)), p.leafIndex, p.treeSize, p.path.map(fromHex), header.txRoot));
      // And a tampered path does not.
      const bad = p.path.map(fromHex);
      bad[0]![0] = bad[0]![0]! ^ 1;
      assert.equal(verifyInclusion(leafHash(fromHex(p.signedTx)), p.leafIndex, p.treeSize, bad, header.txRoot), false);
    }
    const blk = (await (await get("/api/blocks/1")).json()) as { txs: { txId: string }[] };
    assert.deepEqual(
      blk.txs.map((t) => t.txId),
      txIds.map(toHex),
    );
  });

  test("the live view: failovers from the blocks, each validator's height and agreement from its receipts", async () => {
    const b1 = await db.selectFrom("blocks").select("hash").where("height", "=", 1n).executeTakeFirstOrThrow();
    const b2 = await storeBlock(db, 2n, b1.hash, [utf8("x")]);
    const b3 = await storeBlock(db, 3n, b2.hash, [utf8("y")], { sequencerId: "seq-2", epoch: 2n });
    await storeBlock(db, 4n, b3.hash, [], { sequencerId: "seq-2", epoch: 2n });
    await db
      .insertInto("checkpoint")
      .values({ id: 1, height: 4n, block_hash: b3.hash, state_root: new Uint8Array(32).fill(4), timestamp_ms: 0n, last_txs_seq: 0n })
      .execute();
    const root = (n: number) => new Uint8Array(32).fill(n);
    const receipt = (node: string, height: bigint, r: number) => ({
      height,
      node_id: node,
      block_hash: b3.hash,
      state_root: root(r),
      body: new Uint8Array(1),
      signature: new Uint8Array(64),
      received_at_ms: 0n,
    });
    await db
      .insertInto("validator_receipts")
      .values([receipt("node-a", 2n, 2), receipt("node-a", 3n, 3), receipt("node-b", 3n, 9), receipt("node-c", 4n, 4)])
      .execute();
    await db
      .insertInto("finality")
      .values({ height: 3n, block_hash: b3.hash, state_root: root(3), signers: ["node-a"], final_at_ms: 0n, lag_ms: 42n })
      .execute();
    const s = (await (await get("/api/live/snapshot")).json()) as {
      height: string;
      sequencer: { id: string; epoch: string };
      failovers: { height: string; from: string; to: string; epoch: string }[];
      finality: { height: string; lagMs: string };
      nodes: { id: string; height: string; lagBlocks: string; agreement: string }[];
      txPerSecond: { contract: string; count: number }[];
    };
    assert.equal(s.height, "4");
    assert.deepEqual(s.sequencer, { id: "seq-2", epoch: "2" });
    assert.deepEqual(
      s.failovers.map((f) => [f.height, f.from, f.to, f.epoch]),
      [["3", "seq-1", "seq-2", "2"]],
    );
    assert.deepEqual(s.finality, { height: "3", lagMs: "42" });
    assert.deepEqual(
      s.nodes.map((n) => [n.id, n.height, n.lagBlocks, n.agreement]),
      [
        ["node-a", "3", "1", "agrees"],
        ["node-b", "3", "1", "DIVERGES"],
        ["node-c", "4", "0", "pending"],
      ],
    );
  });

  test("no identity is 401 and a non-regulator 403, for the page and the API alike; neither is logged as a read", async () => {
    const n = await logCount();
    for (const path of [
      "/",
      "/api/whoami",
      "/api/live",
      "/api/live/snapshot",
      "/api/history?q=b-1",
      `/api/txs/${toHex(txIds[0]!)}`,
      "/api/access-log",
    ]) {
      const none = await get(path, null);
      assert.equal(none.status, 401, path);
      assert.equal(((await none.json()) as { reason: string }).reason, "NO_IDENTITY");
      const bank = await get(path, "bank-a");
      assert.equal(bank.status, 403, path);
      assert.equal(((await bank.json()) as { reason: string }).reason, "NOT_A_REGULATOR");
      assert.equal((await get(path, "nobody-known")).status, 403, path);
    }
    assert.equal((await get("/?as=bank-a", null)).status, 403);
    assert.equal((await get("/?as=regulator", null)).status, 200);
    assert.equal((await get("/api/whoami", null, { headers: { cookie: "x=1; tally-institution=bank-a" } })).status, 403);
    assert.equal((await get("/api/whoami", null, { headers: { cookie: "tally-institution=regulator" } })).status, 200);
    assert.equal((await get("/api/whoami", "Not An Id!")).status, 401);
    assert.equal(await logCount(), n + 1, "only the one accepted read (the page itself holds no data and is not a read)");
  });

  test("garbage in every parameter is a clear 4xx with a reason, nothing is logged, and the server keeps serving", async () => {
    const n = await logCount();
    const cases: [string, number, string, RequestInit?][] = [
      ["/api/history?q=", 400, "BAD_ASSET_ID"],
      ["/api/history", 400, "BAD_ASSET_ID"],
      [`/api/history?q=${"x".repeat(129)}`, 400, "BAD_ASSET_ID"],
      ["/api/history?q=with%20space", 400, "BAD_ASSET_ID"],
      ["/api/history?q=%00%01", 400, "BAD_ASSET_ID"],
      ["/api/history?q=b-1&contract=NOT_AN_ID", 400, "BAD_ARGS"],
      ["/api/blocks/-1", 400, "BAD_ARGS"],
      ["/api/blocks/abc", 400, "BAD_ARGS"],
      ["/api/blocks/1.5", 400, "BAD_ARGS"],
      ["/api/blocks/99999999999999999999", 400, "BAD_ARGS"],
      ["/api/blocks/9223372036854775808", 400, "BAD_ARGS"],
      ["/api/blocks/%E0%A4%A", 400, "BAD_ARGS"],
      ["/api/blocks?limit=0", 400, "BAD_ARGS"],
      ["/api/blocks?limit=101", 400, "BAD_ARGS"],
      ["/api/blocks?below=x", 400, "BAD_ARGS"],
      ["/api/txs/zz", 400, "BAD_TX_ID"],
      [`/api/txs/${"a".repeat(63)}`, 400, "BAD_TX_ID"],
      [`/api/txs/${"g".repeat(64)}`, 400, "BAD_TX_ID"],
      ["/api/access-log?limit=1001", 400, "BAD_ARGS"],
      ["/api/access-log?after=-5", 400, "BAD_ARGS"],
      [`/api/access-log?caller=${"c".repeat(201)}`, 400, "BAD_ARGS"],
      ["/api/alerts/stream?after=nope", 400, "BAD_ARGS"],
      ["/api/alerts/x/ack", 400, "BAD_ARGS", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }],
      ["/api/alerts/1/ack", 415, "BAD_CONTENT_TYPE", { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" }],
      ["/api/alerts/1/ack", 400, "BAD_ARGS", { method: "POST", headers: { "content-type": "application/json" }, body: "not json" }],
      ["/api/alerts/1/ack", 400, "BAD_ARGS", { method: "POST", headers: { "content-type": "application/json" }, body: '{"note":5}' }],
      [
        "/api/alerts/1/ack",
        400,
        "BAD_ARGS",
        { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ note: "n".repeat(1001) }) },
      ],
      [
        "/api/alerts/1/ack",
        413,
        "BODY_TOO_LARGE",
        { method: "POST", headers: { "content-type": "application/json" }, body: "x".repeat(BODY_BYTES_MAX + 1) },
      ],
      ["/api/alerts/1/ack", 405, "METHOD_NOT_ALLOWED"],
      ["/api/whoami", 405, "METHOD_NOT_ALLOWED", { method: "DELETE" }],
      ["/", 405, "METHOD_NOT_ALLOWED", { method: "POST", body: "x" }],
      [`/api/history?q=${"y".repeat(URL_LENGTH_MAX)}`, 414, "URL_TOO_LONG"],
      ["/api/nothing-here", 404, "NOT_FOUND"],
      ["/assets/no-such.js", 404, "NOT_FOUND"],
    ];
    for (const [path, code, reason, init] of cases) {
      const r = await get(path, "regulator", init);
      assert.equal(r.status, code, `${path}: ${r.status}`);
      const body = (await r.json()) as { reason: string; error: string };
      assert.equal(body.reason, reason, path);
      assert.ok(body.error.length > 0, path);
    }
    assert.equal(await logCount(), n, "refused requests are not served, so not logged as reads");
    // Valid but absent: 404 after the read was logged.
    for (const [path, reason] of [
      ["/api/blocks/42", "NO_SUCH_BLOCK"],
      [`/api/txs/${"0".repeat(64)}`, "NO_SUCH_TX"],
      ["/api/history?q=no-such-asset", "NO_SUCH_ASSET"],
      ["/api/alerts/77/ack", "UNKNOWN_ALERT"],
    ] as const) {
      const r = await get(
        path,
        "regulator",
        path.endsWith("/ack") ? { method: "POST", headers: { "content-type": "application/json" }, body: "{}" } : {},
      );
      assert.equal(r.status, 404, path);
      assert.equal(((await r.json()) as { reason: string }).reason, reason);
    }
    assert.equal(await logCount(), n + 4);
    // Paths that climb out are resolved inside the page's folder, whatever the client sends.
    for (const raw of ["/assets/../../../etc/passwd", "/assets/%2e%2e/%2e%2e/etc/passwd", "/assets/..%2f..%2fetc/passwd"]) {
      const body = await new Promise<string>((ok, fail) => {
        const u = new URL(base);
        const req = httpRequest({ host: u.hostname, port: u.port, path: raw, headers: { "tally-institution": "regulator" } }, (res) => {
          let t = "";
          res.on("data", (c: Buffer) => (t += c.toString()));
          res.on("end", () => ok(`${res.statusCode} ${t}`));
        });
        req.on("error", fail);
        req.end();
      });
      assert.doesNotMatch(body, /root:/, raw);
      assert.match(body, /^(200 <!doctype html><title>console|404 )/, raw);
    }
    // Still serving: the page, an asset and the API.
    assert.equal((await get("/")).status, 200);
    assert.equal(await (await get("/assets/app.js")).text(), "console.log(1)");
    assert.equal((await get("/api/whoami")).status, 200);
  });

  test("the live stream is SSE: a snapshot at once, then one pushed after each commit", async () => {
    let gen = 0;
    const signal = new HeightSignal(60_000);
    const c2 = await startConsole(deps({ commitGeneration: () => gen, waitForCommit: (s) => signal.wait(s) }), "127.0.0.1", 0);
    const ac = new AbortController();
    try {
      const r = await fetch(`${c2.url}api/live`, { headers: { "tally-institution": "regulator" }, signal: ac.signal });
      assert.equal(r.status, 200);
      assert.match(r.headers.get("content-type") ?? "", /^text\/event-stream/);
      const reader = r.body!.getReader();
      let text = "";
      const events = (): { height: string; updates: number }[] =>
        [...text.matchAll(/event: live\ndata: (.*)\n\n/g)].map((m) => JSON.parse(m[1]!) as { height: string; updates: number });
      while (events().length < 1) text += new TextDecoder().decode((await reader.read()).value);
      assert.equal(events()[0]!.updates, 1);
      // A commit: the executor's checkpoint moves and its notice wakes the stream (the poll here is a minute).
      await db.updateTable("checkpoint").set({ height: 5n }).where("id", "=", 1).execute();
      gen++;
      signal.notify();
      while (events().length < 2) text += new TextDecoder().decode((await reader.read()).value);
      assert.deepEqual(
        events().map((e) => [e.updates, e.height]),
        [
          [1, "4"],
          [2, "5"],
        ],
      );
      ac.abort();
      await reader.cancel().catch(() => undefined);
    } finally {
      ac.abort();
      await c2.close();
    }
  });

  test("a read whose access-log entry cannot be written is refused (503), and nothing is read", async () => {
    const failing = {
      record: () => Promise.reject(new RpcError(status.UNAVAILABLE, "log down", "ACCESS_LOG_UNAVAILABLE")),
    } as unknown as AccessLog;
    const c2 = await startConsole(deps({ access: failing }), "127.0.0.1", 0);
    try {
      const r = await fetch(`${c2.url}api/history?q=b-1`, { headers: { "tally-institution": "regulator" } });
      assert.equal(r.status, 503);
      const body = (await r.json()) as { reason: string; entries?: unknown };
      assert.equal(body.reason, "ACCESS_LOG_UNAVAILABLE");
      assert.equal(body.entries, undefined);
    } finally {
      await c2.close();
    }
  });
});
