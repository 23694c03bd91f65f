// `tally node snapshot|restore|resolve|status` (issue 8): a node's state snapshot, its import
// into a wiped node, an operator's resolution of a divergence, and where a node stands.
import { credentials } from "@grpc/grpc-js";
import { ExecutorQueryServiceClient, type GetCheckpointResponse } from "@tally/proto/executor";
import { loadGenesis, loadKeyFile } from "@tally/config";
import { migrateToLatest, openDb } from "@tally/db";
import { resolveDivergences, restoreSnapshot, writeSnapshot } from "@tally/executor";
import { toHex } from "@tally/ledger";
import { unary } from "@tally/rpc";
import { flag, type Args } from "../args.js";
import { readNetwork } from "../paths.js";

const NODE_USAGE = `usage: tally node <snapshot|restore|resolve|status> --node <id> [--network <network.json>]
  snapshot --node <id> [--out file]       the node's state at its checkpoint, signed, with a quorum of receipts
  restore  --node <id> --from file        import a snapshot into the node's empty database (its executor stopped)
  resolve  --node <id> --by <operator> [--note text]
                                          mark the node's divergence records resolved (after a rebuild or restore)
  status   --node <id>                    checkpoint, final height, finality lag, blocks behind, diverged
`;

function networkNode(a: Args) {
  const net = readNetwork(flag(a, "network"));
  const id = flag(a, "node");
  const node = net.nodes.find((n) => n.id === id);
  if (node === undefined) throw new Error(`--node must name one of ${net.nodes.map((n) => n.id).join(", ")}`);
  return { net, node, genesis: loadGenesis(net.genesisFile) };
}

/** Runs a `tally node` subcommand; returns the exit code. */
export async function nodeCommand(sub: string | undefined, a: Args): Promise<number> {
  switch (sub) {
    case "snapshot": {
      const { node, genesis } = networkNode(a);
      const out = flag(a, "out", `${node.id}.snapshot`)!;
      const db = openDb(node.database, { poolMax: 2 });
      try {
        const t0 = performance.now();
        const h = await writeSnapshot(db, { genesis, nodeId: node.id, key: loadKeyFile(node.keyFile).key, path: out });
        console.log(
          `snapshot of ${node.id} at height ${h.height}: ${h.stateEntries} state entries, ${h.txResults} tx results, state root ${h.stateRoot}, ` +
            `${h.receipts.length} validator receipts → ${out} (${Math.round(performance.now() - t0)} ms)`,
        );
        return 0;
      } finally {
        await db.destroy();
      }
    }
    case "restore": {
      const { node, genesis } = networkNode(a);
      const from = flag(a, "from");
      if (from === undefined) break;
      const db = openDb(node.database, { poolMax: 2 });
      try {
        await migrateToLatest(db);
        const t0 = performance.now();
        const h = await restoreSnapshot(db, genesis, from);
        console.log(
          `restored ${node.id} from ${h.nodeId}'s snapshot at height ${h.height} (state root ${h.stateRoot}, confirmed by ${h.receipts.length} validators): ` +
            `${h.stateEntries} state entries in ${Math.round(performance.now() - t0)} ms; its executor continues from height ${BigInt(h.height) + 1n}`,
        );
        return 0;
      } finally {
        await db.destroy();
      }
    }
    case "resolve": {
      const { node } = networkNode(a);
      const by = flag(a, "by");
      if (by === undefined) break;
      const db = openDb(node.database, { poolMax: 1 });
      try {
        const n = await resolveDivergences(db, by, flag(a, "note", "")!, Date.now());
        console.log(`${n} divergence record(s) of ${node.id} resolved by ${by}`);
        return 0;
      } finally {
        await db.destroy();
      }
    }
    case "status": {
      const { node } = networkNode(a);
      const c = new ExecutorQueryServiceClient(node.executor, credentials.createInsecure());
      try {
        const cp = await unary<GetCheckpointResponse>((md, o, cb) => c.getCheckpoint({}, md, o, cb), 5000);
        console.log(
          JSON.stringify(
            {
              node: node.id,
              height: cp.height.toString(),
              stateRoot: toHex(cp.stateRoot),
              finalHeight: cp.finalHeight.toString(),
              finalityLagMs: cp.finalityLagMs.toString(),
              finalityLagMsMedian: cp.finalityLagMsMedian.toString(),
              chainHeight: cp.chainHeight.toString(),
              blocksBehind: cp.blocksBehind.toString(),
              diverged: cp.diverged,
            },
            null,
            2,
          ),
        );
        return cp.diverged ? 1 : 0;
      } finally {
        c.close();
      }
    }
    default:
      break;
  }
  process.stderr.write(NODE_USAGE);
  return 2;
}
