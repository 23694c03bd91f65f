// Graceful shutdown under load (issue 9): a real network (one node with its regulator feed, two
// sequencers) takes steady signed transfers while each service in turn gets SIGTERM and is
// started again: the master sequencer, the executor, the blockstore, the gateway the load goes
// to, and the regfeed. Each must exit 0 of its own accord (within its DRAIN_TIMEOUT_MS), the
// gateway must report NOT_SERVING before it goes, and every transaction answered ACCEPTED must
// commit, exactly once, after the restarts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Client, credentials, Metadata, type ClientReadableStream } from "@grpc/grpc-js";
import { openDb } from "@tally/db";
import { toHex } from "@tally/ledger";
import { SequencerAdminServiceClient, SequencerRole, type GetStatusResponse } from "@tally/proto/sequencer";
import { insecure, unary } from "@tally/rpc";
import { gatewayCredentials, startTestNetwork, waitFor, type ConsortiumFiles, type ConsortiumPlan, type TestNetwork } from "@tally/testkit";
import { auditCommits } from "./chaos/audit.js";
import { startLoad, type LoadRun } from "./chaos/load.js";

const BANKS = ["bank-1", "bank-2", "bank-3"];
const PLAN: ConsortiumPlan = {
  chainId: "tally-drain",
  institutions: [
    { id: "clearing", name: "Clearing House", roles: ["clearing"], node: "node-1" },
    ...BANKS.map((id) => ({ id, name: id, roles: ["bank"], node: "node-1" })),
    { id: "regulator", name: "Regulator", roles: ["regulator"], node: "node-1" },
  ],
  nodes: [{ id: "node-1", institution: "clearing", regfeed: true }],
  sequencers: [
    { id: "seq-1", institution: "clearing" },
    { id: "seq-2", institution: "clearing" },
  ],
};
const DRAIN_TIMEOUT_MS = 8000;
const SERVING = 1;
const NOT_SERVING = 2;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** grpc.health.v1 Watch, encoded by hand: the statuses seen until the stream ends. */
function watchHealth(addr: string): { statuses: number[]; ended: Promise<void>; close(): void } {
  const c = new Client(addr, credentials.createInsecure());
  const statuses: number[] = [];
  const call: ClientReadableStream<number> = c.makeServerStreamRequest(
    "/grpc.health.v1.Health/Watch",
    (s: string) => Buffer.concat([Buffer.from([0x0a, Buffer.byteLength(s)]), Buffer.from(s)]),
    (b: Buffer) => (b.length >= 2 && b[0] === 0x08 ? b[1]! : 0),
    "",
    new Metadata(),
  );
  call.on("data", (s: number) => statuses.push(s));
  const ended = new Promise<void>((resolve) => {
    call.on("error", () => resolve());
    call.on("end", () => resolve());
  });
  return { statuses, ended, close: () => (call.cancel(), c.close()) };
}

describe("graceful shutdown under load", () => {
  let tn: TestNetwork;
  let net: TestNetwork["net"];
  let files: ConsortiumFiles;
  let load: LoadRun | undefined;

  before(async () => {
    tn = await startTestNetwork(PLAN, { prefix: "drain", env: { DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS) } });
    ({ net, files } = tn);
  });

  after(async () => {
    await load?.stop().catch(() => undefined);
    await tn?.close();
  });

  async function statusOf(id: string): Promise<GetStatusResponse | undefined> {
    const s = net.endpoints.sequencers.find((x) => x.id === id)!;
    const c = new SequencerAdminServiceClient(s.admin, insecure());
    return unary<GetStatusResponse>((md, o, cb) => c.getStatus({}, md, o, cb))
      .catch(() => undefined)
      .finally(() => c.close());
  }

  /** SIGTERM one service, assert it exits 0 by itself within its drain timeout, and start it again. */
  async function termAndRestart(name: string): Promise<void> {
    const p = net.processes.get(name)!;
    // The SIGKILL fallback only after the drain bound and a margin: an exit 0 before it is the service's own.
    const stopped = p.stop("SIGTERM", DRAIN_TIMEOUT_MS + 5000);
    const code = await p.exited;
    await stopped;
    assert.equal(code, 0, `${name} exit code after SIGTERM; last lines:\n${p.lines.slice(-15).join("\n")}`);
    assert.ok(
      p.lines.some((l) => l.includes("shutdown complete")),
      `${name} logged its shutdown complete:\n${p.lines.slice(-15).join("\n")}`,
    );
    await net.startOne(name);
  }

  test("SIGTERM to each service in turn loses nothing ACCEPTED", { timeout: 240_000 }, async () => {
    const gateway = net.endpoints.nodes[0]!.gateway;
    const clearing = tn.client("clearing");
    await Promise.all(BANKS.map((b) => clearing.submitAndWait(clearing.build("cash", "issue", { to: b, amount: "1000000000" }))));
    clearing.close();

    load = startLoad({
      gateway,
      chainId: PLAN.chainId,
      keyFiles: new Map(BANKS.map((b) => [b, files.keyFiles.get(b)!])),
      credentialsFor: (id) => gatewayCredentials(files, id),
      ratePerSec: 150,
      streams: 3,
    });
    const ackedAfter = async (what: string): Promise<void> => {
      const n = load!.acked.size;
      await waitFor(`more transactions accepted after ${what}`, () => (load!.acked.size > n + 20 ? true : undefined), 30_000);
    };
    await ackedAfter("the start");

    // The master sequencer hands its lease over; the backup takes it and goes on cutting.
    const master = (await statusOf("seq-1"))?.role === SequencerRole.SEQUENCER_ROLE_MASTER ? "seq-1" : "seq-2";
    const backup = master === "seq-1" ? "seq-2" : "seq-1";
    await termAndRestart(master);
    assert.ok(
      net.processes.get(master)!.lines.some((l) => l.includes("lease released")) ||
        (await waitFor(
          "the backup to lead",
          async () => ((await statusOf(backup))?.role === SequencerRole.SEQUENCER_ROLE_MASTER ? true : undefined),
          10_000,
        )),
    );
    await ackedAfter(`SIGTERM to ${master}`);

    await termAndRestart("node-1/executor");
    await ackedAfter("SIGTERM to the executor");
    await termAndRestart("node-1/blockstore");
    await ackedAfter("SIGTERM to the blockstore");

    // The gateway the load goes to: NOT_SERVING first, on its plaintext health port.
    const health = watchHealth(net.endpoints.nodes[0]!.gatewayHealth!);
    await waitFor("the gateway's health to say SERVING", () => (health.statuses.includes(SERVING) ? true : undefined), 10_000);
    await termAndRestart("node-1/gateway");
    await Promise.race([health.ended, sleep(2000)]);
    health.close();
    assert.ok(
      health.statuses.includes(NOT_SERVING),
      `the gateway reported NOT_SERVING before it stopped (saw ${health.statuses.join(", ")})`,
    );
    await ackedAfter("SIGTERM to the gateway");

    await termAndRestart("node-1/regfeed");
    await ackedAfter("SIGTERM to the regfeed");

    await load.stop();
    const acked = [...load.acked];
    assert.ok(acked.length > 100, `load was accepted (${acked.length})`);

    // Every acknowledged transaction commits, exactly once, on the restarted services.
    const db = openDb(net.endpoints.nodes[0]!.database);
    try {
      const audit = await waitFor(
        "every ACCEPTED transaction to be executed",
        async () => {
          const rows = await db.selectFrom("tx_results").select(["tx_id", "committed"]).execute();
          const a = auditCommits(
            acked,
            rows.map((r) => ({ txId: toHex(r.tx_id), committed: r.committed })),
          );
          return a.lost === 0 ? a : undefined;
        },
        60_000,
        500,
      );
      assert.equal(audit.lost, 0);
      assert.equal(audit.duplicated, 0, `committed twice, e.g. ${audit.examples.duplicated.join(", ")}`);
      assert.equal(audit.rejected, 0, `accepted but not committed, e.g. ${audit.examples.rejected.join(", ")}`);
      assert.equal(audit.committed, acked.length);
    } finally {
      await db.destroy();
    }
  });
});
