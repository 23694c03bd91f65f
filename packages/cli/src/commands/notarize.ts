// `tally notarize <path>` and `tally verify-file <path>` (SCENARIOS.md §9): register a local file's
// sha256 with the notary through the caller's own gateway, and check a registration without
// trusting that gateway: the answer is checked against the transaction's RFC 6962 inclusion proof,
// the block header and the sequencer's signature, and the registrant's own signature, all against
// the genesis file (see @tally/sdk checkNotarization). A receipt (--receipt) lets anyone holding the
// genesis check it later with no network at all.
import { createHash } from "node:crypto";
import { createReadStream, readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { loadGenesis } from "@tally/config";
import { WRITER_ROLES } from "@tally/contracts";
import { TxOutcome } from "@tally/proto/types";
import { checkNotarization, parseNotarizationReceipt, ProofError, TallyError, TrustedChain, type ProvenNotarization } from "@tally/sdk";
import { flag, type Args } from "../args.js";
import { clientFor } from "../clients.js";
import { formatUpdate } from "../format.js";
import { readNetwork } from "../paths.js";

/** The longest title the notary takes (notary.TITLE_LENGTH_MAX). */
const TITLE_MAX = 200;

/** sha256 of a file, read as a stream (files of any size), in lowercase hex. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

type Network = ReturnType<typeof readNetwork>;

// The caller: --as, else TALLY_AS, else the first institution of the network that may write.
function caller(a: Args, net: Network): string {
  const as = flag(a, "as") ?? process.env.TALLY_AS;
  if (as !== undefined) return as;
  const first = net.institutions.find((i) => i.roles.some((r) => WRITER_ROLES.includes(r)));
  if (first === undefined) throw new Error("no institution in the network may register documents; name one with --as");
  return first.id;
}

function describe(p: ProvenNotarization): string[] {
  return [
    `registered by ${p.registrant} (key ${p.keyId})${p.title === "" ? "" : ` as "${p.title}"`}`,
    `at height ${p.height}, block time ${new Date(p.blockTimeMs).toISOString()} (${p.blockTimeMs} ms)`,
    `tx ${p.txId}, leaf ${p.leafIndex} of ${p.treeSize} in block ${p.blockHash} sealed by ${p.sequencerId}`,
  ];
}

/** `tally notarize <path> [--as id] [--title t] [--receipt file] [--network file]`: exit 0 when registered. */
export async function notarize(a: Args, path: string | undefined): Promise<number> {
  if (path === undefined) {
    process.stderr.write(
      "usage: tally notarize <path> [--as <institution>] [--title <title>] [--receipt <file>] [--network <network.json>]\n",
    );
    return 2;
  }
  const hash = await sha256File(path);
  const net = readNetwork(flag(a, "network"));
  const as = caller(a, net);
  const title = (flag(a, "title") ?? basename(path)).slice(0, TITLE_MAX);
  const client = clientFor(net, as, true);
  try {
    console.log(`${path}: sha256 ${hash}`);
    const tx = client.notary.register({ hash, title });
    const last = await client.submitAndWait(tx, (u) => console.log(formatUpdate(u)));
    if (last.result?.outcome !== TxOutcome.TX_OUTCOME_COMMITTED) {
      console.error(`not registered: ${last.result?.reasonCode ?? "UNKNOWN"}: ${last.result?.message ?? "no result"}`);
      return 1;
    }
    console.log(`registered by ${as} at height ${last.height}`);
    const receiptFile = flag(a, "receipt");
    if (receiptFile !== undefined) {
      const r = await client.proveNotarization(hash);
      if (r === null) throw new Error("the gateway does not show the registration just committed");
      writeFileSync(receiptFile, JSON.stringify(r.receipt, null, 2) + "\n");
      console.log(`receipt (checked against genesis) written to ${receiptFile}`);
    }
    return 0;
  } finally {
    client.close();
  }
}

/**
 * `tally verify-file <path> [--as id] [--receipt file [--genesis file]] [--network file]`: exit 0
 * when the file's registration is proven; 1 when it is not registered or a proof fails.
 */
export async function verifyFile(a: Args, path: string | undefined): Promise<number> {
  if (path === undefined) {
    process.stderr.write(
      "usage: tally verify-file <path> [--as <institution>] [--network <network.json>]\n" +
        "       tally verify-file <path> --receipt <file> [--genesis <genesis.json> | --network <network.json>]\n",
    );
    return 2;
  }
  const hash = await sha256File(path);
  console.log(`${path}: sha256 ${hash}`);
  try {
    const proven = flag(a, "receipt") !== undefined ? verifyReceipt(a, hash) : await verifyOnline(a, hash);
    if (proven === null) {
      console.log(`NOT REGISTERED: no notarization of this file's hash`);
      return 1;
    }
    for (const line of describe(proven)) console.log(line);
    console.log("VERIFIED: header signature, Merkle inclusion and the registrant's signature check against the genesis file");
    return 0;
  } catch (e) {
    if (e instanceof ProofError) {
      console.error(`VERIFICATION FAILED: ${e.message}`);
      return 1;
    }
    if (e instanceof TallyError && e.reason === "NO_SUCH_TX") {
      console.error(
        "VERIFICATION FAILED: the gateway serves no inclusion proof of the registration to this institution " +
          "(only to its registrant, its parties and the regulator); ask the registrant for a receipt (tally notarize --receipt)",
      );
      return 1;
    }
    throw e;
  }
}

function verifyReceipt(a: Args, hash: string): ProvenNotarization {
  const genesisFile = flag(a, "genesis") ?? readNetwork(flag(a, "network")).genesisFile;
  const genesis = loadGenesis(genesisFile);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(flag(a, "receipt")!, "utf8"));
  } catch (e) {
    throw new ProofError("PROOF_MALFORMED_RECEIPT", `the receipt is not readable JSON: ${(e as Error).message}`);
  }
  const receipt = parseNotarizationReceipt(json);
  if (receipt.chainId !== genesis.chainId)
    throw new ProofError("PROOF_WRONG_CHAIN", `the receipt is of chain ${receipt.chainId}, the genesis of ${genesis.chainId}`);
  console.log(`checking the receipt offline against ${genesisFile}`);
  return checkNotarization(new TrustedChain(genesis), genesis, hash, receipt.registration, receipt.proof);
}

async function verifyOnline(a: Args, hash: string): Promise<ProvenNotarization | null> {
  const net = readNetwork(flag(a, "network"));
  const as = caller(a, net);
  const client = clientFor(net, as, true);
  try {
    console.log(`asking ${as}'s gateway, trusting only ${net.genesisFile}`);
    return (await client.proveNotarization(hash))?.proven ?? null;
  } finally {
    client.close();
  }
}
