// `tally audit` (issue 8): checks one node's own database against the chain, without trusting any
// of the node's services. Every stored block is decoded from its raw bytes and checked (hash,
// header columns, link, Merkle root, sequencer signature); every stored transaction against its
// block; the whole chain is re-executed from genesis in memory (every signature verified again)
// and every tx result, event, state entry and the checkpoint compared with what replay gives;
// every state root against what a quorum of validators signed. The first row that does not
// match is named (table, key, what differs); a node restored from a snapshot has no results or
// events of its own below the restore height, and replay from genesis still checks its state.
import type { Kysely } from "kysely";
import type { Database } from "@tally/db";
import type { Contract } from "@tally/contracts";
import { CHAIN_CONFIG_KEY, MEMBERSHIP_CONTRACT, sequencerKeysInForce } from "@tally/contracts";
import {
  bytesEqual,
  canonicalJson,
  decodeBlock,
  InvariantError,
  tipOf,
  toHex,
  verifyBlock,
  type ChainTip,
  type Genesis,
  type JsonValue,
  type SealedBlock,
} from "@tally/ledger";
import type { UserContractRegistry } from "@tally/user-contracts";
import { executeBlock, genesisEffects, sortedByKey, type BlockEffects } from "./block-executor.js";
import { decodeBlockTxs, precomputeSignatures } from "./block-precheck.js";
import { membershipView } from "@tally/contracts";
import type { PrecomputedSignatures, SignatureVerifier } from "./signature-verifier.js";
import type { StateReader } from "./state-reader.js";

/** One row that does not match the chain. */
export interface AuditFinding {
  readonly table: string;
  /** The row, by its key, e.g. "height=12 tx_index=3". */
  readonly row: string;
  readonly check: string;
  readonly detail: string;
}

/** What an audit checked and found. */
export interface AuditReport {
  readonly blocks: number;
  readonly txs: number;
  readonly txResults: number;
  readonly events: number;
  readonly stateEntries: number;
  readonly finalHeightsChecked: number;
  readonly replayedToHeight: bigint;
  readonly restoredAt: bigint | undefined;
  /** In chain order; the first is the first row that does not match. */
  readonly findings: readonly AuditFinding[];
}

const PAGE_HEIGHTS = 256n;

/** Contract state in memory, with the height each entry last changed (as contract_state keeps it). */
class ReplayState implements StateReader {
  readonly state = new Map<string, Map<string, { value: JsonValue; height: bigint }>>();
  readonly seenIds = new Set<string>();

  apply(e: BlockEffects): void {
    for (const [contract, changes] of e.updates) {
      let kv = this.state.get(contract);
      if (kv === undefined) this.state.set(contract, (kv = new Map()));
      for (const [k, v] of changes) {
        if (v === null) kv.delete(k);
        else kv.set(k, { value: v, height: e.height });
      }
    }
    for (const r of e.results) if (r.authenticated) this.seenIds.add(toHex(r.txId));
  }
  load(contract: string, keys: readonly string[]): Promise<Map<string, JsonValue>> {
    const kv = this.state.get(contract);
    const out = new Map<string, JsonValue>();
    for (const k of keys) {
      const v = kv?.get(k);
      if (v !== undefined) out.set(k, structuredClone(v.value));
    }
    return Promise.resolve(out);
  }
  loadAll(contract: string): Promise<Map<string, JsonValue>> {
    const kv = this.state.get(contract) ?? new Map<string, { value: JsonValue; height: bigint }>();
    const keys = [...kv.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return Promise.resolve(new Map(keys.map((k) => [k, structuredClone(kv.get(k)!.value)])));
  }
  scan(contract: string, prefix: string, limit: number): Promise<Map<string, JsonValue>> {
    const kv = this.state.get(contract) ?? new Map<string, { value: JsonValue; height: bigint }>();
    const keys = [...kv.keys()].filter((k) => k.startsWith(prefix)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return Promise.resolve(new Map(keys.slice(0, limit).map((k) => [k, structuredClone(kv.get(k)!.value)])));
  }
}

const json = (v: unknown): string => canonicalJson(v);

/** Audits a node's database; findingsMax bounds the report. */
export async function auditNode(
  db: Kysely<Database>,
  o: {
    genesis: Genesis;
    contracts: ReadonlyMap<string, Contract>;
    /** Deployed user contracts, re-run in their sandbox as the executor ran them. */
    userContracts?: UserContractRegistry;
    verifier?: SignatureVerifier;
    findingsMax?: number;
    onProgress?: (height: bigint) => void;
  },
): Promise<AuditReport> {
  const findingsMax = o.findingsMax ?? 50;
  const findings: AuditFinding[] = [];
  const find = (table: string, row: string, check: string, detail: string): void => {
    if (findings.length < findingsMax) findings.push({ table, row, check, detail });
  };
  // Each block's signer against the sequencer set in force at its height, as the executor judges it.
  const seqKeys = sequencerKeysInForce(o.genesis);
  const cp = await db.selectFrom("checkpoint").selectAll().where("id", "=", 1).executeTakeFirst();
  const restore = await db.selectFrom("node_restores").select("height").orderBy("id", "desc").limit(1).executeTakeFirst();
  const restoredAt = restore?.height;
  const tipRow = await db.selectFrom("blocks").select("height").orderBy("height", "desc").limit(1).executeTakeFirst();
  const tip = tipRow?.height ?? -1n;
  const replayTo = cp === undefined ? -1n : cp.height;
  if (cp !== undefined && cp.height > tip)
    find("checkpoint", "id=1", "height", `the checkpoint is at height ${cp.height}; the blockstore holds blocks only to ${tip}`);

  const replay = new ReplayState();
  let membership: ReadonlyMap<string, JsonValue> = new Map();
  let stateRoot: Uint8Array | undefined;
  let prev: ChainTip | undefined;
  const txIdsStored = new Set<string>();
  let blocks = 0;
  let txs = 0;
  let txResults = 0;
  let events = 0;
  let finalHeights = 0;
  let replayedTo = -1n;
  let replayBroken = false;
  const seen = (ids: readonly Uint8Array[]): Promise<Set<string>> => {
    const s = new Set<string>();
    for (const id of ids) {
      const hex = toHex(id);
      if (replay.seenIds.has(hex)) s.add(hex);
    }
    return Promise.resolve(s);
  };

  for (let lo = 0n; lo <= tip; lo += PAGE_HEIGHTS) {
    const hi = lo + PAGE_HEIGHTS - 1n < tip ? lo + PAGE_HEIGHTS - 1n : tip;
    const [blockRows, txRows, resultRows, eventRows, finalRows] = await Promise.all([
      db.selectFrom("blocks").selectAll().where("height", ">=", lo).where("height", "<=", hi).orderBy("height").execute(),
      db
        .selectFrom("transactions")
        .selectAll()
        .where("height", ">=", lo)
        .where("height", "<=", hi)
        .orderBy("height")
        .orderBy("tx_index")
        .execute(),
      db
        .selectFrom("tx_results")
        .selectAll()
        .where("height", ">=", lo)
        .where("height", "<=", hi)
        .orderBy("height")
        .orderBy("tx_index")
        .execute(),
      db
        .selectFrom("events")
        .selectAll()
        .where("height", ">=", lo)
        .where("height", "<=", hi)
        .orderBy("height")
        .orderBy("tx_index")
        .orderBy("event_index")
        .execute(),
      db
        .selectFrom("finality")
        .select(["height", "block_hash", "state_root"])
        .where("height", ">=", lo)
        .where("height", "<=", hi)
        .execute(),
    ]);
    const byHeight = <T extends { height: bigint }>(rows: readonly T[]): Map<bigint, T[]> => {
      const m = new Map<bigint, T[]>();
      for (const r of rows) {
        const l = m.get(r.height);
        if (l === undefined) m.set(r.height, [r]);
        else l.push(r);
      }
      return m;
    };
    const txAt = byHeight(txRows);
    const resultsAt = byHeight(resultRows);
    const eventsAt = byHeight(eventRows);
    const finalAt = new Map(finalRows.map((r) => [r.height, r]));
    // Signatures of the next few blocks are verified on the worker pool while this one executes.
    const ahead = new Map<
      number,
      { decoded: ReturnType<typeof decodeBlockTxs>; signatures: Promise<PrecomputedSignatures> | undefined } | undefined
    >();
    const prepare = (k: number): void => {
      if (ahead.has(k)) return;
      const r = blockRows[k];
      if (r === undefined || r.height === 0n || r.height > replayTo) return;
      let decodedK: ReturnType<typeof decodeBlockTxs>;
      try {
        decodedK = decodeBlockTxs(decodeBlock(r.raw));
      } catch {
        ahead.set(k, undefined);
        return;
      }
      const signatures =
        o.verifier === undefined
          ? undefined
          : precomputeSignatures(decodedK, membershipView(membership.values()).keyLookup, o.genesis.chainId, o.verifier);
      signatures?.catch(() => undefined);
      ahead.set(k, { decoded: decodedK, signatures });
    };
    let expect = lo;
    for (let k = 0; k < blockRows.length; k++) {
      const row = blockRows[k]!;
      for (let j = k; j < k + 4; j++) prepare(j);
      for (; expect < row.height; expect++) find("blocks", `height=${expect}`, "missing", "no block stored at this height");
      expect = row.height + 1n;
      blocks++;
      const at = `height=${row.height}`;
      let b: SealedBlock;
      try {
        b = ahead.get(k)?.decoded.block ?? decodeBlock(row.raw);
      } catch (e) {
        find("blocks", at, "raw", `the raw block does not decode: ${(e as Error).message}`);
        prev = undefined;
        replayBroken = true;
        continue;
      }
      const h = b.header;
      if (!bytesEqual(b.hash, row.hash))
        find("blocks", at, "hash", `stored hash ${toHex(row.hash)} is not sha256(header) = ${toHex(b.hash)}`);
      const cols: [string, boolean][] = [
        ["height", h.height === row.height],
        ["prev_hash", bytesEqual(h.prevHash, row.prev_hash)],
        ["tx_root", bytesEqual(h.txRoot, row.tx_root)],
        ["tx_count", h.txCount === row.tx_count],
        ["first_txs_seq", h.firstTxsSeq === row.first_txs_seq],
        ["last_txs_seq", h.lastTxsSeq === row.last_txs_seq],
        ["timestamp_ms", h.timestampMs === row.timestamp_ms],
        ["sequencer_id", h.sequencerId === row.sequencer_id],
        ["epoch", h.epoch === row.epoch],
        ["header", bytesEqual(b.block.header, row.header)],
        ["signature", bytesEqual(b.block.signature, row.signature)],
      ];
      for (const [c, ok] of cols) if (!ok) find("blocks", at, c, `the ${c} column differs from the raw block's`);
      try {
        // Link to the previous block, RFC 6962 tx root, count, sequencer signature; genesis against the genesis document.
        verifyBlock(b, prev, o.genesis, seqKeys(membership.get(CHAIN_CONFIG_KEY)));
      } catch (e) {
        if (!(e instanceof InvariantError)) throw e;
        find("blocks", at, e.code.toLowerCase(), e.message);
        replayBroken = true;
      }
      prev = tipOf(b);

      // Transactions: each stored row is the block's leaf at its index; each first inclusion is stored.
      const early = ahead.get(k);
      ahead.delete(k);
      const decoded = early !== undefined && bytesEqual(early.decoded.block.hash, b.hash) ? early.decoded : decodeBlockTxs(b);
      const stored = new Map((txAt.get(row.height) ?? []).map((r) => [r.tx_index, r]));
      for (const [i, r] of stored) {
        txs++;
        const rowAt = `tx_id=${toHex(r.tx_id)} (height=${row.height} tx_index=${i})`;
        const leaf = b.block.txs[i];
        const d = decoded.txs[i];
        if (leaf === undefined || d === undefined) {
          find("transactions", rowAt, "index", "the block has no transaction at this index");
          continue;
        }
        if (!bytesEqual(leaf, r.raw)) find("transactions", rowAt, "raw", "the stored bytes differ from the block's transaction");
        if (d.ok) {
          if (!bytesEqual(d.tx.id, r.tx_id)) find("transactions", rowAt, "tx_id", `the block's transaction has id ${d.tx.idHex}`);
          const body = d.tx.body;
          if (body.signer?.institutionId !== r.signer || body.contract !== r.contract || body.action !== r.action)
            find("transactions", rowAt, "columns", "signer, contract or action differ from the transaction body");
        }
      }
      decoded.txs.forEach((d, i) => {
        if (!d.ok) return;
        const hex = d.tx.idHex;
        if (txIdsStored.has(hex)) return;
        txIdsStored.add(hex);
        if (!stored.has(i))
          find("transactions", `height=${row.height} tx_index=${i}`, "missing", `the first inclusion of ${hex} is not stored`);
      });

      // Re-execute and compare what the executor recorded.
      if (row.height > replayTo || replayBroken) continue;
      let effects: BlockEffects;
      if (row.height === 0n) {
        effects = genesisEffects(o.genesis, o.contracts, b);
        membership = sortedByKey(
          new Map(
            [...(effects.updates.get(MEMBERSHIP_CONTRACT) ?? new Map<string, JsonValue | null>())].filter(
              (e): e is [string, JsonValue] => e[1] !== null,
            ),
          ),
        );
      } else {
        const signatures = early?.decoded === decoded ? await early.signatures : undefined;
        const r = await executeBlock(
          b,
          { stateRoot: stateRoot!, membership },
          {
            genesis: o.genesis,
            contracts: o.contracts,
            reader: replay,
            seen,
            ...(o.userContracts === undefined ? {} : { userContracts: o.userContracts }),
          },
          signatures === undefined ? { decoded } : { decoded, signatures },
        );
        effects = r.effects;
        membership = r.membership;
      }
      replay.apply(effects);
      stateRoot = effects.stateRoot;
      replayedTo = row.height;
      o.onProgress?.(row.height);
      const ownRows = restoredAt !== undefined && row.height <= restoredAt;
      const results = resultsAt.get(row.height) ?? [];
      txResults += results.length;
      if (!ownRows || results.length > 0) {
        const want = effects.results;
        for (let i = 0; i < Math.max(want.length, results.length); i++) {
          const w = want[i];
          const g = results[i];
          const rowAt = `height=${row.height} tx_index=${g?.tx_index ?? w?.txIndex}`;
          if (w === undefined) find("tx_results", rowAt, "extra", "replay gives no result at this index");
          else if (g === undefined) find("tx_results", rowAt, "missing", "no result stored; replay gives one");
          else {
            const diffs = [
              ["tx_index", g.tx_index === w.txIndex],
              ["tx_id", bytesEqual(g.tx_id, w.txId)],
              ["committed", g.committed === w.committed],
              ["authenticated", g.authenticated === w.authenticated],
              ["reason_code", g.reason_code === w.reasonCode],
              ["message", g.message === w.message],
              ["signer", g.signer === w.signer],
              ["contract", g.contract === w.contract],
              ["action", g.action === w.action],
            ].filter(([, ok]) => ok === false);
            if (diffs.length > 0) find("tx_results", rowAt, diffs.map(([c]) => c).join(","), "differs from replay");
          }
        }
      }
      const evs = eventsAt.get(row.height) ?? [];
      events += evs.length;
      if (!ownRows || evs.length > 0) {
        const want = effects.events;
        for (let i = 0; i < Math.max(want.length, evs.length); i++) {
          const w = want[i];
          const g = evs[i];
          const rowAt = `height=${row.height} tx_index=${g?.tx_index ?? w?.txIndex} event_index=${g?.event_index ?? w?.eventIndex}`;
          if (w === undefined) find("events", rowAt, "extra", "replay gives no event here");
          else if (g === undefined) find("events", rowAt, "missing", "no event stored; replay gives one");
          else {
            const diffs = [
              ["tx_index", g.tx_index === w.txIndex],
              ["event_index", g.event_index === w.eventIndex],
              ["tx_id", bytesEqual(g.tx_id, w.txId)],
              ["contract", g.contract === w.contract],
              ["type", g.type === w.event.type],
              ["asset_id", g.asset_id === w.event.assetId],
              ["parties", json(g.parties) === json(w.event.parties)],
              ["data", json(g.data) === json(w.event.data)],
              ["block_time_ms", g.block_time_ms === effects.blockTimeMs],
              ["signer", g.signer === w.signer],
            ].filter(([, ok]) => ok === false);
            if (diffs.length > 0) find("events", rowAt, diffs.map(([c]) => c).join(","), "differs from replay");
          }
        }
      }
      const f = finalAt.get(row.height);
      if (f !== undefined) {
        finalHeights++;
        if (!bytesEqual(f.block_hash, effects.blockHash) || !bytesEqual(f.state_root, effects.stateRoot))
          find(
            "finality",
            at,
            "state_root",
            `a quorum of validators signed ${toHex(f.state_root)}; replay of this node's chain gives ${toHex(effects.stateRoot)}`,
          );
      }
    }
    for (; expect <= hi; expect++) find("blocks", `height=${expect}`, "missing", "no block stored at this height");
  }

  // Rows beyond the blocks the node holds cannot come from the chain.
  const past = await db
    .selectFrom("tx_results")
    .select(["height", "tx_index"])
    .where("height", ">", replayTo)
    .orderBy("height")
    .limit(1)
    .executeTakeFirst();
  if (past !== undefined)
    find("tx_results", `height=${past.height} tx_index=${past.tx_index}`, "extra", `above the checkpoint height ${replayTo}`);
  const pastEv = await db
    .selectFrom("events")
    .select(["height", "tx_index", "event_index"])
    .where("height", ">", replayTo)
    .orderBy("height")
    .limit(1)
    .executeTakeFirst();
  if (pastEv !== undefined)
    find(
      "events",
      `height=${pastEv.height} tx_index=${pastEv.tx_index} event_index=${pastEv.event_index}`,
      "extra",
      `above the checkpoint height ${replayTo}`,
    );

  // The state tables against the replayed state, and the checkpoint.
  let stateEntries = 0;
  if (cp !== undefined && !replayBroken && replayedTo === cp.height) {
    const rows = await db.selectFrom("contract_state").selectAll().orderBy("contract").orderBy("key").execute();
    const seenKeys = new Set<string>();
    for (const r of rows) {
      stateEntries++;
      const k = `contract=${r.contract} key=${r.key}`;
      seenKeys.add(`${r.contract}\u0000${r.key}`);
      const w = replay.state.get(r.contract)?.get(r.key);
      if (w === undefined) find("contract_state", k, "extra", "replay has no such entry");
      else {
        if (json(r.value) !== json(w.value)) find("contract_state", k, "value", `stored ${json(r.value)}; replay gives ${json(w.value)}`);
        if (r.height !== w.height) find("contract_state", k, "height", `stored ${r.height}; replay last changed it at ${w.height}`);
      }
    }
    for (const [contract, kv] of replay.state)
      for (const key of kv.keys())
        if (!seenKeys.has(`${contract}\u0000${key}`))
          find("contract_state", `contract=${contract} key=${key}`, "missing", "replay has this entry");
    const last = await db
      .selectFrom("blocks")
      .select(["hash", "timestamp_ms", "last_txs_seq"])
      .where("height", "=", cp.height)
      .executeTakeFirst();
    if (!bytesEqual(cp.state_root, stateRoot!))
      find("checkpoint", "id=1", "state_root", `stored ${toHex(cp.state_root)}; replay gives ${toHex(stateRoot!)}`);
    if (last !== undefined) {
      if (!bytesEqual(cp.block_hash, last.hash))
        find("checkpoint", "id=1", "block_hash", `stored ${toHex(cp.block_hash)}; the block at ${cp.height} is ${toHex(last.hash)}`);
      if (cp.timestamp_ms !== last.timestamp_ms || cp.last_txs_seq !== last.last_txs_seq)
        find("checkpoint", "id=1", "timestamp_ms,last_txs_seq", "differ from the block at the checkpoint height");
    }
  }
  return {
    blocks,
    txs,
    txResults,
    events,
    stateEntries,
    finalHeightsChecked: finalHeights,
    replayedToHeight: replayedTo,
    restoredAt,
    findings: findings.sort((a, b) => heightOf(a) - heightOf(b)),
  };
}

// Findings sort in chain order (stable: within a height, in the order they were found).
function heightOf(f: AuditFinding): number {
  const m = /height=(\d+)/.exec(f.row);
  return m === null ? Number.MAX_SAFE_INTEGER : Number(m[1]);
}
