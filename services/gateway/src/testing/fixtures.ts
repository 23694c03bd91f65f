// Fixtures for the gateway's tests: a small genesis with deterministic keys, and a builder of
// signed transactions that can get any single field wrong. Pure data; not exported from the index.
import { builtinContracts, foldEvents, institutionKey, MEMBERSHIP_CONTRACT, membershipGenesisEvents } from "@tally/contracts";
import { SignedTx } from "@tally/proto/types";
import { canonicalJson, parseGenesis, signingKeyFromSeed, signTx, toHex, type Genesis, type JsonValue, type TxSigner } from "@tally/ledger";

export const CHAIN_ID = "gw-test-chain";

/** A deterministic Ed25519 key: the seed is 32 copies of n. */
export function keyOf(n: number) {
  return signingKeyFromSeed(new Uint8Array(32).fill(n));
}

/** Signers of the fixture genesis, plus ones it does not know. */
export const SIGNERS = {
  clearA: { institutionId: "clear-a", keyId: "k1", key: keyOf(1) },
  bankA: { institutionId: "bank-a", keyId: "k1", key: keyOf(2) },
  /** bank-a's second key: tests revoke it. */
  bankA2: { institutionId: "bank-a", keyId: "k2", key: keyOf(3) },
  bankB: { institutionId: "bank-b", keyId: "k1", key: keyOf(4) },
  reg: { institutionId: "reg", keyId: "k1", key: keyOf(5) },
  /** An institution no genesis lists. */
  stranger: { institutionId: "ghost", keyId: "k1", key: keyOf(9) },
  /** Claims to be bank-a/k1 but holds another key. */
  impostor: { institutionId: "bank-a", keyId: "k1", key: keyOf(10) },
} as const satisfies Record<string, TxSigner>;

const pub = (s: TxSigner): string => toHex(s.key.publicKey);

/** A genesis parseGenesis accepts: a clearing bank, two banks (bank-a with two keys) and a regulator. */
export const GENESIS: Genesis = parseGenesis({
  chainId: CHAIN_ID,
  genesisTimeMs: 1_700_000_000_000,
  institutions: [
    { id: "clear-a", name: "Clearing A", roles: ["clearing", "bank"], keys: [{ keyId: "k1", publicKey: pub(SIGNERS.clearA) }] },
    {
      id: "bank-a",
      name: "Bank A",
      roles: ["bank"],
      keys: [
        { keyId: "k1", publicKey: pub(SIGNERS.bankA) },
        { keyId: "k2", publicKey: pub(SIGNERS.bankA2) },
      ],
    },
    { id: "bank-b", name: "Bank B", roles: ["bank"], keys: [{ keyId: "k1", publicKey: pub(SIGNERS.bankB) }] },
    { id: "reg", name: "The Regulator", roles: ["regulator"], keys: [{ keyId: "k1", publicKey: pub(SIGNERS.reg) }] },
  ],
  sequencers: [{ id: "seq-1", publicKey: toHex(keyOf(20).publicKey) }],
  validators: [{ nodeId: "node-1", institutionId: "clear-a", publicKey: toHex(keyOf(21).publicKey) }],
  finality: { quorumNumerator: 2, quorumDenominator: 3 },
});

/** Membership contract state after genesis, as the executor folds it: `index` plus one `inst/<id>` per member. */
export function genesisMembershipState(): Map<string, JsonValue> {
  const contract = builtinContracts.get(MEMBERSHIP_CONTRACT)!;
  const updates = foldEvents(contract, new Map(), membershipGenesisEvents(GENESIS));
  const out = new Map<string, JsonValue>();
  for (const [k, v] of updates) if (v !== null) out.set(k, v);
  return out;
}

/** The same state with one key marked inactive, as the executor writes it after `revoke-key`. */
export function membershipStateWithRevoked(institution: string, keyId: string): Map<string, JsonValue> {
  const state = genesisMembershipState();
  const entry = state.get(institutionKey(institution)) as { keys: { keyId: string; active: boolean }[] } & Record<string, JsonValue>;
  const keys = entry.keys.map((k) => (k.keyId === keyId ? { ...k, active: false } : k));
  state.set(institutionKey(institution), { ...entry, keys });
  return state;
}

/** Everything a test may want to get wrong in a transaction. */
export interface TxSpec {
  readonly chainId?: string;
  readonly contract?: string;
  readonly action?: string;
  readonly args?: unknown;
  /** The body's signer; defaults to bank-a/k1. */
  readonly signer?: TxSigner;
  /** Who actually signs; defaults to [signer]. */
  readonly signers?: readonly TxSigner[];
  readonly nonce?: bigint;
  readonly validUntilMs?: number;
}

let nonceCounter = 0n;

/** A signed transfer of 100 from bank-a to bank-b, unless the spec says otherwise. */
export function buildTx(spec: TxSpec = {}, nowMs = Date.now()): { raw: Uint8Array; id: Uint8Array } {
  const signer = spec.signer ?? SIGNERS.bankA;
  return signTx(
    {
      chainId: spec.chainId ?? CHAIN_ID,
      contract: spec.contract ?? "cash",
      action: spec.action ?? "transfer",
      args: new TextEncoder().encode(canonicalJson(spec.args ?? { to: "bank-b", amount: "100" })),
      signer: { institutionId: signer.institutionId, keyId: signer.keyId },
      nonce: spec.nonce ?? ++nonceCounter,
      validUntilMs: BigInt(spec.validUntilMs ?? nowMs + 60_000),
    },
    spec.signers ?? [signer],
  );
}

/** A well-formed SignedTx whose body is fine but that carries no signature at all. */
export function unsignedTx(spec: TxSpec = {}, nowMs = Date.now()): Uint8Array {
  const signed = SignedTx.decode(buildTx(spec, nowMs).raw);
  return SignedTx.encode({ body: signed.body, signatures: [] }).finish();
}

/** Bytes that are no protobuf at all: a length-delimited field 1 that claims 5 bytes and has 1. */
export const NOT_PROTOBUF = new Uint8Array([0x0a, 0x05, 0x01]);
