// Fetches blocks the BLOCKS stream no longer keeps from other nodes' blockstores over StreamBlocks.
// Nothing from a peer is trusted: runBlockstore verifies every block (link, tx root, sequencer
// signature) exactly as it verifies blocks from the stream.
import { credentials } from "@grpc/grpc-js";
import { BlockstoreServiceClient, type StreamBlocksResponse } from "@tally/proto/blockstore";
import { Block } from "@tally/proto/types";
import type { BlockBackfill } from "@tally/bus";
import { decodeBlock, type SealedBlock } from "@tally/ledger";
import type { Logger } from "@tally/telemetry";

/** How long one peer may stay silent before the next one is tried. */
const PEER_IDLE_MS = 10_000;

/** A backfill over peers' StreamBlocks, trying each address in turn (and again) until the range is complete or attempts run out. */
export function peerBackfill(addrs: readonly string[], log: Logger, attemptsMax = 3 * Math.max(1, addrs.length)): BlockBackfill {
  return async function* (fromHeight: bigint, toHeight: bigint): AsyncGenerator<SealedBlock> {
    let next = fromHeight;
    for (let attempt = 0; next <= toHeight && attempt < attemptsMax; attempt++) {
      const addr = addrs[attempt % addrs.length];
      if (addr === undefined) break;
      const client = new BlockstoreServiceClient(addr, credentials.createInsecure());
      const call = client.streamBlocks({ fromHeight: next, toHeight });
      let idle: NodeJS.Timeout | undefined;
      const arm = (): void => {
        clearTimeout(idle);
        idle = setTimeout(() => call.cancel(), PEER_IDLE_MS);
      };
      arm();
      try {
        for await (const m of call as AsyncIterable<StreamBlocksResponse>) {
          arm();
          if (m.block === undefined) continue;
          const b = decodeBlock(Block.encode(m.block).finish());
          // A peer that skips or repeats is simply not followed further.
          if (b.header.height !== next) throw new Error(`peer ${addr} sent height ${b.header.height}, wanted ${next}`);
          yield b;
          next++;
          if (next > toHeight) break;
        }
      } catch (e) {
        log.warn({ peer: addr, err: (e as Error).message, nextHeight: next.toString() }, "peer backfill failed; trying the next peer");
        await new Promise((r) => setTimeout(r, 200));
      } finally {
        clearTimeout(idle);
        call.cancel();
        client.close();
      }
    }
  };
}
