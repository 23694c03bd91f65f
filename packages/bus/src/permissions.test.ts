import { test } from "node:test";
import assert from "node:assert/strict";
import type { Genesis } from "@tally/ledger";
import { busNames } from "./names.js";
import { natsAuthorizationConf, natsPasswordVar, natsPasswordVars, natsUsers, type NatsUser } from "./permissions.js";

const PK = "11".repeat(32);
const GENESIS: Genesis = {
  chainId: "perm-test",
  genesisTimeMs: 0,
  institutions: [
    { id: "bank-a", name: "Bank A", roles: ["bank"], keys: [] },
    { id: "bank-b", name: "Bank B", roles: ["bank"], keys: [] },
    { id: "watchdog", name: "Regulator", roles: ["regulator"], keys: [] },
  ],
  sequencers: [
    { id: "seq-1", publicKey: PK },
    { id: "seq-2", publicKey: PK },
  ],
  validators: [
    { nodeId: "n-a", institutionId: "bank-a", publicKey: PK },
    { nodeId: "n-b", institutionId: "bank-b", publicKey: PK },
    { nodeId: "n-reg", institutionId: "watchdog", publicKey: PK },
  ],
  finality: { quorumNumerator: 2, quorumDenominator: 3 },
};

const byName = (users: NatsUser[], name: string): NatsUser => {
  const u = users.find((x) => x.user === name);
  assert.ok(u !== undefined, `no user ${name}`);
  return u;
};

test("natsUsers: one user per role, derived from the genesis", () => {
  const users = natsUsers(GENESIS, busNames());
  assert.deepEqual(
    users.map((u) => `${u.role}:${u.user}`),
    [
      "admin:admin",
      "sequencer:sequencer-seq-1",
      "sequencer:sequencer-seq-2",
      "gateway:gateway-n-a",
      "gateway:gateway-n-b",
      "gateway:gateway-n-reg",
      "node:node-n-a",
      "node:node-n-b",
      "node:node-n-reg",
      "regulator:regulator",
    ],
  );
  // The function is pure: the same inputs give the same users.
  assert.deepEqual(natsUsers(GENESIS, busNames()), users);
});

test("natsUsers: a gateway publishes only its institutions' tx subjects and reads only its own inbox", () => {
  const users = natsUsers(GENESIS, busNames("ns1"), { gatewayInstitutions: { "n-a": ["bank-b-sub", "bank-a"] } });
  const gw = byName(users, "gateway-n-a");
  assert.deepEqual(gw.publish, ["$JS.API.INFO", "ns1.tx.bank-a", "ns1.tx.bank-b-sub"]);
  assert.deepEqual(gw.subscribe, ["_INBOX_gateway-n-a.>"]);
  assert.deepEqual(byName(users, "gateway-n-b").publish, ["$JS.API.INFO", "ns1.tx.bank-b"]);
});

test("natsUsers: no role but admin may manage streams, publish blocks (but sequencers) or write the lease key", () => {
  const n = busNames();
  const users = natsUsers(GENESIS, n);
  for (const u of users.filter((x) => x.role !== "admin")) {
    for (const p of u.publish) {
      assert.doesNotMatch(p, /\.(DELETE|PURGE|UPDATE)\b|STREAM\.CREATE|^>$|\*\.>/, `${u.user} may ${p}`);
      assert.ok(
        !p.endsWith(".>") ||
          p.startsWith("$JS.API.CONSUMER.CREATE.") ||
          p.startsWith("$JS.ACK.") ||
          p.startsWith(`${n.namespace}.events.`) ||
          p.startsWith("$JS.API.DIRECT.GET."),
        `${u.user}: wildcard ${p}`,
      );
    }
    const blocks = u.publish.includes(n.blocksSubject);
    assert.equal(blocks, u.role === "sequencer", `${u.user} publishes BLOCKS: ${blocks}`);
    const lease = u.publish.some((p) => p.startsWith(`$KV.${n.leaseBucket}.`));
    assert.equal(lease, u.role === "sequencer", `${u.user} writes the lease bucket: ${lease}`);
    assert.ok(
      u.subscribe.every((s) => !s.startsWith("_INBOX.") && s !== ">"),
      `${u.user} reads others' replies`,
    );
  }
  const seq = byName(users, "sequencer-seq-1");
  assert.ok(seq.publish.includes(`$KV.${n.leaseBucket}.master`));
  assert.ok(seq.publish.includes(`$KV.${n.leaseBucket}.member.seq-1`));
  assert.ok(!seq.publish.includes(`$KV.${n.leaseBucket}.member.seq-2`));
  const node = byName(users, "node-n-b");
  assert.ok(node.publish.includes("tally.receipts.n-b") && node.publish.includes("tally.events.n-b.>"));
  assert.ok(!node.publish.some((p) => p.includes("n-a")));
});

test("natsUsers: a sequencer governance added gets a sequencer user; every sequencer reads RECEIPTS but publishes no receipt", () => {
  const n = busNames();
  const users = natsUsers(GENESIS, n, { sequencers: ["seq-3", "seq-1"] });
  assert.deepEqual(
    users.filter((u) => u.role === "sequencer").map((u) => u.user),
    ["sequencer-seq-1", "sequencer-seq-2", "sequencer-seq-3"],
  );
  const seq3 = byName(users, "sequencer-seq-3");
  assert.ok(seq3.publish.includes(`$KV.${n.leaseBucket}.member.seq-3`));
  assert.ok(seq3.publish.includes(n.blocksSubject));
  for (const u of users.filter((x) => x.role === "sequencer")) {
    assert.ok(u.publish.includes(`$JS.API.CONSUMER.CREATE.${n.receiptsStream}.>`), `${u.user} follows RECEIPTS`);
    assert.ok(u.publish.includes(`$JS.API.CONSUMER.MSG.NEXT.${n.blocksStream}.*`), `${u.user} follows BLOCKS`);
    assert.ok(u.publish.includes(`$JS.API.STREAM.MSG.GET.${n.receiptsStream}`), `${u.user} reads a validator's latest receipt`);
    assert.ok(!u.publish.some((p) => p.startsWith(`${n.namespace}.receipts.`)), `${u.user} publishes receipts`);
  }
  assert.throws(() => natsUsers(GENESIS, n, { sequencers: ["seq.9"] }), /NATS user name sequencer-seq\.9/);
});

test("natsUsers: the regulator reads its own node's events and publishes nothing to the ledger", () => {
  const reg = byName(natsUsers(GENESIS, busNames()), "regulator");
  assert.deepEqual(reg.subscribe, ["_INBOX_regulator.>", "tally.events.n-reg.>"]);
  assert.ok(
    reg.publish.every((p) => p.startsWith("$JS.")),
    reg.publish.join(" "),
  );
  assert.ok(reg.publish.includes("$JS.API.CONSUMER.CREATE.EVENTS.regulator-feed.tally.events.n-reg.>"));
  // Another regulator node can be named; a genesis without a regulator has no regulator user.
  assert.ok(byName(natsUsers(GENESIS, busNames(), { regulatorNode: "n-b" }), "regulator").subscribe.includes("tally.events.n-b.>"));
  const noReg = { ...GENESIS, institutions: GENESIS.institutions.filter((i) => i.id !== "watchdog") };
  assert.equal(
    natsUsers(noReg, busNames()).find((u) => u.role === "regulator"),
    undefined,
  );
});

test("natsUsers: an id that cannot be a NATS user name (nor an inbox token) is refused", () => {
  const bad = { ...GENESIS, sequencers: [{ id: "seq.1", publicKey: PK }] };
  assert.throws(() => natsUsers(bad, busNames()), /NATS user name sequencer-seq\.1/);
});

test("natsAuthorizationConf: quoted users and allow lists, passwords literal or from the environment", () => {
  const users = natsUsers(GENESIS, busNames());
  const conf = natsAuthorizationConf(users, (u) => (u === "admin" ? "$TALLY_NATS_ADMIN_PASSWORD" : `pw "${u}"`));
  assert.match(conf, /^authorization \{\n {2}users: \[/);
  assert.match(conf, /user: "admin"\n {6}password: \$TALLY_NATS_ADMIN_PASSWORD\n/);
  assert.match(conf, /user: "gateway-n-a"\n {6}password: "pw \\"gateway-n-a\\""\n/);
  assert.match(conf, /publish: \{ allow: \["\$JS.API.INFO", "tally.tx.bank-a"\] \}/);
  assert.equal(conf.match(/user: /g)?.length, users.length);
});

test("natsPasswordVar: one environment variable per user, and a clash is refused", () => {
  assert.equal(natsPasswordVar("gateway-node-bank-a"), "TALLY_NATS_PASSWORD_GATEWAY_NODE_BANK_A");
  const vars = natsPasswordVars(natsUsers(GENESIS, busNames()));
  assert.equal(vars.get("admin"), "TALLY_NATS_PASSWORD_ADMIN");
  assert.equal(new Set(vars.values()).size, vars.size);
  const clash: NatsUser[] = [
    { user: "node-a-b", role: "node", publish: [], subscribe: [] },
    { user: "node-a_b", role: "node", publish: [], subscribe: [] },
  ];
  assert.throws(() => natsPasswordVars(clash), /node-a-b and node-a_b would share the password variable TALLY_NATS_PASSWORD_NODE_A_B/);
  assert.throws(() => natsPasswordVar("a.b"), /must match/);
});
