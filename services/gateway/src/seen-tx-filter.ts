// The Bloom filter of applied tx ids lives in @tally/ledger: the executor uses it too.
export { SeenTxFilter } from "@tally/ledger";
