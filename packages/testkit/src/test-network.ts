// A consortium for one end-to-end test file: its own directory, bus namespace and node
// databases, every service as a real process on this machine's NATS and PostgreSQL, clients
// signing as any institution through its own node's gateway, and one close() that stops the
// processes and removes everything the network made.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { busNames, connectBus, deleteNamespace } from "@tally/bus";
import { dropDatabase } from "@tally/db";
import { signerFromKeyFile, TallyClient } from "@tally/sdk";
import { gatewayCredentials, writeConsortium, type ConsortiumFiles, type ConsortiumPlan } from "./consortium.js";
import { LocalNetwork } from "./local-network.js";
import { testNatsUrl, testPgAdminUrl, uniqueNamespace, uniqueSuffix } from "./test-env.js";

/** A running test consortium. */
export interface TestNetwork {
  readonly net: LocalNetwork;
  readonly plan: ConsortiumPlan;
  readonly files: ConsortiumFiles;
  readonly dir: string;
  readonly namespace: string;
  /** A client signing as institution `id` through its own node's gateway; close() closes it. */
  client(id: string): TallyClient;
  /** The PostgreSQL database name of a node. */
  databaseOf(nodeId: string): string;
  /** Stops every service, deletes the bus namespace, drops the node databases, removes the directory. */
  close(): Promise<void>;
}

/** Options of startTestNetwork. */
export interface TestNetworkOptions {
  /** A short lowercase name for the directory, namespace and database prefix (e.g. "fin"). */
  readonly prefix: string;
  readonly env?: Record<string, string>;
  readonly sequencersToRun?: number;
  /** Echo the services' logs (default: when TALLY_ECHO_LOGS=1). */
  readonly echoLogs?: boolean;
}

/** Writes the plan's consortium (keys, genesis, TLS material) and starts it. */
export async function startTestNetwork(plan: ConsortiumPlan, o: TestNetworkOptions): Promise<TestNetwork> {
  const dir = mkdtempSync(join(tmpdir(), `tally-${o.prefix}-e2e-`));
  const namespace = uniqueNamespace(o.prefix.slice(0, 1));
  const dbPrefix = `tally_${o.prefix}_${uniqueSuffix()}`;
  const databaseOf = (nodeId: string): string => `${dbPrefix}_${nodeId.replace(/[^a-z0-9]/g, "_")}`;
  const files = writeConsortium(dir, plan, Date.now());
  const clients: TallyClient[] = [];
  const cleanUp = async (net: LocalNetwork | undefined): Promise<void> => {
    for (const c of clients.splice(0)) c.close();
    await net?.stop();
    const bus = await connectBus({ url: testNatsUrl(), name: `${o.prefix}-cleanup` });
    await deleteNamespace(bus.jsm, busNames(namespace)).catch(() => undefined);
    await bus.nc.close();
    for (const n of plan.nodes) await dropDatabase(testPgAdminUrl(), databaseOf(n.id)).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  let net: LocalNetwork;
  try {
    net = await LocalNetwork.start({
      dir,
      plan,
      files,
      natsUrl: testNatsUrl(),
      pgAdminUrl: testPgAdminUrl(),
      namespace,
      databasePrefix: dbPrefix,
      echoLogs: o.echoLogs ?? process.env.TALLY_ECHO_LOGS === "1",
      ...(o.env !== undefined ? { env: o.env } : {}),
      ...(o.sequencersToRun !== undefined ? { sequencersToRun: o.sequencersToRun } : {}),
    });
  } catch (e) {
    await cleanUp(undefined);
    throw e;
  }
  return {
    net,
    plan,
    files,
    dir,
    namespace,
    databaseOf,
    client(id: string): TallyClient {
      const inst = net.endpoints.institutions.find((i) => i.id === id);
      const keyFile = files.keyFiles.get(id);
      if (inst === undefined || keyFile === undefined) throw new Error(`no institution ${id} in the test consortium`);
      const c = new TallyClient(inst.gateway, plan.chainId, signerFromKeyFile(keyFile), gatewayCredentials(files, id));
      clients.push(c);
      return c;
    },
    close: () => cleanUp(net),
  };
}
