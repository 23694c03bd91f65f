// The public surface of @tally/db, named one by one.
export type {
  Database,
  BlocksTable,
  TransactionsTable,
  CheckpointTable,
  TxResultsTable,
  EventsTable,
  ContractStateTable,
} from "./schema.js";
export { openDb, migrateToLatest, createDatabaseIfMissing, dropDatabase, databaseUrl } from "./connect.js";
export { HEIGHT_CHANNEL, listenHeights, HeightSignal, heightNoticePayload, type HeightNotice } from "./notify.js";
