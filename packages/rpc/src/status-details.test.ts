import { test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { RpcError, toServiceError } from "./rpc-error.js";
import { decodeStatusDetails, encodeStatusDetails, STATUS_DETAILS_KEY } from "./status-details.js";

test("a google.rpc.Status with ErrorInfo and BadRequest round-trips", () => {
  const s = {
    code: status.INVALID_ARGUMENT,
    message: "chain id is wrong",
    reason: "WRONG_CHAIN",
    metadata: { "retry-after-ms": "100", other: "x" },
    field: "signed_tx.body.chain_id",
  };
  assert.deepEqual(decodeStatusDetails(encodeStatusDetails(s)), s);
  const noField = { code: status.NOT_FOUND, message: "", reason: "NOT_FOUND", metadata: {} };
  assert.deepEqual(decodeStatusDetails(encodeStatusDetails(noField)), noField);
});

test("the encoding is the protobuf a stock decoder reads: Status{code=1, message=2, details=3 Any{type_url, value}}", () => {
  const bytes = encodeStatusDetails({ code: 5, message: "m", reason: "R", metadata: {} });
  // code: tag 0x08, varint 5; message: tag 0x12, len 1, "m"; details: tag 0x1a ...
  assert.deepEqual([...bytes.subarray(0, 5)], [0x08, 0x05, 0x12, 0x01, "m".charCodeAt(0)]);
  assert.equal(bytes[5], 0x1a);
  assert.match(new TextDecoder().decode(bytes), /type\.googleapis\.com\/google\.rpc\.ErrorInfo/);
});

test("toServiceError sends tally-reason, metadata and grpc-status-details-bin; anything not an RpcError is INTERNAL", () => {
  const e = toServiceError(new RpcError(status.RESOURCE_EXHAUSTED, "slow down", "RATE_LIMITED", { "retry-after-ms": "40" }));
  assert.equal(e.code, status.RESOURCE_EXHAUSTED);
  assert.equal(e.metadata?.get("tally-reason")[0], "RATE_LIMITED");
  assert.equal(e.metadata?.get("retry-after-ms")[0], "40");
  const d = decodeStatusDetails(e.metadata?.get(STATUS_DETAILS_KEY)[0] as Buffer);
  assert.deepEqual(d, {
    code: status.RESOURCE_EXHAUSTED,
    message: "slow down",
    reason: "RATE_LIMITED",
    metadata: { "retry-after-ms": "40" },
  });
  const crash = toServiceError(new TypeError("boom"));
  assert.equal(crash.code, status.INTERNAL);
  assert.equal(decodeStatusDetails(crash.metadata?.get(STATUS_DETAILS_KEY)[0] as Buffer).reason, "INTERNAL");
});
