import { status, type ServerWritableStream } from "@grpc/grpc-js";
import { BlockstoreServiceService } from "@tally/proto/blockstore";
import type { StreamBlocksRequest, StreamBlocksResponse } from "@tally/proto/blockstore";
import { decodeBlock, inclusionProofFromLeafHashes } from "@tally/ledger";
import { drainedOrAborted, RpcError, wrapService } from "@tally/rpc";
import type { BlockStore } from "./block-store.js";

const STREAM_PAGE_BLOCKS = 32;
const TX_ID_BYTES = 32;

/** Waits until the store may have a block above height (a notice, or a poll interval). */
export type HeightWaiter = (aboveHeight: bigint, signal: AbortSignal) => Promise<void>;

function checkTxId(id: Uint8Array): void {
  if (id.byteLength !== TX_ID_BYTES)
    throw new RpcError(status.INVALID_ARGUMENT, `tx_id must be ${TX_ID_BYTES} bytes, got ${id.byteLength}`, "BAD_TX_ID");
}

/** The gRPC BlockstoreService over a BlockStore. */
export function blockstoreService(store: BlockStore, chainId: string, waitForHeight: HeightWaiter) {
  return wrapService(BlockstoreServiceService, {
    getBlock: async (req: { height: bigint }) => {
      const raw = await store.blockAt(req.height);
      if (raw === undefined) throw new RpcError(status.NOT_FOUND, `no block at height ${req.height}`, "NO_SUCH_BLOCK");
      const b = decodeBlock(raw);
      return { block: b.block, header: b.header, blockHash: b.hash };
    },
    getTx: async (req: { txId: Uint8Array }) => {
      checkTxId(req.txId);
      const t = await store.txById(req.txId);
      if (t === undefined) throw new RpcError(status.NOT_FOUND, "no such transaction", "NO_SUCH_TX");
      return { signedTx: t.raw, height: t.height, index: t.tx_index };
    },
    getInclusionProof: async (req: { txId: Uint8Array }) => {
      checkTxId(req.txId);
      const t = await store.txById(req.txId);
      if (t === undefined) throw new RpcError(status.NOT_FOUND, "no such transaction", "NO_SUCH_TX");
      const raw = await store.blockAt(t.height);
      if (raw === undefined) throw new RpcError(status.INTERNAL, `block ${t.height} missing`, "INTERNAL");
      const b = decodeBlock(raw);
      return {
        height: t.height,
        leafIndex: t.tx_index,
        treeSize: b.leafHashes.length,
        path: inclusionProofFromLeafHashes(b.leafHashes, t.tx_index),
        signedTx: t.raw,
        header: b.block.header,
        headerSignature: b.block.signature,
      };
    },
    streamBlocks: async (req: StreamBlocksRequest, call: ServerWritableStream<StreamBlocksRequest, StreamBlocksResponse>) => {
      if (req.toHeight !== 0n && req.toHeight < req.fromHeight)
        throw new RpcError(status.INVALID_ARGUMENT, "to_height is below from_height", "BAD_RANGE");
      const ac = new AbortController();
      call.on("cancelled", () => ac.abort());
      call.on("close", () => ac.abort());
      let next = req.fromHeight;
      while (!ac.signal.aborted) {
        const page = await store.blocksFrom(next, STREAM_PAGE_BLOCKS);
        for (const p of page) {
          if (req.toHeight !== 0n && p.height > req.toHeight) return;
          const ok = call.write({ block: decodeBlock(p.raw).block });
          next = p.height + 1n;
          // Respect the client's flow control: wait for the stream to drain. A cancelled call
          // never drains, so the abort ends the wait too (else the handler hangs forever).
          if (!ok) await drainedOrAborted(call, ac.signal);
          if (ac.signal.aborted) return;
        }
        if (req.toHeight !== 0n && next > req.toHeight) return;
        if (page.length < STREAM_PAGE_BLOCKS) await waitForHeight(next - 1n, ac.signal);
      }
    },
    getChainInfo: async () => {
      const tip = await store.tip();
      return { chainId, height: tip?.height ?? 0n, headHash: tip?.hash ?? new Uint8Array(0) };
    },
  });
}
