// Ed25519 verification off the event loop: a bounded pool of worker threads, and a batcher that
// turns many single checks into few pool messages. Used by the executor and the gateway.
export { inlineVerifier, isWellSized, type SignatureCheck, type SignatureVerifier } from "./signature-check.js";
export { VerifyPool, VerifyPoolError, type VerifyPoolOptions } from "./verify-pool.js";
export { BatchingVerifier, type BatchingVerifierOptions } from "./batching-verifier.js";
