// Where a client fetches the material it verifies: by default its own gateway
// (GetInclusionProof, GetBlockHeaders), so an institution reaches everything through its one
// mTLS endpoint; a node's blockstore can serve the same. Nothing fetched here is trusted:
// TrustedChain checks it all.
import { Metadata, type ChannelCredentials } from "@grpc/grpc-js";
import { BlockstoreServiceClient, type GetInclusionProofResponse, type StreamBlocksResponse } from "@tally/proto/blockstore";
import type { GatewayServiceClient, GatewayServiceGetInclusionProofResponse, GetBlockHeadersResponse } from "@tally/proto/gateway";
import { deadlineIn, unary } from "@tally/rpc";
import { withRetry, DEFAULT_RETRY_POLICY, REAL_RETRY_ENV, type RetryEnv, type RetryPolicy } from "./retry.js";
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

/** Options of a gateway proof source. */
export interface GatewayProofSourceOptions {
  /** Deadline of each call (default 10 s). */
  readonly callTimeoutMs?: number;
  readonly retry?: RetryPolicy;
  readonly retryEnv?: RetryEnv;
}

/**
 * A ProofSource over the institution's gateway: GetInclusionProof, and GetBlockHeaders page by
 * page (the gateway answers at most 1,000 headers a call). It shares the client's channel, so
 * close() leaves the channel to its owner.
 */
export function gatewayProofSource(client: GatewayServiceClient, o: GatewayProofSourceOptions = {}): ProofSource {
  const callTimeoutMs = o.callTimeoutMs ?? 10_000;
  const retry = o.retry ?? DEFAULT_RETRY_POLICY;
  const env = o.retryEnv ?? REAL_RETRY_ENV;
  return {
    inclusionProof: (txId) =>
      withRetry(
        () =>
          unary<GatewayServiceGetInclusionProofResponse>((md, opts, cb) => client.getInclusionProof({ txId }, md, opts, cb), callTimeoutMs),
        retry,
        env,
      ),
    async *headers(fromHeight, toHeight) {
      let next = fromHeight;
      while (next <= toHeight) {
        const from = next;
        const page = await withRetry(
          () =>
            unary<GetBlockHeadersResponse>(
              (md, opts, cb) => client.getBlockHeaders({ fromHeight: from, toHeight }, md, opts, cb),
              callTimeoutMs,
            ),
          retry,
          env,
        );
        // An empty page means the node has no more: the consistency check then reports the gap.
        if (page.headers.length === 0) return;
        for (const h of page.headers) yield { header: h.header, signature: h.signature };
        next += BigInt(page.headers.length);
      }
    },
    close: () => undefined,
  };
}
