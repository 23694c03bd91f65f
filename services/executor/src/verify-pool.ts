// The pool moved to @tally/crypto-pool, shared with the gateway; the executor's names stay.
export { VerifyPool, VerifyPoolError, type VerifyPoolOptions } from "@tally/crypto-pool";
