// A worker thread of the VerifyPool: verifies packed Ed25519 checks and answers one byte per
// check (1 valid, 0 not). It holds no state but the ledger's cache of parsed public keys.
import { parentPort } from "node:worker_threads";
import { ed25519Verify } from "@tally/ledger";
import { unpackChecks, type VerifyRequest, type VerifyResponse } from "./verify-wire.js";

const port = parentPort;
if (port === null) throw new Error("verify-worker must run as a worker thread");
port.on("message", (req: VerifyRequest) => {
  const valid = new Uint8Array(req.count);
  unpackChecks(req.packed, req.count, (i, publicKey, signature, message) => {
    valid[i] = ed25519Verify(publicKey, message, signature) ? 1 : 0;
  });
  const res: VerifyResponse = { id: req.id, valid };
  port.postMessage(res, [valid.buffer]);
});
