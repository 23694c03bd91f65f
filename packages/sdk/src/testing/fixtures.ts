// Keys, a genesis and a chain of signed blocks for the SDK's tests.
import { genesisBlock, sealBlock, signingKeyFromSeed, toHex, type Genesis, type SealedBlock, type TxSigner } from "@tally/ledger";

/** The chain id of every fixture. */
export const CHAIN_ID = "tally-sdk-test";

function signer(institutionId: string, seed: number): TxSigner {
  return { institutionId, keyId: `${institutionId}-k1`, key: signingKeyFromSeed(new Uint8Array(32).fill(seed)) };
}

/** Signers of the fixture institutions. */
export const SIGNERS = {
  bankA: signer("bank-a", 1),
  bankB: signer("bank-b", 2),
  enterpriseA: signer("enterprise-a", 3),
  clearing: signer("clearing", 4),
} as const;

/** The genesis sequencer's key and one genesis does not name. */
export const SEQ_KEY = signingKeyFromSeed(new Uint8Array(32).fill(9));
export const ROGUE_KEY = signingKeyFromSeed(new Uint8Array(32).fill(10));

/** A genesis naming one sequencer, seq-a. */
export const GENESIS: Genesis = {
  chainId: CHAIN_ID,
  genesisTimeMs: 1_700_000_000_000,
  institutions: Object.values(SIGNERS).map((s) => ({
    id: s.institutionId,
    name: s.institutionId,
    roles: ["bank"],
    keys: [{ keyId: s.keyId, publicKey: toHex(s.key.publicKey) }],
  })),
  sequencers: [{ id: "seq-a", publicKey: toHex(SEQ_KEY.publicKey) }],
  validators: [],
  finality: { quorumNumerator: 2, quorumDenominator: 3 },
};

/** Genesis then `count` blocks of `txsPerBlock` leaves each, sealed by seq-a (or by another key/id). */
export function buildChain(
  count: number,
  txsPerBlock: (height: number) => Uint8Array[],
  seal: { key?: typeof SEQ_KEY; sequencerId?: string; from?: SealedBlock } = {},
): SealedBlock[] {
  const chain = [seal.from ?? genesisBlock(GENESIS)];
  for (let i = 0; i < count; i++) {
    const prev = chain.at(-1)!;
    const txs = txsPerBlock(Number(prev.header.height) + 1);
    const first = prev.header.lastTxsSeq + 1n;
    chain.push(
      sealBlock(
        {
          chainId: CHAIN_ID,
          height: prev.header.height + 1n,
          prevHash: prev.hash,
          txs,
          firstTxsSeq: txs.length === 0 ? 0n : first,
          lastTxsSeq: txs.length === 0 ? prev.header.lastTxsSeq : first + BigInt(txs.length) - 1n,
          timestampMs: prev.header.timestampMs + 10n,
          sequencerId: seal.sequencerId ?? "seq-a",
          epoch: 1n,
        },
        seal.key ?? SEQ_KEY,
      ),
    );
  }
  return chain;
}
