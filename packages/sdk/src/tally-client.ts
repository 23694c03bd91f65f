import { credentials, Metadata, status, type ChannelCredentials } from "@grpc/grpc-js";
import {
  GatewayServiceClient,
  TxStatus,
  type GetHistoryResponse,
  type GetTxStatusResponse,
  type QueryResponse,
  type SubmitAndWaitResponse,
  type SubmitResponse,
  type TxStatusUpdate,
} from "@tally/proto/gateway";
import type { EventCursor } from "@tally/proto/types";
import { loadGenesis } from "@tally/config";
import { canonicalJson, fromHex, fromUtf8, signTx, toHex, type Genesis, type JsonValue, type TxSigner } from "@tally/ledger";
import { deadlineIn, institutionHeaderInterceptor, unary } from "@tally/rpc";
import { BulkSubmitter } from "./bulk-submitter.js";
import { BillActions } from "./contracts/bill.js";
import { BondActions } from "./contracts/bond.js";
import { CashActions } from "./contracts/cash.js";
import { CharityActions } from "./contracts/charity.js";
import { DataActions } from "./contracts/data.js";
import { CredentialActions } from "./contracts/credential.js";
import { LogisticsActions } from "./contracts/logistics.js";
import { MedicalActions } from "./contracts/medical.js";
import { MembershipActions } from "./contracts/membership.js";
import { NotaryActions } from "./contracts/notary.js";
import { PointsActions } from "./contracts/points.js";
import { ReceivableActions } from "./contracts/receivable.js";
import { TradeActions } from "./contracts/trade.js";
import { WarehouseActions } from "./contracts/warehouse.js";
import { signerFromKeyFile } from "./key-file.js";
import { mtlsCredentials, type MtlsFiles } from "./mtls-credentials.js";
import {
  checkNotarization,
  notarizationReceipt,
  readRegistrationClaim,
  type NotarizationReceipt,
  type ProvenNotarization,
} from "./notarization.js";
import { blockstoreProofSource, gatewayProofSource, type ProofSource } from "./proof-source.js";
import { DEFAULT_RETRY_POLICY, REAL_RETRY_ENV, withRetry, type RetryEnv, type RetryPolicy } from "./retry.js";
import { TallyError, toTallyError } from "./tally-error.js";
import { cosign, type SignedTransaction, type TxOptions } from "./transaction.js";
import { TrustedChain, type VerifiedHeader } from "./trusted-chain.js";

export { TallyError } from "./tally-error.js";
export type { SignedTransaction, TxOptions } from "./transaction.js";

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

/** What the client adds to the positional constructor: retries, a trusted genesis, a proof source. */
export interface TallyClientExtras {
  /** How UNAVAILABLE and RESOURCE_EXHAUSTED are retried (default DEFAULT_RETRY_POLICY). */
  readonly retry?: RetryPolicy;
  /** The retry loop's clock, sleep and randomness (tests). */
  readonly retryEnv?: RetryEnv;
  /** The genesis the client trusts: proofs are checked against it alone. */
  readonly genesis?: Genesis;
  /** Where proofs come from (default: the gateway itself, GetInclusionProof and GetBlockHeaders). */
  readonly proofs?: ProofSource;
  /** Deadline of each unary call (default 10 s). */
  readonly callTimeoutMs?: number;
}

/** How TallyClient.connect reaches a gateway. */
export interface ConnectOptions {
  /** host:port of the institution's gateway. */
  readonly gateway: string;
  /** Mutual TLS material (paths or PEM bytes), or ready credentials. Plaintext only with insecure: true. */
  readonly tls?: MtlsFiles;
  readonly credentials?: ChannelCredentials;
  /** Plaintext, for a loopback gateway in its explicit insecure mode. */
  readonly insecure?: boolean;
  /** The trusted genesis: a path to the genesis file, or the document. Gives the chain id. */
  readonly genesis: string | Genesis;
  /** The signing key: a key file path (mode 0600) or a signer. */
  readonly key: string | TxSigner;
  /** Fetch proofs from this blockstore (host:port) instead of the gateway; the same credentials unless given. */
  readonly blockstore?: { readonly address: string; readonly credentials?: ChannelCredentials };
  readonly retry?: RetryPolicy;
  /** How long connect waits for the channel (TLS handshake included) to be ready (default 10 s). */
  readonly connectTimeoutMs?: number;
}

/** Options of submitAndWait. */
export interface WaitOptions {
  /** Resolve at COMMITTED (default) or wait on for FINAL. */
  readonly until?: "committed" | "final";
  /** Called once per status step, in order, never twice for the same step. */
  readonly onUpdate?: (u: TxStatusUpdate) => void;
  /** The whole wait, retries included (default 30 s). */
  readonly timeoutMs?: number;
  /** How often GetTxStatus is polled for FINAL after COMMITTED (default 250 ms). */
  readonly finalPollMs?: number;
}

const STEP: Readonly<Record<TxStatus, number>> = {
  [TxStatus.TX_STATUS_UNSPECIFIED]: 0,
  [TxStatus.TX_STATUS_UNKNOWN]: 0,
  [TxStatus.TX_STATUS_ACCEPTED]: 1,
  [TxStatus.TX_STATUS_SEQUENCED]: 2,
  [TxStatus.TX_STATUS_COMMITTED]: 3,
  [TxStatus.TX_STATUS_FINAL]: 4,
  [TxStatus.UNRECOGNIZED]: 0,
};

function stepOf(s: TxStatus): number {
  return STEP[s] ?? 0;
}

/**
 * An institution's client of its gateway: builds and signs transactions (with a typed builder
 * per contract action), submits them with automatic retries, follows them to COMMITTED or FINAL,
 * runs queries, reads asset history, and checks inclusion and consistency proofs against the
 * genesis it trusts.
 */
export class TallyClient {
  private readonly client: GatewayServiceClient;
  private nonceCounter = 0n;
  private readonly retry: RetryPolicy;
  private readonly retryEnv: RetryEnv;
  private readonly callTimeoutMs: number;
  private readonly trusted: TrustedChain | undefined;
  private readonly genesis: Genesis | undefined;
  private readonly proofs: ProofSource;

  /** cash: issue, transfer, redeem. */
  readonly cash = new CashActions(this);
  /** notary: register, transfer, license. */
  readonly notary = new NotaryActions(this);
  /** bill: issue, accept, void, endorse, split, discount, pledge, release, pay, dishonour, recourse. */
  readonly bill = new BillActions(this);
  /** receivable: register, confirm, transfer, split, finance, settle. */
  readonly receivable = new ReceivableActions(this);
  /** warehouse: issue, transfer, pledge, repay, release. */
  readonly warehouse = new WarehouseActions(this);
  /** logistics: open, attest, release, refund. */
  readonly logistics = new LogisticsActions(this);
  /** bond: register, subscribe, allot, transfer, coupon, redeem, freeze, unfreeze. */
  readonly bond = new BondActions(this);
  /** trade: listInstrument, lodge, withdraw, placeOrder (hits from the book), cancelOrder. */
  readonly trade = new TradeActions(this, this);
  /** membership: addKey, revokeKey, propose, vote. */
  readonly membership = new MembershipActions(this);
  /** data: register, buy, resell, access. */
  readonly data = new DataActions(this);
  /** points: mint, transfer, envelope, claim, refund, agreeRate, exchange. */
  readonly points = new PointsActions(this);
  /** charity: open, donate, attest, disburse. */
  readonly charity = new CharityActions(this);
  /** medical: anchor, grant, revoke, access. */
  readonly medical = new MedicalActions(this);
  /** credential: issue, revoke. */
  readonly credential = new CredentialActions(this);

  constructor(
    gatewayAddr: string,
    private readonly chainId: string,
    private readonly signer: TxSigner,
    creds: ChannelCredentials = credentials.createInsecure(),
    private readonly nowMs: () => number = Date.now,
    extras: TallyClientExtras = {},
  ) {
    // The institution header names the caller to a gateway in insecure loopback mode; a gateway
    // serving mTLS ignores it (the client certificate decides there).
    this.client = new GatewayServiceClient(gatewayAddr, creds, {
      "grpc.max_send_message_length": 1024 * 1024,
      interceptors: [institutionHeaderInterceptor(signer.institutionId)],
    });
    this.retry = extras.retry ?? DEFAULT_RETRY_POLICY;
    this.retryEnv = extras.retryEnv ?? REAL_RETRY_ENV;
    this.callTimeoutMs = extras.callTimeoutMs ?? 10_000;
    if (extras.genesis !== undefined && extras.genesis.chainId !== chainId)
      throw new Error(`the trusted genesis is of chain ${extras.genesis.chainId}, not ${chainId}`);
    this.trusted = extras.genesis === undefined ? undefined : new TrustedChain(extras.genesis);
    this.genesis = extras.genesis;
    this.proofs =
      extras.proofs ??
      gatewayProofSource(this.client, {
        callTimeoutMs: this.callTimeoutMs,
        retry: this.retry,
        retryEnv: this.retryEnv,
      });
  }

  /**
   * Opens a client over mutual TLS (or plaintext with insecure: true), trusting the given genesis,
   * and waits until the channel is ready: a refused certificate fails here (UNAVAILABLE, CONNECT_FAILED).
   */
  static async connect(o: ConnectOptions): Promise<TallyClient> {
    const genesis = typeof o.genesis === "string" ? loadGenesis(o.genesis) : o.genesis;
    const signer = typeof o.key === "string" ? signerFromKeyFile(o.key) : o.key;
    let creds = o.credentials ?? (o.tls === undefined ? undefined : mtlsCredentials(o.tls));
    if (creds === undefined) {
      if (o.insecure !== true) throw new Error("TallyClient.connect: give tls (or credentials), or insecure: true for a loopback gateway");
      creds = credentials.createInsecure();
    }
    const proofs =
      o.blockstore === undefined
        ? undefined
        : blockstoreProofSource(o.blockstore.address, { credentials: o.blockstore.credentials ?? creds });
    const client = new TallyClient(o.gateway, genesis.chainId, signer, creds, Date.now, {
      genesis,
      ...(proofs === undefined ? {} : { proofs }),
      ...(o.retry === undefined ? {} : { retry: o.retry }),
    });
    try {
      await client.waitForReady(o.connectTimeoutMs ?? 10_000);
    } catch (e) {
      client.close();
      throw e;
    }
    return client;
  }

  /** The institution whose key signs. */
  get institutionId(): string {
    return this.signer.institutionId;
  }

  /** The chain this client trusts, once it has a genesis: the headers it has verified. */
  get trustedChain(): TrustedChain | undefined {
    return this.trusted;
  }

  /** Waits until the channel to the gateway is ready (TLS handshake done). */
  waitForReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.waitForReady(new Date(Date.now() + timeoutMs), (e) =>
        e ? reject(new TallyError(status.UNAVAILABLE, "CONNECT_FAILED", `CONNECT_FAILED: ${e.message}`, { cause: e })) : resolve(),
      ),
    );
  }

  /** Encodes the body once and signs those exact bytes (with any co-signers too). Any contract, args as wire JSON. */
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

  /** Adds this institution's signature to a transaction another party built (a co-signed act). */
  cosign(tx: SignedTransaction): SignedTransaction {
    return cosign(tx, this.signer);
  }

  private withRetry<T>(attempt: () => Promise<T>): Promise<T> {
    return withRetry(attempt, this.retry, this.retryEnv);
  }

  /**
   * Submits; resolves when the gateway has it durably (ACCEPTED), or with its status if known.
   * Retries UNAVAILABLE and RESOURCE_EXHAUSTED with the same bytes: `duplicate` may then be true
   * because an earlier attempt landed. timeoutMs is each attempt's deadline.
   */
  async submit(tx: SignedTransaction, timeoutMs = this.callTimeoutMs): Promise<TxStatusUpdate & { duplicate: boolean }> {
    const r = await this.withRetry(() =>
      unary<SubmitResponse>((md, o, cb) => this.client.submit({ signedTx: tx.raw }, md, o, cb), timeoutMs),
    );
    return { txId: r.txId, status: r.status, height: 0n, result: undefined, duplicate: r.duplicate };
  }

  /**
   * Submits and waits for COMMITTED (until: "committed", the default) or FINAL. Resolves with the
   * last update; a transaction the contract rejected is COMMITTED with result.outcome REJECTED and
   * its reason code. Transient failures resubmit the same bytes. FINAL: the gateway streams on to
   * FINAL; one that never reports it ends the wait in DEADLINE_EXCEEDED / FINALITY_TIMEOUT.
   * The older form submitAndWait(tx, onUpdate, waitMs) still works.
   */
  submitAndWait(tx: SignedTransaction, o?: WaitOptions | ((u: TxStatusUpdate) => void), waitMs?: number): Promise<TxStatusUpdate> {
    const opts: WaitOptions = typeof o === "function" ? { onUpdate: o } : (o ?? {});
    const timeoutMs = opts.timeoutMs ?? waitMs ?? 30_000;
    const until = opts.until ?? "committed";
    const deadline = this.nowMs() + timeoutMs;
    let reported = 0;
    const report = (u: TxStatusUpdate): void => {
      if (stepOf(u.status) <= reported) return;
      reported = stepOf(u.status);
      opts.onUpdate?.(u);
    };
    return (async () => {
      const committed = await this.withRetry(() => this.waitOnce(tx, Math.max(1, deadline - this.nowMs()), report, until === "final"));
      if (until === "committed" || committed.status === TxStatus.TX_STATUS_FINAL) return committed;
      return this.pollFinal(tx.id, committed, deadline, opts.finalPollMs ?? 250, report);
    })();
  }

  // One SubmitAndWait stream: resolves at COMMITTED or FINAL, rejects with the stream's error.
  // With untilFinal the gateway streams on to FINAL (issue 8); an older gateway ends at COMMITTED and FINAL is polled.
  private waitOnce(
    tx: SignedTransaction,
    waitMs: number,
    report: (u: TxStatusUpdate) => void,
    untilFinal: boolean,
  ): Promise<TxStatusUpdate> {
    return new Promise((resolve, reject) => {
      const serverWaitMs = Math.min(waitMs, 0xffff_ffff);
      const call = this.client.submitAndWait(
        { signedTx: tx.raw, waitMs: serverWaitMs, untilFinal },
        new Metadata(),
        deadlineIn(waitMs + 5000),
      );
      let last: TxStatusUpdate | undefined;
      call.on("data", (m: SubmitAndWaitResponse) => {
        if (m.update === undefined) return;
        last = m.update;
        report(m.update);
      });
      call.on("error", (e) => reject(toTallyError(e) as Error));
      call.on("end", () => {
        if (last !== undefined && stepOf(last.status) >= stepOf(TxStatus.TX_STATUS_COMMITTED)) resolve(last);
        else
          reject(
            new TallyError(
              status.UNKNOWN,
              "WAIT_ENDED",
              `WAIT_ENDED: the gateway ended the wait at ${last === undefined ? "no status" : TxStatus[last.status]}`,
            ),
          );
      });
    });
  }

  private async pollFinal(
    txId: Uint8Array,
    committed: TxStatusUpdate,
    deadline: number,
    pollMs: number,
    report: (u: TxStatusUpdate) => void,
  ): Promise<TxStatusUpdate> {
    for (;;) {
      const left = deadline - this.nowMs();
      if (left <= 0) break;
      await this.retryEnv.sleep(Math.min(pollMs, left));
      const u = await this.status(txId);
      report(u);
      if (u.status === TxStatus.TX_STATUS_FINAL) return u;
    }
    throw new TallyError(
      status.DEADLINE_EXCEEDED,
      "FINALITY_TIMEOUT",
      `FINALITY_TIMEOUT: ${toHex(txId)} committed at height ${committed.height} but the gateway reported no FINAL in time (a gateway without finality, issue 8, never does)`,
    );
  }

  /** The current status of a transaction. */
  async status(txId: Uint8Array): Promise<TxStatusUpdate> {
    const r = await this.withRetry(() =>
      unary<GetTxStatusResponse>((md, o, cb) => this.client.getTxStatus({ txId }, md, o, cb), this.callTimeoutMs),
    );
    if (r.update === undefined) throw new TallyError(status.INTERNAL, "EMPTY_STATUS", "EMPTY_STATUS: the gateway answered no status");
    return r.update;
  }

  /** Runs a contract query; returns the parsed JSON result and the height it was read at. */
  async query<T = unknown>(contract: string, query: string, args: unknown = {}): Promise<{ result: T; height: bigint }> {
    const req = { contract, query, args: new TextEncoder().encode(canonicalJson(args)) };
    const r = await this.withRetry(() => unary<QueryResponse>((md, o, cb) => this.client.query(req, md, o, cb), this.callTimeoutMs));
    return { result: JSON.parse(fromUtf8(r.result)) as T, height: r.height };
  }

  /**
   * Everything that ever happened to one asset, in commit order: every event with its height,
   * tx id and signers. Pages through the gateway's GetHistory until done, at most `max` entries.
   */
  async history(contract: string, assetId: string, max = 10_000): Promise<AssetHistoryEntry[]> {
    const out: AssetHistoryEntry[] = [];
    let after: EventCursor | undefined;
    for (;;) {
      const page = { contract, assetId, after, limit: 500 };
      const r = await this.withRetry(() =>
        unary<GetHistoryResponse>((md, o, cb) => this.client.getHistory(page, md, o, cb), this.callTimeoutMs),
      );
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

  private proofTools(): { trusted: TrustedChain; proofs: ProofSource } {
    if (this.trusted === undefined)
      throw new TallyError(status.FAILED_PRECONDITION, "NO_TRUSTED_GENESIS", "NO_TRUSTED_GENESIS: give the client the genesis it trusts");
    return { trusted: this.trusted, proofs: this.proofs };
  }

  /**
   * Fetches a transaction's inclusion proof and checks it against the trusted genesis: header
   * signature, Merkle path, the transaction itself. Resolves with the verified header (now seen);
   * a lie is a ProofError (DATA_LOSS, PROOF_*).
   */
  async proveTx(txId: Uint8Array): Promise<VerifiedHeader> {
    const { trusted, proofs } = this.proofTools();
    return trusted.verifyInclusion(await proofs.inclusionProof(txId), txId);
  }

  /**
   * The registration of a document hash, proven (see checkNotarization): asks the gateway who
   * registered it (the public `notary.registration`), fetches that transaction's inclusion proof
   * and checks both against the trusted genesis. Null when the gateway says the hash is not
   * registered; a lie is a ProofError. The receipt lets anyone with the genesis check it offline.
   */
  async proveNotarization(hash: string): Promise<{ proven: ProvenNotarization; receipt: NotarizationReceipt } | null> {
    const { trusted, proofs } = this.proofTools();
    const answer = (await this.query<unknown>("notary", "registration", { hash })).result;
    if (answer === null) return null;
    const claim = readRegistrationClaim(answer);
    const proof = await proofs.inclusionProof(fromHex(claim.txId));
    const proven = checkNotarization(trusted, this.genesis!, hash, claim, proof);
    return { proven, receipt: notarizationReceipt(this.chainId, claim, proof) };
  }

  /**
   * Checks that the block seen at toHeight extends the one seen at fromHeight, reading and
   * checking every header between (see TrustedChain.verifyConsistency). Both heights must have
   * been seen (e.g. through proveTx): FAILED_PRECONDITION / NOT_SEEN otherwise.
   */
  async proveConsistency(fromHeight: bigint, toHeight: bigint): Promise<void> {
    const { trusted, proofs } = this.proofTools();
    const from = trusted.seenAt(fromHeight);
    const to = trusted.seenAt(toHeight);
    if (from === undefined || to === undefined) {
      const missing = from === undefined ? fromHeight : toHeight;
      throw new TallyError(status.FAILED_PRECONDITION, "NOT_SEEN", `NOT_SEEN: no verified header at height ${missing}`);
    }
    if (from.height === to.height) return trusted.verifyConsistency(from, to, []);
    await trusted.verifyConsistency(from, to, proofs.headers(from.height + 1n, to.height));
  }

  /** Opens a SubmitStream for bulk submission (see BulkSubmitter). */
  openStream(inFlightMax = 1024): BulkSubmitter {
    return new BulkSubmitter(this.client, inFlightMax);
  }

  close(): void {
    this.client.close();
    this.proofs.close();
  }
}
