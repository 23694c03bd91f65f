#!/usr/bin/env node
// The `tally` command.
import { parseArgs, flag } from "./args.js";
import { bench } from "./commands/bench.js";
import { chaos } from "./commands/chaos.js";
import { demo } from "./commands/demo.js";
import { init } from "./commands/init.js";
import { query, submit } from "./commands/submit.js";
import { up } from "./commands/up.js";
import { parseCursor, watch } from "./commands/watch.js";
import { tallyHome } from "./paths.js";

const USAGE = `usage: tally <command>

  init [--force]                                   keys and genesis for the sample consortium (in $TALLY_HOME or .tally)
  up                                               start the local consortium (what \`npm start\` runs)
  submit --as <institution> <contract> <action> '<json args>'
                                                   sign, submit and wait for COMMITTED
  query --as <institution> <contract> <query> '<json args>'
  watch [--after h:t:e] [--contract name]          follow the regulator feed
  demo                                             drive a scenario through the gateways, with the feed live
  bench [--workload transfer|notarize|query] [--rate N|max] [--duration s] [--nodes n] [--clients k]
        [--submit stream|unary] [--json]
                                                   start a network and measure it (npm run bench)
  chaos [--kills N] [--interval-ms ms] [--rate N] [--rows [file]] [--json] [--nats-cluster [--nats-kills K]]
                                                   SIGKILL the master sequencer N times under load, then
                                                   audit: nothing lost, nothing twice, no fork (npm run chaos)
`;

async function main(argv: string[]): Promise<number> {
  const a = parseArgs(argv);
  const [cmd, ...rest] = a.positional;
  switch (cmd) {
    case "init":
      init(tallyHome(), a.flags.has("force"));
      return 0;
    case "up":
      await up(tallyHome());
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
    case "watch": {
      const c = flag(a, "contract");
      return watch({ after: parseCursor(flag(a, "after")), contracts: c === undefined ? [] : [c] });
    }
    case "demo":
      return demo();
    case "bench":
      return bench(a);
    case "chaos":
      return chaos(a);
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
