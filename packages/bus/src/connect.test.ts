import { test } from "node:test";
import assert from "node:assert/strict";
import { natsServers } from "./connect.js";

test("NATS_URL credentials become the connection's user and password, and leave the server addresses", () => {
  assert.deepEqual(natsServers("nats://127.0.0.1:4222"), { servers: ["nats://127.0.0.1:4222"] });
  assert.deepEqual(natsServers("nats://ledger:p%40ss@nats-0:4222, nats://ledger:p%40ss@nats-1:4222"), {
    servers: ["nats://nats-0:4222", "nats://nats-1:4222"],
    user: "ledger",
    pass: "p@ss",
  });
  assert.deepEqual(natsServers("tls://regulator@h:4222"), { servers: ["tls://h:4222"], user: "regulator" });
});
