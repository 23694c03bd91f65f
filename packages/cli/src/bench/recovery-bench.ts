// Issue 8's benchmarks: restoring a snapshot of N state entries, and auditing a chain of N
// transactions. The data is generated synthetically and quickly: state rows by generate_series;
// the chain from signed transfers (real Ed25519 signatures, sealed by the bench sequencer) that
// the executor applies with a verifier that trusts them, since generating the data is not what is
// measured. The audit then verifies every signature for real.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { sql, type Kysely } from "kysely";
import { builtinContracts } from "@tally/contracts";
import { migrateToLatest, openDb, type Database } from "@tally/db";
import {
  auditNode,
  DbStateReader,
  EffectsStore,
  restoreSnapshot,
  runExecutor,
  signReceipt,
  VerifyPool,
  writeSnapshot,
  type SignatureVerifier,
} from "@tally/executor";
import { decodeSignedTx, genesisBlock, sha256, type SealedBlock } from "@tally/ledger";
import { Receipt } from "@tally/proto/types";
import { createLogger } from "@tally/telemetry";
import { createTestDatabase } from "@tally/testkit";
import { BENCH_NODE_KEY, benchConsortium, memoryFollower, seal, sign } from "./apply-rate.js";
import { transferWorkload } from "./apply-workloads.js";

/** What the restore bench measured. */
export interface RestoreResult {
  readonly stateEntries: number;
  readonly snapshotSeconds: number;
  readonly snapshotBytes: number;
  readonly restoreSeconds: number;
}

/** What the audit bench measured. */
export interface AuditBenchResult {
  readonly txs: number;
  readonly blocks: number;
  readonly generateSeconds: number;
  readonly auditSeconds: number;
  readonly txPerS: number;
  readonly findings: number;
}

const silent = (() => {
  const l = createLogger("recovery-bench");
  l.level = "silent";
  return l;
})();

/** A node database holding `entries` state entries at height 1, a checkpoint and the (only) validator's receipt. */
async function stateDb(db: Kysely<Database>, entries: number): Promise<void> {
  const { genesis } = benchConsortium(4);
  const blockHash = sha256(new Uint8Array([1]));
  const stateRoot = sha256(new Uint8Array([2]));
  await sql`insert into contract_state (contract, key, value, height)
            select 'cash', 'acct/a' || lpad(i::text, 8, '0'), jsonb_build_object('balance', (i * 7)::text), 1
              from generate_series(1, ${entries}::int) i`.execute(db);
  await db
    .insertInto("checkpoint")
    .values({ id: 1, height: 1n, block_hash: blockHash, state_root: stateRoot, timestamp_ms: 1n, last_txs_seq: 1n })
    .execute();
  const receipt = signReceipt(
    { chainId: genesis.chainId, nodeId: "node", height: 1n, blockHash, stateRoot, results: [], nextSequencers: [] },
    BENCH_NODE_KEY,
  );
  const r = Receipt.decode(receipt);
  await db
    .insertInto("validator_receipts")
    .values({
      height: 1n,
      node_id: "node",
      block_hash: blockHash,
      state_root: stateRoot,
      body: r.body,
      signature: r.signature,
      received_at_ms: 0n,
    })
    .execute();
}

/** Snapshot of `entries` state entries, then its restore into an empty database. */
export async function measureRestore(entries: number): Promise<RestoreResult> {
  const { genesis } = benchConsortium(4);
  const dir = mkdtempSync(join(tmpdir(), "tally-restore-bench-"));
  const path = join(dir, "bench.snapshot");
  const src = await createTestDatabase("tally_restore_src");
  const dst = await createTestDatabase("tally_restore_dst");
  const a = openDb(src.url, { poolMax: 2 });
  const b = openDb(dst.url, { poolMax: 2, asyncCommit: true });
  try {
    await migrateToLatest(a);
    await migrateToLatest(b);
    await stateDb(a, entries);
    let t0 = performance.now();
    await writeSnapshot(a, { genesis, nodeId: "node", key: BENCH_NODE_KEY, path, receiptWaitMs: 0 });
    const snapshotSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const h = await restoreSnapshot(b, genesis, path);
    const restoreSeconds = (performance.now() - t0) / 1000;
    const n = await b
      .selectFrom("contract_state")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow();
    if (Number(n.n) !== entries || h.stateEntries !== entries) throw new Error(`restored ${n.n} of ${entries} entries`);
    return { stateEntries: entries, snapshotSeconds, snapshotBytes: statSync(path).size, restoreSeconds };
  } finally {
    await a.destroy();
    await b.destroy();
    await src.drop();
    await dst.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Trusts every signature: only for generating a chain whose signatures are known to be good. */
const trusting = {
  verifyAll: (checks: readonly unknown[]) => Promise.resolve(checks.map(() => true)),
} as unknown as SignatureVerifier;

/** Stores blocks and their transactions as the blockstore would. */
async function storeBlocks(db: Kysely<Database>, blocks: readonly SealedBlock[]): Promise<void> {
  for (const b of blocks) {
    const h = b.header;
    await db
      .insertInto("blocks")
      .values({
        height: h.height,
        hash: b.hash,
        prev_hash: h.prevHash,
        tx_root: h.txRoot,
        tx_count: h.txCount,
        first_txs_seq: h.firstTxsSeq,
        last_txs_seq: h.lastTxsSeq,
        timestamp_ms: h.timestampMs,
        sequencer_id: h.sequencerId,
        epoch: h.epoch,
        header: b.block.header,
        signature: b.block.signature,
        raw: b.bytes,
      })
      .execute();
    const rows = b.block.txs.map((raw, i) => {
      const body = decodeBody(raw);
      return { tx_id: body.id, height: h.height, tx_index: i, signer: body.signer, contract: body.contract, action: body.action, raw };
    });
    for (let i = 0; i < rows.length; i += 1000)
      await db
        .insertInto("transactions")
        .values(rows.slice(i, i + 1000))
        .execute();
  }
}

function decodeBody(raw: Uint8Array): { id: Uint8Array; signer: string; contract: string; action: string } {
  const d = decodeSignedTx(raw);
  if (!d.ok) throw new Error("bench tx does not decode");
  return { id: d.tx.id, signer: d.tx.body.signer?.institutionId ?? "", contract: d.tx.body.contract, action: d.tx.body.action };
}

/** Generates a chain of `txs` transfers in blocks of blockSize into a node database, then audits it. */
export async function measureAudit(txs: number, blockSize = 1000, chunk = 50_000): Promise<AuditBenchResult> {
  const { genesis, parties } = benchConsortium(64);
  const t = await createTestDatabase("tally_audit_bench");
  const db = openDb(t.url, { poolMax: 4, asyncCommit: true });
  const verifier = new VerifyPool({});
  try {
    await migrateToLatest(db);
    const t0 = performance.now();
    const base = {
      nodeId: "node",
      genesis,
      contracts: builtinContracts,
      store: new EffectsStore(db),
      reader: new DbStateReader(db),
      receipts: { publish: () => Promise.resolve() },
      nodeKey: BENCH_NODE_KEY,
      log: silent,
      verifier: trusting,
    };
    let tip: SealedBlock = genesisBlock(genesis);
    const setup = seal(
      genesis,
      tip,
      transferWorkload.setup(parties, txs).map((x) => sign(genesis, x)),
      blockSize,
    );
    await storeBlocks(db, [tip, ...setup]);
    await runExecutor({ ...base, follower: memoryFollower([tip, ...setup]) });
    tip = setup.at(-1) ?? tip;
    let blocks = 1 + setup.length;
    for (let done = 0; done < txs; done += chunk) {
      const n = Math.min(chunk, txs - done);
      const part = seal(
        genesis,
        tip,
        transferWorkload.timed(parties, n).map((x) => sign(genesis, x)),
        blockSize,
      );
      await storeBlocks(db, part);
      await runExecutor({ ...base, follower: memoryFollower(part) });
      tip = part.at(-1)!;
      blocks += part.length;
    }
    const generateSeconds = (performance.now() - t0) / 1000;
    await sql`vacuum analyze`.execute(db);
    const t1 = performance.now();
    const r = await auditNode(db, { genesis, contracts: builtinContracts, verifier });
    const auditSeconds = (performance.now() - t1) / 1000;
    return { txs, blocks, generateSeconds, auditSeconds, txPerS: (txs + parties.length) / auditSeconds, findings: r.findings.length };
  } finally {
    await verifier.close();
    await db.destroy();
    await t.drop();
  }
}
