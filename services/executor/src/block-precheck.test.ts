import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { builtinContracts, MEMBERSHIP_CONTRACT, membershipView } from "@tally/contracts";
import {
  decodeSignedTx,
  signTx,
  toHex,
  utf8,
  verifyTxSignatures,
  type DecodedTx,
  type JsonValue,
  type KeyLookup,
  type SealedBlock,
} from "@tally/ledger";
import { executeBlock, genesisEffects, type ExecutorState } from "./block-executor.js";
import { decodeBlockTxs, precomputeSignatures } from "./block-precheck.js";
import { verifyInline } from "./signature-verifier.js";
import { MemoryState } from "./testing/memory-state.js";
import {
  BANK_A,
  BANK_A_K2,
  BANK_B,
  ChainBuilder,
  CHAIN_ID,
  GENESIS,
  issue,
  keyOf,
  makeTx,
  STRANGER_KEY,
  transfer,
} from "./testing/test-chain.js";
import { VerifyPool } from "./verify-pool.js";

const pool = new VerifyPool({ workers: 2, chunkChecksMax: 4 });
after(() => pool.close());

const NEW_KEY = keyOf(20);
const BANK_A_K3 = { id: "bank-a", keyId: "k3", key: NEW_KEY };

/** A node funded at height 1 (bank-a holds 100), and the next block to run on it. */
async function fundedNode(): Promise<{ chain: ChainBuilder; state: MemoryState; exec: ExecutorState }> {
  const chain = new ChainBuilder();
  const g = genesisEffects(GENESIS, builtinContracts, chain.tip);
  const state = new MemoryState();
  state.apply(g);
  const membership = new Map<string, JsonValue>();
  for (const [k, v] of g.updates.get(MEMBERSHIP_CONTRACT) ?? []) if (v !== null) membership.set(k, v);
  const b1 = chain.next([issue("bank-a", "100").raw]);
  const r = await executeBlock(b1, { stateRoot: g.stateRoot, membership }, deps(state));
  state.apply(r.effects);
  return { chain, state, exec: { stateRoot: r.effects.stateRoot, membership: r.membership } };
}

function deps(state: MemoryState) {
  return { genesis: GENESIS, contracts: builtinContracts, reader: state, seen: state.seen };
}

function outcomes(r: Awaited<ReturnType<typeof executeBlock>>): string[] {
  return r.effects.results.map((x) => (x.committed ? "OK" : x.reasonCode));
}

/** Runs the block twice on copies of the same state: inline, and with the pool's precomputed results. */
async function bothWays(node: Awaited<ReturnType<typeof fundedNode>>, block: SealedBlock) {
  const inline = await executeBlock(block, node.exec, deps(node.state.clone()));
  const decoded = decodeBlockTxs(block);
  const lookup = membershipView(node.exec.membership.values()).keyLookup;
  const signatures = await precomputeSignatures(decoded, lookup, CHAIN_ID, pool);
  const hinted = await executeBlock(block, node.exec, deps(node.state.clone()), { decoded, signatures });
  return { inline, hinted, signatures };
}

function cosigned(): Uint8Array {
  return signTx(
    {
      chainId: CHAIN_ID,
      contract: "cash",
      action: "transfer",
      args: utf8(JSON.stringify({ to: "bank-b", amount: "2" })),
      signer: { institutionId: "bank-a", keyId: "k1" },
      nonce: 777n,
      validUntilMs: BigInt(GENESIS.genesisTimeMs + 86_400_000_000),
    },
    [
      { institutionId: "bank-a", keyId: "k1", key: BANK_A.key },
      { institutionId: "bank-b", keyId: "k1", key: BANK_B.key },
    ],
  ).raw;
}

describe("signatures verified ahead on the pool", () => {
  test("a mixed block gives byte-identical results, events, updates, membership and state root", async () => {
    const node = await fundedNode();
    const block = node.chain.draft([
      transfer(BANK_A, "bank-b", "10").raw,
      makeTx({ signer: BANK_A, contract: "cash", action: "transfer", args: { to: "bank-b", amount: "1" }, signWith: STRANGER_KEY }).raw,
      new Uint8Array([9, 9, 9]),
      cosigned(),
      makeTx({ signer: BANK_A_K2, contract: "membership", action: "add-key", args: { keyId: "k3", publicKey: toHex(NEW_KEY.publicKey) } })
        .raw,
      transfer(BANK_A_K3, "bank-b", "3").raw,
      makeTx({ signer: BANK_A_K2, contract: "membership", action: "revoke-key", args: { keyId: "k1" } }).raw,
      transfer(BANK_A, "bank-b", "20").raw,
      transfer(BANK_B, "bank-a", "1000").raw,
      makeTx({
        signer: { id: "nobody", keyId: "k1", key: STRANGER_KEY },
        contract: "cash",
        action: "transfer",
        args: { to: "bank-a", amount: "1" },
      }).raw,
      makeTx({ signer: BANK_B, contract: "cash", action: "transfer", args: { to: "bank-a", amount: "1" }, chainId: "other-chain" }).raw,
    ]);
    const { inline, hinted } = await bothWays(node, block);
    const expected = [
      "OK",
      "BAD_SIGNATURE",
      "MALFORMED",
      "OK",
      "OK",
      "OK",
      "OK",
      "KEY_REVOKED",
      "INSUFFICIENT_FUNDS",
      "UNKNOWN_SIGNER",
      "WRONG_CHAIN",
    ];
    assert.deepEqual(outcomes(inline), expected);
    assert.deepEqual(hinted.effects, inline.effects);
    assert.deepEqual([...hinted.membership], [...inline.membership]);
    assert.equal(toHex(hinted.effects.stateRoot), toHex(inline.effects.stateRoot));
  });

  test("a bad signature is still BAD_SIGNATURE, and was answered by the pool", async () => {
    const node = await fundedNode();
    const bad = makeTx({ signer: BANK_A, contract: "cash", action: "transfer", args: { to: "bank-b", amount: "1" }, signWith: BANK_B.key });
    const { hinted, signatures } = await bothWays(node, node.chain.draft([bad.raw]));
    assert.deepEqual(outcomes(hinted), ["BAD_SIGNATURE"]);
    assert.deepEqual(signatures.stats, { hits: 1, misses: 0 });
  });

  test("a key revoked earlier in the block is KEY_REVOKED although the precomputed check says its signature is valid", async () => {
    const node = await fundedNode();
    const later = transfer(BANK_A, "bank-b", "20");
    const block = node.chain.draft([
      makeTx({ signer: BANK_A_K2, contract: "membership", action: "revoke-key", args: { keyId: "k1" } }).raw,
      later.raw,
    ]);
    const { hinted, signatures } = await bothWays(node, block);
    const sig = (decodeSignedTx(later.raw) as { ok: true; tx: DecodedTx }).tx.signatures[0]!.signature;
    assert.equal(signatures.get(toHex(later.id), BANK_A.key.publicKey, sig), true);
    assert.deepEqual(outcomes(hinted), ["OK", "KEY_REVOKED"]);
  });

  test("a key added earlier in the block is not precomputed, and is verified inline", async () => {
    const node = await fundedNode();
    const block = node.chain.draft([
      makeTx({ signer: BANK_A_K2, contract: "membership", action: "add-key", args: { keyId: "k3", publicKey: toHex(NEW_KEY.publicKey) } })
        .raw,
      transfer(BANK_A_K3, "bank-b", "3").raw,
      makeTx({ signer: BANK_A_K3, contract: "cash", action: "transfer", args: { to: "bank-b", amount: "1" }, signWith: STRANGER_KEY }).raw,
    ]);
    const { hinted, signatures } = await bothWays(node, block);
    assert.deepEqual(outcomes(hinted), ["OK", "OK", "BAD_SIGNATURE"]);
    assert.deepEqual(signatures.stats, { hits: 1, misses: 2 });
  });

  test("the decoded hint must be of the block being executed", async () => {
    const node = await fundedNode();
    const a = node.chain.draft([transfer(BANK_A, "bank-b", "1").raw]);
    const b = node.chain.draft([transfer(BANK_A, "bank-b", "2").raw]);
    await assert.rejects(executeBlock(a, node.exec, deps(node.state.clone()), { decoded: decodeBlockTxs(b) }));
  });
});

describe("verifyTxSignatures with the executor's inline check", () => {
  test("answers as with the ledger's own check, code and message", async () => {
    const node = await fundedNode();
    const view = membershipView(node.exec.membership.values());
    const revokedK1: KeyLookup = (i, k) => {
      const key = view.keyLookup(i, k);
      return i === "bank-a" && k === "k1" && key !== undefined ? { ...key, active: false } : key;
    };
    const twoByOne = signTx(
      {
        chainId: CHAIN_ID,
        contract: "cash",
        action: "transfer",
        args: utf8("{}"),
        signer: { institutionId: "bank-a", keyId: "k1" },
        nonce: 1n,
        validUntilMs: 0n,
      },
      [
        { institutionId: "bank-a", keyId: "k1", key: BANK_A.key },
        { institutionId: "bank-a", keyId: "k2", key: BANK_A_K2.key },
      ],
    ).raw;
    const notBySigner = signTx(
      {
        chainId: CHAIN_ID,
        contract: "cash",
        action: "transfer",
        args: utf8("{}"),
        signer: { institutionId: "bank-a", keyId: "k1" },
        nonce: 2n,
        validUntilMs: 0n,
      },
      [{ institutionId: "bank-b", keyId: "k1", key: BANK_B.key }],
    ).raw;
    const raws = [
      transfer(BANK_A, "bank-b", "1").raw,
      cosigned(),
      makeTx({ signer: BANK_A, contract: "cash", action: "transfer", args: {}, signWith: STRANGER_KEY }).raw,
      makeTx({ signer: { id: "nobody", keyId: "k1", key: STRANGER_KEY }, contract: "cash", action: "transfer", args: {} }).raw,
      twoByOne,
      notBySigner,
    ];
    for (const lookup of [view.keyLookup, revokedK1]) {
      for (const raw of raws) {
        const d = decodeSignedTx(raw);
        assert.ok(d.ok);
        assert.deepEqual(verifyTxSignatures(d.tx, lookup, verifyInline), verifyTxSignatures(d.tx, lookup));
      }
    }
  });
});
