// Steady signed load for the chaos run, in process: transfers from several institutions at a
// fixed rate (open loop) over SubmitStreams to one gateway. Every tx id the gateway answered
// ACCEPTED is kept; those are what the audit holds the network to.
import { toHex } from "@tally/ledger";
import type { ChannelCredentials } from "@grpc/grpc-js";
import { signerFromKeyFile, TallyClient, TallyError, type BulkSubmitter } from "@tally/sdk";

export interface LoadOptions {
  readonly gateway: string;
  readonly chainId: string;
  /** Institution id → key file; each signs its own transfers. */
  readonly keyFiles: ReadonlyMap<string, string>;
  /** The gateway credentials of each account (its mTLS client certificate). */
  readonly credentialsFor: (institution: string) => ChannelCredentials;
  readonly ratePerSec: number;
  /** How many SubmitStreams to spread the load over. */
  readonly streams: number;
}

export interface LoadRun {
  /** Tx ids answered ACCEPTED. */
  readonly acked: Set<string>;
  readonly refusedByReason: Map<string, number>;
  submitted(): number;
  /** Stops submitting, waits (bounded) for outstanding answers, closes the streams. */
  stop(): Promise<{ startMs: number; stopMs: number }>;
}

const IN_FLIGHT_MAX = 4096;

export function startLoad(o: LoadOptions): LoadRun {
  const accounts = [...o.keyFiles.keys()];
  const clients = accounts.map((id) => new TallyClient(o.gateway, o.chainId, signerFromKeyFile(o.keyFiles.get(id)!), o.credentialsFor(id)));
  const streams: BulkSubmitter[] = Array.from({ length: o.streams }, (_, i) => clients[i % clients.length]!.openStream(IN_FLIGHT_MAX));
  const acked = new Set<string>();
  const refusedByReason = new Map<string, number>();
  let sent = 0;
  let inFlight = 0;
  let running = true;
  const startMs = Date.now();

  const one = async (): Promise<void> => {
    const n = sent++;
    const si = n % streams.length;
    // A stream carries only its own institution's transactions (the gateway checks the caller).
    const from = si % clients.length;
    const client = clients[from]!;
    const tx = client.build("cash", "transfer", {
      // Never to itself: the sender's index plus an offset of 1 .. accounts - 1.
      to: accounts[(from + 1 + (Math.floor(n / streams.length) % (accounts.length - 1))) % accounts.length]!,
      amount: "1",
    });
    inFlight++;
    try {
      await streams[si]!.submit(tx);
      acked.add(toHex(tx.id));
    } catch (e) {
      const reason = e instanceof TallyError ? e.reason || String(e.code) : (e as Error).message;
      refusedByReason.set(reason, (refusedByReason.get(reason) ?? 0) + 1);
      // A stream that failed stays failed: open a new one in its place.
      if (reason === "STREAM_FAILED" || reason === "STREAM_ENDED") streams[si] = clients[si % clients.length]!.openStream(IN_FLIGHT_MAX);
    } finally {
      inFlight--;
    }
  };

  const loop = (async () => {
    while (running) {
      const due = Math.floor(((Date.now() - startMs) * o.ratePerSec) / 1000);
      while (sent < due && inFlight < IN_FLIGHT_MAX) void one();
      await new Promise((r) => setTimeout(r, 5));
    }
  })();

  return {
    acked,
    refusedByReason,
    submitted: () => sent,
    stop: async () => {
      running = false;
      await loop;
      const stopMs = Date.now();
      const until = Date.now() + 20_000;
      while (inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      await Promise.race([Promise.all(streams.map((s) => s.close().catch(() => undefined))), new Promise((r) => setTimeout(r, 5000))]);
      for (const c of clients) c.close();
      return { startMs, stopMs };
    },
  };
}
