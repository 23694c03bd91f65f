// A notarization is believed only as far as its proof goes: an honest registration checks, and
// every kind of lie — a byte of the header, signature, path or transaction, another action or hash,
// a forged signer, or an answer that disagrees with the proof — is refused with its reason code.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { SignedTx } from "@tally/proto/types";
import { inclusionProof, signTx, toHex, type SealedBlock, type TxSigner } from "@tally/ledger";
import {
  checkNotarization,
  notarizationReceipt,
  parseNotarizationReceipt,
  readRegistrationClaim,
  type RegistrationClaim,
} from "./notarization.js";
import { ProofError, TrustedChain, type InclusionProof, type ProofReason } from "./trusted-chain.js";
import { buildChain, CHAIN_ID, GENESIS, ROGUE_KEY, SIGNERS } from "./testing/fixtures.js";

const HASH = "9f".repeat(32);

function registerTx(signer: TxSigner, args: object, action = "register", contract = "notary"): { raw: Uint8Array; id: Uint8Array } {
  return signTx(
    {
      chainId: CHAIN_ID,
      contract,
      action,
      args: new TextEncoder().encode(JSON.stringify(args)),
      signer: { institutionId: signer.institutionId, keyId: signer.keyId },
      nonce: 1n,
      validUntilMs: 2_000_000_000_000n,
    },
    [signer],
  );
}

const GOOD = registerTx(SIGNERS.enterpriseA, { hash: HASH, title: "Master recording" });
const OTHER_ACTION = registerTx(SIGNERS.enterpriseA, { hash: HASH, to: "bank-a" }, "transfer");
const OTHER_HASH = registerTx(SIGNERS.enterpriseA, { hash: "11".repeat(32), title: "x" });
const FORGED = registerTx({ ...SIGNERS.enterpriseA, key: ROGUE_KEY }, { hash: HASH, title: "forged" });
const FILLER = registerTx(SIGNERS.bankA, { hash: "22".repeat(32), title: "other" });

// Block 2 holds [FILLER, GOOD, OTHER_ACTION, OTHER_HASH, FORGED].
const CHAIN = buildChain(2, (h) => (h === 2 ? [FILLER.raw, GOOD.raw, OTHER_ACTION.raw, OTHER_HASH.raw, FORGED.raw] : [FILLER.raw]));
const BLOCK = CHAIN[2]!;

function proofOf(b: SealedBlock, index: number): InclusionProof {
  return {
    height: b.header.height,
    leafIndex: index,
    treeSize: b.block.txs.length,
    path: inclusionProof(b.block.txs, index),
    signedTx: b.block.txs[index]!,
    header: b.block.header,
    headerSignature: b.block.signature,
  };
}

function claimOf(tx: { id: Uint8Array }, over: Partial<RegistrationClaim> = {}): RegistrationClaim {
  return { hash: HASH, owner: "enterprise-a", height: "2", blockTimeMs: Number(BLOCK.header.timestampMs), txId: toHex(tx.id), ...over };
}

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const out = new Uint8Array(bytes);
  out[at] = out[at]! ^ 1;
  return out;
}

function refused(reason: ProofReason, f: () => unknown): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof ProofError, String(e));
    assert.equal(e.reason, reason, e.message);
    assert.equal(e.code, status.DATA_LOSS);
    return true;
  });
}

const check = (claim: RegistrationClaim, proof: InclusionProof, hash = HASH) =>
  checkNotarization(new TrustedChain(GENESIS), GENESIS, hash, claim, proof);

describe("checkNotarization", () => {
  test("an honest registration: registrant, key, title, height and block time come from the proof", () => {
    const p = check(claimOf(GOOD), proofOf(BLOCK, 1));
    assert.equal(p.registrant, "enterprise-a");
    assert.equal(p.keyId, SIGNERS.enterpriseA.keyId);
    assert.equal(p.title, "Master recording");
    assert.equal(p.height, 2n);
    assert.equal(p.blockTimeMs, Number(BLOCK.header.timestampMs));
    assert.equal(p.sequencerId, "seq-a");
    assert.equal(p.blockHash, toHex(BLOCK.hash));
    assert.deepEqual([p.leafIndex, p.treeSize], [1, 5]);
  });

  test("one byte changed in the header, its signature, the path or the transaction is refused", () => {
    const p = proofOf(BLOCK, 1);
    refused("PROOF_BAD_SIGNATURE", () => check(claimOf(GOOD), { ...p, headerSignature: flip(p.headerSignature, 5) }));
    refused("PROOF_MALFORMED_HEADER", () => check(claimOf(GOOD), { ...p, header: flip(p.header, 0) }));
    refused("PROOF_BAD_PATH", () => check(claimOf(GOOD), { ...p, path: [flip(p.path[0]!, 31), ...p.path.slice(1)] }));
    refused("PROOF_BAD_PATH", () => check(claimOf(GOOD), { ...p, signedTx: flip(p.signedTx, p.signedTx.length - 1) }));
    refused("PROOF_BAD_PATH", () => check(claimOf(GOOD), { ...p, leafIndex: 0 }));
  });

  test("a header whose bytes changed anywhere fails its signature", () => {
    const p = proofOf(BLOCK, 1);
    for (const at of [3, 20, p.header.length - 1]) {
      assert.throws(() => check(claimOf(GOOD), { ...p, header: flip(p.header, at) }), ProofError);
    }
  });

  test("a proof of another transaction than the one claimed: PROOF_WRONG_TX", () => {
    refused("PROOF_WRONG_TX", () => check(claimOf(GOOD), proofOf(BLOCK, 0)));
  });

  test("a proven transaction that is not a registration of this hash: PROOF_NOT_REGISTRATION", () => {
    refused("PROOF_NOT_REGISTRATION", () => check(claimOf(OTHER_ACTION), proofOf(BLOCK, 2)));
    refused("PROOF_NOT_REGISTRATION", () => check(claimOf(OTHER_HASH), proofOf(BLOCK, 3)));
  });

  test("a registration signed with a key genesis does not name for that institution: PROOF_BAD_TX_SIGNATURE", () => {
    refused("PROOF_BAD_TX_SIGNATURE", () => check(claimOf(FORGED), proofOf(BLOCK, 4)));
  });

  test("an answer that disagrees with the proof: PROOF_CLAIM_MISMATCH", () => {
    const p = proofOf(BLOCK, 1);
    refused("PROOF_CLAIM_MISMATCH", () => check(claimOf(GOOD, { owner: "bank-a" }), p));
    refused("PROOF_CLAIM_MISMATCH", () => check(claimOf(GOOD, { height: "1" }), p));
    refused("PROOF_CLAIM_MISMATCH", () => check(claimOf(GOOD, { blockTimeMs: 1 }), p));
    refused("PROOF_CLAIM_MISMATCH", () => check(claimOf(GOOD, { hash: "33".repeat(32) }), p));
    refused("PROOF_CLAIM_MISMATCH", () => check(claimOf(GOOD, { txId: "xyz" }), p));
  });

  test("a proof checked against another chain's genesis is refused", () => {
    const other = { ...GENESIS, chainId: "another-chain" };
    assert.throws(() => checkNotarization(new TrustedChain(other), other, HASH, claimOf(GOOD), proofOf(BLOCK, 1)), ProofError);
  });
});

describe("receipts and claims", () => {
  test("a receipt round-trips through JSON and checks offline", () => {
    const receipt = notarizationReceipt(CHAIN_ID, claimOf(GOOD), proofOf(BLOCK, 1));
    const back = parseNotarizationReceipt(JSON.parse(JSON.stringify(receipt)));
    assert.equal(back.chainId, CHAIN_ID);
    assert.equal(check(back.registration, back.proof).registrant, "enterprise-a");
  });

  test("a malformed receipt is PROOF_MALFORMED_RECEIPT naming the field", () => {
    const good = JSON.parse(JSON.stringify(notarizationReceipt(CHAIN_ID, claimOf(GOOD), proofOf(BLOCK, 1)))) as {
      proof: object;
      registration: object;
    };
    const cases: [string, unknown][] = [
      ["top level", null],
      ["top level", []],
      ["proof", { ...good, proof: 5 }],
      ["proof.header", { ...good, proof: { ...good.proof, header: "zz" } }],
      ["proof.height", { ...good, proof: { ...good.proof, height: "-1" } }],
      ["proof.path", { ...good, proof: { ...good.proof, path: "ab" } }],
      ["proof.leafIndex", { ...good, proof: { ...good.proof, leafIndex: -1 } }],
      ["registration.txId", { ...good, registration: { ...good.registration, txId: "00" } }],
    ];
    for (const [what, v] of cases) {
      assert.throws(
        () => parseNotarizationReceipt(v),
        (e: unknown) => e instanceof ProofError && e.reason === "PROOF_MALFORMED_RECEIPT" && e.message.includes(what),
        what,
      );
    }
  });

  test("a malformed gateway answer is PROOF_CLAIM_MISMATCH", () => {
    for (const v of [5, "x", [], { owner: "a" }, { ...claimOf(GOOD), blockTimeMs: "1" }])
      assert.throws(
        () => readRegistrationClaim(v),
        (e: unknown) => e instanceof ProofError && e.reason === "PROOF_CLAIM_MISMATCH",
      );
    assert.deepEqual(readRegistrationClaim(claimOf(GOOD)), claimOf(GOOD));
  });

  test("the proven transaction's own bytes are a SignedTx of the registrant", () => {
    assert.equal(SignedTx.decode(proofOf(BLOCK, 1).signedTx).signatures[0]?.institutionId, "enterprise-a");
  });
});
