// The public surface of @tally/sdk, named one by one.
export { TallyClient, type TallyClientExtras, type ConnectOptions, type WaitOptions, type AssetHistoryEntry } from "./tally-client.js";
export { TxStatus, type TxStatusUpdate } from "@tally/proto/gateway";
export { TxOutcome } from "@tally/proto/types";
export { TallyError, toTallyError, type TallyErrorDetails } from "./tally-error.js";
export { cosign, viewTransaction, type TxOptions, type SignedTransaction, type TransactionView } from "./transaction.js";
export { mtlsCredentials, type MtlsFiles } from "./mtls-credentials.js";
export { withRetry, backoffMs, DEFAULT_RETRY_POLICY, type RetryPolicy, type RetryEnv } from "./retry.js";
export {
  TrustedChain,
  ProofError,
  CONSISTENCY_HEIGHTS_MAX,
  SEQUENCER_SETS_MAX,
  type AcceptedSequencerSet,
  type ProofReason,
  type InclusionProof,
  type SignedHeader,
  type VerifiedHeader,
} from "./trusted-chain.js";
export {
  blockstoreProofSource,
  gatewayProofSource,
  type ProofSource,
  type BlockstoreProofSourceOptions,
  type GatewayProofSourceOptions,
} from "./proof-source.js";
export { verifyInclusionProof } from "./verify-proof.js";
export {
  checkNotarization,
  genesisKeyLookup,
  notarizationReceipt,
  parseNotarizationReceipt,
  readRegistrationClaim,
  type RegistrationClaim,
  type ProvenNotarization,
  type NotarizationReceipt,
} from "./notarization.js";
export { signerFromKeyFile } from "./key-file.js";
export { BulkSubmitter, type StreamedAck } from "./bulk-submitter.js";
export { signAction, type ActionSigner, type QueryRunner, type WireArgs } from "./contracts/action-builder.js";
export { CashActions, type CashIssueArgs, type CashTransferArgs, type CashRedeemArgs } from "./contracts/cash.js";
export { NotaryActions, type NotaryRegisterArgs, type NotaryTransferArgs, type NotaryLicenseArgs } from "./contracts/notary.js";
export {
  MedicalActions,
  type MedicalAnchorArgs,
  type MedicalGrantArgs,
  type MedicalRevokeArgs,
  type MedicalAccessArgs,
} from "./contracts/medical.js";
export { CredentialActions, type CredentialIssueArgs, type CredentialRevokeArgs } from "./contracts/credential.js";
export {
  BillActions,
  type BillIssueArgs,
  type BillIdArgs,
  type BillEndorseArgs,
  type BillSplitArgs,
  type BillDiscountArgs,
  type BillPledgeArgs,
  type BillRecourseArgs,
} from "./contracts/bill.js";
export {
  ReceivableActions,
  type ReceivableRegisterArgs,
  type ReceivableConfirmArgs,
  type ReceivableTransferArgs,
  type ReceivableSplitArgs,
  type ReceivableSplitPart,
  type ReceivableFinanceArgs,
  type ReceivableSettleArgs,
  type ReceivableLeaf,
} from "./contracts/receivable.js";
export {
  WarehouseActions,
  type WarehouseIssueArgs,
  type WarehouseTransferArgs,
  type WarehousePledgeArgs,
  type WarehouseRepayArgs,
  type WarehouseReleaseArgs,
} from "./contracts/warehouse.js";
export {
  LogisticsActions,
  type LogisticsOpenArgs,
  type LogisticsAttestArgs,
  type LogisticsReleaseArgs,
  type LogisticsRefundArgs,
  type AttestationKind,
} from "./contracts/logistics.js";
export {
  BondActions,
  type BondRegisterArgs,
  type BondSubscribeArgs,
  type BondAllotArgs,
  type BondTransferArgs,
  type BondCouponArgs,
  type BondRedeemArgs,
  type BondFreezeArgs,
  type BondUnfreezeArgs,
} from "./contracts/bond.js";
export {
  TradeActions,
  type TradeListInstrumentArgs,
  type TradePositionArgs,
  type TradeOrderArgs,
  type TradeCancelArgs,
} from "./contracts/trade.js";
export {
  MembershipActions,
  type MembershipChange,
  type MembershipKey,
  type AlertRule,
  type MembershipAddKeyArgs,
  type MembershipRevokeKeyArgs,
  type MembershipProposeArgs,
  type MembershipVoteArgs,
} from "./contracts/membership.js";
export { DataActions, type DataRegisterArgs, type DataBuyArgs, type DataResellArgs, type DataAccessArgs } from "./contracts/data.js";
export {
  PointsActions,
  type PointsMintArgs,
  type PointsTransferArgs,
  type PointsEnvelopeArgs,
  type PointsEnvelopeRef,
  type PointsAgreeRateArgs,
  type PointsExchangeArgs,
} from "./contracts/points.js";
export {
  CharityActions,
  type CharityMilestone,
  type CharityOpenArgs,
  type CharityDonateArgs,
  type CharityAttestArgs,
  type CharityDisburseArgs,
} from "./contracts/charity.js";
