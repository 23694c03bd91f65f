// The public surface of @tally/db, named one by one.
export type {
  Database,
  BlocksTable,
  TransactionsTable,
  CheckpointTable,
  TxResultsTable,
  EventsTable,
  ContractStateTable,
  AlertsTable,
  AlertCheckpointTable,
  NodeReceiptsTable,
  AccessLogTable,
  ValidatorReceiptsTable,
  FinalityTable,
  DivergenceTable,
  FinalityCursorTable,
  NodeRestoresTable,
} from "./schema.js";
export { openDb, migrateToLatest, createDatabaseIfMissing, dropDatabase, databaseUrl } from "./connect.js";
export { HEIGHT_CHANNEL, listenHeights, HeightSignal, heightNoticePayload, type HeightNotice } from "./notify.js";
export {
  readHistory,
  readLineage,
  ancestorIds,
  HISTORY_PAGE_MAX,
  HISTORY_PAGE_DEFAULT,
  LINEAGE_MAX,
  type HistoryPage,
} from "./asset-history.js";
export {
  nodeDatabaseRoles,
  nodeDatabaseRolesSql,
  dropNodeDatabaseRolesSql,
  setupNodeDatabaseRoles,
  dropNodeDatabaseRoles,
  databaseUrlAs,
  type NodeDatabaseRoles,
} from "./roles.js";
export { readChainConfigEvents } from "./chain-config-events.js";
