// One load-generating client process. It signs and submits transactions to one gateway at a
// fixed rate (open loop) or as fast as a fixed window of in-flight calls allows (rate 0), and
// reports each transaction's submit and ACCEPTED times to the parent over IPC.
import { randomBytes } from "node:crypto";
import { credentials } from "@grpc/grpc-js";
import { mtlsChannelCredentials, type TlsFiles } from "@tally/rpc";
import { TallyClient, signerFromKeyFile, TallyError, type SignedTransaction } from "@tally/sdk";
import { TxStatus } from "@tally/proto/gateway";
import { TxOutcome } from "@tally/proto/types";
import { toHex } from "@tally/ledger";

/** What the parent tells a client. */
export interface ClientConfig {
  readonly gateway: string;
  readonly chainId: string;
  /** Key files of the institutions this client signs as. */
  readonly keyFiles: readonly string[];
  /** Each key file's institution's mTLS client files (null: plaintext gateway). */
  readonly tlsFiles: readonly (TlsFiles | null)[];
  /** Every funded account, for transfer destinations. */
  readonly accounts: readonly string[];
  readonly workload: "transfer" | "notarize" | "query" | "mixed" | "bill-lifecycle";
  /** "stream": one SubmitStream per client (bulk senders); "unary": one Submit call per tx. */
  readonly submitMode: "stream" | "unary";
  /** Offered tx/s for this client; 0 for as fast as possible. */
  readonly ratePerSec: number;
  readonly inFlightMax: number;
  readonly durationMs: number;
}

/** One transaction's fate as the client saw it. Times are epoch ms (fractional). */
export interface ClientRecord {
  readonly id: string;
  readonly submitMs: number;
  readonly acceptMs: number;
  /** "" when accepted; else the refusal reason (or gRPC code). */
  readonly error: string;
}

const now = (): number => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.BENCH_CLIENT_CONFIG ?? "{}") as ClientConfig;
  const signers = cfg.keyFiles.map((f) => signerFromKeyFile(f));
  const clients = signers.map((signer, i) => {
    const tls = cfg.tlsFiles[i];
    return new TallyClient(cfg.gateway, cfg.chainId, signer, tls ? mtlsChannelCredentials(tls) : credentials.createInsecure());
  });
  // One stream per institution: a gateway takes on a stream only transactions its caller (the
  // client certificate's institution) signs.
  const perStream = Math.max(16, Math.ceil(cfg.inFlightMax / clients.length));
  const streams =
    cfg.submitMode === "stream" && cfg.workload !== "query" && cfg.workload !== "bill-lifecycle"
      ? clients.map((c) => c.openStream(perStream))
      : undefined;
  const records: ClientRecord[] = [];
  let inFlight = 0;
  let overloaded = 0;
  let sent = 0;

  const one = async (): Promise<void> => {
    const stream = streams?.[sent % clients.length];
    const client = clients[sent % clients.length]!;
    sent++;
    inFlight++;
    const submitMs = now();
    try {
      if (cfg.workload === "query") {
        await client.query("cash", "balance", { account: client.institutionId });
        records.push({ id: "", submitMs, acceptMs: now(), error: "" });
        return;
      }
      const tx = buildTx(client, cfg, sent);
      if (stream !== undefined) await stream.submit(tx);
      else await client.submit(tx);
      records.push({ id: toHex(tx.id), submitMs, acceptMs: now(), error: "" });
    } catch (e) {
      records.push({
        id: "",
        submitMs,
        acceptMs: now(),
        error: refusalOf(e),
      });
    } finally {
      inFlight--;
    }
  };

  // bill-lifecycle: each bill is a chain of acts by different institutions, each submitted once
  // the previous one committed (it needs the state the previous one made).
  let billSeq = 0;
  const billChain = async (): Promise<void> => {
    if (clients.length < 4) throw new Error("bill-lifecycle needs at least 4 accounts per client");
    const n = billSeq++;
    const [a, b, c, d] = [0, 1, 2, 3].map((k) => (n + k) % clients.length);
    const id = `b${process.pid.toString(36)}x${n.toString(36)}`;
    const due = Date.now() + TERM_MS;
    const party = [a, b, c, d] as number[];
    const acts = billActs(id, due, (k) => clients[party[k]!]!.institutionId);
    for (const act of acts) {
      const as = party[act.as]!;
      const coSigners = act.coSigner === undefined ? [] : [signers[party[act.coSigner]!]!];
      const tx = clients[as]!.build("bill", act.action, act.args(), { coSigners });
      const ok = await submitCommitted(clients[as]!, tx);
      if (!ok) return;
    }
  };
  /** Submits, records ACCEPTED, waits for COMMITTED; false when refused or rejected. */
  const submitCommitted = async (client: TallyClient, tx: SignedTransaction): Promise<boolean> => {
    sent++;
    inFlight++;
    const submitMs = now();
    let acceptMs = 0;
    try {
      const u = await client.submitAndWait(tx, {
        onUpdate: (x) => {
          if (x.status === TxStatus.TX_STATUS_ACCEPTED || (acceptMs === 0 && x.status > TxStatus.TX_STATUS_ACCEPTED)) acceptMs ||= now();
        },
      });
      records.push({ id: toHex(tx.id), submitMs, acceptMs: acceptMs || now(), error: "" });
      return u.result?.outcome === TxOutcome.TX_OUTCOME_COMMITTED;
    } catch (e) {
      records.push({
        id: "",
        submitMs,
        acceptMs: now(),
        error: refusalOf(e),
      });
      return false;
    } finally {
      inFlight--;
    }
  };

  process.send?.({ type: "ready" });
  await new Promise<void>((resolve) => process.once("message", () => resolve()));
  const start = now();
  const end = start + cfg.durationMs;
  if (cfg.workload === "bill-lifecycle") {
    // Bills start at rate ÷ acts per bill (open loop), or a fixed number of chains run back to back.
    const chains: Promise<void>[] = [];
    if (cfg.ratePerSec > 0) {
      let started = 0;
      while (now() < end) {
        const due = Math.floor(((now() - start) * cfg.ratePerSec) / 1000 / BILL_ACTS);
        while (started < due) {
          started++;
          if (inFlight >= cfg.inFlightMax) overloaded += BILL_ACTS;
          else chains.push(billChain());
        }
        await new Promise((r) => setTimeout(r, 1));
      }
    } else {
      for (let i = 0; i < cfg.inFlightMax; i++)
        chains.push(
          (async () => {
            while (now() < end) await billChain();
          })(),
        );
    }
    await Promise.all(chains);
  } else if (cfg.ratePerSec > 0) {
    // Open loop: the schedule does not wait for answers. Past inFlightMax the client is the
    // bottleneck, and says so, rather than silently lowering the offered load.
    while (now() < end) {
      const due = Math.floor(((now() - start) * cfg.ratePerSec) / 1000);
      while (sent + overloaded < due) {
        if (inFlight >= cfg.inFlightMax) overloaded++;
        else void one();
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  } else {
    await Promise.all(
      Array.from({ length: cfg.inFlightMax }, async () => {
        while (now() < end) await one();
      }),
    );
  }
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 5));
  await Promise.all((streams ?? []).map((s) => s.close()));
  for (const c of clients) c.close();
  const CHUNK = 5000;
  // Wait for each message to be handed over: disconnecting with messages queued drops them.
  const send = (m: unknown): Promise<void> =>
    new Promise((resolve, reject) => process.send?.(m, undefined, {}, (e) => (e ? reject(e) : resolve())));
  for (let i = 0; i < records.length; i += CHUNK) await send({ type: "records", records: records.slice(i, i + CHUNK) });
  await send({ type: "done", overloaded, startMs: start });
  process.disconnect?.();
}

/** A refused submission's record: its reason code (or gRPC code), else the error's message. */
function refusalOf(e: unknown): string {
  return e instanceof TallyError ? e.reason || String(e.code) : (e as Error).message;
}

/** Bills and receivables in the mixed workload fall due 30 days out. */
const TERM_MS = 30 * 86_400_000;

/**
 * The transaction for the n-th send. `mixed` rotates through 20 slots: 10 cash transfers,
 * 4 notarizations, 3 bill issues and 3 receivable registrations, each with fresh ids.
 */
function buildTx(client: TallyClient, cfg: ClientConfig, n: number) {
  const me = client.institutionId;
  const kind = cfg.workload === "mixed" ? MIX[n % MIX.length]! : cfg.workload;
  switch (kind) {
    case "transfer":
      return client.build("cash", "transfer", { to: pickOther(cfg.accounts, me), amount: "1" });
    case "notarize":
      return client.build("notary", "register", { hash: randomBytes(32).toString("hex"), title: "bench document" });
    case "bill":
      return client.build("bill", "issue", {
        id: `b${randomBytes(12).toString("hex")}`,
        payee: pickOther(cfg.accounts, me),
        acceptor: pickOther(cfg.accounts, me),
        amount: "100000",
        dueMs: Date.now() + TERM_MS,
      });
    default: {
      const id = `r${randomBytes(12).toString("hex")}`;
      return client.build("receivable", "register", {
        id,
        debtor: pickOther(cfg.accounts, me),
        amount: "100000",
        dueMs: Date.now() + TERM_MS,
        invoiceRef: `INV-${id}`,
      });
    }
  }
}

/** The acts of one bill's life, by party (0 drawer, 1 payee, 2 acceptor, 3 discounting bank). */
function billActs(id: string, dueMs: number, party: (k: number) => string) {
  const [drawer, payee, acceptor, bank] = [0, 1, 2, 3].map(party);
  return [
    { as: 0, action: "issue", args: () => ({ id, payee, acceptor, amount: "100000", dueMs }) },
    { as: 2, action: "accept", args: () => ({ id }) },
    { as: 0, action: "endorse", args: () => ({ id, to: payee }) },
    { as: 1, action: "split", args: () => ({ id, amounts: ["60000", "40000"] }) },
    { as: 1, action: "discount", args: () => ({ id: `${id}.1`, bank, rateBp: 300 }), coSigner: 3 },
    { as: 1, action: "endorse", args: () => ({ id: `${id}.2`, to: drawer }) },
  ] as { as: number; action: string; args: () => unknown; coSigner?: number }[];
}
const BILL_ACTS = 6;

const MIX = [
  ...Array<"transfer">(10).fill("transfer"),
  ...Array<"notarize">(4).fill("notarize"),
  ...Array<"bill">(3).fill("bill"),
  ...Array<"receivable">(3).fill("receivable"),
] as const;

function pickOther(accounts: readonly string[], self: string): string {
  for (;;) {
    // A benchmark's own randomness: contracts never see it, only which account gets paid.
    const a = accounts[Math.floor(Math.random() * accounts.length)]!;
    if (a !== self) return a;
  }
}

main().catch((e: unknown) => {
  console.error(`load client failed: ${(e as Error).message}`);
  process.exit(1);
});
