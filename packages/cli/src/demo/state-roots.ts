// Every validator node executes every block itself; after the demo they must agree. This asks
// each node's executor for its checkpoint until all stand at one height, then compares roots.
import { ExecutorQueryServiceClient, type GetCheckpointResponse } from "@tally/proto/executor";
import { toHex } from "@tally/ledger";
import { insecure, unary } from "@tally/rpc";
import type { readNetwork } from "../paths.js";

type Network = ReturnType<typeof readNetwork>;

/** Waits (up to waitMs) for every node to reach one height; true when all then report one state root. */
export async function compareStateRoots(net: Network, waitMs: number): Promise<boolean> {
  const clients = net.nodes.map((n) => ({ id: n.id, c: new ExecutorQueryServiceClient(n.executor, insecure()) }));
  try {
    const end = Date.now() + waitMs;
    for (;;) {
      const cps = await Promise.all(
        clients.map(async ({ id, c }) => ({
          id,
          cp: await unary<GetCheckpointResponse>((md, o, cb) => c.getCheckpoint({}, md, o, cb), 5000),
        })),
      );
      const heights = new Set(cps.map((x) => x.cp.height));
      if (heights.size === 1 || Date.now() > end) {
        console.log("\nstate roots of the validator nodes:");
        for (const { id, cp } of cps) console.log(`  ${id.padEnd(16)} height ${String(cp.height).padStart(5)}  ${toHex(cp.stateRoot)}`);
        const roots = new Set(cps.map((x) => toHex(x.cp.stateRoot)));
        const same = heights.size === 1 && roots.size === 1;
        console.log(same ? "  every node reached the same state root." : "  !! the nodes disagree");
        return same;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    for (const { c } of clients) c.close();
  }
}
