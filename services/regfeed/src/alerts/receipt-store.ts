// Receipts other nodes published on RECEIPTS, kept for the divergence rule and VerifyChain. Only
// receipts of this chain, from a genesis validator, with a valid signature by its key are kept.
import type { Kysely } from "kysely";
import type { Database } from "@tally/db";
import { ed25519Verify, fromHex, type Genesis } from "@tally/ledger";
import { Receipt, ReceiptBody } from "@tally/proto/types";

/** Why a receipt was not kept, or "stored". */
export type ReceiptOutcome = "stored" | "malformed" | "wrong-chain" | "unknown-validator" | "bad-signature";

/** Verifies and stores receipts. */
export class ReceiptStore {
  private readonly keys: Map<string, Uint8Array>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly genesis: Pick<Genesis, "chainId" | "validators">,
    private readonly onStored: (height: bigint) => void,
  ) {
    this.keys = new Map(genesis.validators.map((v) => [v.nodeId, fromHex(v.publicKey)]));
  }

  /** Checks one encoded Receipt and stores it (a second copy of the same node and height is a no-op). */
  async add(bytes: Uint8Array): Promise<ReceiptOutcome> {
    let body: ReceiptBody;
    let r: Receipt;
    try {
      r = Receipt.decode(bytes);
      body = ReceiptBody.decode(r.body);
    } catch {
      return "malformed";
    }
    if (body.chainId !== this.genesis.chainId) return "wrong-chain";
    const key = this.keys.get(body.nodeId);
    if (key === undefined) return "unknown-validator";
    if (!ed25519Verify(key, r.body, r.signature)) return "bad-signature";
    await this.db
      .insertInto("node_receipts")
      .values({ node_id: body.nodeId, height: body.height, block_hash: body.blockHash, state_root: body.stateRoot })
      .onConflict((c) => c.columns(["height", "node_id"]).doNothing())
      .execute();
    this.onStored(body.height);
    return "stored";
  }
}
