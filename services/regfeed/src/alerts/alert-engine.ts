// The regulator node's supervision: alerts derived deterministically from committed data (the
// node's events and tx_results, and the receipts other nodes published). Heights are evaluated
// strictly in order, each batch in one PostgreSQL transaction with the engine's checkpoint, so a
// restart neither skips a height nor raises an alert twice (each alert also has a dedupe key).
// A rule set changed at height h applies from height h + 1.
import { sql, type Kysely, type Transaction } from "kysely";
import type { Database } from "@tally/db";
import { bytesEqual, canonicalJson, toHex, type JsonValue } from "@tally/ledger";
import { eventAmount } from "../amount.js";
import { NO_RULES, parseSupervision, type SupervisionRules } from "./supervision-rules.js";
import { transferOf, type Transfer } from "./transfers.js";

/** An alert before it is numbered. */
export interface AlertDraft {
  readonly rule: string;
  readonly ruleId: string;
  readonly height: bigint;
  readonly txId: Uint8Array;
  readonly assetId: string;
  readonly subjects: readonly string[];
  readonly summary: string;
  readonly details: JsonValue;
  readonly blockTimeMs: bigint;
  readonly dedupeKey: string;
}

/** Who validates, for the divergence rule: from genesis. */
export interface ValidatorQuorum {
  readonly validators: readonly string[];
  readonly quorumNumerator: number;
  readonly quorumDenominator: number;
}

/** Most heights one step evaluates (one database transaction). */
export const ALERT_STEP_HEIGHTS_MAX = 64;

/** Most heights back the divergence rule re-examines when receipts arrive late. */
export const DIVERGENCE_LOOKBACK_HEIGHTS = 10_000n;

interface EventRow {
  readonly height: bigint;
  readonly tx_index: number;
  readonly event_index: number;
  readonly tx_id: Uint8Array;
  readonly contract: string;
  readonly type: string;
  readonly asset_id: string;
  readonly parties: string[];
  readonly data: unknown;
  readonly block_time_ms: bigint;
}

type Tx = Transaction<Database>;

const str = (d: unknown, f: string): string | undefined => {
  if (typeof d !== "object" || d === null) return undefined;
  const v = (d as Record<string, unknown>)[f];
  return typeof v === "string" ? v : undefined;
};

/** Evaluates the supervision rules over committed heights and persists alerts. */
export class AlertEngine {
  /** Transfers of the last roundTrip.windowBlocks heights evaluated, oldest first; rebuilt after a restart. */
  private window: Transfer[] = [];
  private windowThrough: bigint | undefined;
  private readonly pendingReceiptHeights = new Set<bigint>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly quorum: ValidatorQuorum | undefined,
    private readonly onAlerts: () => void = () => undefined,
  ) {}

  /** A receipt for this height was stored: the divergence rule looks at it on the next step. */
  receiptStored(height: bigint): void {
    this.pendingReceiptHeights.add(height);
  }

  /** Evaluates up to ALERT_STEP_HEIGHTS_MAX committed heights; returns how many it evaluated. */
  async step(): Promise<number> {
    let raised = 0;
    const done = await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto("alert_checkpoint")
        .values({ id: 1, height: -1n })
        .onConflict((c) => c.doNothing())
        .execute();
      const cp = (await tx.selectFrom("alert_checkpoint").select("height").where("id", "=", 1).forUpdate().executeTakeFirstOrThrow())
        .height;
      const head = (await tx.selectFrom("checkpoint").select("height").where("id", "=", 1).executeTakeFirst())?.height;
      let seq = BigInt(
        (
          await tx
            .selectFrom("alerts")
            .select(sql<string>`coalesce(max(seq), 0)`.as("m"))
            .executeTakeFirstOrThrow()
        ).m,
      );
      const put = async (a: AlertDraft): Promise<void> => {
        const r = await tx
          .insertInto("alerts")
          .values({
            seq: seq + 1n,
            rule: a.rule,
            rule_id: a.ruleId,
            height: a.height,
            tx_id: a.txId,
            asset_id: a.assetId,
            subjects: [...a.subjects],
            summary: a.summary,
            details: canonicalJson(a.details),
            block_time_ms: a.blockTimeMs,
            dedupe_key: a.dedupeKey,
            acked_by: null,
            acked_at_ms: null,
          })
          .onConflict((c) => c.column("dedupe_key").doNothing())
          .returning("seq")
          .executeTakeFirst();
        if (r !== undefined) {
          seq += 1n;
          raised++;
        }
      };
      let n = 0;
      if (head !== undefined && head > cp) {
        const to = head < cp + BigInt(ALERT_STEP_HEIGHTS_MAX) ? head : cp + BigInt(ALERT_STEP_HEIGHTS_MAX);
        let rules = await this.rulesBefore(tx, cp + 1n);
        await this.loadWindow(tx, rules, cp);
        const events = await tx
          .selectFrom("events")
          .select(["height", "tx_index", "event_index", "tx_id", "contract", "type", "asset_id", "parties", "data", "block_time_ms"])
          .where("height", ">", cp)
          .where("height", "<=", to)
          .orderBy("height")
          .orderBy("tx_index")
          .orderBy("event_index")
          .execute();
        const results = await tx
          .selectFrom("tx_results")
          .select(["height", "tx_index", "tx_id", "committed", "reason_code", "signer", "action"])
          .where("height", ">", cp)
          .where("height", "<=", to)
          .orderBy("height")
          .orderBy("tx_index")
          .execute();
        let ei = 0;
        let ri = 0;
        for (let h = cp + 1n; h <= to; h++) {
          const blockEvents: EventRow[] = [];
          while (ei < events.length && events[ei]!.height === h) blockEvents.push(events[ei++]!);
          const blockResults: (typeof results)[number][] = [];
          while (ri < results.length && results[ri]!.height === h) blockResults.push(results[ri++]!);
          const actions = new Map(blockResults.map((r) => [r.tx_index, r.action]));
          for (const a of await this.evaluate(tx, rules, h, blockEvents, blockResults, actions)) await put(a);
          // A new rule set applies from the next block.
          const changed = blockEvents
            .filter((e) => e.contract === "membership" && (e.type === "SupervisionChanged" || e.type === "ChainConfigInitialised"))
            .at(-1);
          if (changed !== undefined) {
            rules = parseSupervision((changed.data as { supervision?: JsonValue }).supervision);
            this.windowThrough = undefined;
            await this.loadWindow(tx, rules, h);
          }
          n++;
        }
        await tx.updateTable("alert_checkpoint").set({ height: to }).where("id", "=", 1).execute();
      }
      for (const a of await this.divergence(tx, head)) await put(a);
      return n;
    });
    if (raised > 0) this.onAlerts();
    return done;
  }

  /** The rules in force after height h − 1: the last SupervisionChanged (or genesis config) before h. */
  private async rulesBefore(tx: Tx, h: bigint): Promise<SupervisionRules> {
    const row = await tx
      .selectFrom("events")
      .select("data")
      .where("contract", "=", "membership")
      .where("type", "in", ["SupervisionChanged", "ChainConfigInitialised"])
      .where("height", "<", h)
      .orderBy("height", "desc")
      .orderBy("tx_index", "desc")
      .orderBy("event_index", "desc")
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? NO_RULES : parseSupervision((row.data as { supervision?: JsonValue }).supervision);
  }

  /** Rebuilds the round-trip window (transfers of heights through−W+1..through) unless it is current. */
  private async loadWindow(tx: Tx, rules: SupervisionRules, through: bigint): Promise<void> {
    if (rules.roundTrip === undefined) {
      this.window = [];
      this.windowThrough = through;
      return;
    }
    if (this.windowThrough === through) return;
    const from = through - BigInt(rules.roundTrip.windowBlocks) + 1n;
    const rows = await tx
      .selectFrom("events")
      .select(["height", "tx_index", "tx_id", "contract", "asset_id", "data"])
      .where("height", ">=", from)
      .where("height", "<=", through)
      .where(sql<boolean>`((data ? 'from' and data ? 'to') or (data ? 'seller' and data ? 'buyer'))`)
      .orderBy("height")
      .orderBy("tx_index")
      .orderBy("event_index")
      .execute();
    this.window = [];
    for (const r of rows) {
      const t = transferOf({
        contract: r.contract,
        assetId: r.asset_id,
        data: r.data,
        height: r.height,
        txIndex: r.tx_index,
        txId: r.tx_id,
      });
      if (t !== undefined) this.window.push(t);
    }
    this.windowThrough = through;
  }

  private async evaluate(
    tx: Tx,
    rules: SupervisionRules,
    h: bigint,
    events: readonly EventRow[],
    results: readonly { tx_index: number; tx_id: Uint8Array; committed: boolean; reason_code: string; signer: string }[],
    actions: ReadonlyMap<number, string>,
  ): Promise<AlertDraft[]> {
    const out: AlertDraft[] = [];
    const at = events[0]?.block_time_ms ?? (await this.blockTime(tx, h));
    const seen = new Set<string>();
    const once = (k: string): boolean => (seen.has(k) ? false : (seen.add(k), true));

    for (const e of events) {
      // Large value: one alert per rule per transaction.
      const amount = eventAmount(e.data);
      for (const r of rules.largeValue) {
        if (amount === undefined || e.contract !== r.contract || amount < r.minAmount) continue;
        if (r.action !== undefined && actions.get(e.tx_index) !== r.action) continue;
        if (!once(`lv:${r.id}:${e.tx_index}`)) continue;
        out.push({
          rule: "large-value",
          ruleId: r.id,
          height: h,
          txId: e.tx_id,
          assetId: e.asset_id,
          subjects: e.parties,
          summary: `${e.contract} ${e.type} of ${amount} on ${e.asset_id} is at least ${r.minAmount} (rule ${r.id})`,
          details: {
            amount: amount.toString(),
            minAmount: r.minAmount.toString(),
            type: e.type,
            txIndex: e.tx_index,
            eventIndex: e.event_index,
          },
          blockTimeMs: e.block_time_ms,
          dedupeKey: `large-value:${r.id}:${h}:${e.tx_index}`,
        });
      }
      // A trade the contract itself flagged against its instrument's threshold.
      if (e.type === "LargeTradeAlert" && once(`lt:${e.tx_index}:${e.event_index}`)) {
        out.push({
          rule: "large-value",
          ruleId: "instrument-threshold",
          height: h,
          txId: e.tx_id,
          assetId: e.asset_id,
          subjects: e.parties,
          summary: `large trade on ${e.asset_id}`,
          details: e.data as JsonValue,
          blockTimeMs: e.block_time_ms,
          dedupeKey: `large-value:instrument-threshold:${h}:${e.tx_index}:${e.event_index}`,
        });
      }
      if (rules.dishonouredBills && e.contract === "bill" && e.type === "BillDishonoured") {
        const subjects = [str(e.data, "acceptor"), str(e.data, "holder")].filter((x): x is string => x !== undefined);
        out.push({
          rule: "dishonoured-bill",
          ruleId: "dishonoured-bill",
          height: h,
          txId: e.tx_id,
          assetId: e.asset_id,
          subjects,
          summary: `bill ${e.asset_id} dishonoured: ${str(e.data, "acceptor") ?? "?"} did not pay ${str(e.data, "amount") ?? "?"} to ${str(e.data, "holder") ?? "?"}`,
          details: e.data as JsonValue,
          blockTimeMs: e.block_time_ms,
          dedupeKey: `dishonoured-bill:${h}:${e.tx_index}:${e.event_index}`,
        });
      }
      if (rules.concentration !== undefined && e.contract === "bond") {
        const a = await this.concentration(tx, rules.concentration.maxShareBp, e);
        if (a !== undefined) out.push(a);
      }
    }

    if (rules.roundTrip !== undefined) {
      const w = BigInt(rules.roundTrip.windowBlocks);
      this.window = this.window.filter((t) => t.height > h - w);
      const fresh: Transfer[] = [];
      for (const e of events) {
        const t = transferOf({ contract: e.contract, assetId: e.asset_id, data: e.data, height: h, txIndex: e.tx_index, txId: e.tx_id });
        if (t === undefined) continue;
        if (!once(`tr:${t.txIndex}:${t.thing}:${t.from}:${t.to}`)) continue;
        // The latest earlier movement the other way, within the window (earlier txs of this block count).
        const out1 = [...this.window, ...fresh].reverse().find((x) => x.thing === t.thing && x.from === t.to && x.to === t.from);
        if (out1 !== undefined) {
          out.push({
            rule: "round-trip",
            ruleId: "round-trip",
            height: h,
            txId: t.txId,
            assetId: t.thing,
            subjects: [t.to, t.from],
            summary: `${t.thing} went ${t.to} → ${t.from} at height ${out1.height} and back at ${h}, within ${rules.roundTrip.windowBlocks} blocks`,
            details: {
              thing: t.thing,
              out: { height: out1.height.toString(), txIndex: out1.txIndex, txId: toHex(out1.txId) },
              back: { height: h.toString(), txIndex: t.txIndex, txId: toHex(t.txId) },
              blocks: (h - out1.height).toString(),
            },
            blockTimeMs: at,
            dedupeKey: `round-trip:${h}:${t.txIndex}:${t.thing}:${t.from}:${t.to}`,
          });
        }
        fresh.push(t);
      }
      this.window.push(...fresh);
      this.windowThrough = h;
    } else {
      this.windowThrough = h;
    }

    if (rules.rejectedAttempts !== undefined) {
      const r = rules.rejectedAttempts;
      const signers = [
        ...new Set(results.filter((x) => !x.committed && r.reasonCodes.includes(x.reason_code)).map((x) => x.signer)),
      ].sort();
      for (const signer of signers) {
        const lo = h - BigInt(r.windowBlocks) + 1n;
        const rows = await tx
          .selectFrom("tx_results")
          .select(["height", "tx_index", "reason_code", "tx_id"])
          .where("signer", "=", signer)
          .where("committed", "=", false)
          .where("reason_code", "in", [...r.reasonCodes])
          .where("height", ">=", lo)
          .where("height", "<=", h)
          .orderBy("height")
          .orderBy("tx_index")
          .execute();
        if (rows.length < r.count) continue;
        // One alert per signer per window: quiet while the last one's window is still open.
        const recent = await tx
          .selectFrom("alerts")
          .select("seq")
          .where("rule", "=", "repeated-rejections")
          .where("rule_id", "=", signer)
          .where("height", ">=", lo)
          .executeTakeFirst();
        if (recent !== undefined) continue;
        const last = rows[rows.length - 1]!;
        out.push({
          rule: "repeated-rejections",
          ruleId: signer,
          height: h,
          txId: last.tx_id,
          assetId: "",
          subjects: [signer],
          summary: `${signer} had ${rows.length} transactions rejected as double-spend/double-finance attempts within ${r.windowBlocks} blocks`,
          details: {
            count: rows.length,
            windowBlocks: r.windowBlocks,
            rejections: rows.map((x) => ({ height: x.height.toString(), txIndex: x.tx_index, reason: x.reason_code })),
          },
          blockTimeMs: at,
          dedupeKey: `repeated-rejections:${signer}:${h}`,
        });
      }
    }
    return out;
  }

  private async blockTime(tx: Tx, h: bigint): Promise<bigint> {
    return (await tx.selectFrom("blocks").select("timestamp_ms").where("height", "=", h).executeTakeFirst())?.timestamp_ms ?? 0n;
  }

  /** A holder crossing maxShareBp of a bond's allotted units, by allotment or by a trade. */
  private async concentration(tx: Tx, maxShareBp: number, e: EventRow): Promise<AlertDraft | undefined> {
    let holder: string | undefined;
    let before: bigint;
    let after: bigint;
    const bond = str(e.data, "bond");
    if (e.type === "UnitsAllotted") {
      holder = str(e.data, "holder");
      before = 0n;
      after = BigInt(str(e.data, "units") ?? "0");
    } else if (e.type === "BondTraded") {
      holder = str(e.data, "buyer");
      after = BigInt(str(e.data, "buyerUnitsAfter") ?? "0");
      before = after - BigInt(str(e.data, "units") ?? "0");
    } else return undefined;
    if (holder === undefined || bond === undefined) return undefined;
    const allotted = await tx
      .selectFrom("events")
      .select("data")
      .where("contract", "=", "bond")
      .where("type", "=", "BondAllotted")
      .where("asset_id", "=", `bond/${bond}`)
      .where(sql<boolean>`(height, tx_index, event_index) < (${e.height}::bigint, ${e.tx_index}::bigint, ${e.event_index}::bigint)`)
      .orderBy("height", "desc")
      .orderBy("tx_index", "desc")
      .limit(1)
      .executeTakeFirst();
    const issued = BigInt(str(allotted?.data, "unitsAllotted") ?? "0");
    if (issued === 0n) return undefined;
    const limit = BigInt(maxShareBp) * issued;
    if (!(after * 10_000n > limit && before * 10_000n <= limit)) return undefined;
    return {
      rule: "concentration",
      ruleId: "concentration",
      height: e.height,
      txId: e.tx_id,
      assetId: `bond/${bond}`,
      subjects: [holder],
      summary: `${holder} holds ${after} of ${issued} units of bond ${bond}, above ${maxShareBp / 100}%`,
      details: { bond, holder, units: after.toString(), issuedUnits: issued.toString(), maxShareBp },
      blockTimeMs: e.block_time_ms,
      dedupeKey: `concentration:${e.height}:${e.tx_index}:${e.event_index}:${holder}`,
    };
  }

  /**
   * A validator whose state root differs from the one a quorum of validators agreed on, at a
   * height this node has executed. Judged from the receipts stored in node_receipts.
   */
  private async divergence(tx: Tx, head: bigint | undefined): Promise<AlertDraft[]> {
    if (this.quorum === undefined || head === undefined || this.pendingReceiptHeights.size === 0) return [];
    const rules = await this.rulesBefore(tx, head + 1n);
    const heights = [...this.pendingReceiptHeights]
      .filter((h) => h <= head && h > head - DIVERGENCE_LOOKBACK_HEIGHTS)
      .sort((a, b) => (a < b ? -1 : 1));
    for (const h of [...this.pendingReceiptHeights]) if (h <= head) this.pendingReceiptHeights.delete(h);
    if (!rules.divergence) return [];
    const q = this.quorum;
    const validators = new Set(q.validators);
    const out: AlertDraft[] = [];
    for (const h of heights) {
      const rows = (await tx.selectFrom("node_receipts").selectAll().where("height", "=", h).execute()).filter((r) =>
        validators.has(r.node_id),
      );
      const groups = new Map<string, typeof rows>();
      for (const r of rows) {
        const k = `${toHex(r.block_hash)}:${toHex(r.state_root)}`;
        groups.set(k, [...(groups.get(k) ?? []), r]);
      }
      const agreed = [...groups.values()].find((g) => g.length * q.quorumDenominator > validators.size * q.quorumNumerator);
      if (agreed === undefined) continue;
      const root = agreed[0]!;
      for (const r of rows) {
        if (bytesEqual(r.state_root, root.state_root) && bytesEqual(r.block_hash, root.block_hash)) continue;
        out.push({
          rule: "state-root-divergence",
          ruleId: "state-root-divergence",
          height: h,
          txId: new Uint8Array(0),
          assetId: "",
          subjects: [r.node_id],
          summary: `node ${r.node_id} reported state root ${toHex(r.state_root).slice(0, 16)}… at height ${h}; ${agreed.length} of ${validators.size} validators agree on ${toHex(root.state_root).slice(0, 16)}…`,
          details: {
            node: r.node_id,
            stateRoot: toHex(r.state_root),
            blockHash: toHex(r.block_hash),
            quorumStateRoot: toHex(root.state_root),
            quorumBlockHash: toHex(root.block_hash),
            agreeing: agreed.map((x) => x.node_id).sort(),
          },
          blockTimeMs: 0n,
          dedupeKey: `state-root-divergence:${h}:${r.node_id}`,
        });
      }
    }
    return out;
  }
}
