import type { ColumnType, Generated } from "kysely";

/** blocks: one row per verified block (blockstore). */
export interface BlocksTable {
  height: bigint;
  hash: Uint8Array;
  prev_hash: Uint8Array;
  tx_root: Uint8Array;
  tx_count: number;
  first_txs_seq: bigint;
  last_txs_seq: bigint;
  timestamp_ms: bigint;
  sequencer_id: string;
  epoch: bigint;
  header: Uint8Array;
  signature: Uint8Array;
  /** The encoded Block exactly as published. */
  raw: Uint8Array;
  stored_at: ColumnType<Date, never, never>;
}

/** transactions: the first inclusion of each tx id (blockstore). */
export interface TransactionsTable {
  tx_id: Uint8Array;
  height: bigint;
  tx_index: number;
  signer: string;
  contract: string;
  action: string;
  raw: Uint8Array;
}

/** checkpoint: the executor's single row, advanced in the same transaction as a block's effects. */
export interface CheckpointTable {
  id: number;
  height: bigint;
  block_hash: Uint8Array;
  state_root: Uint8Array;
  timestamp_ms: bigint;
  last_txs_seq: bigint;
}

/** tx_results: every tx's outcome, committed or rejected (executor). */
export interface TxResultsTable {
  height: bigint;
  tx_index: number;
  tx_id: Uint8Array;
  committed: boolean;
  /** Signatures verified: only authenticated inclusions count when judging replays. */
  authenticated: boolean;
  reason_code: string;
  message: string;
  signer: string;
  contract: string;
  action: string;
}

/** events: append-only contract events in commit order (executor). */
export interface EventsTable {
  position: Generated<bigint>;
  height: bigint;
  tx_index: number;
  event_index: number;
  tx_id: Uint8Array;
  contract: string;
  type: string;
  asset_id: string;
  parties: string[];
  data: unknown;
  block_time_ms: bigint;
  signer: string;
}

/** contract_state: each contract's keyed state, the projection decide reads from (executor). */
export interface ContractStateTable {
  contract: string;
  key: string;
  value: unknown;
  height: bigint;
}

/** alerts: supervision alerts the regulator's regfeed derived from committed data (0002). */
export interface AlertsTable {
  seq: bigint;
  rule: string;
  rule_id: string;
  height: bigint;
  tx_id: Uint8Array;
  asset_id: string;
  subjects: string[];
  summary: string;
  details: unknown;
  block_time_ms: bigint;
  dedupe_key: string;
  acked_by: string | null;
  acked_at_ms: bigint | null;
  ack_note: ColumnType<string, string | undefined, string>;
}

/** alert_checkpoint: the last height the alert engine evaluated (0002). */
export interface AlertCheckpointTable {
  id: number;
  height: bigint;
}

/** node_receipts: each node's signed receipt as seen on RECEIPTS, for divergence checks (0002). */
export interface NodeReceiptsTable {
  node_id: string;
  height: bigint;
  block_hash: Uint8Array;
  state_root: Uint8Array;
}

/** access_log: every read made through the regulator feed (0002). */
export interface AccessLogTable {
  id: Generated<bigint>;
  at_ms: bigint;
  caller: string;
  rpc: string;
  request: unknown;
}

/** validator_receipts: every validator receipt the node's finality tracker verified (0003). */
export interface ValidatorReceiptsTable {
  height: bigint;
  node_id: string;
  block_hash: Uint8Array;
  state_root: Uint8Array;
  /** The signed ReceiptBody bytes and the validator's Ed25519 signature over them. */
  body: Uint8Array;
  signature: Uint8Array;
  received_at_ms: bigint;
}

/** finality: heights a quorum of validators signed the same (block hash, state root) for (0003). */
export interface FinalityTable {
  height: bigint;
  block_hash: Uint8Array;
  state_root: Uint8Array;
  signers: string[];
  final_at_ms: bigint;
  lag_ms: bigint | null;
}

/** divergence: this node's own receipt disagreed with a quorum's at a height; open until resolved (0003). */
export interface DivergenceTable {
  id: Generated<bigint>;
  height: bigint;
  node_id: string;
  quorum_block_hash: Uint8Array;
  quorum_state_root: Uint8Array;
  own_block_hash: Uint8Array;
  own_state_root: Uint8Array;
  quorum_signers: string[];
  detected_at_ms: bigint;
  resolved_at_ms: bigint | null;
  resolved_by: string | null;
  resolution_note: ColumnType<string, string | undefined, string>;
}

/** node_restores: each state snapshot imported into this node (tally node restore), at its height (0003). */
export interface NodeRestoresTable {
  id: Generated<bigint>;
  height: bigint;
  block_hash: Uint8Array;
  state_root: Uint8Array;
  source_node: string;
  state_entries: bigint;
  restored_at_ms: bigint;
}

/** finality_cursor: the next RECEIPTS stream sequence the finality tracker reads (0003). */
export interface FinalityCursorTable {
  id: number;
  receipts_seq: bigint;
}

/** One node's database. Blockstore and executor of a node share it; nodes never share one. */
export interface Database {
  blocks: BlocksTable;
  transactions: TransactionsTable;
  checkpoint: CheckpointTable;
  tx_results: TxResultsTable;
  events: EventsTable;
  contract_state: ContractStateTable;
  alerts: AlertsTable;
  alert_checkpoint: AlertCheckpointTable;
  node_receipts: NodeReceiptsTable;
  access_log: AccessLogTable;
  validator_receipts: ValidatorReceiptsTable;
  finality: FinalityTable;
  divergence: DivergenceTable;
  finality_cursor: FinalityCursorTable;
  node_restores: NodeRestoresTable;
}
