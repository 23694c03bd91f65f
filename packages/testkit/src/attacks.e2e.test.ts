// The attack suite (issue 13): a real nats-server runs with the per-role users generated from the
// genesis (natsUsers), and each role tries what it must not do. Every attempt names what it
// tried, asserts the bus refused it, and checks that nothing landed. The allowed paths run under
// the same config, with the bus client code the services use (OrderedFollower, JetStreamPublisher,
// the KV lease bucket), and must raise no permissions violation at all.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kvm } from "@nats-io/kv";
import {
  busNames,
  connectBus,
  ensureStreams,
  JetStreamPublisher,
  natsAuthorizationConf,
  natsUsers,
  OrderedFollower,
  openLeaseBucket,
  setupBus,
  type Bus,
  type NatsUser,
} from "@tally/bus";
import { SAMPLE_CONSORTIUM, writeConsortium } from "./consortium.js";
import { startNatsServer, type StartedNats } from "./nats-server.js";

const names = busNames("tally");
const KV_STREAM = `KV_${names.leaseBucket}`;
const enc = new TextEncoder();

describe("attack suite: per-role NATS users refuse every forbidden act", () => {
  const dir = mkdtempSync(join(tmpdir(), "tally-attacks-"));
  const passwords = new Map<string, string>();
  let users: NatsUser[];
  let nats: StartedNats;
  let admin: Bus;
  const opened: Bus[] = [];

  const as = async (user: string): Promise<Bus> => {
    const pw = passwords.get(user);
    assert.ok(pw !== undefined, `no user ${user}`);
    const b = await connectBus({ url: `nats://${user}:${pw}@127.0.0.1:${nats.port}`, name: `attack-${user}` });
    opened.push(b);
    return b;
  };
  /** Message counts of every stream: what must not change after a refused act. */
  const counts = async (): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const s of [names.txsStream, names.blocksStream, names.receiptsStream, names.eventsStream, KV_STREAM])
      out[s] = (await admin.jsm.streams.info(s)).state.messages;
    return out;
  };
  /** A JetStream publish (a request with a reply inbox) that the bus must refuse; returns the error. */
  const refusedPublish = async (b: Bus, subject: string): Promise<Error> => {
    const e = await b.js.publish(subject, enc.encode("forged"), { timeout: 1500 }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    assert.ok(e !== undefined, `publish to ${subject} was acked`);
    return e;
  };
  /** The server's permissions violations by a user, in its log from line `from` on. */
  const violations = (user: string, from: number): string[] =>
    nats.process.lines.slice(from).filter((l) => /Violation/i.test(l) && l.includes(`"${user}"`));

  before(async () => {
    const files = writeConsortium(dir, SAMPLE_CONSORTIUM, Date.now());
    users = natsUsers(files.genesis, names, { gatewayInstitutions: { "node-clearing": ["clearing-b", "bank-b"] } });
    for (const u of users) passwords.set(u.user, randomBytes(12).toString("hex"));
    nats = await startNatsServer(join(dir, "nats"), { extraConf: natsAuthorizationConf(users, (u) => passwords.get(u)!) });
    // The setup step, once, under the admin user.
    admin = await as("admin");
    await setupBus(admin, names, { leaseTtlMs: 5000 });
    await admin.js.publish(names.blocksSubject, enc.encode("block 0"));
    await admin.js.publish(names.txSubject("exchange"), enc.encode("tx 0"));
  });

  after(async () => {
    for (const b of opened) await b.nc.close().catch(() => undefined);
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the generated config has one user per role: admin, each sequencer, each node's gateway and services, the regulator", () => {
    const byRole = (r: string): string[] => users.filter((u) => u.role === r).map((u) => u.user);
    assert.deepEqual(byRole("admin"), ["admin"]);
    assert.deepEqual(byRole("sequencer"), ["sequencer-seq-exchange", "sequencer-seq-clearing"]);
    assert.deepEqual(byRole("gateway"), [
      "gateway-node-exchange",
      "gateway-node-clearing",
      "gateway-node-bank-a",
      "gateway-node-regulator",
    ]);
    assert.deepEqual(byRole("node"), ["node-node-exchange", "node-node-clearing", "node-node-bank-a", "node-node-regulator"]);
    assert.deepEqual(byRole("regulator"), ["regulator"]);
  });

  test("no password: the connection is refused", async () => {
    await assert.rejects(connectBus({ url: `nats://127.0.0.1:${nats.port}`, name: "anonymous" }), /Authorization|authentication/i);
    await assert.rejects(connectBus({ url: `nats://admin:wrong@127.0.0.1:${nats.port}`, name: "guess" }), /Authorization|authentication/i);
  });

  test("a gateway publishing to another institution's tx subject is refused, and TXS is unchanged", async () => {
    const gw = await as("gateway-node-exchange");
    const before = await counts();
    // bank-a is hosted by node-bank-a's gateway, clearing-b by node-clearing's.
    for (const victim of ["bank-a", "clearing-b"]) {
      const e = await refusedPublish(gw, names.txSubject(victim));
      assert.match(e.message, /permission/i);
    }
    // A subject under TXS's filter that is nobody's either.
    await refusedPublish(gw, `${names.txSubject("exchange")}.extra`);
    assert.deepEqual(await counts(), before);
  });

  test("a node's services publishing a block to BLOCKS are refused (so is a gateway or the regulator)", async () => {
    const before = await counts();
    for (const u of ["node-node-bank-a", "gateway-node-bank-a", "regulator"]) {
      const e = await refusedPublish(await as(u), names.blocksSubject);
      assert.match(e.message, /permission/i, u);
    }
    assert.deepEqual(await counts(), before);
  });

  test("no non-admin user may delete or purge a stream or the lease bucket", async () => {
    const before = await counts();
    for (const u of users.filter((x) => x.role !== "admin")) {
      const b = await as(u.user);
      for (const s of [names.txsStream, names.blocksStream, names.receiptsStream, names.eventsStream, KV_STREAM]) {
        await assert.rejects(b.jsm.streams.delete(s), `${u.user} deleted ${s}`);
        await assert.rejects(b.jsm.streams.purge(s), `${u.user} purged ${s}`);
      }
      // Nor change a stream's configuration (e.g. shorten BLOCKS' retention).
      await assert.rejects(b.jsm.streams.update(names.blocksStream, { max_msgs: 1 }), `${u.user} updated BLOCKS`);
      await assert.rejects(new Kvm(b.js).create("tally-leases-2", { history: 1 }), `${u.user} created a bucket`);
      // A service started with NATS_ENSURE_STREAMS=true under its own user is told what to do.
      await assert.rejects(ensureStreams(b.jsm, names), /may not manage streams; run the setup step as admin/);
    }
    assert.deepEqual(await counts(), before);
    assert.equal((await admin.jsm.streams.info(names.blocksStream)).config.max_msgs, -1);
  });

  test("a node or a gateway writing the sequencer lease key is refused; a sequencer may not write another's presence key", async () => {
    const before = await counts();
    for (const u of ["node-node-exchange", "gateway-node-exchange", "regulator"]) {
      const b = await as(u);
      await refusedPublish(b, `$KV.${names.leaseBucket}.master`);
      // Nor through the KV client, as a sequencer would.
      await assert.rejects(
        (async () => (await new Kvm(b.js).open(names.leaseBucket)).create("master", enc.encode(u)))(),
        `${u} took the lease through the KV client`,
      );
    }
    const seq = await as("sequencer-seq-clearing");
    await refusedPublish(seq, `$KV.${names.leaseBucket}.member.seq-exchange`);
    assert.deepEqual(await counts(), before);
    const kv = await new Kvm(admin.js).open(names.leaseBucket);
    assert.equal(await kv.get("master"), null);
  });

  test("the regulator publishing anything is refused", async () => {
    const reg = await as("regulator");
    const before = await counts();
    for (const s of [
      names.txSubject("regulator"),
      names.receiptSubject("node-regulator"),
      names.eventSubject("node-regulator", "asset", "Forged"),
    ])
      await refusedPublish(reg, s);
    assert.deepEqual(await counts(), before);
  });

  test("no user but admin may subscribe to another user's replies (_INBOX.>, _INBOX_admin.>)", async () => {
    for (const u of ["node-node-bank-a", "gateway-node-bank-a", "regulator"]) {
      const b = await as(u);
      const errors: string[] = [];
      void (async () => {
        for await (const s of b.nc.status()) if (s.type === "error") errors.push(String(s.error));
      })();
      b.nc.subscribe("_INBOX.>");
      b.nc.subscribe(`${inboxOf("admin")}.>`);
      await b.nc.flush();
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(errors.filter((e) => /permission/i.test(e)).length >= 2, `${u}: ${errors.join("; ")}`);
    }
  });

  describe("the allowed paths work under the same config, with no permissions violation", () => {
    test("a gateway's publish to its institutions' subjects is acked (JetStreamPublisher, its own inbox)", async () => {
      const from = nats.process.lines.length;
      const gw = await as("gateway-node-clearing");
      const pub = new JetStreamPublisher(gw.nc, 16, gw.inboxPrefix);
      try {
        for (const i of ["clearing", "clearing-b", "bank-b"]) {
          const ack = await pub.publish(names.txSubject(i), enc.encode(`tx from ${i}`), { msgID: `tx-${i}`, timeoutMs: 2000 });
          assert.equal(ack.stream, names.txsStream);
          assert.equal(ack.duplicate, false);
        }
      } finally {
        pub.close();
      }
      assert.deepEqual(violations("gateway-node-clearing", from), []);
    });

    test("a sequencer reads TXS in order, publishes a block to BLOCKS, reads it back and takes the lease", async () => {
      const from = nats.process.lines.length;
      const user = "sequencer-seq-exchange";
      const seq = await as(user);
      const txs = new OrderedFollower(seq, names.txsStream, { maxMessages: 8 });
      const read: string[] = [];
      for await (const m of txs.follow(1)) {
        read.push(new TextDecoder().decode(m.data));
        if (read.length === 4) break;
      }
      await txs.close();
      assert.deepEqual(read, ["tx 0", "tx from clearing", "tx from clearing-b", "tx from bank-b"]);
      const info = await seq.jsm.streams.info(names.blocksStream);
      const last = await seq.jsm.streams.getMessage(names.blocksStream, { seq: info.state.last_seq });
      assert.equal(new TextDecoder().decode(last!.data), "block 0");
      const ack = await seq.js.publish(names.blocksSubject, enc.encode("block 1"), {
        msgID: "block-1",
        expect: { lastSequence: info.state.last_seq },
      });
      assert.equal(ack.seq, info.state.last_seq + 1);
      // The lease: open the bucket the setup step made (its TTL must be the lease TTL), take
      // `master` and its presence key, watch `master`.
      await assert.rejects(openLeaseBucket(seq, names, { leaseTtlMs: 1300 }), /has a TTL of 5000 ms but LEASE_TTL_MS is 1300/);
      const kv = await openLeaseBucket(seq, names, { leaseTtlMs: 5000 });
      const rev = await kv.create("master", enc.encode(user));
      await kv.create("member.seq-exchange", enc.encode(user));
      assert.equal((await kv.get("master"))?.revision, rev);
      const w = await kv.watch({ key: "master", include: "updates" });
      const seen = (async () => {
        for await (const e of w) return e.operation;
        return undefined;
      })();
      await kv.delete("master", { previousSeq: (await kv.get("master"))!.revision });
      assert.equal(await seen, "DEL");
      w.stop();
      assert.deepEqual(violations(user, from), []);
    });

    test("a node reads BLOCKS and RECEIPTS and publishes its own receipt and events, not another node's", async () => {
      const from = nats.process.lines.length;
      const user = "node-node-bank-a";
      const node = await as(user);
      const blocks = new OrderedFollower(node, names.blocksStream, { maxMessages: 8 });
      const read: string[] = [];
      for await (const m of blocks.follow(1)) {
        read.push(new TextDecoder().decode(m.data));
        if (read.length === 2) break;
      }
      await blocks.close();
      assert.deepEqual(read, ["block 0", "block 1"]);
      assert.ok((await node.jsm.streams.info(names.blocksStream)).state.last_seq >= 2);
      const ack = await node.js.publish(names.receiptSubject("node-bank-a"), enc.encode("receipt 1"), { msgID: "node-bank-a:1" });
      assert.equal(ack.stream, names.receiptsStream);
      node.nc.publish(names.eventSubject("node-bank-a", "asset", "Issued"), enc.encode("event"));
      await node.nc.flush();
      const receipts = new OrderedFollower(node, names.receiptsStream, { maxMessages: 8 });
      for await (const m of receipts.follow(1)) {
        assert.equal(new TextDecoder().decode(m.data), "receipt 1");
        break;
      }
      await receipts.close();
      assert.deepEqual(violations(user, from), []);
      // Another node's receipt is refused.
      await refusedPublish(node, names.receiptSubject("node-exchange"));
    });
  });
});

function inboxOf(user: string): string {
  return `_INBOX_${user}`;
}
