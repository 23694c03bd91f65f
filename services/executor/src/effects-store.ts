import { sql, type Kysely } from "kysely";
import { HEIGHT_CHANNEL, heightNoticePayload, readHistory, type Database, type HistoryPage } from "@tally/db";
import { MEMBERSHIP_CONTRACT } from "@tally/contracts";
import { InvariantError, toHex, type JsonValue } from "@tally/ledger";
import type { EventCursor } from "@tally/proto/types";
import type { BlockEffects } from "./block-executor.js";

const INSERT_ROWS_MAX = 500;
const TX_IDS_PER_QUERY_MAX = 1000;

/** The executor's checkpoint: the last applied block and the state root after it. */
export interface Checkpoint {
  readonly height: bigint;
  readonly blockHash: Uint8Array;
  readonly stateRoot: Uint8Array;
  readonly timestampMs: bigint;
  readonly lastTxsSeq: bigint;
}

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** The executor's tables: results, events, contract state and the checkpoint. */
export class EffectsStore {
  constructor(private readonly db: Kysely<Database>) {}

  async checkpoint(): Promise<Checkpoint | undefined> {
    const r = await this.db.selectFrom("checkpoint").selectAll().where("id", "=", 1).executeTakeFirst();
    return r === undefined
      ? undefined
      : { height: r.height, blockHash: r.block_hash, stateRoot: r.state_root, timestampMs: r.timestamp_ms, lastTxsSeq: r.last_txs_seq };
  }

  /** Which of these tx ids already have an authenticated inclusion (signatures verified). */
  async seen(ids: readonly Uint8Array[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (const part of chunks(ids, TX_IDS_PER_QUERY_MAX)) {
      if (part.length === 0) continue;
      const rows = await this.db
        .selectFrom("tx_results")
        .select("tx_id")
        .where("tx_id", "in", part)
        .where("authenticated", "=", true)
        .execute();
      for (const r of rows) out.add(toHex(r.tx_id));
    }
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
    const results = effects.flatMap((e) =>
      e.results.map((r) => ({
        height: e.height,
        tx_index: r.txIndex,
        tx_id: r.txId,
        committed: r.committed,
        authenticated: r.authenticated,
        reason_code: r.reasonCode,
        message: r.message,
        signer: r.signer,
        contract: r.contract,
        action: r.action,
      })),
    );
    const events = effects.flatMap((e) =>
      e.events.map((ev) => ({
        height: e.height,
        tx_index: ev.txIndex,
        event_index: ev.eventIndex,
        tx_id: ev.txId,
        contract: ev.contract,
        type: ev.event.type,
        asset_id: ev.event.assetId,
        parties: [...ev.event.parties],
        data: JSON.stringify(ev.event.data),
        block_time_ms: e.blockTimeMs,
        signer: ev.signer,
      })),
    );
    // Later blocks' writes to a key replace earlier ones.
    const finalState = new Map<string, Map<string, { value: JsonValue | null; height: bigint }>>();
    for (const e of effects) {
      for (const [contract, changes] of e.updates) {
        let m = finalState.get(contract);
        if (m === undefined) finalState.set(contract, (m = new Map()));
        for (const [key, value] of changes) m.set(key, { value, height: e.height });
      }
    }
    const membershipChanged = effects.some((e) => e.updates.has(MEMBERSHIP_CONTRACT));
    await this.db.transaction().execute(async (trx) => {
      const cp = {
        height: last.height,
        block_hash: last.blockHash,
        state_root: last.stateRoot,
        timestamp_ms: last.blockTimeMs,
        last_txs_seq: last.lastTxsSeq,
      };
      if (prevHeight === undefined) {
        // A second first commit (two executors racing on genesis) is the same race as below,
        // not a unique-violation from the driver.
        const r = await trx
          .insertInto("checkpoint")
          .values({ id: 1, ...cp })
          .onConflict((oc) => oc.column("id").doNothing())
          .executeTakeFirst();
        if (r.numInsertedOrUpdatedRows !== 1n)
          throw new InvariantError(`checkpoint already exists: block ${effects[0]!.height} cannot be the first applied`, "CHECKPOINT_RACE");
      } else {
        const r = await trx.updateTable("checkpoint").set(cp).where("id", "=", 1).where("height", "=", prevHeight).executeTakeFirst();
        if (r.numUpdatedRows !== 1n)
          throw new InvariantError(
            `checkpoint is not at height ${prevHeight}: block ${effects[0]!.height} applied elsewhere`,
            "CHECKPOINT_RACE",
          );
      }
      for (const part of chunks(results, INSERT_ROWS_MAX)) await trx.insertInto("tx_results").values(part).execute();
      for (const part of chunks(events, INSERT_ROWS_MAX)) await trx.insertInto("events").values(part).execute();
      for (const [contract, changes] of finalState) {
        const upserts: { contract: string; key: string; value: string; height: bigint }[] = [];
        const deletes: string[] = [];
        for (const [key, { value, height }] of changes) {
          if (value === null) deletes.push(key);
          else upserts.push({ contract, key, value: JSON.stringify(value), height });
        }
        for (const part of chunks(upserts, INSERT_ROWS_MAX)) {
          await trx
            .insertInto("contract_state")
            .values(part)
            .onConflict((oc) =>
              oc.columns(["contract", "key"]).doUpdateSet((eb) => ({ value: eb.ref("excluded.value"), height: eb.ref("excluded.height") })),
            )
            .execute();
        }
        for (const part of chunks(deletes, INSERT_ROWS_MAX)) {
          await trx.deleteFrom("contract_state").where("contract", "=", contract).where("key", "in", part).execute();
        }
      }
      const notice = heightNoticePayload({ source: "executor", height: last.height, membershipChanged });
      await sql`select pg_notify(${HEIGHT_CHANNEL}, ${notice})`.execute(trx);
    });
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
