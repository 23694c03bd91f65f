// The read-only regulator account of deploy/nats-server-accounts.conf, on a real nats-server
// started with that very file: the regulator subscribes to its node's events and reads them
// through a JetStream consumer of its own; every publish it tries is refused, and nothing it
// tried reached a stream.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { busNames, ensureStreams } from "@tally/bus";
import { findNatsServer, freePort, repoRoot, ServiceProcess, waitFor } from "@tally/testkit";

const LEDGER_PASSWORD = "ledger-secret";
const REGULATOR_PASSWORD = "regulator-secret";
const NODE = "node-regulator";
const CONSUMER = "regulator-feed";

describe("deploy/nats-server-accounts.conf: the regulator's read-only NATS account", () => {
  let dir: string;
  let server: ServiceProcess;
  let url: string;
  let ledger: NatsConnection;
  let regulator: NatsConnection;
  const violations: { op: string; subject: string }[] = [];
  const names = busNames();

  before(async () => {
    const bin = findNatsServer();
    assert.ok(bin, "nats-server is needed");
    dir = mkdtempSync(join(tmpdir(), "tally-nats-acct-"));
    const port = await freePort();
    url = `nats://127.0.0.1:${port}`;
    // The deploy file as shipped; only the address and the store move.
    const shipped = readFileSync(join(repoRoot, "deploy/nats-server-accounts.conf"), "utf8");
    const conf = shipped
      .replace('listen: "0.0.0.0:4222"', `listen: "127.0.0.1:${port}"`)
      .replace('store_dir: "/data/jetstream"', `store_dir: "${join(dir, "js")}"`);
    assert.notEqual(conf.indexOf(String(port)), -1);
    assert.notEqual(conf.indexOf(dir), -1);
    writeFileSync(join(dir, "nats.conf"), conf);
    server = new ServiceProcess("nats-server", [bin, "-c", join(dir, "nats.conf")], {
      TALLY_NATS_LEDGER_PASSWORD: LEDGER_PASSWORD,
      TALLY_NATS_REGULATOR_PASSWORD: REGULATOR_PASSWORD,
    });
    await server.waitForLine(/Server is ready/, 15_000);
    ledger = await connect({ servers: url, user: "ledger", pass: LEDGER_PASSWORD });
    await ensureStreams(await jetstreamManager(ledger), names);
    regulator = await connect({ servers: url, user: "regulator", pass: REGULATOR_PASSWORD, inboxPrefix: "_INBOX_regulator" });
    void (async () => {
      for await (const s of regulator.status()) {
        if (s.type === "error" && s.error.name === "PermissionViolationError") {
          const e = s.error as unknown as { operation: string; subject: string };
          violations.push({ op: e.operation, subject: e.subject });
        }
      }
    })();
  });

  after(async () => {
    await regulator?.close().catch(() => undefined);
    await ledger?.close().catch(() => undefined);
    await server?.stop("SIGTERM", 5000);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  test("a wrong password is refused", async () => {
    await assert.rejects(connect({ servers: url, user: "regulator", pass: "guess", reconnect: false }));
  });

  test("subscribes to its node's live events and receives them", async () => {
    const got: string[] = [];
    const sub = regulator.subscribe(`tally.events.${NODE}.>`, { callback: (_e, m) => void got.push(m.subject) });
    await regulator.flush();
    ledger.publish(names.eventSubject(NODE, "cash", "CashIssued"), new TextEncoder().encode("live"));
    await waitFor("the live event", () => got.length === 1, 5000, 10);
    assert.deepEqual(got, [`tally.events.${NODE}.cash.CashIssued`]);
    sub.unsubscribe();
  });

  test("reads EVENTS through a JetStream consumer of its own, filtered to its node", async () => {
    ledger.publish(names.eventSubject(NODE, "bond", "HoldingFrozen"), new TextEncoder().encode("stored"));
    ledger.publish(names.eventSubject("node-bank-a", "cash", "CashIssued"), new TextEncoder().encode("another node"));
    await ledger.flush();
    const jsm = await jetstreamManager(regulator);
    await jsm.consumers.add(names.eventsStream, {
      name: CONSUMER,
      filter_subject: `tally.events.${NODE}.>`,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
    });
    const consumer = await jetstream(regulator).consumers.get(names.eventsStream, CONSUMER);
    const batch = await consumer.fetch({ max_messages: 10, expires: 2000 });
    const subjects: string[] = [];
    for await (const m of batch) {
      subjects.push(m.subject);
      m.ack();
    }
    assert.deepEqual(subjects, [`tally.events.${NODE}.cash.CashIssued`, `tally.events.${NODE}.bond.HoldingFrozen`]);
  });

  test("every publish it tries is refused, and none reaches a stream", async () => {
    const ledgerJsm = await jetstreamManager(ledger);
    const counts = async (): Promise<number[]> =>
      Promise.all(
        [names.eventsStream, names.txsStream, names.blocksStream, names.receiptsStream].map(
          async (s) => (await ledgerJsm.streams.info(s)).state.messages,
        ),
      );
    const before = await counts();
    const consumersBefore = (await ledgerJsm.consumers.list(names.eventsStream).next()).map((c) => c.name).sort();
    const attempts = [
      names.eventSubject(NODE, "cash", "CashIssued"),
      names.txSubject("bank-a"),
      names.blocksSubject,
      names.receiptSubject(NODE),
      "$JS.API.STREAM.PURGE.EVENTS",
      "$JS.API.STREAM.DELETE.EVENTS",
      "$JS.API.STREAM.CREATE.MINE",
      "$JS.API.STREAM.MSG.DELETE.EVENTS",
      `$JS.API.CONSUMER.DELETE.EVENTS.${CONSUMER}`,
      // A consumer of its own name but over every node's events, or on another stream.
      `$JS.API.CONSUMER.CREATE.EVENTS.${CONSUMER}.tally.events.>`,
      `$JS.API.CONSUMER.CREATE.EVENTS.${CONSUMER}`,
      "$JS.API.CONSUMER.CREATE.TXS.mine.tally.tx.>",
      `$JS.API.CONSUMER.DURABLE.CREATE.EVENTS.${CONSUMER}`,
      "_INBOX.someone-else",
      "anything.else",
    ];
    for (const subject of attempts) regulator.publish(subject, new TextEncoder().encode("{}"));
    await regulator.flush();
    await waitFor("every refusal", () => attempts.every((s) => violations.some((v) => v.op === "publish" && v.subject === s)), 5000, 10);
    // Nothing reached a stream, and the consumers are as they were.
    assert.deepEqual(await counts(), before);
    assert.deepEqual((await ledgerJsm.consumers.list(names.eventsStream).next()).map((c) => c.name).sort(), consumersBefore);
    // Its connection survives the refusals and still reads.
    const got: string[] = [];
    const sub = regulator.subscribe(`tally.events.${NODE}.>`, { callback: (_e, m) => void got.push(m.subject) });
    await regulator.flush();
    ledger.publish(names.eventSubject(NODE, "cash", "CashTransferred"), new Uint8Array(0));
    await waitFor("a live event after the refusals", () => got.length === 1, 5000, 10);
    sub.unsubscribe();
  });

  test("it cannot subscribe to transactions, blocks, receipts or another node's events", async () => {
    const denied = [names.txsSubjects, names.blocksSubject, names.receiptsSubjects, "tally.events.node-bank-a.>", "_INBOX.>"];
    const received: string[] = [];
    const refused: string[] = [];
    for (const s of denied) {
      // A refused subscription's callback gets the permission error; it must never get a message.
      regulator.subscribe(s, { callback: (err, m) => void (err === null ? received.push(m.subject) : refused.push(s)) });
    }
    await regulator.flush();
    await waitFor(
      "every subscribe refused",
      () => denied.every((s) => violations.some((v) => v.op === "subscription" && v.subject === s)),
      5000,
      10,
    );
    ledger.publish("tally.events.node-bank-a.cash.CashIssued", new Uint8Array(0));
    await ledger.flush();
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(received, []);
    assert.deepEqual(refused.sort(), [...denied].sort());
  });
});
