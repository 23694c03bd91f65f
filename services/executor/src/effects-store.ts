import type { Kysely } from "kysely";
import { HEIGHT_CHANNEL, heightNoticePayload, preparedQuery, readHistory, type Database, type HistoryPage } from "@tally/db";
import { MEMBERSHIP_CONTRACT } from "@tally/contracts";
import { InvariantError, SeenTxFilter, toHex, type JsonValue } from "@tally/ledger";
import type { EventCursor } from "@tally/proto/types";
import type { BlockEffects } from "./block-executor.js";
import type { StateCache } from "./state-reader.js";

/**
 * A commit in one statement (one transaction, one round trip). The checkpoint moves only from the
 * expected previous height ($6), or is created for the first block (COMMIT_FIRST_SQL): every
 * other write reads that row (`, cp`), so when it does not move nothing is written and no row
 * comes back. The rows of every block arrive as one array per column ($7..$33) and the height
 * notice ($34, $35) goes out at the statement's commit. A fixed text, so it is prepared once.
 */
function commitSql(checkpoint: string): string {
  return `
    with cp as (${checkpoint}),
    r as (
      insert into tx_results (height, tx_index, tx_id, committed, authenticated, reason_code, message, signer, contract, action)
      select u.* from unnest($7::bigint[], $8::int[], $9::bytea[], $10::bool[], $11::bool[], $12::text[], $13::text[], $14::text[],
                             $15::text[], $16::text[]) as u, cp
    ),
    e as (
      insert into events (height, tx_index, event_index, tx_id, contract, type, asset_id, parties, data, block_time_ms, signer)
      select u.h, u.ti, u.ei, u.id, u.c, u.t, u.a, array(select jsonb_array_elements_text(u.p::jsonb)), u.d::jsonb, u.bt, u.s
        from unnest($17::bigint[], $18::int[], $19::int[], $20::bytea[], $21::text[], $22::text[], $23::text[], $24::text[], $25::text[],
                    $26::bigint[], $27::text[]) with ordinality as u(h, ti, ei, id, c, t, a, p, d, bt, s, ord), cp
       -- In the order given: the identity column (position, the feed's cursor) follows it.
       order by u.ord
    ),
    s as (
      insert into contract_state (contract, key, value, height)
      select u.c, u.k, u.v::jsonb, u.h from unnest($28::text[], $29::text[], $30::text[], $31::bigint[]) as u(c, k, v, h), cp
      on conflict (contract, key) do update set value = excluded.value, height = excluded.height
    ),
    d as (
      delete from contract_state where (contract, key) in (select u.c, u.k from unnest($32::text[], $33::text[]) as u(c, k), cp)
    )
    select pg_notify($34::text, $35::text)::text as n from cp`;
}
const COMMIT_SQL = commitSql(
  `update checkpoint set height = $1::bigint, block_hash = $2::bytea, state_root = $3::bytea, timestamp_ms = $4::bigint,
          last_txs_seq = $5::bigint
    where id = 1 and height = $6::bigint returning 1`,
);
const COMMIT_FIRST_SQL = commitSql(
  `insert into checkpoint (id, height, block_hash, state_root, timestamp_ms, last_txs_seq)
   select 1, $1::bigint, $2::bytea, $3::bytea, $4::bigint, $5::bigint where $6::bigint = 0 on conflict (id) do nothing returning 1`,
);

/** The executor's checkpoint: the last applied block and the state root after it. */
export interface Checkpoint {
  readonly height: bigint;
  readonly blockHash: Uint8Array;
  readonly stateRoot: Uint8Array;
  readonly timestampMs: bigint;
  readonly lastTxsSeq: bigint;
}

/** Rows per page when the seen filter loads the authenticated tx ids already applied. */
const SEEN_PAGE_ROWS = 20_000;

/** The executor's tables: results, events, contract state and the checkpoint. */
export class EffectsStore {
  /**
   * With o.seenFilter: a Bloom filter of the authenticated tx ids applied, so seen() asks the
   * database only about ids the filter may hold (almost never, for new transactions). It holds
   * what this store committed, and loads what was applied before it started in the background;
   * until that load ends every id goes to the database.
   */
  private readonly filter: SeenTxFilter | undefined;
  private filterReady = false;

  private readonly stateCache: StateCache | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    o: {
      seenFilter?: boolean;
      seenFilterMaxIds?: number;
      /** Written through after each commit (the DbStateReader the executor reads with holds the same cache). */
      stateCache?: StateCache;
    } = {},
  ) {
    this.stateCache = o.stateCache;
    if (o.seenFilter === true) {
      this.filter = new SeenTxFilter(o.seenFilterMaxIds);
      void this.loadFilter();
    }
  }

  /** True once the seen filter has loaded what was applied before (it then spares seen() most lookups). */
  get seenFilterReady(): boolean {
    return this.filterReady;
  }

  /** Loads the authenticated tx ids applied up to the checkpoint when the filter was made. */
  private async loadFilter(): Promise<void> {
    const filter = this.filter!;
    try {
      const cp = await this.checkpoint();
      if (cp !== undefined) {
        let after = { height: -1n, txIndex: 2 ** 31 - 1 };
        for (;;) {
          const rows = await preparedQuery<{ tx_id: Uint8Array; height: bigint; tx_index: number }>(
            this.db,
            "tally_seen_load",
            `select tx_id, height, tx_index from tx_results
              where authenticated and height <= $1::bigint and (height, tx_index) > ($2::bigint, $3::int)
              order by height, tx_index limit ${SEEN_PAGE_ROWS}`,
            [cp.height, after.height, after.txIndex],
          );
          for (const r of rows) filter.add(r.tx_id);
          const last = rows.at(-1);
          if (last === undefined || rows.length < SEEN_PAGE_ROWS) break;
          after = { height: last.height, txIndex: last.tx_index };
        }
      }
      this.filterReady = true;
    } catch {
      // Not ready: every id keeps going to the database.
    }
  }

  async checkpoint(): Promise<Checkpoint | undefined> {
    const r = await this.db.selectFrom("checkpoint").selectAll().where("id", "=", 1).executeTakeFirst();
    return r === undefined
      ? undefined
      : { height: r.height, blockHash: r.block_hash, stateRoot: r.state_root, timestampMs: r.timestamp_ms, lastTxsSeq: r.last_txs_seq };
  }

  /** Which of these tx ids already have an authenticated inclusion (signatures verified). */
  async seen(all: readonly Uint8Array[]): Promise<Set<string>> {
    const out = new Set<string>();
    const filter = this.filter;
    const ids = filter !== undefined && this.filterReady && filter.usable ? all.filter((id) => filter.mayContain(id)) : all;
    if (ids.length === 0) return out;
    const rows = await preparedQuery<{ tx_id: Uint8Array }>(
      this.db,
      "tally_seen",
      "select tx_id from tx_results where tx_id = any($1::bytea[]) and authenticated",
      [ids],
    );
    for (const r of rows) out.add(toHex(r.tx_id));
    return out;
  }

  /**
   * Writes a block's results, events, state changes and the new checkpoint in ONE database
   * transaction. The checkpoint only advances from the expected previous height, so a block
   * can never be applied twice, even by two executors racing on the same database.
   */
  commit(e: BlockEffects, prevHeight: bigint | undefined): Promise<void> {
    return this.commitMany([e], prevHeight);
  }

  /**
   * Writes consecutive blocks' effects and the checkpoint after the last of them in ONE
   * database transaction: all of them or none. Rows of all the blocks share statements, so an
   * executor that fell behind catches up with a few large writes instead of many small ones.
   */
  async commitMany(effects: readonly BlockEffects[], prevHeight: bigint | undefined): Promise<void> {
    const last = effects.at(-1);
    if (last === undefined) return;
    for (let i = 1; i < effects.length; i++) {
      if (effects[i]!.height !== effects[i - 1]!.height + 1n)
        throw new InvariantError("commitMany needs consecutive heights", "HEIGHT_GAP");
    }
    // Column arrays: every row of every block goes to PostgreSQL as one array parameter per column
    // (unnest), so a commit is one statement whatever the number of rows.
    const r = {
      height: [] as bigint[],
      txIndex: [] as number[],
      txId: [] as Uint8Array[],
      committed: [] as boolean[],
      authenticated: [] as boolean[],
      reasonCode: [] as string[],
      message: [] as string[],
      signer: [] as string[],
      contract: [] as string[],
      action: [] as string[],
    };
    const ev = {
      height: [] as bigint[],
      txIndex: [] as number[],
      eventIndex: [] as number[],
      txId: [] as Uint8Array[],
      contract: [] as string[],
      type: [] as string[],
      assetId: [] as string[],
      parties: [] as string[],
      data: [] as string[],
      blockTimeMs: [] as bigint[],
      signer: [] as string[],
    };
    for (const e of effects) {
      for (const x of e.results) {
        r.height.push(e.height);
        r.txIndex.push(x.txIndex);
        r.txId.push(x.txId);
        r.committed.push(x.committed);
        r.authenticated.push(x.authenticated);
        r.reasonCode.push(x.reasonCode);
        r.message.push(x.message);
        r.signer.push(x.signer);
        r.contract.push(x.contract);
        r.action.push(x.action);
      }
      for (const x of e.events) {
        ev.height.push(e.height);
        ev.txIndex.push(x.txIndex);
        ev.eventIndex.push(x.eventIndex);
        ev.txId.push(x.txId);
        ev.contract.push(x.contract);
        ev.type.push(x.event.type);
        ev.assetId.push(x.event.assetId);
        ev.parties.push(JSON.stringify(x.event.parties));
        ev.data.push(JSON.stringify(x.event.data));
        ev.blockTimeMs.push(e.blockTimeMs);
        ev.signer.push(x.signer);
      }
    }
    // Later blocks' writes to a key replace earlier ones.
    const finalState = new Map<string, Map<string, { value: JsonValue | null; height: bigint }>>();
    for (const e of effects) {
      for (const [contract, changes] of e.updates) {
        let m = finalState.get(contract);
        if (m === undefined) finalState.set(contract, (m = new Map()));
        for (const [key, value] of changes) m.set(key, { value, height: e.height });
      }
    }
    const up = { contract: [] as string[], key: [] as string[], value: [] as string[], height: [] as bigint[] };
    const del = { contract: [] as string[], key: [] as string[] };
    for (const [contract, changes] of finalState) {
      for (const [key, { value, height }] of changes) {
        if (value === null) {
          del.contract.push(contract);
          del.key.push(key);
        } else {
          up.contract.push(contract);
          up.key.push(key);
          up.value.push(JSON.stringify(value));
          up.height.push(height);
        }
      }
    }
    const membershipChanged = effects.some((e) => e.updates.has(MEMBERSHIP_CONTRACT));
    const notice = heightNoticePayload({ source: "executor", height: last.height, membershipChanged });
    const first = prevHeight === undefined;
    const written = await this.commitStatement(first ? "tally_commit_first" : "tally_commit", first ? COMMIT_FIRST_SQL : COMMIT_SQL, [
      last.height,
      last.blockHash,
      last.stateRoot,
      last.blockTimeMs,
      last.lastTxsSeq,
      first ? 0n : prevHeight,
      r.height,
      r.txIndex,
      r.txId,
      r.committed,
      r.authenticated,
      r.reasonCode,
      r.message,
      r.signer,
      r.contract,
      r.action,
      ev.height,
      ev.txIndex,
      ev.eventIndex,
      ev.txId,
      ev.contract,
      ev.type,
      ev.assetId,
      ev.parties,
      ev.data,
      ev.blockTimeMs,
      ev.signer,
      up.contract,
      up.key,
      up.value,
      up.height,
      del.contract,
      del.key,
      HEIGHT_CHANNEL,
      notice,
    ]);
    if (written.length === 1) {
      if (this.filter !== undefined)
        for (const e of effects) for (const x of e.results) if (x.authenticated && x.txId.byteLength === 32) this.filter.add(x.txId);
      const cache = this.stateCache;
      if (cache !== undefined)
        for (const [contract, changes] of finalState) for (const [key, { value }] of changes) cache.set(contract, key, value);
    } else {
      throw first
        ? new InvariantError(`checkpoint already exists: block ${effects[0]!.height} cannot be the first applied`, "CHECKPOINT_RACE")
        : new InvariantError(`checkpoint is not at height ${prevHeight}: block ${effects[0]!.height} applied elsewhere`, "CHECKPOINT_RACE");
    }
  }

  /** Runs a commit statement; on any failure the state cache is dropped (the outcome may be unknown). */
  private async commitStatement(name: string, text: string, values: readonly unknown[]): Promise<{ n: string }[]> {
    try {
      return await preparedQuery<{ n: string }>(this.db, name, text, values);
    } catch (e) {
      this.stateCache?.clear();
      throw e;
    }
  }

  /** The results recorded at a height, in tx order (to rebuild a receipt after a restart). */
  async resultsAt(
    height: bigint,
  ): Promise<{ tx_index: number; tx_id: Uint8Array; committed: boolean; reason_code: string; message: string }[]> {
    return this.db
      .selectFrom("tx_results")
      .select(["tx_index", "tx_id", "committed", "reason_code", "message"])
      .where("height", "=", height)
      .orderBy("tx_index")
      .execute();
  }

  /** One page of an asset's history after the cursor (see readHistory). */
  history(contract: string, assetId: string, after: EventCursor | undefined, limit: number): Promise<HistoryPage> {
    return readHistory(this.db, contract, assetId, after, limit);
  }

  async resultOf(
    txId: Uint8Array,
  ): Promise<{ height: bigint; tx_index: number; committed: boolean; reason_code: string; message: string } | undefined> {
    // The first inclusion: a copy later in the same block is a DUPLICATE row with the same id.
    return this.db
      .selectFrom("tx_results")
      .select(["height", "tx_index", "committed", "reason_code", "message"])
      .where("tx_id", "=", txId)
      .orderBy("height")
      .orderBy("tx_index")
      .limit(1)
      .executeTakeFirst();
  }
}
