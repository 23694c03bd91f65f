// The hot-path JetStream publisher against a real nats-server: acks with the stream's sequence,
// a repeated msg id is a duplicate the stream drops, a subject no stream captures is refused at
// once (503), an unanswered publish times out, and the in-flight bound refuses at once.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connectBus, type Bus } from "./connect.js";
import { JetStreamPublisher, PublishError } from "./js-publisher.js";

const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

describe("JetStreamPublisher (real nats-server)", () => {
  const tag = randomBytes(4).toString("hex");
  const stream = `PUBTEST_${tag.toUpperCase()}`;
  const subject = `pubtest.${tag}.in`;
  let bus: Bus;
  let pub: JetStreamPublisher;

  before(async () => {
    bus = await connectBus({ url: natsUrl, name: "js-publisher-test" });
    await bus.jsm.streams.add({ name: stream, subjects: [`pubtest.${tag}.in`], duplicate_window: 60_000_000_000 });
    pub = new JetStreamPublisher(bus.nc, 4);
  });

  after(async () => {
    pub?.close();
    await bus?.jsm.streams.delete(stream).catch(() => undefined);
    await bus?.nc.close();
  });

  test("each publish is acked with the next stream sequence; the message is stored as sent", async () => {
    const payload = new TextEncoder().encode("hello");
    const a = await pub.publish(subject, payload, { msgID: `a-${tag}`, timeoutMs: 2000 });
    const b = await pub.publish(subject, payload, { msgID: `b-${tag}`, timeoutMs: 2000 });
    assert.equal(a.stream, stream);
    assert.equal(a.duplicate, false);
    assert.equal(b.seq, a.seq + 1);
    const stored = await bus.jsm.streams.getMessage(stream, { seq: a.seq });
    assert.equal(new TextDecoder().decode(stored!.data), "hello");
    assert.equal(stored!.header.get("Nats-Msg-Id"), `a-${tag}`);
  });

  test("the same msg id again is a duplicate, and the stream does not store it twice", async () => {
    const first = await pub.publish(subject, new Uint8Array([1]), { msgID: `dup-${tag}`, timeoutMs: 2000 });
    const again = await pub.publish(subject, new Uint8Array([1]), { msgID: `dup-${tag}`, timeoutMs: 2000 });
    assert.equal(again.duplicate, true);
    assert.equal(again.seq, first.seq);
    assert.equal((await bus.jsm.streams.info(stream)).state.last_seq, first.seq);
  });

  test("a subject no stream captures is refused with 503 (no responders), not left to time out", async () => {
    const e = await pub.publish(`pubtest.${tag}.nowhere`, new Uint8Array([1]), { timeoutMs: 5000 }).then(
      () => undefined,
      (x: unknown) => x,
    );
    assert.ok(e instanceof PublishError);
    assert.equal(e.code, 503);
  });

  test("a reply that never comes times out (408); past the in-flight bound, publish refuses at once (429)", async () => {
    // A plain subscriber takes the subject and never answers.
    const silent = `pubtest.${tag}.silent`;
    const sub = bus.nc.subscribe(silent, { callback: () => undefined });
    await bus.nc.flush();
    const waits = Array.from({ length: 4 }, () =>
      pub.publish(silent, new Uint8Array([1]), { timeoutMs: 200 }).then(
        () => 0,
        (x: unknown) => (x instanceof PublishError ? x.code : -1),
      ),
    );
    const over = await pub.publish(silent, new Uint8Array([1]), { timeoutMs: 200 }).then(
      () => 0,
      (x: unknown) => (x instanceof PublishError ? x.code : -1),
    );
    assert.equal(over, 429);
    assert.deepEqual(await Promise.all(waits), [408, 408, 408, 408]);
    assert.equal(pub.inFlight, 0);
    sub.unsubscribe();
    // The publisher still works afterwards.
    assert.equal((await pub.publish(subject, new Uint8Array([2]), { timeoutMs: 2000 })).stream, stream);
  });

  test("a reply that is not a PubAck (garbage bytes, JSON without stream and seq) is refused with 500, and the publisher keeps working", async () => {
    const answers = [new TextEncoder().encode("\u0000not json{"), new TextEncoder().encode(JSON.stringify({ seq: "7" }))];
    for (const answer of answers) {
      const liar = `pubtest.${tag}.liar`;
      const sub = bus.nc.subscribe(liar, { callback: (_e, m) => void m.respond(answer) });
      await bus.nc.flush();
      const e = await pub.publish(liar, new Uint8Array([1]), { timeoutMs: 2000 }).then(
        () => undefined,
        (x: unknown) => x,
      );
      sub.unsubscribe();
      assert.ok(e instanceof PublishError, String(e));
      assert.equal(e.code, 500);
    }
    assert.equal(pub.inFlight, 0);
    assert.equal((await pub.publish(subject, new Uint8Array([3]), { timeoutMs: 2000 })).stream, stream);
  });
});
