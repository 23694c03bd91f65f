// The supervision console's HTTP side: the built single page (services/console-web/dist) and a
// small JSON + SSE API over the regulator node's database. Read-only except for acknowledging an
// alert. Every API request is identified, must come from a regulator (403 otherwise), and is
// written to the access log before it is served, exactly as feed calls are (a request whose log
// entry cannot be written is refused with 503, so nothing is read unlogged).
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { readFileSync, statSync } from "node:fs";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import type { Kysely } from "kysely";
import type { Database } from "@tally/db";
import { fromHex, isValidId, type Genesis, type JsonValue } from "@tally/ledger";
import { RpcError } from "@tally/rpc";
import type { AccessLog } from "../access-log.js";
import type { AlertStore } from "../alerts/alert-store.js";
import { FILTER_VALUE_LENGTH_MAX } from "../event-feed.js";
import type { CommitWaiter } from "../regfeed-service.js";
import { alertJson, BLOCK_LIST_MAX, ConsoleData } from "./console-data.js";
import { CONSOLE_IDENTITY_HEADER, regulatorRoles, type ConsoleIdentify } from "./console-identity.js";

/** Longest request target (path and query) served; longer is 414. */
export const URL_LENGTH_MAX = 2048;
/** Largest request body (an acknowledgement's note); larger is 413. */
export const BODY_BYTES_MAX = 4096;
/** Live streams (SSE) open at once; more are 503 TOO_MANY_STREAMS. */
export const CONSOLE_STREAMS_MAX = 64;
/** A stream whose client reads nothing this long while its buffer is full is closed. */
const STREAM_STALL_MS = 30_000;
/** Least time between two live-view updates of one stream. */
const LIVE_MIN_INTERVAL_MS = 250;
/** On an idle chain the live view is still refreshed this often (its rates decay with time). */
const LIVE_IDLE_REFRESH_MS = 5000;
/** Alerts read per page by the alert stream. */
const ALERT_PAGE = 200;
/** Heights are int8 in the database. */
const HEIGHT_MAX = 2n ** 63n - 1n;

/** Where the built front end is, unless CONSOLE_STATIC_DIR says otherwise. */
export const DEFAULT_STATIC_DIR = fileURLToPath(new URL("../../../console-web/dist/", import.meta.url));

export interface ConsoleDeps {
  readonly db: Kysely<Database>;
  readonly genesis: Genesis;
  readonly access: AccessLog;
  readonly alerts: AlertStore;
  readonly identify: ConsoleIdentify;
  readonly waitForCommit: CommitWaiter;
  readonly waitForAlerts: CommitWaiter;
  readonly commitGeneration: () => number;
  readonly alertGeneration: () => number;
  /** The built front end; the API alone is served when it is missing. */
  readonly staticDir?: string;
}

/** A refusal with an HTTP status and a reason code. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const bad = (message: string): HttpError => new HttpError(400, "BAD_ARGS", message);

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** A non-negative decimal integer parameter up to int8, or undefined when absent. */
function uintParam(q: URLSearchParams, name: string, max: bigint = HEIGHT_MAX): bigint | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  return uintText(v, name, max);
}

function uintText(v: string, name: string, max: bigint = HEIGHT_MAX): bigint {
  if (!/^\d{1,19}$/.test(v)) throw bad(`${name} must be a non-negative integer of at most 19 digits`);
  const n = BigInt(v);
  if (n > max) throw bad(`${name} must be at most ${max}`);
  return n;
}

function txIdText(v: string): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(v)) throw new HttpError(400, "BAD_TX_ID", "a tx id is 64 hex characters (32 bytes)");
  return fromHex(v.toLowerCase());
}

function assetIdText(v: string): string {
  if (v.length === 0 || v.length > FILTER_VALUE_LENGTH_MAX || /[^\x21-\x7e]/.test(v))
    throw new HttpError(400, "BAD_ASSET_ID", `an asset id is 1..${FILTER_VALUE_LENGTH_MAX} printable characters without spaces`);
  return v;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > BODY_BYTES_MAX) throw new HttpError(413, "BODY_TOO_LARGE", `the body must be at most ${BODY_BYTES_MAX} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString("utf8");
}

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/** Serves the built page; unknown paths outside /assets get index.html (the page routes by hash). */
function serveStatic(res: ServerResponse, dir: string | undefined, path: string): void {
  if (dir === undefined) throw new HttpError(404, "NO_FRONT_END", "the console's front end is not built (npm run build)");
  const root = resolve(dir);
  const rel = path === "/" || !path.startsWith("/assets/") ? "index.html" : normalize(path.slice(1));
  const file = resolve(join(root, rel));
  if (!file.startsWith(root + sep)) throw new HttpError(404, "NOT_FOUND", "no such file");
  let body: Buffer;
  try {
    if (!statSync(file).isFile()) throw new Error("not a file");
    body = readFileSync(file);
  } catch {
    throw new HttpError(
      404,
      rel === "index.html" ? "NO_FRONT_END" : "NOT_FOUND",
      rel === "index.html" ? "the console's front end is not built (npm run build)" : "no such file",
    );
  }
  res.writeHead(200, {
    "content-type": MIME[extname(file)] ?? "application/octet-stream",
    "content-length": body.length,
    "cache-control": rel === "index.html" ? "no-store" : "public, max-age=31536000, immutable",
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'self'; object-src 'none'; frame-ancestors 'none'",
  });
  res.end(body);
}

/** The console's request handler, for a node:http or node:https server. */
export function consoleHandler(d: ConsoleDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const data = new ConsoleData(d.db, d.genesis);
  let streams = 0;
  // One live snapshot serves every stream woken by the same commit (or within LIVE_MIN_INTERVAL_MS).
  let shared: { gen: number; at: number; snap: Promise<unknown> } | undefined;
  /** The shared snapshot and the commit generation it was read at. */
  const liveSnapshot = (): { gen: number; snap: Promise<unknown> } => {
    const gen = d.commitGeneration();
    const now = Date.now();
    // Recomputed at most every LIVE_MIN_INTERVAL_MS however many streams and commits there are.
    if (shared === undefined || (shared.gen !== gen && now - shared.at >= LIVE_MIN_INTERVAL_MS) || now - shared.at > 1000) {
      shared = { gen, at: now, snap: data.live() };
      const mine = shared;
      shared.snap.catch(() => {
        if (shared === mine) shared = undefined;
      });
    }
    return shared;
  };

  const record = async (caller: string, what: string, request: JsonValue): Promise<void> => {
    try {
      await d.access.record(caller, `console:${what}`, request);
    } catch (e) {
      throw e instanceof RpcError ? new HttpError(503, "ACCESS_LOG_UNAVAILABLE", e.message) : e;
    }
  };

  /** Opens an SSE stream; returns an abort signal and a bounded writer. */
  const openStream = (req: IncomingMessage, res: ServerResponse) => {
    streams++;
    const ac = new AbortController();
    res.on("close", () => {
      streams--;
      ac.abort();
    });
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write("retry: 2000\n\n");
    const send = async (event: string, body: unknown): Promise<void> => {
      if (res.write(`event: ${event}\ndata: ${JSON.stringify(body)}\n\n`)) return;
      const drained = await new Promise<boolean>((ok) => {
        const t = setTimeout(() => ok(false), STREAM_STALL_MS);
        res.once("drain", () => {
          clearTimeout(t);
          ok(true);
        });
        ac.signal.addEventListener("abort", () => ok(false), { once: true });
      });
      if (!drained) {
        res.destroy();
        ac.abort();
      }
    };
    return { signal: ac.signal, send };
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = req.url ?? "/";
    if (target.length > URL_LENGTH_MAX)
      throw new HttpError(414, "URL_TOO_LONG", `the request target must be at most ${URL_LENGTH_MAX} characters`);
    let url: URL;
    try {
      url = new URL(target, "http://console.invalid");
    } catch {
      throw bad("the request target is not a URL");
    }
    const path = url.pathname;
    const q = url.searchParams;
    const method = req.method ?? "GET";
    const isApi = path.startsWith("/api/");
    const isAck = /^\/api\/alerts\/[^/]+\/ack$/.test(path);
    const allowed = !isApi ? ["GET", "HEAD"] : isAck ? ["POST"] : ["GET"];
    if (!allowed.includes(method)) throw new HttpError(405, "METHOD_NOT_ALLOWED", `${path} takes ${allowed.join(" or ")}`);
    // Who, then whether they may: before anything is served, the page included.
    const who = d.identify(req, url);
    if (!who.ok) throw new HttpError(401, who.reason, who.message);
    const roles = regulatorRoles(d.genesis, who.institution);
    if (roles === undefined)
      throw new HttpError(403, "NOT_A_REGULATOR", `${who.institution} is not a regulator of this chain; the console is the regulator's`);
    const caller = who.institution;
    if (!isApi) {
      // A page opened as /?as=<id> (loopback mode) keeps the name for its assets, API calls and streams.
      if (url.searchParams.has("as"))
        res.setHeader("set-cookie", `${CONSOLE_IDENTITY_HEADER}=${encodeURIComponent(caller)}; Path=/; SameSite=Strict; HttpOnly`);
      serveStatic(res, d.staticDir, path);
      return;
    }
    const seg = path
      .split("/")
      .slice(2)
      .map((s) => {
        try {
          return decodeURIComponent(s);
        } catch {
          throw bad("the path is not valid percent-encoding");
        }
      });

    if (path === "/api/whoami") {
      await record(caller, "Open", {});
      return sendJson(res, 200, { institution: caller, roles });
    }
    if (path === "/api/live") {
      if (streams >= CONSOLE_STREAMS_MAX)
        throw new HttpError(503, "TOO_MANY_STREAMS", `at most ${CONSOLE_STREAMS_MAX} live streams at once`);
      await record(caller, "LiveView", {});
      const s = openStream(req, res);
      let updates = 0;
      let sentGen = -1;
      let sentAt = 0;
      while (!s.signal.aborted) {
        // After each commit; on an idle chain only every LIVE_IDLE_REFRESH_MS (the rates decay).
        if (sentGen !== d.commitGeneration() || Date.now() - sentAt >= LIVE_IDLE_REFRESH_MS) {
          const live = liveSnapshot();
          await s.send("live", { ...((await live.snap) as Record<string, unknown>), updates: ++updates });
          // A snapshot read before the newest commit leaves sentGen behind: the next turn sends again.
          sentGen = live.gen;
          sentAt = Date.now();
          await new Promise((r) => setTimeout(r, LIVE_MIN_INTERVAL_MS));
        }
        if (!s.signal.aborted && sentGen === d.commitGeneration()) await d.waitForCommit(s.signal);
      }
      return;
    }
    if (path === "/api/live/snapshot") {
      await record(caller, "LiveSnapshot", {});
      return sendJson(res, 200, await data.live());
    }
    if (path === "/api/alerts/stream") {
      let after = uintParam(q, "after") ?? 0n;
      const unacked = q.get("unacked") === "1";
      if (streams >= CONSOLE_STREAMS_MAX)
        throw new HttpError(503, "TOO_MANY_STREAMS", `at most ${CONSOLE_STREAMS_MAX} live streams at once`);
      await record(caller, "StreamAlerts", { afterSeq: after.toString(), unackedOnly: unacked });
      const s = openStream(req, res);
      while (!s.signal.aborted) {
        const gen = d.alertGeneration();
        const page = await d.alerts.page(after, ALERT_PAGE, unacked);
        for (const a of page) {
          if (s.signal.aborted) return;
          await s.send("alert", alertJson(a));
          after = a.seq;
        }
        if (page.length < ALERT_PAGE && !s.signal.aborted && gen === d.alertGeneration()) await d.waitForAlerts(s.signal);
      }
      return;
    }
    if (isAck) {
      const seq = uintText(seg[1]!, "alert seq");
      if (!(req.headers["content-type"] ?? "").startsWith("application/json"))
        throw new HttpError(415, "BAD_CONTENT_TYPE", "an acknowledgement is sent as application/json");
      let note = "";
      const text = await readBody(req);
      try {
        const body = text === "" ? {} : (JSON.parse(text) as unknown);
        if (typeof body !== "object" || body === null || Array.isArray(body)) throw new Error("not an object");
        const n = (body as { note?: unknown }).note;
        if (n !== undefined && typeof n !== "string") throw new Error("note is not a string");
        note = n ?? "";
      } catch (e) {
        throw bad(`the body must be a JSON object {"note": string}: ${(e as Error).message}`);
      }
      if (note.length > 1000) throw bad("note must be at most 1000 characters");
      await record(caller, "AckAlert", { seq: seq.toString(), note });
      const r = await d.alerts.ack(seq, caller, note);
      if (r === undefined) throw new HttpError(404, "UNKNOWN_ALERT", `no alert ${seq}`);
      return sendJson(res, 200, { alert: alertJson(r.alert), alreadyAcked: r.alreadyAcked });
    }
    if (path === "/api/history") {
      const query = q.get("q") ?? "";
      const contractParam = q.get("contract");
      if (contractParam !== null && !isValidId(contractParam)) throw bad("contract is not an id");
      let contract = contractParam ?? undefined;
      let assetId: string;
      if (/^[0-9a-fA-F]{64}$/.test(query)) {
        await record(caller, "GetAssetHistory", { txId: query.toLowerCase(), contract: contract ?? "" });
        const a = await data.assetOfTx(txIdText(query));
        if (a === undefined) throw new HttpError(404, "NO_SUCH_TX", "no event of this node names an asset for that tx id");
        contract ??= a.contract;
        assetId = a.assetId;
      } else {
        assetId = assetIdText(query);
        await record(caller, "GetAssetHistory", { assetId, contract: contract ?? "" });
      }
      const h = await data.history(contract, assetId);
      if ((h.entries as unknown[]).length === 0) throw new HttpError(404, "NO_SUCH_ASSET", `no event of this node concerns ${assetId}`);
      return sendJson(res, 200, h);
    }
    if (path === "/api/blocks") {
      const below = uintParam(q, "below");
      const limit = Number(uintParam(q, "limit", BigInt(BLOCK_LIST_MAX)) ?? 20n);
      if (limit === 0) throw bad("limit must be at least 1");
      await record(caller, "ListBlocks", { below: below?.toString() ?? null, limit });
      return sendJson(res, 200, await data.blocks(below, limit));
    }
    if (seg[0] === "blocks" && seg.length === 2) {
      const height = uintText(seg[1]!, "height");
      await record(caller, "GetBlock", { height: height.toString() });
      const b = await data.block(height);
      if (b === undefined) throw new HttpError(404, "NO_SUCH_BLOCK", `this node has no block ${height}`);
      return sendJson(res, 200, b);
    }
    if (seg[0] === "txs" && seg.length === 2) {
      const txId = txIdText(seg[1]!);
      await record(caller, "GetInclusionProof", { txId: seg[1]!.toLowerCase() });
      const t = await data.tx(txId);
      if (t === undefined) throw new HttpError(404, "NO_SUCH_TX", "no such transaction in this node's chain");
      return sendJson(res, 200, t);
    }
    if (path === "/api/access-log") {
      const afterId = uintParam(q, "after");
      const beforeId = uintParam(q, "before");
      const limit = Number(uintParam(q, "limit", 1000n) ?? 100n);
      const who = q.get("caller");
      if (who !== null && (who.length === 0 || who.length > 200)) throw bad("caller must be 1..200 characters");
      const newest = q.get("newest") === "1";
      await record(caller, "QueryAccessLog", {
        afterId: afterId?.toString() ?? null,
        beforeId: beforeId?.toString() ?? null,
        limit,
        caller: who ?? "",
        newest,
      });
      return sendJson(
        res,
        200,
        await data.accessLog({ afterId, beforeId, newest, limit: limit === 0 ? 100 : limit, caller: who ?? undefined }),
      );
    }
    throw new HttpError(404, "NOT_FOUND", `no such API: ${path}`);
  };

  return (req, res) => {
    route(req, res).catch((e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof HttpError) return sendJson(res, e.status, { error: e.message, reason: e.reason });
      sendJson(res, 500, { error: "internal error", reason: "INTERNAL" });
    });
  };
}

/** TLS material for the console's HTTPS (mTLS) mode. */
export interface ConsoleTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
}

export interface RunningConsole {
  /** The URL the console answers on. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the console on host:port (0: a free port); HTTPS requiring a client certificate when tls is given. */
export async function startConsole(d: ConsoleDeps, host: string, port: number, tls?: ConsoleTls): Promise<RunningConsole> {
  const handler = consoleHandler(d);
  const server: Server =
    tls === undefined
      ? createHttpServer(handler)
      : createHttpsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: true }, handler);
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.maxHeadersCount = 100;
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(port, host, () => ok());
  });
  const a = server.address() as AddressInfo;
  const h = a.family === "IPv6" ? `[${a.address}]` : a.address;
  return {
    url: `${tls === undefined ? "http" : "https"}://${h}:${a.port}/`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
