// Proofs for the SDK, served from this node's verified chain: the blockstore's `blocks` and
// `transactions` tables in the node's database, which the gateway already reads for statuses.
// Nothing here is trusted by the client: it checks every header and path against its genesis.
import { status } from "@grpc/grpc-js";
import type { Kysely } from "kysely";
import type { Database } from "@tally/db";
import type { GatewayServiceGetInclusionProofResponse, GetBlockHeadersResponse } from "@tally/proto/gateway";
import { decodeBlock, decodeSignedTx, inclusionProofFromLeafHashes } from "@tally/ledger";
import { RpcError } from "@tally/rpc";
import { SEES_ALL_ROLE } from "./visibility.js";

/** Most headers one GetBlockHeaders call returns. */
export const HEADERS_PER_CALL_MAX = 1000;

const TX_ID_BYTES = 32;

/** The one answer for a transaction that does not exist and one the caller may not see. */
const noSuchTx = (): RpcError => new RpcError(status.NOT_FOUND, "no such transaction in this node's chain", "NO_SUCH_TX");

/** Reads inclusion proofs and signed headers from the node's database. */
export class ChainProofs {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * A transaction's inclusion proof with its block's signed header, for a caller that signed or
   * co-signed it, is party to one of its events, or is a regulator. A transaction the caller may
   * not see answers exactly like one that is not in the chain (NOT_FOUND / NO_SUCH_TX).
   */
  async inclusionProof(txId: Uint8Array, caller: string, callerRoles: readonly string[]): Promise<GatewayServiceGetInclusionProofResponse> {
    if (txId.byteLength !== TX_ID_BYTES)
      throw new RpcError(status.INVALID_ARGUMENT, `tx_id must be ${TX_ID_BYTES} bytes, got ${txId.byteLength}`, "BAD_TX_ID", {}, "tx_id");
    const t = await this.db.selectFrom("transactions").select(["height", "tx_index", "raw"]).where("tx_id", "=", txId).executeTakeFirst();
    if (t === undefined) throw noSuchTx();
    if (!(callerRoles.includes(SEES_ALL_ROLE) || signedBy(t.raw, caller) || (await this.partyToEvents(txId, caller)))) throw noSuchTx();
    const b = await this.db.selectFrom("blocks").select("raw").where("height", "=", t.height).executeTakeFirst();
    // The blockstore stores a block and its transactions in one database transaction.
    if (b === undefined) throw new Error(`invariant: transaction stored at height ${t.height} without its block`);
    const block = decodeBlock(b.raw);
    return {
      height: t.height,
      leafIndex: t.tx_index,
      treeSize: block.leafHashes.length,
      path: inclusionProofFromLeafHashes(block.leafHashes, t.tx_index),
      signedTx: t.raw,
      header: block.block.header,
      headerSignature: block.block.signature,
    };
  }

  /**
   * Signed headers of consecutive heights from `fromHeight` up to `toHeight` (inclusive), at most
   * HEADERS_PER_CALL_MAX, stopping at the node's highest stored block; with that height.
   */
  async headers(fromHeight: bigint, toHeight: bigint): Promise<GetBlockHeadersResponse> {
    if (toHeight < fromHeight) throw new RpcError(status.INVALID_ARGUMENT, "to_height is below from_height", "BAD_RANGE", {}, "to_height");
    const last = toHeight - fromHeight >= BigInt(HEADERS_PER_CALL_MAX) ? fromHeight + BigInt(HEADERS_PER_CALL_MAX) - 1n : toHeight;
    const [rows, tip] = await Promise.all([
      this.db
        .selectFrom("blocks")
        .select(["height", "header", "signature"])
        .where("height", ">=", fromHeight)
        .where("height", "<=", last)
        .orderBy("height")
        .execute(),
      this.db.selectFrom("blocks").select("height").orderBy("height", "desc").limit(1).executeTakeFirst(),
    ]);
    return { headers: rows, height: tip?.height ?? 0n };
  }

  private async partyToEvents(txId: Uint8Array, caller: string): Promise<boolean> {
    const r = await this.db
      .selectFrom("events")
      .select("position")
      .where("tx_id", "=", txId)
      .where((eb) => eb(eb.val(caller), "=", eb.fn.any("parties")))
      .limit(1)
      .executeTakeFirst();
    return r !== undefined;
  }
}

/** Whether the caller's institution is the body's signer or signed the transaction. */
function signedBy(raw: Uint8Array, caller: string): boolean {
  const d = decodeSignedTx(raw);
  if (!d.ok) return false;
  return d.tx.body.signer?.institutionId === caller || d.tx.signatures.some((s) => s.institutionId === caller);
}
