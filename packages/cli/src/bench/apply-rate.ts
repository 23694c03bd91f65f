// The executor's apply rate, per contract: how many transactions per second one node's executor
// verifies, executes and commits to its own PostgreSQL database, with signature checks. It runs
// the real executor loop (runExecutor: block verification, executeBlock, commitMany, signed
// receipts) in this process over blocks sealed beforehand, so neither the bus nor the gateway
// is measured: this is the ceiling of the execution stage alone.
import { performance } from "node:perf_hooks";
import { builtinContracts, type Contract } from "@tally/contracts";
import { migrateToLatest, openDb } from "@tally/db";
import { EffectsStore, DbStateReader, runExecutor, VerifyPool } from "@tally/executor";
import {
  genesisBlock,
  parseGenesis,
  sealBlock,
  signTx,
  signingKeyFromSeed,
  toHex,
  utf8,
  type Genesis,
  type SealedBlock,
  type SigningKey,
} from "@tally/ledger";
import { createLogger, type Logger } from "@tally/telemetry";
import { createTestDatabase } from "@tally/testkit";

/** One signer of the bench consortium. */
export interface BenchParty {
  readonly id: string;
  readonly key: SigningKey;
}

/** A transaction as a workload states it. */
export interface BenchTx {
  readonly signer: BenchParty;
  readonly contract: string;
  readonly action: string;
  readonly args: unknown;
  /** Co-signers, for two-party acts. */
  readonly coSigners?: readonly BenchParty[];
}

/** A contract workload: what to set up untimed, then the transactions whose application is timed. */
export interface ApplyWorkload {
  readonly name: string;
  /** Transactions applied before timing starts (funding, issuing). */
  setup(parties: readonly BenchParty[], n: number): BenchTx[];
  /** The n timed transactions; every one is expected to commit. */
  timed(parties: readonly BenchParty[], n: number): BenchTx[];
}

/** What one workload measured. */
export interface ApplyResult {
  readonly workload: string;
  readonly txs: number;
  readonly committed: number;
  readonly seconds: number;
  readonly tx_per_s: number;
}

/** Every institution of the bench consortium holds every writing role, so any act is allowed by role. */
const ROLES = ["bank", "enterprise", "clearing", "issuer", "exchange", "warehouse", "oracle"];
const SEQUENCER = signingKeyFromSeed(new Uint8Array(32).fill(250));
const NODE = signingKeyFromSeed(new Uint8Array(32).fill(251));
/** The bench node's receipt key (its validator key in benchConsortium's genesis). */
export const BENCH_NODE_KEY = NODE;
const T0 = 1_800_000_000_000;

/** The bench consortium: `count` institutions `m000`, `m001`..., a regulator, one sequencer and one node. */
export function benchConsortium(count: number): { genesis: Genesis; parties: BenchParty[] } {
  const parties = Array.from({ length: count }, (_, i) => ({
    id: `m${String(i).padStart(3, "0")}`,
    key: signingKeyFromSeed(new Uint8Array(32).fill(0).map((_, j) => (j === 0 ? i + 1 : j === 1 ? 7 : 0))),
  }));
  const regulator = { id: "reg", key: signingKeyFromSeed(new Uint8Array(32).fill(249)) };
  const genesis = parseGenesis({
    chainId: "apply-bench",
    genesisTimeMs: T0,
    institutions: [
      ...parties.map((p) => ({ id: p.id, name: p.id, roles: ROLES, keys: [{ keyId: "k1", publicKey: toHex(p.key.publicKey) }] })),
      { id: regulator.id, name: "Regulator", roles: ["regulator"], keys: [{ keyId: "k1", publicKey: toHex(regulator.key.publicKey) }] },
    ],
    sequencers: [{ id: "seq", publicKey: toHex(SEQUENCER.publicKey) }],
    validators: [{ nodeId: "node", institutionId: parties[0]!.id, publicKey: toHex(NODE.publicKey) }],
    finality: { quorumNumerator: 2, quorumDenominator: 3 },
  });
  return { genesis, parties };
}

function silentLogger(): Logger {
  const log = createLogger("apply-bench");
  log.level = "silent";
  return log;
}

let nonce = 0n;

/** Signs a bench transaction (every signer's key), with a fresh nonce. */
export function sign(genesis: Genesis, t: BenchTx): Uint8Array {
  const signers = [t.signer, ...(t.coSigners ?? [])];
  return signTx(
    {
      chainId: genesis.chainId,
      contract: t.contract,
      action: t.action,
      args: utf8(JSON.stringify(t.args)),
      signer: { institutionId: t.signer.id, keyId: "k1" },
      nonce: ++nonce,
      validUntilMs: BigInt(T0 + 10 * 365 * 86_400_000),
    },
    signers.map((s) => ({ institutionId: s.id, keyId: "k1", key: s.key })),
  ).raw;
}

/** Seals txs into blocks of blockSize after prev, one second of block time apart. */
export function seal(genesis: Genesis, prev: SealedBlock, txs: readonly Uint8Array[], blockSize: number): SealedBlock[] {
  const out: SealedBlock[] = [];
  let tip = prev;
  for (let i = 0; i < txs.length; i += blockSize) {
    const part = txs.slice(i, i + blockSize);
    const first = tip.header.lastTxsSeq + 1n;
    tip = sealBlock(
      {
        chainId: genesis.chainId,
        height: tip.header.height + 1n,
        prevHash: tip.hash,
        txs: part,
        firstTxsSeq: first,
        lastTxsSeq: first + BigInt(part.length) - 1n,
        timestampMs: tip.header.timestampMs + 1000n,
        sequencerId: "seq",
        epoch: 1n,
      },
      SEQUENCER,
    );
    out.push(tip);
  }
  return out;
}

/** Feeds blocks to runExecutor as a follower would, in batches of up to max, then ends. */
export function memoryFollower(blocks: readonly SealedBlock[]) {
  return {
    async *followBatches(from: bigint, max = 64): AsyncGenerator<SealedBlock[]> {
      const rest = blocks.filter((b) => b.header.height >= from);
      for (let i = 0; i < rest.length; i += max) yield rest.slice(i, i + max);
      await Promise.resolve();
    },
  };
}

/**
 * Measures one workload: a fresh database, the setup applied untimed, then the timed blocks
 * applied by the executor loop. Counts committed results from the database, not from memory.
 */
export async function measureApply(
  w: ApplyWorkload,
  o: {
    txs: number;
    blockSize: number;
    parties: number;
    contracts?: ReadonlyMap<string, Contract>;
    /** Signature verify worker threads, as the executor service runs them; 0 verifies inline. Default: the cores available. */
    verifyWorkers?: number;
    /** Batches verified ahead of the one executing (runExecutor's prepareAheadMax). */
    prepareAheadMax?: number;
    /** Most blocks per batch (runExecutor's batchBlocksMax). */
    batchBlocksMax?: number;
  },
): Promise<ApplyResult> {
  const { genesis, parties } = benchConsortium(o.parties);
  const g = genesisBlock(genesis);
  const setup = seal(
    genesis,
    g,
    w.setup(parties, o.txs).map((t) => sign(genesis, t)),
    o.blockSize,
  );
  const timedTxs = w.timed(parties, o.txs).map((t) => sign(genesis, t));
  const timed = seal(genesis, setup.at(-1) ?? g, timedTxs, o.blockSize);
  const testDb = await createTestDatabase("tally_apply_bench");
  const db = openDb(testDb.url, { poolMax: 4, asyncCommit: true });
  const verifier = o.verifyWorkers === 0 ? undefined : new VerifyPool(o.verifyWorkers === undefined ? {} : { workers: o.verifyWorkers });
  try {
    await migrateToLatest(db);
    const base = {
      nodeId: "node",
      genesis,
      contracts: o.contracts ?? builtinContracts,
      store: new EffectsStore(db),
      reader: new DbStateReader(db),
      receipts: { publish: () => Promise.resolve() },
      nodeKey: NODE,
      log: silentLogger(),
      ...(verifier === undefined ? {} : { verifier }),
      ...(o.prepareAheadMax === undefined ? {} : { prepareAheadMax: o.prepareAheadMax }),
      ...(o.batchBlocksMax === undefined ? {} : { batchBlocksMax: o.batchBlocksMax }),
    };
    await runExecutor({ ...base, follower: memoryFollower([g, ...setup]) });
    const t0 = performance.now();
    await runExecutor({ ...base, follower: memoryFollower(timed) });
    const seconds = (performance.now() - t0) / 1000;
    const from = (setup.at(-1) ?? g).header.height;
    const row = await db
      .selectFrom("tx_results")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("committed", "=", true)
      .where("height", ">", from)
      .executeTakeFirstOrThrow();
    const committed = Number(row.n);
    return { workload: w.name, txs: timedTxs.length, committed, seconds, tx_per_s: timedTxs.length / seconds };
  } finally {
    await verifier?.close();
    await db.destroy();
    await testDb.drop();
  }
}
