import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { NetworkFile } from "@tally/testkit";

/** The folder a local consortium lives in: TALLY_HOME, else ./.tally. */
export function tallyHome(): string {
  return resolve(process.env.TALLY_HOME ?? ".tally");
}

/** Reads network.json written by `tally up`, with paths made absolute. */
export function readNetwork(path = join(tallyHome(), "network.json")): NetworkFile & { dir: string } {
  if (!existsSync(path)) throw new Error(`${path} not found: start the consortium first with \`npm start\` (or \`tally up\`)`);
  const n = JSON.parse(readFileSync(path, "utf8")) as NetworkFile;
  const dir = dirname(path);
  const abs = (p: string): string => (isAbsolute(p) ? p : join(dir, p));
  return {
    ...n,
    dir,
    genesisFile: abs(n.genesisFile),
    institutions: n.institutions.map((i) => ({
      ...i,
      keyFile: abs(i.keyFile),
      ...(i.tls !== undefined ? { tls: { caFile: abs(i.tls.caFile), certFile: abs(i.tls.certFile), keyFile: abs(i.tls.keyFile) } } : {}),
    })),
    nodes: n.nodes.map((x) => ({ ...x, keyFile: abs(x.keyFile) })),
  };
}
