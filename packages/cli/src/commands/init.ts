import { existsSync } from "node:fs";
import { join } from "node:path";
import { SAMPLE_CONSORTIUM, writeConsortium } from "@tally/testkit";

/** `tally init`: keys (mode 0600) and a genesis file for the sample consortium, unless they exist. */
export function init(dir: string, force: boolean): string {
  const genesisFile = join(dir, "genesis.json");
  if (existsSync(genesisFile) && !force) {
    console.log(`${genesisFile} exists; keeping it (use --force to make a new chain)`);
    return genesisFile;
  }
  const files = writeConsortium(dir, SAMPLE_CONSORTIUM, Date.now());
  console.log(`wrote ${files.genesisFile} and ${files.keyFiles.size} keys under ${join(dir, "keys")}`);
  return files.genesisFile;
}
