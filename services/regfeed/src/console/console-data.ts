// What the supervision console reads, from the regulator node's own database: the same tables the
// regulator feed serves (blocks, transactions, tx_results, events, alerts, access_log) and the
// finality tracker's receipts. JSON-ready shapes: bytes as hex, 64-bit numbers as decimal strings.
import { sql, type Kysely } from "kysely";
import { HISTORY_PAGE_MAX, readHistory, readLineage, type Database } from "@tally/db";
import { decodeBlock, fromUtf8, inclusionProofFromLeafHashes, toHex, type Genesis } from "@tally/ledger";
import type { Alert } from "@tally/proto/regfeed";

/** The window block and tx rates are measured over. */
export const RATE_WINDOW_MS = 60_000;
/** Newest blocks the live view lists. */
const RECENT_BLOCKS = 10;
/** Failovers are looked for among this many newest blocks. */
const FAILOVER_SCAN_BLOCKS = 10_000;
/** Node heights come from receipts among this many newest heights. */
const RECEIPT_SCAN_HEIGHTS = 10_000;
/** Most blocks one list answer holds. */
export const BLOCK_LIST_MAX = 100;

const str = (v: bigint | number | null | undefined): string | null => (v === null || v === undefined ? null : v.toString());

export interface LiveSnapshot {
  atMs: string;
  height: string;
  blockHash: string;
  stateRoot: string;
  tipTimeMs: string;
  windowMs: number;
  blockRate: number;
  txPerSecond: { contract: string; count: number; perSecond: number }[];
  sequencer: { id: string; epoch: string };
  failovers: { height: string; from: string; to: string; epoch: string; timeMs: string }[];
  finality: { height: string; lagMs: string | null };
  nodes: { id: string; height: string | null; lagBlocks: string | null; stateRoot: string; agreement: string }[];
  recentBlocks: { height: string; hash: string; txCount: number; sequencerId: string; epoch: string; timeMs: string }[];
}

export function alertJson(a: Alert): Record<string, unknown> {
  let details: unknown = null;
  try {
    details = JSON.parse(fromUtf8(a.details));
  } catch {
    details = null;
  }
  return {
    seq: a.seq.toString(),
    rule: a.rule,
    ruleId: a.ruleId,
    height: a.height.toString(),
    txId: toHex(a.txId),
    assetId: a.assetId,
    subjects: a.subjects,
    summary: a.summary,
    details,
    blockTimeMs: a.blockTimeMs.toString(),
    acked: a.acked,
    ackedBy: a.ackedBy,
    ackedAtMs: a.ackedAtMs.toString(),
    ackNote: a.ackNote,
  };
}

/** Reads for the console. Every method takes already-validated arguments. */
export class ConsoleData {
  private readonly sequencerKeys: Map<string, string>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly genesis: Genesis,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.sequencerKeys = new Map(genesis.sequencers.map((s) => [s.id, s.publicKey]));
  }

  /** The live view: chain height and rates, sequencer and failovers, finality and every validator's agreement. */
  async live(): Promise<LiveSnapshot> {
    const now = this.nowMs();
    const since = BigInt(now - RATE_WINDOW_MS);
    const cp = await this.db.selectFrom("checkpoint").selectAll().where("id", "=", 1).executeTakeFirst();
    const tip = cp?.height ?? 0n;
    const recent = await this.db
      .selectFrom("blocks")
      .select(["height", "hash", "tx_count", "sequencer_id", "epoch", "timestamp_ms"])
      .orderBy("height", "desc")
      .limit(RECENT_BLOCKS)
      .execute();
    const lowest = tip > BigInt(FAILOVER_SCAN_BLOCKS) ? tip - BigInt(FAILOVER_SCAN_BLOCKS) : 0n;
    const inWindow = await this.db
      .selectFrom("blocks")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("height", ">", lowest)
      .where("timestamp_ms", ">=", since)
      .executeTakeFirst();
    const txs = await this.db
      .selectFrom("tx_results as r")
      .innerJoin("blocks as b", "b.height", "r.height")
      .select(["r.contract", (eb) => eb.fn.countAll<string>().as("n")])
      .where("b.height", ">", lowest)
      .where("b.timestamp_ms", ">=", since)
      .where("r.committed", "=", true)
      .groupBy("r.contract")
      .orderBy("r.contract")
      .execute();
    // A failover is a block whose sequencer or epoch differs from its predecessor's (genesis excluded).
    const failovers = await sql<{ height: bigint; from: string; to: string; epoch: bigint; timestamp_ms: bigint }>`
      select height, prev_seq as "from", sequencer_id as "to", epoch, timestamp_ms from (
        select height, sequencer_id, epoch, timestamp_ms,
               lag(sequencer_id) over (order by height) as prev_seq,
               lag(epoch) over (order by height) as prev_epoch
        from blocks where height > ${lowest}
      ) b
      where prev_epoch is not null and height > 1 and (prev_epoch <> epoch or prev_seq <> sequencer_id)
      order by height desc limit 20`.execute(this.db);
    const fin = await this.db.selectFrom("finality").select(["height", "lag_ms"]).orderBy("height", "desc").limit(1).executeTakeFirst();
    const lowReceipt = tip > BigInt(RECEIPT_SCAN_HEIGHTS) ? tip - BigInt(RECEIPT_SCAN_HEIGHTS) : 0n;
    const receipts = await sql<{ node_id: string; height: bigint; state_root: Uint8Array; final_root: Uint8Array | null }>`
      select distinct on (r.node_id) r.node_id, r.height, r.state_root, f.state_root as final_root
      from validator_receipts r left join finality f on f.height = r.height
      where r.height > ${lowReceipt}
      order by r.node_id, r.height desc`.execute(this.db);
    const byNode = new Map(receipts.rows.map((r) => [r.node_id, r]));
    const ids = [...new Set([...this.genesis.validators.map((v) => v.nodeId), ...byNode.keys()])].sort();
    const top = recent[0];
    const windowS = RATE_WINDOW_MS / 1000;
    return {
      atMs: String(now),
      height: tip.toString(),
      blockHash: cp === undefined ? "" : toHex(cp.block_hash),
      stateRoot: cp === undefined ? "" : toHex(cp.state_root),
      tipTimeMs: str(cp?.timestamp_ms) ?? "0",
      windowMs: RATE_WINDOW_MS,
      blockRate: Number(inWindow?.n ?? 0) / windowS,
      txPerSecond: txs.map((t) => ({ contract: t.contract, count: Number(t.n), perSecond: Number(t.n) / windowS })),
      sequencer: { id: top?.sequencer_id ?? "", epoch: str(top?.epoch) ?? "0" },
      failovers: failovers.rows.map((f) => ({
        height: f.height.toString(),
        from: f.from,
        to: f.to,
        epoch: f.epoch.toString(),
        timeMs: f.timestamp_ms.toString(),
      })),
      finality: { height: str(fin?.height) ?? "0", lagMs: str(fin?.lag_ms) },
      nodes: ids.map((id) => {
        const r = byNode.get(id);
        if (r === undefined) return { id, height: null, lagBlocks: null, stateRoot: "", agreement: "no receipts" };
        const agreement = r.final_root === null ? "pending" : toHex(r.final_root) === toHex(r.state_root) ? "agrees" : "DIVERGES";
        return {
          id,
          height: r.height.toString(),
          lagBlocks: (tip > r.height ? tip - r.height : 0n).toString(),
          stateRoot: toHex(r.state_root),
          agreement,
        };
      }),
      recentBlocks: recent.map((b) => ({
        height: b.height.toString(),
        hash: toHex(b.hash),
        txCount: b.tx_count,
        sequencerId: b.sequencer_id,
        epoch: b.epoch.toString(),
        timeMs: b.timestamp_ms.toString(),
      })),
    };
  }

  /** Newest blocks at or below `below` (the tip when undefined), newest first. */
  async blocks(below: bigint | undefined, limit: number): Promise<{ blocks: Record<string, unknown>[] }> {
    let q = this.db.selectFrom("blocks").select(["height", "hash", "tx_count", "sequencer_id", "epoch", "timestamp_ms"]);
    if (below !== undefined) q = q.where("height", "<=", below);
    const rows = await q.orderBy("height", "desc").limit(limit).execute();
    return {
      blocks: rows.map((b) => ({
        height: b.height.toString(),
        hash: toHex(b.hash),
        txCount: b.tx_count,
        sequencerId: b.sequencer_id,
        epoch: b.epoch.toString(),
        timeMs: b.timestamp_ms.toString(),
      })),
    };
  }

  /** One block with its transactions and their outcomes; undefined when the node has no such block. */
  async block(height: bigint): Promise<Record<string, unknown> | undefined> {
    const b = await this.db.selectFrom("blocks").selectAll().where("height", "=", height).executeTakeFirst();
    if (b === undefined) return undefined;
    const txs = await this.db
      .selectFrom("transactions as t")
      .leftJoin("tx_results as r", (j) => j.onRef("r.height", "=", "t.height").onRef("r.tx_index", "=", "t.tx_index"))
      .select(["t.tx_index", "t.tx_id", "t.signer", "t.contract", "t.action", "r.committed", "r.reason_code"])
      .where("t.height", "=", height)
      .orderBy("t.tx_index")
      .execute();
    return {
      height: b.height.toString(),
      hash: toHex(b.hash),
      prevHash: toHex(b.prev_hash),
      txRoot: toHex(b.tx_root),
      txCount: b.tx_count,
      timeMs: b.timestamp_ms.toString(),
      sequencerId: b.sequencer_id,
      epoch: b.epoch.toString(),
      txs: txs.map((t) => ({
        txIndex: t.tx_index,
        txId: toHex(t.tx_id),
        signer: t.signer,
        contract: t.contract,
        action: t.action,
        committed: t.committed,
        reasonCode: t.reason_code ?? "",
      })),
    };
  }

  /**
   * A transaction with everything the browser needs to verify its inclusion itself: the signed tx,
   * its audit path, the block's header bytes and signature, and the sequencer's genesis key.
   */
  async tx(txId: Uint8Array): Promise<Record<string, unknown> | undefined> {
    const t = await this.db.selectFrom("transactions").selectAll().where("tx_id", "=", txId).executeTakeFirst();
    if (t === undefined) return undefined;
    const b = await this.db.selectFrom("blocks").select("raw").where("height", "=", t.height).executeTakeFirst();
    // The blockstore stores a block and its transactions in one database transaction.
    if (b === undefined) throw new Error(`invariant: transaction stored at height ${t.height} without its block`);
    const r = await this.db
      .selectFrom("tx_results")
      .select(["committed", "reason_code"])
      .where("height", "=", t.height)
      .where("tx_index", "=", t.tx_index)
      .executeTakeFirst();
    const block = decodeBlock(b.raw);
    return {
      txId: toHex(t.tx_id),
      height: t.height.toString(),
      leafIndex: t.tx_index,
      treeSize: block.leafHashes.length,
      path: inclusionProofFromLeafHashes(block.leafHashes, t.tx_index).map(toHex),
      signedTx: toHex(t.raw),
      header: toHex(block.block.header),
      headerSignature: toHex(block.block.signature),
      sequencerId: block.header.sequencerId,
      sequencerPublicKey: this.sequencerKeys.get(block.header.sequencerId) ?? "",
      signer: t.signer,
      contract: t.contract,
      action: t.action,
      committed: r?.committed ?? null,
      reasonCode: r?.reason_code ?? "",
    };
  }

  /** The asset a transaction's events are about (the first event with an asset), if any. */
  async assetOfTx(txId: Uint8Array): Promise<{ contract: string; assetId: string } | undefined> {
    const e = await this.db
      .selectFrom("events")
      .select(["contract", "asset_id"])
      .where("tx_id", "=", txId)
      .where("asset_id", "<>", "")
      .orderBy("position")
      .limit(1)
      .executeTakeFirst();
    return e === undefined ? undefined : { contract: e.contract, assetId: e.asset_id };
  }

  /** An asset's life (one page of at most HISTORY_PAGE_MAX events) and its lineage, from one snapshot. */
  async history(contract: string | undefined, assetId: string): Promise<Record<string, unknown>> {
    return this.db
      .transaction()
      .setIsolationLevel("repeatable read")
      .execute(async (tx) => {
        const page = await readHistory(tx, contract, assetId, undefined, HISTORY_PAGE_MAX);
        const lineage = await readLineage(tx, contract, assetId);
        const cp = await tx.selectFrom("checkpoint").select("height").where("id", "=", 1).executeTakeFirst();
        return {
          assetId,
          contract: contract ?? "",
          height: (cp?.height ?? 0n).toString(),
          more: page.more,
          lineage,
          entries: page.entries.map((h) => {
            const e = h.event!;
            let data: unknown = null;
            try {
              data = JSON.parse(fromUtf8(e.data));
            } catch {
              data = null;
            }
            return {
              height: e.cursor!.height.toString(),
              txIndex: e.cursor!.txIndex,
              eventIndex: e.cursor!.eventIndex,
              txId: toHex(e.txId),
              contract: e.contract,
              type: e.type,
              assetId: e.assetId,
              parties: e.parties,
              data,
              blockTimeMs: e.blockTimeMs.toString(),
              signers: h.signers,
            };
          }),
        };
      });
  }

  /** Access-log entries, newest first (below an id) or oldest first (after an id), optionally one caller's. */
  async accessLog(o: {
    afterId?: bigint;
    beforeId?: bigint;
    newest: boolean;
    limit: number;
    caller?: string;
  }): Promise<{ entries: unknown[] }> {
    let q = this.db.selectFrom("access_log").selectAll();
    if (o.afterId !== undefined) q = q.where("id", ">", o.afterId);
    if (o.beforeId !== undefined) q = q.where("id", "<", o.beforeId);
    if (o.caller !== undefined) q = q.where("caller", "=", o.caller);
    const rows = await q
      .orderBy("id", o.newest ? "desc" : "asc")
      .limit(o.limit)
      .execute();
    return {
      entries: rows.map((r) => ({ id: r.id.toString(), atMs: r.at_ms.toString(), caller: r.caller, rpc: r.rpc, request: r.request })),
    };
  }
}
