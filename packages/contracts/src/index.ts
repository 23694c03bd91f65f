// The public surface of @tally/contracts, named one by one.
export {
  foreignKey,
  resolveKey,
  rejection,
  isRejection,
  type Rejection,
  type ContractEvent,
  type MemberView,
  type TxContext,
  type StateSlice,
  type ActionSpec,
  type QuerySpec,
  type Contract,
} from "./contract.js";
export { ANY_ROLE, WRITER_ROLES } from "./roles.js";
export { builtinContracts } from "./registry.js";
export {
  prepareCommand,
  runCommand,
  foldEvents,
  prepareQuery,
  runQuery,
  usedContracts,
  QUERY_SCAN_LIMIT_MAX,
  type PreparedCommand,
  type CommandOutcome,
  type PreparedQuery,
} from "./run.js";
export { membershipGenesisEvents } from "./membership/genesis-events.js";
export { membershipView, keyLookupFromMembership, membersFromMembership, type MembershipView } from "./membership/membership-view.js";
export {
  MEMBERSHIP_CONTRACT,
  MEMBERSHIP_INDEX_KEY,
  INSTITUTION_KEY_PREFIX,
  institutionKey,
  parseInstitutionEntry,
  type InstitutionEntry,
  type KeyEntry,
} from "./membership/institution-entry.js";
export { CASH_CONTRACT, accountKey, cashAccountKey, cashBalanceIn, cashLegs, type CashLeg } from "./cash/cash.js";
export { NOTARY_CONTRACT, documentKey } from "./notary/notary.js";
export { MEDICAL_CONTRACT } from "./medical/medical.js";
export { CREDENTIAL_CONTRACT, CREDENTIAL_KINDS, type CredentialKind } from "./credential/credential.js";
export { BILL_CONTRACT } from "./bill/bill-state.js";
export { DATA_CONTRACT } from "./data/data-state.js";
export { POINTS_CONTRACT, splitPackets } from "./points/points-state.js";
export { CHARITY_CONTRACT } from "./charity/charity-state.js";
export { orderHits } from "./trade/trade-hits.js";
export type { Hit as TradeHit } from "./trade/trade-commands.js";
export {
  CHAIN_CONFIG_KEY,
  parseChainConfig,
  chainConfigFromGenesis,
  sequencersInForce,
  type ChainConfig,
  type SequencerEntry,
  type FinalityQuorum,
} from "./membership/chain-config.js";
export {
  sequencerKeysInForce,
  SequencersByHeight,
  changesChainConfig,
  touchesMembership,
  type RecordedEvent,
} from "./membership/sequencers-by-height.js";
export {
  DEFAULT_SANDBOX_LIMITS,
  sandboxLimitsOf,
  STEP_LIMIT_MAX,
  MEMORY_LIMIT_BYTES_MIN,
  MEMORY_LIMIT_BYTES_MAX,
  DEFAULT_MAX_BIGINT_BITS,
  MAX_BIGINT_BITS_MIN,
  MAX_BIGINT_BITS_MAX,
  type SandboxLimits,
  type SandboxLimitsSetting,
} from "./membership/chain-config.js";
export {
  USER_CONTRACTS_KEY,
  USER_CODE_LENGTH_MAX,
  USER_CONTRACT_VERSIONS_MAX,
  BUILTIN_CONTRACT_NAMES,
  userCodeKey,
  codeHash,
  parseUserContractIndex,
  parseUserCode,
  type UserContractIndex,
  type UserContractVersion,
} from "./membership/user-contract-records.js";
export {
  parseArgs,
  identifier,
  optionalIdentifier,
  positiveAmount,
  optionalAmount,
  requiredString,
  optionalString,
  integer,
  optionalInteger,
  hex32,
  type Args,
  type Field,
} from "./schema.js";
export { userContractIndexJson, userCodeJson } from "./membership/user-contract-records.js";
