// Shared by the console's tests: a small chain's genesis, blocks stored as the blockstore stores
// them, and how the browser tests start Debian's chromium.
import type { Kysely } from "kysely";
import type { Database } from "@tally/db";
import { parseGenesis, sealBlock, sha256, signingKeyFromSeed, toHex, ZERO_HASH, type Genesis } from "@tally/ledger";

export const fixtureSequencerKey = signingKeyFromSeed(new Uint8Array(32).fill(7));
const key = (n: number): string => toHex(signingKeyFromSeed(new Uint8Array(32).fill(n)).publicKey);

/** A chain with a bank, a regulator, one sequencer and one validator. */
export const fixtureGenesis: Genesis = parseGenesis({
  chainId: "console-int",
  genesisTimeMs: 1_700_000_000_000,
  institutions: [
    { id: "bank-a", name: "Bank A", roles: ["bank"], keys: [{ keyId: "k1", publicKey: key(1) }] },
    { id: "regulator", name: "Regulator", roles: ["regulator"], keys: [{ keyId: "k1", publicKey: key(2) }] },
  ],
  sequencers: [
    { id: "seq-1", publicKey: toHex(fixtureSequencerKey.publicKey) },
    { id: "seq-2", publicKey: toHex(fixtureSequencerKey.publicKey) },
  ],
  validators: [{ nodeId: "node-a", institutionId: "bank-a", publicKey: key(3) }],
  finality: { quorumNumerator: 2, quorumDenominator: 3 },
});

/**
 * Seals and stores a block of the given leaves (and a transactions row for each, its id being
 * sha256 of the leaf, as for a leaf that is not a SignedTx); returns the tx ids and the block hash.
 */
export async function storeBlock(
  db: Kysely<Database>,
  height: bigint,
  prevHash: Uint8Array,
  txs: readonly Uint8Array[],
  by: { sequencerId: string; epoch: bigint } = { sequencerId: "seq-1", epoch: 1n },
): Promise<{ txIds: Uint8Array[]; hash: Uint8Array }> {
  const b = sealBlock(
    {
      chainId: fixtureGenesis.chainId,
      height,
      prevHash,
      txs,
      firstTxsSeq: height * 1000n,
      lastTxsSeq: height * 1000n + BigInt(txs.length),
      timestampMs: BigInt(Date.now()),
      sequencerId: by.sequencerId,
      epoch: by.epoch,
    },
    fixtureSequencerKey,
  );
  await db
    .insertInto("blocks")
    .values({
      height,
      hash: b.hash,
      prev_hash: prevHash,
      tx_root: b.header.txRoot,
      tx_count: txs.length,
      first_txs_seq: b.header.firstTxsSeq,
      last_txs_seq: b.header.lastTxsSeq,
      timestamp_ms: b.header.timestampMs,
      sequencer_id: by.sequencerId,
      epoch: by.epoch,
      header: b.block.header,
      signature: b.block.signature,
      raw: b.bytes,
    })
    .execute();
  const txIds = txs.map((t) => sha256(t));
  if (txs.length > 0)
    await db
      .insertInto("transactions")
      .values(txs.map((raw, i) => ({ tx_id: txIds[i]!, height, tx_index: i, signer: "bank-a", contract: "bill", action: "issue", raw })))
      .execute();
  return { txIds, hash: b.hash };
}

export { ZERO_HASH };

/** Debian's chromium, as the browser tests drive it (playwright-core; .ci/run installs it). */
export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
