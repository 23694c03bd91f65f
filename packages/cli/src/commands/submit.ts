import { TxOutcome } from "@tally/proto/types";
import { toHex } from "@tally/ledger";
import { clientFor } from "../clients.js";
import { formatUpdate } from "../format.js";
import { readNetwork } from "../paths.js";

/** `tally submit --as <institution> <contract> <action> '<json args>'`: signs, submits, waits for COMMITTED. */
export async function submit(as: string, contract: string, action: string, argsJson: string): Promise<number> {
  let args: unknown;
  try {
    args = JSON.parse(argsJson);
  } catch {
    console.error(`args must be JSON, got: ${argsJson}`);
    return 2;
  }
  const client = clientFor(readNetwork(), as);
  try {
    const tx = client.build(contract, action, args);
    console.log(`tx ${toHex(tx.id)}`);
    const last = await client.submitAndWait(tx, (u) => console.log(formatUpdate(u)));
    return last.result?.outcome === TxOutcome.TX_OUTCOME_COMMITTED ? 0 : 1;
  } finally {
    client.close();
  }
}

/** `tally query --as <institution> <contract> <query> '<json args>'`. */
export async function query(as: string, contract: string, name: string, argsJson: string): Promise<number> {
  const client = clientFor(readNetwork(), as);
  try {
    const r = await client.query(contract, name, JSON.parse(argsJson || "{}"));
    console.log(JSON.stringify({ height: r.height.toString(), result: r.result }, null, 2));
    return 0;
  } finally {
    client.close();
  }
}
