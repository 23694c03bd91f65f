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

/** One node's database. Blockstore and executor of a node share it; nodes never share one. */
export interface Database {
  blocks: BlocksTable;
  transactions: TransactionsTable;
  checkpoint: CheckpointTable;
  tx_results: TxResultsTable;
  events: EventsTable;
  contract_state: ContractStateTable;
}
