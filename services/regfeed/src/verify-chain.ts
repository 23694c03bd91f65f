// VerifyChain: the regulator's node re-checks what its own database holds, independently of the
// services that wrote it: each stored block against its raw bytes, its link, tx root and sequencer
// signature (packages/ledger's verifyBlock, the signer judged by the sequencer set in force at the
// block's height, followed from the chain-config events the node recorded); every transaction's
// signatures against the keys
// membership lists; the stored transaction rows; and the state-root chain re-derived from the
// recorded outcomes and events (sha256(prev ‖ block hash ‖ events root)) against the node's
// checkpoint and every validator receipt it has seen.
import type { Kysely } from "kysely";
import { readChainConfigEvents, type Database } from "@tally/db";
import { SequencersByHeight } from "@tally/contracts";
import {
  bytesEqual,
  decodeBlock,
  decodeSignedTx,
  ed25519Verify,
  eventsRoot,
  fromHex,
  InvariantError,
  nextStateRoot,
  tipOf,
  toHex,
  verifyBlock,
  ZERO_HASH,
  type ChainTip,
  type Genesis,
  type SealedBlock,
} from "@tally/ledger";
import type { ChainMismatch, VerifyChainResponse } from "@tally/proto/regfeed";

/** Most heights one VerifyChain call checks. */
export const VERIFY_HEIGHTS_MAX = 10_000n;

/** Most mismatches one answer lists (the first ones, in height order). */
export const VERIFY_MISMATCHES_MAX = 1000;

/** Heights read per database round trip. */
const PAGE_HEIGHTS = 500n;

/** The public keys membership state lists (revoked keys stay listed), by institution and key id. */
async function knownKeys(db: Kysely<Database>, genesis: Genesis): Promise<Map<string, Uint8Array>> {
  const keys = new Map<string, Uint8Array>();
  for (const i of genesis.institutions) for (const k of i.keys) keys.set(`${i.id}/${k.keyId}`, fromHex(k.publicKey));
  const rows = await db
    .selectFrom("contract_state")
    .select(["key", "value"])
    .where("contract", "=", "membership")
    .where("key", "like", "inst/%")
    .execute();
  for (const r of rows) {
    const v = r.value as { keys?: { keyId?: unknown; publicKey?: unknown }[] };
    for (const k of Array.isArray(v.keys) ? v.keys : []) {
      if (typeof k.keyId === "string" && typeof k.publicKey === "string" && /^[0-9a-f]{64}$/.test(k.publicKey)) {
        keys.set(`${r.key.slice("inst/".length)}/${k.keyId}`, fromHex(k.publicKey));
      }
    }
  }
  return keys;
}

/** Checks heights from..to (inclusive); `to` beyond the stored chain is clamped to its tip. */
export async function verifyChain(db: Kysely<Database>, genesis: Genesis, from: bigint, toAsked: bigint): Promise<VerifyChainResponse> {
  const mismatches: ChainMismatch[] = [];
  const miss = (height: bigint, check: string, detail: string): void => {
    if (mismatches.length < VERIFY_MISMATCHES_MAX) mismatches.push({ height, check, detail });
  };
  const tipRow = await db.selectFrom("blocks").select("height").orderBy("height", "desc").limit(1).executeTakeFirst();
  const to = tipRow === undefined ? -1n : toAsked < tipRow.height ? toAsked : tipRow.height;
  const out = { fromHeight: from, toHeight: to < 0n ? 0n : to, blocksChecked: 0n, txsChecked: 0n, receiptsChecked: 0n, mismatches };
  if (to < from) return out;

  // The set in force at each height: genesis's, then as governance changed it (its events are
  // covered by the state-root check below, so a tampered one shows there too).
  const sequencers = new SequencersByHeight(genesis, await readChainConfigEvents(db, to));
  const keys = await knownKeys(db, genesis);
  let prev: ChainTip | undefined;
  if (from > 0n) {
    const p = await db
      .selectFrom("blocks")
      .select("raw")
      .where("height", "=", from - 1n)
      .executeTakeFirst();
    if (p === undefined) miss(from - 1n, "block-missing", "the block before the range is not stored");
    else prev = tipOf(decodeBlock(p.raw));
  }
  for (let lo = from; lo <= to; lo += PAGE_HEIGHTS) {
    const hi = lo + PAGE_HEIGHTS - 1n < to ? lo + PAGE_HEIGHTS - 1n : to;
    const blocks = await db
      .selectFrom("blocks")
      .selectAll()
      .where("height", ">=", lo)
      .where("height", "<=", hi)
      .orderBy("height")
      .execute();
    const txRows = await db
      .selectFrom("transactions")
      .select(["tx_id", "height", "tx_index", "raw"])
      .where("height", ">=", lo)
      .where("height", "<=", hi)
      .execute();
    const txRowAt = new Map(txRows.map((r) => [`${r.height}/${r.tx_index}`, r]));
    const results = await db
      .selectFrom("tx_results")
      .select(["height", "tx_index", "authenticated"])
      .where("height", ">=", lo)
      .where("height", "<=", hi)
      .execute();
    const authAt = new Map(results.map((r) => [`${r.height}/${r.tx_index}`, r.authenticated]));
    let expect = lo;
    for (const row of blocks) {
      while (expect < row.height) miss(expect++, "block-missing", "no block stored at this height");
      expect = row.height + 1n;
      out.blocksChecked++;
      let b: SealedBlock;
      try {
        b = decodeBlock(row.raw);
      } catch (e) {
        miss(row.height, "block-decode", (e as Error).message);
        prev = undefined;
        continue;
      }
      if (!bytesEqual(b.hash, row.hash))
        miss(row.height, "block-hash", `stored hash ${toHex(row.hash)} is not sha256(header) ${toHex(b.hash)}`);
      if (
        b.header.height !== row.height ||
        !bytesEqual(b.header.txRoot, row.tx_root) ||
        !bytesEqual(b.header.prevHash, row.prev_hash) ||
        b.header.txCount !== row.tx_count ||
        !bytesEqual(b.block.signature, row.signature)
      ) {
        miss(row.height, "header-columns", "the stored header columns differ from the raw block");
      }
      try {
        verifyBlock(b, prev, genesis, sequencers.keysAt(row.height));
      } catch (e) {
        if (!(e instanceof InvariantError)) throw e;
        miss(row.height, e.code.toLowerCase().replace(/_/g, "-"), e.message);
      }
      prev = tipOf(b);
      b.block.txs.forEach((raw, i) => {
        out.txsChecked++;
        const d = decodeSignedTx(raw);
        const stored = txRowAt.get(`${row.height}/${i}`);
        if (stored !== undefined && !bytesEqual(stored.raw, raw))
          miss(row.height, "tx-row", `tx ${i}: the stored transaction differs from the block's`);
        if (!d.ok) return;
        const failing = d.tx.signatures.filter((s) => {
          const k = keys.get(`${s.institutionId}/${s.keyId}`);
          return k === undefined || !ed25519Verify(k, d.tx.bodyBytes, s.signature);
        });
        if (failing.length > 0 && authAt.get(`${row.height}/${i}`) === true) {
          miss(
            row.height,
            "tx-signature",
            `tx ${i} (${d.tx.idHex}) was recorded as authenticated but ${failing.map((s) => `${s.institutionId}/${s.keyId}`).join(", ")} does not verify`,
          );
        }
      });
    }
    while (expect <= hi) miss(expect++, "block-missing", "no block stored at this height");
  }

  // State roots: re-derived from genesis through `to`, from the recorded outcomes and events.
  const cp = await db.selectFrom("checkpoint").selectAll().where("id", "=", 1).executeTakeFirst();
  const end = cp === undefined ? -1n : cp.height < to ? cp.height : to;
  let root: Uint8Array = ZERO_HASH;
  for (let lo = 0n; lo <= end; lo += PAGE_HEIGHTS) {
    const hi = lo + PAGE_HEIGHTS - 1n < end ? lo + PAGE_HEIGHTS - 1n : end;
    const hashes = await db.selectFrom("blocks").select(["height", "hash"]).where("height", ">=", lo).where("height", "<=", hi).execute();
    const hashAt = new Map(hashes.map((r) => [r.height, r.hash]));
    const results = await db
      .selectFrom("tx_results")
      .select(["height", "tx_index", "committed", "reason_code"])
      .where("height", ">=", lo)
      .where("height", "<=", hi)
      .orderBy("height")
      .orderBy("tx_index")
      .execute();
    const events = await db
      .selectFrom("events")
      .select(["height", "tx_index", "event_index", "contract", "type", "data"])
      .where("height", ">=", lo)
      .where("height", "<=", hi)
      .orderBy("height")
      .orderBy("tx_index")
      .orderBy("event_index")
      .execute();
    const receipts = await db.selectFrom("node_receipts").selectAll().where("height", ">=", lo).where("height", "<=", hi).execute();
    let ri = 0;
    let ei = 0;
    for (let h = lo; h <= hi; h++) {
      const rs: { txIndex: number; committed: boolean; reasonCode: string }[] = [];
      while (ri < results.length && results[ri]!.height === h) {
        const r = results[ri++]!;
        rs.push({ txIndex: r.tx_index, committed: r.committed, reasonCode: r.reason_code });
      }
      const es: { txIndex: number; eventIndex: number; contract: string; type: string; data: unknown }[] = [];
      while (ei < events.length && events[ei]!.height === h) {
        const e = events[ei++]!;
        es.push({ txIndex: e.tx_index, eventIndex: e.event_index, contract: e.contract, type: e.type, data: e.data });
      }
      const hash = hashAt.get(h);
      if (hash === undefined) {
        if (h >= from) miss(h, "state-root", "no block stored: the state-root chain cannot continue");
        return out;
      }
      root = nextStateRoot(root, hash, eventsRoot(rs, es));
      if (h < from) continue;
      for (const r of receipts.filter((x) => x.height === h)) {
        out.receiptsChecked++;
        if (!bytesEqual(r.state_root, root))
          miss(h, "receipt-state-root", `node ${r.node_id} signed state root ${toHex(r.state_root)}; replay gives ${toHex(root)}`);
      }
      if (cp !== undefined && h === cp.height && !bytesEqual(cp.state_root, root)) {
        miss(h, "state-root", `the checkpoint holds ${toHex(cp.state_root)}; replay of the recorded effects gives ${toHex(root)}`);
      }
    }
  }
  return out;
}
