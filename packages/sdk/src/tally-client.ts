import { credentials, Metadata, type ChannelCredentials, type ServiceError } from "@grpc/grpc-js";
import {
  GatewayServiceClient,
  TxStatus,
  type GetHistoryResponse,
  type GetTxStatusResponse,
  type QueryResponse,
  type SubmitResponse,
  type TxStatusUpdate,
} from "@tally/proto/gateway";
import type { EventCursor } from "@tally/proto/types";
import { canonicalJson, fromUtf8, signTx, toHex, type JsonValue, type TxSigner } from "@tally/ledger";
import { deadlineIn, unary } from "@tally/rpc";
import { BulkSubmitter } from "./bulk-submitter.js";

/** Options for building a transaction. */
export interface TxOptions {
  /** How long the transaction stays valid from now (default 5 minutes). */
  readonly validForMs?: number;
  /** Defaults to a value unique per client instance and call. */
  readonly nonce?: bigint;
  /** Co-signers, for acts that need two parties in the same transaction. */
  readonly coSigners?: readonly TxSigner[];
}

/** A signed transaction ready to submit: its exact bytes and id. */
export interface SignedTransaction {
  readonly raw: Uint8Array;
  readonly id: Uint8Array;
}

/** A failed call, with the gRPC status and Tally's stable reason code. */
export class TallyError extends Error {
  override readonly name = "TallyError";
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

function toTallyError(e: unknown): unknown {
  const se = e as Partial<ServiceError>;
  if (typeof se.code !== "number") return e;
  const reason = String(se.metadata?.get("tally-reason")[0] ?? "");
  return new TallyError(se.code, reason, `${reason || se.code}: ${se.details ?? se.message ?? ""}`);
}

/** One event of an asset's history, as TallyClient.history returns it. */
export interface AssetHistoryEntry {
  readonly height: bigint;
  readonly txId: string;
  readonly type: string;
  readonly assetId: string;
  readonly contract: string;
  readonly parties: readonly string[];
  readonly data: JsonValue;
  readonly blockTimeMs: number;
  /** Every institution that signed the transaction, the body's signer first. */
  readonly signers: readonly string[];
}

/**
 * An institution's client of its gateway: builds and signs transactions, submits them,
 * follows them to COMMITTED, and runs queries.
 */
export class TallyClient {
  private readonly client: GatewayServiceClient;
  private nonceCounter = 0n;

  constructor(
    gatewayAddr: string,
    private readonly chainId: string,
    private readonly signer: TxSigner,
    creds: ChannelCredentials = credentials.createInsecure(),
    private readonly nowMs: () => number = Date.now,
  ) {
    this.client = new GatewayServiceClient(gatewayAddr, creds, { "grpc.max_send_message_length": 1024 * 1024 });
  }

  get institutionId(): string {
    return this.signer.institutionId;
  }

  /** Encodes the body once and signs those exact bytes (with any co-signers too). */
  build(contract: string, action: string, args: unknown, o: TxOptions = {}): SignedTransaction {
    const nonce = o.nonce ?? BigInt(this.nowMs()) * 1_000_000n + this.nonceCounter++;
    return signTx(
      {
        chainId: this.chainId,
        contract,
        action,
        args: new TextEncoder().encode(canonicalJson(args)),
        signer: { institutionId: this.signer.institutionId, keyId: this.signer.keyId },
        nonce,
        validUntilMs: BigInt(this.nowMs() + (o.validForMs ?? 5 * 60_000)),
      },
      [this.signer, ...(o.coSigners ?? [])],
    );
  }

  /** Submits; resolves when the gateway has it durably (ACCEPTED), or with its status if known. */
  async submit(tx: SignedTransaction, timeoutMs = 10_000): Promise<TxStatusUpdate & { duplicate: boolean }> {
    try {
      const r = await unary<SubmitResponse>((md, o, cb) => this.client.submit({ signedTx: tx.raw }, md, o, cb), timeoutMs);
      return { txId: r.txId, status: r.status, height: 0n, result: undefined, duplicate: r.duplicate };
    } catch (e) {
      throw toTallyError(e);
    }
  }

  /** Submits and waits for COMMITTED, calling onUpdate for each step. Resolves with the last update. */
  submitAndWait(tx: SignedTransaction, onUpdate: (u: TxStatusUpdate) => void = () => undefined, waitMs = 30_000): Promise<TxStatusUpdate> {
    return new Promise((resolve, reject) => {
      const call = this.client.submitAndWait({ signedTx: tx.raw, waitMs }, new Metadata(), deadlineIn(waitMs + 5000));
      let last: TxStatusUpdate | undefined;
      call.on("data", (m: { update?: TxStatusUpdate }) => {
        if (m.update === undefined) return;
        last = m.update;
        onUpdate(m.update);
      });
      call.on("error", (e) => reject(toTallyError(e) as Error));
      call.on("end", () => {
        if (last !== undefined && last.status === TxStatus.TX_STATUS_COMMITTED) resolve(last);
        else reject(new Error("stream ended before COMMITTED"));
      });
    });
  }

  async status(txId: Uint8Array): Promise<TxStatusUpdate> {
    try {
      const r = await unary<GetTxStatusResponse>((md, o, cb) => this.client.getTxStatus({ txId }, md, o, cb), 10_000);
      if (r.update === undefined) throw new Error("empty status");
      return r.update;
    } catch (e) {
      throw toTallyError(e);
    }
  }

  /** Runs a contract query; returns the parsed JSON result and the height it was read at. */
  async query<T = unknown>(contract: string, query: string, args: unknown = {}): Promise<{ result: T; height: bigint }> {
    try {
      const r = await unary<QueryResponse>(
        (md, o, cb) => this.client.query({ contract, query, args: new TextEncoder().encode(canonicalJson(args)) }, md, o, cb),
        10_000,
      );
      return { result: JSON.parse(fromUtf8(r.result)) as T, height: r.height };
    } catch (e) {
      throw toTallyError(e);
    }
  }

  /**
   * Everything that ever happened to one asset, in commit order: every event with its height,
   * tx id and signers. Pages through the gateway's GetHistory until done, at most `max` entries.
   */
  async history(contract: string, assetId: string, max = 10_000): Promise<AssetHistoryEntry[]> {
    const out: AssetHistoryEntry[] = [];
    let after: EventCursor | undefined;
    for (;;) {
      let r: GetHistoryResponse;
      try {
        r = await unary<GetHistoryResponse>(
          (md, o, cb) => this.client.getHistory({ contract, assetId, after, limit: 500 }, md, o, cb),
          10_000,
        );
      } catch (e) {
        throw toTallyError(e);
      }
      for (const entry of r.entries) {
        const ev = entry.event;
        if (ev === undefined || ev.cursor === undefined) continue;
        out.push({
          height: ev.cursor.height,
          txId: toHex(ev.txId),
          type: ev.type,
          assetId: ev.assetId,
          contract: ev.contract,
          parties: ev.parties,
          data: JSON.parse(fromUtf8(ev.data)) as JsonValue,
          blockTimeMs: Number(ev.blockTimeMs),
          signers: entry.signers,
        });
        after = ev.cursor;
      }
      if (!r.more || out.length >= max || r.entries.length === 0) return out.slice(0, max);
    }
  }

  /** Opens a SubmitStream for bulk submission (see BulkSubmitter). */
  openStream(inFlightMax = 1024): BulkSubmitter {
    return new BulkSubmitter(this.client, inFlightMax);
  }

  close(): void {
    this.client.close();
  }
}
