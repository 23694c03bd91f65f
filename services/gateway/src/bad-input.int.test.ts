// Bad input at the gRPC and HTTP/2 level, over mTLS: truncated and malformed HTTP/2 frames written
// raw to the gateway's TLS port, a gRPC message cut short, a huge repeated field, a SubmitStream
// flood, and a transaction signed correctly for another chain. Each gets a clear status (or a
// GOAWAY naming the HTTP/2 error), nothing is stored, and the next valid call is served.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect as http2Connect, constants as h2 } from "node:http2";
import { connect as tlsConnect } from "node:tls";
import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { GatewayServiceClient, type SubmitResponse, type SubmitStreamResponse } from "@tally/proto/gateway";
import { SignedTx } from "@tally/proto/types";
import { deadlineIn, decodeStatusDetails, STATUS_DETAILS_KEY } from "@tally/rpc";
import { buildTx, SIGNERS } from "./testing/fixtures.js";
import { startGatewayHarness, type GatewayHarness } from "./testing/harness.js";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
const FRAME_GOAWAY = 0x7;

/** A 9-byte HTTP/2 frame header. */
function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const b = Buffer.alloc(9);
  b.writeUIntBE(length, 0, 3);
  b.writeUInt8(type, 3);
  b.writeUInt8(flags, 4);
  b.writeUInt32BE(streamId & 0x7fffffff, 5);
  return b;
}

/** The frames in what the server sent: [type, error code of a GOAWAY]. */
function framesIn(bytes: Buffer): { type: number; goawayError?: number }[] {
  const out: { type: number; goawayError?: number }[] = [];
  for (let o = 0; o + 9 <= bytes.length;) {
    const len = bytes.readUIntBE(o, 3);
    const type = bytes.readUInt8(o + 3);
    out.push(type === FRAME_GOAWAY && o + 17 <= bytes.length ? { type, goawayError: bytes.readUInt32BE(o + 13) } : { type });
    o += 9 + len;
  }
  return out;
}

describe("bad input over mTLS: frames, messages and fields", () => {
  let h: GatewayHarness;
  let bankA: GatewayServiceClient;
  const host = (): { host: string; port: number } => {
    const [hostName, port] = h.server.address.split(":");
    return { host: hostName!, port: Number(port) };
  };

  const submit = (signedTx: Uint8Array): Promise<{ res?: SubmitResponse; err?: ServiceError }> =>
    new Promise((resolve) =>
      bankA.submit({ signedTx }, new Metadata(), deadlineIn(10_000), (err, res) => resolve(err ? { err } : { res })),
    );
  const reasonOf = (e: ServiceError | undefined): unknown => e?.metadata?.get("tally-reason")[0];

  /** The next valid call is served: a fresh transfer is ACCEPTED and lands on TXS as one more message. */
  async function nextValidCallServed(): Promise<void> {
    const before = await h.txsCount();
    const r = await submit(buildTx({ args: { to: "bank-b", amount: "1" } }).raw);
    assert.equal(r.err, undefined, r.err?.message);
    assert.equal(await h.txsCount(), before + 1);
  }

  /** Writes raw bytes to the gateway's TLS port (with bank-a's client certificate) and collects what comes back until it closes. */
  function rawTls(bytes: Buffer, endAfterWrite: boolean): Promise<Buffer> {
    const f = h.tlsFilesFor("bank-a");
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const s = tlsConnect({
        ...host(),
        ca: readFileSync(f.caFile),
        cert: readFileSync(f.certFile),
        key: readFileSync(f.keyFile),
        ALPNProtocols: ["h2"],
        servername: "localhost",
      });
      const timer = setTimeout(() => {
        s.destroy();
        resolve(Buffer.concat(chunks));
      }, 3000);
      s.on("secureConnect", () => {
        s.write(bytes);
        if (endAfterWrite) s.end();
      });
      s.on("data", (d: Buffer) => chunks.push(d));
      s.on("close", () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks));
      });
      s.on("error", (e) => {
        clearTimeout(timer);
        if ((e as NodeJS.ErrnoException).code === "ECONNRESET") resolve(Buffer.concat(chunks));
        else reject(e as Error);
      });
    });
  }

  before(async () => {
    h = await startGatewayHarness();
    const c = h.credentialsFor("bank-a");
    bankA = new GatewayServiceClient(h.server.address, c.credentials, c.options);
  });
  after(async () => {
    bankA.close();
    await h.close();
  });

  test("a SETTINGS frame of an impossible length: GOAWAY with FRAME_SIZE_ERROR; nothing stored; the next call is served", async () => {
    const before = await h.txsCount();
    const got = await rawTls(Buffer.concat([PREFACE, frameHeader(5, 0x4, 0, 0), Buffer.alloc(5)]), false);
    const goaway = framesIn(got).find((f) => f.type === FRAME_GOAWAY);
    assert.ok(goaway !== undefined, `no GOAWAY in ${got.toString("hex")}`);
    assert.equal(goaway.goawayError, h2.NGHTTP2_FRAME_SIZE_ERROR);
    assert.equal(await h.txsCount(), before);
    await nextValidCallServed();
  });

  test("frames cut off mid-header and mid-payload, then the connection closed: the server drops it; nothing stored; next call served", async () => {
    const before = await h.txsCount();
    // A HEADERS frame announcing 200 bytes of which 7 arrive, on a stream; then EOF.
    await rawTls(
      Buffer.concat([PREFACE, frameHeader(0, 0x4, 0, 0), frameHeader(200, 0x1, 0x4, 1), Buffer.from([0x83, 0x86, 0x44, 1, 2, 3, 4])]),
      true,
    );
    // Only 5 of a frame header's 9 bytes.
    await rawTls(Buffer.concat([PREFACE, frameHeader(0, 0x4, 0, 0).subarray(0, 5)]), true);
    // Not even the whole connection preface.
    await rawTls(PREFACE.subarray(0, 10), true);
    assert.equal(await h.txsCount(), before);
    await nextValidCallServed();
  });

  test("a gRPC message whose length prefix promises more than the stream carries: a non-OK status; nothing stored", async () => {
    const f = h.tlsFilesFor("bank-a");
    const session = http2Connect(`https://${h.server.address}`, {
      ca: readFileSync(f.caFile),
      cert: readFileSync(f.certFile),
      key: readFileSync(f.keyFile),
      servername: "localhost",
    });
    try {
      const before = await h.txsCount();
      const req = session.request({
        [h2.HTTP2_HEADER_METHOD]: "POST",
        [h2.HTTP2_HEADER_PATH]: "/tally.v1.GatewayService/Submit",
        [h2.HTTP2_HEADER_CONTENT_TYPE]: "application/grpc",
        te: "trailers",
      });
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(1000, 1);
      const grpcStatus = await new Promise<string | undefined>((resolve, reject) => {
        let st: string | undefined;
        req.on("response", (hd) => (st = (hd["grpc-status"] as string | undefined) ?? st));
        req.on("trailers", (t) => (st = (t["grpc-status"] as string | undefined) ?? st));
        req.on("data", () => undefined);
        req.on("end", () => resolve(st));
        req.on("close", () => resolve(st));
        req.on("error", reject);
        req.end(Buffer.concat([prefix, Buffer.from([0x0a, 0x02, 0x01])]));
      });
      assert.ok(grpcStatus !== undefined && grpcStatus !== "0", `grpc-status ${grpcStatus}`);
      assert.equal(await h.txsCount(), before);
    } finally {
      session.close();
    }
    await nextValidCallServed();
  });

  test("a SignedTx with 100,000 signatures: RESOURCE_EXHAUSTED past the request limit (or TOO_LARGE when small ones fit); nothing stored", async () => {
    const before = await h.txsCount();
    const good = SignedTx.decode(buildTx().raw);
    const sig = good.signatures[0]!;
    const huge = SignedTx.encode({ body: good.body, signatures: Array.from({ length: 100_000 }, () => sig) }).finish();
    const r1 = await submit(huge);
    assert.equal(r1.err?.code, status.RESOURCE_EXHAUSTED, r1.err?.message);
    // 100,000 empty signatures are ~200 KB: under the 256 KiB request limit, over the 64 KiB tx limit.
    const empties = SignedTx.encode({
      body: good.body,
      signatures: Array.from({ length: 100_000 }, () => ({ institutionId: "", keyId: "", signature: new Uint8Array(0) })),
    }).finish();
    const r2 = await submit(empties);
    assert.equal(r2.err?.code, status.INVALID_ARGUMENT, r2.err?.message);
    assert.equal(reasonOf(r2.err), "TOO_LARGE");
    // Nine real signatures (one more than the 8 allowed) fit every size limit and are MALFORMED.
    const nine = SignedTx.encode({ body: good.body, signatures: Array.from({ length: 9 }, () => sig) }).finish();
    const r3 = await submit(nine);
    assert.equal(r3.err?.code, status.INVALID_ARGUMENT, r3.err?.message);
    assert.equal(reasonOf(r3.err), "MALFORMED");
    assert.equal(await h.txsCount(), before);
    await nextValidCallServed();
  });

  test("a SubmitStream flood of 10,000 refused requests: every one answered in turn, nothing stored, the stream and the gateway go on", async () => {
    const before = await h.txsCount();
    const bad = buildTx({ chainId: "flood-chain" }).raw;
    const valid = buildTx({ args: { to: "bank-b", amount: "2" } });
    const n = 10_000;
    const answers: SubmitStreamResponse[] = [];
    const call = bankA.submitStream(new Metadata(), deadlineIn(120_000));
    const done = new Promise<void>((resolve, reject) => {
      call.on("data", (m: SubmitStreamResponse) => answers.push(m));
      call.on("end", () => resolve());
      call.on("error", reject);
    });
    // Write as fast as HTTP/2 flow control lets us; the server stops reading at its in-flight bound.
    for (let i = 1; i <= n; i++) {
      if (!call.write({ signedTx: bad, correlationId: BigInt(i) })) await new Promise((r) => call.once("drain", r));
    }
    call.write({ signedTx: valid.raw, correlationId: BigInt(n + 1) });
    call.end();
    await done;
    assert.equal(answers.length, n + 1);
    const refused = answers.filter((a) => a.reason === "WRONG_CHAIN");
    assert.equal(refused.length, n);
    assert.ok(refused.every((a) => a.errorCode === Number(status.INVALID_ARGUMENT)));
    const ok = answers.find((a) => a.correlationId === BigInt(n + 1));
    assert.equal(ok?.errorCode, 0, ok?.message);
    assert.equal(await h.txsCount(), before + 1, "only the valid transaction after the flood");
    await nextValidCallServed();
  });

  test("a transaction signed correctly for chain B, sent to chain A: INVALID_ARGUMENT / WRONG_CHAIN on signed_tx.body.chain_id; nothing stored", async () => {
    const before = await h.txsCount();
    const foreign = buildTx({ chainId: "chain-b", signer: SIGNERS.bankA });
    const r = await submit(foreign.raw);
    assert.equal(r.err?.code, status.INVALID_ARGUMENT);
    assert.equal(reasonOf(r.err), "WRONG_CHAIN");
    const details = decodeStatusDetails(r.err.metadata.get(STATUS_DETAILS_KEY)[0] as Buffer);
    assert.equal(details.reason, "WRONG_CHAIN");
    assert.equal(details.field, "signed_tx.body.chain_id");
    assert.equal(await h.txsCount(), before);
    assert.equal(await h.statuses.status(foreign.id), undefined, "the node knows nothing of it");
    await assert.rejects(h.gateway.status(foreign.id), (e: unknown) => (e as { reason?: string }).reason === "NO_SUCH_TX");
    await nextValidCallServed();
  });
});
