// `tally audit --node <id>` (issue 8): checks the node's own database against the chain and names
// the first row that does not match. Exit 0 when everything matches, 1 otherwise.
import { availableParallelism } from "node:os";
import { loadGenesis } from "@tally/config";
import { builtinContracts } from "@tally/contracts";
import { UserContractRegistry } from "@tally/user-contracts";
import { openDb } from "@tally/db";
import { auditNode, VerifyPool } from "@tally/executor";
import { flag, type Args } from "../args.js";
import { readNetwork } from "../paths.js";

/** Runs the audit of one node; returns the exit code. */
export async function audit(a: Args): Promise<number> {
  const net = readNetwork(flag(a, "network"));
  const id = flag(a, "node");
  const node = net.nodes.find((n) => n.id === id);
  if (node === undefined) {
    process.stderr.write(
      `usage: tally audit --node <id> [--network <network.json>] [--json]\n  --node must name one of ${net.nodes.map((n) => n.id).join(", ")}\n`,
    );
    return 2;
  }
  const genesis = loadGenesis(net.genesisFile);
  const db = openDb(node.database, { poolMax: 4 });
  const verifier = new VerifyPool({ workers: Math.max(1, availableParallelism()) });
  try {
    const t0 = performance.now();
    const r = await auditNode(db, { genesis, contracts: builtinContracts, userContracts: await UserContractRegistry.create(), verifier });
    const ms = Math.round(performance.now() - t0);
    if (a.flags.has("json")) {
      console.log(
        JSON.stringify({
          node: node.id,
          ok: r.findings.length === 0,
          ms,
          blocks: r.blocks,
          txs: r.txs,
          txResults: r.txResults,
          events: r.events,
          stateEntries: r.stateEntries,
          finalHeightsChecked: r.finalHeightsChecked,
          replayedToHeight: r.replayedToHeight.toString(),
          restoredAt: r.restoredAt?.toString() ?? null,
          findings: r.findings,
        }),
      );
    } else {
      console.log(
        `audit of ${node.id}: ${r.blocks} blocks, ${r.txs} transactions, ${r.txResults} tx results, ${r.events} events, ` +
          `${r.stateEntries} state entries, replayed to height ${r.replayedToHeight}, ${r.finalHeightsChecked} state roots against the quorum` +
          (r.restoredAt === undefined ? "" : ` (restored from a snapshot at ${r.restoredAt})`) +
          ` in ${ms} ms`,
      );
      const first = r.findings[0];
      if (first === undefined) console.log("OK: every row matches the chain");
      else {
        console.log(`MISMATCH: first row that does not match: ${first.table} ${first.row}: ${first.check}: ${first.detail}`);
        for (const f of r.findings.slice(1)) console.log(`  also: ${f.table} ${f.row}: ${f.check}: ${f.detail}`);
      }
    }
    return r.findings.length === 0 ? 0 : 1;
  } finally {
    await verifier.close();
    await db.destroy();
  }
}
