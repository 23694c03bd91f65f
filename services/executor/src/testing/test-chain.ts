// Test fixtures: a small consortium with deterministic keys, and builders for its txs and blocks.
// Not exported from the package index; only the executor's tests import it.
import {
  genesisBlock,
  parseGenesis,
  sealBlock,
  signTx,
  signingKeyFromSeed,
  toHex,
  utf8,
  type Genesis,
  type SealedBlock,
  type SigningKey,
} from "@tally/ledger";

/** A deterministic key from one repeated seed byte. */
export function keyOf(n: number): SigningKey {
  return signingKeyFromSeed(new Uint8Array(32).fill(n));
}

/** The chain id of the test consortium. */
export const CHAIN_ID = "exec-test";
/** Genesis time: 2023-11-14, long past, so any wall-clock deadline check would be visible. */
export const T0 = 1_700_000_000_000;

/** One institution key a tx can be signed with. */
export interface Party {
  readonly id: string;
  readonly keyId: string;
  readonly key: SigningKey;
}

export const CLEARING: Party = { id: "clearing", keyId: "k1", key: keyOf(1) };
export const BANK_A: Party = { id: "bank-a", keyId: "k1", key: keyOf(2) };
/** bank-a's second key, so that k1 can be revoked (the last active key cannot). */
export const BANK_A_K2: Party = { id: "bank-a", keyId: "k2", key: keyOf(3) };
export const BANK_B: Party = { id: "bank-b", keyId: "k1", key: keyOf(4) };
export const REGULATOR: Party = { id: "regulator", keyId: "k1", key: keyOf(5) };
export const SEQUENCER_KEY = keyOf(10);
export const NODE_KEY = keyOf(11);
/** A key nobody registered. */
export const STRANGER_KEY = keyOf(99);
export const SEQUENCER_ID = "seq-1";
export const NODE_ID = "node-1";

const pub = (k: SigningKey): string => toHex(k.publicKey);

/** A genesis parseGenesis accepts: a clearing house, two banks, a regulator, one sequencer, one validator. */
export const GENESIS: Genesis = parseGenesis({
  chainId: CHAIN_ID,
  genesisTimeMs: T0,
  institutions: [
    { id: CLEARING.id, name: "Clearing House", roles: ["clearing"], keys: [{ keyId: "k1", publicKey: pub(CLEARING.key) }] },
    {
      id: BANK_A.id,
      name: "Bank A",
      roles: ["bank"],
      keys: [
        { keyId: "k1", publicKey: pub(BANK_A.key) },
        { keyId: "k2", publicKey: pub(BANK_A_K2.key) },
      ],
    },
    { id: BANK_B.id, name: "Bank B", roles: ["bank"], keys: [{ keyId: "k1", publicKey: pub(BANK_B.key) }] },
    { id: REGULATOR.id, name: "Regulator", roles: ["regulator"], keys: [{ keyId: "k1", publicKey: pub(REGULATOR.key) }] },
  ],
  sequencers: [{ id: SEQUENCER_ID, publicKey: pub(SEQUENCER_KEY) }],
  validators: [{ nodeId: NODE_ID, institutionId: CLEARING.id, publicKey: pub(NODE_KEY) }],
  finality: { quorumNumerator: 2, quorumDenominator: 3 },
});

/** What a test tx says; everything but signer, contract, action and args has a default. */
export interface TxSpec {
  readonly signer: Party;
  readonly contract: string;
  readonly action: string;
  readonly args: unknown;
  readonly nonce?: bigint;
  readonly validUntilMs?: bigint;
  readonly chainId?: string;
  /** Sign with this key instead of the signer's own (for BAD_SIGNATURE). */
  readonly signWith?: SigningKey;
}

let nonceCounter = 0n;

/** Signs a tx; each call gets a fresh nonce unless one is given, so ids never collide by accident. */
export function makeTx(s: TxSpec): { raw: Uint8Array; id: Uint8Array } {
  return signTx(
    {
      chainId: s.chainId ?? CHAIN_ID,
      contract: s.contract,
      action: s.action,
      args: utf8(JSON.stringify(s.args)),
      signer: { institutionId: s.signer.id, keyId: s.signer.keyId },
      nonce: s.nonce ?? ++nonceCounter,
      validUntilMs: s.validUntilMs ?? BigInt(T0 + 365 * 24 * 3600_000),
    },
    [{ institutionId: s.signer.id, keyId: s.signer.keyId, key: s.signWith ?? s.signer.key }],
  );
}

/** cash.issue by the clearing house. */
export function issue(to: string, amount: string): { raw: Uint8Array; id: Uint8Array } {
  return makeTx({ signer: CLEARING, contract: "cash", action: "issue", args: { to, amount } });
}

/** cash.transfer signed by `from`. */
export function transfer(from: Party, to: string, amount: string): { raw: Uint8Array; id: Uint8Array } {
  return makeTx({ signer: from, contract: "cash", action: "transfer", args: { to, amount } });
}

/** Seals the blocks of a chain one after another, keeping height, previous hash and TXS sequences straight. */
export class ChainBuilder {
  readonly blocks: SealedBlock[];

  constructor(readonly genesis: Genesis = GENESIS) {
    this.blocks = [genesisBlock(genesis)];
  }

  get tip(): SealedBlock {
    const b = this.blocks[this.blocks.length - 1];
    if (b === undefined) throw new Error("no blocks");
    return b;
  }

  /** Builds the block after the tip without appending it (for alternative blocks at one height). */
  draft(txs: readonly Uint8Array[], opts: { timestampMs?: bigint; key?: SigningKey } = {}): SealedBlock {
    const prev = this.tip.header;
    const first = prev.lastTxsSeq + 1n;
    return sealBlock(
      {
        chainId: this.genesis.chainId,
        height: prev.height + 1n,
        prevHash: this.tip.hash,
        txs,
        firstTxsSeq: txs.length > 0 ? first : 0n,
        lastTxsSeq: txs.length > 0 ? first + BigInt(txs.length) - 1n : prev.lastTxsSeq,
        timestampMs: opts.timestampMs ?? prev.timestampMs + 1000n,
        sequencerId: SEQUENCER_ID,
        epoch: 1n,
      },
      opts.key ?? SEQUENCER_KEY,
    );
  }

  /** Seals and appends the next block. */
  next(txs: readonly Uint8Array[], opts: { timestampMs?: bigint; key?: SigningKey } = {}): SealedBlock {
    const b = this.draft(txs, opts);
    this.blocks.push(b);
    return b;
  }
}
