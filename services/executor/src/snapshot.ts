// State snapshots (issue 8): the executor's state at its checkpoint height h, with the state root,
// signed by the node that made it and carrying the quorum of validator receipts that confirms
// (h, block hash, state root). A node restores one into an empty database and replays on from
// h + 1; its blockstore still fetches every block from genesis, so history before h stays provable.
//
// File: one header line {"header": {...}, "signature": hex} — the signature is the node's Ed25519
// over canonicalJson(header) — then the body: one JSON line per state entry {"c","k","v","h"},
// then one per tx result {"r": [height, index, txId hex, committed, authenticated, reason, message,
// signer, contract, action]}. header.bodyDigest is sha256 over the body's bytes.
//
// What the quorum confirms is the state root, which chains block hashes and event roots, not the
// state entries themselves: those are vouched for by the signing node (and checked afterwards by
// `tally audit`, which replays the chain). Tx results come along because the executor judges
// replays against every earlier authenticated inclusion.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, renameSync, rmSync } from "node:fs";
import { createInterface } from "node:readline";
import { once } from "node:events";
import { sql, type Kysely } from "kysely";
import type { Database } from "@tally/db";
import { CHAIN_CONFIG_KEY, MEMBERSHIP_CONTRACT, parseChainConfig } from "@tally/contracts";
import {
  bytesEqual,
  canonicalJson,
  ed25519Sign,
  ed25519Verify,
  fromHex,
  toHex,
  utf8,
  type Genesis,
  type JsonValue,
  type SigningKey,
} from "@tally/ledger";
import { Receipt } from "@tally/proto/types";
import { meetsQuorum, type Quorum } from "./finality-tally.js";
import { verifyReceipt } from "./finality-tracker.js";

/** What a snapshot's first line says about it. */
export interface SnapshotHeader {
  readonly kind: "tally-snapshot";
  readonly version: 1;
  readonly chainId: string;
  readonly nodeId: string;
  readonly height: string;
  readonly blockHash: string;
  readonly stateRoot: string;
  readonly timestampMs: string;
  readonly lastTxsSeq: string;
  readonly stateEntries: number;
  readonly txResults: number;
  readonly bodyDigest: string;
  /** Encoded signed Receipts (hex) of the validators that agree on (height, blockHash, stateRoot). */
  readonly receipts: readonly string[];
}

/** Refused snapshot: the reason names the check. */
export class SnapshotError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(`${reason}: ${message}`);
  }
}

const PAGE_ROWS = 10_000;
const INSERT_ROWS = 1000;

async function write(out: NodeJS.WritableStream, s: string): Promise<void> {
  if (!out.write(s)) await once(out, "drain");
}

/**
 * Writes a snapshot of the node's state at its checkpoint to `path`. The receipts of a quorum at
 * that height must be in the node's validator_receipts (its finality tracker stores them); it
 * waits up to receiptWaitMs for them.
 */
export async function writeSnapshot(
  db: Kysely<Database>,
  o: { genesis: Genesis; nodeId: string; key: SigningKey; path: string; receiptWaitMs?: number },
): Promise<SnapshotHeader> {
  const tmp = `${o.path}.body-${process.pid}`;
  const body = createWriteStream(tmp);
  const digest = createHash("sha256");
  const emit = async (line: string): Promise<void> => {
    const b = line + "\n";
    digest.update(b);
    await write(body, b);
  };
  let quorum: Quorum = o.genesis.finality;
  const cp = await db
    .transaction()
    .setIsolationLevel("repeatable read")
    .execute(async (trx) => {
      const cp = await trx.selectFrom("checkpoint").selectAll().where("id", "=", 1).executeTakeFirst();
      if (cp === undefined) throw new SnapshotError("NO_STATE", "the node has applied no block yet");
      let entries = 0;
      let after: { c: string; k: string } | undefined;
      for (;;) {
        let q = trx
          .selectFrom("contract_state")
          .select(["contract", "key", "value", "height"])
          .orderBy("contract")
          .orderBy("key")
          .limit(PAGE_ROWS);
        if (after !== undefined) {
          const a = after;
          q = q.where((eb) => eb.or([eb("contract", ">", a.c), eb.and([eb("contract", "=", a.c), eb("key", ">", a.k)])]));
        }
        const rows = await q.execute();
        for (const r of rows) {
          if (r.contract === MEMBERSHIP_CONTRACT && r.key === CHAIN_CONFIG_KEY) quorum = parseChainConfig(r.value as JsonValue).finality;
          await emit(JSON.stringify({ c: r.contract, k: r.key, v: r.value, h: r.height.toString() }));
        }
        entries += rows.length;
        if (rows.length < PAGE_ROWS) break;
        const last = rows.at(-1)!;
        after = { c: last.contract, k: last.key };
      }
      let results = 0;
      let from: { h: bigint; i: number } | undefined;
      for (;;) {
        let q = trx.selectFrom("tx_results").selectAll().orderBy("height").orderBy("tx_index").limit(PAGE_ROWS);
        if (from !== undefined) {
          const f = from;
          q = q.where((eb) => eb.or([eb("height", ">", f.h), eb.and([eb("height", "=", f.h), eb("tx_index", ">", f.i)])]));
        }
        const rows = await q.execute();
        for (const r of rows) {
          await emit(
            JSON.stringify({
              r: [
                r.height.toString(),
                r.tx_index,
                toHex(r.tx_id),
                r.committed,
                r.authenticated,
                r.reason_code,
                r.message,
                r.signer,
                r.contract,
                r.action,
              ],
            }),
          );
        }
        results += rows.length;
        if (rows.length < PAGE_ROWS) break;
        const last = rows.at(-1)!;
        from = { h: last.height, i: last.tx_index };
      }
      return { ...cp, entries, results };
    });
  body.end();
  await once(body, "finish");
  try {
    const receipts = await quorumReceipts(db, o.genesis, quorum, cp.height, cp.block_hash, cp.state_root, o.receiptWaitMs ?? 30_000);
    const header: SnapshotHeader = {
      kind: "tally-snapshot",
      version: 1,
      chainId: o.genesis.chainId,
      nodeId: o.nodeId,
      height: cp.height.toString(),
      blockHash: toHex(cp.block_hash),
      stateRoot: toHex(cp.state_root),
      timestampMs: cp.timestamp_ms.toString(),
      lastTxsSeq: cp.last_txs_seq.toString(),
      stateEntries: cp.entries,
      txResults: cp.results,
      bodyDigest: digest.digest("hex"),
      receipts: receipts.map(toHex),
    };
    const signature = toHex(ed25519Sign(o.key, utf8(canonicalJson(header))));
    const final = `${o.path}.tmp-${process.pid}`;
    const out = createWriteStream(final);
    await write(out, JSON.stringify({ header, signature }) + "\n");
    for await (const chunk of createReadStream(tmp)) await write(out, chunk as string);
    out.end();
    await once(out, "finish");
    renameSync(final, o.path);
    return header;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** The stored receipts at height that agree with (blockHash, stateRoot), once they are a quorum. */
async function quorumReceipts(
  db: Kysely<Database>,
  genesis: Genesis,
  quorum: Quorum,
  height: bigint,
  blockHash: Uint8Array,
  stateRoot: Uint8Array,
  waitMs: number,
): Promise<Uint8Array[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const rows = await db
      .selectFrom("validator_receipts")
      .select(["node_id", "block_hash", "state_root", "body", "signature"])
      .where("height", "=", height)
      .execute();
    const agreeing = rows.filter((r) => bytesEqual(r.block_hash, blockHash) && bytesEqual(r.state_root, stateRoot));
    if (meetsQuorum(agreeing.length, genesis.validators.length, quorum))
      return agreeing.map((r) => Receipt.encode({ body: r.body, signature: r.signature }).finish());
    if (Date.now() >= deadline)
      throw new SnapshotError(
        "NO_QUORUM",
        `only ${agreeing.length} of ${genesis.validators.length} validators' receipts agree at height ${height} so far`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Reads a snapshot's header line and checks its signature and receipts against genesis (not the body). */
export async function readSnapshotHeader(path: string, genesis: Genesis): Promise<SnapshotHeader> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let first: string | undefined;
  for await (const l of lines) {
    first = l;
    break;
  }
  lines.close();
  if (first === undefined) throw new SnapshotError("MALFORMED", "empty file");
  return checkHeader(first, genesis, genesis.finality);
}

function checkHeader(line: string, genesis: Genesis, quorum: Quorum): SnapshotHeader {
  let parsed: { header?: SnapshotHeader; signature?: string };
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    throw new SnapshotError("MALFORMED", "the header line is not JSON");
  }
  const h = parsed.header;
  if (h?.kind !== "tally-snapshot" || h.version !== 1 || typeof parsed.signature !== "string")
    throw new SnapshotError("MALFORMED", "not a tally snapshot (v1)");
  if (h.chainId !== genesis.chainId) throw new SnapshotError("WRONG_CHAIN", `snapshot of chain ${h.chainId}, not ${genesis.chainId}`);
  const signer = genesis.validators.find((v) => v.nodeId === h.nodeId);
  if (signer === undefined) throw new SnapshotError("UNKNOWN_NODE", `${h.nodeId} is not a validator of this chain`);
  if (!ed25519Verify(fromHex(signer.publicKey), utf8(canonicalJson(h)), fromHex(parsed.signature)))
    throw new SnapshotError("BAD_SIGNATURE", `the header is not signed by ${h.nodeId}`);
  const keys = new Map(genesis.validators.map((v) => [v.nodeId, fromHex(v.publicKey)]));
  const agreeing = new Set<string>();
  for (const hex of h.receipts) {
    const v = verifyReceipt(fromHex(hex), genesis.chainId, keys);
    if (v.check !== "ok") throw new SnapshotError("BAD_RECEIPT", `a receipt in the snapshot does not verify (${v.check})`);
    const r = v.receipt;
    if (r.height.toString() === h.height && toHex(r.blockHash) === h.blockHash && toHex(r.stateRoot) === h.stateRoot)
      agreeing.add(r.nodeId);
  }
  if (!meetsQuorum(agreeing.size, genesis.validators.length, quorum))
    throw new SnapshotError(
      "NO_QUORUM",
      `${agreeing.size} of ${genesis.validators.length} validators confirm the state root at height ${h.height}`,
    );
  return h;
}

/**
 * Imports a snapshot into this node's database, in one transaction: the database must hold no
 * executor state. Checks the header (signature, quorum of receipts), the body digest and counts,
 * and the quorum again under the snapshot's own chain-config; anything wrong rolls it all back.
 * The executor, started afterwards, continues from height + 1.
 */
export async function restoreSnapshot(db: Kysely<Database>, genesis: Genesis, path: string, nowMs = Date.now()): Promise<SnapshotHeader> {
  const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  const it = lines[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) throw new SnapshotError("MALFORMED", "empty file");
  const header = checkHeader(first.value, genesis, genesis.finality);
  const height = BigInt(header.height);
  try {
    await db.transaction().execute(async (trx) => {
      if ((await trx.selectFrom("checkpoint").select("height").executeTakeFirst()) !== undefined)
        throw new SnapshotError("NOT_EMPTY", "this node's database already holds executor state: restore into an empty (wiped) database");
      await sql`lock table checkpoint in exclusive mode`.execute(trx);
      const digest = createHash("sha256");
      let state: { contract: string; key: string; value: string; height: bigint }[] = [];
      let results: Database["tx_results"][] = [];
      let entries = 0;
      let resultCount = 0;
      let quorum: Quorum = genesis.finality;
      const flushState = async (): Promise<void> => {
        if (state.length === 0) return;
        await trx.insertInto("contract_state").values(state).execute();
        state = [];
      };
      const flushResults = async (): Promise<void> => {
        if (results.length === 0) return;
        await trx.insertInto("tx_results").values(results).execute();
        results = [];
      };
      for (let n = await it.next(); n.done !== true; n = await it.next()) {
        digest.update(n.value + "\n");
        const o = JSON.parse(n.value) as {
          c?: string;
          k?: string;
          v?: JsonValue;
          h?: string;
          r?: [string, number, string, boolean, boolean, string, string, string, string, string];
        };
        if (o.r !== undefined) {
          const [h, i, id, committed, authenticated, reason, message, signer, contract, action] = o.r;
          results.push({
            height: BigInt(h),
            tx_index: i,
            tx_id: fromHex(id),
            committed,
            authenticated,
            reason_code: reason,
            message,
            signer,
            contract,
            action,
          });
          resultCount++;
          if (results.length >= INSERT_ROWS) await flushResults();
        } else if (o.c !== undefined && o.k !== undefined && o.v !== undefined && o.h !== undefined) {
          if (o.c === MEMBERSHIP_CONTRACT && o.k === CHAIN_CONFIG_KEY) quorum = parseChainConfig(o.v).finality;
          // jsonb from its JSON text, exactly as stored on the source node.
          state.push({ contract: o.c, key: o.k, value: JSON.stringify(o.v), height: BigInt(o.h) });
          entries++;
          if (state.length >= INSERT_ROWS) await flushState();
        } else throw new SnapshotError("MALFORMED", `line ${entries + resultCount + 2} is neither a state entry nor a tx result`);
      }
      await flushState();
      await flushResults();
      if (digest.digest("hex") !== header.bodyDigest) throw new SnapshotError("BAD_DIGEST", "the body does not match the signed digest");
      if (entries !== header.stateEntries || resultCount !== header.txResults)
        throw new SnapshotError("BAD_COUNT", "the body's row counts differ from the header's");
      // The quorum the snapshot's own chain-config asks for (governance may have raised it since genesis).
      checkHeader(first.value, genesis, quorum);
      await trx
        .insertInto("checkpoint")
        .values({
          id: 1,
          height,
          block_hash: fromHex(header.blockHash),
          state_root: fromHex(header.stateRoot),
          timestamp_ms: BigInt(header.timestampMs),
          last_txs_seq: BigInt(header.lastTxsSeq),
        })
        .execute();
      const keys = new Map(genesis.validators.map((v) => [v.nodeId, fromHex(v.publicKey)]));
      const receipts = header.receipts.map((hex) => {
        const v = verifyReceipt(fromHex(hex), genesis.chainId, keys);
        if (v.check !== "ok") throw new SnapshotError("BAD_RECEIPT", v.check);
        return v.receipt;
      });
      await trx
        .insertInto("validator_receipts")
        .values(
          receipts.map((r) => ({
            height: r.height,
            node_id: r.nodeId,
            block_hash: r.blockHash,
            state_root: r.stateRoot,
            body: r.body,
            signature: r.signature,
            received_at_ms: BigInt(nowMs),
          })),
        )
        .onConflict((c) => c.columns(["height", "node_id"]).doNothing())
        .execute();
      await trx
        .insertInto("finality")
        .values({
          height,
          block_hash: fromHex(header.blockHash),
          state_root: fromHex(header.stateRoot),
          signers: receipts.map((r) => r.nodeId).sort(),
          final_at_ms: BigInt(nowMs),
          lag_ms: null,
        })
        .onConflict((c) => c.column("height").doNothing())
        .execute();
      await trx
        .insertInto("node_restores")
        .values({
          height,
          block_hash: fromHex(header.blockHash),
          state_root: fromHex(header.stateRoot),
          source_node: header.nodeId,
          state_entries: BigInt(entries),
          restored_at_ms: BigInt(nowMs),
        })
        .execute();
    });
  } finally {
    lines.close();
  }
  return header;
}
