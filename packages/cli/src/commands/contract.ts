// `tally contract deploy`: proposes a user contract (docs/user-contracts.md) to governance. The
// code is checked locally first (it compiles, its declarations are well formed), then submitted
// with its sha256 as a deploy-contract proposal; members vote on it as on any proposal.
import { readFileSync } from "node:fs";
import { TxOutcome } from "@tally/proto/types";
import { codeHash, isRejection, MEMBERSHIP_CONTRACT, USER_CODE_LENGTH_MAX, parseUserContractIndex } from "@tally/contracts";
import { toHex, type JsonValue } from "@tally/ledger";
import { readManifest } from "@tally/user-contracts";
import { flag, intFlag, type Args } from "../args.js";
import { clientFor } from "../clients.js";
import { formatUpdate } from "../format.js";
import { readNetwork } from "../paths.js";

const DAY_MS = 24 * 60 * 60 * 1000;

/** The deploy-contract change for a code: what the proposal carries. */
export function deployChange(name: string, version: number, code: string): JsonValue {
  return { kind: "deploy-contract", name, version, sha256: codeHash(code), code };
}

/**
 * `tally contract deploy --as <institution> --name <name> <file> [--version n] [--proposal id]
 * [--expires-days d] [--network <network.json>]`. Without --version, the next version after the chain's latest.
 */
export async function contractCommand(sub: string | undefined, file: string | undefined, a: Args): Promise<number> {
  const as = flag(a, "as");
  const name = flag(a, "name");
  if (sub !== "deploy" || file === undefined || as === undefined || name === undefined) {
    console.error(
      "usage: tally contract deploy --as <institution> --name <name> <file.js> [--version n] [--proposal id] [--expires-days d]",
    );
    return 2;
  }
  const code = readFileSync(file, "utf8");
  if (code.length > USER_CODE_LENGTH_MAX) {
    console.error(`${file} holds ${code.length} characters; a contract holds at most ${USER_CODE_LENGTH_MAX}`);
    return 2;
  }
  const manifest = await readManifest(code);
  if (isRejection(manifest)) {
    console.error(`${file}: ${manifest.code}: ${manifest.message}`);
    return 2;
  }
  const client = clientFor(readNetwork(flag(a, "network")), as);
  try {
    let version = intFlag(a, "version", 0, 0, 1_000_000);
    if (version === 0) {
      const r = await client.query(MEMBERSHIP_CONTRACT, "user-contracts", {});
      version =
        (parseUserContractIndex(r.result as JsonValue)
          .get(name)
          ?.at(-1)?.version ?? 0) + 1;
    }
    const proposal = flag(a, "proposal", `deploy-${name}-v${version}`)!;
    const expiresAtMs = Date.now() + intFlag(a, "expires-days", 7, 1, 30) * DAY_MS;
    const change = deployChange(name, version, code);
    console.log(`proposing ${name} v${version}, sha256 ${codeHash(code)}, actions ${[...manifest.actions.keys()].join(", ")}`);
    const tx = client.build(MEMBERSHIP_CONTRACT, "propose", { id: proposal, expiresAtMs, change });
    console.log(`tx ${toHex(tx.id)}`);
    const last = await client.submitAndWait(tx, (u) => console.log(formatUpdate(u)));
    if (last.result?.outcome !== TxOutcome.TX_OUTCOME_COMMITTED) return 1;
    console.log(`proposal ${proposal}: other members vote with`);
    console.log(`  tally submit --as <institution> membership vote '{"proposal":"${proposal}","vote":"yes"}'`);
    return 0;
  } finally {
    client.close();
  }
}
