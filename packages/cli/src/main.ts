#!/usr/bin/env node
// The `tally` command.
import { parseArgs, flag } from "./args.js";
import { audit } from "./commands/audit.js";
import { bench } from "./commands/bench.js";
import { busCommand } from "./commands/bus.js";
import { chaos } from "./commands/chaos.js";
import { contractCommand } from "./commands/contract.js";
import { dbCommand } from "./commands/db.js";
import { demo } from "./commands/demo.js";
import { init } from "./commands/init.js";
import { keysCommand } from "./commands/keys.js";
import { nodeCommand } from "./commands/node.js";
import { notarize, verifyFile } from "./commands/notarize.js";
import { query, submit } from "./commands/submit.js";
import { up } from "./commands/up.js";
import { parseCursor, watch } from "./commands/watch.js";
import { tallyHome } from "./paths.js";

const USAGE = `usage: tally <command>

  init [--force]                                   keys and genesis for the sample consortium (in $TALLY_HOME or .tally)
  up [--nats-tls]                                  start the local consortium (what \`npm start\` runs);
                                                   --nats-tls: its nats-server accepts TLS only
  submit --as <institution> <contract> <action> '<json args>'
                                                   sign, submit and wait for COMMITTED
  query --as <institution> <contract> <query> '<json args>'
  contract deploy --as <institution> --name <name> <file.js> [--version n] [--proposal id] [--expires-days d]
                                                   propose a user contract to governance (docs/user-contracts.md)
  watch [--after h:t:e | --from-start] [--contract name] [--min-amount n] [--no-alerts]
                                                   follow the regulator feed and its alerts, resuming
                                                   from the position saved in $TALLY_HOME/watch-cursor.json
  demo                                             drive a scenario through the gateways, with the feed live
  notarize <path> [--as <institution>] [--title t] [--receipt <file>]
                                                   register the file's sha256 with the notary through the
                                                   caller's gateway (.tally/network.json unless --network)
  verify-file <path> [--as <institution>] | [--receipt <file> [--genesis <file>]]
                                                   prove who registered the file and when, checking the
                                                   inclusion proof and signatures against genesis only
  bench [--workload transfer|notarize|query|mixed|feed] [--rate N|max] [--duration s] [--nodes n] [--clients k]
        [--submit stream|unary] [--feed N [--feed-batch B]] [--json]
                                                   start a network and measure it (npm run bench)
  bench --gateway [--duration s] [--clients k] [--verify-workers n] [--submit stream|unary] [--json]
                                                   the gateway alone over mTLS: accepted tx/s, p50/p99,
                                                   beside the same-core Ed25519 verify rate
  bench --fuzz [--cases N] [--seed S]              the seeded SignedTx fuzz loop (100k cases), cases/s
  bench --sandbox [--duration s] [--block-size n] [--json]
                                                   user contract calls/s in the sandbox vs the built-in
  chaos [--kills N] [--interval-ms ms] [--rate N] [--rows [file]] [--json] [--nats-cluster [--nats-kills K]]
                                                   SIGKILL the master sequencer N times under load, then
                                                   audit: nothing lost, nothing twice, no fork (npm run chaos)
  node snapshot|restore|resolve|status --node <id> a node's state snapshot and its import into a wiped node,
                                                   resolving a divergence, finality lag and blocks behind
  audit --node <id> [--json]                       check the node's database against the chain; names the
                                                   first row that does not match, exits 1 if any
  keys rotate --as <institution> [--key-id id] [--network f]
                                                   replace the institution's signing key: add-key, switch
                                                   the key file, revoke the old key (docs/security.md)
  bus users [--genesis f] [--namespace ns] [--hosts "node:inst,inst ..."] [--client-maps dir]
            [--k8s dir [--dev-passwords] [--nats-servers host:port,...] [--force]] | bus setup
                                                   per-role NATS users from the genesis (printed, or the
                                                   Kubernetes include and Secrets); the stream setup as
                                                   admin (docs/security.md)
  db roles [--database name] | db roles --apply     a node database's roles: writer, read-only gateway
                                                   (SQL printed, or migrated and applied as admin)
`;

async function main(argv: string[]): Promise<number> {
  const a = parseArgs(argv);
  const [cmd, ...rest] = a.positional;
  switch (cmd) {
    case "init":
      init(tallyHome(), a.flags.has("force"));
      return 0;
    case "up":
      await up(tallyHome(), { natsTls: a.flags.has("nats-tls") });
      return 0;
    case "submit": {
      const as = flag(a, "as");
      if (as === undefined || rest.length < 2) break;
      return submit(as, rest[0]!, rest[1]!, rest[2] ?? "{}");
    }
    case "query": {
      const as = flag(a, "as");
      if (as === undefined || rest.length < 2) break;
      return query(as, rest[0]!, rest[1]!, rest[2] ?? "{}");
    }
    case "contract":
      return contractCommand(rest[0], rest[1], a);
    case "watch": {
      const c = flag(a, "contract");
      const after = parseCursor(flag(a, "after"));
      const minAmount = flag(a, "min-amount");
      return watch({
        ...(after === undefined ? {} : { after }),
        fromStart: a.flags.has("from-start"),
        contracts: c === undefined ? [] : [c],
        ...(minAmount === undefined ? {} : { minAmount }),
        alerts: !a.flags.has("no-alerts"),
      });
    }
    case "demo":
      return demo();
    case "notarize":
      return notarize(a, rest[0]);
    case "verify-file":
      return verifyFile(a, rest[0]);
    case "bench":
      return bench(a);
    case "chaos":
      return chaos(a);
    case "node":
      return nodeCommand(rest[0], a);
    case "audit":
      return audit(a);
    case "bus":
      return busCommand(rest[0], a);
    case "db":
      return dbCommand(rest[0], a);
    case "keys":
      return keysCommand(rest[0], a);
    default:
      break;
  }
  process.stderr.write(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`tally: ${(e as Error).message}`);
    process.exit(1);
  },
);
