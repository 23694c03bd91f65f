import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { membershipView } from "@tally/contracts";
import { LIMITS, sha256, toHex } from "@tally/ledger";
import { RpcError } from "@tally/rpc";
import { admit, VALID_UNTIL_AHEAD_MS_MAX } from "./admission.js";
import {
  buildTx,
  CHAIN_ID,
  genesisMembershipState,
  membershipStateWithRevoked,
  NOT_PROTOBUF,
  SIGNERS,
  unsignedTx,
  type TxSpec,
} from "./testing/fixtures.js";

const NOW = 1_800_000_000_000;
const HEIGHT = 5n;
/** Membership as the executor would hold it after bank-a revoked its key k2. */
const VIEW = membershipView(membershipStateWithRevoked("bank-a", "k2").values());

function tx(spec: TxSpec = {}): Uint8Array {
  return buildTx(spec, NOW).raw;
}

function refused(raw: Uint8Array, code: status, reason: string, view = VIEW): void {
  assert.throws(
    () => admit(raw, CHAIN_ID, NOW, view, HEIGHT),
    (e: unknown) => {
      assert.ok(e instanceof RpcError, `expected an RpcError, got ${String(e)}`);
      assert.equal(e.reason, reason, e.message);
      assert.equal(e.code, code, `${reason}: status ${status[e.code]}, wanted ${status[code]}`);
      assert.ok(e.message.length > 0);
      return true;
    },
  );
}

describe("admit: refusals", () => {
  test("a transaction over the size limit is TOO_LARGE, before anything is decoded", () => {
    const big = tx({ args: { to: "bank-b", amount: "1", memo: "x".repeat(LIMITS.txBytesMax) } });
    assert.ok(big.byteLength > LIMITS.txBytesMax);
    refused(big, status.INVALID_ARGUMENT, "TOO_LARGE");
    // Even bytes that are not a transaction: size is the first check.
    refused(new Uint8Array(LIMITS.txBytesMax + 1).fill(0xff), status.INVALID_ARGUMENT, "TOO_LARGE");
  });

  test("a transaction of exactly the limit is not refused for its size", () => {
    // Pad the memo until the encoded transaction is exactly txBytesMax bytes.
    const base = tx({ args: { to: "bank-b", amount: "1", memo: "x" } }).byteLength;
    let memo = "x".repeat(LIMITS.txBytesMax - base + 1);
    let raw = tx({ args: { to: "bank-b", amount: "1", memo } });
    // Varint lengths may grow by a byte or two as the memo grows; trim until it fits exactly.
    while (raw.byteLength > LIMITS.txBytesMax) {
      memo = memo.slice(0, memo.length - (raw.byteLength - LIMITS.txBytesMax));
      raw = tx({ args: { to: "bank-b", amount: "1", memo } });
    }
    assert.equal(raw.byteLength, LIMITS.txBytesMax);
    // The memo is over the cash contract's own limit, so the refusal is BAD_ARGS, not TOO_LARGE.
    refused(raw, status.INVALID_ARGUMENT, "BAD_ARGS");
  });

  test("garbage bytes are MALFORMED", () => {
    refused(NOT_PROTOBUF, status.INVALID_ARGUMENT, "MALFORMED");
    refused(new Uint8Array([0xff, 0xff, 0xff, 0xff]), status.INVALID_ARGUMENT, "MALFORMED");
    refused(new Uint8Array(0), status.INVALID_ARGUMENT, "MALFORMED");
  });

  test("a body whose args are not a JSON object is MALFORMED", () => {
    refused(tx({ args: [1, 2] }), status.INVALID_ARGUMENT, "MALFORMED");
  });

  test("another chain's transaction is WRONG_CHAIN", () => {
    refused(tx({ chainId: "other-chain" }), status.INVALID_ARGUMENT, "WRONG_CHAIN");
  });

  test("a transaction past its valid_until is EXPIRED", () => {
    refused(tx({ validUntilMs: NOW - 1 }), status.FAILED_PRECONDITION, "EXPIRED");
  });

  test("a valid_until exactly now is still admitted", () => {
    assert.equal(admit(tx({ validUntilMs: NOW }), CHAIN_ID, NOW, VIEW, HEIGHT).body.validUntilMs, BigInt(NOW));
  });

  test("a valid_until too far ahead is VALID_UNTIL_TOO_FAR; exactly the maximum is admitted", () => {
    refused(tx({ validUntilMs: NOW + VALID_UNTIL_AHEAD_MS_MAX + 1 }), status.INVALID_ARGUMENT, "VALID_UNTIL_TOO_FAR");
    assert.ok(admit(tx({ validUntilMs: NOW + VALID_UNTIL_AHEAD_MS_MAX }), CHAIN_ID, NOW, VIEW, HEIGHT));
  });

  test("no signature at all is MISSING_SIGNATURE, UNAUTHENTICATED", () => {
    refused(unsignedTx({}, NOW), status.UNAUTHENTICATED, "MISSING_SIGNATURE");
  });

  test("signed only by someone other than the body's signer is MISSING_SIGNATURE", () => {
    refused(tx({ signer: SIGNERS.bankA, signers: [SIGNERS.bankB] }), status.UNAUTHENTICATED, "MISSING_SIGNATURE");
  });

  test("a signature that does not verify is BAD_SIGNATURE, UNAUTHENTICATED", () => {
    refused(tx({ signer: SIGNERS.impostor }), status.UNAUTHENTICATED, "BAD_SIGNATURE");
  });

  test("a co-signature that does not verify is BAD_SIGNATURE too", () => {
    const forgedCoSigner = { ...SIGNERS.bankB, key: SIGNERS.stranger.key };
    refused(tx({ signers: [SIGNERS.bankA, forgedCoSigner] }), status.UNAUTHENTICATED, "BAD_SIGNATURE");
  });

  test("an institution genesis does not list is UNKNOWN_SIGNER, PERMISSION_DENIED", () => {
    refused(tx({ signer: SIGNERS.stranger }), status.PERMISSION_DENIED, "UNKNOWN_SIGNER");
  });

  test("an unknown key id of a known institution is UNKNOWN_SIGNER", () => {
    refused(tx({ signer: { ...SIGNERS.bankA, keyId: "k9" } }), status.PERMISSION_DENIED, "UNKNOWN_SIGNER");
  });

  test("a revoked key is KEY_REVOKED, PERMISSION_DENIED; the same key is fine before the revocation", () => {
    refused(tx({ signer: SIGNERS.bankA2 }), status.PERMISSION_DENIED, "KEY_REVOKED");
    const before = membershipView(genesisMembershipState().values());
    assert.equal(admit(tx({ signer: SIGNERS.bankA2 }), CHAIN_ID, NOW, before, HEIGHT).body.signer?.keyId, "k2");
  });

  test("a signer without the action's role is FORBIDDEN_ROLE, PERMISSION_DENIED", () => {
    // Issuing cash takes the clearing role; bank-a is a bank.
    refused(tx({ action: "issue", args: { to: "bank-a", amount: "5" } }), status.PERMISSION_DENIED, "FORBIDDEN_ROLE");
    // The regulator writes nothing.
    refused(
      tx({ signer: SIGNERS.reg, contract: "notary", action: "register", args: { hash: "ab".repeat(32), title: "t" } }),
      status.PERMISSION_DENIED,
      "FORBIDDEN_ROLE",
    );
  });

  test("a contract that does not exist is UNKNOWN_CONTRACT, INVALID_ARGUMENT", () => {
    refused(tx({ contract: "lottery" }), status.INVALID_ARGUMENT, "UNKNOWN_CONTRACT");
  });

  test("a deployed user contract is admitted by name or name.v<version>, its args left to the executor; others stay UNKNOWN_CONTRACT", () => {
    const view = { ...VIEW, userContracts: new Set(["lottery", "lottery.v1"]) };
    for (const contract of ["lottery", "lottery.v1"]) {
      const raw = tx({ contract, action: "draw", args: { anything: 1 } });
      assert.doesNotThrow(() => admit(raw, CHAIN_ID, NOW, view, HEIGHT));
    }
    refused(tx({ contract: "lottery.v2" }), status.INVALID_ARGUMENT, "UNKNOWN_CONTRACT", view);
    // Signatures are still checked first.
    refused(tx({ contract: "lottery", signer: SIGNERS.impostor }), status.UNAUTHENTICATED, "BAD_SIGNATURE", view);
  });

  test("an action the contract lacks is UNKNOWN_ACTION, INVALID_ARGUMENT", () => {
    refused(tx({ action: "burn" }), status.INVALID_ARGUMENT, "UNKNOWN_ACTION");
    // Names found on Object.prototype are not actions.
    refused(tx({ action: "constructor" }), status.INVALID_ARGUMENT, "UNKNOWN_ACTION");
  });

  test("args that fail the action's schema are BAD_ARGS, INVALID_ARGUMENT", () => {
    for (const args of [
      { to: "bank-b", amount: "-5" },
      { to: "bank-b", amount: 5 },
      { to: "bank-b" },
      { to: "Bank B", amount: "5" },
      { to: "bank-b", amount: "5", extra: true },
    ]) {
      refused(tx({ args }), status.INVALID_ARGUMENT, "BAD_ARGS");
    }
  });
});

describe("admit: acceptance", () => {
  test("a good transaction passes and comes back decoded, with its id", () => {
    const built = buildTx({ args: { to: "bank-b", amount: "100", memo: "rent" } }, NOW);
    const d = admit(built.raw, CHAIN_ID, NOW, VIEW, HEIGHT);
    assert.deepEqual(d.id, built.id);
    assert.equal(d.idHex, toHex(built.id));
    assert.equal(d.body.contract, "cash");
    assert.equal(d.body.action, "transfer");
    assert.deepEqual(d.args, { to: "bank-b", amount: "100", memo: "rent" });
    assert.deepEqual(d.raw, built.raw);
    assert.deepEqual(sha256(d.bodyBytes), built.id);
  });

  test("each contract's actions pass for a signer with the role", () => {
    assert.ok(admit(tx({ signer: SIGNERS.clearA, action: "issue", args: { to: "bank-a", amount: "5" } }), CHAIN_ID, NOW, VIEW, HEIGHT));
    assert.ok(
      admit(tx({ contract: "notary", action: "register", args: { hash: "cd".repeat(32), title: "deed" } }), CHAIN_ID, NOW, VIEW, HEIGHT),
    );
    assert.ok(admit(tx({ contract: "membership", action: "revoke-key", args: { keyId: "k2" } }), CHAIN_ID, NOW, VIEW, HEIGHT));
  });

  test("a two-party transaction with a co-signature passes, body signer first", () => {
    const d = admit(tx({ signer: SIGNERS.bankA, signers: [SIGNERS.bankB, SIGNERS.bankA] }), CHAIN_ID, NOW, VIEW, HEIGHT);
    assert.equal(d.signatures.length, 2);
    assert.deepEqual(
      d.signatures.map((s) => s.institutionId),
      ["bank-b", "bank-a"],
    );
    assert.equal(d.body.signer?.institutionId, "bank-a");
  });

  test("a co-signature by a revoked key is refused even though the body's signer is fine", () => {
    refused(tx({ signer: SIGNERS.bankB, signers: [SIGNERS.bankB, SIGNERS.bankA2] }), status.PERMISSION_DENIED, "KEY_REVOKED");
  });
});
