// Where a client fetches the material it verifies. The gateway serves no proofs today, so the
// real source is the node's blockstore (GetInclusionProof, StreamBlocks). Nothing fetched here
// is trusted: TrustedChain checks it all.
import { Metadata, type ChannelCredentials } from "@grpc/grpc-js";
import { BlockstoreServiceClient, type GetInclusionProofResponse, type StreamBlocksResponse } from "@tally/proto/blockstore";
import { deadlineIn, unary } from "@tally/rpc";
import { withRetry, DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry.js";
import { toTallyError } from "./tally-error.js";
import type { InclusionProof, SignedHeader } from "./trusted-chain.js";

/** The proofs a client asks a node for. */
export interface ProofSource {
  /** The inclusion proof of a transaction, with the header of its block. */
  inclusionProof(txId: Uint8Array): Promise<InclusionProof>;
  /** Signed headers of heights from..to inclusive, in order. */
  headers(fromHeight: bigint, toHeight: bigint): AsyncIterable<SignedHeader>;
  close(): void;
}

/** Options of a blockstore proof source. */
export interface BlockstoreProofSourceOptions {
  readonly credentials: ChannelCredentials;
  /** Deadline of one GetInclusionProof call (default 10 s). */
  readonly callTimeoutMs?: number;
  /** Deadline of one header stream (default 60 s). */
  readonly streamTimeoutMs?: number;
  readonly retry?: RetryPolicy;
}

/** A ProofSource over a node's BlockstoreService. */
export function blockstoreProofSource(address: string, o: BlockstoreProofSourceOptions): ProofSource {
  const client = new BlockstoreServiceClient(address, o.credentials);
  const callTimeoutMs = o.callTimeoutMs ?? 10_000;
  const streamTimeoutMs = o.streamTimeoutMs ?? 60_000;
  return {
    inclusionProof: (txId) =>
      withRetry(
        () => unary<GetInclusionProofResponse>((md, opts, cb) => client.getInclusionProof({ txId }, md, opts, cb), callTimeoutMs),
        o.retry ?? DEFAULT_RETRY_POLICY,
      ),
    // StreamBlocks sends whole blocks; only their headers and signatures are used. A headers-only
    // RPC would spare the transactions' bytes (see docs/sdk.md).
    async *headers(fromHeight, toHeight) {
      const call = client.streamBlocks({ fromHeight, toHeight }, new Metadata(), deadlineIn(streamTimeoutMs));
      try {
        for await (const m of call as AsyncIterable<StreamBlocksResponse>) {
          if (m.block === undefined) continue;
          yield { header: m.block.header, signature: m.block.signature };
        }
      } catch (e) {
        throw toTallyError(e);
      } finally {
        call.cancel();
      }
    },
    close: () => client.close(),
  };
}
