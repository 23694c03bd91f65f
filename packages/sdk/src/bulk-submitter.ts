import { Metadata, type ClientDuplexStream } from "@grpc/grpc-js";
import type { GatewayServiceClient, SubmitStreamRequest, SubmitStreamResponse, TxStatus } from "@tally/proto/gateway";
import { TallyError } from "./tally-error.js";
import type { SignedTransaction } from "./transaction.js";

/** The gateway's answer to one streamed submission. */
export interface StreamedAck {
  readonly txId: Uint8Array;
  readonly status: TxStatus;
  readonly duplicate: boolean;
}

/**
 * Submits many transactions over one SubmitStream: far cheaper than a unary call each, for
 * bulk senders. At most inFlightMax are unanswered; submit() waits for room beyond that.
 * A refused transaction rejects its own promise with a TallyError; the others go on.
 */
export class BulkSubmitter {
  private readonly call: ClientDuplexStream<SubmitStreamRequest, SubmitStreamResponse>;
  private readonly pending = new Map<bigint, { resolve: (a: StreamedAck) => void; reject: (e: Error) => void }>();
  private readonly roomWaiters: (() => void)[] = [];
  private nextId = 1n;
  private failure: Error | undefined;
  private readonly ended: Promise<void>;

  constructor(
    client: GatewayServiceClient,
    private readonly inFlightMax = 1024,
  ) {
    this.call = client.submitStream(new Metadata());
    this.call.on("data", (r: SubmitStreamResponse) => {
      const p = this.pending.get(r.correlationId);
      if (p === undefined) return;
      this.pending.delete(r.correlationId);
      if (r.errorCode === 0) p.resolve({ txId: r.txId, status: r.status, duplicate: r.duplicate });
      else p.reject(new TallyError(r.errorCode, r.reason, `${r.reason}: ${r.message}`));
      this.roomWaiters.shift()?.();
    });
    this.ended = new Promise((resolve) => {
      const fail = (e: Error): void => {
        this.failure = e;
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
        for (const w of this.roomWaiters.splice(0)) w();
        resolve();
      };
      this.call.on("error", (e: Error & { code?: number; details?: string }) =>
        fail(new TallyError(e.code ?? 14, "STREAM_FAILED", e.details ?? e.message)),
      );
      this.call.on("end", () => fail(new TallyError(14, "STREAM_ENDED", "the gateway ended the stream")));
    });
  }

  /** Sends one transaction; resolves when the gateway has it durably (or knew it already). */
  async submit(tx: SignedTransaction): Promise<StreamedAck> {
    while (this.pending.size >= this.inFlightMax && this.failure === undefined) await new Promise<void>((r) => this.roomWaiters.push(r));
    if (this.failure !== undefined) throw this.failure;
    const id = this.nextId++;
    const answer = new Promise<StreamedAck>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.call.write({ signedTx: tx.raw, correlationId: id });
    return answer;
  }

  /** Waits for every answer, then closes the stream. */
  async close(): Promise<void> {
    while (this.pending.size > 0 && this.failure === undefined) await new Promise<void>((r) => this.roomWaiters.push(r));
    this.call.end();
    await this.ended;
  }
}
