// Proofs through the gateway: the SDK fetches inclusion proofs and header ranges from a real
// gateway over mTLS and checks them against the genesis it trusts; who may see which proof; the
// header page bound; and a node whose stored chain was tampered with is caught by the client.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { GatewayServiceClient, type GetBlockHeadersResponse } from "@tally/proto/gateway";
import { genesisBlock, sealBlock, type SealedBlock } from "@tally/ledger";
import { deadlineIn } from "@tally/rpc";
import { ProofError, TallyClient } from "@tally/sdk";
import { buildTx, GENESIS, keyOf, SIGNERS } from "./testing/fixtures.js";
import { startGatewayHarness, storeSealedBlocks, type GatewayHarness } from "./testing/harness.js";
import { HEADERS_PER_CALL_MAX } from "./chain-proofs.js";

const SEQ_KEY = keyOf(20);
const HEIGHTS = 1005;

function chainOf(txsAt: (height: number) => Uint8Array[]): SealedBlock[] {
  const chain = [genesisBlock(GENESIS)];
  for (let h = 1; h <= HEIGHTS; h++) {
    const prev = chain.at(-1)!;
    const txs = txsAt(h);
    const first = prev.header.lastTxsSeq + 1n;
    chain.push(
      sealBlock(
        {
          chainId: GENESIS.chainId,
          height: BigInt(h),
          prevHash: prev.hash,
          txs,
          firstTxsSeq: txs.length === 0 ? 0n : first,
          lastTxsSeq: txs.length === 0 ? prev.header.lastTxsSeq : first + BigInt(txs.length) - 1n,
          timestampMs: prev.header.timestampMs + 10n,
          sequencerId: "seq-1",
          epoch: 1n,
        },
        SEQ_KEY,
      ),
    );
  }
  return chain;
}

const reasonOf = (e: unknown): unknown => (e as ServiceError).metadata?.get("tally-reason")[0];

describe("proofs through the gateway", () => {
  let h: GatewayHarness;
  // Block 1: bank-a pays bank-b (an event names both), clear-a pays bank-a (no events stored).
  const payB = buildTx({ args: { to: "bank-b", amount: "5" } });
  const clearing = buildTx({ signer: SIGNERS.clearA, args: { to: "bank-a", amount: "6" } });
  const last = buildTx({ args: { to: "bank-b", amount: "7" } });
  let chain: SealedBlock[];
  const clients: TallyClient[] = [];

  const sdkAs = (who: keyof typeof SIGNERS & ("bankA" | "bankB" | "reg" | "clearA")): TallyClient => {
    const s = SIGNERS[who];
    const c = new TallyClient(h.server.address, GENESIS.chainId, s, h.credentialsFor(s.institutionId).credentials, Date.now, {
      genesis: GENESIS,
      retry: { attemptsMax: 1, backoffInitialMs: 1, backoffMaxMs: 1, totalMs: 1000 },
    });
    clients.push(c);
    return c;
  };
  const rawAs = (institution: string): GatewayServiceClient => {
    const c = h.credentialsFor(institution);
    return new GatewayServiceClient(h.server.address, c.credentials, c.options);
  };
  const headers = (c: GatewayServiceClient, fromHeight: bigint, toHeight: bigint): Promise<GetBlockHeadersResponse> =>
    new Promise((resolve, reject) =>
      c.getBlockHeaders({ fromHeight, toHeight }, new Metadata(), deadlineIn(10_000), (e, r) => (e ? reject(e) : resolve(r))),
    );

  before(async () => {
    h = await startGatewayHarness();
    chain = chainOf((height) => (height === 1 ? [payB.raw, clearing.raw] : height === HEIGHTS ? [last.raw] : []));
    await storeSealedBlocks(h.db, chain);
    await h.db
      .insertInto("events")
      .values({
        height: 1n,
        tx_index: 0,
        event_index: 0,
        tx_id: payB.id,
        contract: "cash",
        type: "Transferred",
        asset_id: "cash:acct/bank-b",
        parties: ["bank-a", "bank-b"],
        data: JSON.stringify({ amount: "5" }),
        block_time_ms: chain[1]!.header.timestampMs,
        signer: "bank-a",
      })
      .execute();
  });
  after(async () => {
    for (const c of clients) c.close();
    await h.close();
  });

  test("the SDK proves a tx and the consistency of two heights 1,004 apart, all through its gateway", async () => {
    const bank = sdkAs("bankA");
    const first = await bank.proveTx(payB.id);
    assert.equal(first.height, 1n);
    const end = await bank.proveTx(last.id);
    assert.equal(end.height, BigInt(HEIGHTS));
    // 1,004 headers: two GetBlockHeaders pages (the gateway answers at most 1,000 a call).
    await bank.proveConsistency(1n, BigInt(HEIGHTS));
    assert.equal(bank.trustedChain?.seenAt(1001n)?.height, 1001n);
  });

  test("GetBlockHeaders answers at most 1,000 consecutive signed headers, with the node's height; a bad range is refused", async () => {
    const c = rawAs("bank-b");
    try {
      const r = await headers(c, 0n, 5000n);
      assert.equal(r.headers.length, HEADERS_PER_CALL_MAX);
      assert.equal(r.height, BigInt(HEIGHTS));
      assert.deepEqual(
        r.headers.slice(0, 3).map((x) => x.height),
        [0n, 1n, 2n],
      );
      assert.deepEqual(Buffer.from(r.headers[7]!.header), Buffer.from(chain[7]!.block.header));
      assert.deepEqual(Buffer.from(r.headers[7]!.signature), Buffer.from(chain[7]!.block.signature));
      const tail = await headers(c, 1000n, 5000n);
      assert.equal(tail.headers.length, HEIGHTS - 1000 + 1);
      assert.equal((await headers(c, 9000n, 9001n)).headers.length, 0);
      await assert.rejects(
        headers(c, 5n, 4n),
        (e: unknown) => (e as ServiceError).code === status.INVALID_ARGUMENT && reasonOf(e) === "BAD_RANGE",
      );
    } finally {
      c.close();
    }
  });

  test("an inclusion proof only for a signer, a co-signer, a party to its events or a regulator; else NOT_FOUND as for no tx", async () => {
    // bank-b is party to the payment's event, not to clear-a's transfer to bank-a.
    const bankB = sdkAs("bankB");
    assert.equal((await bankB.proveTx(payB.id)).height, 1n);
    const hidden = await bankB.proveTx(clearing.id).then(
      () => undefined,
      (e: unknown) => e,
    );
    const missing = await bankB.proveTx(randomBytes(32)).then(
      () => undefined,
      (e: unknown) => e,
    );
    for (const e of [hidden, missing]) {
      assert.equal((e as { code?: number }).code, status.NOT_FOUND);
      assert.equal((e as { reason?: string }).reason, "NO_SUCH_TX");
    }
    assert.equal((hidden as Error).message, (missing as Error).message, "nothing hints that the hidden tx exists");
    assert.equal((await sdkAs("clearA").proveTx(clearing.id)).height, 1n);
    assert.equal((await sdkAs("reg").proveTx(clearing.id)).height, 1n);
    await assert.rejects(
      sdkAs("bankA").proveTx(new Uint8Array(5)),
      (e: unknown) => (e as { code?: number }).code === status.INVALID_ARGUMENT && (e as { reason?: string }).reason === "BAD_TX_ID",
    );
  });

  test("a node whose stored chain was tampered with is caught by the client through the gateway", async () => {
    const bank = sdkAs("bankA");
    await bank.proveTx(payB.id);
    await bank.proveTx(last.id);
    // A header in between with a forged signature.
    const forged = new Uint8Array(chain[500]!.block.signature);
    forged[0] = forged[0]! ^ 1;
    await h.db.updateTable("blocks").set({ signature: forged }).where("height", "=", 500n).execute();
    await assert.rejects(
      bank.proveConsistency(1n, BigInt(HEIGHTS)),
      (e: unknown) => e instanceof ProofError && e.reason === "PROOF_BAD_SIGNATURE",
    );
    // The stored transaction swapped for another one of the same block.
    await h.db.updateTable("transactions").set({ raw: clearing.raw }).where("tx_id", "=", payB.id).execute();
    await assert.rejects(sdkAs("bankA").proveTx(payB.id), (e: unknown) => e instanceof ProofError && e.reason === "PROOF_BAD_PATH");
  });
});
