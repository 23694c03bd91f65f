// The public surface of @tally/ledger, named one by one.
export { toHex, fromHex, bytesEqual, concatBytes, utf8, fromUtf8 } from "./bytes.js";
export { sha256 } from "./hash.js";
export { canonicalJson, type JsonValue } from "./canonical-json.js";
export { InvariantError } from "./errors.js";
export {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SEED_BYTES,
  ED25519_SIGNATURE_BYTES,
  signingKeyFromSeed,
  ed25519Sign,
  ed25519Verify,
  type SigningKey,
} from "./ed25519.js";
export { LIMITS } from "./limits.js";
export {
  txIdOf,
  leafTxId,
  isValidId,
  decodeSignedTx,
  verifyTxSignatures,
  type TxSignatureCheck,
  checkTxContext,
  signTx,
  type TxRejectCode,
  type TxReject,
  type DecodedTx,
  type KnownKey,
  type KeyLookup,
  type TxSigner,
} from "./tx.js";
export {
  leafHash,
  nodeHash,
  merkleRoot,
  merkleRootFromLeafHashes,
  inclusionProof,
  inclusionProofFromLeafHashes,
  verifyInclusion,
  consistencyProof,
  consistencyProofFromLeafHashes,
  verifyConsistency,
} from "./merkle.js";
export { ROLES, genesisHash, parseGenesis, type Genesis, type GenesisInstitution, type GenesisKey } from "./genesis.js";
export {
  ZERO_HASH,
  blockHashOf,
  sealBlock,
  genesisBlock,
  decodeBlock,
  verifyBlock,
  verifyChain,
  tipOf,
  sequencerKeysOf,
  sequencerKeysFrom,
  type SealedBlock,
  type BlockDraft,
  type ChainTip,
  type SequencerKeys,
} from "./block.js";
export { eventsRoot, nextStateRoot, type EventLeaf, type ResultLeaf } from "./state-root.js";
export {
  isQuorum,
  readReceiptClaim,
  verifyReceiptClaim,
  signReceipt,
  sequencerSetFromReceipts,
  SequencerSetTally,
  type ReceiptClaim,
  type ReceiptDraft,
  type ReceiptQuorum,
  type ReceiptRefusal,
  type ReceiptResult,
  type ReceiptSequencer,
  type ReceiptTrust,
  type SequencerSetConfirmation,
} from "./receipt.js";
